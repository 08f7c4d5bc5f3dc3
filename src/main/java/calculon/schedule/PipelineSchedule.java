package calculon.schedule;

import calculon.config.Execution;
import calculon.config.PipelineScheduleKind;

/**
 * How a pipeline schedule orders the microbatches of one step over the {@code p} pipeline stages,
 * reduced to what the step model needs from it: the bubble (the time stages idle while the
 * pipeline fills and drains), the microbatches each stage holds in flight (so each stage's stored
 * activations) and which communication the schedule hides.
 *
 * <p>Units: a <em>chunk</em> is the part of the model one stage runs for one microbatch in one
 * visit ({@code blocksPerStage / v} blocks, {@code v} the chunks per stage); chunk time is one
 * chunk's forward plus backward time. Each schedule is one class (1F1B: {@link OneFOneB};
 * interleaved 1F1B: {@link Interleaved}; zero-bubble {@link ZeroBubbleH1} and {@link ZeroBubbleV};
 * {@link DualPipe} and {@link DualPipeV}, the last four sharing {@link SplitBackwardSchedule}); a
 * new schedule is one new class registered in {@link #of}.
 */
public interface PipelineSchedule {

  /** Pipeline stages {@code p}. */
  int stages();

  /** Microbatches per step {@code m}. */
  int microbatches();

  /** Model chunks per stage {@code v} (1 unless interleaved). */
  int chunksPerStage();

  /**
   * Pipeline bubble of one step in seconds, given one chunk's forward + backward time and the
   * time saved because the last stages hold fewer blocks ({@code reductionSeconds}, Calculon's
   * ceil-division blocks per stage; 0 when stages are even).
   */
  double bubbleSeconds(double chunkSeconds, double reductionSeconds);

  /**
   * One chunk's pass times for one microbatch on one stage, in seconds, as the zero-bubble and
   * DualPipe schedules need them (Qi et al. 2024, arXiv 2401.10241, Section 2: F forward, B
   * input-gradient, W weight-gradient pass).
   *
   * @param forwardSeconds     F: the chunk's forward, with its exposed communication
   * @param backwardSeconds    the full backward (recompute, input and weight gradients, exposed
   *                           communication): B + W in the paper's terms, B in the DualPipe README's
   * @param weightGradSeconds  W: the weight-gradient part of the backward
   * @param overlappableSeconds the part of forward + backward that is expert all-to-all and
   *                           pipeline point-to-point time, which DualPipe overlaps with the other
   *                           direction's compute
   */
  record ChunkTimes(double forwardSeconds, double backwardSeconds, double weightGradSeconds,
                    double overlappableSeconds) {}

  /**
   * A chunk's forward + backward seconds split by the papers' convention T_F = T_B = T_W (Qi et al.
   * 2024, Section 2.1): the forward a third, the full backward two thirds, W a third; nothing to
   * overlap.
   */
  static ChunkTimes equalPasses(double chunkSeconds) {
    double third = chunkSeconds / 3;
    return new ChunkTimes(third, 2 * third, third, 0);
  }

  /**
   * Pipeline bubble of one step in seconds from the chunk's pass times; schedules that do not split
   * the backward use {@link #bubbleSeconds(double, double)} with forward + backward.
   */
  default double bubbleSeconds(ChunkTimes t, double reductionSeconds) {
    return bubbleSeconds(t.forwardSeconds() + t.backwardSeconds(), reductionSeconds);
  }

  /**
   * The bubble as a fraction of the ideal (bubble-free) compute time of a step with equal stages;
   * schedules that split the backward take the papers' convention F = B = W (so a chunk's full
   * backward is twice its forward).
   */
  double bubbleFraction();

  /**
   * Copies of a stage's parameters (with their gradients and optimizer state) each processor
   * holds: 1, but 2 under DualPipe, whose rank k runs stage k for one direction and stage p-1-k
   * for the other (DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.1, and Table 2 of the
   * DualPipe README: "Parameter 2x").
   */
  default int parameterCopies() { return 1; }

  /**
   * Whether the schedule runs one microbatch's forward chunk together with another's backward
   * chunk so that each one's expert all-to-all and pipeline point-to-point transfers hide behind
   * the other's compute (DualPipe's overlapped F&amp;B chunks, DeepSeek-V3 report Section 3.2.1
   * and Figure 4).
   */
  default boolean overlapsForwardWithBackward() { return false; }

  /**
   * Microbatches whose stored activations stage {@code stage} (0-based, 0 the first) holds at
   * its peak, in units of the stage's activations for one microbatch (a chunk counts 1/v).
   */
  double inFlightMicrobatches(int stage);

  /**
   * Stage {@code stage}'s peak stored activations, in units of the stage's stored activations for
   * one microbatch, when its chunks store different amounts (the embedding's output on the first
   * chunk, the logits on the last) or a deferred weight-gradient pass keeps part of them: found
   * from the schedule's own order of passes ({@link PassOrder}). Schedules whose in-flight
   * microbatches are the same for every chunk and that defer no W return
   * {@link #inFlightMicrobatches(int)}.
   *
   * @param chunkShare    each of the stage's chunks' share of its stored activations for one
   *                      microbatch, in the stage's order (sum 1); null when the chunks store alike
   * @param wPendingShare the share of a chunk's stored activations that a microbatch keeps
   *                      between its input-gradient pass B and its deferred weight-gradient pass W
   */
  default double inFlightMicrobatches(int stage, double[] chunkShare, double wPendingShare) {
    return inFlightMicrobatches(stage);
  }

  /**
   * The in-flight count Calculon and Calculon-MoE charge every stage (the first stage's,
   * approximated as in Korthikanti et al. 2022, Section 4.2.3): kept for the calculon-moe model
   * version only.
   */
  double referenceInFlightMicrobatches();

  /**
   * Chunks of a stage whose data-parallel gradient synchronisation overlaps the backward pass of
   * the stage's later chunks (Megatron overlaps a chunk's gradient reduction with the remaining
   * chunks' backward; 0 for 1F1B, whose only chunk ends the step): all chunks but the last.
   */
  default int chunksOverlappingGradientSync() { return chunksPerStage() - 1; }

  /**
   * Chunk forwards of stage {@code stage} that run alone, their expert all-to-alls exposed, when
   * forwards are paired with backwards for the all-to-all overlap ({@link EpA2aOverlap}); as many
   * backwards run alone at the end. Megatron-Core pairs every forward after the warm-up with a
   * backward and adds one warm-up forward for it: with PP = 1 the first forward runs alone
   * ({@code combined_1f1b_schedule_for_no_pipelining}). Here: 1F1B's p - k - 1 warm-up forwards
   * plus that one, at most m v ({@link Interleaved} overrides it with its own warm-up).
   */
  default int a2aUnpairedForwards(int stage) {
    return (int) Math.min((long) microbatches() * chunksPerStage(), stages() - stage);
  }

  /**
   * The schedule an execution runs: its {@code pipeline_schedule}, else interleaved 1F1B when
   * {@code pipeline_interleaving > 1} and 1F1B otherwise. {@code corrected}: the corrected model,
   * where {@code moe_a2a_overlap} gives interleaved 1F1B Megatron-Core's extra warm-up forward.
   */
  static PipelineSchedule of(Execution exe, boolean corrected) {
    int p = exe.pipelinePar(), m = exe.numMicrobatches(), v = exe.pipelineInterleaving();
    PipelineScheduleKind kind = exe.pipelineSchedule();
    int extraWarmup = EpA2aOverlap.pairs(exe, corrected) ? 1 : 0;
    return switch (kind) {
      case ONE_F_ONE_B, INTERLEAVED -> v > 1 ? new Interleaved(p, m, v, extraWarmup) : new OneFOneB(p, m);
      case ZB_H1 -> new ZeroBubbleH1(p, m);
      case ZB_V -> new ZeroBubbleV(p, m);
      case DUALPIPE -> new DualPipe(p, m);
      case DUALPIPE_V -> new DualPipeV(p, m);
    };
  }
}
