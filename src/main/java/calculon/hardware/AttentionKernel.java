package calculon.hardware;

import calculon.config.SystemSpec.KernelCurves;

/**
 * A fused attention kernel's measured speed on one system (system key {@code attention_kernels}):
 * forward and backward efficiency as fractions of the 16-bit matrix peak, by the sequence length
 * one kernel call sees. The published figures this is read from (FlashAttention-3 paper, Shah et
 * al. 2024, arXiv 2407.08608, Fig. 5 and 6, H100 SXM5, BF16) count only the matrix products,
 * 4 S^2 d per head forward and 2.5 times that backward (the backward recomputes S = Q K^T), so
 * the kernel's time is those flops over peak x efficiency: its softmax, rescaling and memory
 * traffic are inside the measured time, not added to it.
 */
public final class AttentionKernel {
  private final String name;
  private final double peakFlopsPerSecond;
  private final KernelCurves curves;

  AttentionKernel(String name, double peakFlopsPerSecond, KernelCurves curves) {
    this.name = name;
    this.peakFlopsPerSecond = peakFlopsPerSecond;
    this.curves = curves;
  }

  /** The kernel's name in the system file. */
  public String name() { return name; }

  /** Seconds for {@code matrixFlops} of forward attention products at sequence length {@code tokens}. */
  public double forwardSeconds(double matrixFlops, double tokens) {
    return matrixFlops / (peakFlopsPerSecond * efficiency(curves.fwTokens(), curves.fwEfficiency(), tokens));
  }

  /** Seconds for {@code matrixFlops} of backward attention products (recomputed scores included). */
  public double backwardSeconds(double matrixFlops, double tokens) {
    return matrixFlops / (peakFlopsPerSecond * efficiency(curves.bwTokens(), curves.bwEfficiency(), tokens));
  }

  /**
   * The efficiency of the first pair whose threshold {@code tokens} reaches (thresholds strictly
   * decrease); below the shortest measured length, the shortest length's efficiency (an optimistic
   * extrapolation: shorter calls are slower still).
   */
  static double efficiency(double[] thresholds, double[] eff, double tokens) {
    for (int i = 0; i < thresholds.length; i++) {
      if (tokens >= thresholds[i]) {
        return eff[i];
      }
    }
    return eff[eff.length - 1];
  }
}
