package calculon.schedule;

/**
 * The one-forward-one-backward schedule of PipeDream-Flush / Megatron-LM (Narayanan et al. 2021,
 * "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
 * arXiv 2104.04473, Section 2.2.1): stage k of p runs p - k - 1 warm-up forwards, then alternates
 * one forward and one backward. Bubble: (p - 1) chunk times, a fraction (p - 1)/m of the ideal;
 * stage k holds min(m, p - k) microbatches in flight at its peak (Megatron-Core
 * {@code forward_backward_pipelining_without_interleaving}: warm-up p - k - 1, plus the one in
 * steady state).
 */
public record OneFOneB(int stages, int microbatches) implements PipelineSchedule {

  @Override
  public int chunksPerStage() { return 1; }

  @Override
  public double bubbleSeconds(double chunkSeconds, double reductionSeconds) {
    // the same expression as the interleaved schedule with no extra chunks (Calculon-MoE's form)
    return (stages - 1) * chunkSeconds + (0 * chunkSeconds - reductionSeconds);
  }

  @Override
  public double bubbleFraction() { return (stages - 1) / (double) microbatches; }

  @Override
  public double inFlightMicrobatches(int stage) { return Math.min(microbatches, stages - stage); }

  @Override
  public double referenceInFlightMicrobatches() { return Math.min(microbatches, stages); }
}
