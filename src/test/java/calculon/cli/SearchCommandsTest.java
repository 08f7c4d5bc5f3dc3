package calculon.cli;

import static calculon.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.model.Infeasible;
import calculon.search.FakeModel;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The search commands end to end, with a fake model. */
class SearchCommandsTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  @TempDir Path dir;
  Path model;
  Path system;
  SearchCommandBase.EvaluatorFactory saved;

  @BeforeEach
  void setUp() throws IOException {
    saved = SearchCommandBase.evaluatorFactory;
    SearchCommandBase.evaluatorFactory = (app, sys, dt, version) -> new FakeModel(sys);
    JsonNode g = MAPPER.readTree(Path.of("src/test/resources/goldens/search/loemoe-nemo-8-b16-E8.json").toFile());
    model = dir.resolve("model.json");
    system = dir.resolve("system.json");
    MAPPER.writeValue(model.toFile(), g.get("model"));
    MAPPER.writeValue(system.toFile(), g.get("system"));
  }

  @AfterEach
  void tearDown() {
    SearchCommandBase.evaluatorFactory = saved;
  }

  String[] args(String out, String... extra) {
    return argsNb("8", "16", out, extra);
  }

  String[] argsNb(String n, String b, String out, String... extra) {
    List<String> a = new ArrayList<>(List.of(model.toString(), n, b, "float16",
        system.toString(), dir.resolve(out).toString()));
    a.addAll(List.of(extra));
    return a.toArray(new String[0]);
  }

  static String read(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p);
         InputStream x = p.toString().endsWith(".gz") ? new GZIPInputStream(in) : in) {
      return new String(x.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A small RFC 4180 reader: proves the CSV reads back. */
  static List<List<String>> parseCsv(String s) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean q = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (q) {
        if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
          f.append('"');
          i++;
        } else if (c == '"') {
          q = false;
        } else {
          f.append(c);
        }
      } else if (c == '"') {
        q = true;
      } else if (c == ',') {
        row.add(f.toString());
        f.setLength(0);
      } else if (c == '\n') {
        row.add(f.toString());
        f.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
      } else {
        f.append(c);
      }
    }
    assertThat(f.length()).isZero();
    return rows;
  }

  @Test
  void moeSearchWritesEveryFormatTheSameForAnyThreadCount() throws Exception {
    Run r1 = run(new OptimalExecutionMoeCommand(), args("a.json", "-moe", "8", "-t", "4", "-c", "1", "--quiet"));
    assertThat(r1.status()).as(r1.err()).isZero();
    assertThat(r1.out()).contains("number of param combinations: 18", "Total executions: ",
        "Reference-equivalent executions: 432", "Best sample rate: ", "Output: ");
    Run r3 = run(new OptimalExecutionMoeCommand(), args("b.json", "-moe", "8", "-t", "4", "-c", "3", "--quiet"));
    assertThat(r3.status()).isZero();
    assertThat(Files.readString(dir.resolve("b.json"))).isEqualTo(Files.readString(dir.resolve("a.json")));

    JsonNode doc = MAPPER.readTree(dir.resolve("a.json").toFile());
    assertThat(doc.size()).isEqualTo(4);
    List<String> keys = new ArrayList<>();
    doc.get("0").get("execution").fieldNames().forEachRemaining(keys::add);
    // the corrected model's search names what it ran beyond Calculon's keys, as the CSV does
    assertThat(keys).isEqualTo(ResultFormat.executionColumns(true));
    assertThat(doc.get("0").get("stats").size()).isEqualTo(122);
    assertThat(doc.get("0").get("stats").get("sample_rate").asDouble())
        .isGreaterThanOrEqualTo(doc.get("1").get("stats").get("sample_rate").asDouble());

    assertThat(run(new OptimalExecutionMoeCommand(), args("a.json.gz", "-moe", "8", "-t", "4", "--quiet")).status()).isZero();
    assertThat(MAPPER.readTree(read(dir.resolve("a.json.gz")))).isEqualTo(doc);

    for (String csv : List.of("a.csv", "a.csv.gz")) {
      assertThat(run(new OptimalExecutionMoeCommand(), args(csv, "-moe", "8", "-t", "4", "--quiet")).status()).isZero();
      List<List<String>> rows = parseCsv(read(dir.resolve(csv)));
      assertThat(rows).hasSize(5);
      assertThat(rows.get(0).get(0)).isEmpty();
      // the corrected model's search adds the axes it enumerates beyond Calculon's (ZeRO stage, CP, schedule)
      assertThat(rows.get(0)).hasSize(1 + 32 + ResultFormat.EXTRA_EXECUTION_KEYS.size() + 122);
      assertThat(rows.get(0).subList(1, 1 + 32 + ResultFormat.EXTRA_EXECUTION_KEYS.size()))
          .isEqualTo(ResultFormat.executionColumns(true));
      for (int i = 1; i < rows.size(); i++) {
        assertThat(rows.get(i)).hasSize(rows.get(0).size());
        assertThat(rows.get(i).get(0)).isEqualTo(Integer.toString(i - 1));
      }
      assertThat(rows.get(1).get(1 + ResultFormat.EXECUTION_KEYS.indexOf("model_MoE"))).isEqualTo("True");
      assertThat(Double.parseDouble(rows.get(1).get(rows.get(0).indexOf("sample_rate"))))
          .isEqualTo(doc.get("0").get("stats").get("sample_rate").asDouble());
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp"))).isEmpty();
    }
  }

  @Test
  void layersGoBesideTheCsv() throws Exception {
    Run r = run(new OptimalExecutionCommand(), argsNb("4", "4", "d.csv", "-t", "2", "-l", "--quiet"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("Output: " + dir.resolve("d.layers.json"));
    JsonNode layers = MAPPER.readTree(dir.resolve("d.layers.json").toFile());
    assertThat(layers.has("0")).isTrue();
    assertThat(parseCsv(read(dir.resolve("d.csv")))).hasSize(3);
  }

  @Test
  void failedSearchKeepsThePreviousResult() throws Exception {
    Path out = dir.resolve("keep.json");
    Files.writeString(out, "previous");
    SearchCommandBase.evaluatorFactory = (app, sys, dt, version) -> (exe, l) -> {
      throw new Infeasible("Mem tier1 needs everything");
    };
    Run r = run(new OptimalExecutionCommand(), args("keep.json", "--quiet"));
    assertThat(r.status()).isEqualTo(-1);
    assertThat(r.out()).contains("No acceptable configurations found :(");
    assertThat(Files.readString(out)).isEqualTo("previous");

    Run n = run(new OptimalExecutionCommand(), args("keep.json", "-n", "--quiet"));
    assertThat(n.status()).isZero();
    assertThat(Files.readString(out)).isEqualTo("{}");
    assertThat(run(new OptimalExecutionCommand(), args("none.csv", "-n", "--quiet")).status()).isZero();
    assertThat(parseCsv(read(dir.resolve("none.csv")))).hasSize(1);
  }

  /** -d's counts come from the enumeration, whatever the model says (its time estimate runs a sample). */
  @Test
  void debugCountsWithoutEvaluating() {
    java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
    SearchCommandBase.evaluatorFactory = (app, sys, dt, version) -> (exe, l) -> {
      calls.incrementAndGet();
      throw new Infeasible("Mem tier1 needs everything");
    };
    Run r = run(new OptimalExecutionMoeCommand(), args("x.json", "-moe", "8", "-d"));
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("Reference-equivalent executions: 432\n");
    assertThat(dir.resolve("x.json")).doesNotExist();
    assertThat(calls.get()).as("the estimate's sample").isPositive();
    Run m = run(new OptimalExecutionCommand(), args("x.json", "-m", "-d", "-f", "both"));
    assertThat(m.status()).isZero();
    assertThat(dir.resolve("x.json")).doesNotExist();
  }

  @Test
  void allExecutionsStreamsEveryGoodRowDenseAndMoe() throws Exception {
    Run d = run(new AllExecutionsCommand(), argsNb("2", "4", "all.csv", "-c", "2", "--quiet"));
    assertThat(d.status()).as(d.err()).isZero();
    long good = Long.parseLong(d.out().replaceAll("(?s).*Good executions: (\\d+).*", "$1"));
    List<List<String>> rows = parseCsv(read(dir.resolve("all.csv")));
    assertThat(rows).hasSize((int) good + 1);
    assertThat(rows.get(0)).hasSize(32 + ResultFormat.EXTRA_EXECUTION_KEYS.size() + 122);
    assertThat(rows.get(0).subList(32, 32 + ResultFormat.EXTRA_EXECUTION_KEYS.size()))
        .isEqualTo(ResultFormat.EXTRA_EXECUTION_KEYS);

    Run m = run(new AllExecutionsCommand(), argsNb("8", "8", "allmoe.csv.gz", "-moe", "8", "-c", "3", "--quiet"));
    assertThat(m.status()).as(m.err()).isZero();
    long goodMoe = Long.parseLong(m.out().replaceAll("(?s).*Good executions: (\\d+).*", "$1"));
    String one = read(dir.resolve("allmoe.csv.gz"));
    assertThat(parseCsv(one)).hasSize((int) goodMoe + 1);
    Run m1 = run(new AllExecutionsCommand(), argsNb("8", "8", "allmoe1.csv.gz", "-moe", "8", "-c", "1", "--quiet"));
    assertThat(m1.status()).isZero();
    assertThat(read(dir.resolve("allmoe1.csv.gz"))).isEqualTo(one);
    Run flex = run(new AllExecutionsCommand(), argsNb("4", "4", "flex.csv", "-moe", "4", "--flexible", "--quiet"));
    assertThat(flex.status()).as(flex.err()).isZero();
    assertThat(run(new AllExecutionsCommand(), args("x.json", "--quiet")).status()).isEqualTo(2);
  }

  @Test
  void inputErrors() {
    assertThat(run(new OptimalExecutionCommand(), args("x.txt")).status()).isEqualTo(2);
    assertThat(run(new OptimalExecutionCommand(), args("x.json", "-t", "0")).status()).isEqualTo(2);
    // the reference stops here with an assertion (exit 1); for us it is bad input, one line
    Run crash = run(new OptimalExecutionMoeCommand(), args("x.json", "-moe", "3"));
    assertThat(crash.status()).isEqualTo(2);
    assertThat(crash.err()).startsWith("calculon llm-optimal-execution-moe: num_procs: ").contains("must be divisible by num_experts=3")
        .doesNotContain("ERROR").hasLineCount(1);
    assertThat(run(new OptimalExecutionCommand(), args("x.json", "-f", "maybe")).status()).isEqualTo(2);
  }

  @Test
  void aliases() {
    CommandLine cl = Main.commandLine(new Main());
    assertThat(cl.getSubcommands()).containsKeys("loe", "loe-moe", "loe-moe-flex", "lae",
        "llm-optimal-execution", "llm-optimal-execution-moe", "llm-optimal-execution-moe-flexible",
        "llm-all-executions");
  }
}
