package calculon.config;

/** How a layer's compute and memory times combine. */
public enum ProcessingMode {
  /** max(compute, memory): they overlap perfectly. */
  ROOFLINE("roofline"),
  /** compute + memory: no overlap. */
  NO_OVERLAP("no_overlap");

  public final String jsonName;

  ProcessingMode(String jsonName) { this.jsonName = jsonName; }
}
