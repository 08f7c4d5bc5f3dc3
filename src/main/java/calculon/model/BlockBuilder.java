package calculon.model;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.AttentionType;
import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.hardware.Hardware;
import calculon.hardware.Network;
import calculon.model.Layers.BatchMatMul;
import calculon.model.Layers.DropOut;
import calculon.model.Layers.ElementWise;
import calculon.model.Layers.ExpertAllToAll;
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
  private final boolean recomputeAttn;
  private final ModelVersion version;

  private BlockBuilder(Application app, Execution exe, Hardware hw, ModelVersion version) {
    this.version = version;
    this.app = app;
    this.exe = exe;
    this.hw = hw;
    this.tp = exe.tensorPar();
    this.batchSeq = (long) exe.microbatchSize() * app.seqSize();
    this.activation = batchSeq * app.hidden();
    this.seqParActivation = (batchSeq / tp) * app.hidden();
    this.seqPar = exe.sequenceParallel();
    this.commType = exe.effectiveTpCommType();
    this.tpNet = hw.network(exe.tensorParNet());
    this.recomputeFull = exe.activationRecompute() == Recompute.FULL;
    this.recomputeAttn = exe.activationRecompute() != Recompute.NONE;
  }

  /** The layers of one block, with bytes per element and optimizer sharding applied. */
  public static List<Layer> build(Application app, Execution exe, Hardware hw, ModelVersion version) {
    BlockBuilder b = new BlockBuilder(app, exe, hw, version);
    b.attention();
    if (exe.modelMoE()) {
      b.router();
      b.expertMlp();
    } else {
      b.denseMlp();
    }
    double shards = exe.optimizerSharding() ? exe.dataPar() : 1;
    // experts are replicated over DP_exp, not DP; Calculon-MoE shards them by DP (spec quirk 18)
    double expertShards = exe.optimizerSharding() && version.corrected() && exe.modelMoE()
        ? exe.dataParExp() : shards;
    for (Layer l : b.layers) {
      l.setBytesPerElement(hw.bytesPerElement());
      l.shardOptimizer(l.attentionSide() ? shards : expertShards);
      l.prepare(hw);
    }
    return b.layers;
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
    boolean recomputeAg = recomputeAttn || exe.seqParAgRedo();
    boolean multihead = exe.attentionType() == AttentionType.MULTIHEAD;

    add(new Fork("AttnBlock_Fork", true, residual(), 2), recomputeFull);
    LayerNorm ln = add(new LayerNorm("AttnBlock_LayerNorm", true, residual(), h), recomputeFull);
    ln.activationStored = false;
    ln.activationReused = true;
    if (exe.tensorParOverlap() == TpOverlap.NONE) {
      TpComm f = add(new TpComm("AttnBlock_F", CommGroup.TP, true, activation, tpNet,
          exe.tensorPar(), commType, false), false);
      f.needsRecomm = recomputeAg;
      Fork fork = add(new Fork("AttnBlock_Multihead_Fork", true, activation, 3), recomputeAg);
      fork.activationStored = !recomputeAg;
      long qkvWidth = heads * d / tp;
      long kvWidth = multihead ? qkvWidth : d;
      projection("AttnBlock_Query", h, qkvWidth);
      projection("AttnBlock_Key", h, kvWidth);
      projection("AttnBlock_Value", h, kvWidth);
    } else if (multihead) {
      LinearOverlapped qkv = add(overlapped("AttnBlock_QKV_AG", true, h, heads * d * 3, false),
          recomputeFull);
      qkv.needsRecomm = recomputeAg;
    } else {
      LinearOverlapped q = add(overlapped("AttnBlock_Query_AG", true, h, heads * d, false),
          recomputeFull);
      q.needsRecomm = recomputeAg;
      Fork kvFork = add(new Fork("AttnBlock_KV_Fork", true, activation, 2), recomputeAg);
      kvFork.activationStored = !recomputeAg;
      projection("AttnBlock_Key", h, d);
      projection("AttnBlock_Value", h, d);
    }
    long headsPerRank = heads / tp;
    BatchMatMul scores = add(new BatchMatMul("AttnBlock_Multihead_Key_Query", true,
        mbs * heads / tp, s, d, s), recomputeAttn);
    scores.outputStored = !recomputeAttn;
    long scoreElems = headsPerRank * s * s * mbs;
    SoftMax softmax = add(new SoftMax("AttnBlock_Multihead_SoftMax", true, scoreElems), recomputeAttn);
    softmax.outputStored = !recomputeAttn;
    DropOut scoreDrop = add(new DropOut("AttnBlock_Multihead_DropOut", true, scoreElems, version.corrected()), recomputeAttn);
    scoreDrop.activationStored = !recomputeAttn;
    add(new BatchMatMul("AttnBlock_Multihead_Attn", true, mbs * heads / tp, s, s, heads * d / heads),
        recomputeFull);
    if (exe.tensorParOverlap() == TpOverlap.NONE) {
      add(new Linear("AttnBlock_MLP", CommGroup.TP, true, 1, batchSeq, heads * d / tp, h), recomputeFull);
      TpComm g = add(new TpComm("AttnBlock_G", CommGroup.TP, true, activation, tpNet,
          exe.tensorPar(), commType, true), false);
      g.needsRecomm = recomputeFull;
      g.activationStored = false;
    } else {
      LinearOverlapped rs = add(overlapped("AttnBlock_MLP_RS", true, heads * d, h, true), recomputeFull);
      rs.needsRecomm = recomputeFull;
    }
    add(new DropOut("AttnBlock_DropOut", true, residual(), version.corrected()), recomputeFull);
    residualAdd("AttnBlock_Residual", true, residual());
  }

  private void projection(String name, long in, long out) {
    Linear l = add(new Linear(name, CommGroup.TP, true, 1, batchSeq, in, out), recomputeFull);
    l.activationStored = false;
    l.activationReused = true;
  }

  private LinearOverlapped overlapped(String name, boolean attn, long in, long out, boolean conjugate) {
    return new LinearOverlapped(name, attn, batchSeq, in, out, commType, exe.tensorPar(), tpNet,
        exe.tensorPar(), conjugate, exe.tensorParOverlap(), version.corrected());
  }

  private void residualAdd(String name, boolean attn, long size) {
    ElementWise add = add(new ElementWise(name, attn, size, size), recomputeFull);
    add.activationStored = false;
    add.activationReused = true;
  }

  private void denseMlp() {
    long h = app.hidden(), ff = app.feedforward();
    boolean recomputeAg = recomputeFull || exe.seqParAgRedo();
    add(new Fork("MlpBlock_Fork", false, residual(), 2), recomputeFull);
    LayerNorm ln = add(new LayerNorm("MlpBlock_LayerNorm", false, residual(), h), recomputeFull);
    ln.activationStored = false;
    ln.activationReused = true;
    if (exe.tensorParOverlap() == TpOverlap.NONE) {
      TpComm f = add(new TpComm("MlpBlock_F", CommGroup.TP, false, activation, tpNet,
          exe.tensorPar(), commType, false), false);
      f.needsRecomm = recomputeAg;
      Linear up = add(new Linear("MlpBlock_Mlp1", CommGroup.TP, false, 1, batchSeq, h, ff / tp), recomputeFull);
      up.activationStored = !recomputeAg;
    } else {
      LinearOverlapped up = add(overlapped("MlpBlock_Mlp1_AG", false, h, ff, false), recomputeFull);
      up.needsRecomm = recomputeAg;
    }
    add(new GeLU("MlpBlock_GeLU", false, ff * batchSeq / tp, exe.fusedActivation()), recomputeFull);
    if (exe.tensorParOverlap() == TpOverlap.NONE) {
      add(new Linear("MlpBlock_Mlp2", CommGroup.TP, false, 1, batchSeq, ff / tp, h), recomputeFull);
      TpComm g = add(new TpComm("MlpBlock_G", CommGroup.TP, false, activation, tpNet,
          exe.tensorPar(), commType, true), false);
      g.needsRecomm = recomputeFull;
      g.activationStored = false;
    } else {
      LinearOverlapped down = add(overlapped("MlpBlock_Mlp2_RS", false, ff, h, true), recomputeFull);
      down.needsRecomm = recomputeFull;
    }
    add(new DropOut("MlpBlock_DropOut", false, residual(), version.corrected()), recomputeFull);
    residualAdd("MlpBlock_Residual", false, residual());
  }

  /** Router: normalise, project to expert scores, pick top-k, dispatch tokens to expert ranks. */
  private void router() {
    long h = app.hidden(), experts = exe.numExperts(), k = exe.topKExperts();
    boolean recomputeAg = recomputeFull || exe.seqParAgRedo();
    long tokens = seqPar ? batchSeq / tp : batchSeq;
    long hiddenAct = seqPar ? batchSeq * h / tp : batchSeq * h;
    add(new Fork("RouterBlock_Fork", true, hiddenAct, 2), recomputeFull);
    LayerNorm ln = add(new LayerNorm("RouterBlock_LayerNorm", true, hiddenAct, h), recomputeFull);
    ln.activationStored = false;
    ln.activationReused = true;
    add(new Linear("RouterBlock_ExpertProjection", CommGroup.TP, true, 1, tokens, h, experts), recomputeFull);
    // top-k runs over every token's expert scores; Calculon-MoE sizes it by tokens only (quirk 20)
    long scores = version.corrected() ? tokens * experts : tokens;
    SelectTopK topk = add(new SelectTopK("RouterBlock_SelectTopK", scores, scores, experts, k), recomputeFull);
    topk.activationStored = false;
    topk.outputStored = false;
    long routed = seqPar ? batchSeq / tp * k : batchSeq * k;
    SoftMax norm = add(new SoftMax("RouterBlock_Normalized_SoftMax", true, routed), recomputeFull);
    norm.outputStored = !recomputeFull;
    // the permutation moves each routed token's hidden vector; Calculon-MoE omits the H (quirk 20)
    long permuted = version.corrected() ? routed * h : routed;
    TensorTransform perm = add(new TensorTransform("RouterBlock_TensorTransformation", permuted), recomputeFull);
    perm.activationStored = false;
    perm.outputStored = false;
    long dispatched = seqPar ? batchSeq * k / tp * h : batchSeq * k * h;
    ExpertAllToAll a2a = add(new ExpertAllToAll("RouterBlock_All2All_Expert", true, dispatched,
        hw.network(exe.expertParNet()), exe.expertPar()), false);
    a2a.activationStored = false;
    a2a.outputStored = false;
    TpComm gather = add(new TpComm("RouterBlock_Gather_ExpertSlice", CommGroup.ES, true,
        batchSeq * k * h, hw.network(exe.expertSliceNet()), exe.expertSlice(), TpCommType.RS_AG,
        false), false);
    gather.needsRecomm = recomputeAg;
  }

  /** Expert MLP: each expert rank runs its local experts on an equal share of routed tokens. */
  private void expertMlp() {
    long h = app.hidden(), ff = app.feedforward(), k = exe.topKExperts();
    long es = exe.expertSlice();
    long localExperts = exe.expertsPerRank();
    long tokensPerExpert = batchSeq * k / localExperts;
    boolean recomputeAg = recomputeFull || exe.seqParAgRedo();
    if (exe.activationFunction() == ActivationFunction.SILU) {
      add(new Linear("MlpBlock_Mlp1_MoE", CommGroup.TP, false, localExperts, tokensPerExpert, h,
          ff * 2 / es), recomputeFull);
      add(new SwiGLU("MlpBlock_SwiGLU_MoE", false, localExperts, tokensPerExpert, ff / es,
          exe.fusedActivation()), recomputeFull);
    } else {
      add(new Linear("MlpBlock_Mlp1_MoE", CommGroup.TP, false, localExperts, tokensPerExpert, h,
          ff / es), recomputeFull);
      add(new GeLU("MlpBlock_GeLU_MoE", false, localExperts * tokensPerExpert * (ff / es),
          exe.fusedActivation()), recomputeFull);
    }
    add(new Linear("MlpBlock_Mlp2_MoE", CommGroup.TP, false, localExperts, tokensPerExpert, ff / es, h),
        recomputeFull);
    TpComm reduce = add(new TpComm("MlpBlock_Reduce_MoE_ExpertSlice", CommGroup.ES, false,
        batchSeq * k * h, hw.network(exe.expertSliceNet()), exe.expertSlice(), TpCommType.RS_AG,
        true), false);
    reduce.needsRecomm = recomputeAg;
    reduce.activationStored = false;
    ExpertAllToAll a2a = add(new ExpertAllToAll("MlpBlock_All2All_MoE_Expert", false,
        batchSeq * k / es * h, hw.network(exe.expertParNet()), exe.expertPar()), false);
    a2a.activationStored = false;
    a2a.outputStored = false;
    long residual = seqPar ? batchSeq / tp * h : batchSeq * h;
    residualAdd("MlpBlock_MoE_Add", false, residual);
  }
}
