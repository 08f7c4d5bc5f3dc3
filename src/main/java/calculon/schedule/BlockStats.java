package calculon.schedule;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.CommGroup;
import calculon.model.Layer;
import calculon.model.Layers;
import calculon.model.ModelVersion;
import calculon.model.Stage;
import calculon.model.StorageBytes;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.List;

/**
 * Totals of one block for one microbatch (reference _compute_block_stats): compute per pass,
 * communication per group (TP / EP / ES), pass (forward, backward, re-communication) and block
 * position (base block, or edge block at a pipeline-stage boundary), and memory.
 */
final class BlockStats {
  static final int BASE = 0, EDGE = 1;
  /** Communication passes. */
  static final int FWD = 0, BWD = 1, RECOMM = 2;

  // compute per pass: flops, flops time, bytes, bytes time, processing time
  final double[] flops = new double[Stage.values().length];
  final double[] flopsTime = new double[Stage.values().length];
  final double[] memAccessed = new double[Stage.values().length];
  final double[] memTime = new double[Stage.values().length];
  final double[] time = new double[Stage.values().length];
  double reFlops, reFlopsTime, reMemAccessed, reMemTime, reTime;

  private static final int GROUPS = CommGroup.values().length;
  /** [group][pass][base/edge] */
  final double[][][] commSize = new double[GROUPS][3][2];
  final double[][][] commTime = new double[GROUPS][3][2];
  final double[][][] commExposed = new double[GROUPS][3][2];
  double tpBwOverlapReq;
  /** Expert all-to-all link seconds [pass FWD/BWD][tier 0, EP tier above it] (base and edge blocks alike). */
  final double[][] epTierTime = new double[2][2];
  /** The block's halves around its expert all-to-alls ({@link EpA2aOverlap}): attention side, expert side. */
  static final int ATTN = 0, MLP = 1;
  /** The all-to-alls of a MoE block ({@link EpA2aOverlap}): tokens to experts, and back. */
  static final int DISPATCH = 0, COMBINE = 1;
  /**
   * Seconds one forward-backward pair of this block adds beyond its compute when Megatron-Core
   * runs their all-to-alls beside each other's compute ({@link EpA2aOverlap#pairExtraSeconds}),
   * from the block's compute split around its all-to-alls; 0 unless the step pairs its passes
   * ({@link EpA2aOverlap#pairs}).
   */
  double a2aPairExtraSeconds;

  /** Weights synchronised over DP (attention, router, dense MLPs) and over DP_exp (routed experts). */
  double weightSpace, dpWeightSpace, expertWeightSpace;
  double weightParams, dpWeightParams, expertWeightParams;
  double actWorkingSpace, actStorageSpace, actCheckpointSize;
  /**
   * Full-recompute checkpoint bytes of one microbatch per block slot: a block's own
   * {@link #actCheckpointSize}; for a stage's average block ({@link #stageAverage}) the stage's
   * blocks' checkpoints over its slots, so that the slots times this is what the stage's own
   * blocks keep (empty slots keep none). Megatron-Core's {@code TransformerBlock._checkpointed_forward}
   * keeps one input per checkpointed layer of its stage ({@code num_layers_per_pipeline_rank},
   * the stage's own layers). {@link #actCheckpointSize} stays one block's (the largest).
   */
  double actCheckpointPerSlot;
  double weightGradSpace, weightGradSpaceNoSharding, actGradSpace, optimizerSpace;
  /** Full weight-gradient buffers in the gradient datatype, synchronised over DP and over DP_exp. */
  double dpGradBuffer, expertGradBuffer;
  /** The block's weight gradients in the compute datatype, as autograd writes them ({@link Layer#computeDtypeGradient}). */
  double computeDtypeGradBytes;
  double fwPpSize, bwPpSize;
  double usefulFlops;
  /**
   * Bytes one microbatch keeps between a split backward's input-gradient pass B and its deferred
   * weight-gradient pass W: each weighted layer's input and the gradient of its output, which the
   * weight-gradient GEMM reads (Qi et al. 2024, arXiv 2401.10241, Table 1: W needs 32sbh of a
   * layer's 34sbh + 5as^2b, the four linear layers' inputs 2+2+2+8 and output gradients 6+2+8+2;
   * the same accounting as the sail-sg zero-bubble code's {@code mem_w = -32 * h}). 0 when not
   * training.
   */
  double weightGradInputsSpace;

  private BlockStats() {}

  /**
   * The average block of a pipeline stage whose blocks differ (dense and MoE blocks, vocabulary
   * layers on the first and last stage): additive quantities are the stage's totals divided by
   * {@code blocksPerProc}, so the batch model's per-block formulas give the stage's totals; the
   * working space (one block's at a time), the TP bandwidth requirement and one block's checkpoint
   * ({@link #actCheckpointSize}) are the largest block's; {@link #actCheckpointPerSlot} is additive.
   * Empty slots (a stage with fewer blocks than {@code blocksPerProc}) count as nothing.
   */
  static BlockStats stageAverage(List<BlockStats> blocks, int blocksPerProc) {
    BlockStats a = new BlockStats();
    double w = 1.0 / blocksPerProc;
    for (BlockStats b : blocks) {
      for (int i = 0; i < a.flops.length; i++) {
        a.flops[i] += b.flops[i] * w;
        a.flopsTime[i] += b.flopsTime[i] * w;
        a.memAccessed[i] += b.memAccessed[i] * w;
        a.memTime[i] += b.memTime[i] * w;
        a.time[i] += b.time[i] * w;
      }
      a.reFlops += b.reFlops * w;
      a.reFlopsTime += b.reFlopsTime * w;
      a.reMemAccessed += b.reMemAccessed * w;
      a.reMemTime += b.reMemTime * w;
      a.reTime += b.reTime * w;
      for (int g = 0; g < GROUPS; g++) {
        for (int p = 0; p < 3; p++) {
          for (int pos = 0; pos < 2; pos++) {
            a.commSize[g][p][pos] += b.commSize[g][p][pos] * w;
            a.commTime[g][p][pos] += b.commTime[g][p][pos] * w;
            a.commExposed[g][p][pos] += b.commExposed[g][p][pos] * w;
          }
        }
      }
      a.tpBwOverlapReq = Math.max(a.tpBwOverlapReq, b.tpBwOverlapReq);
      for (int p = 0; p < 2; p++) {
        a.epTierTime[p][0] += b.epTierTime[p][0] * w;
        a.epTierTime[p][1] += b.epTierTime[p][1] * w;
      }
      // per block, so that no block's all-to-all hides behind another block's compute
      a.a2aPairExtraSeconds += b.a2aPairExtraSeconds * w;
      a.weightSpace += b.weightSpace * w;
      a.dpWeightSpace += b.dpWeightSpace * w;
      a.expertWeightSpace += b.expertWeightSpace * w;
      a.weightParams += b.weightParams * w;
      a.dpWeightParams += b.dpWeightParams * w;
      a.expertWeightParams += b.expertWeightParams * w;
      a.actWorkingSpace = Math.max(a.actWorkingSpace, b.actWorkingSpace);
      a.actStorageSpace += b.actStorageSpace * w;
      // one block's checkpoint (every recomputed block keeps the same); the largest, so that a stage
      // of a partial recompute whose last block is not recomputed still reports it
      a.actCheckpointSize = Math.max(a.actCheckpointSize, b.actCheckpointSize);
      a.actCheckpointPerSlot += b.actCheckpointPerSlot * w;
      a.weightGradSpace += b.weightGradSpace * w;
      a.weightGradSpaceNoSharding += b.weightGradSpaceNoSharding * w;
      a.actGradSpace = Math.max(a.actGradSpace, b.actGradSpace);
      a.optimizerSpace += b.optimizerSpace * w;
      a.dpGradBuffer += b.dpGradBuffer * w;
      a.expertGradBuffer += b.expertGradBuffer * w;
      a.computeDtypeGradBytes += b.computeDtypeGradBytes * w;
      a.fwPpSize = b.fwPpSize;
      a.bwPpSize = b.bwPpSize;
      a.usefulFlops += b.usefulFlops * w;
      a.weightGradInputsSpace += b.weightGradInputsSpace * w;
    }
    return a;
  }

  /**
   * The totals of one block's {@code layers} for {@code exe}: activations of one microbatch are
   * {@code microbatch * seq / CP * hidden} elements ({@code (microbatch * seq / CP / TP) * hidden}
   * under sequence parallelism; context parallelism gives each rank seq_size / CP tokens of every
   * sequence), at the model version's activation storage bytes per element.
   */
  static BlockStats of(List<Layer> layers, Application app, Execution exe, Hardware hw, ModelVersion version) {
    long batchSeq = (long) exe.microbatchSize() * app.seqSize() / exe.contextPar();
    // only a step that pairs its passes splits its blocks' compute: no other block pays for it
    double pairShare = EpA2aOverlap.pairs(exe, version.corrected())
        ? EpA2aOverlap.commComputeShare(exe, hw) : Double.NaN;
    return new BlockStats(layers, exe, StorageBytes.of(exe, version).activations(),
        batchSeq * app.hidden(), (batchSeq / exe.tensorPar()) * app.hidden(),
        BlockBuilder.checkpointElements(app, exe, version), pairShare);
  }

  /**
   * @param checkpointElems elements of the block input kept per block under full recompute
   *     ({@link BlockBuilder#checkpointElements})
   * @param pairShare the share of compute an overlapped all-to-all takes
   *     ({@link EpA2aOverlap#commComputeShare}) when the step pairs its passes, which sets
   *     {@link #a2aPairExtraSeconds}; NaN when it does not
   */
  BlockStats(List<Layer> layers, Execution exe, double bytesPerElement, long activationElems,
             long seqParActivationElems, long checkpointElems, double pairShare) {
    double bpe = bytesPerElement;
    boolean training = exe.training();
    boolean full = exe.activationRecompute() == Recompute.FULL;
    if (training && full) {
      actCheckpointSize = checkpointElems * bpe;
    }
    actCheckpointPerSlot = actCheckpointSize;
    boolean sides = !Double.isNaN(pairShare);
    // the pair's compute [pass FWD/BWD][ATTN/MLP] (each layer's processing time and exposed TP,
    // ES and CP communication, base block; the MLP side lies between the dispatch and the combine)
    // and its all-to-alls [pass FWD/BWD][DISPATCH/COMBINE]
    double[][] side = sides ? new double[2][2] : null;
    double[][] a2aSeconds = sides ? new double[2][2] : null;
    int a2asSeen = 0;
    for (Layer layer : layers) {
      int g = layer.group().ordinal();
      if (layer instanceof Layers.ExpertAllToAll a2a) {
        epTierTime[FWD][0] += a2a.tierSeconds(Stage.FW, false);
        epTierTime[FWD][1] += a2a.tierSeconds(Stage.FW, true);
        if (training) {
          epTierTime[BWD][0] += a2a.tierSeconds(Stage.AGRAD, false);
          epTierTime[BWD][1] += a2a.tierSeconds(Stage.AGRAD, true);
        }
        if (sides) {
          int which = a2asSeen == 0 ? DISPATCH : COMBINE;
          a2aSeconds[FWD][which] += a2a.exposedNetTime(Stage.FW, true);
          if (training) {
            a2aSeconds[BWD][which] += a2a.exposedNetTime(Stage.AGRAD, true);
          }
        }
        a2asSeen++;
      } else if (sides) {
        addSide(side, layer, a2asSeen == 1 ? MLP : ATTN, training, full);
      }
      accumulatePass(layer, Stage.FW);
      accumulateComm(layer, Stage.FW, g, FWD);
      tpBwOverlapReq = Math.max(tpBwOverlapReq, layer.requiredBandwidth(Stage.FW, true));
      tpBwOverlapReq = Math.max(tpBwOverlapReq, layer.requiredBandwidth(Stage.FW, false));
      usefulFlops += layer.usefulFlops(Stage.FW);
      if (training) {
        if (layer.needsRecompute()) {
          double share = layer.recomputedShare();
          reFlops += share * layer.flops(Stage.FW);
          reFlopsTime += share * layer.flopsTime(Stage.FW);
          reMemAccessed += share * layer.memAccessed(Stage.FW);
          reMemTime += share * layer.memTime(Stage.FW);
          reTime += share * layer.processingTime(Stage.FW);
        }
        if (layer.needsRecomm()) {
          accumulateComm(layer, Stage.WGRAD, g, RECOMM);
        }
        accumulatePass(layer, Stage.AGRAD);
        accumulateComm(layer, Stage.AGRAD, g, BWD);
        tpBwOverlapReq = Math.max(tpBwOverlapReq, layer.requiredBandwidth(Stage.AGRAD, true));
        tpBwOverlapReq = Math.max(tpBwOverlapReq, layer.requiredBandwidth(Stage.AGRAD, false));
        accumulatePass(layer, Stage.WGRAD);
        accumulatePass(layer, Stage.OPTIM);
        usefulFlops += layer.usefulFlops(Stage.AGRAD) + layer.usefulFlops(Stage.WGRAD) + layer.usefulFlops(Stage.OPTIM);
      }
      double w = layer.weight();
      weightSpace += w;
      weightParams += layer.weightParams();
      if (!layer.expertReplica()) {
        dpWeightSpace += w;
        dpWeightParams += layer.weightParams();
      } else {
        expertWeightSpace += w;
        expertWeightParams += layer.weightParams();
      }
      double act = layer.activation();
      if (!layer.reusesActivation()) {
        actWorkingSpace += act;
      }
      // Bookkeeping as the reference: a layer adds its input; a layer that does not keep its
      // output cancels the next layer's input, one that does not keep its input cancels its own.
      // Single entries go negative by design; see docs/deviations.md on MoE layers (quirk 21).
      double stored = act;
      if (training) {
        if (!layer.storesOutput()) {
          stored -= layer.output();
        }
        if (!layer.storesActivation()) {
          stored -= act;
        }
      }
      if (training) {
        stored += layer.savedOutput();
      }
      actStorageSpace += stored;
      if (training) {
        if (layer.weightParams() > 0) {
          weightGradInputsSpace += act + layer.output();
        }
        weightGradSpace += layer.weightGrad(true);
        weightGradSpaceNoSharding += layer.weightGrad(false);
        actGradSpace += layer.activationGrad();
        optimizerSpace += layer.optimizer();
        if (layer.expertReplica()) {
          expertGradBuffer += layer.gradientBuffer();
        } else {
          dpGradBuffer += layer.gradientBuffer();
        }
        computeDtypeGradBytes += layer.computeDtypeGradient();
      }
    }
    if (full) {
      actStorageSpace = 0;
    }
    if (exe.pipelinePar() > 1) {
      fwPpSize = (exe.pipelineParRsAg() ? seqParActivationElems : activationElems) * bpe;
    }
    bwPpSize = training ? fwPpSize : 0;
    if (sides) {
      a2aPairExtraSeconds = EpA2aOverlap.pairExtraSeconds(side, a2aSeconds, pairShare);
    }
  }

  /**
   * Adds {@code layer}'s compute-stream seconds to {@code side} of {@code sides} [pass][ATTN/MLP]. A selective
   * recompute runs inside its module's backward node, so it is the backward's; a full recompute
   * (Megatron-Core's VPP-stage recompute, {@code recompute_model_chunk_schedule_plan}) runs the
   * stage's forward before the paired backward starts, outside the pairs, and is left out.
   */
  private static void addSide(double[][] sides, Layer layer, int side, boolean training, boolean fullRecompute) {
    sides[FWD][side] += layer.processingTime(Stage.FW) + layer.exposedNetTime(Stage.FW, true);
    if (training) {
      double re = layer.needsRecompute() && !fullRecompute
          ? layer.recomputedShare() * layer.processingTime(Stage.FW) : 0;
      double recomm = layer.needsRecomm() ? layer.exposedNetTime(Stage.WGRAD, true) : 0;
      sides[BWD][side] += layer.processingTime(Stage.AGRAD) + layer.processingTime(Stage.WGRAD)
          + layer.exposedNetTime(Stage.AGRAD, true) + re + recomm;
    }
  }

  private void accumulatePass(Layer layer, Stage s) {
    int i = s.ordinal();
    flops[i] += layer.flops(s);
    flopsTime[i] += layer.flopsTime(s);
    memAccessed[i] += layer.memAccessed(s);
    memTime[i] += layer.memTime(s);
    time[i] += layer.processingTime(s);
  }

  private void accumulateComm(Layer layer, Stage s, int g, int pass) {
    commSize[g][pass][BASE] += layer.commBytes(s, true);
    commSize[g][pass][EDGE] += layer.commBytes(s, false);
    commTime[g][pass][BASE] += layer.netTime(s, true);
    commTime[g][pass][EDGE] += layer.netTime(s, false);
    commExposed[g][pass][BASE] += layer.exposedNetTime(s, true);
    commExposed[g][pass][EDGE] += layer.exposedNetTime(s, false);
  }

  double size(CommGroup g, int pass, int pos) { return commSize[g.ordinal()][pass][pos]; }

  double linkTime(CommGroup g, int pass, int pos) { return commTime[g.ordinal()][pass][pos]; }

  double exposed(CommGroup g, int pass, int pos) { return commExposed[g.ordinal()][pass][pos]; }

  /**
   * Writes the block's own figures into {@code stats}: per pass its flops, flops time, bytes,
   * bytes time and processing time (recomputation as a pass), its TP communication times and
   * every group's communication bytes (base and edge block), its pipeline transfer sizes, the TP
   * overlap bandwidth requirement and its memory sizes (bytes, seconds, bytes per second).
   */
  void write(Stats stats) {
    int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal(),
        op = Stage.OPTIM.ordinal();
    // the reference's key order groups each pass's five compute figures, then its four TP comm
    // times (base/edge, link/exposed), and the comm sizes as base/edge pairs
    setPass(stats, StatField.BLOCK_FW_FLOPS, flops[fw], flopsTime[fw], memAccessed[fw], memTime[fw], time[fw]);
    setTpComm(stats, StatField.BASEBLOCK_FW_TP_TIME, FWD);
    setPass(stats, StatField.BLOCK_RE_FLOPS, reFlops, reFlopsTime, reMemAccessed, reMemTime, reTime);
    setTpComm(stats, StatField.BASEBLOCK_TP_RECOMM_TIME, RECOMM);
    setPass(stats, StatField.BLOCK_AGRAD_FLOPS, flops[ag], flopsTime[ag], memAccessed[ag], memTime[ag], time[ag]);
    setTpComm(stats, StatField.BASEBLOCK_AGRAD_TP_TIME, BWD);
    setPass(stats, StatField.BLOCK_WGRAD_FLOPS, flops[wg], flopsTime[wg], memAccessed[wg], memTime[wg], time[wg]);
    setPass(stats, StatField.BLOCK_OPTIM_FLOPS, flops[op], flopsTime[op], memAccessed[op], memTime[op], time[op]);
    setSizes(stats, StatField.BASEBLOCK_FW_TP_SIZE, CommGroup.TP, FWD);
    setSizes(stats, StatField.BASEBLOCK_FW_EP_SIZE, CommGroup.EP, FWD);
    setSizes(stats, StatField.BASEBLOCK_FW_ES_SIZE, CommGroup.ES, FWD);
    setSizes(stats, StatField.BASEBLOCK_BW_TP_SIZE, CommGroup.TP, BWD);
    setSizes(stats, StatField.BASEBLOCK_BW_EP_SIZE, CommGroup.EP, BWD);
    setSizes(stats, StatField.BASEBLOCK_BW_ES_SIZE, CommGroup.ES, BWD);
    setSizes(stats, StatField.BASEBLOCK_TP_RECOMM_SIZE, CommGroup.TP, RECOMM);
    setSizes(stats, StatField.BASEBLOCK_ES_RECOMM_SIZE, CommGroup.ES, RECOMM);
    setSizes(stats, StatField.BASEBLOCK_EP_RECOMM_SIZE, CommGroup.EP, RECOMM);
    stats.set(StatField.BLOCK_FW_PP_SIZE, fwPpSize);
    stats.set(StatField.BLOCK_BW_PP_SIZE, bwPpSize);
    stats.set(StatField.TP_BW_OVERLAP_REQ, tpBwOverlapReq);
    stats.set(StatField.BLOCK_WEIGHT_SPACE, weightSpace);
    stats.set(StatField.BLOCK_ACT_WORKING_SPACE, actWorkingSpace);
    stats.set(StatField.BLOCK_ACT_STORAGE_SPACE, actStorageSpace);
    stats.set(StatField.BLOCK_ACT_CHECKPOINT_SIZE, actCheckpointSize);
    stats.set(StatField.BLOCK_WEIGHT_GRAD_SPACE, weightGradSpace);
    stats.set(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING, weightGradSpaceNoSharding);
    stats.set(StatField.BLOCK_ACT_GRAD_SPACE, actGradSpace);
    stats.set(StatField.BLOCK_OPTIMIZER_SPACE, optimizerSpace);
  }

  /** Five consecutive fields: flops, flops time, bytes, bytes time, processing time. */
  private static void setPass(Stats stats, StatField first, double flops, double flopsTime, double mem,
                              double memTime, double time) {
    StatField[] all = StatField.all();
    int i = first.ordinal();
    stats.set(all[i], flops);
    stats.set(all[i + 1], flopsTime);
    stats.set(all[i + 2], mem);
    stats.set(all[i + 3], memTime);
    stats.set(all[i + 4], time);
  }

  /** Four consecutive fields: TP link time of base and edge blocks, then their exposed times. */
  private void setTpComm(Stats stats, StatField first, int pass) {
    StatField[] all = StatField.all();
    int i = first.ordinal();
    stats.set(all[i], linkTime(CommGroup.TP, pass, BASE));
    stats.set(all[i + 1], linkTime(CommGroup.TP, pass, EDGE));
    stats.set(all[i + 2], exposed(CommGroup.TP, pass, BASE));
    stats.set(all[i + 3], exposed(CommGroup.TP, pass, EDGE));
  }

  /** Two consecutive fields: the comm bytes of base and edge blocks. */
  private void setSizes(Stats stats, StatField first, CommGroup g, int pass) {
    StatField[] all = StatField.all();
    stats.set(all[first.ordinal()], size(g, pass, BASE));
    stats.set(all[first.ordinal() + 1], size(g, pass, EDGE));
  }

  /** {@code start} plus the exposed communication of every group (TP, EP, ES, CP) in one pass and position, added in that order. */
  double addExposed(double start, int pass, int pos) {
    double t = start;
    for (int g = 0; g < GROUPS; g++) {
      t += commExposed[g][pass][pos];
    }
    return t;
  }
}
