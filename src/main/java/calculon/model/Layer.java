package calculon.model;

import calculon.config.Datatype;
import calculon.config.Fp8Recipe;
import calculon.config.OptimizerKernel;
import calculon.hardware.Hardware;
import calculon.hardware.Processor;

/**
 * One operation of a transformer block, per microbatch, per block, per processor: its flops for
 * each pass, element counts of inputs, outputs, stored activations, activation gradients,
 * weights and optimizer state, and flags saying how recomputation and memory treat it.
 * Subclasses override what differs from a plain compute layer (after Calculon's layers.py).
 *
 * <p>Sizes are element counts until {@link #bytesPerElement} turns them into bytes; the optimizer
 * shard divisor is the data-parallel degree under optimizer sharding, else 1.
 */
public abstract class Layer {
  /** Adam's optimizer step costs this many flops per parameter (Calculon layers.py:231-233, unexplained there). */
  static final double ADAM_FLOPS_PER_PARAM = 11;
  /** Optimizer state, master weights and unsharded gradients are kept in fp32. */
  static final double FP32_BYTES = 4;

  final String name;
  final CommGroup group;
  /**
   * A routed expert's layer: its weights are replicated over the data-parallel-over-experts group
   * (DP_exp), all others over DP. The builder sets it.
   */
  boolean expertReplica;

  double fwFlops, agradFlops, wgradFlops;
  double inputsSize, outputSize;
  double activationSpace, activationGrads;
  double weightSpace, weightGrads, optimSpace;

  boolean needsRecompute, needsRecomm, activationReused;
  boolean activationStored = true, outputStored = true;
  /**
   * The share of this layer's forward pass that recompute redoes (with {@link #needsRecompute}):
   * 1, or less for a fused projection of which one matmul alone is recomputed (TorchTitan's op
   * SAC recomputes w3 of the fused w1|w3 projection).
   */
  double recomputedShare = 1;
  /**
   * Elements of this layer's output that a save-list recompute policy keeps for the backward
   * pass (TorchTitan's op SAC keeps every odd matmul's output), beside its stored input.
   */
  double savedOutputElements;
  /**
   * A float8 matmul of the corrected model whose operands are quantized by kernels the model
   * charges ({@link #castBytes}): torchao's dynamic tensorwise casts ({@link #teRecipe} null), or
   * Transformer Engine's quantization ({@link #teRecipe} set).
   */
  boolean fp8Casts;
  /**
   * Under {@link #fp8Casts}: the Transformer Engine recipe that quantizes this matmul's operands,
   * or null for torchao's tensorwise casts ({@link Fp8Recipe#TENSORWISE}). TE quantizes each
   * operand once, into a row-wise and a column-wise (transposed) float8 copy (Hopper's float8
   * GEMMs take only the TN layout; MXFP8 and block scaling keep both scale directions): the input
   * in the forward pass, the output gradient in the input-gradient pass, which the
   * weight-gradient pass reuses; the weight once per step, on the first microbatch
   * ({@code is_first_microbatch}, transformer_engine/pytorch/module/linear.py, whose float8 copy
   * later microbatches reuse; Megatron-Core passes it to its TE layers). Whether the operand's
   * producing kernel does it is {@link #inputProducer} and {@link #gradProducer}
   * ({@link #teOperandBytes}).
   */
  Fp8Recipe teRecipe;
  /** The kernel that produces this matmul's input (forward pass), for {@link #teOperandBytes}. */
  Fp8Producer inputProducer = Fp8Producer.PLAIN;
  /** The kernel that produces this matmul's output gradient (input-gradient pass), for {@link #teOperandBytes}. */
  Fp8Producer gradProducer = Fp8Producer.PLAIN;
  /** The microbatches of one step, over which a Transformer Engine weight cast ({@link #teRecipe}) spreads. */
  double microbatchesPerStep = 1;
  /**
   * The share of this layer's input elements it casts itself under {@link #fp8Casts}: 1; 0
   * when another matmul of the same input casts it (wk and wv read wq's float8 copy: one cast per
   * distinct tensor, as torch.compile's common-subexpression elimination leaves it); 1/TP when the
   * input is cast on its sequence shard and all-gathered in float8 (torchao's
   * {@code Float8ColwiseParallel}).
   */
  double castInputShare = 1;
  /**
   * The bytes of the forward and input-gradient passes when the layer runs as PyTorch eager tensor
   * ops, one kernel each ({@link EagerElementwise}); 0: the fused kernel's traffic.
   */
  double eagerFwBytes, eagerAgradBytes;
  /**
   * A matmul that stays in 16 bits in a float8 run (corrected model): the logits projection, which
   * neither Transformer Engine's {@code fp8_autocast} (Megatron-Core's {@code output_layer} is its
   * own {@code tensor_parallel.ColumnParallelLinear}, not a Transformer Engine module) nor
   * torchtitan's Float8 converter ({@code module_filter_fn=lambda mod, fqn: fqn != "output"},
   * {@code torchtitan/float8.py}) runs in FP8. It runs at the 16-bit matrix rate
   * ({@link Hardware#sixteenBitMatrix}), casts nothing, and keeps 16-bit weights.
   */
  boolean sixteenBitMatmul;
  /** Bytes per element of a 16-bit weight ({@link #sixteenBitMatmul}). */
  static final double SIXTEEN_BIT_BYTES = Datatype.BFLOAT16.bytesPerElement;
  /** Reads of a 16-bit operand per dynamic float8 cast: one for its amax, one to scale and cast it. */
  static final double FP8_CAST_READS = 2;
  /** Bytes per element of the float8 copy a cast writes. */
  static final double FP8_BYTES = 1;
  /** Float8 copies Transformer Engine's {@code cast_transpose} writes per cast: row-wise and column-wise. */
  static final double TE_CAST_COPIES = 2;

  /** Bytes per element of activations, activation gradients and communicated tensors. */
  double bytesPerElement = 1;
  double weightBytes = 1;
  double gradientBytes = 1;
  double masterBytes = FP32_BYTES;
  double optimizerBytes = FP32_BYTES;
  double optimizerShards = 1;

  Layer(String name, CommGroup group) {
    this.name = name;
    this.group = group;
  }

  public String name() { return name; }

  public CommGroup group() { return group; }

  public boolean expertReplica() { return expertReplica; }

  public boolean needsRecompute() { return needsRecompute; }

  public boolean needsRecomm() { return needsRecomm; }

  public boolean reusesActivation() { return activationReused; }

  /** The share of the forward pass that recompute redoes when {@link #needsRecompute()}: 0 to 1. */
  public double recomputedShare() { return recomputedShare; }

  /** Bytes of this layer's output kept for the backward pass by a save-list policy (op SAC); 0 otherwise. */
  public double savedOutput() { return savedOutputElements * bytesPerElement; }

  public boolean storesActivation() { return activationStored; }

  public boolean storesOutput() { return outputStored; }

  public double inputsSize() { return inputsSize; }

  public double outputSize() { return outputSize; }

  public double weightParams() { return weightSpace; }

  public double weightGradParams() { return weightGrads; }

  void setStorage(StorageBytes b) {
    this.bytesPerElement = b.activations();
    this.weightBytes = sixteenBitMatmul ? Math.max(b.weights(), SIXTEEN_BIT_BYTES) : b.weights();
    this.gradientBytes = b.gradients();
    this.masterBytes = b.master();
    this.optimizerBytes = b.optimizer();
  }

  void shardOptimizer(double shards) { this.optimizerShards = shards; }

  /**
   * Whether the weight-gradient pass adds into a persistent gradient buffer, reading and writing
   * it every microbatch, rather than writing a fresh gradient: Megatron-Core's DDP buffer under
   * ZeRO stage 0 or 1 with gradient-accumulation fusion, Megatron-LM's default
   * ({@code --no-gradient-accumulation-fusion} turns it off): {@code LinearWithGradAccumulationAndAsyncCommunication}
   * calls {@code fused_weight_gradient_mlp_cuda.wgrad_gemm_accum_fp32(input, grad_output,
   * weight.main_grad)}, a GEMM with beta = 1 on {@code main_grad}, and Transformer Engine's
   * linear layers run their weight-gradient GEMM with {@code accumulate=True} into it.
   */
  boolean accumulatesGradient;

  /**
   * How the optimizer step and its gradient clipping run (corrected model, execution key
   * {@code optimizer_kernel}): their traffic is {@link #optimizerStepBytes}. Null (calculon-moe)
   * or {@link OptimizerKernel#CALCULON}: Calculon's count, the optimizer state read once
   * ({@link #optimizer}).
   */
  OptimizerKernel optimizerKernel;

  // ---- flops and bytes per pass ----

  public double flops(Stage s) {
    switch (s) {
      case FW: return fwFlops;
      case AGRAD: return agradFlops;
      case WGRAD: return wgradFlops;
      default: return optimFlops();
    }
  }

  /**
   * The flops of a pass that the model needs, for MFU: all of them, except work a kernel redoes
   * by design (a fused attention kernel's backward recomputes the scores).
   */
  public double usefulFlops(Stage s) { return flops(s); }

  public double memAccessed(Stage s) {
    return passBytes(s) + castBytes(s);
  }

  /** The pass's own traffic, without the float8 casts' kernels ({@link #castBytes}). */
  private double passBytes(Stage s) {
    switch (s) {
      case FW: return eagerFwBytes > 0 ? eagerFwBytes : fwMemAccessed();
      case AGRAD: return eagerAgradBytes > 0 ? eagerAgradBytes : agradMemAccessed();
      case WGRAD: return wgradMemAccessed();
      default: return optimizerStepBytes();
    }
  }

  /**
   * HBM bytes of the optimizer step and the gradient clipping over this layer's parameters on
   * this processor: its shard of them under a sharded optimizer (ZeRO stage 1 and up: the
   * parameters divided by the optimizer shards), all of them otherwise, each moving
   * {@link OptimizerKernel#bytesPerParameter} bytes for the run's {@link #optimizerKernel} (the
   * code paths each kernel follows are cited there). 0 for a layer without optimizer state (a
   * table another layer holds). Calculon's count ({@link OptimizerKernel#CALCULON}, and
   * calculon-moe's) is {@link #optimizer}, computed as Calculon computes it.
   */
  double optimizerStepBytes() {
    if (optimizerKernel == null || optimizerKernel == OptimizerKernel.CALCULON) {
      return optimizer();
    }
    if (optimSpace == 0) {
      return 0;
    }
    return weightSpace / optimizerShards
        * optimizerKernel.bytesPerParameter(weightBytes, gradientBytes, masterBytes, optimizerBytes);
  }

  /**
   * Bytes the float8 casts of a pass move ({@link #fp8Casts}). torchao's tensorwise casts
   * ({@code matmul_with_hp_or_float8_args}): the forward pass casts the input and the weight, the
   * input-gradient pass the output gradient and the weight, the weight-gradient pass the output
   * gradient and the input; per element two reads of the 16-bit copy (amax, then scale and cast)
   * and one float8 write. Transformer Engine ({@link #teRecipe}): the forward pass quantizes the
   * input and, once per step, the weight; the input-gradient pass the output gradient
   * ({@link #teOperandBytes} per element); the weight-gradient pass reuses both copies.
   */
  double castBytes(Stage s) {
    if (!fp8Casts) {
      return 0;
    }
    if (teRecipe != null) {
      double weight = teOperandBytes(teRecipe, Fp8Producer.PLAIN, weightBytes);
      switch (s) {
        case FW: return teOperandBytes(teRecipe, inputProducer, bytesPerElement) * inputsSize * castInputShare
            + weight * weightSpace / microbatchesPerStep;
        case AGRAD: return teOperandBytes(teRecipe, gradProducer, bytesPerElement) * outputSize;
        default: return 0;
      }
    }
    double act = FP8_CAST_READS * bytesPerElement + FP8_BYTES;
    double weight = FP8_CAST_READS * weightBytes + FP8_BYTES;
    switch (s) {
      case FW: return act * inputsSize * castInputShare + weight * weightSpace;
      case AGRAD: return act * outputSize + weight * weightSpace;
      case WGRAD: return act * (outputSize + inputsSize * castInputShare);
      default: return 0;
    }
  }

  /**
   * Bytes per element that Transformer Engine's quantization of one operand moves beyond what its
   * producing kernel writes anyway, by recipe and producer. TE picks one of three paths per
   * producer (transformer_engine/pytorch/csrc/extensions/normalization.cpp, activation.cpp and
   * bias.cpp, their {@code Impl} choice):
   * <ul>
   *   <li>fully fused (0 bytes): the norm, activation or activation-gradient kernel writes the
   *       float8 copies itself: delayed scaling ({@code Float8Quantizer}) for all three producers,
   *       MXFP8 for the activation and its gradient (its norm only with the opt-in
   *       {@code NVTE_NORM_FWD_USE_CUDNN});</li>
   *   <li>fused amax (current scaling after a norm, activation or activation gradient): the
   *       producer computes the amax, then a quantize kernel reads the 16-bit copy once and writes
   *       the two float8 copies;</li>
   *   <li>unfused: a quantize kernel of its own reads the 16-bit copy and writes the two copies,
   *       after a separate amax kernel for current scaling ({@code compute_amax}: one read more).
   *       So every operand of block scaling ({@code Float8BlockQuantizer} has no fused producer),
   *       and for every recipe the operands no norm or activation produces: the attention output
   *       feeding the output projection, the output gradients of the projections (TE's
   *       {@code grad_output_preprocess}), a dispatched expert input, and the weights.</li>
   * </ul>
   * The scale factors (one per 32 to 128 x 128 elements) are left out.
   *
   * @param recipe           the TE recipe
   * @param producer         what produces the operand
   * @param sixteenBitBytes  bytes per element of the operand's 16-bit copy
   * @return bytes per element moved by the quantization
   */
  static double teOperandBytes(Fp8Recipe recipe, Fp8Producer producer, double sixteenBitBytes) {
    boolean fused = producer != Fp8Producer.PLAIN;
    switch (recipe) {
      case DELAYED:
        if (fused) {
          return 0;
        }
        break;
      case MXFP8:
        if (producer == Fp8Producer.ACTIVATION || producer == Fp8Producer.ACTIVATION_GRAD) {
          return 0;
        }
        break;
      case CURRENT:
        return (fused ? 1 : FP8_CAST_READS) * sixteenBitBytes + TE_CAST_COPIES * FP8_BYTES;
      default:
        break;
    }
    return sixteenBitBytes + TE_CAST_COPIES * FP8_BYTES;
  }

  double fwMemAccessed() {
    if (weightBytes == bytesPerElement) {
      return (inputsSize + outputSize + weightSpace) * bytesPerElement;
    }
    return (inputsSize + outputSize) * bytesPerElement + weightSpace * weightBytes;
  }

  double agradMemAccessed() {
    if (weightBytes == bytesPerElement) {
      return (weightSpace + activationSpace + activationGrads) * bytesPerElement;
    }
    return weightSpace * weightBytes + (activationSpace + activationGrads) * bytesPerElement;
  }

  double wgradMemAccessed() {
    // no weights, no weight gradient pass (a layer whose table another layer holds, such as a
    // logits projection tied to the embedding, still computes its gradient)
    if (weightSpace == 0 && wgradFlops == 0) {
      return 0;
    }
    double gradientPasses = accumulatesGradient ? 2 : 1;  // read and write, or write
    if (gradientBytes == bytesPerElement && !accumulatesGradient) {
      return (weightGrads + activationSpace + activationGrads) * bytesPerElement;
    }
    return gradientPasses * weightGrads * gradientBytes + (activationSpace + activationGrads) * bytesPerElement;
  }

  double optimFlops() {
    return weightGrads / optimizerShards * ADAM_FLOPS_PER_PARAM;
  }

  /** Flops per byte of a pass: 0 without flops, infinite without memory traffic. */
  public double arithmeticIntensity(Stage s) {
    double f = flops(s);
    if (f == 0) {
      return 0;
    }
    double m = memAccessed(s);
    return m == 0 ? Double.POSITIVE_INFINITY : f / m;
  }

  // ---- memory footprint in bytes ----

  public double weight() { return weightSpace * weightBytes; }

  public double activation() { return activationSpace * bytesPerElement; }

  public double output() { return outputSize * bytesPerElement; }

  /** Sharded: low-precision grads split over the optimizer shards; unsharded: fp32 accumulation buffers. */
  public double weightGrad(boolean sharded) {
    return sharded ? weightGrads * gradientBytes / optimizerShards : weightGrads * FP32_BYTES;
  }

  /**
   * Bytes of this layer's full (unsharded) weight-gradient buffer in the gradient datatype: what
   * Megatron's DDP keeps per parameter until the optimizer step (ZeRO stages 0 and 1).
   */
  public double gradientBuffer() { return weightGrads * gradientBytes; }

  public double activationGrad() { return activationGrads * bytesPerElement; }

  /**
   * Bytes of this layer's weight gradient as autograd writes it for a 16-bit unsharded parameter:
   * in the activations' datatype, the parameters' compute datatype (PyTorch FSDP2's
   * {@code MixedPrecisionPolicy.param_dtype}), before any cast to the gradient datatype.
   */
  public double computeDtypeGradient() { return weightGrads * bytesPerElement; }

  /** fp32 master weights (when the datatype is narrower) plus Adam's two fp32 moments, sharded. */
  public double optimizer() {
    double moments = optimSpace * optimizerBytes;
    double master = weightBytes < masterBytes ? weightSpace * masterBytes : 0;
    return (master + moments) / optimizerShards;
  }

  // ---- timing: computed once by prepare(), then read ----

  private static final int STAGES = Stage.values().length;
  final double[] flopsTime = new double[STAGES];
  final double[] memTime = new double[STAGES];
  final double[] procTime = new double[STAGES];

  boolean usesMatrixUnit() { return false; }

  /**
   * Independent matrix products of equal size this layer's flops are split into, each run at the
   * efficiency of its own size: the local experts of a grouped expert GEMM (corrected model; set by
   * the block builder). Megatron-Core's grouped MLP runs one GEMM per local expert (Transformer
   * Engine's GroupedLinear, {@code --moe-grouped-gemm}: "launch multiple local GEMM kernels",
   * megatron/core/transformer/moe/README.md), so the size that sets the efficiency is one expert's
   * tokens x its weight, not the sum over experts. 1: one product.
   */
  double gemmGroups = 1;

  /**
   * Computes this layer's times on the hardware once; called by the block builder after bytes
   * per element and sharding are set. The optimizer step always runs on the vector unit.
   */
  void prepare(Hardware hw) {
    for (Stage s : Stage.values()) {
      int i = s.ordinal();
      double f = flops(s);
      Processor unit = sixteenBitMatmul ? hw.sixteenBitMatrix() : hw.matrix();
      flopsTime[i] = usesMatrixUnit() && s != Stage.OPTIM ? gemmGroups * unit.time(f / gemmGroups)
          : hw.vector().time(f);
      // the float8 casts are memory-bound kernels of their own, before the matmul: never
      // overlapped with its flops, whatever the processing mode
      double cast = castBytes(s);
      double castSeconds = cast == 0 ? 0 : hw.mem1().time(cast);
      memTime[i] = hw.mem1().time(passBytes(s)) + castSeconds;
      procTime[i] = hw.processingTime(flopsTime[i], memTime[i] - castSeconds) + castSeconds;
    }
  }

  public double flopsTime(Stage s) { return flopsTime[s.ordinal()]; }

  public double memTime(Stage s) { return memTime[s.ordinal()]; }

  /** Time the processor is busy with this pass (0 for pure communication layers). */
  public double processingTime(Stage s) { return procTime[s.ordinal()]; }

  /** Bytes communicated in a pass, in a base block or in the block at a pipeline-stage edge. */
  public double commBytes(Stage s, boolean baseBlock) { return 0; }

  /** Communication bytes per overlap tile. */
  public double commTile(Stage s, boolean baseBlock) { return commBytes(s, baseBlock); }

  public double netTime(Stage s, boolean baseBlock) { return 0; }

  /** Communication time not hidden behind compute. */
  public double exposedNetTime(Stage s, boolean baseBlock) { return 0; }

  /** Network bandwidth needed to hide this layer's communication behind its compute. */
  public double requiredBandwidth(Stage s, boolean baseBlock) { return 0; }
}
