package calculon.schedule;

import static calculon.schedule.BlockStats.BASE;
import static calculon.schedule.BlockStats.BWD;
import static calculon.schedule.BlockStats.EDGE;
import static calculon.schedule.BlockStats.FWD;
import static calculon.schedule.BlockStats.RECOMM;

import calculon.config.Execution;
import calculon.hardware.Hardware;
import calculon.model.Stage;

/**
 * One pipeline stage's block and chunk times, in seconds for one microbatch: a base block (one of
 * the chunk's {@code baseBlocks}) and the edge block (the chunk's last, which carries the
 * pipeline point-to-point transfer), forward and backward, each with its exposed communication
 * ({@link BlockStats#addExposed}) and its offload overhead ({@link Offload#overhead}); the
 * chunk's forward and backward totals; and the windows an offload's transfers have to fit in.
 * Offloaded bytes are bytes per block and microbatch.
 *
 * <p>Mutable: the step reuses one per thread ({@link #update}), so that a search's headline
 * evaluation ({@code Evaluator.sampleRate}, called millions of times) allocates none.
 */
final class BlockTimes {
  /** Pipeline point-to-point seconds of a chunk's forward and backward transfer (0 without one). */
  double chunkFwPp, chunkBwPp;
  /** Forward and backward block seconds with exposed communication, before offload overhead. */
  double baseFw0, edgeFw0, baseBw0, edgeBw0;
  /** Offload overhead seconds of the forward and backward block. */
  double baseFwOvh, edgeFwOvh, baseBwOvh, edgeBwOvh;
  /** Forward and backward block seconds with offload overhead. */
  double baseFw, edgeFw, baseBw, edgeBw;
  /** A chunk's forward and backward seconds: base·baseBlocks + edge·edgeBlocks. */
  double chunkFw, chunkBw;
  /** Bytes offloaded: activations, and in all the forward and the backward pass ({@link Offload}). */
  double actOffloadBytes, fwOffloadBytes, bwOffloadBytes;
  /** Seconds the blocks' own memory traffic takes in the forward and in the backward pass. */
  double fwMemTime, gradMemTime;

  /**
   * Sets the block times of block {@code b} on a stage of {@code blocksPerProc} blocks, whose chunks
   * are {@code baseBlocks} base blocks and {@code edgeBlocks} edge ones; {@code partial} is the
   * stage's partial recompute (null without one); {@code p2pOverlap}: the pipeline transfers run
   * beside the compute (Megatron-Core's overlap_p2p_comm, {@link Interleaved#exposedP2pSeconds}).
   */
  void update(BlockStats b, Execution exe, Hardware hw, boolean corrected, boolean training,
              StageMemory.PartialRecompute partial, int blocksPerProc, int baseBlocks, int edgeBlocks,
              double chunkFwPp, double chunkBwPp, boolean p2pOverlap) {
    int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal();
    this.chunkFwPp = chunkFwPp;
    this.chunkBwPp = chunkBwPp;
    baseFw0 = b.addExposed(b.time[fw], FWD, BASE);
    edgeFw0 = b.addExposed(b.time[fw], FWD, EDGE) + chunkFwPp;
    // the corrected model offloads what the stage keeps (its own blocks' checkpoints and stored
    // activations, a partial recompute's as it runs); Calculon-MoE one block's, as every block's
    actOffloadBytes = corrected
        ? Offload.stageActivationBytes(exe, b, partial, blocksPerProc)
        : Offload.activationBytes(exe, b);
    fwOffloadBytes = Offload.forwardBytes(corrected, exe, b, actOffloadBytes);
    double fwOffloadTime = hw.offloadTime(fwOffloadBytes);
    fwMemTime = b.memTime[fw];
    baseFwOvh = Offload.overhead(corrected, fwOffloadBytes, fwOffloadTime + b.memTime[fw], baseFw0);
    // Megatron-Core's overlap_p2p_comm (interleaved, corrected model): the transfers run beside
    // the compute (Interleaved.exposedP2pSeconds), so they are no time an offload can hide in
    edgeFwOvh = Offload.overhead(corrected, fwOffloadBytes, fwOffloadTime + b.memTime[fw],
        p2pOverlap ? edgeFw0 - chunkFwPp : edgeFw0);
    baseFw = baseFw0 + baseFwOvh;
    edgeFw = edgeFw0 + edgeFwOvh;
    baseBw0 = b.addExposed(b.addExposed(b.reTime, RECOMM, BASE) + b.time[ag] + b.time[wg], BWD, BASE);
    edgeBw0 = b.addExposed(b.addExposed(b.reTime, RECOMM, EDGE) + b.time[ag] + b.time[wg], BWD, EDGE)
        + chunkBwPp;
    bwOffloadBytes = Offload.backwardBytes(corrected, exe, b, actOffloadBytes);
    double bwOffloadTime = training ? hw.offloadTime(bwOffloadBytes) : 0;
    gradMemTime = b.memTime[ag] + b.memTime[wg];
    baseBwOvh = Offload.overhead(corrected, bwOffloadBytes, bwOffloadTime + gradMemTime, baseBw0);
    edgeBwOvh = Offload.overhead(corrected, bwOffloadBytes, bwOffloadTime + gradMemTime,
        p2pOverlap ? edgeBw0 - chunkBwPp : edgeBw0);
    baseBw = baseBw0 + baseBwOvh;
    edgeBw = edgeBw0 + edgeBwOvh;
    chunkFw = baseBlocks * baseFw + edgeBlocks * edgeFw;
    chunkBw = baseBlocks * baseBw + edgeBlocks * edgeBw;
  }

  /**
   * The pipeline bubble's reduction (seconds) from uneven block counts: {@code bubbleReductionBlocks}
   * blocks fewer on the short stages, each the mean of a base and an edge block (the edge block's
   * when a chunk has no base block).
   */
  double bubbleReduction(int bubbleReductionBlocks, int baseBlocks) {
    return baseBlocks > 0
        ? bubbleReductionBlocks * (baseFw + edgeFw + baseBw + edgeBw) / 2
        : bubbleReductionBlocks * (edgeFw + edgeBw);
  }

  /** Seconds of a forward block, less its own memory traffic, an offload's transfer can run beside. */
  double fwWindow() {
    return Math.min(baseFw0 - fwMemTime, edgeFw0 - fwMemTime);
  }

  /** Seconds of a backward block, less its own memory traffic, an offload's transfer can run beside. */
  double bwWindow() {
    return Math.min(baseBw0 - gradMemTime, edgeBw0 - gradMemTime);
  }
}
