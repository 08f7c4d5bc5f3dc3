package calculon.hardware;

/**
 * Calculon's step efficiency curve of a processor or a memory tier: the efficiency of the
 * <em>first</em> entry whose threshold the amount reaches (reference {@code processor.py:40-44},
 * {@code memory.py:38-42}; spec "eff curves: first entry whose threshold &le; x"). The system
 * reader checks that a curve covers every amount the model asks about (its last threshold 0).
 */
final class EfficiencyCurve {
  private final double[] thresholds;
  private final double[] efficiencies;
  private final String unit;
  private final String name;

  /**
   * @param fileThresholds thresholds as the system file gives them
   * @param unitScale      what one file unit is in {@code unit} (1e9 flops per GFLOP, 1e6 bytes per MB)
   * @param efficiencies   the efficiency of each entry, a fraction of peak
   * @param unit           the amount's unit ({@code flops}, {@code bytes}), for the error message
   * @param name           the curve's name, for the error message
   */
  EfficiencyCurve(double[] fileThresholds, double unitScale, double[] efficiencies, String unit, String name) {
    this.thresholds = new double[fileThresholds.length];
    for (int i = 0; i < thresholds.length; i++) {
      thresholds[i] = fileThresholds[i] * unitScale;
    }
    this.efficiencies = efficiencies.clone();
    this.unit = unit;
    this.name = name;
  }

  /** Efficiency (fraction of peak) for an operation of {@code amount} (in the curve's unit). */
  double at(double amount) {
    for (int i = 0; i < thresholds.length; i++) {
      if (amount >= thresholds[i]) {
        return efficiencies[i];
      }
    }
    throw new IllegalStateException(amount + " " + unit + " not covered by the " + name
        + " (validation should have caught this)");
  }
}
