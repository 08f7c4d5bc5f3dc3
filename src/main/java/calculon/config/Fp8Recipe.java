package calculon.config;

/**
 * How a float8 run scales and casts the operands of its matmuls (execution key {@code fp8_recipe};
 * corrected model, float8 runs only). The recipe decides the memory traffic the casts add around
 * every float8 matmul; the matmul itself runs at the system's float8 rate either way.
 */
public enum Fp8Recipe {
  /**
   * Transformer Engine's delayed scaling ({@code recipe.DelayedScaling}, the default of
   * Megatron-Core and NeMo FP8 training): the scale comes from the amax history of earlier steps,
   * and the casts are fused into the kernels that produce the operands ({@code LayerNormLinear},
   * the fused activations, {@code cast_transpose}), so no separate pass is charged.
   */
  DELAYED("delayed"),
  /**
   * torchao's dynamic tensorwise scaling ({@code Float8Linear} with {@code recipe_name="tensorwise"},
   * torchao/float8/float8_linear.py {@code matmul_with_hp_or_float8_args}; TorchTitan's
   * {@code [float8]} converter): every operand of every float8 matmul (input and weight in the
   * forward pass, output gradient and weight for the input gradient, output gradient and input for
   * the weight gradient) is cast from its 16-bit copy by {@code hp_tensor_to_float8_dynamic}: a
   * pass reading it for its amax, then a pass reading it and writing one byte per element.
   */
  TENSORWISE("tensorwise");

  public final String jsonName;

  Fp8Recipe(String jsonName) { this.jsonName = jsonName; }
}
