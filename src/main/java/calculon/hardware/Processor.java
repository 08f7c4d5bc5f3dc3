package calculon.hardware;

import calculon.config.SystemSpec.ComputeRate;

/** A compute unit running one datatype: peak rate and an efficiency curve by operation size. */
public final class Processor {
  /** The file gives TFLOP/s; 1 TFLOP/s = 1e12 flop/s. */
  static final double FLOPS_PER_TFLOPS = 1e12;
  /** Curve thresholds are in GFLOP; 1 GFLOP = 1e9 flop. */
  static final double FLOPS_PER_GFLOP = 1e9;

  private final double peakFlopsPerSecond;
  private final double[] thresholdsFlops;
  private final double[] efficiencies;

  public Processor(ComputeRate rate) {
    this.peakFlopsPerSecond = rate.tflops() * FLOPS_PER_TFLOPS;
    this.thresholdsFlops = new double[rate.gflopsThresholds().length];
    for (int i = 0; i < thresholdsFlops.length; i++) {
      thresholdsFlops[i] = rate.gflopsThresholds()[i] * FLOPS_PER_GFLOP;
    }
    this.efficiencies = rate.efficiencies().clone();
  }

  public double peakFlopsPerSecond() { return peakFlopsPerSecond; }

  /** Efficiency of the first curve entry whose threshold the operation reaches. */
  public double efficiency(double opFlops) {
    for (int i = 0; i < thresholdsFlops.length; i++) {
      if (opFlops >= thresholdsFlops[i]) {
        return efficiencies[i];
      }
    }
    throw new IllegalStateException(opFlops + " flops not covered by the efficiency curve (validation should have caught this)");
  }

  /** Seconds to run {@code flops} at the curve's efficiency. */
  public double time(double flops) {
    return flops / (peakFlopsPerSecond * efficiency(flops));
  }
}
