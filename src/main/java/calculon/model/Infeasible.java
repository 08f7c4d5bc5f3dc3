package calculon.model;

import calculon.config.ParallelDim;
import java.util.List;
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

  /** What a memory rejection measured, built when first asked ({@link #memory()}); null for other rules. */
  private transient Supplier<MemoryShortfall> lazyMemory;
  private MemoryShortfall memory;

  /** The network tier and the groups on it that a tier rejection found; null for other rules. */
  private TierShortfall tier;

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

  /**
   * Records what a memory rejection measured, computed only when {@link #memory()} is asked (the
   * command line; a search never asks); returns this.
   */
  public Infeasible withMemory(Supplier<MemoryShortfall> shortfall) {
    this.lazyMemory = shortfall;
    return this;
  }

  /** Records the tier and groups a network-tier rejection found; returns this. */
  public Infeasible withTier(TierShortfall shortfall) {
    this.tier = shortfall;
    return this;
  }

  /** What a memory rejection ({@link Rule#MEMORY_TIER1}, {@link Rule#MEMORY_TIER2}) measured, or null. */
  public MemoryShortfall memory() {
    if (memory == null && lazyMemory != null) {
      memory = lazyMemory.get();
      lazyMemory = null;
    }
    return memory;
  }

  /** What a network-tier rejection found, or null. */
  public TierShortfall tier() { return tier; }

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

  /** The kinds of state a memory tier holds, as the stats' memory lines count them. */
  public enum MemoryKind {
    WEIGHTS("weights"),
    ACTIVATIONS("activations"),
    ACTIVATION_CHECKPOINTS("activation checkpoints"),
    ACTIVATION_GRADIENTS("activation gradients"),
    WEIGHT_GRADIENTS("weight gradients"),
    OPTIMIZER_STATE("optimizer state");

    /** The kind in words, for the command line. */
    public final String words;

    MemoryKind(String words) {
      this.words = words;
    }
  }

  /** One part of a memory tier's need, in bytes per processor. */
  public record MemoryPart(MemoryKind kind, double bytes) {}

  /**
   * A memory tier that is too small: the tier (1: mem1, the GPU's HBM; 2: mem2, offload memory),
   * the bytes per processor the execution needs there and the bytes the tier holds; the pipeline
   * stage that needs the most ({@code stage}, numbered from 0, of {@code stages}) and how many
   * stages do not fit, or stage -1 when the check is of one stage only (PP 1, or calculon-moe);
   * and the parts of the need, largest first (they add up to {@code needBytes}).
   */
  public record MemoryShortfall(int tier, double needBytes, double capacityBytes, int stage, int stages,
                                int stagesOver, List<MemoryPart> parts) {}

  /** Which side of a MoE block's groups a network-tier check covers; {@link #ALL} for a dense run. */
  public enum TierSide { ALL, EXPERT, DENSE }

  /**
   * A network tier that cannot hold the parallel groups placed on it: the tier (index into the
   * system's networks), the groups on it with degree above 1 in {@link ParallelDim#all()} order,
   * the ranks they span (the product of their degrees), the tier's size, whether the failure is
   * the must-be-filled rule (the size fits but does not divide the tier), and the side of a MoE
   * block checked (reference _check_network_assignments[_MoE]).
   */
  public record TierShortfall(int tier, List<ParallelDim> groups, long ranks, long tierSize, boolean fill,
                              TierSide side) {}
}
