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
                            int validTiers) {

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
