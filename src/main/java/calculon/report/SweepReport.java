package calculon.report;

import calculon.config.ConfigError;
import calculon.sweep.SweepFormat;
import calculon.util.Csv;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The report of a sweep's output (docs/sweeps.md): for every swept numeric field a line chart of
 * the best sample rate and of MFU against it, one line per model and system (the best over the
 * other fields at each value); for every pair of swept fields a heatmap of the best sample rate
 * (per model and system); when the systems have a price, the Pareto front of sample rate against
 * purchase price; and a table of the best execution at every point. Self-contained like the other
 * reports (inline SVG from JFreeChart).
 */
public final class SweepReport {
  private SweepReport() {}

  /** Most rows the table shows (the rest are in the output file). */
  static final int MAX_TABLE_ROWS = 5_000;
  /** Most heatmaps drawn (pairs of fields x model/system lines). */
  static final int MAX_HEATMAPS = 12;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A sweep output: its grid field columns and the best record of each point. */
  record Data(List<String> axes, List<Map<String, String>> best) {}

  /** Whether a file is a sweep's output (.jsonl, or a CSV whose header starts {@code point,model,system}). */
  public static boolean isSweepOutput(Path file) {
    String n = file.getFileName().toString();
    if (n.endsWith(".jsonl")) {
      return true;
    }
    if (!n.endsWith(".csv")) {
      return false;
    }
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String first = r.readLine();
      return first != null && first.startsWith("point,model,system,");
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes the report of the sweep output {@code results} to {@code out}. */
  public static void write(Path results, Path out) throws ConfigError, IOException {
    Html.write(html(read(results), results.getFileName().toString()), out);
  }

  /**
   * Writes the report of a sweep output {@link ReportFiles#read} read (one {@code convert} wrote:
   * .json, .json.gz, .csv.gz) to {@code out}; {@code title} names it.
   */
  public static void write(ReportFiles.SweepContent content, String title, Path out) throws IOException {
    Html.write(html(data(content), title), out);
  }

  /** The best record of each point of {@code content}, its cells as the sweep's CSV writes them. */
  static Data data(ReportFiles.SweepContent content) {
    List<String> columns = content.columns();
    Map<String, Map<String, String>> best = new LinkedHashMap<>();
    for (List<Object> row : content.rows()) {
      Map<String, String> rec = new LinkedHashMap<>();
      for (int i = 0; i < columns.size(); i++) {
        rec.put(columns.get(i), SweepFormat.csvText(row.get(i)));
      }
      best.putIfAbsent(rec.get("point"), rec);
    }
    return new Data(new ArrayList<>(columns.subList(3, columns.indexOf("rank"))), new ArrayList<>(best.values()));
  }

  static Data read(Path file) throws ConfigError {
    List<String> columns = null;
    Map<String, Map<String, String>> best = new LinkedHashMap<>();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      if (file.getFileName().toString().endsWith(".jsonl")) {
        BufferedReader br = (BufferedReader) in;
        String line;
        while ((line = br.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          JsonNode n;
          try {
            n = MAPPER.readTree(line);
          } catch (IOException e) {
            break;  // a half-written last line of a running or interrupted sweep
          }
          Map<String, String> rec = new LinkedHashMap<>();
          for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            rec.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
          }
          if (columns == null) {
            columns = new ArrayList<>(rec.keySet());
          }
          best.putIfAbsent(rec.get("point"), rec);
        }
      } else {
        Csv.RecordReader r = new Csv.RecordReader(in);
        columns = r.next();
        List<String> cells;
        while ((cells = r.next()) != null) {
          if (cells.size() != columns.size()) {
            break;  // a half-written last line
          }
          Map<String, String> rec = new LinkedHashMap<>();
          for (int i = 0; i < cells.size(); i++) {
            rec.put(columns.get(i), cells.get(i));
          }
          best.putIfAbsent(rec.get("point"), rec);
        }
      }
    } catch (IOException e) {
      throw new ConfigError(file.toString(), "", "cannot be read: " + e.getMessage());
    }
    if (columns == null || columns.size() < 5 || !columns.subList(0, 3).equals(List.of("point", "model", "system"))
        || !columns.contains("rank")) {
      throw new ConfigError(file.toString(), "", "is not a sweep output (its columns start point, model, system)");
    }
    List<String> axes = new ArrayList<>(columns.subList(3, columns.indexOf("rank")));
    return new Data(axes, new ArrayList<>(best.values()));
  }

  private static double num(Map<String, String> r, String key) {
    String v = r.get(key);
    if (v == null || v.isEmpty()) {
      return Double.NaN;
    }
    switch (v) {
      case "True", "true":
        return 1;
      case "False", "false":
        return 0;
      default:
        try {
          return Double.parseDouble(v);
        } catch (NumberFormatException e) {
          return Double.NaN;
        }
    }
  }

  private static String line(Map<String, String> r) {
    return r.get("model") + " on " + r.get("system");
  }

  static String html(Data d, String title) {
    Html h = new Html("calculon sweep report: " + title);
    List<Map<String, String>> ok = d.best().stream().filter(r -> "ok".equals(r.get("status"))).toList();
    verdict(h, d, ok);
    for (String axis : d.axes()) {
      lineCharts(h, d, ok, axis);
    }
    heatmaps(h, d, ok);
    pareto(h, ok);
    table(h, d);
    return h.finish();
  }

  private static void verdict(Html h, Data d, List<Map<String, String>> ok) {
    Map<String, String> best = null;
    for (Map<String, String> r : ok) {
      if (best == null || num(r, "sample_rate") > num(best, "sample_rate")) {
        best = r;
      }
    }
    StringBuilder v = new StringBuilder().append(d.best().size()).append(" points, ").append(ok.size())
        .append(" with a good execution. ");
    if (best != null) {
      v.append("<b>Best sample rate ").append(Html.num("sample_rate", num(best, "sample_rate"),
          PyFormat.fixed(num(best, "sample_rate"), 2) + " /s")).append("</b> at point ").append(Html.esc(best.get("point")))
          .append(" (").append(Html.esc(line(best)));
      for (String a : d.axes()) {
        v.append(", ").append(Html.esc(a)).append(" = ").append(Html.esc(best.get(a)));
      }
      v.append("), MFU ").append(Html.num("mfu", num(best, "mfu"), Html.percent(num(best, "mfu")))).append('.');
    }
    h.p(best == null ? "verdict bad" : "verdict", v.toString());
  }

  /** Best of {@code metric} against one field's values, one line per model and system. */
  private static void lineCharts(Html h, Data d, List<Map<String, String>> ok, String axis) {
    Set<Double> xs = new LinkedHashSet<>();
    for (Map<String, String> r : ok) {
      if (!Double.isNaN(num(r, axis))) {
        xs.add(num(r, axis));
      }
    }
    if (xs.size() < 2) {
      return;
    }
    for (String metric : List.of("sample_rate", "mfu")) {
      Map<String, TreeMap<Double, Double>> lines = new LinkedHashMap<>();
      for (Map<String, String> r : ok) {
        double x = num(r, axis);
        double y = num(r, metric);
        if (Double.isNaN(x) || Double.isNaN(y)) {
          continue;
        }
        lines.computeIfAbsent(line(r), k -> new TreeMap<>()).merge(x, y, Math::max);
      }
      List<String> names = new ArrayList<>(lines.keySet());
      List<double[][]> pts = new ArrayList<>();
      for (String n : names) {
        TreeMap<Double, Double> m = lines.get(n);
        double[][] p = new double[2][m.size()];
        int i = 0;
        for (Map.Entry<String, Double> e : relabel(m)) {
          p[0][i] = Double.parseDouble(e.getKey());
          p[1][i++] = e.getValue();
        }
        pts.add(p);
      }
      String label = metric.equals("mfu") ? "MFU (PaLM App. B)" : "best sample rate (samples/s)";
      h.h2(label + " against " + axis);
      h.chart("chart-" + metric + "-" + safe(axis), Charts.svg(Charts.lines(label + " against " + axis, axis, label,
          names, pts, Set.of()), 900, 420), "The best over the other swept fields at each value of " + Html.esc(axis)
          + "; one line per model and system. Points without a good execution are left out.");
    }
  }

  private static List<Map.Entry<String, Double>> relabel(TreeMap<Double, Double> m) {
    List<Map.Entry<String, Double>> out = new ArrayList<>();
    m.forEach((k, v) -> out.add(Map.entry(Double.toString(k), v)));
    return out;
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9_-]", "_");
  }

  /** Best sample rate over each pair of fields, one heatmap per model and system. */
  private static void heatmaps(Html h, Data d, List<Map<String, String>> ok) {
    int drawn = 0;
    for (int i = 0; i < d.axes().size(); i++) {
      for (int j = i + 1; j < d.axes().size(); j++) {
        String ax = d.axes().get(i);
        String ay = d.axes().get(j);
        Map<String, List<Map<String, String>>> byLine = new LinkedHashMap<>();
        for (Map<String, String> r : d.best()) {
          byLine.computeIfAbsent(line(r), k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<Map<String, String>>> e : byLine.entrySet()) {
          List<String> xt = new ArrayList<>(new LinkedHashSet<>(e.getValue().stream().map(r -> r.get(ax)).toList()));
          List<String> yt = new ArrayList<>(new LinkedHashSet<>(e.getValue().stream().map(r -> r.get(ay)).toList()));
          if (xt.size() < 2 || yt.size() < 2 || drawn >= MAX_HEATMAPS) {
            continue;
          }
          double[][] v = new double[xt.size()][yt.size()];
          for (double[] row : v) {
            java.util.Arrays.fill(row, Double.NaN);
          }
          double lo = Double.POSITIVE_INFINITY;
          double hi = Double.NEGATIVE_INFINITY;
          for (Map<String, String> r : e.getValue()) {
            double s = "ok".equals(r.get("status")) ? num(r, "sample_rate") : Double.NaN;
            if (Double.isNaN(s)) {
              continue;
            }
            int x = xt.indexOf(r.get(ax));
            int y = yt.indexOf(r.get(ay));
            v[x][y] = Double.isNaN(v[x][y]) ? s : Math.max(v[x][y], s);
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
          }
          if (lo > hi) {
            continue;
          }
          drawn++;
          String t = "Best sample rate: " + ax + " x " + ay + ", " + e.getKey();
          h.h2(t);
          h.chart("chart-heat-" + drawn, Charts.svg(Charts.heatmap(t, ax, xt.toArray(String[]::new), ay,
              yt.toArray(String[]::new), v, lo, hi, "samples/s"), 900, 460),
              "Empty cells: no good execution (or the best over the other swept fields is missing).");
        }
      }
    }
  }

  /** Sample rate against purchase price: every point, and the front no other point beats on both. */
  private static void pareto(Html h, List<Map<String, String>> ok) {
    List<double[]> pts = new ArrayList<>();
    for (Map<String, String> r : ok) {
      double c = num(r, "capex_usd");
      double s = num(r, "sample_rate");
      if (!Double.isNaN(c) && !Double.isNaN(s)) {
        pts.add(new double[] {c, s});
      }
    }
    if (pts.isEmpty()) {
      return;
    }
    List<double[]> front = paretoFront(pts);
    double[][] all = new double[2][pts.size()];
    for (int i = 0; i < pts.size(); i++) {
      all[0][i] = pts.get(i)[0] / 1e6;
      all[1][i] = pts.get(i)[1];
    }
    double[][] f = new double[2][front.size()];
    for (int i = 0; i < front.size(); i++) {
      f[0][i] = front.get(i)[0] / 1e6;
      f[1][i] = front.get(i)[1];
    }
    h.h2("Performance against cost");
    h.chart("chart-pareto", Charts.svg(Charts.lines("Sample rate against system price", "price (million US$)",
        "best sample rate (samples/s)", List.of("every point", "Pareto front"), List.of(all, f), Set.of(0)), 900, 460),
        "Price from the systems' price keys (docs/reference.md, System keys). The front: no other point is both "
        + "cheaper and faster. " + front.size() + " of " + pts.size() + " points are on it.");
  }

  /**
   * The (cost, rate) points no other point beats on both (cheaper or as cheap, and faster), by
   * increasing cost; sorts {@code pts} by cost, faster first on equal cost.
   */
  static List<double[]> paretoFront(List<double[]> pts) {
    pts.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(b[1], a[1]));
    List<double[]> front = new ArrayList<>();
    double bestRate = Double.NEGATIVE_INFINITY;
    for (double[] p : pts) {
      if (p[1] > bestRate) {
        front.add(p);
        bestRate = p[1];
      }
    }
    return front;
  }

  /**
   * The table's columns after the grid's: the figures and what the winning execution ran,
   * including the ZeRO stage, CP and pipeline schedule the corrected model's searches choose
   * (empty for an output without those columns: calculon-moe, or an earlier calculon's file).
   */
  private static final List<String> TABLE_COLUMNS = List.of("status", "sample_rate", "mfu", "total_time",
      "tensor_par", "pipeline_par", "data_par", "expert_par", "zero_stage", "context_par",
      "context_par_comm_type", "pipeline_schedule", "microbatch_size", "batch_size",
      "activation_recompute", "weight_offload", "activations_offload", "optimizer_offload",
      "proc_mem_tier1_cap_req", "capex_usd", "cost_per_token_usd", "energy_per_token_joules");

  private static void table(Html h, Data d) {
    int n = Math.min(MAX_TABLE_ROWS, d.best().size());
    h.h2("Best execution at each point" + (d.best().size() > n ? " (first " + n + " of " + d.best().size() + ")" : ""));
    StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"sortable\" id=\"table-points\"><thead><tr>"
        + "<th>point</th><th>model</th><th>system</th>");
    for (String a : d.axes()) {
      t.append("<th>").append(Html.esc(a)).append("</th>");
    }
    for (String c : TABLE_COLUMNS) {
      t.append("<th>").append(c).append("</th>");
    }
    t.append("</tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
      Map<String, String> r = d.best().get(i);
      t.append("<tr><td>").append(Html.esc(r.get("point"))).append("</td><td>").append(Html.esc(r.get("model")))
          .append("</td><td>").append(Html.esc(r.get("system"))).append("</td>");
      for (String a : d.axes()) {
        t.append("<td>").append(Html.esc(r.get(a))).append("</td>");
      }
      for (String c : TABLE_COLUMNS) {
        String v = r.getOrDefault(c, "");
        double x = num(r, c);
        if (!c.equals("status") && !Double.isNaN(x) && !v.equals("True") && !v.equals("False")) {
          t.append(Html.numCell(c, x, v.length() > 12 ? String.format(java.util.Locale.ROOT, "%.6g", x) : v));
        } else {
          t.append("<td>").append(Html.esc(v)).append("</td>");
        }
      }
      t.append("</tr>");
    }
    t.append("</tbody></table></div>\n");
    h.raw(t.toString());
  }
}
