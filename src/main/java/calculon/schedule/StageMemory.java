package calculon.schedule;

import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Memory one pipeline stage needs, in bytes per processor, and where it lives: tier 1 (the GPU's
 * HBM) and tier 2 (offload memory). The one place the step model turns per-block sizes
 * ({@link BlockStats}) into a stage's requirement: weights, stored activations (or full-recompute
 * checkpoints) of the microbatches the stage holds in flight, the working space of one block,
 * weight gradients, optimizer state, and what stays resident when a kind of state is offloaded
 * (Calculon's llm.py memory accounting; spec section "memory").
 */
final class StageMemory {
  /** Offloaded state keeps this many blocks resident in tier 1 (double buffering; reference llm.py:3441,3469,3508). */
  static final int RESIDENT_BLOCKS_WHEN_OFFLOADED = 2;
  /**
   * Blocks whose full weights a ZeRO-3 / FSDP rank holds at once: the one being computed and the
   * one prefetched (FSDP's forward/backward prefetch with its rate limiter of two in-flight
   * all-gathers, Zhao et al. 2023, arXiv 2304.11277, Section 3.3.2 and 4.3).
   */
  static final int ZERO3_GATHERED_BLOCKS = 2;

  /**
   * Whether a ZeRO-3 / FSDP stage keeps every block's gathered weights and its unsharded
   * gradients from its first microbatch to the end of the step: with pipeline parallelism. The
   * one runtime that pairs FSDP with pipeline stages, {@code torch.distributed.pipelining}
   * ({@code _PipelineStageBase.backward_maybe_with_nosync} in PyTorch 2.6, the version of
   * torchtitan's end-2024 benchmarks; later versions defer the reduction as a schedule action), turns off
   * FSDP2's resharding after backward and its gradient reduce-scatter for every microbatch and
   * reduces once after the stage's last backward ({@code run_post_backward}); FSDP2 keeps the
   * unsharded gradients meanwhile in its reduce datatype
   * ({@code FSDPParam.to_accumulated_grad_if_needed}), and torchtitan also keeps the weights
   * gathered after forward when PP is on ({@code apply_fsdp}: {@code reshard_after_forward =
   * False}, commit 9dec370; policy "default" since 5940dde). DeepSpeed refuses ZeRO-3 with its
   * pipeline engine. Without PP, every microbatch gathers and reduces each block (ZeRO-3).
   *
   * @param zeroStage the execution's ZeRO stage (corrected model)
   * @param pipelinePar PP
   */
  static boolean zero3HoldsStage(int zeroStage, int pipelinePar) {
    return zeroStage >= 3 && pipelinePar > 1;
  }

  /**
   * What one microbatch in flight keeps of a stage that recomputes only part of its blocks, or
   * whole groups of blocks from one checkpoint ({@code recompute_method} block, or uniform with
   * {@code recompute_num_layers} N &gt; 1; Megatron-Core's {@code checkpointed_forward},
   * megatron/core/recompute.py), from the stage's own blocks ({@code Evaluator}):
   *
   * @param workingBytes    the largest working space of a block of the stage as it runs in the
   *                        backward pass: an unrecomputed block's, or a recomputed one's (which
   *                        can keep less, e.g. no attention statistics), or under uniform with
   *                        groups of several blocks the unrecomputed block's (the group runs its
   *                        forward again with autograd)
   * @param checkpointBytes the stage's checkpoints: each recomputed block's input (block), or each
   *                        group's first block's input (uniform)
   * @param storedBytes     the stored activations of the blocks that run without recompute
   *                        (block; 0 under uniform)
   * @param liveExtraBytes  what the stage holds besides its working block and the above at its
   *                        peak: under block minus one unrecomputed block's stored activations
   *                        (the block being computed holds them as its working space, as without
   *                        recompute); under uniform the largest group's recomputed activations
   *                        but its last block's (the group's forward runs again with autograd
   *                        before its backward, so all its blocks' activations are live while its
   *                        last block, the first backpropagated, works)
   */
  record PartialRecompute(double workingBytes, double checkpointBytes, double storedBytes, double liveExtraBytes) {
    /**
     * The working space of a stage under {@code uniform} with groups of N &gt; 1 blocks, in bytes:
     * {@code workingBytes + liveExtraBytes}. Megatron-Core's {@code TransformerBlock._checkpointed_forward}
     * (megatron/core/transformer/transformer_block.py, {@code recompute_method == 'uniform'}) runs
     * {@code checkpoint_handler(custom(layer_idx, layer_idx + recompute_num_layers))}: one checkpoint
     * (the group's input) for N layers, and {@code tensor_parallel.checkpoint}'s backward runs the N
     * layers' forward again with autograd before backpropagating them, so while the group's last
     * block is backpropagated the stored activations of its other N - 1 blocks are live beside that
     * block's working space (an unrecomputed block's): for equal blocks of working space W and
     * stored activations s, W + (N - 1) s, where each block recomputed from its own checkpoint
     * (N = 1) needs W' &le; W. The stage's figure takes its largest group. Not for {@code block}
     * (whose {@code liveExtraBytes} is negative; its working space is {@code workingBytes}).
     */
    double groupWorkingBytes() {
      return workingBytes + liveExtraBytes;
    }
  }

  final double weightSpace, actSpace, checkpoint, actGrad, weightGrad, optimizer;
  final double weightMin, actMin, checkpointMin, weightGradMin, optimizerMin;
  final double tier1, tier2;
  private final boolean training, full;
  private final boolean weightOffload, activationsOffload, optimizerOffload;
  /** The weight gradients tier 2 holds under optimizer offload. */
  private final double offloadedWeightGrad;

  /**
   * @param b          the stage's (average) block
   * @param blocks     blocks the stage holds (its slots: the batch model's blocks per processor)
   * @param inFlight   microbatches whose activations the stage holds at its peak
   *                   ({@link PipelineSchedule#inFlightMicrobatches} in the corrected model)
   * @param parameterCopies copies of the stage's weights, weight gradients and optimizer state the
   *                   processor holds ({@link PipelineSchedule#parameterCopies}: 2 under DualPipe)
   * @param corrected  the corrected model version; false: Calculon-MoE's accounting, which keeps
   *                   one microbatch of stored activations however many are in flight (quirk 15)
   */
  StageMemory(BlockStats b, int blocks, double inFlight, int parameterCopies, Execution exe, boolean corrected) {
    this(b, inFlight, null, 0, blocks, parameterCopies, exe, corrected, null, null);
  }

  /** {@link #StageMemory(BlockStats, int, double, int, Execution, boolean)} of a stage of a partial recompute ({@code partial} not null). */
  StageMemory(BlockStats b, int blocks, double inFlight, int parameterCopies, Execution exe, boolean corrected,
              PartialRecompute partial) {
    this(b, inFlight, null, 0, blocks, parameterCopies, exe, corrected, partial, null);
  }

  /** {@link #StageMemory(BlockStats, double, BlockStats, double, int, int, Execution, boolean, PartialRecompute, PartialRecompute)} without partial recompute. */
  StageMemory(BlockStats b, double inFlight, BlockStats mirror, double mirrorInFlight, int blocks,
              int parameterCopies, Execution exe, boolean corrected) {
    this(b, inFlight, mirror, mirrorInFlight, blocks, parameterCopies, exe, corrected, null, null);
  }

  /**
   * A processor that runs two pipeline stages, each with its own blocks and its own microbatches
   * in flight: DualPipe's rank k runs stage k for one direction and stage p - 1 - k for the other
   * ({@link DualPipe#mirroredInFlight}). Weights, weight gradients, optimizer state and
   * full-recompute checkpoints are the two stages' sum; stored activations are each stage's
   * per-microbatch storage times its own microbatches, with one working block (the own stage's);
   * the activation-gradient buffer is the larger stage's. With {@code mirror} null (one stage),
   * {@code parameterCopies} copies of {@code b}'s state.
   *
   * @param mirror         the other stage's (average) block, or null
   * @param mirrorInFlight microbatches of {@code mirror} in flight (0 without one)
   * @param partial        the stage's partial recompute ({@link PartialRecompute}), or null when it
   *                       recomputes all its blocks each from its own checkpoint, or none
   * @param mirrorPartial  the mirror stage's, or null
   */
  StageMemory(BlockStats b, double inFlight, BlockStats mirror, double mirrorInFlight, int blocks,
              int parameterCopies, Execution exe, boolean corrected, PartialRecompute partial,
              PartialRecompute mirrorPartial) {
    training = exe.training();
    // a partial recompute keeps both stored activations and checkpoints (counted below); activation
    // offload, the only other reader of this flag, is refused with it (ExecutionReader.check,
    // RunChecks.check); a block recompute of every block runs as plain full recompute
    // (Evaluator.asRun), so it comes here with partial null and offloads its checkpoints
    full = exe.activationRecompute() == Recompute.FULL && partial == null;
    weightOffload = exe.weightOffload();
    activationsOffload = exe.activationsOffload();
    optimizerOffload = exe.optimizerOffload();
    int zero = corrected ? exe.zeroStage() : 0;
    weightSpace = (weights(b, blocks, exe, zero) + (mirror == null ? 0 : weights(mirror, blocks, exe, zero)))
        * parameterCopies;
    double act, ckpt = 0, agrad = 0, wgrad = 0, opt = 0;
    if (training) {
      if (partial != null) {
        act = partial.workingBytes() + partial.storedBytes() * inFlight + partial.liveExtraBytes()
            + (mirrorPartial == null ? 0 : mirrorPartial.storedBytes() * mirrorInFlight);
        ckpt = partial.checkpointBytes() * inFlight
            + (mirrorPartial == null ? 0 : mirrorPartial.checkpointBytes() * mirrorInFlight);
      } else if (full) {
        act = b.actWorkingSpace;
        // the corrected model: each stage its own blocks' checkpoints (Megatron-Core's
        // TransformerBlock._checkpointed_forward keeps one input per checkpointed layer of the
        // stage, num_layers_per_pipeline_rank), so a stage of fewer blocks than its slots (uneven
        // stages, the last stage of blocks PP does not divide) keeps fewer; Calculon-MoE charges
        // one checkpoint per slot
        ckpt = blocks * checkpointPerSlot(b, corrected) * inFlight
            + (mirror == null ? 0 : blocks * checkpointPerSlot(mirror, corrected) * mirrorInFlight);
      } else if (corrected) {
        act = b.actWorkingSpace + b.actStorageSpace * (blocks * inFlight - 1)
            + (mirror == null ? 0 : mirror.actStorageSpace * blocks * mirrorInFlight);
      } else if (exe.pipelinePar() > 1) {
        act = b.actWorkingSpace + b.actStorageSpace * (blocks - 1);
      } else {
        act = b.actWorkingSpace + b.actStorageSpace;
      }
      agrad = mirror == null ? b.actGradSpace : Math.max(b.actGradSpace, mirror.actGradSpace);
      wgrad = weightGrads(b, blocks, exe, zero, corrected)
          + (mirror == null ? 0 : weightGrads(mirror, blocks, exe, zero, corrected));
      opt = b.optimizerSpace * blocks + (mirror == null ? 0 : mirror.optimizerSpace * blocks);
    } else {
      act = b.actWorkingSpace;
    }
    actSpace = act;
    checkpoint = ckpt;
    actGrad = agrad;
    weightGrad = wgrad * parameterCopies;
    optimizer = opt * parameterCopies;

    weightMin = b.weightSpace * RESIDENT_BLOCKS_WHEN_OFFLOADED;
    actMin = full ? b.actWorkingSpace : b.actWorkingSpace + b.actStorageSpace;
    checkpointMin = training && full ? b.actCheckpointSize * RESIDENT_BLOCKS_WHEN_OFFLOADED : 0;
    weightGradMin = training ? b.weightGradSpaceNoSharding + b.weightGradSpace : 0;
    optimizerMin = training ? b.optimizerSpace * RESIDENT_BLOCKS_WHEN_OFFLOADED : 0;

    double t1 = 0, t2 = 0;
    if (exe.weightOffload()) {
      t1 += weightMin;
      t2 += weightSpace;
    } else {
      t1 += weightSpace;
    }
    if (exe.activationsOffload()) {
      if (!full) {
        t1 += actMin;
        t2 += actSpace;
      } else {
        t1 += actMin;
        t1 += checkpointMin;
        t2 += checkpoint;
      }
    } else {
      t1 += actSpace;
      t1 += checkpoint;
    }
    if (exe.optimizerOffload()) {
      t1 += weightGradMin;
      t1 += optimizerMin;
      // the offloaded gradients: the stage's own gradient accounting in the corrected model (for
      // ZeRO-1 the full buffer, with every parameter copy); Calculon counts one sharded block
      // gradient per block whatever it kept in tier 1 (reference llm.py, optimizer offload)
      t2 += corrected ? weightGrad : b.weightGradSpace * blocks;
      t2 += optimizer;
      offloadedWeightGrad = corrected ? weightGrad : b.weightGradSpace * blocks;
    } else {
      offloadedWeightGrad = 0;
      t1 += weightGrad + optimizer;
    }
    t1 += actGrad;
    tier1 = t1;
    tier2 = t2;
  }

  /**
   * Checkpoint bytes of one microbatch per block slot of a stage whose (average) block is
   * {@code b}: {@link BlockStats#actCheckpointPerSlot} in the corrected model, the largest block's
   * {@link BlockStats#actCheckpointSize} in Calculon-MoE's accounting.
   */
  private static double checkpointPerSlot(BlockStats b, boolean corrected) {
    return corrected ? b.actCheckpointPerSlot : b.actCheckpointSize;
  }

  /**
   * Throws when the stage does not fit in either memory tier (the reference's messages), with
   * its {@link #shortfall} for the command line, built only when asked (searches never do).
   */
  void check(Hardware hw) throws Infeasible {
    if (tier1 > hw.mem1().capacityBytes()) {
      double need = tier1;
      throw new Infeasible(Infeasible.Rule.MEMORY_TIER1, () -> overCapacity(1, need, hw.mem1().capacityBytes()))
          .withMemory(() -> shortfall(1, hw.mem1().capacityBytes(), -1, 1, 1));
    }
    if (tier2 > hw.mem2().capacityBytes()) {
      double need = tier2;
      throw new Infeasible(Infeasible.Rule.MEMORY_TIER2, () -> overCapacity(2, need, hw.mem2().capacityBytes()))
          .withMemory(() -> shortfall(2, hw.mem2().capacityBytes(), -1, 1, 1));
    }
  }

  /**
   * This stage's need in memory tier {@code tier} against {@code capacityBytes}, with its parts
   * largest first (see {@link Infeasible.MemoryShortfall}).
   *
   * @param stage the pipeline stage this is (from 0), or -1 when it is the only one checked
   */
  Infeasible.MemoryShortfall shortfall(int tier, double capacityBytes, int stage, int stages, int stagesOver) {
    return new Infeasible.MemoryShortfall(tier, tier == 1 ? tier1 : tier2, capacityBytes, stage, stages,
        stagesOver, parts(tier));
  }

  /**
   * The parts of this stage's need in memory tier {@code tier}, as the constructor adds them up
   * (the offloaded kinds keep their resident blocks in tier 1 and the rest in tier 2), those
   * above 0 bytes, largest first.
   */
  List<Infeasible.MemoryPart> parts(int tier) {
    List<Infeasible.MemoryPart> parts = new ArrayList<>();
    if (tier == 1) {
      part(parts, Infeasible.MemoryKind.WEIGHTS, weightOffload ? weightMin : weightSpace);
      part(parts, Infeasible.MemoryKind.ACTIVATIONS, activationsOffload ? actMin : actSpace);
      part(parts, Infeasible.MemoryKind.ACTIVATION_CHECKPOINTS, activationsOffload ? checkpointMin : checkpoint);
      part(parts, Infeasible.MemoryKind.ACTIVATION_GRADIENTS, actGrad);
      part(parts, Infeasible.MemoryKind.WEIGHT_GRADIENTS, optimizerOffload ? weightGradMin : weightGrad);
      part(parts, Infeasible.MemoryKind.OPTIMIZER_STATE, optimizerOffload ? optimizerMin : optimizer);
    } else {
      part(parts, Infeasible.MemoryKind.WEIGHTS, weightOffload ? weightSpace : 0);
      part(parts, Infeasible.MemoryKind.ACTIVATIONS, activationsOffload && !full ? actSpace : 0);
      part(parts, Infeasible.MemoryKind.ACTIVATION_CHECKPOINTS, activationsOffload && full ? checkpoint : 0);
      part(parts, Infeasible.MemoryKind.WEIGHT_GRADIENTS, offloadedWeightGrad);
      part(parts, Infeasible.MemoryKind.OPTIMIZER_STATE, optimizerOffload ? optimizer : 0);
    }
    // largest first; equal parts keep the order above
    parts.sort(Comparator.comparingDouble(Infeasible.MemoryPart::bytes).reversed());
    return List.copyOf(parts);
  }

  private static void part(List<Infeasible.MemoryPart> parts, Infeasible.MemoryKind kind, double bytes) {
    if (bytes > 0) {
      parts.add(new Infeasible.MemoryPart(kind, bytes));
    }
  }

  /** The reference's message: {@code "Mem tier1 needs 119.885 GiB but only has 80.000 GiB"}. */
  static String overCapacity(int tier, double needBytes, double capacityBytes) {
    return "Mem tier" + tier + " needs " + PyFormat.humanFormat(needBytes, "bytes")
        + " but only has " + PyFormat.humanFormat(capacityBytes, "bytes");
  }

  /**
   * Weights of one copy of a stage of {@code blocks} blocks like {@code b}: whole, or under ZeRO-3
   * / FSDP (Zhao et al. 2023, arXiv 2304.11277, Section 3.2; Rajbhandari et al. 2020, Section 5.3)
   * each rank's shard plus the gathered weights of the block being computed and of the one being
   * prefetched; a pipeline stage keeps all its blocks gathered ({@link #zero3HoldsStage}).
   */
  private static double weights(BlockStats b, int blocks, Execution exe, int zero) {
    if (zero < 3) {
      return b.weightSpace * blocks;
    }
    int gathered = zero3HoldsStage(zero, exe.pipelinePar()) ? blocks : ZERO3_GATHERED_BLOCKS;
    return blocks * zero3ShardBytes(b, exe) + gathered * b.weightSpace;
  }

  /**
   * One rank's ZeRO-3 shard of a block like {@code b}'s weights, in bytes: ZeRO shards over the
   * ranks that hold the same weights, DP x CP for the dense side and DP_exp for routed experts
   * (Megatron-Core's dp_cp and expert data-parallel groups).
   */
  static double zero3ShardBytes(BlockStats b, Execution exe) {
    double denseShards = (double) exe.dataPar() * exe.contextPar();
    double expertShards = exe.modelMoE() ? exe.dataParExp() : denseShards;
    return b.dpWeightSpace / denseShards + b.expertWeightSpace / expertShards;
  }

  /** Weight gradients of one copy of a stage of {@code blocks} blocks like {@code b}. */
  private static double weightGrads(BlockStats b, int blocks, Execution exe, int zero, boolean corrected) {
    if (!corrected || (zero != 1 && !zero3HoldsStage(zero, exe.pipelinePar()))) {
      // Calculon: one block's fp32 accumulation buffer plus the others' gradients in the
      // gradient datatype, sharded with the optimizer state under optimizer sharding: ZeRO-2
      // (Rajbhandari et al. 2020, Section 5.2: each rank keeps the gradients of its shard and
      // one bucket being reduced). calculon-moe reads optimizer_sharding this way; the
      // corrected model for stages 0, 2 and 3 (the layers shard by DP only from stage 2)
      return blocks == 1 ? b.weightGradSpaceNoSharding
          : b.weightGradSpaceNoSharding + b.weightGradSpace * (blocks - 1);
    }
    // ZeRO-1: the full gradient buffer in the gradient datatype (Megatron-Core's DDP buffer,
    // which the distributed optimizer reduce-scatters from; it shards only master weights
    // and moments); ZeRO-3 in a pipeline stage: every block's unsharded gradients in the
    // reduce datatype until the reduce-scatter after the last backward (zero3HoldsStage)
    return blocks * (b.dpGradBuffer + b.expertGradBuffer);
  }

  /**
   * The message of a pipeline whose stages do not all fit in memory tier {@code tier}: the
   * reference's message for the stage that needs the most, that stage (numbered from 0, as
   * Megatron's pipeline ranks) and how many stages do not fit, e.g. {@code "Mem tier1 needs
   * 95.301 GiB but only has 80.000 GiB on pipeline stage 3 of 0-3, the stage that needs the most
   * (4 of the 4 stages do not fit)"}; with one stage over, "(1 of the 4 stages does not fit)".
   *
   * @param needBytes bytes each stage needs in the tier, by stage; at least one is over capacity
   */
  static String largestStageMessage(int tier, double[] needBytes, double capacityBytes) {
    int largest = largestStage(needBytes);
    return largestStageMessage(tier, needBytes[largest], capacityBytes, largest, needBytes.length,
        stagesOver(needBytes, capacityBytes));
  }

  /** {@link #largestStageMessage(int, double[], double)} from the stage's figures. */
  static String largestStageMessage(int tier, double needBytes, double capacityBytes, int stage, int stages,
                                    int stagesOver) {
    return overCapacity(tier, needBytes, capacityBytes) + " on pipeline stage " + stage + " of 0-"
        + (stages - 1) + ", the stage that needs the most (" + stagesOver + " of the " + stages
        + (stagesOver == 1 ? " stages does not fit)" : " stages do not fit)");
  }

  /** The stage that needs the most of {@code needBytes} (the first of equals). */
  static int largestStage(double[] needBytes) {
    int largest = 0;
    for (int stage = 0; stage < needBytes.length; stage++) {
      largest = needBytes[stage] > needBytes[largest] ? stage : largest;
    }
    return largest;
  }

  /** How many stages of {@code needBytes} need more than {@code capacityBytes}. */
  static int stagesOver(double[] needBytes, double capacityBytes) {
    int over = 0;
    for (double need : needBytes) {
      over += need > capacityBytes ? 1 : 0;
    }
    return over;
  }

  /** Writes the per-processor memory fields (not the per-block ones) into {@code stats}. */
  void write(Stats stats, int tensorPar) {
    stats.set(StatField.WEIGHT_SPACE_WITH_OFFLOAD, weightMin);
    stats.set(StatField.ACT_SPACE_WITH_OFFLOAD, actMin);
    if (training) {
      stats.set(StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD, checkpointMin);
    } else {
      // the reference's getter has no inference branch and returns None (spec quirk 28)
      stats.setNull(StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD);
    }
    stats.set(StatField.ACT_GRAD_SPACE_WITH_OFFLOAD, actGrad);
    stats.set(StatField.WEIGHT_GRAD_SPACE_WITH_OFFLOAD, weightGradMin);
    stats.set(StatField.OPTIMIZER_SPACE_WITH_OFFLOAD, optimizerMin);
    stats.set(StatField.WEIGHT_SPACE, weightSpace);
    // the fork multiplies by TP only, ignoring PP, EP and ES (spec quirk 38)
    stats.set(StatField.TOTAL_WEIGHTS_SPACE, weightSpace * tensorPar);
    stats.set(StatField.ACT_SPACE, actSpace);
    // 0 unless the stage keeps checkpoints (full recompute, whole or partial)
    stats.set(StatField.ACT_CHECKPOINT_SIZE, training ? checkpoint : 0);
    stats.set(StatField.ACT_GRAD_SPACE, actGrad);
    stats.set(StatField.WEIGHT_GRAD_SPACE, weightGrad);
    stats.set(StatField.OPTIMIZER_SPACE, optimizer);
    stats.set(StatField.PROC_MEM_TIER1_CAP_REQ, tier1);
    stats.set(StatField.PROC_MEM_TIER2_CAP_REQ, tier2);
  }
}
