package calculon.hardware;

import calculon.config.SystemSpec.MemorySpec;

/** A memory tier: capacity, bandwidth, and an efficiency curve by transfer size. */
public final class Memory {
  /** Capacities are in GiB (binary). */
  static final double BYTES_PER_GIB = 1024.0 * 1024.0 * 1024.0;
  /** Bandwidths are in GB/s (decimal). */
  static final double BYTES_PER_GB = 1e9;
  /** Curve thresholds are in MB (decimal), as the reference reads them (spec quirk 34). */
  static final double BYTES_PER_MB = 1e6;

  private final double capacityBytes;
  private final double bandwidthBytesPerSecond;
  private final double[] thresholdsBytes;
  private final double[] efficiencies;

  public Memory(MemorySpec spec) {
    this.capacityBytes = spec.gib() * BYTES_PER_GIB;
    this.bandwidthBytesPerSecond = spec.gbps() * BYTES_PER_GB;
    this.thresholdsBytes = new double[spec.mbThresholds().length];
    for (int i = 0; i < thresholdsBytes.length; i++) {
      thresholdsBytes[i] = spec.mbThresholds()[i] * BYTES_PER_MB;
    }
    this.efficiencies = spec.efficiencies().clone();
  }

  public double capacityBytes() { return capacityBytes; }

  public double bandwidthBytesPerSecond() { return bandwidthBytesPerSecond; }

  public double efficiency(double bytes) {
    for (int i = 0; i < thresholdsBytes.length; i++) {
      if (bytes >= thresholdsBytes[i]) {
        return efficiencies[i];
      }
    }
    throw new IllegalStateException(bytes + " bytes not covered by the memory curve (validation should have caught this)");
  }

  /** Seconds to move {@code bytes} at the curve's efficiency. */
  public double time(double bytes) {
    return bytes / (bandwidthBytesPerSecond * efficiency(bytes));
  }
}
