package calculon.config;

/**
 * How a float8 run scales and casts the operands of its matmuls (execution key {@code fp8_recipe};
 * corrected model, float8 runs only). The recipe decides the memory traffic the casts add around
 * every float8 matmul; the matmul itself runs at the system's float8 rate either way. A scale
 * from the whole tensor's current amax (tensorwise, current) needs a pass over the tensor first;
 * a scale known before the cast (delayed) or local to a block (blockwise, MXFP8) does not. Which
 * operands Transformer Engine quantizes inside their producing kernel depends on the recipe and
 * the producer ({@code calculon.model.Layer#teOperandBytes}).
 */
public enum Fp8Recipe {
  /**
   * Transformer Engine's delayed scaling ({@code recipe.DelayedScaling}, the default of
   * Megatron-Core and NeMo FP8 training): the scale comes from the amax history of earlier steps;
   * the norm, activation and activation-gradient kernels write float8 themselves, every other
   * operand has a quantize kernel of its own ({@code calculon.model.Layer#teOperandBytes}).
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
  TENSORWISE("tensorwise"),
  /**
   * Transformer Engine's current (per-tensor, just-in-time) scaling ({@code recipe.Float8CurrentScaling};
   * what Megatron-Core calls {@code --fp8-recipe tensorwise}): the scale comes from the tensor's
   * own amax, computed by a kernel of its own ({@code compute_amax},
   * transformer_engine/pytorch/csrc/extensions) before the quantizing kernel reads the tensor again
   * and writes it in float8, as {@link #TENSORWISE} does; but each operand is quantized once per
   * pass that produces it, into row- and column-wise copies, and each weight once per step
   * ({@code calculon.model.Layer#teOperandBytes}). Under sequence parallelism the shard is
   * quantized (its amax reduced over TP) and all-gathered in float8, as every recipe does there.
   */
  CURRENT("current"),
  /**
   * Transformer Engine's block scaling ({@code recipe.Float8BlockScaling}; DeepSeek-V3's recipe,
   * Liu et al. 2024, arXiv 2412.19437, Section 3.3: 1 x 128 tiles of activations and gradients,
   * 128 x 128 blocks of weights, each with its own scale; Megatron-Core {@code --fp8-recipe
   * blockwise}): every scale comes from its own block, so one pass quantizes (no amax pass), but no
   * TE kernel fuses it with a norm or an activation
   * ({@code Float8BlockQuantizer} takes the unfused path in normalization.cpp and activation.cpp):
   * every operand has a quantize kernel of its own ({@code calculon.model.Layer#teOperandBytes}).
   */
  BLOCKWISE("blockwise"),
  /**
   * Microscaling FP8 ({@code recipe.MXFP8BlockScaling}, OCP Microscaling Formats v1.0: 32 elements
   * share one E8M0 scale; Blackwell's tensor cores read them natively; Megatron-Core
   * {@code --fp8-recipe mxfp8}): the scale is local to 32 elements; Transformer Engine fuses the
   * quantization into the activation and its gradient ({@code cast_mxfp8_2D_kernel} with its
   * activation and activation-gradient variants, transformer_engine/common/util/cast_kernels.cuh),
   * not into the norm unless {@code NVTE_NORM_FWD_USE_CUDNN} is set; the other operands have a
   * quantize kernel of their own ({@code calculon.model.Layer#teOperandBytes}).
   */
  MXFP8("mxfp8");

  public final String jsonName;

  Fp8Recipe(String jsonName) { this.jsonName = jsonName; }

  /**
   * The compute capabilities Transformer Engine runs {@link #MXFP8} on: from 10.0 (Blackwell's
   * block-scaled tensor cores read the E8M0 scales), not from 12.0 (the RTX Blackwell parts, "not
   * supported on 12.0+ architectures yet"): {@code _compute_mxfp8_support}, which
   * {@code check_recipe_support} calls for {@code MXFP8BlockScaling}
   * (NVIDIA/TransformerEngine, transformer_engine/pytorch/quantization.py; earlier versions'
   * {@code check_mxfp8_support} in fp8.py has the 10.0 bound). Below 10.0 TE raises
   * "Device compute capability 10.0 or higher required for MXFP8 execution".
   */
  static final int MXFP8_FROM_MAJOR = 10;
  static final int MXFP8_BEFORE_MAJOR = 12;

  /**
   * Why this recipe cannot run on {@code sys}, or null when it can: only {@link #MXFP8} has a
   * rule, a compute capability from 10.0 to below 12.0 (see {@link #MXFP8_FROM_MAJOR}); a system
   * file without {@code compute_capability} declares no microscaling tensor cores.
   *
   * @param sysFile the system file, for the message
   * @return the rule for a one-line message about {@code fp8_recipe}, or null
   */
  public String refusalOn(SystemSpec sys, String sysFile) {
    if (this != MXFP8) {
      return null;
    }
    SystemSpec.ComputeCapability cc = sys.computeCapability();
    if (cc != null && cc.atLeast(MXFP8_FROM_MAJOR, 0) && !cc.atLeast(MXFP8_BEFORE_MAJOR, 0)) {
      return null;
    }
    String has = cc == null ? "gives no " + SystemReader.COMPUTE_CAPABILITY + " (e.g. \"10.0\" for a B200)"
        : "has " + SystemReader.COMPUTE_CAPABILITY + " " + cc;
    return "\"mxfp8\" needs a GPU of compute capability " + MXFP8_FROM_MAJOR + ".x to "
        + (MXFP8_BEFORE_MAJOR - 1) + ".x (Blackwell's block-scaled tensor cores; Transformer Engine refuses "
        + "MXFP8BlockScaling elsewhere), but " + sysFile + " " + has;
  }

  /** Whether this recipe runs on {@code sys} ({@link #refusalOn} says why not). */
  public boolean runsOn(SystemSpec sys) {
    return refusalOn(sys, "") == null;
  }
}
