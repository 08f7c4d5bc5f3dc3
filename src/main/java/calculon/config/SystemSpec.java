package calculon.config;

import java.util.List;
import java.util.Map;

/**
 * A system file: matrix and vector units, two memory tiers, the processing mode and the network
 * tiers, all as written (units of the file: TFLOP/s, GFLOP thresholds, GiB, GB/s, MB thresholds,
 * seconds). {@code raw} keeps the parsed JSON object for the text summary that echoes it.
 * {@code attentionKernels} is null when the file has no {@code attention_kernels};
 * {@code streamingMultiprocessors} (the GPU's SM count, optional key
 * {@code streaming_multiprocessors}) and {@code computeCapability} (optional key
 * {@code compute_capability}) are null when the file does not give them.
 */
public record SystemSpec(
    String name,
    Map<Datatype, ComputeRate> matrix,
    Map<Datatype, ComputeRate> vector,
    MemorySpec mem1,
    MemorySpec mem2,
    ProcessingMode processingMode,
    List<NetworkSpec> networks,
    AttentionKernels attentionKernels,
    Integer streamingMultiprocessors,
    ComputeCapability computeCapability,
    Object raw) {

  /**
   * A CUDA compute capability, {@code major.minor} (optional system key {@code compute_capability},
   * written as {@code nvidia-smi --query-gpu=compute_cap} prints it: "9.0" for Hopper, "10.0" for
   * B200 and GB200, "10.3" for B300 and GB300; CUDA C++ Programming Guide, "Compute Capabilities").
   * Frameworks gate features on it; calculon reads it for {@code fp8_recipe: mxfp8} only
   * ({@link Fp8Recipe#runsOn}).
   */
  public record ComputeCapability(int major, int minor) {
    /** Whether this capability is {@code major.minor} or later. */
    public boolean atLeast(int major, int minor) {
      return this.major > major || this.major == major && this.minor >= minor;
    }

    @Override
    public String toString() {
      return major + "." + minor;
    }
  }

  /** Peak rate of one datatype and its efficiency curve. */
  public record ComputeRate(double tflops, double[] gflopsThresholds, double[] efficiencies) {}

  /** A memory tier: capacity, bandwidth and its efficiency curve by transfer size. */
  public record MemorySpec(double gib, double gbps, double[] mbThresholds, double[] efficiencies) {}

  /** One collective's cost parameters: bytes scale by {@code scalar}, plus {@code offset}/n (collectives), and an optional own efficiency. */
  public record OpSpec(double scalar, Double offset, Double efficiency) {}

  /** A network tier. {@code ops} is keyed by p2p, reduce_scatter, all_gather, all_reduce and, when present, all_to_all. */
  public record NetworkSpec(double bandwidthGBps, double efficiency, long size, double latencySeconds,
                            Map<String, OpSpec> ops, boolean mustBeFilled, double processorUsage) {}

  /**
   * Measured speed of fused attention kernels on this system (optional key
   * {@code attention_kernels}): each kernel's forward and backward efficiency, a fraction of the
   * 16-bit matrix peak ({@code matrix.bfloat16.tflops}, else {@code matrix.float16.tflops}), by
   * the sequence length one kernel call sees, as [tokens, efficiency] pairs with strictly
   * decreasing thresholds (the first pair whose threshold the length reaches applies, as in
   * {@code gflops_efficiency}).
   *
   * @param defaultKernel the kernel an execution without {@code attention_kernel} runs
   * @param kernels       kernel name -> curves, in file order
   */
  public record AttentionKernels(String defaultKernel, Map<String, KernelCurves> kernels) {}

  /** One kernel's forward and backward efficiency curves (thresholds in tokens). */
  public record KernelCurves(double[] fwTokens, double[] fwEfficiency, double[] bwTokens, double[] bwEfficiency) {}
}
