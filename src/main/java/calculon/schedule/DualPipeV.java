package calculon.schedule;

/**
 * DualPipeV (deepseek-ai/DualPipe README, "DualPipeV", after Sea AI Lab's "cut-in-half"
 * schedule): DualPipe folded into a V, so p ranks run 2p stages, two chunks per rank (chunks k and
 * 2p - 1 - k), one copy of the parameters (half of DualPipe's per rank for the same stages), and
 * the same overlapped forward/backward pairs. Needs m &ge; 2p ({@code dualpipev.py}, {@code step}).
 *
 * <p>Bubble: the README's (PP/2 - 1)(F&amp;B + B - 3W) with PP = 2p stages, so (p - 1) times
 * the pair term in chunk times ({@link DualPipe#bubble}).
 *
 * <p>Memory (README: PP + 1 = 2p + 1 chunks' activations per rank): by hand from
 * {@code dualpipev.py}, rank k runs 2(p - k - 1) forwards of its first chunk (step 1), then k + 1
 * forwards of each chunk (step 2): 2p chunks in flight, one more while an overlapped pair runs. A
 * chunk is half a stage's blocks, so p + 1/2 microbatches of the stage's activations.
 */
public record DualPipeV(int stages, int microbatches) implements SplitBackwardSchedule {
  /** Chunks per rank (the V). */
  static final int CHUNKS = 2;

  @Override
  public int chunksPerStage() { return CHUNKS; }

  @Override
  public double bubbleSeconds(ChunkTimes t, double reductionSeconds) {
    return DualPipe.bubble(stages - 1, t, reductionSeconds);
  }

  /** (p - 1)/(3m): (p - 1) pairs of 2 units over an ideal m microbatches of 2 chunks of 3 units. */
  @Override
  public double bubbleFraction() { return (stages - 1) * 2.0 / (6.0 * microbatches); }

  @Override
  public double inFlightMicrobatches(int stage) { return (CHUNKS * stages + 1) / (double) CHUNKS; }

  @Override
  public boolean overlapsForwardWithBackward() { return true; }
}
