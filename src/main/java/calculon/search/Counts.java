package calculon.search;

/**
 * Tallies of a search or of one partition. {@code total}, {@code good} and {@code bad} count
 * distinct executions (what this implementation enumerates; {@code good + bad == total}).
 * The {@code ref*} fields count as Calculon-MoE does, with its duplicates: the repeated last
 * microbatch size and, for MoE with TP &gt; 1, the three TP comm types the model runs alike.
 * {@code refUnevaluated} is the part of {@code refTotal} whose outcome is unknown: the reference's
 * extra microbatch candidate in the rare case it is not a valid size (then it is no duplicate and
 * this implementation does not run it).
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

  public void add(Counts o) {
    total += o.total;
    good += o.good;
    bad += o.bad;
    tierRejected += o.tierRejected;
    inferredInfeasible += o.inferredInfeasible;
    boundPruned += o.boundPruned;
    evaluated += o.evaluated;
    refTotal += o.refTotal;
    refGood += o.refGood;
    refBad += o.refBad;
    refUnevaluated += o.refUnevaluated;
  }

  @Override
  public String toString() {
    return "Counts{total=" + total + ", good=" + good + ", bad=" + bad + ", tierRejected="
         + tierRejected + ", inferredInfeasible=" + inferredInfeasible + ", boundPruned=" + boundPruned
        + ", evaluated=" + evaluated
        + ", refTotal=" + refTotal + ", refGood=" + refGood + ", refBad=" + refBad
        + ", refUnevaluated=" + refUnevaluated + "}";
  }
}
