package calculon.config;

/** Expert MLP activation: GeLU (two matrices) or SiLU as SwiGLU (gate and up fused, then down). */
public enum ActivationFunction {
  GELU("gelu"), SILU("silu");

  public final String jsonName;

  ActivationFunction(String jsonName) { this.jsonName = jsonName; }

  public static ActivationFunction fromJson(String name) {
    for (ActivationFunction r : values()) { if (r.jsonName.equals(name)) { return r; } }
    return null;
  }
}
