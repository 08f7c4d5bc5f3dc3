package calculon.schedule;

import calculon.model.CommGroup;
import calculon.stats.StatField;
import calculon.stats.Stats;

/**
 * One parallel group's ({@link CommGroup}: TP, EP, ES, CP) communication over one step of a
 * processor, in seconds: what its transfers take on the link ({@code link}) and what of them the
 * compute does not hide ({@code exposed}), for the forward and backward passes, and the same for
 * the re-communication of recompute ({@code recommLink}, {@code recommExposed}: recompute repeats
 * the forward pass's traffic; 0 when the step does not train). Context parallelism's KV exchange
 * is the corrected model's only (zero otherwise).
 *
 * <p>The stats keys of each group are data ({@link #fields}), so that a new group is one row
 * there, not four new locals and four new lines of output.
 *
 * <p>Mutable: the step reuses one per group and thread (a search evaluates millions of
 * executions; {@code Evaluator.sampleRate} allocates none of these), filled by {@link #set}, its
 * exposed seconds lowered by an overlap ({@link #setExposed}).
 */
final class GroupSeconds {
  /** Seconds per step on the link, forward and backward passes. */
  double link;
  /** Seconds per step the compute does not hide, forward and backward passes. */
  double exposed;
  /** Seconds per step of recompute's re-communication on the link. */
  double recommLink;
  /** Seconds per step of recompute's re-communication the compute does not hide. */
  double recommExposed;

  GroupSeconds() {}

  GroupSeconds(double link, double exposed, double recommLink, double recommExposed) {
    set(link, exposed, recommLink, recommExposed);
  }
  /** Every group, in {@link CommGroup} order (the order the step's sums add them in). */
  static final CommGroup[] GROUPS = CommGroup.values();

  /**
   * Each group's stats keys, by {@link CommGroup#ordinal()}: link, exposed, recompute link,
   * recompute exposed; null where the reference has no key (context parallelism's
   * re-communication, which counts only in {@link StatField#RECOMM_LINK_TIME} and
   * {@link StatField#RECOMM_EXPOSED_TIME}; reference llm.py:625-753 for the others).
   */
  private static final StatField[][] FIELDS = fieldTable();

  private static StatField[][] fieldTable() {
    StatField[][] t = new StatField[GROUPS.length][];
    t[CommGroup.TP.ordinal()] = new StatField[] {StatField.TP_COMM_LINK_TIME, StatField.TP_COMM_EXPOSED_TIME,
        StatField.TP_RECOMM_LINK_TIME, StatField.TP_RECOMM_EXPOSED_TIME};
    t[CommGroup.EP.ordinal()] = new StatField[] {StatField.EP_COMM_LINK_TIME, StatField.EP_COMM_EXPOSED_TIME,
        StatField.EP_RECOMM_LINK_TIME, StatField.EP_RECOMM_EXPOSED_TIME};
    t[CommGroup.ES.ordinal()] = new StatField[] {StatField.ES_COMM_LINK_TIME, StatField.ES_COMM_EXPOSED_TIME,
        StatField.ES_RECOMM_LINK_TIME, StatField.ES_RECOMM_EXPOSED_TIME};
    t[CommGroup.CP.ordinal()] = new StatField[] {StatField.CP_COMM_LINK_TIME, StatField.CP_COMM_EXPOSED_TIME,
        null, null};
    for (CommGroup g : GROUPS) {
      if (t[g.ordinal()] == null) {
        throw new IllegalStateException("no stats keys for communication group " + g);
      }
    }
    return t;
  }

  /**
   * Group {@code g}'s stats keys: link, exposed, recompute link, recompute exposed (seconds per
   * step); an entry is null where the output has no key for it.
   */
  static StatField[] fields(CommGroup g) {
    return FIELDS[g.ordinal()].clone();
  }

  /** Sets all four (seconds per step). */
  void set(double link, double exposed, double recommLink, double recommExposed) {
    this.link = link;
    this.exposed = exposed;
    this.recommLink = recommLink;
    this.recommExposed = recommExposed;
  }

  /** Lowers the exposed seconds to {@code exposed} and {@code recommExposed}, what stays after an overlap. */
  void setExposed(double exposed, double recommExposed) {
    this.exposed = exposed;
    this.recommExposed = recommExposed;
  }

  /** Exposed seconds of both the passes and the re-communication: what an overlap can hide. */
  double allExposed() {
    return exposed + recommExposed;
  }

  /** Writes this group's seconds as group {@code g}'s stats keys (those it has). */
  void write(Stats stats, CommGroup g) {
    StatField[] f = FIELDS[g.ordinal()];
    stats.set(f[0], link);
    stats.set(f[1], exposed);
    if (f[2] != null) {
      stats.set(f[2], recommLink);
    }
    if (f[3] != null) {
      stats.set(f[3], recommExposed);
    }
  }

  /** The groups' re-communication link seconds, summed in group order. */
  static double recommLinkSum(GroupSeconds[] groups) {
    double sum = groups[0].recommLink;
    for (int i = 1; i < groups.length; i++) {
      sum += groups[i].recommLink;
    }
    return sum;
  }

  /** The groups' exposed re-communication seconds, summed in group order. */
  static double recommExposedSum(GroupSeconds[] groups) {
    double sum = groups[0].recommExposed;
    for (int i = 1; i < groups.length; i++) {
      sum += groups[i].recommExposed;
    }
    return sum;
  }

  /** {@code total} plus each group's exposed seconds of the passes, added one at a time in group order. */
  static double addExposed(double total, GroupSeconds[] groups) {
    for (GroupSeconds g : groups) {
      total += g.exposed;
    }
    return total;
  }
}
