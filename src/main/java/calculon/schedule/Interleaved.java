package calculon.schedule;

/**
 * Interleaved 1F1B (Narayanan et al. 2021, arXiv 2104.04473, Section 2.2.2): each stage holds
 * v model chunks and visits them in turn, so the fill and drain take chunk times that are 1/v of
 * a stage's: bubble (p - 1) chunk times, a fraction (p - 1)/(v m). When m is not a multiple of p
 * Calculon charges (v - 1)(p - m mod p) more chunk times (the rounds left short).
 *
 * <p>In flight: Megatron-Core's interleaved schedule
 * ({@code forward_backward_pipelining_with_interleaving}) runs 2(p - k - 1) + (v - 1)p warm-up
 * chunk forwards on stage k (at most m v), and holds one more in steady state; a chunk is 1/v of
 * the stage's activations. Stage 0 with m &ge; p holds p + (p - 1)/v microbatches, Korthikanti et
 * al. 2022's p(1 + (p - 1)/(p v)).
 */
public record Interleaved(int stages, int microbatches, int chunksPerStage) implements PipelineSchedule {

  @Override
  public double bubbleSeconds(double chunkSeconds, double reductionSeconds) {
    int p = stages, v = chunksPerStage;
    int extraChunks = microbatches % p != 0 ? (v - 1) * (p - microbatches % p) : 0;
    return (p - 1) * chunkSeconds + (extraChunks * chunkSeconds - reductionSeconds);
  }

  @Override
  public double bubbleFraction() {
    return (stages - 1) / ((double) chunksPerStage * microbatches);
  }

  @Override
  public double inFlightMicrobatches(int stage) {
    int p = stages, v = chunksPerStage;
    long warmup = 2L * (p - stage - 1) + (long) (v - 1) * p;
    long chunks = Math.min((long) microbatches * v, warmup + 1);
    return chunks / (double) v;
  }

  @Override
  public double referenceInFlightMicrobatches() {
    int p = stages, v = chunksPerStage;
    return Math.min(microbatches, p) * (1 + (p - 1) / (double) (v * p));
  }
}
