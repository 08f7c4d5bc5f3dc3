package calculon.schedule;

import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.stats.StatField;
import calculon.stats.Stats;

/**
 * Offloading weights, activations and optimizer state to tier-2 memory, per block and microbatch
 * (reference {@code _compute_batch_stats}, FORK llm.py:2677-2728 for the overheads, :3230-3256
 * for the sizes, :3558-3609 for the bandwidth requirements; spec sections 3.7 and 3.8): what a
 * block streams through tier 2 in its forward and backward passes, what that stream costs beyond
 * the block's own time, and the bandwidth each kind of offload needs to hide behind the block's
 * compute. Static functions of one block ({@link BlockStats}): the search evaluates millions of
 * executions, so nothing here allocates.
 *
 * <p>Directions: tier 2 is reached over a full-duplex link (PCIe, NVLink-C2C) whose {@code mem2}
 * {@code GBps} is the bandwidth of one direction (systems/SOURCES.md: H100 SXM "PCIe Gen5 x16,
 * 64 GB/s per direction (datasheet: 128 GB/s bidirectional)"; GB200 C2C 900 GB/s bidirectional),
 * and host-to-device and device-to-host copies run at once on separate copy engines (CUDA C++
 * Programming Guide, "Concurrent Data Transfers" / {@code asyncEngineCount} 2). So streams in one
 * direction add their bytes and the two directions do not: the forward pass reads the next
 * block's weights in (host to device) while it writes its activations out (device to host), and
 * needs the larger of the two, as the reference's {@code max}; the backward pass reads weights,
 * activations and optimizer state in, one direction, and needs their sum, as the reference's.
 *
 * <p>ZeRO stage 3 (corrected model): FSDP keeps each rank's shard of the weights in tier 2 and
 * copies that shard host-to-device before each all-gather (PyTorch FSDP2, {@code CPUOffloadPolicy}
 * in torch/distributed/fsdp/_fully_shard/_fsdp_api.py: "Sharded parameters are copied
 * host-to-device before all-gather"), so a block's weight stream is its shard
 * ({@link #weightBytes}), not the gathered block the reference streams.
 */
final class Offload {
  private Offload() {}

  /**
   * Bytes of one block's activations that go to tier 2 when they are offloaded, as Calculon counts
   * them: the block's full-recompute checkpoint, else its stored activations (calculon-moe; the
   * corrected model counts what its stage keeps, {@link #stageActivationBytes}).
   */
  static double activationBytes(Execution exe, BlockStats b) {
    return exe.activationRecompute() == Recompute.FULL ? b.actCheckpointSize : b.actStorageSpace;
  }

  /**
   * Bytes of activations one block slot of a stage sends to tier 2 per microbatch when they are
   * offloaded, in the corrected model: what the stage keeps of one microbatch over its
   * {@code blocksPerProc} slots, so that the stage's slots stream exactly what its own blocks keep.
   * Full recompute: the stage's blocks' checkpoints ({@link BlockStats#actCheckpointPerSlot});
   * a partial recompute ({@code partial} not null; Megatron-Core's
   * {@code TransformerBlock._checkpointed_forward}): under {@code block} its recomputed blocks'
   * checkpoints and its other blocks' stored activations, under {@code uniform} one checkpoint per
   * group ({@link StageMemory.PartialRecompute#checkpointBytes} plus
   * {@link StageMemory.PartialRecompute#storedBytes}); otherwise the stored activations. For one
   * block of a stage of equal blocks this is {@link #activationBytes}.
   *
   * @param b the stage's (average) block
   * @param partial the stage's partial recompute, or null
   * @param blocksPerProc the stage's block slots
   */
  static double stageActivationBytes(Execution exe, BlockStats b, StageMemory.PartialRecompute partial,
                                     int blocksPerProc) {
    if (partial != null) {
      return (partial.checkpointBytes() + partial.storedBytes()) / blocksPerProc;
    }
    return exe.activationRecompute() == Recompute.FULL ? b.actCheckpointPerSlot : b.actStorageSpace;
  }

  /**
   * Bytes of one block's weights that cross the tier-2 link each pass when they are offloaded:
   * the block's weights (reference), or in the corrected model under ZeRO stage 3 this rank's
   * shard of them, the dense weights over DP x CP and the routed experts' over DP_exp (the
   * groups {@link StageMemory} shards them by), which FSDP2's {@code CPUOffloadPolicy} copies
   * host-to-device before the all-gather (class comment).
   *
   * @param corrected whether the corrected model runs (Calculon-MoE streams the whole block)
   */
  static double weightBytes(boolean corrected, Execution exe, BlockStats b) {
    if (!corrected || exe.zeroStage() < 3) {
      return b.weightSpace;
    }
    return StageMemory.zero3ShardBytes(b, exe);
  }

  /**
   * Bytes one block streams in its forward pass: the larger of its weights (weight offload, read
   * in, host to device) and its activations (activation offload, written out, device to host),
   * which run at once in the link's two directions (class comment).
   *
   * @param actBytes the block's offloaded activations ({@link #activationBytes} in calculon-moe,
   *                 {@link #stageActivationBytes} in the corrected model)
   */
  static double forwardBytes(boolean corrected, Execution exe, BlockStats b, double actBytes) {
    double weight = exe.weightOffload() ? weightBytes(corrected, exe, b) : 0;
    double act = exe.activationsOffload() ? actBytes : 0;
    return Math.max(weight, act);
  }

  /**
   * Bytes one block streams in its backward pass (training only, else 0): its offloaded weights,
   * activations and optimizer state, all read in (host to device), so they add (class comment).
   *
   * @param actBytes the block's offloaded activations, as {@link #forwardBytes}'
   */
  static double backwardBytes(boolean corrected, Execution exe, BlockStats b, double actBytes) {
    double size = 0;
    if (exe.training()) {
      if (exe.weightOffload()) {
        size += weightBytes(corrected, exe, b);
      }
      if (exe.activationsOffload()) {
        size += actBytes;
      }
      if (exe.optimizerOffload()) {
        size += b.optimizerSpace;
      }
    }
    return size;
  }

  /**
   * The offload overhead of a block pass, in seconds (reference llm.py): what its offload stream
   * of {@code offloadBytes} and its own HBM traffic ({@code hbmSeconds}: the stream's seconds plus
   * the pass's HBM-bound seconds) need beyond the pass's time {@code blockSeconds}. Without offload
   * ({@code offloadBytes} 0) the corrected model charges none: a fused kernel priced at its
   * measured rate ({@code attention_kernels}) or a collective's buffer traffic may exceed the
   * block's time, which is no overhead of an offload that does not run; Calculon-MoE charges any
   * positive excess.
   */
  static double overhead(boolean corrected, double offloadBytes, double hbmSeconds, double blockSeconds) {
    return offloadBytes > 0 || !corrected ? Math.max(0, hbmSeconds - blockSeconds) : 0;
  }

  /**
   * Writes the offload bandwidth requirements (bytes per second; reported, never checked), each
   * the bytes over the window the block's pass leaves for them: its forward time less its
   * HBM-bound time ({@code fwWindowSeconds}) for activations and weights, its backward time
   * likewise ({@code bwWindowSeconds}) for the weight gradients and optimizer state, and the
   * larger of the forward and backward streams ({@code fwBytes}, {@code bwBytes}) for the total:
   * the busier direction of the link (class comment). The weight requirement counts the bytes
   * {@link #weightBytes} moves (under ZeRO stage 3 in the corrected model, the shard); the
   * activation requirement the bytes {@code actBytes} (as {@link #forwardBytes}').
   */
  static void writeBandwidthReqs(Stats stats, boolean corrected, Execution exe, BlockStats b, double actBytes,
                                 double fwBytes, double bwBytes, double fwWindowSeconds, double bwWindowSeconds) {
    boolean training = exe.training();
    double total = training
        ? Math.max(Evaluator.perWindow(fwBytes, fwWindowSeconds), Evaluator.perWindow(bwBytes, bwWindowSeconds))
        : Evaluator.perWindow(fwBytes, fwWindowSeconds);
    stats.set(StatField.ACT_OFFLOAD_BW_REQ, Evaluator.perWindow(actBytes, fwWindowSeconds));
    stats.set(StatField.WEIGHT_OFFLOAD_BW_REQ, Evaluator.perWindow(weightBytes(corrected, exe, b), fwWindowSeconds));
    stats.set(StatField.OPTIM_OFFLOAD_BW_REQ,
        training ? Evaluator.perWindow(b.weightGradSpace + b.optimizerSpace, bwWindowSeconds) : 0);
    stats.set(StatField.OFFLOAD_MEM_BW_REQ, total);
  }
}
