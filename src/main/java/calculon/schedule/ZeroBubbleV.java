package calculon.schedule;

/**
 * Zero-bubble ZB-V (Qi et al., arXiv 2401.10241, the arXiv version's Section 6 and the
 * sail-sg/zero-bubble-pipeline-parallelism README): each stage holds two model chunks placed in a V
 * (stage k runs chunks k and 2p - 1 - k), the backward is split into B and W as in
 * {@link ZeroBubbleH1}. Its bubble rate is 0 when T_F = T_B = T_W and its activation memory 1F1B's,
 * balanced over the stages (README table); pipeline traffic is twice 1F1B's (two chunks per stage).
 *
 * <p>Bubble, in chunk times: (p - 1)(T_F + T_B - 2T_W), i.e. (p - 1)(F + B - 3W) with B the
 * chunk's full backward, floored at 0. It is 0 when F = B_input = W, and with no weight-gradient
 * pass (W = 0) it is interleaved 1F1B's (p - 1)(F + B) with v = 2, the schedule ZB-V reorders.
 *
 * <p>In flight: p microbatches of the stage's activations on every stage (2p chunks of half a
 * stage), at most m: the sail-sg schedule builder ({@code zerobubble/scheduler/zbv.py},
 * {@code PipelineGraph}) holds each stage's memory, deferred-W inputs included, to
 * {@code max_mem = f_mem * 2 * n_stage}, and the paper reports ZB-V's peak as 1F1B's. Which
 * chunks fill that budget (the logits sit on stage 0's second chunk) follows from the builder's
 * greedy order, which this model does not replay: the stage's average block is charged.
 */
public record ZeroBubbleV(int stages, int microbatches) implements SplitBackwardSchedule {
  /** ZB-V's chunks per stage (the V). */
  static final int CHUNKS = 2;

  @Override
  public int chunksPerStage() { return CHUNKS; }

  @Override
  public double bubbleSeconds(ChunkTimes t, double reductionSeconds) {
    return SplitBackwardSchedule.bubble(stages - 1,
        t.forwardSeconds() + t.backwardSeconds() - 3 * t.weightGradSeconds(), reductionSeconds);
  }

  @Override
  public double bubbleFraction() { return 0; }

  @Override
  public double inFlightMicrobatches(int stage) { return Math.min(microbatches, stages); }
}
