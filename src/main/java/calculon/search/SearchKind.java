package calculon.search;

/** Which Calculon-MoE search space to enumerate. */
public enum SearchKind {
  /** {@code llm-optimal-execution}: dense model, TP x PP x DP, with offload and redo options. */
  DENSE,
  /** {@code llm-optimal-execution-moe}: EP = number of experts, ES = TP, no offload or redo. */
  MOE,
  /** {@code llm-optimal-execution-moe-flexible}: every EP dividing E and N, ES and TP free, recompute none only. */
  MOE_FLEX;

  public boolean isMoe() { return this != DENSE; }
}
