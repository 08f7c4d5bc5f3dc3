package calculon.hardware;

import calculon.config.Datatype;
import calculon.config.ProcessingMode;
import calculon.config.SystemSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A system fixed to one datatype: what the model asks of the hardware. Immutable; build once per (system, datatype). */
public final class Hardware {
  private final SystemSpec spec;
  private final Datatype datatype;
  private final Processor matrix;
  private final Processor vector;
  private final Memory mem1;
  private final Memory mem2;
  private final boolean roofline;
  private final Network[] networks;
  /**
   * The 16-bit matrix unit (bfloat16, else float16) for runs of 16 bits or fewer; null for 32-bit
   * runs and when the system has no usable 16-bit rate.
   */
  private final Processor matrix16;
  /** The system's measured attention kernels at this run's 16-bit peak, built once; empty when unusable. */
  private final Map<String, AttentionKernel> attentionKernels = new HashMap<>();

  public Hardware(SystemSpec spec, Datatype datatype) {
    this.spec = spec;
    this.datatype = datatype;
    SystemSpec.ComputeRate m = spec.matrix().get(datatype);
    SystemSpec.ComputeRate v = spec.vector().get(datatype);
    if (m == null || v == null) {
      throw new IllegalArgumentException("datatype " + datatype.jsonName + " missing from the system (validation should have caught this)");
    }
    this.matrix = new Processor(m);
    this.vector = new Processor(v);
    this.mem1 = new Memory(spec.mem1());
    this.mem2 = new Memory(spec.mem2());
    SystemSpec.ComputeRate m16 = spec.matrix().containsKey(Datatype.BFLOAT16)
        ? spec.matrix().get(Datatype.BFLOAT16) : spec.matrix().get(Datatype.FLOAT16);
    // used for attention only by 8-bit and 4-bit runs and by measured kernels; only a rate the run
    // checks would accept for any operation (positive, curve down to 0 GFLOP) is used
    // (and no faster than the run's own matrix peak, which the efficiencies are measured against)
    boolean usable = m16 != null && m16.tflops() > 0 && m16.tflops() <= m.tflops() && m16.gflopsThresholds().length > 0
        && m16.gflopsThresholds()[m16.gflopsThresholds().length - 1] == 0;
    this.matrix16 = usable && datatype.bytesPerElement <= 2 ? new Processor(m16) : null;
    if (matrix16 != null && spec.attentionKernels() != null) {
      spec.attentionKernels().kernels().forEach((n, c) ->
          attentionKernels.put(n, new AttentionKernel(n, matrix16.peakFlopsPerSecond(), c)));
    }
    this.roofline = spec.processingMode() == ProcessingMode.ROOFLINE;
    List<SystemSpec.NetworkSpec> nets = spec.networks();
    this.networks = new Network[nets.size()];
    for (int i = 0; i < networks.length; i++) {
      networks[i] = new Network(i, nets.get(i));
    }
  }

  public SystemSpec spec() { return spec; }

  /**
   * SMs an H100 SXM5 has (NVIDIA H100 Tensor Core GPU Architecture whitepaper: 132 SMs), assumed
   * where the system file has no {@code streaming_multiprocessors}.
   */
  public static final int H100_STREAMING_MULTIPROCESSORS = 132;

  /** The GPU's streaming multiprocessors: the system file's, else {@link #H100_STREAMING_MULTIPROCESSORS}. */
  public int streamingMultiprocessors() {
    return spec.streamingMultiprocessors() != null ? spec.streamingMultiprocessors() : H100_STREAMING_MULTIPROCESSORS;
  }

  public Datatype datatype() { return datatype; }

  public double bytesPerElement() { return datatype.bytesPerElement; }

  public Processor matrix() { return matrix; }

  public Processor vector() { return vector; }

  /**
   * The 16-bit matrix unit for a run narrower than 16 bits, else the run's own matrix unit (also
   * when the system has no usable 16-bit rate): what a float8 run's 16-bit matmuls run on. The
   * fused attention (FP8 training keeps attention in BF16: Transformer Engine's {@code fp8_dpa} is
   * off by default, and TorchTitan's Float8 converts only {@code nn.Linear} modules) and the logits
   * projection ({@code Layer.sixteenBitMatmul}).
   */
  public Processor sixteenBitMatrix() {
    return matrix16 == null || datatype.bytesPerElement >= 2 ? matrix : matrix16;
  }

  /**
   * The fused attention kernel named {@code name} (null: the system's default), or null when the
   * system file has no {@code attention_kernels} or the run cannot use them (a 32-bit run: the
   * kernels are measured in 16 bits; a system without a usable 16-bit matrix rate). The run
   * checks reject a name the system lacks.
   *
   * @throws IllegalArgumentException for a name the system lacks (the run checks catch it first)
   */
  public AttentionKernel attentionKernel(String name) {
    if (attentionKernels.isEmpty()) {
      return null;
    }
    String n = name == null ? spec.attentionKernels().defaultKernel() : name;
    AttentionKernel k = attentionKernels.get(n);
    if (k == null) {
      throw new IllegalArgumentException("attention kernel " + n + " missing from the system (validation should have caught this)");
    }
    return k;
  }

  public Memory mem1() { return mem1; }

  public Memory mem2() { return mem2; }

  public int numNetworks() { return networks.length; }

  public Network network(int tier) { return networks[tier]; }

  /** Combines compute and memory time by the system's processing mode. */
  public double processingTime(double flopsSeconds, double memSeconds) {
    return roofline ? Math.max(flopsSeconds, memSeconds) : flopsSeconds + memSeconds;
  }

  /** Seconds to move {@code bytes} to or from the second memory tier. */
  public double offloadTime(double bytes) {
    return mem2.time(bytes);
  }
}
