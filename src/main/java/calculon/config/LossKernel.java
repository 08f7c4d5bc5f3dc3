package calculon.config;

/**
 * How the softmax cross-entropy of the logits runs (execution key {@code loss_kernel}; corrected
 * model). It decides the HBM traffic of the loss layer and the bytes it keeps for the backward
 * pass; the flops (a softmax's) are the same for every kernel. Counted per logit (one element of
 * the {@code tokens x vocabulary / TP} logits a rank holds), with {@code a} the activation bytes
 * and {@code F} = 4 bytes (fp32), in {@link calculon.model.Layers.CrossEntropy}.
 */
public enum LossKernel {
  /**
   * One kernel per pass that reads the logits and writes their gradient in the activation
   * datatype (a + a forward, a + a backward) and keeps the logits in that datatype: Calculon's
   * softmax costing, and what a fully fused loss (torch.compile's generated kernel, Transformer
   * Engine's or Liger's fused cross-entropy) approaches.
   */
  FUSED("fused"),
  /**
   * PyTorch eager {@code cross_entropy(logits.float(), labels)} (torchtitan's {@code loss_fn}):
   * forward the {@code float()} copy (a + F) and {@code log_softmax} (2F); backward the gradient's
   * scatter (F), {@code log_softmax_backward} (3F) and the cast back (F + a). {@code log_softmax}
   * keeps its fp32 output for the backward pass: F bytes per logit stored.
   */
  EAGER("eager"),
  /**
   * Megatron-Core's {@code tensor_parallel.vocab_parallel_cross_entropy}, what
   * {@code LanguageModule.compute_language_model_loss} calls unless {@code --cross-entropy-loss-fusion}
   * (off by default in Megatron-LM's {@code arguments.py}) is given
   * ({@code megatron/core/tensor_parallel/cross_entropy.py} at {@code core_v0.8.0}): forward
   * {@code float()} (a + F), {@code max} over the vocabulary (F), the in-place subtraction of the
   * maximum (2F), the in-place {@code exp} (2F), its {@code sum} (F) and the in-place division by it
   * (2F): a + 9F; backward the in-place {@code mul_} by the output gradient (2F) and autograd's
   * cast to the logits' datatype (F + a): a + 3F. The fp32 softmax is what the function saves
   * ({@code ctx.save_for_backward(exp_logits, ...)}): F bytes per logit stored.
   */
  MEGATRON("megatron");

  /** Bytes of an fp32 element. */
  public static final double F = Datatype.FLOAT32.bytesPerElement;

  public final String jsonName;

  LossKernel(String jsonName) { this.jsonName = jsonName; }

  /** Bytes per logit of the forward pass, for activation bytes {@code a}. */
  public double forwardBytes(double a) {
    switch (this) {
      case EAGER: return a + 3 * F;
      case MEGATRON: return a + 9 * F;
      default: return 2 * a;
    }
  }

  /** Bytes per logit of the backward (input-gradient) pass, for activation bytes {@code a}. */
  public double backwardBytes(double a) {
    switch (this) {
      case EAGER: return a + 5 * F;
      case MEGATRON: return a + 3 * F;
      default: return 2 * a;
    }
  }

  /** Bytes per logit kept from the forward to the backward pass, for activation bytes {@code a}. */
  public double storedBytes(double a) {
    return this == FUSED ? a : F;
  }
}
