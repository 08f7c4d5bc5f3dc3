package calculon.search;

/**
 * Everything one partition enumerates: {@code prefixes x microbatch sizes x tier assignments},
 * in that nesting, in the reference's order. The position of an execution inside its partition is
 * {@code (prefix * mbs.length + mbsIndex) * tiers.length + tierIndex}.
 *
 * <p>{@code tiers[i]} holds {tn, pn, dn, dn_exp, epn, esn, cpn}; {@code tierError[i]} is null when the
 * assignment fits the network tiers, else the model's error message (such executions are bad
 * without evaluation).
 *
 * <p>The reference's microbatch generator yields one more candidate after the valid ones: the
 * local batch size again ({@link #extraMbs()}). Usually that repeats the last valid size
 * ({@link #extraIsDuplicate()}); it is counted for reference-equivalent totals, never evaluated.
 */
public record PartitionPlan(Partition partition, Prefix[] prefixes, int[] mbs, int extraMbs,
                            boolean extraIsDuplicate, int[][] tiers, String[] tierError,
                            int validTiers, boolean mergesRedoTwins) {

  /**
   * Whether prefix {@code x} also stands for its {@code seq_par_ag_redo} false twin, which this
   * plan does not enumerate: a merged space ({@link NoOpKnobs}) at TP &gt; 1 whose TP overlap mode
   * re-gathers the sequence-parallel input whatever the flag says.
   */
  public boolean hasRedoTwin(Prefix x) {
    return mergesRedoTwins && x.seqParAgRedo() && x.tensorParOverlap().alwaysRegathersSequenceParallelInput();
  }

  /** How many of the prefixes stand for a twin ({@link #hasRedoTwin}). */
  public int redoTwinPrefixes() {
    int n = 0;
    for (Prefix x : prefixes) {
      n += hasRedoTwin(x) ? 1 : 0;
    }
    return n;
  }

  /** The prefixes whose executions may stand for reference executions ({@link Prefix#calculonKnobs()}). */
  public int referencePrefixes() {
    int n = 0;
    for (Prefix x : prefixes) {
      n += x.calculonKnobs() ? 1 : 0;
    }
    return n;
  }

  /** Distinct executions of this partition. */
  public long size() {
    return (long) prefixes.length * mbs.length * tiers.length;
  }
}
