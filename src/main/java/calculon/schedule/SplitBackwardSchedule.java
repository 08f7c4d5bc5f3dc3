package calculon.schedule;

/**
 * What the schedules that split the backward share: zero-bubble ZB-H1 and ZB-V (Qi et al.,
 * "Zero Bubble Pipeline Parallelism", ICLR 2024, arXiv 2401.10241, Section 2), DualPipe and
 * DualPipeV (DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.1; deepseek-ai/DualPipe README).
 * Each splits a chunk's backward into the input-gradient pass B, which the previous stage waits
 * for, and the weight-gradient pass W, which nothing waits for, and fills the pipeline's drain with
 * W passes. Each class keeps its own bubble formula ({@link #bubbleSeconds(ChunkTimes, double)})
 * and in-flight count with their sources; this interface holds the parts that are the same.
 */
public interface SplitBackwardSchedule extends PipelineSchedule {

  /**
   * With only a chunk's forward + backward total, the papers' convention T_F = T_B = T_W
   * ({@link PipelineSchedule#equalPasses}: the chunk is 3 equal passes, nothing to overlap).
   */
  @Override
  default double bubbleSeconds(double chunkSeconds, double reductionSeconds) {
    return bubbleSeconds(PipelineSchedule.equalPasses(chunkSeconds), reductionSeconds);
  }

  /** The schedule's bubble in seconds from the chunk's pass times: its paper's formula. */
  @Override
  double bubbleSeconds(ChunkTimes t, double reductionSeconds);

  /**
   * Neither Calculon nor Calculon-MoE has these schedules; their reference count is the first
   * stage's own.
   */
  @Override
  default double referenceInFlightMicrobatches() { return inFlightMicrobatches(0); }

  /**
   * The shape all four bubbles take: {@code rounds} fill/drain rounds that each leave a stage idle
   * {@code perRoundSeconds} (floored at 0: W passes can fill more than the drain), less the time
   * uneven stages save ({@code reductionSeconds}), floored at 0. Seconds.
   */
  static double bubble(int rounds, double perRoundSeconds, double reductionSeconds) {
    return Math.max(0, rounds * Math.max(0, perRoundSeconds) - reductionSeconds);
  }
}
