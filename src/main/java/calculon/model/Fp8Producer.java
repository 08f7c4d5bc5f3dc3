package calculon.model;

/**
 * The kind of kernel that produces a float8 matmul's operand, which decides whether Transformer
 * Engine can quantize it in that kernel ({@link Layer#teOperandBytes}): a normalization (the
 * input of QKV, of the MLP's first projection and of MLA's projections), an activation (the input
 * of the MLP's second projection), an activation's gradient (the output gradient of the MLP's first
 * projection), or anything else.
 */
enum Fp8Producer {
  /** A kernel that writes 16 bits only (attention, a GEMM, a dispatch, the loss). */
  PLAIN,
  /** A LayerNorm or RMSNorm kernel. */
  NORM,
  /** A (gated) activation kernel. */
  ACTIVATION,
  /** The activation's backward kernel. */
  ACTIVATION_GRAD
}
