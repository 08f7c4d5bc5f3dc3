package calculon.model;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.AttentionType;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.Fp8Recipe;
import calculon.config.LossKernel;
import calculon.config.Recompute;
import calculon.config.RecomputeModule;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.hardware.Hardware;
import calculon.hardware.Network;
import calculon.model.Layers.BatchMatMul;
import calculon.model.Layers.DropOut;
import calculon.model.Layers.ElementWise;
import calculon.model.Layers.ExpertAllToAll;
import calculon.model.Layers.FlashAttention;
import calculon.model.Layers.Fork;
import calculon.model.Layers.GeLU;
import calculon.model.Layers.LayerNorm;
import calculon.model.Layers.Linear;
import calculon.model.Layers.LinearOverlapped;
import calculon.model.Layers.SelectTopK;
import calculon.model.Layers.SoftMax;
import calculon.model.Layers.SwiGLU;
import calculon.model.Layers.TensorTransform;
import calculon.model.Layers.TpComm;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds the layers of one transformer block for one microbatch on one processor: attention and
 * MLP for a dense model; attention, router and expert MLP for MoE. A dense model is the MoE
 * structure's attention with a plain MLP; the attention builder is shared.
 *
 * <p>Dimension arithmetic is integer (floor division) exactly where the reference uses Python's
 * {@code //}; the layer constructors then work in doubles.
 */
public final class BlockBuilder {
  private final Application app;
  private final Execution exe;
  private final Hardware hw;
  private final List<Layer> layers = new ArrayList<>(40);

  // shared dimensions
  private final long tp;
  private final long batchSeq;        // T = microbatch * sequence
  private final long activation;      // T * H
  private final long seqParActivation; // (T // TP) * H
  private final boolean seqPar;
  private final TpCommType commType;
  private final Network tpNet;
  private final boolean recomputeFull;
  /** Core attention recomputed: {@code activation_recompute: attn_only}, or module {@code core_attn}. */
  private final boolean recomputeAttn;
  /** Selective recompute of Megatron-Core modules (corrected model only; empty in calculon-moe). */
  private final Set<RecomputeModule> modules;
  /** A fused attention kernel (corrected model; FlashAttention-2). */
  private final boolean flash;
  /** The name of the logits' softmax cross-entropy layer. */
  static final String CROSS_ENTROPY = "Head_CrossEntropy";
  /** TorchTitan's per-op selective checkpointing ({@link RecomputeModule#OP_SAC}). */
  private final boolean opSac;
  /**
   * The sequence-parallel all-gather feeding a column-parallel projection runs again in the
   * backward pass instead of its output being stored ({@link #redoesSequenceParallelGather}).
   */
  private final boolean agRedo;
  /** A float8 run's Transformer Engine recipe ({@link Layer#teRecipe}); null for torchao's and 16-bit runs. */
  private final Fp8Recipe teRecipe;
  /** A float8 run of the corrected model ({@link #gathersInFloat8}). */
  private final boolean float8Run;
  /** Dropout on the attention probabilities and on the residual branches (always in calculon-moe). */
  private final boolean attentionDropout, hiddenDropout;
  private final ModelVersion version;
  private final Architecture arch;
  private final ExpertShape experts;

  private BlockBuilder(Application app, Execution exe, Hardware hw, ModelVersion version) {
    this.version = version;
    this.app = app;
    this.exe = exe;
    this.hw = hw;
    this.tp = exe.tensorPar();
    // context parallelism: every token-wise layer runs on this rank's seq_size / CP tokens
    this.batchSeq = (long) exe.microbatchSize() * app.seqSize() / exe.contextPar();
    this.activation = batchSeq * app.hidden();
    this.seqParActivation = (batchSeq / tp) * app.hidden();
    this.seqPar = exe.sequenceParallel();
    this.commType = exe.effectiveTpCommType();
    this.tpNet = hw.network(exe.tensorParNet());
    this.recomputeFull = exe.activationRecompute() == Recompute.FULL;
    this.arch = app.architecture();
    this.modules = version.corrected() ? exe.layerOptions().recomputeModules() : Set.of();
    this.recomputeAttn = exe.activationRecompute() != Recompute.NONE || modules.contains(RecomputeModule.CORE_ATTN);
    this.flash = usesFlashAttention(exe, version);
    this.opSac = modules.contains(RecomputeModule.OP_SAC);
    this.agRedo = redoesSequenceParallelGather(exe, version);
    Fp8Recipe recipe = exe.precision().fp8RecipeOrDefault();
    boolean float8 = version.corrected() && exe.datatype() == Datatype.FLOAT8;
    // torchao's tensorwise casts are not Transformer Engine's (Layer#castBytes)
    this.teRecipe = float8 && recipe != Fp8Recipe.TENSORWISE ? recipe : null;
    this.float8Run = float8;
    this.attentionDropout = !version.corrected() || arch.dropout().attention() > 0;
    this.hiddenDropout = !version.corrected() || arch.dropout().hidden() > 0;
    this.experts = ExpertShape.of(app, exe);
  }

  /**
   * Whether the attention runs as one fused kernel. The execution key {@code flash_attention}
   * decides; absent, the corrected model turns it on (Megatron-Core, NeMo and TorchTitan all run a
   * fused attention kernel by default: Transformer Engine's fused/flash backends, PyTorch SDPA),
   * and calculon-moe never does (the fork materialises the scores; parity).
   */
  public static boolean usesFlashAttention(Execution exe, ModelVersion version) {
    Boolean said = exe.layerOptions().flashAttention();
    return version.corrected() && (said == null || said);
  }

  /**
   * Whether a block gathers the sequence-parallel input of its column-parallel projections (QKV,
   * MLP up, shared experts' up) again in the backward pass and stores only its 1/TP shard: when
   * the execution says {@code seq_par_ag_redo}, and in the corrected model always with the two
   * Megatron-Core overlap modes under sequence parallelism (TP &gt; 1, {@code rs_ag}, not full
   * recompute, which redoes the gather anyway), because neither can do otherwise:
   * {@code backward} is {@code LinearWithGradAccumulationAndAsyncCommunication}
   * ({@code megatron/core/tensor_parallel/layers.py}), whose forward saves {@code input}, the
   * shard, with {@code ctx.save_for_backward(input, weight)} and whose backward all-gathers it
   * again ({@code async_op=True}, beside {@code grad_output.matmul(weight)}); {@code userbuffers}
   * is Transformer Engine's {@code LayerNormLinear}/{@code Linear}, which save the local
   * {@code ln_out} and re-gather it in backward (the {@code bulk} overlap of that gather with the
   * input-gradient GEMM, TE's default {@code qkv_dgrad}/{@code fc1_dgrad}). Without this a file
   * that left {@code seq_par_ag_redo} false under these modes stored the whole gathered input
   * ({@code backward}: 8.5 GiB more for Llama 3 70B at TP 4, 2 x 4096 tokens) and never paid the
   * re-gather ({@code userbuffers}). The other modes keep the flag's meaning: {@code none},
   * {@code ring} and {@code pipe} are Calculon's, and PyTorch async TP saves what its partitioner
   * chooses.
   */
  public static boolean redoesSequenceParallelGather(Execution exe, ModelVersion version) {
    if (exe.seqParAgRedo()) {
      return true;
    }
    TpOverlap overlap = exe.tensorParOverlap();
    return version.corrected() && exe.sequenceParallel() && exe.tensorPar() > 1
        && exe.activationRecompute() != Recompute.FULL
        && overlap.alwaysRegathersSequenceParallelInput();
  }

  /**
   * The MLP each expert (and shared expert) of a MoE block computes: the model file's {@code mlp}
   * when it is gated (SwiGLU or GeGLU: gate and up projections, then down); else SwiGLU when the
   * execution says Calculon-MoE's {@code activation_function: silu} (the fork's SwiGLU experts,
   * llm.py _build_mlp_block_MoE, :1563-1673; spec.md "MoE MLP"), else GeLU (two matrices). The
   * dense blocks' MLP is always the model file's {@code mlp} ({@link Architecture#mlp});
   * {@code activation_function} never changes it.
   */
  public static Architecture.MlpKind expertMlp(Application app, Execution exe) {
    Architecture.MlpKind model = app.architecture().mlp();
    if (model.gated) {
      return model;
    }
    return exe.activationFunction() == ActivationFunction.SILU ? Architecture.MlpKind.SWIGLU : model;
  }

  /** Which kind of block: attention with a dense MLP, or attention, router and experts. */
  public enum Kind { DENSE, MOE }

  /**
   * The experts of a MoE run: from the model file's {@code moe} key when it has one (the run
   * checks require the execution to agree on E and k), else from the execution's MoE fields with
   * Calculon-MoE's implicit shape (experts as wide as {@code feedforward}, no shared experts,
   * perfect balance).
   */
  record ExpertShape(long experts, long topK, long feedforward, boolean gated, long shared,
                     long sharedFeedforward, double capacityFactor) {
    static ExpertShape of(Application app, Execution exe) {
      Architecture.Moe m = app.architecture().moe();
      boolean gated = expertMlp(app, exe).gated;
      if (m == null) {
        return new ExpertShape(exe.numExperts(), exe.topKExperts(), app.feedforward(), gated, 0, 0, 1.0);
      }
      return new ExpertShape(m.numExperts(), m.topK(), m.expertFeedforward(), gated, m.sharedExperts(),
          m.sharedFeedforward(), m.capacityFactor());
    }

    /** {@code elements} scaled by the routing imbalance; exact when the tokens are balanced. */
    long imbalanced(long elements) {
      return capacityFactor == 1.0 ? elements : (long) Math.ceil(elements * capacityFactor);
    }
  }

  /** The layers of one block of the run's kind (MoE when the execution says so). */
  public static List<Layer> build(Application app, Execution exe, Hardware hw, ModelVersion version) {
    return build(app, exe, hw, version, exe.modelMoE() ? Kind.MOE : Kind.DENSE);
  }

  /** The layers of one block of {@code kind}, with bytes per element and optimizer sharding applied. */
  public static List<Layer> build(Application app, Execution exe, Hardware hw, ModelVersion version, Kind kind) {
    return buildWithVocabulary(app, exe, hw, version, kind, false, false);
  }

  /**
   * One block of {@code kind} with the vocabulary layers of the first pipeline stage (embedding,
   * before the block) and/or of the last (final norm, logits and cross-entropy, after it).
   */
  public static List<Layer> buildWithVocabulary(Application app, Execution exe, Hardware hw, ModelVersion version,
                                                Kind kind, boolean embedding, boolean logits) {
    BlockBuilder b = new BlockBuilder(app, exe, hw, version);
    if (embedding) {
      b.embedding();
    }
    b.attention();
    if (kind == Kind.MOE) {
      b.router();
      b.expertMlp();
    } else {
      b.denseMlp();
    }
    if (logits) {
      // tied embeddings on one stage are one table; on two stages Megatron keeps a copy on each
      b.logits(exe.pipelinePar() == 1 && app.architecture().tiedEmbeddings());
      if (version.corrected()) {
        for (int i = 0; i < app.architecture().mtpLayers(); i++) {
          b.multiTokenPrediction(kind);
        }
      }
    }
    return b.finish();
  }

  /**
   * One multi-token-prediction module after the last block, on the last pipeline stage (DeepSeek-V3
   * report, arXiv 2412.19437, Section 2.2 and Figure 3; Megatron-Core
   * {@code megatron/core/transformer/multi_token_prediction.py}, which puts every MTP layer on the
   * last stage without a custom layout): the embedding of the next token (the shared table: no
   * weights of its own), RMSNorm of it and of the hidden state ({@code enorm}, {@code hnorm}), their
   * concatenation projected from 2H to H ({@code eh_proj}, column-parallel over TP), one
   * transformer block of the last block's kind, the module's own final norm and the shared output
   * head (its projection and cross-entropy run again, no weights of their own).
   */
  private void multiTokenPrediction(Kind kind) {
    long h = app.hidden();
    int before = layers.size();
    embedding();
    for (Layer l : layers.subList(before, layers.size())) {
      l.weightSpace = 0;
      l.weightGrads = 0;
      l.optimSpace = 0;
    }
    add(new LayerNorm("Mtp_EmbeddingNorm", residual(), h, arch.norm().paramsPerChannel), recomputeFull);
    add(new LayerNorm("Mtp_HiddenNorm", residual(), h, arch.norm().paramsPerChannel), recomputeFull);
    add(new Linear("Mtp_Projection", CommGroup.TP, 1, batchSeq, 2 * h, h / tp), recomputeFull);
    attention();
    if (kind == Kind.MOE) {
      router();
      expertMlp();
    } else {
      denseMlp();
    }
    logits(true); // its final norm is the module's own (Megatron's MTP final_layernorm)
  }

  /** Vocabulary-parallel embedding: a lookup in this rank's share of the table, summed over TP. */
  private void embedding() {
    long vocabPerRank = ceilDiv(arch.vocabSize(), tp);
    add(new Layers.Embedding("Embedding_Lookup", batchSeq, vocabPerRank, app.hidden()), false);
    TpComm reduce = add(new TpComm("Embedding_Reduce", CommGroup.TP, activation, tpNet, exe.tensorPar(),
        commType, true), false);
    reduce.activationStored = false;
  }

  /**
   * Output head on the last stage: final norm, the logits projection (split by vocabulary over TP,
   * its own weights unless tied to the embedding, which Megatron then keeps a copy of on both
   * stages) and a vocabulary-parallel softmax cross-entropy: a softmax's flops over the logits, the
   * traffic and stored bytes of the run's {@link LossKernel}.
   */
  private void logits(boolean sharesEmbeddingTable) {
    long h = app.hidden();
    long vocabPerRank = ceilDiv(arch.vocabSize(), tp);
    // Full recompute checkpoints the transformer layers only: Megatron-Core's
    // TransformerBlock._checkpointed_forward wraps its layers, the final norm and the output layer
    // sit outside the block (GPTModel), and TorchTitan's apply_ac wraps each TransformerBlock; so
    // the corrected model never recomputes the head (Calculon-MoE recomputes it with the blocks)
    boolean recomputeHead = recomputeFull && !version.corrected();
    LayerNorm ln = add(new LayerNorm("Head_FinalNorm", residual(), h, arch.norm().paramsPerChannel), recomputeHead);
    ln.activationReused = true;
    TpComm f = add(new TpComm("Head_F", CommGroup.TP, activation, tpNet, exe.tensorPar(), commType, false), false);
    f.needsRecomm = recomputeHead;
    Linear head = add(new Linear("Head_Logits", CommGroup.TP, 1, batchSeq, h, vocabPerRank), recomputeHead);
    // the output layer stays in 16 bits in float8 training (Layer.sixteenBitMatmul)
    head.sixteenBitMatmul = version.corrected();
    if (sharesEmbeddingTable) {
      // one table: its weights, gradient buffer and optimizer state are the embedding's; the
      // projection's gradient flops remain
      head.weightSpace = 0;
      head.weightGrads = 0;
      head.optimSpace = 0;
    }
    // the corrected model's loss kernel (execution key loss_kernel); Calculon costs a softmax
    LossKernel loss = version.corrected() ? exe.layerOptions().lossKernel() : LossKernel.FUSED;
    add(new Layers.CrossEntropy(CROSS_ENTROPY, batchSeq * vocabPerRank, loss), recomputeHead);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * Whether the weight-gradient pass of ZeRO stage {@code zeroStage} adds into a persistent
   * gradient buffer ({@link Layer#accumulatesGradient}: Megatron's DDP buffer, stages 0 and 1)
   * rather than writing a fresh gradient (stages 2 and 3). The one place of this rule: the block
   * cache's key ({@code schedule.BlockCache}) tells the stages apart by it.
   */
  public static boolean addsIntoGradientBuffer(int zeroStage) {
    return zeroStage <= 1;
  }

  private List<Layer> finish() {
    // Megatron's distributed optimizer shards over the data-parallel group with context
    // parallelism (DP x CP ranks hold the same weights); CP is a corrected-model key
    double shards = exe.optimizerSharding() ? (double) exe.dataPar() * exe.contextPar() : 1;
    // experts are replicated over DP_exp, not DP; Calculon-MoE shards them by DP (spec quirk 18)
    double expertShards = exe.optimizerSharding() && version.corrected() && exe.modelMoE()
        ? exe.dataParExp() : shards;
    StorageBytes storage = StorageBytes.of(exe, version);
    // the corrected model's expert exchange; the router's (the dispatch) precedes the experts,
    // the MLP's (the combine) follows them
    ExpertDispatch route = version.corrected() && exe.modelMoE() ? ExpertDispatch.of(exe, hw, experts.topK()) : null;
    boolean dispatchNext = true;
    boolean accumulates = version.corrected() && exe.training() && addsIntoGradientBuffer(exe.zeroStage());
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      l.accumulatesGradient = accumulates;
      // the corrected model's optimizer kernel (execution key optimizer_kernel); calculon-moe
      // keeps Calculon's count, the optimizer state read once
      l.optimizerKernel = version.corrected() ? exe.layerOptions().optimizerKernel() : null;
      l.fp8Casts = float8Run && (l instanceof Linear || l instanceof LinearOverlapped) && !l.sixteenBitMatmul;
      if (l.fp8Casts && teRecipe != null) {
        l.teRecipe = teRecipe;
        l.inputProducer = fp8InputProducer(i);
        l.gradProducer = fp8GradProducer(i);
      }
      l.microbatchesPerStep = exe.numMicrobatches();
      if (l instanceof TpComm comm) {
        comm.reductionInFlops = !version.corrected();
      }
      if (route != null && l instanceof Layers.ExpertAllToAll a2a) {
        a2a.route(route, dispatchNext);
        dispatchNext = !dispatchNext;
      }
      l.setStorage(storage);
      if (version.corrected() && exe.layerOptions().eagerElementwise()) {
        EagerElementwise.apply(l, arch.norm());
      }
      l.shardOptimizer(l.expertReplica() ? expertShards : shards);
      l.prepare(hw);
    }
    if (version.corrected() && exe.tensorParOverlap() == TpOverlap.BACKWARD) {
      hideBackwardCollectives(layers);
    }
    return layers;
  }

  /**
   * Megatron-Core's backward overlap ({@link TpOverlap#BACKWARD}): each column-parallel input's
   * collective (TpComm "F", not conjugate) hides its input-gradient reduce-scatter (all-reduce)
   * behind the weight-gradient matmuls of the projections it feeds, and its re-all-gather behind
   * their input-gradient matmuls ({@code LinearWithGradAccumulationAndAsyncCommunication.backward}).
   * The projections are the matmuls that follow it up to the first other layer (forks skipped).
   */
  private static void hideBackwardCollectives(List<Layer> layers) {
    for (int i = 0; i < layers.size(); i++) {
      if (!(layers.get(i) instanceof TpComm comm) || comm.conjugate()) {
        continue;
      }
      double dgradSeconds = 0, wgradSeconds = 0;
      for (int j = i + 1; j < layers.size(); j++) {
        Layer l = layers.get(j);
        if (l instanceof Fork) {
          continue;
        }
        if (!(l instanceof Linear)) {
          break;
        }
        dgradSeconds += l.processingTime(Stage.AGRAD);
        wgradSeconds += l.processingTime(Stage.WGRAD);
      }
      comm.hideBehind(Stage.AGRAD, wgradSeconds);
      comm.hideBehind(Stage.WGRAD, dgradSeconds);
    }
  }

  /**
   * Elements of the checkpoint full recompute keeps per block: the block's input, which sequence
   * parallelism splits over the TP ranks like every residual-stream tensor (Korthikanti et al.
   * 2022, arXiv 2205.05198, Sec. 5: 2sbh/t bytes with SP). Calculon-MoE keeps the whole T x H in a
   * dense block and the split one in a MoE block.
   */
  public static long checkpointElements(Application app, Execution exe, ModelVersion version) {
    // context parallelism: the rank's seq_size / CP tokens
    long batchSeq = (long) exe.microbatchSize() * app.seqSize() / exe.contextPar();
    boolean split = version.corrected() ? exe.sequenceParallel() : exe.modelMoE();
    return (split ? batchSeq / exe.tensorPar() : batchSeq) * app.hidden();
  }

  /** Activation of the residual stream: split by TP under sequence parallelism. */
  private long residual() {
    return seqPar ? seqParActivation : activation;
  }

  private <L extends Layer> L add(L layer, boolean recompute) {
    layer.needsRecompute = recompute;
    layers.add(layer);
    return layer;
  }

  private void attention() {
    long h = app.hidden(), heads = app.attnHeads(), d = app.attnSize(), s = app.seqSize();
    long mbs = exe.microbatchSize();
    // op SAC saves no all-gather output: the recomputed norm and wk gather their input again
    boolean recomputeAg = recomputeAttn || agRedo || opSac;
    boolean multihead = exe.attentionType() == AttentionType.MULTIHEAD;
    Architecture.Mla mla = arch.mla();
    // head widths: query/key (with the decoupled rotary part under MLA) and value
    long qkDim = mla == null ? d : mla.qkNopeHeadDim() + mla.qkRopeHeadDim();
    long vDim = mla == null ? d : mla.vHeadDim();

    add(new Fork("AttnBlock_Fork", residual(), 2), recomputeFull);
    LayerNorm ln = add(new LayerNorm("AttnBlock_LayerNorm", residual(), h, arch.norm().paramsPerChannel),
        recomputeFull || recomputeNorm());
    ln.activationStored = false;
    ln.activationReused = true;
    if (exe.tensorParOverlap().separateCollectives()) {
      TpComm f = add(new TpComm("AttnBlock_F", CommGroup.TP, activation, tpNet,
          exe.tensorPar(), commType, false), false);
      f.needsRecomm = recomputeAg;
      f.activationStored = !recomputeNorm();
      f.float8Gather = gathersInFloat8();
      boolean dropQkvInput = dropsGatheredInput(recomputeAg);
      Fork fork = add(new Fork("AttnBlock_Multihead_Fork", activation, 3), dropQkvInput);
      fork.activationStored = !dropQkvInput && !recomputeNorm();
      if (mla != null) {
        latentProjections(mla, h, heads);
      } else {
        long qkvWidth = heads * d / tp;
        Linear q = projection("AttnBlock_Query", h, qkvWidth);
        long kvWidth = !multihead ? d : arch.numKvHeads() == heads ? qkvWidth : kvHeadsPerRank() * d;
        Linear k = projection("AttnBlock_Key", h, kvWidth);
        Linear v = projection("AttnBlock_Value", h, kvWidth);
        if (opSac) {
          // matmuls 1 and 3 keep their outputs, matmul 2 (wk) runs again
          q.savedOutputElements = (double) batchSeq * qkvWidth;
          k.needsRecompute = true;
          v.savedOutputElements = (double) batchSeq * kvWidth;
        }
        sharedFloat8Input(q, k, v);
      }
    } else if (multihead) {
      // grouped-query: the fused projection carries A query heads and 2 x kv key/value heads;
      // with fewer KV heads than TP ranks each rank holds one whole replicated KV head, so the
      // projection split over TP is A query heads plus 2 x TP KV heads (as without overlap)
      long width = arch.numKvHeads() == heads ? heads * d * 3 : (heads + 2L * kvHeadsPerRank() * tp) * d;
      LinearOverlapped qkv = add(overlapped("AttnBlock_QKV_AG", h, width, false),
          recomputeFull || opSac);
      qkv.needsRecomm = recomputeAg;
      qkv.activationStored = !recomputeNorm();
      qkv.float8Gather = gathersInFloat8();
      qkv.castInputShare = gathersInFloat8() ? 1.0 / tp : 1;
      // async TP multiplies each gathered shard by wq, wk and wv in turn (LinearOverlapped#asyncProducts)
      double kvShare = (width - (double) heads * d) / 2 / width;
      qkv.asyncProducts(1 - 2 * kvShare, kvShare, kvShare);
      if (opSac) {
        // of the fused wq|wk|wv only wk (matmul 2) runs again; wq's and wv's outputs are kept
        long keyWidth = arch.numKvHeads() == heads ? heads * d : kvHeadsPerRank() * tp * d;
        qkv.recomputedShare = (double) keyWidth / width;
        qkv.savedOutputElements = (double) batchSeq * (width - keyWidth) / tp;
      }
    } else {
      LinearOverlapped q = add(overlapped("AttnBlock_Query_AG", h, heads * d, false),
          recomputeFull);
      q.needsRecomm = recomputeAg;
      q.activationStored = !recomputeNorm();
      Fork kvFork = add(new Fork("AttnBlock_KV_Fork", activation, 2), recomputeAg);
      kvFork.activationStored = !recomputeAg;
      Linear k = projection("AttnBlock_Key", h, d);
      Linear v = projection("AttnBlock_Value", h, d);
      if (opSac) {
        q.savedOutputElements = (double) batchSeq * heads * d / tp;
        k.needsRecompute = true;
        v.savedOutputElements = (double) batchSeq * d;
      }
    }
    rotaryEmbedding(qkDim);
    repeatKv(qkDim, vDim, multihead);
    if (flash) {
      flashAttention(mla == null ? d : qkDim, vDim, multihead);
    } else {
      unfusedAttention(qkDim, mla == null ? heads * d / heads : vDim);
    }
    long outWidth = mla == null ? heads * d : heads * vDim;
    if (exe.tensorParOverlap().separateCollectives()) {
      // wo is matmul 4: op SAC runs it again (its input, the attention output, is kept)
      add(new Linear("AttnBlock_MLP", CommGroup.TP, 1, batchSeq, outWidth / tp, h), recomputeFull || opSac);
      TpComm g = add(new TpComm("AttnBlock_G", CommGroup.TP, activation, tpNet,
          exe.tensorPar(), commType, true), false);
      g.needsRecomm = recomputeFull;
      g.activationStored = savesReduceScatterOutput();
    } else {
      LinearOverlapped rs = add(overlapped("AttnBlock_MLP_RS", outWidth, h, true), recomputeFull || opSac);
      rs.needsRecomm = recomputeFull;
      rs.savedOutputElements = savesReduceScatterOutput() ? residual() : 0;
    }
    if (hiddenDropout) {
      add(new DropOut("AttnBlock_DropOut", residual(), version.corrected()), recomputeFull);
    }
    residualAdd("AttnBlock_Residual", residual());
  }

  /** Stores 1/CP of a matmul's second input ({@code elements} of it, all ranks' keys or values). */
  private void storeLocalShare(BatchMatMul l, double elements) {
    l.activationSpace -= elements - elements / exe.contextPar();
  }

  /**
   * The keys and values this context-parallel rank lacks ({@link ContextParallelComm}), sized
   * from the rank's own tokens: queries and outputs of its heads, keys and values of its KV heads.
   */
  private void contextParallelExchange(long qkDim, long vDim, List<Layer> core) {
    long heads = app.attnHeads();
    boolean multihead = exe.attentionType() == AttentionType.MULTIHEAD;
    long headsPerRank = heads / tp;
    long kvHeads = kernelKvHeads(multihead);
    double q = (double) batchSeq * headsPerRank * qkDim;
    double kv = (double) batchSeq * kvHeads * (qkDim + vDim);
    double out = (double) batchSeq * headsPerRank * vDim;
    ContextParallelComm c = add(new ContextParallelComm("AttnBlock_CP_KV", exe.parallel().contextParCommType(),
        hw.network(exe.contextParNet()), exe.contextPar(), kv, q, out, core, exe.layerOptions().contextParImpl()),
        false);
    c.needsRecomm = recomputeAttn;
  }

  /**
   * Attention as separate kernels (Calculon; Megatron-LM 2022): the S x S scores, their softmax
   * and dropout mask are stored for the backward pass (5 a s^2 b bytes in 16-bit, Korthikanti et
   * al. 2022, Table 2) unless the core attention is recomputed. Without attention dropout there is
   * no mask and the weighted sum reads the softmax output itself (2 a s^2 b). The scores are
   * computed in full, masked or not.
   */
  private void unfusedAttention(long qkDim, long vDim) {
    long heads = app.attnHeads(), s = app.seqSize(), mbs = exe.microbatchSize();
    // with CP the rank's queries (s / CP of them) meet every key: 1/CP of the score matrix
    long queries = s / exe.contextPar();
    BatchMatMul scores = add(new BatchMatMul("AttnBlock_Multihead_Key_Query",
        mbs * heads / tp, queries, qkDim, s), recomputeAttn);
    scores.activationStored = !modules.contains(RecomputeModule.MLA_UP_PROJ) || arch.mla() == null;
    long scoreElems = heads / tp * queries * s * mbs;
    List<Layer> core = new ArrayList<>(List.of(scores));
    SoftMax softmax = add(new SoftMax("AttnBlock_Multihead_SoftMax", scoreElems), recomputeAttn);
    softmax.outputStored = !recomputeAttn;
    if (attentionDropout) {
      scores.outputStored = !recomputeAttn;
      DropOut scoreDrop = add(new DropOut("AttnBlock_Multihead_DropOut", scoreElems, version.corrected()), recomputeAttn);
      scoreDrop.activationStored = !recomputeAttn;
      core.add(softmax);
      core.add(scoreDrop);
    } else {
      // the probabilities are both the softmax's saved output and the next matmul's input: keep them once
      softmax.activationStored = false;
      core.add(softmax);
    }
    BatchMatMul attn = add(new BatchMatMul("AttnBlock_Multihead_Attn", mbs * heads / tp, queries, s, vDim), recomputeFull);
    core.add(attn);
    if (exe.contextPar() > 1) {
      // ring attention and Ulysses keep only the rank's own keys and values for the backward
      // pass (the ring passes them again there): of K and V, 1/CP is stored
      double batch = (double) mbs * heads / tp;
      storeLocalShare(scores, batch * qkDim * s);
      storeLocalShare(attn, batch * s * vDim);
      contextParallelExchange(qkDim, vDim, core);
    }
  }

  /**
   * Fused attention ({@link FlashAttention}): stores Q, K, V and the fp32 row statistics only; with
   * the core attention recomputed the statistics go too, and the forward kernel runs again.
   */
  private void flashAttention(long qkDim, long vDim, boolean multihead) {
    long heads = app.attnHeads(), s = app.seqSize(), mbs = exe.microbatchSize();
    long kvHeads = kernelKvHeads(multihead);
    // with CP each rank computes 1/CP of the causal pairs (ring attention load-balanced for the
    // causal mask, or Ulysses' heads) for its s / CP queries, and keeps its own keys and values
    long cp = exe.contextPar();
    FlashAttention fa = add(new FlashAttention("AttnBlock_Multihead_FlashAttention", mbs * heads / tp,
        mbs * kvHeads, (double) s / cp, causalPairsPerHead() / cp, qkDim, vDim, attentionDropout),
        recomputeAttn || recomputeFull);
    fa.statsStored = !recomputeAttn;
    fa.kernelName = exe.layerOptions().attentionKernel();
    // op SAC rebuilds Q, K, V from the kept wq and wv outputs and the recomputed wk
    fa.inputsStored = !(modules.contains(RecomputeModule.MLA_UP_PROJ) && arch.mla() != null) && !opSac;
    if (cp > 1) {
      contextParallelExchange(qkDim, vDim, List.of(fa));
      contextParallelMerge(qkDim, vDim, multihead);
    }
  }

  /**
   * The element-wise work between the CP steps' attention calls ({@link ContextParallelMerge}):
   * merging the partial outputs forward, accumulating the gradients backward, by the framework of
   * {@code context_par_impl}; redone with the attention when it is recomputed.
   */
  private void contextParallelMerge(long qkDim, long vDim, boolean multihead) {
    double rows = (double) batchSeq * app.attnHeads() / tp;
    double kv = (double) batchSeq * kernelKvHeads(multihead) * (qkDim + vDim);
    add(new ContextParallelMerge("AttnBlock_CP_Merge", exe.layerOptions().contextParImpl(),
        exe.parallel().contextParCommType(), exe.layerOptions().eagerElementwise(), exe.contextPar(),
        rows, rows * vDim, rows * qkDim, kv, exe.training()), recomputeAttn || recomputeFull);
  }

  /**
   * (Query, key) pairs a causal kernel computes per head: query i attends to keys 0..i, or to the
   * last W of them under a sliding window, so S^2/2 without a window (half the square: the tiles
   * above the diagonal are skipped) and S W - W^2/2 with one (W &lt; S), to within a tile. Windowed
   * and full blocks are averaged over the model's blocks (exact for the step when the pattern
   * spreads evenly over the pipeline stages).
   */
  double causalPairsPerHead() {
    double s = app.seqSize();
    double full = s * s / 2;
    Architecture.SlidingWindow w = arch.slidingWindow();
    if (w == null || w.tokens() >= s) {
      return full;
    }
    double win = w.tokens();
    double windowed = s * win - win * win / 2;
    double f = w.windowedFraction();
    return (1 - f) * full + f * windowed;
  }

  /**
   * Whether the MoE routing layers (top-k, permutation, both all-to-alls) cancel their consumers'
   * stored inputs. Calculon-MoE's do although they store nothing themselves, so the block's
   * activation storage can go negative (spec quirk 21); in the corrected model they neither store
   * nor cancel, and the expert MLP keeps the dispatched tokens it needs.
   */
  private boolean routingCancelsConsumers() {
    return !version.corrected();
  }

  /**
   * Whether a block drops the gathered input of its column-parallel projections (QKV, MLP up)
   * because it redoes the all-gather in the backward pass ({@code regather}: recompute or
   * {@code seq_par_ag_redo}). Only a sequence-parallel input can be gathered again: without
   * sequence parallelism the input is the full layer-norm output, which must be kept unless the
   * whole block is recomputed (Korthikanti et al. 2022, arXiv 2205.05198, Table 2: selective
   * recompute without SP stores sbh(10 + 24/t)). At TP 1 there is nothing to gather from, SP or
   * not. Calculon-MoE drops it in every case.
   */
  private boolean dropsGatheredInput(boolean regather) {
    if (!version.corrected()) {
      return regather;
    }
    // at TP 1 "sequence parallel" splits nothing: no split copy is kept to gather from, unless the
    // execution asks for the redo itself (seq_par_ag_redo), which then drops the input as before
    return recomputeFull || (regather && seqPar && (tp > 1 || exe.seqParAgRedo()));
  }

  /** Key/value heads each tensor-parallel rank holds: a share of them, or one replicated head when there are fewer than TP. */
  private long kvHeadsPerRank() {
    return Math.max(1, arch.numKvHeads() / tp);
  }

  /**
   * Multi-head latent attention (DeepSeek-V2/V3): the down-projections to the query and key/value
   * latents (and the shared rotary key) are replicated on every TP rank; the up-projections are
   * split by heads.
   */
  private void latentProjections(Architecture.Mla mla, long h, long heads) {
    long qkDim = mla.qkNopeHeadDim() + mla.qkRopeHeadDim();
    if (mla.qLoraRank() > 0) {
      projection("AttnBlock_Query_Down", h, mla.qLoraRank());
      add(new LayerNorm("AttnBlock_Query_LatentNorm", batchSeq * mla.qLoraRank(), mla.qLoraRank(), arch.norm().paramsPerChannel), recomputeFull);
      add(new Linear("AttnBlock_Query_Up", CommGroup.TP, 1, batchSeq, mla.qLoraRank(), heads * qkDim / tp),
          recomputeFull || modules.contains(RecomputeModule.MLA_UP_PROJ));
    } else {
      projection("AttnBlock_Query", h, heads * qkDim / tp);
    }
    projection("AttnBlock_KV_Down", h, mla.kvLoraRank() + mla.qkRopeHeadDim());
    add(new LayerNorm("AttnBlock_KV_LatentNorm", batchSeq * mla.kvLoraRank(), mla.kvLoraRank(), arch.norm().paramsPerChannel), recomputeFull);
    add(new Linear("AttnBlock_KV_Up", CommGroup.TP, 1, batchSeq, mla.kvLoraRank(),
        heads * (mla.qkNopeHeadDim() + mla.vHeadDim()) / tp), recomputeFull || modules.contains(RecomputeModule.MLA_UP_PROJ));
  }

  private Linear projection(String name, long in, long out) {
    Linear l = add(new Linear(name, CommGroup.TP, 1, batchSeq, in, out), recomputeFull);
    l.activationStored = false;
    l.activationReused = true;
    return l;
  }

  private LinearOverlapped overlapped(String name, long in, long out, boolean conjugate) {
    return new LinearOverlapped(name, batchSeq, in, out, commType, exe.tensorPar(), tpNet,
        exe.tensorPar(), conjugate, exe.tensorParOverlap(), version.corrected());
  }

  private ElementWise residualAdd(String name, long size) {
    ElementWise add = add(new ElementWise(name, size, size), recomputeFull || opSac);
    add.activationStored = false;
    add.activationReused = true;
    return add;
  }

  /**
   * The activation of an ungated MLP over {@code elements}: GeLU, or squared ReLU when the model
   * says {@code mlp: squared_relu} (then named with SquaredReLU in place of GeLU). Calculon-MoE
   * never gets here with squared ReLU (the evaluator refuses it).
   */
  private GeLU plainActivation(String geluName, double elements) {
    boolean squared = arch.mlp() == Architecture.MlpKind.SQUARED_RELU;
    return new GeLU(squared ? geluName.replace("GeLU", "SquaredReLU") : geluName, elements,
        exe.fusedActivation(), squared);
  }

  private void denseMlp() {
    long h = app.hidden(), ff = app.feedforward();
    boolean gated = arch.mlp().gated;
    // module "mlp" keeps only the MLP's input and runs its forward again, collectives included
    boolean recomputeMlp = modules.contains(RecomputeModule.MLP);
    boolean recompute = recomputeFull || recomputeMlp;
    boolean recomputeAg = recomputeFull || agRedo || recomputeMlp || opSac;
    Fork fork = add(new Fork("MlpBlock_Fork", residual(), 2), recomputeFull);
    // op SAC keeps no residual-stream sum: it is rebuilt from the block input and the recomputed wo
    fork.activationStored = !opSac;
    LayerNorm ln = add(new LayerNorm("MlpBlock_LayerNorm", residual(), h, arch.norm().paramsPerChannel),
        recomputeFull || recomputeNorm());
    ln.activationStored = false;
    ln.activationReused = true;
    // a gated MLP's first projection computes the gate and the up projection together
    long upWidth = gated ? 2 * ff : ff;
    if (exe.tensorParOverlap().separateCollectives()) {
      TpComm f = add(new TpComm("MlpBlock_F", CommGroup.TP, activation, tpNet,
          exe.tensorPar(), commType, false), false);
      f.needsRecomm = recomputeAg;
      f.activationStored = !recomputeNorm();
      f.float8Gather = gathersInFloat8();
      Linear up = add(new Linear("MlpBlock_Mlp1", CommGroup.TP, 1, batchSeq, h, upWidth / tp), recompute);
      up.activationStored = !dropsGatheredInput(recomputeAg) && !recomputeNorm();
      up.castInputShare = gathersInFloat8() ? 1.0 / tp : 1;
      opSacUpProjection(up, gated, ff);
    } else {
      LinearOverlapped up = add(overlapped("MlpBlock_Mlp1_AG", h, upWidth, false), recompute);
      up.needsRecomm = recomputeAg;
      up.activationStored = !recomputeNorm();
      up.float8Gather = gathersInFloat8();
      up.castInputShare = gathersInFloat8() ? 1.0 / tp : 1;
      opSacUpProjection(up, gated, ff);
    }
    Layer act;
    if (gated) {
      act = add(new SwiGLU("MlpBlock_GatedActivation", 1, batchSeq, ff / tp, exe.fusedActivation()), recompute);
    } else {
      act = add(plainActivation("MlpBlock_GeLU", ff * batchSeq / tp), recompute);
    }
    act.activationStored = !recomputeMlp && !opSac;
    act.needsRecompute |= opSac;
    Layer down;
    if (exe.tensorParOverlap().separateCollectives()) {
      down = add(new Linear("MlpBlock_Mlp2", CommGroup.TP, 1, batchSeq, ff / tp, h), recompute);
      down.activationStored = !recomputeMlp;
      TpComm g = add(new TpComm("MlpBlock_G", CommGroup.TP, activation, tpNet,
          exe.tensorPar(), commType, true), false);
      g.needsRecomm = recompute;
      g.activationStored = savesReduceScatterOutput();
    } else {
      down = add(overlapped("MlpBlock_Mlp2_RS", ff, h, true), recompute);
      down.needsRecomm = recompute;
      down.activationStored = !recomputeMlp;
      down.savedOutputElements = savesReduceScatterOutput() ? residual() : 0;
    }
    if (opSac) {
      // the down projection's input (the activation function's output) is rebuilt; a gated MLP's
      // w2 is matmul 7, whose (pre-reduction) output the policy keeps, a plain MLP's is matmul 6,
      // run again
      down.activationStored = false;
      if (gated) {
        down.savedOutputElements += (double) batchSeq * h;
      } else {
        down.needsRecompute = true;
      }
    }
    if (hiddenDropout) {
      add(new DropOut("MlpBlock_DropOut", residual(), version.corrected()), recomputeFull);
    }
    residualAdd("MlpBlock_Residual", residual());
  }

  /** Module {@code layernorm} (or op SAC): the pre-norms' outputs are discarded and recomputed from their inputs. */
  private boolean recomputeNorm() {
    return modules.contains(RecomputeModule.LAYERNORM) || opSac;
  }

  /**
   * Op SAC on the MLP's first projection, matmul 5 (w1) and, gated, matmul 6 (w3) fused in one
   * layer: w1's output is kept, w3 runs again (half the fused projection).
   */
  private void opSacUpProjection(Layer up, boolean gated, long ff) {
    if (!opSac) {
      return;
    }
    up.savedOutputElements = (double) batchSeq * ff / tp;
    if (gated) {
      up.needsRecompute = true;
      up.recomputedShare = 0.5;
    }
  }

  /**
   * Whether a column-parallel input is cast to float8 on its sequence shard and all-gathered in
   * float8, in a float8 run with sequence parallelism (corrected model), whatever the recipe:
   * torchao's {@code Float8ColwiseParallel} / {@code PrepareFloat8ModuleInput}
   * (torchao/float8/float8_tensor_parallel.py), which torchtitan applies with tensorwise float8;
   * Transformer Engine's {@code LayerNormLinear} (Megatron-Core's QKV and MLP up projections)
   * normalises into float8 and gathers that ({@code layernorm_fwd_fp8} then
   * {@code gather_along_first_dim(ln_out, ...)} in TE 1.x; {@code gather_along_first_dim(ln_out,
   * tp_group, quantizer=...)} for every recipe in TE 2.x; the userbuffers all-gather buffer is
   * float8 too, {@code get_ub("fc1_fprop", fp8)}). The backward re-gather moves the same float8
   * shard; the input gradient's reduce-scatter stays 16-bit.
   */
  private boolean gathersInFloat8() {
    return float8Run && tp > 1 && commType == TpCommType.RS_AG;
  }

  /**
   * What produces the input of the float8 matmul at {@code layers[i]} ({@link Layer#teOperandBytes}):
   * the nearest earlier layer that computes something (forks and TP collectives pass the tensor on;
   * under sequence parallelism TE quantizes the norm's shard before the gather): a norm, an
   * activation, or anything else.
   */
  private Fp8Producer fp8InputProducer(int i) {
    for (int j = i - 1; j >= 0; j--) {
      Layer p = layers.get(j);
      if (passesTensorOn(p)) {
        continue;
      }
      if (p instanceof LayerNorm) {
        return Fp8Producer.NORM;
      }
      // a GEMM's output (or a sibling projection's: wk and wv cast nothing, castInputShare 0)
      return isActivation(p) ? Fp8Producer.ACTIVATION : Fp8Producer.PLAIN;
    }
    return Fp8Producer.PLAIN;
  }

  /**
   * What produces the output gradient of the float8 matmul at {@code layers[i]}: the backward
   * kernel of the next layer that computes something, an activation's ({@link Fp8Producer#ACTIVATION_GRAD})
   * or another.
   */
  private Fp8Producer fp8GradProducer(int i) {
    for (int j = i + 1; j < layers.size(); j++) {
      Layer n = layers.get(j);
      if (!passesTensorOn(n)) {
        return isActivation(n) ? Fp8Producer.ACTIVATION_GRAD : Fp8Producer.PLAIN;
      }
    }
    return Fp8Producer.PLAIN;
  }

  /** A fork or TP collective: it hands the tensor on, computing nothing on it ({@link #fp8InputProducer}). */
  private static boolean passesTensorOn(Layer l) {
    return l instanceof Fork || l instanceof TpComm;
  }

  /** An activation kernel (GeLU, squared ReLU, or a gated one) that TE can fuse a quantization into. */
  private static boolean isActivation(Layer l) {
    return l instanceof GeLU || l instanceof SwiGLU;
  }

  /**
   * wq, wk and wv read one input: its float8 copy is cast once (by wq, on the shard when gathered
   * in float8), and wk and wv use it.
   */
  private void sharedFloat8Input(Linear q, Linear k, Linear v) {
    q.castInputShare = gathersInFloat8() ? 1.0 / tp : 1;
    k.castInputShare = 0;
    v.castInputShare = 0;
  }

  /**
   * Whether {@code repeat_kv} copies fewer key/value heads to the query heads before the kernel
   * (corrected model; grouped-query or multi-query attention without MLA).
   */
  private boolean repeatsKv(boolean multihead) {
    return version.corrected() && exe.layerOptions().repeatKv() && arch.mla() == null
        && kvHeadsOnRank(multihead) < app.attnHeads() / tp;
  }

  /** Key/value heads this rank's projections produce: its query heads' count under multi-head attention, one under multi-query. */
  private long kvHeadsOnRank(boolean multihead) {
    return !multihead ? 1 : arch.numKvHeads() == app.attnHeads() ? app.attnHeads() / tp : kvHeadsPerRank();
  }

  /**
   * Key/value heads the attention kernel sees on this rank, hence what it stores and context
   * parallelism exchanges: one per query head under MLA or {@code repeat_kv}, else the projections'.
   */
  private long kernelKvHeads(boolean multihead) {
    return arch.mla() != null || repeatsKv(multihead) ? app.attnHeads() / tp : kvHeadsOnRank(multihead);
  }

  /** The {@code repeat_kv} copy ({@link Layers.RepeatKv}) of the rank's KV heads to its query heads. */
  private void repeatKv(long qkDim, long vDim, boolean multihead) {
    if (!repeatsKv(multihead)) {
      return;
    }
    long kvHeads = kvHeadsOnRank(multihead);
    double perHead = (double) batchSeq * (qkDim + vDim);
    Layers.RepeatKv copy = add(new Layers.RepeatKv("AttnBlock_RepeatKv", kvHeads * perHead,
        app.attnHeads() / tp * perHead), recomputeFull || opSac);
    copy.activationStored = false;
  }

  /** Op SAC keeps the tensor-parallel reduce-scatters' outputs (torchtitan's {@code _save_list}). */
  private boolean savesReduceScatterOutput() {
    return opSac && tp > 1 && commType == TpCommType.RS_AG;
  }

  /**
   * Rotary position embedding (Su et al. 2021, arXiv 2104.09864, Eq. 34) on the rank's query and
   * key heads (MLA: their rotary part only, the shared key once): one multiply-add pair per element
   * (x cos + rotate(x) sin), a read and a write of each tensor in both passes, nothing stored (the
   * backward pass rotates the gradient back with the same tables: Transformer Engine's
   * {@code fused_rope}, torchtitan's {@code apply_rotary_emb}). Corrected model only; the fork
   * has no rotary layer. Recomputed under full recompute and op SAC, not with the core attention
   * (Megatron applies it before {@code core_attention}).
   */
  private void rotaryEmbedding(long qkDim) {
    if (!version.corrected() || arch.learnedPositions()) {
      return;
    }
    long heads = app.attnHeads();
    Architecture.Mla mla = arch.mla();
    double elements;
    if (mla != null) {
      elements = (double) batchSeq * (heads / tp + 1) * mla.qkRopeHeadDim();
    } else {
      elements = (double) batchSeq * (heads / tp + kvHeadsOnRank(exe.attentionType() == AttentionType.MULTIHEAD)) * qkDim;
    }
    Layers.Rotary rope = add(new Layers.Rotary("AttnBlock_Rotary", elements), recomputeFull || opSac);
    rope.activationStored = false;
  }

  /**
   * Marks {@code layer} as discarded and recomputed by a selective-recompute module: its stored
   * input goes, its forward runs again in the backward pass, and a collective is redone.
   */
  private static void recomputed(Layer layer) {
    layer.needsRecompute = true;
    layer.activationStored = false;
    if (layer instanceof TpComm || layer instanceof ExpertAllToAll) {
      layer.needsRecompute = false;
      layer.needsRecomm = true;
    }
  }

  /** Router: normalise, project to expert scores, pick top-k, dispatch tokens to expert ranks. */
  private void router() {
    long h = app.hidden(), experts = this.experts.experts(), k = this.experts.topK();
    boolean recomputeAg = recomputeFull || exe.seqParAgRedo();
    long tokens = seqPar ? batchSeq / tp : batchSeq;
    long hiddenAct = seqPar ? batchSeq * h / tp : batchSeq * h;
    add(new Fork("RouterBlock_Fork", hiddenAct, 2), recomputeFull);
    LayerNorm ln = add(new LayerNorm("RouterBlock_LayerNorm", hiddenAct, h, arch.norm().paramsPerChannel),
        recomputeFull || recomputeNorm());
    ln.activationStored = false;
    ln.activationReused = true;
    Linear projection = add(new Linear("RouterBlock_ExpertProjection", CommGroup.TP, 1, tokens, h, experts),
        recomputeFull || modules.contains(RecomputeModule.MOE));
    projection.activationStored = !recomputeNorm();
    // Megatron-Core's router is a plain PyTorch matmul outside Transformer Engine
    // (megatron/core/transformer/moe/router.py, TopKRouter.gating): 16 bits in a TE float8 run
    projection.sixteenBitMatmul = teRecipe != null;
    int afterProjection = layers.size();
    // top-k runs over every token's expert scores; Calculon-MoE sizes it by tokens only (quirk 20)
    long scores = version.corrected() ? tokens * experts : tokens;
    SelectTopK topk = add(new SelectTopK("RouterBlock_SelectTopK", scores, scores, experts, k), recomputeFull);
    topk.activationStored = false;
    topk.outputStored = !routingCancelsConsumers();
    long routed = seqPar ? batchSeq / tp * k : batchSeq * k;
    SoftMax norm = add(new SoftMax("RouterBlock_Normalized_SoftMax", routed), recomputeFull);
    norm.outputStored = !recomputeFull;
    // the permutation moves each routed token's hidden vector; Calculon-MoE omits the H (quirk 20)
    long permuted = version.corrected() ? routed * h : routed;
    TensorTransform perm = add(new TensorTransform("RouterBlock_TensorTransformation", permuted), recomputeFull);
    perm.activationStored = false;
    perm.outputStored = !routingCancelsConsumers();
    ExpertAllToAll a2a = add(new ExpertAllToAll("RouterBlock_All2All_Expert", dispatchedElements(),
        hw.network(exe.expertParNet()), exe.expertPar()), false);
    a2a.activationStored = false;
    a2a.outputStored = !routingCancelsConsumers();
    // full recompute runs the layer's forward again, the token dispatcher's all-to-all with it
    // (Megatron-Core TransformerBlock._checkpointed_forward: tensor_parallel.checkpoint over whole
    // layers); Calculon-MoE sends it once (spec 5.3 item 7, "no recomm")
    a2a.needsRecomm = recomputeFull && version.corrected();
    TpComm gather = add(new TpComm("RouterBlock_Gather_ExpertSlice", CommGroup.ES,
        expertSliceElements(), hw.network(exe.expertSliceNet()), exe.expertSlice(),
        TpCommType.RS_AG, false), false);
    gather.needsRecomm = recomputeAg;
    if (modules.contains(RecomputeModule.MOE)) {
      // module "moe" keeps the MoE layer's input (the projection's) and runs the rest again
      layers.subList(afterProjection, layers.size()).forEach(BlockBuilder::recomputed);
    }
  }

  /**
   * Tokens (times top-k) each rank owns and routes: its sequence-parallel share {@code T/TP} under
   * SP, else all {@code T} of the microbatch. Megatron-Core's token dispatcher sends exactly the
   * tokens the rank holds (Megatron-Core MoE docs, "parallel folding"; {@code MoEAlltoAllTokenDispatcher}).
   */
  private long ownedRoutedTokens() {
    return (seqPar ? batchSeq / tp : batchSeq) * experts.topK();
  }

  /** Elements one rank's dispatch all-to-all sends (and, in the corrected model, its combine returns). */
  private long dispatchedElements() {
    long k = experts.topK(), h = app.hidden();
    return experts.imbalanced(seqPar ? batchSeq * k / tp * h : batchSeq * k * h);
  }

  /**
   * Routed tokens one expert rank computes on. After the all-to-all each expert rank holds as many
   * routed tokens as it owns (balanced routing, every EP rank owns the same share); the expert-slice
   * (expert TP) all-gather then joins the ES ranks' tokens. So ES x owned tokens: with ES = TP under
   * SP that is T k, Calculon-MoE's count for every ES; with ES &lt; TP ("parallel folding") it is
   * fewer (case moe-expert-slice-below-tp).
   */
  private long expertRankTokens() {
    if (!version.corrected()) {
      return experts.imbalanced(batchSeq * experts.topK());
    }
    return experts.imbalanced(ownedRoutedTokens()) * exe.expertSlice();
  }

  /** Elements the expert-slice all-gather produces (and its reduce-scatter consumes): the tokens of {@link #expertRankTokens} times H. */
  private long expertSliceElements() {
    if (!version.corrected()) {
      return experts.imbalanced(batchSeq * experts.topK() * app.hidden());
    }
    return experts.imbalanced(ownedRoutedTokens() * app.hidden()) * exe.expertSlice();
  }

  /**
   * Expert MLP: each expert rank runs its local experts on its share of the routed tokens (the
   * busiest rank's share under a capacity factor); shared experts, if any, see every token.
   */
  private void expertMlp() {
    long h = app.hidden(), ff = experts.feedforward(), k = experts.topK();
    long es = exe.expertSlice();
    long localExperts = exe.expertsPerRank();
    long tokensPerExpert = expertRankTokens() / localExperts;
    boolean recomputeAg = recomputeFull || exe.seqParAgRedo();
    int firstRouted = layers.size();
    Layer act;
    if (experts.gated()) {
      add(new Linear("MlpBlock_Mlp1_MoE", CommGroup.TP, localExperts, tokensPerExpert, h,
          ff * 2 / es), recomputeFull);
      act = add(new SwiGLU("MlpBlock_SwiGLU_MoE", localExperts, tokensPerExpert, ff / es,
          exe.fusedActivation()), recomputeFull);
    } else {
      add(new Linear("MlpBlock_Mlp1_MoE", CommGroup.TP, localExperts, tokensPerExpert, h,
          ff / es), recomputeFull);
      act = add(plainActivation("MlpBlock_GeLU_MoE", localExperts * tokensPerExpert * (ff / es)), recomputeFull);
    }
    Linear down = add(new Linear("MlpBlock_Mlp2_MoE", CommGroup.TP, localExperts, tokensPerExpert, ff / es, h),
        recomputeFull);
    if (version.corrected()) {
      // grouped GEMM: one product per local expert, each at the efficiency of its size (Layer.gemmGroups)
      for (Layer l : layers.subList(firstRouted, layers.size())) {
        if (l instanceof Linear) {
          l.gemmGroups = localExperts;
        }
      }
    }
    if (modules.contains(RecomputeModule.MOE_ACT)) {
      // output-discarding checkpoint of the activation: the second expert GEMM's input goes
      recomputed(act);
      down.activationStored = false;
    }
    TpComm reduce = add(new TpComm("MlpBlock_Reduce_MoE_ExpertSlice", CommGroup.ES,
        expertSliceElements(), hw.network(exe.expertSliceNet()), exe.expertSlice(),
        TpCommType.RS_AG, true), false);
    reduce.needsRecomm = recomputeAg;
    reduce.activationStored = false;
    // the combine returns what the dispatch sent; Calculon-MoE sends T k H / ES, which equals the
    // dispatch only when ES = TP under sequence parallelism
    long combined = version.corrected() ? dispatchedElements() : experts.imbalanced(batchSeq * k / es * h);
    ExpertAllToAll a2a = add(new ExpertAllToAll("MlpBlock_All2All_MoE_Expert",
        combined, hw.network(exe.expertParNet()), exe.expertPar()), false);
    a2a.activationStored = false;
    a2a.outputStored = !routingCancelsConsumers();
    // full recompute sends the combine again too (as the dispatch, above)
    a2a.needsRecomm = recomputeFull && version.corrected();
    if (version.corrected()) {
      // unpermutation: the combined copies go back to token order and are summed with their
      // routing weights, one more pass over every routed token's hidden vector, the mirror of
      // the permutation (Megatron-Core moe_utils.unpermute, called by the token dispatchers'
      // token_unpermutation); Calculon-MoE charges the permutation only
      TensorTransform unperm = add(new TensorTransform("MlpBlock_Unpermute", dispatchedElements()), recomputeFull);
      unperm.activationStored = false;
    }
    for (Layer l : layers.subList(firstRouted, layers.size())) {
      l.expertReplica = true;
      if (modules.contains(RecomputeModule.MOE)) {
        recomputed(l);
      }
    }
    if (experts.shared() > 0) {
      sharedExperts(h, experts.shared() * experts.sharedFeedforward());
    }
    long residual = seqPar ? batchSeq / tp * h : batchSeq * h;
    residualAdd("MlpBlock_MoE_Add", residual).expertReplica = true;
  }

  /**
   * Shared experts: a dense MLP of width {@code width} (all shared experts side by side) on every
   * token, split by TP. Modules {@code shared_experts} and {@code moe} keep only their input (the
   * sequence-parallel share under SP, gathered again) and run them again.
   */
  private void sharedExperts(long h, long width) {
    boolean gated = experts.gated();
    boolean recompute = modules.contains(RecomputeModule.SHARED_EXPERTS) || modules.contains(RecomputeModule.MOE);
    TpComm f = add(new TpComm("MlpBlock_Shared_F", CommGroup.TP, activation, tpNet,
        exe.tensorPar(), commType, false), false);
    f.needsRecomm = recomputeFull || agRedo || (recompute && seqPar);
    Linear up = add(new Linear("MlpBlock_Shared_Mlp1", CommGroup.TP, 1, batchSeq, h, (gated ? 2 * width : width) / tp),
        recomputeFull || recompute);
    // a gather done again in the backward pass leaves only the shard stored (corrected model; the
    // fork kept the gathered input beside its re-gather)
    up.activationStored = !(recompute && seqPar) && !(version.corrected() && agRedo && seqPar && tp > 1);
    Layer act;
    if (gated) {
      act = add(new SwiGLU("MlpBlock_Shared_GatedActivation", 1, batchSeq, width / tp, exe.fusedActivation()),
          recomputeFull);
    } else {
      act = add(plainActivation("MlpBlock_Shared_GeLU", width * batchSeq / tp), recomputeFull);
    }
    Linear down = add(new Linear("MlpBlock_Shared_Mlp2", CommGroup.TP, 1, batchSeq, width / tp, h), recomputeFull);
    TpComm g = add(new TpComm("MlpBlock_Shared_G", CommGroup.TP, activation, tpNet,
        exe.tensorPar(), commType, true), false);
    g.needsRecomm = recomputeFull || recompute;
    g.activationStored = false;
    if (recompute) {
      recomputed(act);
      recomputed(down);
    }
  }
}
