package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import calculon.stats.Stats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Opens each kind of report in a real headless browser (Debian's chromium): the charts must be
 * rendered and no script may fail. Two independent checks: the page's own script writes
 * {@code data-charts}/{@code data-charts-rendered} on the body and {@code data-js-errors} on the
 * root for any uncaught error or console.error (read back with --dump-dom), and chromium's own
 * console log on stderr must hold no "Uncaught" line. A screenshot of each report is kept under
 * {@code <build dir>/report-artifacts/}.
 *
 * <p>Skipped (JUnit assumption) only when chromium is missing and the CI variable is unset; in CI
 * a missing browser fails the test (.ci/run installs it).
 */
class BrowserReportTest {
  private static final long TIMEOUT_SECONDS = 120;
  private static final int WIDTH = 1280;
  private static Path chromium;
  private static Path artifacts;

  @BeforeAll
  static void findChromium() throws IOException {
    for (String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
      if (Files.isExecutable(Path.of(candidate))) {
        chromium = Path.of(candidate);
      }
    }
    if (chromium == null) {
      if (System.getenv("CI") != null) {
        throw new IllegalStateException("chromium is missing in CI: .ci/run must install it");
      }
      Assumptions.abort("chromium is not installed (apt-get install chromium); CI runs this test");
    }
    artifacts = Path.of(System.getProperty("calculon.artifacts", "target/report-artifacts")).toAbsolutePath();
    Files.createDirectories(artifacts);
  }

  /** What the browser made of a page. */
  record Rendered(String bodyTag, String htmlTag, String stderr) {
    int attr(String tag, String name) {
      Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(tag);
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    List<String> consoleErrors() {
      List<String> errors = new ArrayList<>();
      for (String line : stderr.lines().toList()) {
        if (line.contains("Uncaught") || (line.contains("CONSOLE") && line.contains("rror"))) {
          errors.add(line);
        }
      }
      return errors;
    }
  }

  private static List<String> baseArgs(Path profile) {
    return new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"));
  }

  private static String run(List<String> args, Path stdout, Path stderr) throws Exception {
    Process p = new ProcessBuilder(args).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in " + TIMEOUT_SECONDS + " s: " + args);
    }
    assertThat(p.exitValue()).as("chromium exit status; stderr:\n" + Files.readString(stderr)).isZero();
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  /** Loads the page, dumps its DOM after the scripts ran, and screenshots it. */
  private static Rendered open(Path page, int height) throws Exception {
    String name = page.getFileName().toString().replace(".html", "");
    Path profile = Files.createTempDirectory("calculon-chromium-");
    List<String> dump = baseArgs(profile);
    dump.addAll(List.of("--virtual-time-budget=5000", "--dump-dom", page.toUri().toString()));
    Path err = artifacts.resolve(name + ".chromium.log");
    String dom = run(dump, artifacts.resolve(name + ".dom.html"), err);
    String stderr = Files.readString(err);
    List<String> shot = baseArgs(Files.createTempDirectory("calculon-chromium-"));
    Path png = artifacts.resolve(name + ".png");
    shot.addAll(List.of("--screenshot=" + png, "--window-size=" + WIDTH + "," + height, page.toUri().toString()));
    run(shot, artifacts.resolve(name + ".shot.out"), artifacts.resolve(name + ".shot.log"));
    byte[] bytes = Files.readAllBytes(png);
    assertThat(bytes.length).as("screenshot size").isGreaterThan(20_000);
    assertThat(new String(bytes, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    Matcher body = Pattern.compile("<body[^>]*>").matcher(dom);
    Matcher html = Pattern.compile("<html[^>]*>").matcher(dom);
    return new Rendered(body.find() ? body.group() : "", html.find() ? html.group() : "", stderr);
  }

  private static void assertRenderedCleanly(Rendered r, int charts) {
    assertThat(r.attr(r.bodyTag(), "data-charts")).as(r.bodyTag()).isEqualTo(charts);
    assertThat(r.attr(r.bodyTag(), "data-charts-rendered")).as(r.bodyTag()).isEqualTo(charts);
    assertThat(r.htmlTag()).doesNotContain("data-js-errors");
    assertThat(r.consoleErrors()).isEmpty();
  }

  @Test
  void runReportsRenderTheirChartsWithoutErrors() throws Exception {
    String[] names = {"run-megatron-1T", "run-gpt-1.8T"};
    for (int i = 0; i < names.length; i++) {
      Stats s = Reports.evaluate(Reports.README_RUNS[i]);
      Path page = artifacts.resolve(names[i] + ".html");
      RunReport.write(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE), page);
      int charts = Reports.charts(Files.readString(page)).size();
      assertThat(charts).isGreaterThanOrEqualTo(3);
      assertRenderedCleanly(open(page, 2600), charts);
    }
  }

  @Test
  void searchReportRendersItsChartsWithoutErrors() throws Exception {
    for (String golden : new String[] {"loemoeflex-megatron-126M-4-b4-E4-singletier", "loe-gpt3-13B-16-b16-singletier"}) {
      List<SearchRow> rows = ((ReportFiles.SearchContent) ReportFiles.read(Reports.golden(golden))).rows();
      Path page = artifacts.resolve("search-" + golden + ".html");
      SearchReport.write(rows, SearchReport.Options.of(golden), page);
      int charts = Reports.charts(Files.readString(page)).size();
      assertThat(charts).isGreaterThanOrEqualTo(2);
      assertRenderedCleanly(open(page, 1600), charts);
    }
  }

  /**
   * The pages of issue 13's report defects, kept as screenshots under report-artifacts: a search
   * whose heatmap has one cell (its colour bar must hold that value) and whose scatter has a
   * tier-1 capacity (no label over the best point), and a run report made from a corrected stats
   * file alone (its model version shown, zero bytes as "0 B", whole byte counts, one colour per part).
   */
  @Test
  void issue13DefectPagesRenderWithoutErrors() throws Exception {
    List<SearchRow> rows = ((ReportFiles.SearchContent) ReportFiles.read(
        Reports.golden("loe-gpt3-13B-16-b16-singletier"))).rows();
    SearchRow best = rows.get(0);
    List<SearchRow> oneCell = rows.stream().filter(r -> r.tensorPar() == best.tensorPar()
        && r.pipelinePar() == best.pipelinePar()).toList();
    Path search = artifacts.resolve("search-one-cell-with-capacity.html");
    SearchReport.write(oneCell, new SearchReport.Options("one TP x PP cell", SearchReport.DEFAULT_TOP_SHOWN,
        80.0 * (1L << 30)), search);
    assertRenderedCleanly(open(search, 1600), Reports.charts(Files.readString(search)).size());

    Stats s = Reports.evaluate(Reports.README_RUNS[0], ModelVersion.CORRECTED);
    Path stats = artifacts.resolve("run-megatron-1T-corrected.json");
    calculon.stats.StatsJson.write(s, true, new calculon.stats.StatsJson.Provenance("test", ModelVersion.CORRECTED), stats);
    ReportFiles.StatsContent content = (ReportFiles.StatsContent) ReportFiles.read(stats);
    Path page = artifacts.resolve("run-from-stats-file.html");
    RunReport.write(ReportFiles.toStats(content, stats.toString()),
        new RunReport.Inputs(null, null, null, ReportFiles.modelVersion(content)), page);
    String html = Files.readString(page);
    assertThat(html).contains("<td>version</td><td>corrected</td>").contains(">0 B<").doesNotContain("0.000 iB");
    assertRenderedCleanly(open(page, 2600), Reports.charts(html).size());
  }

  @Test
  void sweepReportRendersItsChartsWithoutErrors() throws Exception {
    Path page = artifacts.resolve("sweep.html");
    SweepReport.write(SweepReportTest.pricedSweep(artifacts.resolve("sweep-work")), page);
    java.util.Map<String, Integer> charts = Reports.charts(Files.readString(page));
    // lines of sample rate and MFU against both fields, a heatmap per model, the Pareto front
    assertThat(charts).hasSize(2 * 2 + 2 + 1);
    assertRenderedCleanly(open(page, 3000), charts.size());
  }

  @Test
  void aFailingScriptIsCaught() throws Exception {
    // the control: the checks above would see a broken page
    Path page = artifacts.resolve("control-broken.html");
    String html = RunReport.html(Reports.evaluate(Reports.README_RUNS[0]), RunReport.Inputs.unknown())
        .replace("</body>", "<script>noSuchFunction();</script></body>");
    Files.writeString(page, html);
    Rendered r = open(page, 800);
    assertThat(r.htmlTag()).contains("data-js-errors=\"1\"");
    assertThat(r.consoleErrors()).isNotEmpty();
  }
}
