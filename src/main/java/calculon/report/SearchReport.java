package calculon.report;

import calculon.util.PyFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The report of a search: a verdict line, the top-N table, heatmaps of the best sample rate over
 * TP x PP (one per EP), and sample rate against tier-1 memory for all good executions.
 *
 * <p>Entry point for the search commands ({@code --report FILE}):
 * <pre>{@code
 * SearchPoints all = new SearchPoints();        // one per thread; merge() them at the end
 * for each good execution: all.add(stats);      // bounded memory: best per cell + a sample
 * List<SearchRow> top = ...;                    // ranked by sample rate, best first: SearchRow.of(stats)
 * SearchReport.write(top, all, SearchReport.Options.of("llm-optimal-execution ..."), Path.of("search.html"));
 * }</pre>
 */
public final class SearchReport {
  private SearchReport() {}

  /** Rows the top table shows by default. */
  public static final int DEFAULT_TOP_SHOWN = 50;
  private static final double BYTES_PER_GIB = 1024.0 * 1024 * 1024;

  /**
   * How to present a search.
   *
   * @param title              what was searched (e.g. the command line or the model and system)
   * @param topShown           rows of the top table
   * @param tier1CapacityBytes the system's tier-1 capacity for the scatter plot, NaN when unknown
   */
  public record Options(String title, int topShown, double tier1CapacityBytes) {
    public static Options of(String title) {
      return new Options(title, DEFAULT_TOP_SHOWN, Double.NaN);
    }
  }

  /** Writes the report of {@code ranked} (best first), with heatmaps and scatter from {@code all}. */
  public static void write(List<SearchRow> ranked, SearchPoints all, Options options, Path out) throws IOException {
    Html.write(html(ranked, all, options), out);
  }

  /**
   * Writes the report when the rows are all there is (a result file): the charts use them, and
   * they are ranked by sample rate, best first (a stable sort: a search's ranking stays as it is;
   * an all-executions file comes shuffled).
   */
  public static void write(List<SearchRow> rows, Options options, Path out) throws IOException {
    List<SearchRow> ranked = new ArrayList<>(rows);
    ranked.sort((a, b) -> Double.compare(b.sampleRate(), a.sampleRate()));
    Html.write(html(ranked, pointsOf(ranked), options), out);
  }

  /** Heatmap and scatter data from the rows themselves (the scatter samples beyond the default size). */
  public static SearchPoints pointsOf(List<SearchRow> rows) {
    SearchPoints p = new SearchPoints(SearchPoints.DEFAULT_SAMPLE_SIZE, 0);
    rows.forEach(p::add);
    return p;
  }

  /** The report page. */
  public static String html(List<SearchRow> ranked, SearchPoints all, Options o) {
    Html h = new Html("calculon search report" + (o.title() == null || o.title().isEmpty() ? "" : ": " + o.title()));
    verdict(h, ranked, all);
    top(h, ranked, o.topShown());
    heatmaps(h, all);
    scatter(h, ranked, all, o);
    return h.finish();
  }

  private static void verdict(Html h, List<SearchRow> ranked, SearchPoints all) {
    if (ranked.isEmpty()) {
      h.p("verdict bad", "No good execution: every candidate was infeasible (or the result file is empty).");
      return;
    }
    SearchRow b = ranked.get(0);
    StringBuilder v = new StringBuilder("<b>Best sample rate ")
        .append(Html.num("sample_rate", b.sampleRate(), PyFormat.fixed(b.sampleRate(), 2) + " /s"))
        .append("</b> at TP=").append(b.tensorPar());
    if (b.execution().containsKey("context_par")) {
      v.append(", CP=").append(b.execution().get("context_par"));
    }
    v.append(", PP=").append(b.pipelinePar()).append(", DP=").append(b.dataPar());
    if (b.execution().containsKey("expert_par")) {
      v.append(", EP=").append(b.expertPar());
    }
    if (b.execution().containsKey("zero_stage")) {
      v.append(", ZeRO stage ").append(b.execution().get("zero_stage"));
    }
    Object mbs = b.execution().get("microbatch_size");
    if (mbs != null) {
      v.append(", microbatch ").append(mbs);
    }
    v.append(", step ").append(Html.num("total_time", b.stat("total_time"), Html.seconds(b.stat("total_time"))))
        .append(", tier-1 memory ").append(Html.numBytes("proc_mem_tier1_cap_req", b.tier1Bytes()))
        .append(". ").append(all.count()).append(all.count() == 1 ? " good execution charted, " : " good executions charted, ")
        .append(ranked.size())
        .append(" ranked.");
    h.p("verdict", v.toString());
  }

  /**
   * Top-table columns: execution keys, then stats keys. The corrected model's keys (CP, ZeRO
   * stage, pipeline schedule, flash attention) are shown when the results hold them (the
   * corrected model's searches write them for every entry; Calculon's results have none).
   */
  private static final List<String> EXEC_COLUMNS = List.of("num_procs", "tensor_par", "context_par",
      "pipeline_par", "data_par", "expert_par", "expert_slice", "batch_size", "microbatch_size",
      "pipeline_interleaving", "pipeline_schedule", "activation_recompute", "optimizer_sharding", "zero_stage",
      "flash_attention", "tensor_par_comm_type", "tensor_par_overlap", "context_par_comm_type",
      "weight_offload", "activations_offload", "optimizer_offload");
  private static final java.util.Set<String> OPTIONAL_EXEC_COLUMNS = java.util.Set.of("context_par",
      "pipeline_schedule", "zero_stage", "flash_attention", "context_par_comm_type");

  /** {@link #EXEC_COLUMNS} less the optional ones no ranked result has. */
  private static List<String> execColumns(List<SearchRow> ranked) {
    List<String> cols = new java.util.ArrayList<>();
    for (String k : EXEC_COLUMNS) {
      if (!OPTIONAL_EXEC_COLUMNS.contains(k) || ranked.stream().anyMatch(r -> r.execution().containsKey(k))) {
        cols.add(k);
      }
    }
    return cols;
  }
  private static final List<String> STAT_COLUMNS = List.of("sample_rate", "total_time",
      "proc_mem_tier1_cap_req", "proc_mem_tier2_cap_req", "total_efficiency");

  private static void top(Html h, List<SearchRow> ranked, int shown) {
    int n = Math.min(shown, ranked.size());
    h.h2("Top " + n + " executions" + (ranked.size() > n ? " of " + ranked.size() : ""));
    StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"sortable\" id=\"table-top\"><thead><tr><th>rank</th>");
    for (String k : STAT_COLUMNS) {
      t.append("<th>").append(k).append("</th>");
    }
    List<String> execColumns = execColumns(ranked);
    for (String k : execColumns) {
      t.append("<th>").append(k).append("</th>");
    }
    t.append("</tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
      SearchRow r = ranked.get(i);
      t.append("<tr><td data-sort=\"").append(i).append("\">").append(i).append("</td>");
      for (String k : STAT_COLUMNS) {
        double v = r.stat(k);
        String shownText;
        if (!Double.isNaN(v) && k.startsWith("proc_mem")) {
          t.append(Html.numBytesCell(k, v));
          continue;
        }
        if (Double.isNaN(v)) {
          shownText = "";
        } else if (k.equals("total_efficiency")) {
          shownText = PyFormat.fixed(v * 100, 2) + "%";
        } else {
          shownText = PyFormat.fixed(v, 4);
        }
        t.append(Html.numCell(k, v, shownText));
      }
      for (String k : execColumns) {
        Object v = r.execution().get(k);
        if (v instanceof Number) {
          t.append("<td data-sort=\"").append(v).append("\">").append(v).append("</td>");
        } else {
          t.append("<td>").append(v == null ? "" : Html.esc(String.valueOf(v))).append("</td>");
        }
      }
      t.append("</tr>");
    }
    t.append("</tbody></table></div>\n");
    h.raw(t.toString());
  }

  private static void heatmaps(Html h, SearchPoints all) {
    h.h2("Best sample rate over TP x PP");
    if (all.count() == 0) {
      h.p("note", "Nothing to chart.");
      return;
    }
    TreeSet<Integer> tps = new TreeSet<>();
    TreeSet<Integer> pps = new TreeSet<>();
    double low = Double.POSITIVE_INFINITY;
    double high = Double.NEGATIVE_INFINITY;
    for (Map.Entry<SearchPoints.Cell, Double> e : all.best().entrySet()) {
      tps.add(e.getKey().tensorPar());
      pps.add(e.getKey().pipelinePar());
      low = Math.min(low, e.getValue());
      high = Math.max(high, e.getValue());
    }
    List<Integer> tpList = new ArrayList<>(tps);
    List<Integer> ppList = new ArrayList<>(pps);
    String[] tpTicks = tpList.stream().map(String::valueOf).toArray(String[]::new);
    String[] ppTicks = ppList.stream().map(String::valueOf).toArray(String[]::new);
    List<Integer> eps = all.expertPars();
    h.raw("<div class=\"grid\">");
    for (int ep : eps) {
      double[][] grid = new double[tpList.size()][ppList.size()];
      for (double[] col : grid) {
        java.util.Arrays.fill(col, Double.NaN);
      }
      for (Map.Entry<SearchPoints.Cell, Double> e : all.best().entrySet()) {
        if (e.getKey().expertPar() == ep) {
          grid[tpList.indexOf(e.getKey().tensorPar())][ppList.indexOf(e.getKey().pipelinePar())] = e.getValue();
        }
      }
      String title = eps.size() > 1 || ep > 1 ? "EP = " + ep : "best sample rate";
      int width = Math.max(420, 90 * tpList.size() + 200);
      int height = Math.max(300, 50 * ppList.size() + 140);
      h.chart("chart-heatmap-ep" + ep, Charts.svg(Charts.heatmap(title, "tensor parallelism (TP)", tpTicks,
          "pipeline parallelism (PP)", ppTicks, grid, low, high, "samples/s"), width, height),
          "Each cell: the best sample rate of any good execution with that TP and PP"
              + (eps.size() > 1 || ep > 1 ? " and EP = " + ep : "") + "; empty: none fits.");
    }
    h.raw("</div>\n");
  }

  private static void scatter(Html h, List<SearchRow> ranked, SearchPoints all, Options o) {
    h.h2("Sample rate against tier-1 memory");
    double[][] s = all.sample();
    double[][] sGib = {scale(s[0]), s[1]};
    int n = Math.min(o.topShown(), ranked.size());
    double[][] topPts = new double[2][n];
    for (int i = 0; i < n; i++) {
      topPts[0][i] = ranked.get(i).tier1Bytes() / BYTES_PER_GIB;
      topPts[1][i] = ranked.get(i).sampleRate();
    }
    String allLabel = s[0].length < all.count()
        ? "good executions (random sample of " + s[0].length + " of " + all.count() + ")"
        : "good executions (" + all.count() + ")";
    double cap = o.tier1CapacityBytes();
    List<String> names = n == 0 ? List.of(allLabel) : List.of(allLabel, "top " + n, "best");
    List<double[][]> series = new ArrayList<>();
    series.add(sGib);
    if (n > 0) {
      series.add(topPts);
      series.add(new double[][] {{topPts[0][0]}, {topPts[1][0]}});
    }
    h.chart("chart-scatter", Charts.svg(Charts.scatter("Sample rate vs tier-1 memory per GPU",
        "tier-1 memory required (GiB)", "sample rate (samples/s)", names,
        series, Double.isNaN(cap) ? Double.NaN : cap / BYTES_PER_GIB,
        Double.isNaN(cap) ? null : "capacity " + Html.bytes(cap)), 1000, 460),
        "Up and to the left is better: more samples per second with more memory to spare. "
            + "Black square: the best execution" + (Double.isNaN(cap) ? "." : "; red line: tier-1 capacity."));
  }

  private static double[] scale(double[] bytes) {
    double[] g = new double[bytes.length];
    for (int i = 0; i < g.length; i++) {
      g[i] = bytes[i] / BYTES_PER_GIB;
    }
    return g;
  }
}
