package calculon.validation;

import calculon.config.Application;
import calculon.config.Architecture;

/**
 * The model flops per training step that Megatron-LM reports its "TFLOP/s/GPU" with
 * ({@code num_floating_point_operations(args, batch_size)} in {@code megatron/training/training.py}),
 * so that a published Megatron throughput can be turned back into the step time it was measured
 * from: step seconds = flops / (TFLOP/s per GPU x 1e12 x GPUs).
 *
 * <p>Two versions of the formula, as the sources used them (github.com/NVIDIA/Megatron-LM):
 * <ul>
 *   <li>{@link Version#CAUSAL_2025} (commit 8873b55, 6 March 2025, "Fixes in number of
 *       floating-point operation estimates for MoE and attention layer", still the formula at
 *       1e05700, May 2025): per token, 12 L h (F_dense g L_dense/L + F_expert k g L_moe/L +
 *       F_shared g L_moe/L) + 12 L h^2 (1 + G/A + s/(2h)) (A d / h) + 6 h V, with g = 3/2 for a
 *       gated (SwiGLU) MLP, else 1; k the routed experts per token; G the key/value heads, A the
 *       query heads, d the head width; V the (padded) vocabulary; times batch x sequence. The
 *       s/(2h) term counts half of the attention matrix (causal).
 *   <li>{@link Version#FULL_2024} (before that commit, e.g. 0b981f9, August 2024):
 *       12 B s L h^2 ((1 + G/A + s/h)(A d / h) + (F/h) k g + V / (2 L h)), every block's MLP
 *       counted as k experts of width F and the full attention matrix counted.
 * </ul>
 * Multi-latent attention and multi-token prediction, which the formula also covers, are not
 * implemented here: a model with {@code mla} is rejected.
 */
public final class MegatronFlops {
  private MegatronFlops() {}

  /** Which revision of Megatron-LM's formula the source's numbers were computed with. */
  public enum Version {
    /** Since Megatron-LM 8873b55 (March 2025): causal attention counted once (s / 2h). */
    CAUSAL_2025,
    /** Before it (MCore v0.8, 2024): the full attention matrix (s / h). */
    FULL_2024
  }

  /** Megatron's 12: forward + two backward GEMMs, two GEMMs per sublayer, 2 flops per multiply-add. */
  static final double EXPANSION = 3 * 2 * 2;

  /**
   * Flops of one training step of {@code batchSize} samples as Megatron-LM counts them.
   *
   * @param app       the model (hidden, heads, head width, blocks, sequence, vocabulary, experts)
   * @param batchSize global batch, samples
   * @param version   the revision of the formula
   * @return flops per step (forward and backward, no recompute)
   * @throws IllegalArgumentException for a model with multi-latent attention
   */
  public static double perStep(Application app, long batchSize, Version version) {
    Architecture a = app.architecture();
    if (a.mla() != null) {
      throw new IllegalArgumentException("Megatron's flops formula for multi-latent attention is not implemented");
    }
    double h = app.hidden();
    double s = app.seqSize();
    double layers = app.numBlocks();
    double heads = app.attnHeads();
    double groups = a.numKvHeads();
    double qRatio = app.attnSize() * heads / h;
    double g = a.mlp().gated ? 1.5 : 1.0;
    double vocab = a.vocabSize();
    Architecture.Moe m = a.moe();
    if (version == Version.FULL_2024) {
      double k = m == null ? 1 : m.topK();
      double f = m == null ? app.feedforward() : m.expertFeedforward();
      return EXPANSION * batchSize * s * layers * h * h
          * ((1 + groups / heads + s / h) * qRatio + f / h * k * g + vocab / (2 * layers * h));
    }
    double moeLayers = 0;
    if (m != null) {
      for (long i = 0; i < app.numBlocks(); i++) {
        moeLayers += m.isMoeBlock(i) ? 1 : 0;
      }
    }
    double denseLayers = layers - moeLayers;
    double mlp = app.feedforward() * g * denseLayers / layers;
    if (m != null) {
      mlp += (m.expertFeedforward() * m.topK() * g + m.sharedExperts() * m.sharedFeedforward() * g)
          * moeLayers / layers;
    }
    double attention = EXPANSION * layers * h * h * ((1 + groups / heads + s / h / 2) * qRatio);
    return batchSize * s * (EXPANSION * layers * h * mlp + attention + 3 * 2 * h * vocab);
  }
}
