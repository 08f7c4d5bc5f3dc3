package calculon.config;

/** How tensor-parallel activations are communicated: all-reduce, p2p with RS/AG at the edges, or RS/AG (sequence parallel). */
public enum TpCommType {
  AR("ar"), P2P_RS_AG("p2p_rs_ag"), RS_AG("rs_ag");

  public final String jsonName;

  TpCommType(String jsonName) { this.jsonName = jsonName; }

  public static TpCommType fromJson(String name) {
    for (TpCommType r : values()) { if (r.jsonName.equals(name)) { return r; } }
    return null;
  }
}
