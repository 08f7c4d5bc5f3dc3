package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.PaintScaleLegend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report defects issue 13 lists, each checked on the chart or page itself (the browser test
 * keeps screenshots of the same pages under target/report-artifacts).
 */
class ReportDefectsTest {

  // ---- colours: CIELAB distance under normal vision and simulated colour-vision deficiency

  /** sRGB to linear light (IEC 61966-2-1). */
  private static double linear(int c) {
    double v = c / 255.0;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  private static double srgb(double v) {
    v = Math.max(0, Math.min(1, v));
    return 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055);
  }

  /** Machado, Oliveira and Fernandes 2009 (IEEE TVCG 15(6)), severity 1.0, on linear RGB. */
  private static final double[][] PROTANOPIA = {
      {0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}};
  private static final double[][] DEUTERANOPIA = {
      {0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}};

  private static double[] simulate(Color c, double[][] m) {
    double[] l = {linear(c.getRed()), linear(c.getGreen()), linear(c.getBlue())};
    double[] o = new double[3];
    for (int i = 0; i < 3; i++) {
      o[i] = srgb(m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]);
    }
    return o;
  }

  /** CIELAB (D65) of an sRGB colour given as 0-255 components. */
  private static double[] lab(double[] rgb) {
    double r = linear((int) Math.round(rgb[0])), g = linear((int) Math.round(rgb[1])), b = linear((int) Math.round(rgb[2]));
    double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    double fx = f(x), fy = f(y), fz = f(z);
    return new double[] {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
  }

  private static double f(double t) {
    return t > 216.0 / 24389 ? Math.cbrt(t) : (24389.0 / 27 * t + 16) / 116;
  }

  private static double distance(double[] a, double[] b) {
    double[] p = lab(a), q = lab(b);
    return Math.sqrt(Math.pow(p[0] - q[0], 2) + Math.pow(p[1] - q[1], 2) + Math.pow(p[2] - q[2], 2));
  }

  private static double minDistance(double[][] matrix) {
    double min = Double.POSITIVE_INFINITY;
    Color[] p = Charts.PALETTE;
    for (int i = 0; i < p.length; i++) {
      for (int j = i + 1; j < p.length; j++) {
        double[] a = matrix == null ? new double[] {p[i].getRed(), p[i].getGreen(), p[i].getBlue()} : simulate(p[i], matrix);
        double[] b = matrix == null ? new double[] {p[j].getRed(), p[j].getGreen(), p[j].getBlue()} : simulate(p[j], matrix);
        min = Math.min(min, distance(a, b));
      }
    }
    return min;
  }

  @Test
  void everyPartHasItsOwnColourForEveryone() throws Exception {
    // 10 CIELAB units: clearly different side by side (the old optimizer and recompute were 2.6 apart)
    assertThat(minDistance(null)).as("normal vision").isGreaterThan(20);
    assertThat(minDistance(PROTANOPIA)).as("protanopia").isGreaterThan(10);
    assertThat(minDistance(DEUTERANOPIA)).as("deuteranopia").isGreaterThan(10);
    Stats s = Reports.evaluate(Reports.README_RUNS[1]);
    Set<Color> colours = new HashSet<>();
    List<StepBreakdown.Part> parts = StepBreakdown.of(s);
    parts.forEach(p -> colours.add(StepBreakdown.color(p)));
    assertThat(colours).hasSize(parts.size());
    assertThat(StepBreakdown.color(parts.get(2))).as("optimizer").isNotEqualTo(StepBreakdown.color(parts.get(3)));
  }

  // ---- numbers

  @Test
  void bytesAreWholeAndZeroIsZeroBytes() throws Exception {
    assertThat(Html.bytes(0)).isEqualTo("0 B");
    assertThat(Html.bytes(512)).isEqualTo("512 B");
    assertThat(Html.bytes(20702869504.000004)).isEqualTo("19.281 GiB");
    assertThat(Html.byteCount(20702869504.000004)).isEqualTo("20702869504");
    assertThat(Html.byteCount(31678478112.0)).isEqualTo("31678478112");
    assertThat(Html.byteCount(1.5)).isEqualTo("1.5");  // float4: half a byte per element is real
    Stats s = Reports.evaluate(Reports.README_RUNS[0]);  // megatron-1T: no activation checkpoints
    String page = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    assertThat(page).doesNotContain("0.000 iB").doesNotContainPattern("[0-9] iB").contains(">0 B<")
        .doesNotContainPattern("data-key=\"[a-z_0-9]*(space|size|cap_req)[a-z_0-9]*\" data-value=\"[0-9]+\\.[0-9]");
  }

  // ---- charts

  @Test
  void aHeatmapOfOneValueHasThatValueOnItsColourBar() {
    double v = 59.98;
    JFreeChart c = Charts.heatmap("best", "TP", new String[] {"8"}, "PP", new String[] {"1"},
        new double[][] {{v}}, v, v, "samples/s");
    PaintScaleLegend legend = (PaintScaleLegend) c.getSubtitles().stream()
        .filter(t -> t instanceof PaintScaleLegend).findFirst().orElseThrow();
    assertThat(legend.getAxis().getRange().contains(v)).isTrue();
    assertThat(legend.getAxis().getLowerBound()).isLessThan(v);
    assertThat(legend.getAxis().getUpperBound()).isGreaterThan(v);
    // and the cell's colour is the one at its place on the bar (the middle)
    Charts.Viridis scale = (Charts.Viridis) legend.getScale();
    assertThat(scale.fraction(v)).isCloseTo(0.5, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void noLabelInsideTheScatterCanCoverTheBestPoint() {
    double[][] all = {{10, 20, 70}, {1, 2, 3}};
    double[][] top = {{70}, {3}};
    JFreeChart c = Charts.scatter("t", "GiB", "samples/s", List.of("all", "top 1", "best"),
        List.of(all, top, top), 80, "capacity 80.000 GiB");
    XYPlot plot = c.getXYPlot();
    for (Object m : plot.getDomainMarkers(org.jfree.chart.ui.Layer.FOREGROUND)) {
      assertThat(((ValueMarker) m).getLabel()).isNull();
    }
    assertThat(plot.getAnnotations()).isEmpty();
    boolean inLegend = false;
    for (int i = 0; i < plot.getLegendItems().getItemCount(); i++) {
      LegendItem item = plot.getLegendItems().get(i);
      inLegend |= item.getLabel().equals("capacity 80.000 GiB");
    }
    assertThat(inLegend).as("the capacity is named in the legend below the plot").isTrue();
    assertThat(plot.getRangeAxis().getUpperBound()).as("room above the best point").isGreaterThan(3.2);
  }

  // ---- a report from a stats file knows its model version

  @Test
  void aReportFromAStatsFileShowsTheModelVersionTheFileRecords(@TempDir Path dir) throws Exception {
    Stats s = Reports.evaluate(Reports.README_RUNS[1]);
    Path stats = dir.resolve("out.json");
    StatsJson.write(s, false, new StatsJson.Provenance(calculon.cli.VersionCommand.VERSION, ModelVersion.CORRECTED), stats);
    ReportFiles.StatsContent content = (ReportFiles.StatsContent) ReportFiles.read(stats);
    assertThat(ReportFiles.modelVersion(content)).isEqualTo(ModelVersion.CORRECTED);
    String page = RunReport.html(ReportFiles.toStats(content, stats.toString()),
        new RunReport.Inputs(null, null, null, ReportFiles.modelVersion(content)));
    assertThat(page).contains("<td>version</td><td>corrected</td>").doesNotContain("<td>version</td><td>(unknown)</td>");
    // and a stats CSV keeps it
    Path csv = dir.resolve("out.csv");
    ReportFiles.write(content, csv);
    assertThat(ReportFiles.modelVersion((ReportFiles.StatsContent) ReportFiles.read(csv))).isEqualTo(ModelVersion.CORRECTED);
    assertThat(Files.readString(csv)).contains("model_version");
  }
}
