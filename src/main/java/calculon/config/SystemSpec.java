package calculon.config;

import java.util.List;
import java.util.Map;

/**
 * A system file: matrix and vector units, two memory tiers, the processing mode and the network
 * tiers, all as written (units of the file: TFLOP/s, GFLOP thresholds, GiB, GB/s, MB thresholds,
 * seconds). {@code raw} keeps the parsed JSON object for the text summary that echoes it.
 */
public record SystemSpec(
    String name,
    Map<Datatype, ComputeRate> matrix,
    Map<Datatype, ComputeRate> vector,
    MemorySpec mem1,
    MemorySpec mem2,
    ProcessingMode processingMode,
    List<NetworkSpec> networks,
    Object raw) {

  /** Peak rate of one datatype and its efficiency curve. */
  public record ComputeRate(double tflops, double[] gflopsThresholds, double[] efficiencies) {}

  /** A memory tier: capacity, bandwidth and its efficiency curve by transfer size. */
  public record MemorySpec(double gib, double gbps, double[] mbThresholds, double[] efficiencies) {}

  /** One collective's cost parameters: bytes scale by {@code scalar}, plus {@code offset}/n (collectives), and an optional own efficiency. */
  public record OpSpec(double scalar, Double offset, Double efficiency) {}

  /** A network tier. {@code ops} is keyed by p2p, reduce_scatter, all_gather, all_reduce and, when present, all_to_all. */
  public record NetworkSpec(double bandwidthGBps, double efficiency, long size, double latencySeconds,
                            Map<String, OpSpec> ops, boolean mustBeFilled, double processorUsage) {}
}
