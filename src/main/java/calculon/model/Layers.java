package calculon.model;

import calculon.config.LossKernel;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.hardware.AttentionKernel;
import calculon.hardware.Hardware;
import calculon.hardware.Network;

/**
 * The layer types of Calculon(-MoE) layers.py, each with its element counts and the passes that
 * differ from a plain compute layer. Flop counts per element follow the reference: LayerNorm
 * 9/14/7, GeLU 8/13, SoftMax 5/8, SwiGLU (GeLU-like swish 8/13 plus the gating product 1/2),
 * DropOut 1/1 with a one-byte mask; squared ReLU 2/3 (corrected model only, see
 * {@link #SQUARED_RELU_FW}).
 */
public final class Layers {
  private Layers() {}

  /** LayerNorm flops per element: forward, activation gradient, weight gradient (Calculon layers.py). */
  static final double LN_FW = 9, LN_AGRAD = 14, LN_WGRAD = 7;
  static final double GELU_FW = 8, GELU_AGRAD = 13;
  /**
   * Squared ReLU flops per element, relu(x)^2 (So et al. 2021, "Primer", arXiv 2109.08668, section
   * 3; Megatron-Core {@code squared_relu} in megatron/core/activations.py: {@code
   * torch.pow(F.relu(x), 2)}): forward a max and a multiply; activation gradient 2 relu(x) dy: the
   * max again and two multiplies.
   */
  static final double SQUARED_RELU_FW = 2, SQUARED_RELU_AGRAD = 3;
  static final double SOFTMAX_FW = 5, SOFTMAX_AGRAD = 8;

  /**
   * Matrix multiply of {@code experts} independent (m x n)·(n x k) products; one expert is the
   * dense Linear layer, several are an expert rank's local experts (Linear_MoE).
   */
  public static final class Linear extends Layer {
    Linear(String name, CommGroup g, double experts, double m, double n, double k) {
      super(name, g);
      fwFlops = agradFlops = wgradFlops = experts * 2 * m * n * k;
      inputsSize = experts * m * n;
      outputSize = experts * m * k;
      weightSpace = weightGrads = experts * n * k;
      activationSpace = experts * m * n;
      activationGrads = experts * m * k;
      optimSpace = 2 * experts * n * k;
    }

    @Override boolean usesMatrixUnit() { return true; }
  }

  /** Batched matrix multiply (attention scores and context): no weights. */
  public static final class BatchMatMul extends Layer {
    BatchMatMul(String name, double batch, double m, double n, double k) {
      super(name, CommGroup.TP);
      fwFlops = batch * 2 * m * n * k;
      agradFlops = batch * 2 * 2 * m * n * k;
      inputsSize = batch * (m * n + n * k);
      outputSize = batch * m * k;
      activationSpace = batch * (m * n + n * k);
      activationGrads = batch * m * k;
    }

    @Override boolean usesMatrixUnit() { return true; }
  }

  /**
   * Fused causal attention of {@code heads} (microbatch x heads per rank) heads (FlashAttention-2,
   * Dao 2023, arXiv 2307.08691): scores, softmax, dropout and the weighted sum of values in one
   * kernel that keeps the S x S tiles in on-chip memory.
   *
   * <ul>
   *   <li>Work: a causal kernel skips the tiles above the diagonal (Sec. 3.1.1), so it computes
   *       {@code pairs} (query, key) products per head: S^2/2 for full causal attention, about
   *       S W - W^2/2 with a window of W keys. Forward: 2 pairs (d_qk + d_v) matrix flops plus the
   *       softmax's (and dropout's) element-wise flops. Backward (Alg. 2): the activation
   *       gradients (2x the forward matmuls, as for unfused attention) plus the recomputed scores
   *       S = Q K^T and probabilities P = exp(S - L), which are not useful flops.</li>
   *   <li>Memory traffic: forward reads Q once and K, V once per query tile of {@link #TILE_ROWS}
   *       rows, writes O and the fp32 row statistics L (Alg. 1); backward reads K, V and writes dK,
   *       dV once, and per key tile reads Q, dO, L, D and reads and writes dQ for each query row it
   *       meets, after the row sums D = rowsum(dO o O) (Alg. 2).</li>
   *   <li>Stored for the backward pass: Q, K, V (its inputs) and L, fp32, one per query row
   *       ({@link #STAT_BYTES}); O is the next layer's input. No score, probability or dropout-mask
   *       tensor: dropout regenerates its mask from the RNG state.</li>
   * </ul>
   * Element-wise flops run on the vector unit, matrix flops on the matrix unit.
   */
  public static final class FlashAttention extends Layer {
    /** Query rows (and key rows) per tile: FlashAttention-2's block sizes are 64 to 128 (Sec. 3.3); 128 on H100. */
    static final double TILE_ROWS = 128;
    /** The per-row softmax statistics (logsumexp L, and D in the backward pass) are fp32. */
    static final double STAT_BYTES = 4;
    /** Recomputing a probability from a score and its row's logsumexp: a subtraction and an exponential (Alg. 2 line 11). */
    static final double RECOMPUTE_PROBABILITY_FLOPS = 2;

    private final double rows;           // heads x S query rows
    private final double matrixFw, matrixAgrad, matrixRecompute;
    private final double vectorFw, vectorAgrad, vectorRecompute;
    private final double qkDim, vDim, pairs, heads, seq;
    /** Whether L is kept for the backward pass (not when the core attention is recomputed). */
    boolean statsStored = true;
    /** Whether Q, K, V are kept (not when MLA's up-projections are recomputed). */
    boolean inputsStored = true;
    /** The execution's {@code attention_kernel}; null: the system's default kernel. */
    String kernelName;

    /**
     * @param heads         microbatch x query heads on this rank
     * @param kvHeads       microbatch x key/value heads this rank holds
     * @param seq           query rows per head (S)
     * @param pairsPerHead  (query, key) pairs a causal kernel computes per head
     * @param qkDim         query/key width per head
     * @param vDim          value width per head
     * @param dropout       whether attention dropout runs (a Philox mask regenerated, never stored)
     */
    FlashAttention(String name, double heads, double kvHeads, double seq, double pairsPerHead,
                   double qkDim, double vDim, boolean dropout) {
      super(name, CommGroup.TP);
      this.heads = heads;
      this.seq = seq;
      this.qkDim = qkDim;
      this.vDim = vDim;
      this.rows = heads * seq;
      this.pairs = heads * pairsPerHead;
      double drop = dropout ? 1 : 0;
      matrixFw = 2 * pairs * (qkDim + vDim);
      matrixAgrad = 2 * matrixFw;
      matrixRecompute = 2 * pairs * qkDim;
      vectorFw = pairs * (SOFTMAX_FW + drop);
      vectorAgrad = pairs * (SOFTMAX_AGRAD + drop);
      vectorRecompute = pairs * (RECOMPUTE_PROBABILITY_FLOPS + drop);
      fwFlops = matrixFw + vectorFw;
      agradFlops = matrixAgrad + vectorAgrad + matrixRecompute + vectorRecompute;
      inputsSize = activationSpace = rows * qkDim + kvHeads * seq * (qkDim + vDim);
      outputSize = activationGrads = rows * vDim;
    }

    @Override public double usefulFlops(Stage s) {
      return s == Stage.AGRAD ? matrixAgrad + vectorAgrad : flops(s);
    }

    @Override public double activation() {
      return (inputsStored ? activationSpace * bytesPerElement : 0) + (statsStored ? rows * STAT_BYTES : 0);
    }

    @Override double fwMemAccessed() {
      double kvReads = pairs / TILE_ROWS * (qkDim + vDim);
      return (rows * (qkDim + vDim) + kvReads) * bytesPerElement + rows * STAT_BYTES;
    }

    @Override double agradMemAccessed() {
      double rowSums = 2 * rows * vDim * bytesPerElement + rows * STAT_BYTES;
      double keysOnce = 2 * heads * seq * (qkDim + vDim) * bytesPerElement;
      double rowVisits = pairs / TILE_ROWS;
      double perVisit = (qkDim + vDim + 2 * qkDim) * bytesPerElement + 2 * STAT_BYTES;
      return rowSums + keysOnce + rowVisits * perVisit;
    }

    @Override boolean usesMatrixUnit() { return true; }

    /**
     * Times each pass. With the system's measured kernel ({@code attention_kernels}; the
     * execution's {@code attention_kernel} or the system's default) a pass takes its matrix flops
     * over the kernel's measured rate at this call's sequence length, which already includes the
     * kernel's element-wise work and memory traffic. Without one, the matrix products run at the
     * 16-bit matrix unit's curve and the element-wise work on the vector unit, plus memory time by
     * the processing mode (the estimate before measured kernels were known).
     */
    @Override void prepare(Hardware hw) {
      super.prepare(hw);
      AttentionKernel kernel = hw.attentionKernel(kernelName);
      if (kernel != null) {
        kernelTime(Stage.FW, kernel.forwardSeconds(matrixFw, seq));
        kernelTime(Stage.AGRAD, kernel.backwardSeconds(matrixAgrad + matrixRecompute, seq));
        return;
      }
      passTime(hw, Stage.FW, matrixFw, vectorFw);
      passTime(hw, Stage.AGRAD, matrixAgrad + matrixRecompute, vectorAgrad + vectorRecompute);
    }

    /**
     * A measured kernel's pass takes {@code seconds}; its HBM seconds are at most that long (HBM
     * cannot stay busy after the kernel ends). The byte estimate counts every K/V re-read of a
     * query tile, most of which the L2 cache serves, so at long sequences its HBM seconds would
     * exceed the kernel's measured time; the bytes stay reported as estimated.
     */
    private void kernelTime(Stage s, double seconds) {
      int i = s.ordinal();
      flopsTime[i] = seconds;
      procTime[i] = seconds;
      memTime[i] = Math.min(memTime[i], seconds);
    }

    private void passTime(Hardware hw, Stage s, double matrixFlops, double vectorFlops) {
      int i = s.ordinal();
      flopsTime[i] = hw.sixteenBitMatrix().time(matrixFlops) + hw.vector().time(vectorFlops);
      procTime[i] = hw.processingTime(flopsTime[i], memTime[i]);
    }
  }

  public static final class LayerNorm extends Layer {
    /** @param paramsPerChannel 2 for LayerNorm (scale and bias), 1 for RMSNorm (scale) */
    LayerNorm(String name, double act, double hidden, int paramsPerChannel) {
      super(name, CommGroup.TP);
      fwFlops = LN_FW * act;
      agradFlops = LN_AGRAD * act;
      wgradFlops = LN_WGRAD * act;
      inputsSize = outputSize = activationSpace = activationGrads = act;
      weightSpace = weightGrads = paramsPerChannel * hidden;
      optimSpace = 2 * paramsPerChannel * hidden;
    }
  }

  /** Dropout keeps a one-byte mask per element, whatever the datatype. */
  public static final class DropOut extends Layer {
    private final boolean gradInDatatype;

    /**
     * @param gradInDatatype the activation gradient takes the datatype's bytes (corrected model);
     *     Calculon-MoE counts one byte per element, like the mask (spec quirk 27)
     */
    DropOut(String name, double act, boolean gradInDatatype) {
      super(name, CommGroup.TP);
      this.gradInDatatype = gradInDatatype;
      fwFlops = agradFlops = act;
      inputsSize = outputSize = activationSpace = activationGrads = act;
    }

    /** The stored mask: one byte per element. */
    @Override public double activation() { return activationSpace; }

    @Override public double activationGrad() {
      return gradInDatatype ? activationGrads * bytesPerElement : activationGrads;
    }

    @Override double fwMemAccessed() {
      return (inputsSize + outputSize) * bytesPerElement + activationSpace;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /**
   * The element-wise activation of a two-matrix MLP over {@code act} elements: GeLU, or squared
   * ReLU for {@code mlp: squared_relu} (flops per element {@link #GELU_FW}/{@link #GELU_AGRAD} or
   * {@link #SQUARED_RELU_FW}/{@link #SQUARED_RELU_AGRAD}). Both read their input and write their
   * output in each pass and keep their input for the backward pass; fused into the preceding
   * matmul they store nothing.
   */
  public static final class GeLU extends Layer {
    GeLU(String name, double act, boolean fused) {
      this(name, act, fused, false);
    }

    /** @param squaredRelu squared ReLU's flops instead of GeLU's (corrected model only) */
    GeLU(String name, double act, boolean fused, boolean squaredRelu) {
      super(name, CommGroup.TP);
      fwFlops = (squaredRelu ? SQUARED_RELU_FW : GELU_FW) * act;
      agradFlops = (squaredRelu ? SQUARED_RELU_AGRAD : GELU_AGRAD) * act;
      inputsSize = outputSize = act;
      activationSpace = activationGrads = fused ? 0 : act;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /** SwiGLU over {@code experts * tokens * width} elements: swish on the gate times the up projection. */
  public static final class SwiGLU extends Layer {
    SwiGLU(String name, double experts, double tokens, double width, boolean fused) {
      super(name, CommGroup.TP);
      double act = experts * tokens * width;
      fwFlops = GELU_FW * act + experts * tokens * width;
      agradFlops = GELU_AGRAD * act + 2 * experts * tokens * width;
      inputsSize = outputSize = act;
      activationSpace = activationGrads = fused ? 0 : experts * tokens * width * 2;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  public static class SoftMax extends Layer {
    SoftMax(String name, double act) {
      super(name, CommGroup.TP);
      fwFlops = SOFTMAX_FW * act;
      agradFlops = SOFTMAX_AGRAD * act;
      inputsSize = outputSize = activationSpace = activationGrads = act;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /**
   * The softmax cross-entropy of the logits a rank holds ({@code act} = tokens x vocabulary / TP
   * elements, Megatron's vocabulary-parallel loss): a softmax's flops (5 forward, 8 backward per
   * logit); its HBM traffic and the bytes it keeps for the backward pass are the kernel's
   * ({@link LossKernel}: one fused pass, PyTorch eager ops, or Megatron-Core's unfused fp32 ops).
   */
  public static final class CrossEntropy extends SoftMax {
    private final LossKernel kernel;

    CrossEntropy(String name, double act, LossKernel kernel) {
      super(name, act);
      this.kernel = kernel;
    }

    /** The kernel this loss runs as. */
    public LossKernel kernel() { return kernel; }

    @Override double fwMemAccessed() { return inputsSize * kernel.forwardBytes(bytesPerElement); }

    @Override double agradMemAccessed() { return inputsSize * kernel.backwardBytes(bytesPerElement); }

    /** The logits or, for the fp32 kernels, the fp32 softmax kept for the backward pass. */
    @Override public double activation() { return activationSpace * kernel.storedBytes(bytesPerElement); }
  }

  /**
   * Token embedding lookup, split by vocabulary over TP (Megatron's vocab-parallel embedding):
   * each rank gathers the rows it holds; the backward pass scatter-adds the gradients into its
   * {@code vocabPerRank x hidden} table. No matrix work.
   */
  public static final class Embedding extends Layer {
    Embedding(String name, double tokens, double vocabPerRank, double hidden) {
      super(name, CommGroup.TP);
      wgradFlops = tokens * hidden;
      inputsSize = tokens;
      outputSize = tokens * hidden;
      activationSpace = tokens;
      weightSpace = weightGrads = vocabPerRank * hidden;
      optimSpace = 2 * vocabPerRank * hidden;
    }

    /** Reads the token ids and writes the gathered rows (not the whole table). */
    @Override double fwMemAccessed() { return (inputsSize + outputSize) * bytesPerElement; }

    /** Reads the output gradient, adds into the touched rows. */
    @Override double wgradMemAccessed() { return 2 * outputSize * bytesPerElement; }
  }

  /** Element-wise binary op (residual add). */
  public static final class ElementWise extends Layer {
    ElementWise(String name, double a, double b) {
      super(name, CommGroup.TP);
      double act = Math.max(a, b);
      fwFlops = act;
      agradFlops = a + b;
      inputsSize = a + b;
      outputSize = act;
      activationSpace = a + b;
      activationGrads = act;
    }
  }

  /**
   * Rotary position embedding applied to the rank's queries and keys ({@code elements} of them per
   * microbatch): x cos + rotate(x) sin, two multiplies and an add per element in each pass (the
   * backward rotation is the same product with the sine negated; Su et al. 2021, arXiv 2104.09864,
   * Eq. 34). Each pass reads and writes the tensor once; the cos/sin tables are small and
   * shared. It keeps nothing for the backward pass.
   */
  public static final class Rotary extends Layer {
    /** Flops per rotated element: two multiplies and an add. */
    static final double FLOPS_PER_ELEMENT = 3;

    Rotary(String name, double elements) {
      super(name, CommGroup.TP);
      fwFlops = agradFlops = FLOPS_PER_ELEMENT * elements;
      inputsSize = outputSize = elements;
      activationGrads = elements;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /**
   * Keys and values copied to every query head ({@code repeat_kv} of torchtitan's Llama and of
   * Hugging Face's eager attention: an expand and a reshape that materialises the copies): the
   * forward pass reads the KV heads and writes the copies; the backward pass reads the copies'
   * gradients and writes their sums per KV head (one add per copied element). It stores nothing
   * itself; the attention kernel keeps the copies.
   */
  public static final class RepeatKv extends Layer {
    RepeatKv(String name, double kvElements, double repeatedElements) {
      super(name, CommGroup.TP);
      agradFlops = repeatedElements;
      inputsSize = kvElements;
      outputSize = repeatedElements;
      activationGrads = repeatedElements;
    }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /** A tensor used by several consumers: free forward, gradients summed backward. */
  public static final class Fork extends Layer {
    private final double users;

    Fork(String name, double act, double users) {
      super(name, CommGroup.TP);
      this.users = users;
      inputsSize = act;
      agradFlops = users * act;
      activationSpace = act;
    }

    @Override double fwMemAccessed() { return 0; }

    @Override double agradMemAccessed() { return sumBytes(activationSpace, users, bytesPerElement); }

    /**
     * Bytes of summing the input gradients of {@code users} consumers of one tensor of {@code
     * elements}: the partials read and the sum written, {@code elements x (users + 1) x bytes}.
     */
    static double sumBytes(double elements, double users, double bytesPerElement) {
      return elements * bytesPerElement * (users + 1);
    }
  }

  /** Router top-k selection. The reference sizes it by tokens, not tokens x experts (spec quirk 20); it stores nothing. */
  public static final class SelectTopK extends Layer {
    SelectTopK(String name, double tokens, long tokensLong, long experts, long k) {
      super(name, CommGroup.TP);
      fwFlops = agradFlops = k * tokens;
      inputsSize = tokens;
      outputSize = (double) (Math.floorDiv(tokensLong, experts) * k);
      activationSpace = activationGrads = tokens;
    }

    @Override public double activation() { return 0; }

    @Override public double activationGrad() { return 0; }

    @Override double fwMemAccessed() { return activationSpace * bytesPerElement; }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /** Router permutation of tokens to experts; stores nothing. */
  public static final class TensorTransform extends Layer {
    TensorTransform(String name, double act) {
      super(name, CommGroup.TP);
      fwFlops = agradFlops = act;
      inputsSize = outputSize = activationSpace = activationGrads = act;
    }

    @Override public double activation() { return 0; }

    @Override public double activationGrad() { return 0; }

    @Override double fwMemAccessed() { return activationSpace * bytesPerElement; }

    @Override double agradMemAccessed() { return fwMemAccessed(); }
  }

  /**
   * Tensor-parallel (or expert-slice) communication without overlap. Non-conjugate: identity
   * forward, all-reduce backward (or all-gather/reduce-scatter when split). Conjugate: the
   * reverse. Its reduction flops run on the vector unit and are counted as communication time.
   */
  public static final class TpComm extends Layer {
    private final Network net;
    private final int peers;
    private final TpCommType type;
    private final boolean conjugate;
    private final double commSize;

    TpComm(String name, CommGroup g, double act, Network net, int peers,
           TpCommType type, boolean conjugate) {
      super(name, g);
      this.net = net;
      this.peers = peers;
      this.type = type;
      this.conjugate = conjugate;
      this.commSize = act;
      if (peers != 1) {
        double reduce = act * (peers - 1) / peers;
        fwFlops = conjugate ? reduce : 0;
        agradFlops = conjugate ? 0 : reduce;
        inputsSize = outputSize = act;
      }
      activationSpace = inputsSize;
      activationGrads = outputSize;
    }

    @Override public double activation() {
      if (type == TpCommType.RS_AG) {
        return activationSpace * bytesPerElement / peers;
      }
      return conjugate ? activationSpace * bytesPerElement : 0;
    }

    @Override public double activationGrad() {
      if (type == TpCommType.RS_AG) {
        return activationSpace * bytesPerElement / peers;
      }
      return conjugate ? 0 : activationGrads * bytesPerElement;
    }

    @Override double fwMemAccessed() {
      return type != TpCommType.RS_AG && !conjugate ? 0 : super.fwMemAccessed();
    }

    @Override double agradMemAccessed() {
      return type != TpCommType.RS_AG && conjugate ? 0 : super.agradMemAccessed();
    }

    /**
     * The all-gather of a column-parallel input moves float8 (torchao's {@code Float8ColwiseParallel}
     * casts the sequence shard, then gathers it); the reduce-scatters stay 16-bit.
     */
    boolean float8Gather;

    @Override public double commBytes(Stage s, boolean baseBlock) {
      if (peers == 1) {
        return 0;
      }
      boolean split = type.split(baseBlock);
      if (!split && (conjugate && s == Stage.AGRAD || !conjugate && s == Stage.FW)) {
        return 0;
      }
      // the forward collective and its re-run are all-gathers when not conjugate
      double gathered = float8Gather && !conjugate ? FP8_BYTES : bytesPerElement;
      if (s == Stage.FW || s == Stage.AGRAD) {
        return commSize * (s == Stage.FW ? gathered : bytesPerElement);
      }
      if (s == Stage.WGRAD && needsRecomm && (split || conjugate)) {
        return commSize * gathered;
      }
      return 0;
    }

    /**
     * Whether the collective's reduction arithmetic is reported as this layer's flops (Calculon-MoE).
     * In the corrected model it belongs to the collective: its time stays in the communication
     * time, but it is no model flop, so a matmul has the same flops with and without TP overlap
     * (case kv-heads-under-tp-overlap) and MFU does not count NCCL's additions.
     */
    boolean reductionInFlops = true;

    @Override public double flops(Stage s) {
      return reductionInFlops || s == Stage.OPTIM ? super.flops(s) : 0;
    }

    /** Communication time by [stage][0 = base block, 1 = edge block]. */
    private final double[][] netTimes = new double[Stage.values().length][2];

    @Override void prepare(Hardware hw) {
      super.prepare(hw);
      for (Stage s : Stage.values()) {
        // the reduction arithmetic of the collective is counted inside its communication time
        int i = s.ordinal();
        double reduceTime = reductionInFlops ? procTime[i]
            : hw.processingTime(hw.vector().time(super.flops(s)), memTime[i]);
        netTimes[s.ordinal()][0] = computeNetTime(s, true, reduceTime);
        netTimes[s.ordinal()][1] = computeNetTime(s, false, reduceTime);
      }
      java.util.Arrays.fill(procTime, 0);
    }

    private double computeNetTime(Stage s, boolean baseBlock, double reduceTime) {
      if (peers == 1) {
        return 0;
      }
      boolean split = type.split(baseBlock);
      double bytes = commBytes(s, baseBlock);
      Network.Op fwOp, bwOp;
      if (split) {
        fwOp = conjugate ? Network.Op.REDUCE_SCATTER : Network.Op.ALL_GATHER;
        bwOp = conjugate ? Network.Op.ALL_GATHER : Network.Op.REDUCE_SCATTER;
      } else {
        fwOp = conjugate ? Network.Op.ALL_REDUCE : null;
        bwOp = conjugate ? null : Network.Op.ALL_REDUCE;
      }
      switch (s) {
        case FW: return (fwOp == null ? 0 : net.time(fwOp, bytes, peers)) + reduceTime;
        case AGRAD: return (bwOp == null ? 0 : net.time(bwOp, bytes, peers)) + reduceTime;
        case WGRAD: return needsRecomm ? (fwOp == null ? 0 : net.time(fwOp, bytes, peers)) + reduceTime : 0;
        default: return 0;
      }
    }

    @Override public double netTime(Stage s, boolean baseBlock) {
      return netTimes[s.ordinal()][baseBlock ? 0 : 1];
    }

    /** Seconds of matmuls pass {@code s}'s collective runs beside ({@link TpOverlap#BACKWARD}). */
    private final double[] hiddenSeconds = new double[Stage.values().length];

    /** The collective of pass {@code s} runs while {@code seconds} of matmuls compute. */
    void hideBehind(Stage s, double seconds) { hiddenSeconds[s.ordinal()] = seconds; }

    /** Whether this is the reduction after a row-parallel matmul (else the input of a column-parallel one). */
    boolean conjugate() { return conjugate; }

    @Override public double exposedNetTime(Stage s, boolean baseBlock) {
      return Math.max(0, netTime(s, baseBlock) - hiddenSeconds[s.ordinal()]);
    }
  }

  /**
   * Expert-parallel all-to-all: (n-1) pairwise transfers of one chunk each on the tier's
   * all_to_all op; never overlapped.
   */
  public static final class ExpertAllToAll extends Layer {
    private final Network net;
    private final int peers;
    private final double commSize;

    ExpertAllToAll(String name, double act, Network net, int peers) {
      super(name, CommGroup.EP);
      this.net = net;
      this.peers = peers;
      if (peers != 1) {
        inputsSize = outputSize = act;
        commSize = act;
      } else {
        commSize = 0;
      }
      activationSpace = inputsSize;
      activationGrads = outputSize;
    }

    @Override public double activationGrad() { return activationSpace * bytesPerElement; }

    /** Sent in a pass; a recomputed MoE layer (module {@code moe}) sends its forward again, counted on the weight-gradient pass as every re-communication is. */
    @Override public double commBytes(Stage s, boolean baseBlock) {
      if (peers == 1) {
        return 0;
      }
      return s == Stage.FW || s == Stage.AGRAD || (s == Stage.WGRAD && needsRecomm) ? commSize * bytesPerElement : 0;
    }

    private final double[] netTimes = new double[Stage.values().length];
    /** Seconds per stage on tier 0 and on the EP tier (the corrected model's {@link ExpertDispatch}). */
    private final double[][] tierTimes = new double[Stage.values().length][2];
    private ExpertDispatch route;
    private boolean dispatch;

    /**
     * Costs this exchange with {@code route} (the corrected model) instead of the reference's
     * pairwise formula on the EP tier; {@code dispatch}: tokens to experts, else the combine.
     */
    void route(ExpertDispatch route, boolean dispatch) {
      this.route = route;
      this.dispatch = dispatch;
    }

    @Override void prepare(Hardware hw) {
      super.prepare(hw);
      java.util.Arrays.fill(procTime, 0);
      for (Stage s : Stage.values()) {
        if (peers != 1 && (s == Stage.FW || s == Stage.AGRAD || (s == Stage.WGRAD && needsRecomm))) {
          if (route != null) {
            double[] t = tierTimes[s.ordinal()];
            // a recomputed exchange (WGRAD slot) re-runs the forward one, in its datatype
            route.seconds(commBytes(s, true), bytesPerElement, dispatch, s != Stage.AGRAD, t);
            netTimes[s.ordinal()] = Math.max(t[0], t[1]);
          } else {
            double chunk = Math.floor(commBytes(s, true) / peers);
            netTimes[s.ordinal()] = (peers - 1) * net.time(Network.Op.ALL_TO_ALL, chunk, 2);
            tierTimes[s.ordinal()][net.index() == 0 ? 0 : 1] = netTimes[s.ordinal()];
          }
        }
      }
    }

    /** Link seconds of pass {@code s} on tier 0 ({@code upper} false) or on the EP tier above it. */
    public double tierSeconds(Stage s, boolean upper) { return tierTimes[s.ordinal()][upper ? 1 : 0]; }

    @Override public double netTime(Stage s, boolean baseBlock) { return netTimes[s.ordinal()]; }

    @Override public double exposedNetTime(Stage s, boolean baseBlock) { return netTimes[s.ordinal()]; }
  }

  /**
   * A matmul fused with its tensor-parallel collective and overlapped tile by tile (ring or pipe).
   * Exposure is computed by {@link #processingTime} and, as in the reference, remembered: the
   * exposed time a later query returns is that of the last pass processed (spec quirk 23).
   */
  public static final class LinearOverlapped extends Layer {
    /** Chunks of TE's {@code pipeline} overlap ({@code num_splits = 4}, same source). */
    static final int USERBUFFERS_PIPELINE_SPLITS = 4;
    private final TpCommType type;
    private final int tiles;
    private final Network net;
    private final int peers;
    private final boolean conjugate;
    private final TpOverlap overlap;
    private final boolean corrected;
    private double lastExposed;
    /** The input is all-gathered in float8 (see {@link TpComm}'s field of the same name). */
    boolean float8Gather;
    /**
     * Async TP only: the shares of this layer's output width that run as separate matmuls over
     * the same gathered input. PyTorch's {@code fused_all_gather_matmul} takes a list of weights
     * and multiplies every gathered shard by each of them in an mm of its own
     * ({@code torch/distributed/_symmetric_memory/__init__.py}, {@code _fused_all_gather_matmul_impl}:
     * the shard consumer loops {@code for B in Bs}); torchtitan's attention has three, {@code wq},
     * {@code wk} and {@code wv} (set by {@link BlockBuilder}). {@code {1}}: one matmul.
     */
    private double[] asyncProductShares = ONE_PRODUCT;
    private static final double[] ONE_PRODUCT = {1};

    /**
     * @param corrected the corrected model: with pipe overlap the first tile's communication is
     *     counted as exposed communication only (Calculon-MoE also adds it to compute time, quirk
     *     22), and each pass reports its own exposed communication (Calculon-MoE reports the last
     *     processed pass's for every pass, quirk 23)
     */
    LinearOverlapped(String name, long m, long n, long k, TpCommType type, int tiles,
                     Network net, int peers, boolean conjugate, TpOverlap overlap, boolean corrected) {
      super(name, CommGroup.TP);
      this.corrected = corrected;
      this.type = type;
      this.tiles = tiles;
      this.net = net;
      this.peers = peers;
      this.conjugate = conjugate;
      this.overlap = overlap;
      long actSpace, actGrad;
      if (type == TpCommType.RS_AG) {
        if (!conjugate) {
          k = k / peers;
          actSpace = m * n / tiles;
          actGrad = m * k;
        } else {
          n = n / peers;
          actSpace = m * n;
          actGrad = m * k / tiles + m * k / tiles;
        }
      } else {
        if (!conjugate) {
          k = k / peers;
          actSpace = m * n;
          actGrad = 0;
        } else {
          n = n / peers;
          actSpace = 0;
          actGrad = m * k + m * k; // gradient plus its all-reduce buffer
        }
      }
      fwFlops = agradFlops = wgradFlops = 2.0 * m * n * k;
      inputsSize = (double) (m * n);
      outputSize = (double) (m * k);
      weightSpace = weightGrads = (double) (n * k);
      activationSpace = actSpace;
      activationGrads = actGrad;
      optimSpace = 2.0 * n * k;
    }

    @Override boolean usesMatrixUnit() { return true; }

    @Override public double commBytes(Stage s, boolean baseBlock) {
      if (peers == 1) {
        return 0;
      }
      boolean split = type.split(baseBlock);
      double ag = inputsSize * bytesPerElement;
      // a float8 all-gather of the input (TpComm#float8Gather); the input-gradient reduce-scatter stays 16-bit
      double agFw = float8Gather ? inputsSize * FP8_BYTES : ag;
      double arRs = outputSize * bytesPerElement;
      switch (s) {
        case FW: return conjugate ? arRs : (split ? agFw : 0);
        case AGRAD: return !conjugate ? ag : (split ? arRs : 0);
        case WGRAD: return needsRecomm ? commBytes(Stage.FW, baseBlock) : 0;
        default: return 0;
      }
    }

    @Override public double commTile(Stage s, boolean baseBlock) {
      return commBytes(s, baseBlock) / tiles;
    }

    private final double[][] netTimes = new double[Stage.values().length][2];
    private final double[] exposure = new double[Stage.values().length];

    @Override void prepare(Hardware hw) {
      super.prepare(hw);
      if (overlap == TpOverlap.ASYNC_TP) {
        // async TP runs a decomposed pass as TP matmuls of 1/TP of the rows each
        // (_pipelined_all_gather_and_consume, _pipelined_produce_and_all2all: one mm per shard),
        // each at its own size's efficiency: the forward pass, and the input-gradient pass of a
        // row-parallel layer (its gradient's all-gather feeds it); not the weight gradient
        decomposedFlopsTime(Stage.FW, hw);
        if (conjugate) {
          decomposedFlopsTime(Stage.AGRAD, hw);
        }
      }
      for (Stage s : Stage.values()) {
        int i = s.ordinal();
        netTimes[i][0] = computeNetTime(s, true, hw);
        netTimes[i][1] = computeNetTime(s, false, hw);
      }
      // after every pass's network time: userbuffers' bulk overlap pairs the two backward passes
      for (Stage s : Stage.values()) {
        overlap(s, hw);
      }
      if (overlap == TpOverlap.ASYNC_TP && peers > 1) {
        for (Stage s : Stage.values()) {
          int i = s.ordinal();
          double copies = symmetricMemorySeconds(s, hw);
          exposure[i] += copies;
          for (int b = 0; b < 2; b++) {
            if (netTimes[i][b] > 0) {
              netTimes[i][b] += copies;
            }
          }
        }
      }
    }

    /**
     * Exposed barriers of one fused all-gather: {@code _pipelined_all_gather_and_consume} waits on
     * {@code symm_mem.barrier} before the local copy (channel 0), after it (channel 1) and after the
     * last shard (channel 0), each on the compute stream with nothing beside it.
     */
    static final int ASYNC_GATHER_BARRIERS = 3;
    /**
     * Exposed barriers of one fused reduce-scatter: {@code _pipelined_produce_and_all2all}'s first and
     * last {@code barrier(channel=0)}; the two per step inside the loop wait on one stream while
     * the other stream's chunk matmul runs, and are not charged.
     */
    static final int ASYNC_SCATTER_BARRIERS = 2;

    /**
     * Async TP: seconds pass {@code s} spends on PyTorch's symmetric-memory copies and barriers,
     * charged as exposed TP communication (and in its link time), as {@link TpComm} charges an
     * unfused collective's HBM pass in its communication time. From {@code
     * torch/distributed/_symmetric_memory/__init__.py} (mid-2025, unchanged in these respects in
     * 2024-2025 versions), each copy a pass of its shard read and written ({@code mem1}):
     * <ul>
     *   <li>a fused all-gather ({@code _pipelined_all_gather_and_consume}; the forward of a
     *   column-parallel layer, the backward gather of a row-parallel layer's output gradient,
     *   the re-gather fused with recomputed matmuls): {@code copy_shard(dst=local_p2p_bufs)} of
     *   the own shard into the symmetric buffer before the first shard's matmul, TP-1 pulls of
     *   the peers' shards ({@code copy_shard(dst=shards[remote_rank], src=remote_p2p_bufs)}: a
     *   shard written here while a peer reads one here), and, when the gathered tensor is
     *   returned ({@code ag_out_needed}: always for {@code fused_all_gather_scaled_matmul};
     *   {@code return_A} where the gathered tensor has another user, micro_pipeline_tp.py
     *   {@code fuse_all_gather_matmul}: the weight gradient when the backward does not gather
     *   again, and every backward gather), the own shard copied into the gathered output; plus
     *   {@link #ASYNC_GATHER_BARRIERS} barriers at the tier's latency;</li>
     *   <li>a fused reduce-scatter ({@code _pipelined_produce_and_all2all}): TP-1 pulls of the
     *   peers' partial chunks into {@code stacked_partials} ({@code out_chunks[remote_rank].copy_})
     *   plus {@link #ASYNC_SCATTER_BARRIERS} barriers (the reduction of the stacked partials is
     *   in {@link #asyncExtraBytes});</li>
     *   <li>a re-gather left unfused (nothing recomputed) is NCCL's, charged as {@link TpComm}
     *   charges one (no HBM pass), so nothing here.</li>
     * </ul>
     * Nothing for the other overlap modes, TP 1, or collectives that are all-reduces.
     */
    double symmetricMemorySeconds(Stage s, Hardware hw) {
      if (overlap != TpOverlap.ASYNC_TP || peers == 1 || !type.split(true)) {
        return 0;
      }
      double latency = net.latencySeconds();
      switch (s) {
        case FW:
          if (conjugate) {
            double chunk = outputSize * bytesPerElement / peers;
            return (peers - 1) * hw.mem1().time(2 * chunk) + ASYNC_SCATTER_BARRIERS * latency;
          }
          // the scaled (float8) op always returns the gathered input; the plain one when the
          // weight gradient keeps it (no re-gather in the backward)
          return gatherCopies(commBytes(Stage.FW, true) / peers, float8Gather || !needsRecomm, hw);
        case AGRAD:
          // the output gradient's gather feeds the input-gradient matmul and is kept for dW
          return conjugate ? gatherCopies(commBytes(Stage.AGRAD, true) / peers, true, hw) : 0;
        case WGRAD:
          // the re-gather is fused only with recomputed forward matmuls (see overlap)
          return !conjugate && needsRecomm && needsRecompute
              ? gatherCopies(commBytes(Stage.WGRAD, true) / peers, true, hw) : 0;
        default:
          return 0;
      }
    }

    /** One fused all-gather's copies of a {@code shard}-byte shard and its barriers (symmetricMemorySeconds). */
    private double gatherCopies(double shard, boolean returnsGathered, Hardware hw) {
      int copies = peers + (returnsGathered ? 1 : 0);
      return copies * hw.mem1().time(2 * shard) + ASYNC_GATHER_BARRIERS * net.latencySeconds();
    }

    private void decomposedFlopsTime(Stage s, Hardware hw) {
      int i = s.ordinal();
      // the forward pass of a column-parallel layer runs one mm per weight on each shard
      double[] shares = s == Stage.FW && !conjugate ? asyncProductShares : ONE_PRODUCT;
      double t = 0;
      for (double share : shares) {
        t += tiles * hw.matrix().time(flops(s) * share / tiles);
      }
      flopsTime[i] = t;
    }

    /**
     * Async TP: the layer's output width runs as separate matmuls of these shares (summing to 1)
     * over each gathered shard ({@link #asyncProductShares}); ignored by the other overlap modes.
     */
    void asyncProducts(double... shares) {
      asyncProductShares = shares.clone();
    }

    /** Separate matmuls beyond the first that read the gathered input again (async TP). */
    private int extraAsyncProducts() {
      return overlap == TpOverlap.ASYNC_TP && !conjugate ? asyncProductShares.length - 1 : 0;
    }

    /**
     * Async TP's traffic beyond the one matmul the other modes price. Forward and weight gradient:
     * each extra weight's mm reads the gathered input again (as the unfused path's separate
     * Q, K and V layers do). Input gradient: the products' partial input gradients are summed
     * before the reduce-scatter, priced as the unfused path's {@link Fork} prices it (the
     * partials read, the sum written). A row-parallel layer's forward: {@code
     * fused_matmul_reduce_scatter} pulls every rank's partial chunk into a stacked buffer and
     * reduces it in one kernel after the last chunk ({@code _fused_matmul_reduce_scatter_impl},
     * {@code reduce_fn} over {@code stacked_partials}): the full partial output read, the shard
     * written. Bytes, in the activation datatype.
     */
    private double asyncExtraBytes(Stage s) {
      if (overlap != TpOverlap.ASYNC_TP || peers == 1) {
        return 0;
      }
      int extra = extraAsyncProducts();
      switch (s) {
        case FW:
          return conjugate ? (outputSize + outputSize / peers) * bytesPerElement : extra * inputsSize * bytesPerElement;
        case AGRAD:
          return extra == 0 ? 0 : Fork.sumBytes(inputsSize, extra + 1, bytesPerElement);
        case WGRAD:
          return extra * inputsSize * bytesPerElement;
        default:
          return 0;
      }
    }

    @Override double fwMemAccessed() { return super.fwMemAccessed() + asyncExtraBytes(Stage.FW); }

    @Override double agradMemAccessed() { return super.agradMemAccessed() + asyncExtraBytes(Stage.AGRAD); }

    @Override double wgradMemAccessed() { return super.wgradMemAccessed() + asyncExtraBytes(Stage.WGRAD); }

    private double computeNetTime(Stage s, boolean baseBlock, Hardware hw) {
      if (peers == 1) {
        return 0;
      }
      boolean split = type.split(baseBlock);
      Network.Op fwOp, bwOp;
      double fwFlopTime = 0, bwFlopTime = 0;
      double reduceFlops = commBytes(s, baseBlock) / bytesPerElement * (peers - 1) / peers;
      if (conjugate) {
        fwOp = split ? Network.Op.REDUCE_SCATTER : Network.Op.ALL_REDUCE;
        bwOp = split ? Network.Op.ALL_GATHER : null;
        fwFlopTime = hw.vector().time(reduceFlops);
      } else {
        fwOp = split ? Network.Op.ALL_GATHER : null;
        bwOp = split ? Network.Op.REDUCE_SCATTER : Network.Op.ALL_REDUCE;
        bwFlopTime = hw.vector().time(reduceFlops);
      }
      double bytes = commBytes(s, baseBlock);
      if (overlap == TpOverlap.ASYNC_TP && !conjugate && split) {
        // async TP leaves this reduce-scatter to NCCL (micro_pipeline_tp.py
        // fuse_matmul_reduce_scatter needs one producer matmul; the input gradient is a sum): it
        // costs what the unfused path's TpComm charges an NCCL collective, its reduction with
        // the HBM pass of its input and output
        bwFlopTime = hw.processingTime(bwFlopTime, hw.mem1().time(2 * commBytes(Stage.AGRAD, baseBlock)));
      }
      switch (s) {
        case FW: return fwOp == null ? 0 : net.time(fwOp, bytes, peers) + fwFlopTime;
        case AGRAD: return bwOp == null ? 0 : net.time(bwOp, bytes, peers) + bwFlopTime;
        case WGRAD: return needsRecomm && fwOp != null ? net.time(fwOp, bytes, peers) : 0;
        default: return 0;
      }
    }

    /** Tiled overlap of compute with the base block's communication (reference layers.py:583-627). */
    private void overlap(Stage s, Hardware hw) {
      int i = s.ordinal();
      double flopTime = flopsTime[i];
      double flopTimeSlowed = flopTime / (1 - net.processorUsage());
      double mem = memTime[i];
      double netTime = netTimes[i][0];
      double computeTime = hw.processingTime(flopTime, mem);
      double time, exposed;
      boolean bulk = overlap == TpOverlap.USERBUFFERS && !conjugate && (s == Stage.AGRAD || s == Stage.WGRAD);
      if (bulk) {
        double[] te = userbuffersBulk(s, hw);
        time = te[0];
        exposed = te[1];
      } else if (netTime == 0) {
        time = computeTime;
        exposed = 0;
      } else if (overlap == TpOverlap.USERBUFFERS && conjugate && s == Stage.FW) {
        double[] te = userbuffersPipeline(hw, netTime);
        time = te[0];
        exposed = te[1];
      } else if (overlap == TpOverlap.ASYNC_TP && s == Stage.AGRAD && !conjugate) {
        // async TP leaves a column-parallel layer's input-gradient reduce-scatter whole (TpOverlap)
        time = computeTime;
        exposed = netTime;
      } else if (overlap == TpOverlap.ASYNC_TP && s == Stage.WGRAD && !conjugate) {
        // the backward re-gather of the input is fused only with the matmuls that take the
        // gathered tensor as their left operand (torch/_inductor/fx_passes/micro_pipeline_tp.py,
        // _find_consumer_matmuls): the forward matmuls recompute redoes (all of them under full
        // recompute; wk, or w3, under op SAC), never the weight gradient's X^T dY; with nothing
        // recomputed it is a plain NCCL all-gather, exposed whole
        time = computeTime;
        double hidingTile = needsRecompute ? recomputedShare * flopsTime[Stage.FW.ordinal()] / tiles : 0;
        double netTile = netTime / tiles;
        exposed = hidingTile == 0 ? netTime : (tiles - 1) * Math.max(0, netTile - hidingTile);
      } else {
        double computeTimeSlowed = hw.processingTime(flopTimeSlowed, mem);
        double flopTileSlowed = flopTimeSlowed / tiles;
        double netTile = netTime / tiles;
        double computeTile = computeTime / tiles;
        double computeTileSlowed = computeTimeSlowed / tiles;
        double inflection = netTile - flopTileSlowed;
        if (inflection > 0) {
          time = computeTile + (tiles - 1) * computeTileSlowed;
          exposed = (tiles - 1) * inflection;
        } else {
          time = computeTile + (tiles - 1) * computeTile + (tiles - 1) * netTile * net.processorUsage();
          exposed = 0;
        }
        if (overlap == TpOverlap.PIPE) {
          // the first tile's communication cannot overlap; Calculon-MoE counts it in both (quirk 22)
          exposed += netTile;
          if (!corrected) {
            time += netTile;
          }
        }
      }
      procTime[i] = time;
      exposure[i] = exposed;
    }

    /**
     * The share of the GPU's SMs a matmul keeps beside a pipelined or bulk userbuffers transfer:
     * {@code 1 - }{@link calculon.config.TpOverlap#USERBUFFERS_COMM_SMS}{@code  / }{@link
     * Hardware#streamingMultiprocessors()}.
     */
    private static double userbuffersMargin(Hardware hw) {
      return 1 - (double) calculon.config.TpOverlap.USERBUFFERS_COMM_SMS / hw.streamingMultiprocessors();
    }

    /**
     * Transformer Engine's {@code pipeline} userbuffers overlap of a row-parallel layer's forward
     * reduce-scatter ({@link TpOverlap#USERBUFFERS}), as {time, exposed} seconds: the matmul in
     * {@link #USERBUFFERS_PIPELINE_SPLITS} chunks, launched without the SMs the communication
     * kernels take ({@code set_sm_margin}: {@code 1 / }{@link #userbuffersMargin} as long), each
     * chunk's reduce-scatter beside the next chunk's matmul, the last one exposed.
     */
    private double[] userbuffersPipeline(Hardware hw, double netTime) {
      int i = Stage.FW.ordinal();
      int splits = USERBUFFERS_PIPELINE_SPLITS;
      double chunk = hw.processingTime(flopsTime[i] / userbuffersMargin(hw), memTime[i]) / splits;
      double netChunk = netTime / splits;
      return new double[] {splits * chunk, netChunk + (splits - 1) * Math.max(0, netChunk - chunk)};
    }

    /**
     * Transformer Engine's {@code bulk} userbuffers overlap of a column-parallel layer's backward
     * ({@link TpOverlap#USERBUFFERS}), as {time, exposed} seconds of pass {@code s} (input or weight
     * gradient): the input gradient's reduce-scatter (the input-gradient pass's communication) runs
     * beside the weight-gradient matmul, the input's re-all-gather (the weight-gradient pass's)
     * beside the input-gradient matmul, each exposed beyond it; a matmul with a transfer beside it
     * is launched without the communication's SMs.
     */
    private double[] userbuffersBulk(Stage s, Hardware hw) {
      Stage other = s == Stage.AGRAD ? Stage.WGRAD : Stage.AGRAD;
      double own = netTimes[s.ordinal()][0], beside = netTimes[other.ordinal()][0];
      double margin = userbuffersMargin(hw);
      double flops = flopsTime[s.ordinal()] / (beside > 0 ? margin : 1);
      double window = flopsTime[other.ordinal()] / (own > 0 ? margin : 1);
      return new double[] {hw.processingTime(flops, memTime[s.ordinal()]), Math.max(0, own - window)};
    }

    @Override public double netTime(Stage s, boolean baseBlock) {
      return netTimes[s.ordinal()][baseBlock ? 0 : 1];
    }

    /** Processing a pass also leaves its exposure as the layer's current one (reference state, quirk 23). */
    @Override public double processingTime(Stage s) {
      lastExposed = exposure[s.ordinal()];
      return procTime[s.ordinal()];
    }

    /**
     * The exposed communication of pass {@code s}. Calculon-MoE returns the last processed pass's,
     * whatever pass is asked for (reference layers.py:629-632, quirk 23): a backward re-gather
     * (stage WGRAD) reported the forward pass's exposure.
     */
    @Override public double exposedNetTime(Stage s, boolean baseBlock) {
      return corrected ? exposure[s.ordinal()] : lastExposed;
    }

    @Override public double requiredBandwidth(Stage s, boolean baseBlock) {
      double tile = commTile(s, baseBlock);
      double flopTimeSlowed = flopsTime[s.ordinal()] / (1 - net.processorUsage());
      return tile / (flopTimeSlowed / tiles);
    }
  }
}
