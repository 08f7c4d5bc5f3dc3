package calculon.report;

import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;

/**
 * The report's table of where the expert all-to-all runs and what overlap hides: the EP
 * exchange's link time on tier 0 and on the EP group's upper tier (ExpertDispatch in the corrected
 * model), the part hidden behind other compute (moe_a2a_overlap, DualPipe) apart from the exposed
 * part the step pays, and DualPipe's hidden pipeline transfers.
 */
final class CommunicationSplit {
  private CommunicationSplit() {}

  private static final StatField[] ROWS = {
      StatField.EP_COMM_LINK_TIME, StatField.EP_A2A_TIER0_LINK_TIME, StatField.EP_A2A_UPPER_TIER_LINK_TIME,
      StatField.EP_COMM_OVERLAPPED_TIME, StatField.EP_COMM_EXPOSED_TIME,
      StatField.PP_COMM_LINK_TIME, StatField.PP_COMM_OVERLAPPED_TIME, StatField.PP_COMM_EXPOSED_TIME};

  private static final String[] LABELS = {
      "EP all-to-all, link time (the slower tier of each exchange)", "EP all-to-all on tier 0 (peers in the sender's domain)",
      "EP all-to-all on the EP tier (peers in other domains)", "EP all-to-all hidden behind other compute",
      "EP all-to-all exposed (in the step)", "PP transfers, link time", "PP transfers hidden behind other compute",
      "PP transfers exposed (in the step)"};

  /** The section's HTML, or "" when the run has no expert all-to-all split or overlap to show. */
  static String html(Stats s) {
    boolean any = s.get(StatField.EP_A2A_TIER0_LINK_TIME) != 0 || s.get(StatField.EP_A2A_UPPER_TIER_LINK_TIME) != 0
        || s.get(StatField.EP_COMM_OVERLAPPED_TIME) != 0 || s.get(StatField.PP_COMM_OVERLAPPED_TIME) != 0;
    if (!any) {
      return "";
    }
    StringBuilder t = new StringBuilder("<h2>Expert all-to-all by tier, hidden and exposed</h2>\n"
        + "<table class=\"sortable\" id=\"table-comm-split\"><thead><tr><th>what</th><th>seconds per step</th>"
        + "<th>stats key</th></tr></thead><tbody>");
    for (int i = 0; i < ROWS.length; i++) {
      double v = s.get(ROWS[i]);
      t.append("<tr><td>").append(Html.esc(LABELS[i])).append("</td>")
          .append(Html.numCell(ROWS[i].key, v, PyFormat.fixed(v, 4)))
          .append("<td>").append(Html.esc(ROWS[i].key)).append("</td></tr>");
    }
    return t.append("</tbody></table>\n").toString();
  }
}
