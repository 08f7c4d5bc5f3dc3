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
  private final EfficiencyCurve curve;

  public Memory(MemorySpec spec) {
    this.capacityBytes = spec.gib() * BYTES_PER_GIB;
    this.bandwidthBytesPerSecond = spec.gbps() * BYTES_PER_GB;
    this.curve = new EfficiencyCurve(spec.mbThresholds(), BYTES_PER_MB, spec.efficiencies(), "bytes", "memory curve");
  }

  public double capacityBytes() { return capacityBytes; }

  public double bandwidthBytesPerSecond() { return bandwidthBytesPerSecond; }

  /** Efficiency of the first curve entry whose threshold the transfer reaches. */
  public double efficiency(double bytes) { return curve.at(bytes); }

  /** Seconds to move {@code bytes} at the curve's efficiency. */
  public double time(double bytes) {
    return bytes / (bandwidthBytesPerSecond * efficiency(bytes));
  }
}
