package calculon.schedule;

import calculon.config.Execution;

/**
 * How a pipeline schedule orders the microbatches of one step over the {@code p} pipeline stages,
 * reduced to what the step model needs from it: the bubble (the time stages idle while the
 * pipeline fills and drains), the microbatches each stage holds in flight (so each stage's stored
 * activations) and which communication the schedule hides.
 *
 * <p>Units: a <em>chunk</em> is the part of the model one stage runs for one microbatch in one
 * visit ({@code blocksPerStage / v} blocks, {@code v} the chunks per stage); chunk time is one
 * chunk's forward plus backward time. Each schedule is one class (1F1B: {@link OneFOneB};
 * interleaved 1F1B: {@link Interleaved}); a new schedule (zero-bubble, DualPipe) is one new class
 * registered in {@link #of}.
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

  /** The bubble as a fraction of the ideal (bubble-free) compute time of a step with equal stages. */
  double bubbleFraction();

  /**
   * Microbatches whose stored activations stage {@code stage} (0-based, 0 the first) holds at
   * its peak, in units of the stage's activations for one microbatch (a chunk counts 1/v).
   */
  double inFlightMicrobatches(int stage);

  /**
   * The in-flight count Calculon and Calculon-MoE charge every stage (the first stage's,
   * approximated as in Korthikanti et al. 2022, Section 4.2.3): kept for the calculon-moe model
   * version only.
   */
  double referenceInFlightMicrobatches();

  /**
   * Chunks of a stage whose data-parallel gradient synchronisation overlaps the backward pass of
   * the stage's later chunks (Megatron overlaps a chunk's gradient reduction with the remaining
   * chunks' backward; 0 for 1F1B, whose only chunk ends the step).
   */
  int chunksOverlappingGradientSync();

  /** The schedule an execution runs: interleaved 1F1B when {@code pipeline_interleaving > 1}, else 1F1B. */
  static PipelineSchedule of(Execution exe) {
    int p = exe.pipelinePar(), m = exe.numMicrobatches(), v = exe.pipelineInterleaving();
    return v > 1 ? new Interleaved(p, m, v) : new OneFOneB(p, m);
  }
}
