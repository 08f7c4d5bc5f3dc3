package calculon.config;

/** Activation recomputation during the backward pass. */
public enum Recompute {
  FULL("full"), ATTN_ONLY("attn_only"), NONE("none");

  public final String jsonName;

  Recompute(String jsonName) { this.jsonName = jsonName; }
}
