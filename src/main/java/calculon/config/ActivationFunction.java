package calculon.config;

/** Expert MLP activation: GeLU (two matrices) or SiLU as SwiGLU (gate and up fused, then down). */
public enum ActivationFunction {
  GELU("gelu"), SILU("silu");

  public final String jsonName;

  ActivationFunction(String jsonName) { this.jsonName = jsonName; }
}
