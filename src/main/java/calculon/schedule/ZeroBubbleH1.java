package calculon.schedule;

/**
 * Zero-bubble ZB-H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024, arXiv 2401.10241,
 * Section 2.1 and Figure 3 top): the backward is split into the input-gradient pass B, which the
 * previous stage waits for, and the weight-gradient pass W, which nothing waits for; W passes are
 * delayed to fill the drain. Bubble (p - 1)(T_F + T_B - T_W) with T_B the input-gradient pass, i.e.
 * (p - 1)(F + B - 2W) with B the full backward (DualPipe README's "ZB1P" row); a third of 1F1B's
 * when T_F = T_B = T_W.
 *
 * <p>Memory: the paper keeps ZB-H1's peak at 1F1B's, p microbatches on the first stage; a later
 * stage k holds p - k microbatches whole and k whose W is still pending (those keep the linear
 * layers' inputs only, Table 1). We charge every stage min(m, p) whole microbatches: exact on the
 * first stage, an upper bound on the others.
 */
public record ZeroBubbleH1(int stages, int microbatches) implements SplitBackwardSchedule {

  @Override
  public int chunksPerStage() { return 1; }

  @Override
  public double bubbleSeconds(ChunkTimes t, double reductionSeconds) {
    return SplitBackwardSchedule.bubble(stages - 1,
        t.forwardSeconds() + t.backwardSeconds() - 2 * t.weightGradSeconds(), reductionSeconds);
  }

  /** (p - 1)/(3m): F + B - 2W = F when F = B_input = W, of an ideal 3F per microbatch. */
  @Override
  public double bubbleFraction() { return (stages - 1) / (3.0 * microbatches); }

  @Override
  public double inFlightMicrobatches(int stage) { return Math.min(microbatches, stages); }
}
