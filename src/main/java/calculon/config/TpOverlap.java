package calculon.config;

/** Overlap of tensor-parallel communication with the neighbouring matrix multiply. */
public enum TpOverlap {
  NONE("none"), RING("ring"), PIPE("pipe");

  public final String jsonName;

  TpOverlap(String jsonName) { this.jsonName = jsonName; }

  public static TpOverlap fromJson(String name) {
    for (TpOverlap r : values()) { if (r.jsonName.equals(name)) { return r; } }
    return null;
  }
}
