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
 */
final class Offload {
  private Offload() {}

  /**
   * Bytes of one block's activations that go to tier 2 when they are offloaded: the block's
   * full-recompute checkpoint, else its stored activations.
   */
  static double activationBytes(Execution exe, BlockStats b) {
    return exe.activationRecompute() == Recompute.FULL ? b.actCheckpointSize : b.actStorageSpace;
  }

  /**
   * Bytes one block streams in its forward pass: the larger of its weights (weight offload, read
   * back) and its activations (activation offload, written out), which run side by side.
   */
  static double forwardBytes(Execution exe, BlockStats b) {
    double weight = exe.weightOffload() ? b.weightSpace : 0;
    double act = exe.activationsOffload() ? activationBytes(exe, b) : 0;
    return Math.max(weight, act);
  }

  /**
   * Bytes one block streams in its backward pass (training only, else 0): its offloaded weights,
   * activations and optimizer state, one after another.
   */
  static double backwardBytes(Execution exe, BlockStats b) {
    double size = 0;
    if (exe.training()) {
      if (exe.weightOffload()) {
        size += b.weightSpace;
      }
      if (exe.activationsOffload()) {
        size += activationBytes(exe, b);
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
   * larger of the forward and backward streams ({@code fwBytes}, {@code bwBytes}) for the total.
   */
  static void writeBandwidthReqs(Stats stats, Execution exe, BlockStats b, double fwBytes, double bwBytes,
                                 double fwWindowSeconds, double bwWindowSeconds) {
    boolean training = exe.training();
    double total = training
        ? Math.max(Evaluator.perWindow(fwBytes, fwWindowSeconds), Evaluator.perWindow(bwBytes, bwWindowSeconds))
        : Evaluator.perWindow(fwBytes, fwWindowSeconds);
    stats.set(StatField.ACT_OFFLOAD_BW_REQ, Evaluator.perWindow(activationBytes(exe, b), fwWindowSeconds));
    stats.set(StatField.WEIGHT_OFFLOAD_BW_REQ, Evaluator.perWindow(b.weightSpace, fwWindowSeconds));
    stats.set(StatField.OPTIM_OFFLOAD_BW_REQ,
        training ? Evaluator.perWindow(b.weightGradSpace + b.optimizerSpace, bwWindowSeconds) : 0);
    stats.set(StatField.OFFLOAD_MEM_BW_REQ, total);
  }
}
