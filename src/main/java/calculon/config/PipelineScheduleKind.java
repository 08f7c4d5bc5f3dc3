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

  public static PipelineScheduleKind fromJson(String name) {
    for (PipelineScheduleKind k : values()) {
      if (k.jsonName.equals(name)) {
        return k;
      }
    }
    return null;
  }

  /** The schedule Calculon runs when the key is absent. */
  public static PipelineScheduleKind defaultFor(int pipelineInterleaving) {
    return pipelineInterleaving > 1 ? INTERLEAVED : ONE_F_ONE_B;
  }
}
