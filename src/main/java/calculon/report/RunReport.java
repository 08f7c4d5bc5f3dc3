package calculon.report;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.stats.ExecutionDict;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The report of one run ({@code llm --report}, {@code report stats.json}): a verdict line, the
 * step time by part, memory per GPU by kind against each tier's capacity, efficiency, the inputs,
 * and the per-layer table. One self-contained HTML file.
 */
public final class RunReport {
  private RunReport() {}

  /** A tier is "nearly full" above this share of its capacity (the verdict says so). */
  private static final double NEARLY_FULL = 0.95;
  private static final double BYTES_PER_GIB = 1024.0 * 1024 * 1024;
  private static final double MICROSECONDS = 1e6;

  /**
   * What the run was made from. Any of the configs may be null (a report from a stats file alone);
   * the report then says the inputs are unknown and shows what the stats have.
   */
  public record Inputs(Application application, Execution execution, SystemSpec system, ModelVersion version) {
    /** The inputs a Stats carries (all of them after an evaluation) and the model version used. */
    public static Inputs of(Stats s, ModelVersion version) {
      return new Inputs(s.application(), s.execution(), s.system(), version);
    }

    /** Nothing known but the stats. */
    public static Inputs unknown() {
      return new Inputs(null, null, null, null);
    }
  }

  /** Writes the report of {@code stats} to {@code out}. */
  public static void write(Stats stats, Inputs inputs, Path out) throws IOException {
    Html.write(html(stats, inputs), out);
  }

  /** The report page. */
  public static String html(Stats s, Inputs in) {
    String title = "calculon run report"
        + (in.application() != null ? ": " + in.application().name() : "")
        + (in.system() != null ? " on " + in.system().name() : "");
    Html h = new Html(title);
    List<StepBreakdown.Part> parts = StepBreakdown.of(s);
    double total = s.get(StatField.TOTAL_TIME);
    double cap1 = Double.NaN;
    double cap2 = Double.NaN;
    if (in.system() != null && in.execution() != null) {
      Hardware hw = new Hardware(in.system(), in.execution().datatype());
      cap1 = hw.mem1().capacityBytes();
      cap2 = hw.mem2().capacityBytes();
    }
    verdict(h, s, parts, total, cap1);
    // the charts first: a reader sees what limits the step without scrolling
    stepTime(h, parts, total);
    h.raw(CommunicationSplit.html(s));
    memory(h, s, in.execution(), cap1, cap2);
    efficiency(h, s);
    inputs(h, in);
    layers(h, s);
    return h.finish();
  }

  private static void verdict(Html h, Stats s, List<StepBreakdown.Part> parts, double total, double cap1) {
    StepBreakdown.Part top = StepBreakdown.largest(parts);
    double compute = StepBreakdown.seconds(parts, StepBreakdown.Kind.COMPUTE);
    StringBuilder v = new StringBuilder();
    v.append("<b>Step time ").append(Html.num(StatField.TOTAL_TIME.key, total, Html.seconds(total)))
        .append("</b>, sample rate ").append(Html.num(StatField.SAMPLE_RATE.key, s.get(StatField.SAMPLE_RATE),
            PyFormat.fixed(s.get(StatField.SAMPLE_RATE), 2) + " /s")).append(". ");
    v.append("<b>Limited by ").append(Html.esc(top.label())).append("</b>: ")
        .append(Html.percent(top.seconds() / total)).append(" of the step. ");
    v.append("Compute (forward, backward, optimizer, recompute) is ").append(Html.percent(compute / total));
    List<StepBreakdown.Part> overheads = new ArrayList<>();
    for (StepBreakdown.Part p : parts) {
      if (p.kind() != StepBreakdown.Kind.COMPUTE && p != top && p.seconds() > 0) {
        overheads.add(p);
      }
    }
    overheads.sort((a, b) -> Double.compare(b.seconds(), a.seconds()));
    if (!overheads.isEmpty()) {
      v.append("; next overheads: ");
      for (int i = 0; i < Math.min(2, overheads.size()); i++) {
        StepBreakdown.Part p = overheads.get(i);
        v.append(i > 0 ? ", " : "").append(Html.esc(p.label())).append(" ").append(Html.percent(p.seconds() / total));
      }
    }
    v.append(". ");
    double req1 = s.get(StatField.PROC_MEM_TIER1_CAP_REQ);
    boolean full = false;
    v.append("Memory tier 1 needs ").append(Html.numBytes(StatField.PROC_MEM_TIER1_CAP_REQ.key, req1));
    if (!Double.isNaN(cap1)) {
      full = req1 > NEARLY_FULL * cap1;
      v.append(" of ").append(Html.bytes(cap1)).append(" (").append(Html.percent(req1 / cap1)).append(")");
      if (full) {
        v.append(": <b>nearly full</b>");
      }
    }
    v.append(".");
    h.p(full ? "verdict bad" : "verdict", v.toString());
  }

  private static void inputs(Html h, Inputs in) {
    h.h2("Inputs");
    if (in.application() == null && in.execution() == null && in.system() == null) {
      h.p("note", "Inputs unknown: this report was made from a stats file alone, which does not record "
          + "the model, execution or system (pass --model/--execution/--system to show them). The "
          + "charts below need only the stats; memory capacities need the system and execution.");
      if (in.version() != null) {
        h.raw(kvTable("Model version", new String[][] {{"version", in.version().cliName}}));
      }
      return;
    }
    h.raw("<div class=\"grid\">");
    if (in.application() != null) {
      Application a = in.application();
      h.raw(kvTable("Model: " + a.name(), new String[][] {
          {"hidden", String.valueOf(a.hidden())}, {"feedforward", String.valueOf(a.feedforward())},
          {"seq_size", String.valueOf(a.seqSize())}, {"attn_heads", String.valueOf(a.attnHeads())},
          {"attn_size", String.valueOf(a.attnSize())}, {"num_blocks", String.valueOf(a.numBlocks())}}));
    } else {
      h.raw(kvTable("Model", new String[][] {{"(unknown)", ""}}));
    }
    if (in.system() != null) {
      SystemSpec sys = in.system();
      List<String[]> rows = new ArrayList<>();
      if (in.execution() != null && sys.matrix().containsKey(in.execution().datatype())) {
        rows.add(new String[] {"matrix " + in.execution().datatype().jsonName,
            PyFormat.repr(sys.matrix().get(in.execution().datatype()).tflops()) + " TFLOP/s"});
      }
      rows.add(new String[] {"mem1", PyFormat.repr(sys.mem1().gib()) + " GiB, " + PyFormat.repr(sys.mem1().gbps()) + " GB/s"});
      rows.add(new String[] {"mem2", PyFormat.repr(sys.mem2().gib()) + " GiB, " + PyFormat.repr(sys.mem2().gbps()) + " GB/s"});
      for (int i = 0; i < sys.networks().size(); i++) {
        SystemSpec.NetworkSpec n = sys.networks().get(i);
        rows.add(new String[] {"network " + i, "size " + n.size() + ", " + PyFormat.repr(n.bandwidthGBps()) + " GB/s"});
      }
      h.raw(kvTable("System: " + sys.name(), rows.toArray(new String[0][])));
    } else {
      h.raw(kvTable("System", new String[][] {{"(unknown)", ""}}));
    }
    if (in.execution() != null) {
      List<String[]> rows = new ArrayList<>();
      // what the run used: for the corrected model its defaults too (ZeRO stage, CP, flash
      // attention and its kernel, recomputed modules, pipeline schedule, MoE dispatcher)
      Map<String, Object> asRun = in.version() == null ? ExecutionDict.of(in.execution())
          : ExecutionDict.asRun(in.execution(), in.application(), in.system(), in.version());
      for (Map.Entry<String, Object> e : asRun.entrySet()) {
        rows.add(new String[] {e.getKey(), e.getValue() == null ? "none" : String.valueOf(e.getValue())});
      }
      h.raw(kvTable("Execution", rows.toArray(new String[0][])));
    } else {
      h.raw(kvTable("Execution", new String[][] {{"(unknown)", ""}}));
    }
    h.raw(kvTable("Model version", new String[][] {
        {"version", in.version() != null ? in.version().cliName : "(unknown)"}}));
    h.raw("</div>\n");
  }

  private static String kvTable(String caption, String[][] rows) {
    StringBuilder t = new StringBuilder("<table class=\"kv\"><caption><b>").append(Html.esc(caption))
        .append("</b></caption><tbody>");
    for (String[] r : rows) {
      t.append("<tr><td>").append(Html.esc(r[0])).append("</td><td>").append(Html.esc(r[1])).append("</td></tr>");
    }
    return t.append("</tbody></table>").toString();
  }

  private static void stepTime(Html h, List<StepBreakdown.Part> parts, double total) {
    h.h2("Step time");
    List<Charts.Segment> segs = new ArrayList<>();
    for (StepBreakdown.Part p : parts) {
      if (p.seconds() > 0) {
        segs.add(new Charts.Segment(p.label(), p.seconds(), StepBreakdown.color(p)));
      }
    }
    h.chart("chart-step-time", Charts.svg(Charts.stackedBar("Where one step's time goes", "step", segs,
        "seconds", Double.NaN, null), 1100, 230),
        "One training step, stacked in the order the model adds the parts; only exposed "
            + "(not overlapped) communication adds to the step.");
    StringBuilder t = new StringBuilder("<table class=\"sortable\" id=\"table-step-time\"><thead><tr>"
        + "<th>part</th><th>seconds</th><th>share</th><th>stats keys</th></tr></thead><tbody>");
    for (StepBreakdown.Part p : parts) {
      String key = p.fields().size() == 1 ? p.fields().get(0).key : p.label();
      t.append("<tr><td>").append(Html.esc(p.label())).append("</td>")
          .append(Html.numCell(key, p.seconds(), PyFormat.fixed(p.seconds(), 4)))
          .append("<td data-sort=\"").append(PyFormat.repr(p.seconds() / total)).append("\">")
          .append(Html.percent(p.seconds() / total)).append("</td><td>");
      for (int i = 0; i < p.fields().size(); i++) {
        t.append(i > 0 ? " + " : "").append(p.fields().get(i).key);
      }
      t.append("</td></tr>");
    }
    t.append("</tbody><tfoot><tr><td>total</td>")
        .append(Html.numCell(StatField.TOTAL_TIME.key, total, PyFormat.fixed(total, 4)))
        .append("<td>100.0%</td><td>total_time</td></tr></tfoot></table>\n");
    h.raw(t.toString());
  }

  private static void memory(Html h, Stats s, Execution exe, double cap1, double cap2) {
    h.h2("Memory per GPU");
    List<MemoryBreakdown.Part> t1 = MemoryBreakdown.tier1(s, exe);
    List<MemoryBreakdown.Part> t2 = MemoryBreakdown.tier2(s, exe);
    h.chart("chart-memory-tier1", Charts.svg(memoryChart("Tier 1 (HBM): "
        + Html.bytes(s.get(StatField.PROC_MEM_TIER1_CAP_REQ)) + " needed", t1, cap1), 1100, 200),
        Double.isNaN(cap1) ? "Capacity unknown (needs the system and execution)."
            : "Dashed red line: tier-1 capacity, " + Html.bytes(cap1) + ".");
    if (!t2.isEmpty()) {
      h.chart("chart-memory-tier2", Charts.svg(memoryChart("Tier 2 (offload): "
          + Html.bytes(s.get(StatField.PROC_MEM_TIER2_CAP_REQ)) + " needed", t2, cap2), 1100, 200),
          Double.isNaN(cap2) ? "Capacity unknown." : "Dashed red line: tier-2 capacity, " + Html.bytes(cap2) + ".");
    } else {
      h.p("note", "Tier 2: nothing offloaded" + (Double.isNaN(cap2) ? "." : " (capacity " + Html.bytes(cap2) + ")."));
    }
    StringBuilder t = new StringBuilder("<table class=\"sortable\" id=\"table-memory\"><thead><tr><th>kind</th>"
        + "<th>bytes</th><th>size</th><th>stats key</th></tr></thead><tbody>");
    memRow(t, "weights", s, StatField.WEIGHT_SPACE);
    memRow(t, "activations", s, StatField.ACT_SPACE);
    memRow(t, "activation checkpoints", s, StatField.ACT_CHECKPOINT_SIZE);
    memRow(t, "activation gradients", s, StatField.ACT_GRAD_SPACE);
    memRow(t, "weight gradients", s, StatField.WEIGHT_GRAD_SPACE);
    memRow(t, "optimizer", s, StatField.OPTIMIZER_SPACE);
    memRow(t, "tier 1 required", s, StatField.PROC_MEM_TIER1_CAP_REQ);
    memRow(t, "tier 2 required", s, StatField.PROC_MEM_TIER2_CAP_REQ);
    t.append("</tbody></table>\n");
    h.raw(t.toString());
  }

  private static org.jfree.chart.JFreeChart memoryChart(String title, List<MemoryBreakdown.Part> parts, double cap) {
    List<Charts.Segment> segs = new ArrayList<>();
    for (MemoryBreakdown.Part p : parts) {
      segs.add(new Charts.Segment(p.label(), p.bytes() / BYTES_PER_GIB, memoryColor(p.label())));
    }
    return Charts.stackedBar(title, "GPU", segs, "GiB", Double.isNaN(cap) ? Double.NaN : cap / BYTES_PER_GIB,
        Double.isNaN(cap) ? null : "capacity " + Html.bytes(cap));
  }

  private static Color memoryColor(String kind) {
    return Charts.PALETTE[MemoryBreakdown.KINDS.indexOf(kind)];
  }

  private static void memRow(StringBuilder t, String label, Stats s, StatField f) {
    double v = s.isNull(f) ? 0 : s.get(f);
    t.append("<tr><td>").append(Html.esc(label)).append("</td>")
        .append(Html.byteCountCell(f.key, v))
        .append("<td data-sort=\"").append(Html.byteCount(v)).append("\">").append(Html.bytes(v))
        .append("</td><td>").append(f.key).append("</td></tr>");
  }

  private static void efficiency(Html h, Stats s) {
    h.h2("Efficiency");
    double[] pct = {
        s.get(StatField.COMPUTE_EFFICIENCY) * 100, s.get(StatField.SYSTEM_EFFICIENCY) * 100,
        s.get(StatField.TOTAL_EFFICIENCY) * 100};
    h.chart("chart-efficiency", Charts.svg(Charts.bars("Efficiency (%)",
        List.of("compute", "system", "total"), pct, "percent", 100), 600, 260),
        "Compute: useful flops over the time spent computing at peak; system: compute time over the "
            + "step time; total: the product, the model-flops utilisation.");
    StringBuilder t = new StringBuilder("<table id=\"table-efficiency\"><tbody>");
    for (StatField f : new StatField[] {StatField.COMPUTE_EFFICIENCY, StatField.SYSTEM_EFFICIENCY,
        StatField.TOTAL_EFFICIENCY, StatField.SAMPLE_RATE}) {
      double v = s.get(f);
      String shown = f == StatField.SAMPLE_RATE ? PyFormat.fixed(v, 2) + " samples/s" : PyFormat.fixed(v * 100, 2) + "%";
      t.append("<tr><td>").append(f.key).append("</td><td>").append(Html.num(f.key, v, shown)).append("</td></tr>");
    }
    h.raw(t.append("</tbody></table>\n").toString());
  }

  /** Layer-table columns: stats key and how to show it. */
  private record Column(LayerField field, String unit) {}

  private static final List<Column> LAYER_COLUMNS = List.of(
      new Column(LayerField.FW_FLOPS, "flops"), new Column(LayerField.FW_MEM_ACCESSED, "bytes"),
      new Column(LayerField.FW_PROCESSING_TIME, "us"), new Column(LayerField.FW_ARITHMETIC_INTENSITY, "ai"),
      new Column(LayerField.AGRAD_FLOPS, "flops"), new Column(LayerField.AGRAD_PROCESSING_TIME, "us"),
      new Column(LayerField.WGRAD_FLOPS, "flops"), new Column(LayerField.WGRAD_PROCESSING_TIME, "us"),
      new Column(LayerField.OPTIM_PROCESSING_TIME, "us"),
      new Column(LayerField.WEIGHT, "bytes"), new Column(LayerField.ACTIVATION, "bytes"));

  private static void layers(Html h, Stats s) {
    h.h2("Layers of one block");
    if (s.layers() == null || s.layers().isEmpty()) {
      h.p("note", "No per-layer stats: run llm with -l (or pass a stats file written with -l).");
      return;
    }
    StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"sortable\" id=\"table-layers\"><thead><tr><th>#</th><th>layer</th>");
    for (Column c : LAYER_COLUMNS) {
      t.append("<th>").append(c.field().key).append(c.unit().equals("us") ? " (us)" : "").append("</th>");
    }
    t.append("</tr></thead><tbody>");
    int i = 0;
    for (Stats.LayerStats l : s.layers()) {
      t.append("<tr><td data-sort=\"").append(i).append("\">").append(i++).append("</td><td>")
          .append(Html.esc(l.name())).append("</td>");
      for (Column c : LAYER_COLUMNS) {
        double v = l.get(c.field());
        String shown;
        switch (c.unit()) {
          case "flops": shown = v == 0 ? "0" : PyFormat.humanFormat(v, "flops"); break;
          case "bytes": shown = Html.bytes(v); break;
          case "us": shown = PyFormat.fixed(v * MICROSECONDS, 2); break;
          default: shown = PyFormat.fixed(v, 2);
        }
        t.append(Html.numCell(c.field().key, v, shown));
      }
      t.append("</tr>");
    }
    t.append("</tbody></table></div>\n");
    h.raw(t.toString());
    h.p("note", "Arithmetic intensity: flops per byte accessed. Click a heading to sort.");
  }
}
