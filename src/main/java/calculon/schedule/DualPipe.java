package calculon.schedule;

/**
 * DualPipe (DeepSeek-V3 technical report, arXiv 2412.19437, Section 3.2.1 and Table 2; the public
 * deepseek-ai/DualPipe repository): microbatches enter from both ends of the pipeline, rank k runs
 * stage k for one direction and stage p - 1 - k for the other, and a forward chunk of one
 * direction runs together with a backward chunk of the other so that each one's all-to-all and
 * pipeline transfers hide behind the other's compute. Needs an even p and an even m &ge; 2p
 * ({@code dualpipe.py}, {@code step}).
 *
 * <p>Bubble (README table): (p/2 - 1)(F&amp;B + B - 3W), with F a forward chunk, B a full backward
 * chunk, W its weight-gradient part and F&amp;B an overlapped forward and backward pair. We take
 * F&amp;B as compute and hidden communication running side by side:
 * max(F + B - C, C) with C the expert all-to-all and pipeline time of the pair.
 *
 * <p>Memory: two copies of the parameters (Table 2: "Parameter 2x"), the two stages' a rank runs
 * (its own and its mirror's, which differ where a stage holds the embedding, the logits or other
 * blocks); p + 1 microbatches of activations on every rank, split between the two stages
 * ({@link #heldMicrobatches}). By hand from {@code dualpipe.py}: rank k with
 * h = min(k, p - 1 - k) runs 2(p/2 - h - 1) forwards of its first direction (step 1), then h + 1
 * pairs of one forward in each direction (step 2): p in flight; step 3 frees one (B, W) before each
 * new forward, and each overlapped F&amp;B of step 4 allocates the forward's activations before the
 * backward frees its own: p + 1.
 */
public record DualPipe(int stages, int microbatches) implements SplitBackwardSchedule {
  /** Copies of the stage's parameters each rank holds. */
  static final int PARAMETER_COPIES = 2;

  /**
   * The DualPipe README's bubble (p_stages/2 - 1)(F&amp;B + B - 3W), floored at 0, in the chunk's
   * times; {@code halfStagesMinusOne} is p_stages/2 - 1 (p/2 - 1 for DualPipe, p - 1 for
   * DualPipeV, whose p ranks run 2p stages).
   */
  static double bubble(int halfStagesMinusOne, ChunkTimes t, double reductionSeconds) {
    double forwardAndBackward = t.forwardSeconds() + t.backwardSeconds();
    double overlapped = Math.max(forwardAndBackward - t.overlappableSeconds(), t.overlappableSeconds());
    return SplitBackwardSchedule.bubble(halfStagesMinusOne,
        overlapped + t.backwardSeconds() - 3 * t.weightGradSeconds(), reductionSeconds);
  }

  @Override
  public int chunksPerStage() { return 1; }

  @Override
  public double bubbleSeconds(ChunkTimes t, double reductionSeconds) {
    return bubble(stages / 2 - 1, t, reductionSeconds);
  }

  /** (p - 2)/(3m): F&amp;B + B - 3W = 3 + 2 - 3 units when F = B_input = W, of 3 per microbatch. */
  @Override
  public double bubbleFraction() { return (stages / 2 - 1) * 2.0 / (3.0 * microbatches); }

  @Override
  public double inFlightMicrobatches(int stage) { return stages + 1; }

  @Override
  public int parameterCopies() { return PARAMETER_COPIES; }

  /**
   * Microbatches of pipeline stage {@code stage} that rank {@code rank} holds at its peak, the
   * overlapped pair's extra forward aside, for {@code stage} = rank (its first direction's when
   * rank &lt; p/2) or p - 1 - rank (the other direction's). By hand from {@code dualpipe.py}
   * (class comment): with h = min(rank, p - 1 - rank), the stage a rank runs earlier in its
   * direction, stage h, has p - h - 1 microbatches in flight (step 1's 2(p/2 - h - 1) forwards and
   * h + 1 of step 2) and the later one, stage p - 1 - h, h + 1 (step 2's other direction): p in
   * all, plus the pair's one, {@link #inFlightMicrobatches}. Rank p - 1 thus holds p - 1 of the
   * first stage's microbatches (of the direction it starts) and one of the last stage's, not p + 1
   * of the last stage's (its logits).
   */
  public int heldMicrobatches(int rank, int stage) {
    int h = Math.min(rank, stages - 1 - rank);
    return stage == h ? stages - h - 1 : h + 1;
  }

  @Override
  public boolean overlapsForwardWithBackward() { return true; }
}
