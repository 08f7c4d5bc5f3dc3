package calculon.search;

import calculon.model.Infeasible;

/**
 * Tallies of a search or of one partition. {@code total}, {@code good} and {@code bad} count
 * distinct executions (what this implementation enumerates; {@code good + bad == total}).
 * The {@code ref*} fields count as Calculon-MoE does, with its duplicates: the repeated last
 * microbatch size and, for MoE with TP &gt; 1, the three TP comm types the model runs alike.
 * {@code refUnevaluated} is the part of {@code refTotal} whose outcome is unknown: the reference's
 * extra microbatch candidate in the rare case it is not a valid size (then it is no duplicate and
 * this implementation does not run it). Executions of the corrected model's own knobs (ZeRO stages
 * 2 and 3, CP, pipeline schedules, TP overlap async_tp, backward and userbuffers) are in no
 * {@code ref*} count.
 */
public final class Counts {
  /** Distinct executions considered. */
  public long total;
  /** Distinct executions the model accepted. */
  public long good;
  /** Distinct executions rejected: by the tier rules, or by the model. */
  public long bad;
  /** Part of {@code bad} rejected by the network-tier rules before evaluation. */
  public long tierRejected;
  /** Part of {@code bad} known infeasible without a call: a tier-independent rejection seen earlier in the same group. */
  public long inferredInfeasible;
  /**
   * Part of {@code good} counted without a call: a tier assignment of a block whose model
   * acceptance was seen, and whose sample-rate bound cannot enter the top N.
   */
  public long boundPruned;
  /**
   * Part of {@code bad} by the rule that rejected it, indexed by {@link Infeasible.Rule#ordinal()}:
   * the tier rules checked before evaluation, the model's rejections, and those inferred from them.
   */
  public final long[] rejectedBy = new long[Infeasible.Rule.values().length];
  /**
   * Executions merged as no-op duplicates of a counted one ({@link NoOpKnobs}): the reference's
   * enumeration would have run them too, with the same outcome. Not part of {@code total}.
   */
  public long mergedNoOps;
  /**
   * Of {@code mergedNoOps}, the {@code seq_par_ag_redo} false twins of executions whose TP overlap
   * mode re-gathers the sequence-parallel input anyway ({@link PartitionPlan#hasRedoTwin}).
   */
  public long mergedRedoTwins;
  /** Calls to the evaluator. */
  public long evaluated;
  /** Reference-equivalent executions (Calculon-MoE's "Total executions"). */
  public long refTotal;
  /** Reference-equivalent good executions. */
  public long refGood;
  /** Reference-equivalent bad executions. */
  public long refBad;
  /** Reference-equivalent executions with no distinct counterpart (see class comment). */
  public long refUnevaluated;
  /**
   * Part of {@code total} that stands for no reference execution: the corrected model's own knobs
   * (ZeRO stage 2 or 3, CP &gt; 1, a named pipeline schedule, a corrected-model TP overlap mode),
   * which the {@code ref*} counts leave out.
   */
  public long outsideReference;
  /** Part of {@code outsideReference} the model accepted (part of {@code good}). */
  public long outsideReferenceGood;

  public void add(Counts o) {
    total += o.total;
    good += o.good;
    bad += o.bad;
    tierRejected += o.tierRejected;
    inferredInfeasible += o.inferredInfeasible;
    boundPruned += o.boundPruned;
    for (int i = 0; i < rejectedBy.length; i++) {
      rejectedBy[i] += o.rejectedBy[i];
    }
    evaluated += o.evaluated;
    mergedNoOps += o.mergedNoOps;
    mergedRedoTwins += o.mergedRedoTwins;
    refTotal += o.refTotal;
    refGood += o.refGood;
    refBad += o.refBad;
    refUnevaluated += o.refUnevaluated;
    outsideReference += o.outsideReference;
    outsideReferenceGood += o.outsideReferenceGood;
  }

  /**
   * The rule that rejected the most executions (the first of {@link Infeasible.Rule}'s order on a
   * tie), or null when none was rejected.
   */
  public Infeasible.Rule mainRejection() {
    java.util.List<Infeasible.Rule> rules = rulesByRejections();
    return rules.isEmpty() ? null : rules.get(0);
  }

  /** The rules that rejected executions, most rejections first (a stable sort: ties in {@link Infeasible.Rule}'s order). */
  private java.util.List<Infeasible.Rule> rulesByRejections() {
    java.util.List<Infeasible.Rule> rules = new java.util.ArrayList<>(java.util.List.of(Infeasible.Rule.values()));
    rules.removeIf(r -> rejectedBy[r.ordinal()] == 0);
    rules.sort((a, b) -> Long.compare(rejectedBy[b.ordinal()], rejectedBy[a.ordinal()]));
    return rules;
  }

  /**
   * How many executions each rule rejected, largest first, e.g. {@code 1200 memory tier 1 (mem1)
   * too small; 40 network tier too small for the groups placed on it}; empty when none was rejected.
   */
  public String rejectionSummary() {
    java.util.List<String> parts = new java.util.ArrayList<>();
    for (Infeasible.Rule r : rulesByRejections()) {
      parts.add(rejectedBy[r.ordinal()] + " " + r.description);
    }
    return String.join("; ", parts);
  }

  @Override
  public String toString() {
    return "Counts{total=" + total + ", good=" + good + ", bad=" + bad + ", tierRejected="
         + tierRejected + ", inferredInfeasible=" + inferredInfeasible + ", boundPruned=" + boundPruned
        + ", evaluated=" + evaluated
        + ", refTotal=" + refTotal + ", refGood=" + refGood + ", refBad=" + refBad
        + ", refUnevaluated=" + refUnevaluated + ", outsideReference=" + outsideReference
        + ", outsideReferenceGood=" + outsideReferenceGood + "}";
  }
}
