package calculon.hardware;

import calculon.config.SystemSpec.NetworkSpec;
import calculon.config.SystemSpec.OpSpec;

/**
 * One network tier. A collective of {@code bytes} among {@code n} peers takes
 * {@code latency + size/(bandwidth * efficiency)} with {@code size = bytes*scalar*(1 + offset/n)}
 * (reference network.py:84-114). Only point-to-point and all-to-all honour a per-op efficiency.
 */
public final class Network {
  /** Bandwidth is in GB/s (decimal). */
  static final double BYTES_PER_GB = 1e9;

  public enum Op {
    P2P("p2p", false), REDUCE_SCATTER("reduce_scatter", true), ALL_GATHER("all_gather", true),
    ALL_REDUCE("all_reduce", true), ALL_TO_ALL("all_to_all", false);

    public final String jsonName;
    public final boolean collective;

    Op(String jsonName, boolean collective) {
      this.jsonName = jsonName;
      this.collective = collective;
    }
  }

  private final int index;
  private final double bandwidthBytesPerSecond;
  private final double efficiency;
  private final long size;
  private final double latencySeconds;
  private final boolean mustBeFilled;
  private final double processorUsage;
  private final double[] scalar = new double[Op.values().length];
  private final double[] offset = new double[Op.values().length];
  private final double[] opEfficiency = new double[Op.values().length];
  private final boolean[] present = new boolean[Op.values().length];

  public Network(int index, NetworkSpec spec) {
    this.index = index;
    this.bandwidthBytesPerSecond = spec.bandwidthGBps() * BYTES_PER_GB;
    this.efficiency = spec.efficiency();
    this.size = spec.size();
    this.latencySeconds = spec.latencySeconds();
    this.mustBeFilled = spec.mustBeFilled();
    this.processorUsage = spec.processorUsage();
    for (Op op : Op.values()) {
      OpSpec o = spec.ops().get(op.jsonName);
      if (o == null) {
        continue;
      }
      present[op.ordinal()] = true;
      scalar[op.ordinal()] = o.scalar();
      offset[op.ordinal()] = op.collective && o.offset() != null ? o.offset() : 0.0;
      // A third element is honoured for point-to-point ops only (reference network.py:38-46).
      opEfficiency[op.ordinal()] = !op.collective && o.efficiency() != null ? o.efficiency() : 0.0;
    }
  }

  public int index() { return index; }

  public long size() { return size; }

  public boolean mustBeFilled() { return mustBeFilled; }

  public double processorUsage() { return processorUsage; }

  public double latencySeconds() { return latencySeconds; }

  public boolean hasOp(Op op) { return present[op.ordinal()]; }

  public double scalar(Op op) { return scalar[op.ordinal()]; }

  /** Seconds for {@code op} moving {@code bytes} among {@code peers} processors. */
  public double time(Op op, double bytes, int peers) {
    int i = op.ordinal();
    double eff = opEfficiency[i] != 0.0 ? opEfficiency[i] : efficiency;
    return latencySeconds + wireBytes(op, bytes, peers) / (bandwidthBytesPerSecond * eff);
  }

  /**
   * Bytes {@code op} of {@code bytes} among {@code peers} puts on each processor's link:
   * {@code bytes * scalar * (1 + offset/peers)} (reference network.py:84-114; a ring
   * reduce-scatter's {@code [1, -1]} gives {@code bytes (peers-1)/peers}). What {@link #time}
   * divides by the bandwidth.
   */
  public double wireBytes(Op op, double bytes, int peers) {
    int i = op.ordinal();
    double sized = bytes * scalar[i];
    double chunk = 1.0 / peers * sized;
    return sized + chunk * offset[i];
  }
}
