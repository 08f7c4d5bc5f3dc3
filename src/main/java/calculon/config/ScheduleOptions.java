package calculon.config;

/**
 * Optional execution keys of how a step is scheduled: the pipeline schedule
 * ({@code pipeline_schedule}). A null schedule means the key was absent: Calculon's choice
 * ({@link PipelineScheduleKind#defaultFor}), so files without it keep today's numbers in both model
 * versions.
 */
public record ScheduleOptions(PipelineScheduleKind pipelineSchedule) {

  /** Nothing given: Calculon's behaviour. */
  public static final ScheduleOptions DEFAULTS = new ScheduleOptions(null);

  /** The optional execution keys, in the order of the fields. */
  public static final String[] KEYS = {"pipeline_schedule"};

  /** The schedule the step runs. */
  public PipelineScheduleKind schedule(int pipelineInterleaving) {
    return pipelineSchedule != null ? pipelineSchedule : PipelineScheduleKind.defaultFor(pipelineInterleaving);
  }
}
