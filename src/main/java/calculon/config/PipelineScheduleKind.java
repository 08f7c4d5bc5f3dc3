package calculon.config;

/**
 * The pipeline schedule an execution names with its optional key {@code pipeline_schedule}
 * (absent: 1F1B, or interleaved 1F1B when {@code pipeline_interleaving} &gt; 1, as Calculon
 * chooses). Each value is one class of {@code calculon.schedule}; see {@code docs/reference.md}.
 */
public enum PipelineScheduleKind {
  /** PipeDream-Flush / Megatron 1F1B (Narayanan et al. 2021, arXiv 2104.04473, Section 2.2.1). */
  ONE_F_ONE_B("1f1b", 1),
  /** Interleaved 1F1B with {@code pipeline_interleaving} chunks per stage (ibid., Section 2.2.2). */
  INTERLEAVED("interleaved", 0),
  /** Zero-bubble ZB-H1 (Qi et al., ICLR 2024, arXiv 2401.10241, Section 2.1). */
  ZB_H1("zb-h1", 1),
  /** Zero-bubble ZB-V, two chunks per stage in a V (ibid., Section 6 of the arXiv version). */
  ZB_V("zb-v", 2),
  /** DualPipe, bidirectional (DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.1). */
  DUALPIPE("dualpipe", 1),
  /** DualPipeV, DualPipe cut in half into a V (github deepseek-ai/DualPipe README). */
  DUALPIPE_V("dualpipev", 2);

  public final String jsonName;
  /** The {@code pipeline_interleaving} the schedule needs (chunks per stage); 0: at least 2. */
  public final int chunksPerStage;

  PipelineScheduleKind(String jsonName, int chunksPerStage) {
    this.jsonName = jsonName;
    this.chunksPerStage = chunksPerStage;
  }

  /** The schedule Calculon runs when the key is absent. */
  public static PipelineScheduleKind defaultFor(int pipelineInterleaving) {
    return pipelineInterleaving > 1 ? INTERLEAVED : ONE_F_ONE_B;
  }

  /**
   * Why this schedule cannot run {@code m} microbatches on {@code p} stages of {@code v} chunks,
   * or null: the chunks per stage above, and DualPipe's preconditions (deepseek-ai/DualPipe
   * {@code dualpipe.py} / {@code dualpipev.py} {@code step}: an even number of ranks, an even
   * number of microbatches, at least two per rank). One place for the reader's messages and the
   * searches' rejections.
   */
  public String violation(int v, int p, int m) {
    String name = "\"" + jsonName + "\"";
    if (chunksPerStage == 0 && v < 2) {
      return name + " needs pipeline_interleaving >= 2 (model chunks per stage), got " + v
          + "; with one chunk per stage use \"1f1b\"";
    }
    if (chunksPerStage > 0 && v != chunksPerStage) {
      return name + " runs " + chunksPerStage + " model chunk" + (chunksPerStage > 1 ? "s" : "")
          + " per stage, so pipeline_interleaving must be " + chunksPerStage + ", got " + v;
    }
    if (this == DUALPIPE && p % 2 != 0) {
      return name + " pairs stage k with stage p-1-k, so pipeline_par must be even, got " + p;
    }
    if (this == DUALPIPE && m % 2 != 0) {
      return name + " sends half the microbatches each way, so their number "
          + "batch_size/data_par/microbatch_size must be even, got " + m;
    }
    if ((this == DUALPIPE || this == DUALPIPE_V) && m < 2 * p) {
      return name + " needs at least 2*pipeline_par = " + 2 * p
          + " microbatches (batch_size/data_par/microbatch_size), got " + m;
    }
    return null;
  }
}
