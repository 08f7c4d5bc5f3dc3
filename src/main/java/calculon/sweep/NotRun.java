package calculon.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The points of a sweep that gave no result, counted by their status (the output's {@code status}
 * column: {@link Sweep#INVALID} when the point's inputs are inconsistent, {@link Sweep#INFEASIBLE}
 * when nothing runs there), and the first of them in point order, so that the summary can say how
 * many points were not run and why the first was not ({@code SweepCommand}).
 *
 * @param invalid    points whose status starts with {@code invalid}
 * @param infeasible points whose status starts with {@code infeasible}
 * @param first      the first such point as "point i: STATUS", null when none
 */
public record NotRun(long invalid, long infeasible, String first) {
  /** No point not run. */
  public static final NotRun NONE = new NotRun(0, 0, null);

  /**
   * This tally after point {@code point} whose first record's status is {@code status} (an
   * {@code ok} point, or any other status, leaves it as it is).
   */
  public NotRun plus(long point, String status) {
    if (status == null) {
      return this;
    }
    boolean inv = status.startsWith(Sweep.INVALID);
    boolean inf = status.startsWith(Sweep.INFEASIBLE);
    if (!inv && !inf) {
      return this;
    }
    return new NotRun(invalid + (inv ? 1 : 0), infeasible + (inf ? 1 : 0),
        first != null ? first : "point " + point + ": " + status);
  }

  /** How many points gave no result. */
  public long total() {
    return invalid + infeasible;
  }

  /**
   * The summary's line, null when every point ran: {@code Not run: 1 invalid, 1 infeasible (the
   * status column of OUT.csv says why; first: point 0: invalid: ...)}.
   *
   * @param output    the sweep's OUTPUT as the user named it
   * @param fileNames the first point's status with the SPEC's input files named as the user can
   *                  use them ({@link InputPaths#rewrite}; OUTPUT's status keeps the SPEC's names)
   */
  public String line(Object output, UnaryOperator<String> fileNames) {
    if (total() == 0) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    if (invalid > 0) {
      parts.add(invalid + " " + Sweep.INVALID);
    }
    if (infeasible > 0) {
      parts.add(infeasible + " " + Sweep.INFEASIBLE);
    }
    return "Not run: " + String.join(", ", parts) + " (the status column of " + output + " says why; first: "
        + fileNames.apply(first) + ")";
  }
}
