package calculon.model;

import java.util.function.Supplier;

/**
 * The execution is well formed but cannot run on this system (what the reference raises as
 * {@code Llm.Error}): memory over capacity, a network tier too small or not filled, interleaving
 * that does not divide the blocks, offload with fewer than 3 blocks per processor. The CLI prints
 * {@code ERROR: <message>}; searches count it as a bad execution. Stackless: searches throw many.
 */
public final class Infeasible extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * Which rule rejected the execution, so a search that finds nothing can say how many executions
   * each rule rejected and the user knows what to relax.
   */
  public enum Rule {
    MEMORY_TIER1("memory tier 1 (mem1) too small"),
    MEMORY_TIER2("memory tier 2 (mem2) too small"),
    NETWORK_TIER_SIZE("network tier too small for the groups placed on it"),
    NETWORK_TIER_FILL("network tier not filled (must_be_filled)"),
    INTERLEAVING("pipeline interleaving does not fit the blocks per processor"),
    OFFLOAD_BLOCKS("offload needs at least 3 blocks per processor"),
    PIPELINE_SCHEDULE("pipeline schedule cannot run this many microbatches on these stages"),
    OTHER("other");

    /** What the rule says, for the summary line. */
    public final String description;

    Rule(String description) {
      this.description = description;
    }

    /** The rule of a network-tier message ("Network tier<t> isn't big enough" / "isn't fully used"). */
    public static Rule ofNetworkTierMessage(String message) {
      return message.contains("isn't fully used") ? NETWORK_TIER_FILL : NETWORK_TIER_SIZE;
    }
  }

  private final Rule rule;

  /**
   * The count the rule compared against, where the CLI names it (blocks per pipeline stage for
   * {@link Rule#INTERLEAVING}); -1 when none. Not part of the message, so calculon-moe's
   * reference text stays as it is.
   */
  private long figure = -1;

  /** Builds the message when first asked: searches reject thousands and never read most. */
  private transient Supplier<String> lazyMessage;
  private String message;

  public Infeasible(String message) {
    this(Rule.OTHER, message);
  }

  public Infeasible(Rule rule, String message) {
    super(message, null, false, false);
    this.message = message;
    this.rule = rule;
  }

  /** A rejection whose message costs something to format (sizes in human units). */
  public Infeasible(Supplier<String> message) {
    this(Rule.OTHER, message);
  }

  public Infeasible(Rule rule, Supplier<String> message) {
    super(null, null, false, false);
    this.lazyMessage = message;
    this.rule = rule;
  }

  /** Records the count the rule compared against (see {@link #figure()}); returns this. */
  public Infeasible withFigure(long value) {
    this.figure = value;
    return this;
  }

  /** The count the rule compared against (blocks per stage for interleaving), or -1. */
  public long figure() { return figure; }

  /** The rule that rejected the execution. */
  public Rule rule() { return rule; }

  @Override
  public String getMessage() {
    if (message == null && lazyMessage != null) {
      message = lazyMessage.get();
      lazyMessage = null;
    }
    return message;
  }
}
