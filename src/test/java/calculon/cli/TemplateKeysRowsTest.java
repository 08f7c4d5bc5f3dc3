package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every row a search or a sweep writes carries the keys of its {@code --execution-template} that
 * shaped its evaluation (the search does not enumerate them): the best executions' CSV, the rows
 * of {@code llm-all-executions} and a sweep's records, as the JSON entries already did. Each check
 * takes a row (the best one, and the best with full recompute, where the template's
 * {@code recompute_method} applies), makes it an execution file as a user would (through
 * {@code convert}, or cell by cell), runs it with {@code llm}, and gets the row's total time: with
 * the template's {@code elementwise_kernels eager} and {@code weight_datatype float32} lost, the
 * run would be another (eager element-wise kernels are slower; float32 weights take more memory and
 * offload time). A search without a template writes the columns it always wrote.
 */
class TemplateKeysRowsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";
  /**
   * The template's keys beyond the columns every corrected-model search writes, in output order
   * (optimizer_kernel fused and gradient_datatype float32 are the Llama 3 8B example's own, as
   * Megatron-Core's bf16 runs step with FusedAdam and reduce in fp32).
   */
  private static final List<String> TEMPLATE_COLUMNS = List.of("recompute_method", "recompute_num_layers",
      "elementwise_kernels", "optimizer_kernel", "weight_datatype", "gradient_datatype");

  @TempDir
  static Path dir;
  private static Path template;

  @BeforeAll
  static void template() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("activation_recompute", "full").put("recompute_method", "block").put("recompute_num_layers", 2)
        .put("elementwise_kernels", "eager").put("weight_datatype", "float32");
    template = dir.resolve("template.json");
    MAPPER.writeValue(template.toFile(), t);
  }

  private static Run search(String command, String out, String... extra) {
    List<String> args = new ArrayList<>(List.of(command, MODEL, "8", "16", "float16", SYSTEM,
        dir.resolve(out).toString(), "--no-dp-overlap", "--no-tp-overlap", "--quiet"));
    args.addAll(List.of(extra));
    Run r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return r;
  }

  /** Runs {@code execution} with llm; its total time in seconds. */
  private static double llmTotalTime(JsonNode execution, String name, String... extra) throws Exception {
    Path exe = dir.resolve(name + ".exe.json");
    MAPPER.writeValue(exe.toFile(), execution);
    Path stats = dir.resolve(name + ".stats.json");
    List<String> args = new ArrayList<>(List.of("llm", MODEL, exe.toString(), SYSTEM, stats.toString()));
    args.addAll(List.of(extra));
    Run r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return MAPPER.readTree(stats.toFile()).get("total_time").asDouble();
  }

  private static List<String> header(Path csv) throws Exception {
    try (BufferedReader r = Files.newBufferedReader(csv)) {
      return List.of(r.readLine().split(",", -1));
    }
  }

  /** The rank of the first entry with full recompute. */
  private static String firstFull(JsonNode doc) {
    for (int i = 0; i < doc.size(); i++) {
      if (doc.get(Integer.toString(i)).get("execution").get("activation_recompute").asText().equals("full")) {
        return Integer.toString(i);
      }
    }
    throw new AssertionError("no full recompute entry");
  }

  @Test
  void bestCsvRowsConvertBackToTheExecutionsTheSearchEvaluated() throws Exception {
    search("llm-optimal-execution", "best.csv", "-t", "60", "--execution-template", template.toString());
    search("llm-optimal-execution", "best.json", "-t", "60", "--execution-template", template.toString());
    List<String> h = header(dir.resolve("best.csv"));
    int first = h.indexOf("recompute_method");
    assertThat(h.subList(1, first)).isEqualTo(ResultFormat.executionColumns(true));
    assertThat(h.subList(first, first + TEMPLATE_COLUMNS.size())).isEqualTo(TEMPLATE_COLUMNS);
    assertThat(h.get(first + TEMPLATE_COLUMNS.size())).isEqualTo(ResultFormat.STATS_KEYS.get(0));

    Path converted = dir.resolve("converted.json");
    Run c = CliRun.run("convert", dir.resolve("best.csv").toString(), converted.toString());
    assertThat(c.status()).as(c.err()).isZero();
    JsonNode fromCsv = MAPPER.readTree(converted.toFile());
    JsonNode json = MAPPER.readTree(dir.resolve("best.json").toFile());
    String full = firstFull(json);
    for (String rank : List.of("0", full)) {
      JsonNode row = fromCsv.get(rank);
      // the CSV row says what the JSON entry says, key for key
      assertThat(row.get("execution")).as("rank " + rank).isEqualTo(json.get(rank).get("execution"));
      assertThat(row.get("execution").get("elementwise_kernels").asText()).isEqualTo("eager");
      assertThat(row.get("execution").get("weight_datatype").asText()).isEqualTo("float32");
      assertThat(llmTotalTime(row.get("execution"), "best" + rank)).as("rank " + rank)
          .isEqualTo(row.get("stats").get("total_time").asDouble());
    }
    JsonNode fullExe = fromCsv.get(full).get("execution");
    assertThat(fullExe.get("recompute_method").asText()).isEqualTo("block");
    assertThat(fullExe.get("recompute_num_layers").asInt()).isEqualTo(2);
    // the template's recompute_method applies to full recompute only: the others' cells are empty
    assertThat(fromCsv.get("0").get("execution").get("activation_recompute").asText()).isNotEqualTo("full");
    assertThat(fromCsv.get("0").get("execution").has("recompute_method")).isFalse();
  }

  @Test
  void allExecutionsRowsCopiedIntoAnExecutionFileRunAsTheyRan() throws Exception {
    search("llm-all-executions", "all.csv", "--execution-template", template.toString());
    List<String> h = header(dir.resolve("all.csv"));
    int firstStat = h.indexOf(ResultFormat.STATS_KEYS.get(0));
    assertThat(h.subList(0, firstStat)).containsSequence(TEMPLATE_COLUMNS);
    // the best row, and the best with full recompute
    Map<String, String> best = null;
    Map<String, String> bestFull = null;
    try (BufferedReader r = Files.newBufferedReader(dir.resolve("all.csv"))) {
      r.readLine();
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        String[] cells = line.split(",", -1);
        Map<String, String> row = new java.util.LinkedHashMap<>();
        for (int i = 0; i < h.size(); i++) {
          row.put(h.get(i), cells[i]);
        }
        if (best == null || rate(row) > rate(best)) {
          best = row;
        }
        if (row.get("activation_recompute").equals("full") && (bestFull == null || rate(row) > rate(bestFull))) {
          bestFull = row;
        }
      }
    }
    assertThat(bestFull.get("recompute_method")).isEqualTo("block");
    int n = 0;
    for (Map<String, String> row : List.of(best, bestFull)) {
      // the row's execution cells as a user copies them: an empty cell is a key not given
      ObjectNode exe = MAPPER.createObjectNode();
      for (String k : h.subList(0, firstStat)) {
        String v = row.get(k);
        if (v.equals("True") || v.equals("False")) {
          exe.put(k, v.equals("True"));
        } else if (v.matches("\\d+")) {
          exe.put(k, Integer.parseInt(v));
        } else if (!v.isEmpty()) {
          exe.put(k, v);
        }
      }
      assertThat(llmTotalTime(exe, "all" + n++)).isEqualTo(Double.parseDouble(row.get("total_time")));
    }
  }

  private static double rate(Map<String, String> row) {
    return Double.parseDouble(row.get("sample_rate"));
  }

  /** A list key (recompute_modules) is written as Python writes a list and converts back to the list. */
  @Test
  void recomputeModulesRoundTripThroughCsv() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    ((ArrayNode) t.putArray("recompute_modules")).add("layernorm").add("mlp");
    Path modules = dir.resolve("modules-template.json");
    MAPPER.writeValue(modules.toFile(), t);
    search("llm-optimal-execution", "modules.csv", "-t", "3", "--execution-template", modules.toString());
    search("llm-optimal-execution", "modules.json", "-t", "3", "--execution-template", modules.toString());
    assertThat(Files.readAllLines(dir.resolve("modules.csv")).get(1)).contains(",\"['layernorm', 'mlp']\",");
    Path converted = dir.resolve("modules.converted.json");
    Run c = CliRun.run("convert", dir.resolve("modules.csv").toString(), converted.toString());
    assertThat(c.status()).as(c.err()).isZero();
    JsonNode fromCsv = MAPPER.readTree(converted.toFile()).get("0");
    assertThat(fromCsv.get("execution")).isEqualTo(MAPPER.readTree(dir.resolve("modules.json").toFile()).get("0").get("execution"));
    assertThat(llmTotalTime(fromCsv.get("execution"), "modules")).isEqualTo(fromCsv.get("stats").get("total_time").asDouble());
  }

  /**
   * calculon-moe: a search without a template writes the reference's columns; with one, only the
   * keys that model reads (the storage datatypes) become columns, not those it ignores
   * ({@code elementwise_kernels}), and the best row runs again as it ran.
   */
  @Test
  void calculonMoeRowsAddOnlyTheTemplateKeysItReads() throws Exception {
    search("llm-optimal-execution", "fork.csv", "-t", "2", "--model-version", "calculon-moe");
    assertThat(Files.readAllLines(dir.resolve("fork.csv")).get(0) + "\n").isEqualTo(ResultFormat.csvHeader(false, true));

    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("elementwise_kernels", "eager").put("weight_datatype", "float32");
    Path forkTemplate = dir.resolve("fork-template.json");
    MAPPER.writeValue(forkTemplate.toFile(), t);
    search("llm-optimal-execution", "fork-t.csv", "-t", "2", "--model-version", "calculon-moe",
        "--execution-template", forkTemplate.toString());
    assertThat(Files.readAllLines(dir.resolve("fork-t.csv")).get(0) + "\n")
        .isEqualTo(ResultFormat.csvHeader(false, true, List.of("weight_datatype", "gradient_datatype")));
    Path converted = dir.resolve("fork-t.json");
    Run c = CliRun.run("convert", dir.resolve("fork-t.csv").toString(), converted.toString());
    assertThat(c.status()).as(c.err()).isZero();
    JsonNode row = MAPPER.readTree(converted.toFile()).get("0");
    assertThat(row.get("execution").get("weight_datatype").asText()).isEqualTo("float32");
    assertThat(llmTotalTime(row.get("execution"), "fork", "--model-version", "calculon-moe"))
        .isEqualTo(row.get("stats").get("total_time").asDouble());
  }

  /** A sweep's records carry the template's keys too, and its best record runs again as it ran. */
  @Test
  void sweepRecordsCarryTheTemplatesKeys() throws Exception {
    ObjectNode spec = MAPPER.createObjectNode();
    spec.putArray("models").add(Path.of(MODEL).toAbsolutePath().toString());
    spec.putArray("systems").add(Path.of(SYSTEM).toAbsolutePath().toString());
    ObjectNode s = spec.putObject("search");
    s.put("command", "llm-optimal-execution").put("num_procs", 8).put("max_batch_size", 16)
        .put("datatype", "float16").put("execution_template", template.toString());
    spec.put("top_n", 1);
    // a grid that changes no file: each point's record runs with the shipped model and system
    spec.putObject("grid").putArray("search.max_batch_size").add(16).add(8);
    Path specFile = dir.resolve("sweep.json");
    MAPPER.writeValue(specFile.toFile(), spec);
    Path out = dir.resolve("sweep.csv");
    Run r = CliRun.run("sweep", specFile.toString(), out.toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    List<String> lines = Files.readAllLines(out);
    List<String> h = List.of(lines.get(0).split(",", -1));
    int first = h.indexOf("recompute_method");
    assertThat(h.get(first - 1)).isEqualTo("flash_attention");
    assertThat(h.subList(first, first + TEMPLATE_COLUMNS.size())).isEqualTo(TEMPLATE_COLUMNS);
    // point 0 (the system as shipped): its record as an execution file
    List<String> cells = List.of(lines.get(1).split(",", -1));
    assertThat(cells.get(h.indexOf("point"))).isEqualTo("0");
    ObjectNode exe = MAPPER.createObjectNode();
    for (int i = h.indexOf("num_procs"); i < h.indexOf("total_time"); i++) {
      String v = cells.get(i);
      if (v.equals("True") || v.equals("False")) {
        exe.put(h.get(i), v.equals("True"));
      } else if (v.matches("\\d+")) {
        exe.put(h.get(i), Integer.parseInt(v));
      } else if (!v.isEmpty()) {
        exe.put(h.get(i), v);
      }
    }
    assertThat(exe.get("elementwise_kernels").asText()).isEqualTo("eager");
    assertThat(exe.get("weight_datatype").asText()).isEqualTo("float32");
    assertThat(llmTotalTime(exe, "sweep")).isEqualTo(Double.parseDouble(cells.get(h.indexOf("total_time"))));
  }
}
