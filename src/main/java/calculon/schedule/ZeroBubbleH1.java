package calculon.schedule;

/**
 * Zero-bubble ZB-H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024, arXiv 2401.10241,
 * Section 2.1 and Figure 3 top): the backward is split into the input-gradient pass B, which the
 * previous stage waits for, and the weight-gradient pass W, which nothing waits for; W passes are
 * delayed to fill the drain. Bubble (p - 1)(T_F + T_B - T_W) with T_B the input-gradient pass, i.e.
 * (p - 1)(F + B - 2W) with B the full backward (DualPipe README's "ZB1P" row); a third of 1F1B's
 * when T_F = T_B = T_W.
 *
 * <p>Memory (Section 2.1 and Figure 3 top): ZB-H1 keeps 1F1B's p - k - 1 warm-up forwards plus
 * one, delays stage k's W passes by k microbatches, so that every stage has p microbatches in
 * flight: stage k holds p - k microbatches whole and k whose B ran and whose W is still pending,
 * which keep only what W reads (the linear layers' inputs and output gradients, Table 1,
 * {@link BlockStats#weightGradInputsSpace}). The first stage's peak is 1F1B's. {@link #order}
 * builds stage k's passes as the figure runs them; {@link #inFlightMicrobatches(int)} without the
 * W-pending share counts them whole, min(m, p).
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

  /**
   * Stage {@code stage}'s passes as Figure 3 (top) of Qi et al. 2024 runs them, with k = stage:
   * min(m, p - k) forwards; k rounds of B then F (W held back); then B, W, F while forwards
   * remain; then the remaining B and W passes (nothing is allocated after the last forward).
   */
  PassOrder order(int stage) {
    // after its first p forwards a stage repeats B, W, F at a constant level, then only frees:
    // 2p + 1 microbatches reach every state the step reaches
    int m = Math.min(microbatches, 2 * stages + 1);
    PassOrder order = new PassOrder();
    int f = 0, b = 0, w = 0;
    while (f < Math.min(m, stages - stage)) {
      order.forward(0);
      f++;
    }
    while (f < m && b < stage) {
      order.inputGrad(0).forward(0);
      b++;
      f++;
    }
    while (f < m) {
      order.inputGrad(0).weightGrad(0).forward(0);
      b++;
      w++;
      f++;
    }
    for (; b < m; b++) {
      order.inputGrad(0);
    }
    for (; w < m; w++) {
      order.weightGrad(0);
    }
    return order;
  }

  @Override
  public double inFlightMicrobatches(int stage, double[] chunkShare, double wPendingShare) {
    return order(stage).peak(chunkShare == null ? ONE_CHUNK : chunkShare, wPendingShare);
  }

  /** ZB-H1's one chunk per stage, all of the stage's activations. */
  private static final double[] ONE_CHUNK = {1};
}
