package calculon.cli;

import static calculon.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.model.ModelVersion;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --report} and {@code --model-version} on the search commands, with the real model on
 * small golden searches. The goldens are Calculon-MoE's numbers, so these runs name that version.
 */
class SearchReportCommandTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final Path GOLDENS = Path.of("src/test/resources/goldens/search");
  /** The top table's numbers, in column order (SearchReport's stats columns). */
  static final List<String> TOP_STATS = List.of("sample_rate", "total_time", "proc_mem_tier1_cap_req",
      "proc_mem_tier2_cap_req", "total_efficiency");

  @TempDir Path dir;

  /** The golden's search as command-line arguments, with its model and system written to files. */
  List<String> goldenArgs(String golden, String output) throws IOException {
    JsonNode g = MAPPER.readTree(GOLDENS.resolve(golden + ".json").toFile());
    Path model = dir.resolve("model.json");
    Path system = dir.resolve("system.json");
    MAPPER.writeValue(model.toFile(), g.get("model"));
    MAPPER.writeValue(system.toFile(), g.get("system"));
    List<String> a = new ArrayList<>();
    g.get("command").forEach(c -> a.add(switch (c.asText()) {
      case "<model.json>" -> model.toString();
      case "<system.json>" -> system.toString();
      case "<out.json>" -> dir.resolve(output).toString();
      default -> c.asText();
    }));
    return a.subList(1, a.size());
  }

  static double bestLogged(String golden) throws IOException {
    return MAPPER.readTree(GOLDENS.resolve(golden + ".json").toFile()).get("best_sample_rate_logged").asDouble();
  }

  /** The exact values of the report's top table, row by row (data-key, data-value spans). */
  static List<List<Double>> topTable(String html) {
    int start = html.indexOf("id=\"table-top\"");
    String body = html.substring(html.indexOf("<tbody>", start), html.indexOf("</tbody>", start));
    List<List<Double>> rows = new ArrayList<>();
    Matcher tr = Pattern.compile("<tr>(.*?)</tr>").matcher(body);
    while (tr.find()) {
      List<Double> row = new ArrayList<>();
      Matcher num = Pattern.compile("data-key=\"([^\"]+)\" data-value=\"([^\"]+)\"").matcher(tr.group(1));
      while (num.find()) {
        assertThat(num.group(1)).isEqualTo(TOP_STATS.get(row.size()));
        row.add(Double.parseDouble(num.group(2)));
      }
      rows.add(row);
    }
    return rows;
  }

  /** JFreeSVG numbers its clip paths with a counter that runs on across charts in one JVM. */
  static String chartIdsNormalized(String html) {
    return html.replaceAll("c\\d+_clip", "c_clip");
  }

  static int firstDifference(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      if (a.charAt(i) != b.charAt(i)) {
        return i;
      }
    }
    return n;
  }

  void assertReportMatchesResult(Path report, Path result) throws IOException {
    String html = Files.readString(report);
    JsonNode doc = MAPPER.readTree(result.toFile());
    List<List<Double>> table = topTable(html);
    assertThat(table).hasSize(doc.size());
    for (int i = 0; i < doc.size(); i++) {
      JsonNode stats = doc.get(Integer.toString(i)).get("stats");
      List<Double> expected = new ArrayList<>();
      for (String k : TOP_STATS) {
        expected.add(stats.get(k).asDouble());
      }
      assertThat(table.get(i)).as("rank " + i).isEqualTo(expected);
    }
  }

  @Test
  void denseSearchReportShowsTheResultFilesTopN() throws Exception {
    String golden = "loe-megatron-126M-4-b8-singletier";
    List<String> a = new ArrayList<>(goldenArgs(golden, "top.json"));
    a.addAll(List.of("--report", dir.resolve("top.html").toString(), "--model-version", "calculon-moe", "--quiet"));
    Run r = run(new OptimalExecutionCommand(), a.toArray(new String[0]));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("Report: " + dir.resolve("top.html"));
    assertReportMatchesResult(dir.resolve("top.html"), dir.resolve("top.json"));
    assertThat(MAPPER.readTree(dir.resolve("top.json").toFile()).get("0").get("stats").get("sample_rate").asDouble())
        .isEqualTo(bestLogged(golden));
    String html = Files.readString(dir.resolve("top.html"));
    assertThat(html).contains("llm-optimal-execution", "calculon-moe", "chart-heatmap-ep1", "chart-scatter");
  }

  @Test
  void moeSearchReportIsTheSameForAnyThreadCount() throws Exception {
    String golden = "loemoe-nemo-16-b32-E8-singletier";
    List<String> a = new ArrayList<>(goldenArgs(golden, "moe1.json"));
    a.addAll(List.of("--report", dir.resolve("moe1.html").toString(), "--model-version", "calculon-moe",
        "-c", "1", "--quiet"));
    Run r1 = run(new OptimalExecutionMoeCommand(), a.toArray(new String[0]));
    assertThat(r1.status()).as(r1.err()).isZero();
    assertReportMatchesResult(dir.resolve("moe1.html"), dir.resolve("moe1.json"));

    List<String> b = new ArrayList<>(goldenArgs(golden, "moe2.json"));
    b.addAll(List.of("--report", dir.resolve("moe2.html").toString(), "--model-version", "calculon-moe",
        "-c", "3", "--quiet"));
    Run r2 = run(new OptimalExecutionMoeCommand(), b.toArray(new String[0]));
    assertThat(r2.status()).as(r2.err()).isZero();
    String one = chartIdsNormalized(Files.readString(dir.resolve("moe1.html")));
    String three = chartIdsNormalized(Files.readString(dir.resolve("moe2.html")));
    assertThat(one.equals(three)).as("same report for 1 and 3 threads; first difference at %d",
        firstDifference(one, three)).isTrue();
    assertThat(Files.readString(dir.resolve("moe2.json"))).isEqualTo(Files.readString(dir.resolve("moe1.json")));
  }

  @Test
  void allExecutionsReportRanksTheBestRowsOfTheCsv() throws Exception {
    List<String> a = new ArrayList<>(goldenArgs("loe-megatron-126M-4-b8-singletier", "all.csv"));
    a = new ArrayList<>(a.subList(0, 6));
    a.addAll(List.of("--report", dir.resolve("all.html").toString(), "--model-version", "calculon-moe", "--quiet"));
    Run r = run(new AllExecutionsCommand(), a.toArray(new String[0]));
    assertThat(r.status()).as(r.err()).isZero();
    List<Double> rates = new ArrayList<>();
    List<String> lines = Files.readAllLines(dir.resolve("all.csv"));
    int col = List.of(lines.get(0).split(",")).indexOf("sample_rate");
    for (String line : lines.subList(1, lines.size())) {
      rates.add(Double.parseDouble(line.split(",")[col]));
    }
    rates.sort((x, y) -> Double.compare(y, x));
    List<List<Double>> table = topTable(Files.readString(dir.resolve("all.html")));
    assertThat(table).hasSize(Math.min(rates.size(), 50));
    for (int i = 0; i < table.size(); i++) {
      assertThat(table.get(i).get(0)).as("rank " + i).isEqualTo(rates.get(i));
    }
  }

  @Test
  void aReportNameThatIsNotHtmlIsRejectedBeforeTheSearch() throws Exception {
    List<String> a = new ArrayList<>(goldenArgs("loe-megatron-126M-4-b8-singletier", "x.json"));
    a.addAll(List.of("--report", dir.resolve("x.txt").toString()));
    Run r = run(new OptimalExecutionCommand(), a.toArray(new String[0]));
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("a report must be an .html file");
    assertThat(dir.resolve("x.json")).doesNotExist();
  }

  @Test
  void modelVersionIsPassedToTheModel() throws Exception {
    String golden = "loemoe-nemo-16-b32-E8-singletier";
    List<String> a = new ArrayList<>(goldenArgs(golden, "v.json"));
    a.addAll(List.of("--model-version", "calculon-moe", "--quiet"));
    Run moe = run(new OptimalExecutionMoeCommand(), a.toArray(new String[0]));
    assertThat(moe.status()).as(moe.err()).isZero();
    assertThat(moe.out()).contains("Best sample rate: " + PyFormat.repr(bestLogged(golden)));

    List<ModelVersion> seen = new ArrayList<>();
    SearchCommandBase.EvaluatorFactory saved = SearchCommandBase.evaluatorFactory;
    try {
      SearchCommandBase.evaluatorFactory = (app, sys, dt, version) -> {
        seen.add(version);
        return saved.create(app, sys, dt, version);
      };
      for (SearchCommandBase cmd : List.of(new OptimalExecutionCommand(), new OptimalExecutionMoeCommand(),
          new OptimalExecutionMoeFlexCommand(), new AllExecutionsCommand())) {
        boolean dense = cmd instanceof OptimalExecutionCommand;
        List<String> b = new ArrayList<>(goldenArgs(dense ? "loe-megatron-126M-4-b8-singletier"
            : "loemoeflex-nemo-8-b8-E8-singletier", "w.csv").subList(0, 6));
        b.addAll(List.of("--model-version", "corrected", "--quiet", "-n"));
        if (!dense) {
          b.addAll(List.of("-moe", "8"));
        }
        Run r = run(cmd, b.toArray(new String[0]));
        assertThat(r.status()).as(cmd.getClass() + r.err()).isZero();
      }
      assertThat(seen).containsExactly(ModelVersion.CORRECTED, ModelVersion.CORRECTED,
          ModelVersion.CORRECTED, ModelVersion.CORRECTED);
    } finally {
      SearchCommandBase.evaluatorFactory = saved;
    }
    List<String> c = new ArrayList<>(goldenArgs("loe-megatron-126M-4-b8-singletier", "z.json").subList(0, 6));
    c.addAll(List.of("--model-version", "newest"));
    assertThat(run(new OptimalExecutionCommand(), c.toArray(new String[0])).status()).isEqualTo(2);
  }
}
