package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import calculon.config.JsonFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep report: its charts and table from a sweep's output, and the Pareto front. */
class SweepReportTest {
  @TempDir
  Path dir;

  /**
   * Runs a small priced sweep in {@code work} (megatron-1T's README execution on two priced A100
   * systems, over mem2.GBps x networks[1].bandwidth) and returns its CSV output.
   */
  static Path pricedSweep(Path work) throws Exception {
    Files.createDirectories(work);
    ObjectMapper m = new ObjectMapper();
    for (String[] sys : new String[][] {{"a100_cheap", "15000"}, {"a100_dear", "30000"}}) {
      ObjectNode s = (ObjectNode) JsonFiles.read(Path.of("systems/a100_80g.json"));
      s.set("price", m.readTree("{\"gpu_usd\": " + sys[1] + ", \"mem1_usd_per_GiB\": 20, \"mem2_usd_per_GiB\": 4}"));
      s.set("power", m.readTree("{\"gpu_load_watts\": 400, \"gpu_idle_watts\": 90}"));
      Files.writeString(work.resolve(sys[0] + ".json"), s.toPrettyString());
    }
    String spec = "{\"models\": [\"" + Path.of("models/megatron-1T.json").toAbsolutePath() + "\"],"
        + " \"systems\": [\"a100_cheap.json\", \"a100_dear.json\"],"
        + " \"execution\": \"" + Path.of("examples/megatron_1T_training_4096_original.json").toAbsolutePath() + "\","
        + " \"grid\": {\"mem2.GBps\": [16, 32, 64], \"networks[1].bandwidth\": [12.5, 25, 50]},"
        + " \"electricity_usd_per_kWh\": 0.1, \"model_version\": \"calculon-moe\"}";
    Path specFile = work.resolve("spec.json");
    Files.writeString(specFile, spec);
    Path out = work.resolve("sweep.csv");
    Files.deleteIfExists(out);
    Files.deleteIfExists(work.resolve("sweep.csv.spec.json"));
    CliRun.Run r = CliRun.run("sweep", specFile.toString(), out.toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    return out;
  }

  @Test
  void theReportHasLinesHeatmapsParetoAndTheTable() throws Exception {
    Path out = pricedSweep(dir);
    Path page = dir.resolve("sweep.html");
    CliRun.Run r = CliRun.run("report", out.toString(), page.toString());
    assertThat(r.status()).as(r.err()).isZero();
    String html = Files.readString(page);
    assertThat(Reports.charts(html).keySet()).containsExactly(
        "chart-sample_rate-mem2_GBps", "chart-mfu-mem2_GBps",
        "chart-sample_rate-networks_1__bandwidth", "chart-mfu-networks_1__bandwidth",
        "chart-heat-1", "chart-heat-2", "chart-pareto");
    // the table: one row per point (2 systems x 9), each with its exact sample rate
    assertThat(html.split("<tr>", -1).length - 1).isEqualTo(1 + 18);
    String firstRecord = Files.readAllLines(out).get(1);
    String rate = firstRecord.split(",")[firstRecordColumn(out, "sample_rate")];
    assertThat(html).contains("data-key=\"sample_rate\" data-value=\"" + rate + "\"");
    // the same page from the sweep command's --report
    Path again = dir.resolve("again.html");
    Files.delete(out);
    Files.delete(dir.resolve("sweep.csv.spec.json"));
    CliRun.Run s = CliRun.run("sweep", dir.resolve("spec.json").toString(), out.toString(), "--quiet", "--report", again.toString());
    assertThat(s.status()).as(s.err()).isZero();
    assertThat(Reports.charts(Files.readString(again)).keySet()).isEqualTo(Reports.charts(html).keySet());
  }

  private static int firstRecordColumn(Path csv, String column) throws Exception {
    return List.of(Files.readAllLines(csv).get(0).split(",")).indexOf(column);
  }

  @Test
  void theParetoFrontKeepsWhatNoCheaperPointBeats() {
    // (cost, rate): (1, 5) (2, 4) dominated by (1, 5); (2, 7) on; (3, 7) not (as fast, dearer); (4, 9) on
    List<double[]> pts = new ArrayList<>(List.of(new double[] {2, 4}, new double[] {4, 9}, new double[] {1, 5},
        new double[] {3, 7}, new double[] {2, 7}));
    assertThat(SweepReport.paretoFront(pts)).extracting(p -> p[0] + "," + p[1])
        .containsExactly("1.0,5.0", "2.0,7.0", "4.0,9.0");
  }
}
