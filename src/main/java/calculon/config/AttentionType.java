package calculon.config;

/** Attention variant: one K/V head per query head, or one K/V head shared by all. */
public enum AttentionType {
  MULTIHEAD("multihead"), MULTIQUERY("multiquery");

  public final String jsonName;

  AttentionType(String jsonName) { this.jsonName = jsonName; }
}
