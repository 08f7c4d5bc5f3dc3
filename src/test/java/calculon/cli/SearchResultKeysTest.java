package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corrected-model search's results say which ZeRO stage, CP degree (tier, comm type), pipeline
 * schedule and attention each execution ran, in JSON as in CSV, whether or not the value is the
 * implicit one (ZeRO 1 from {@code optimizer_sharding}, CP 1, flash attention by default), with
 * the template's storage datatypes; and an entry run again through {@code llm} gives the sample
 * rate the search reported. calculon-moe's results keep the reference's 32 keys.
 */
class SearchResultKeysTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";

  @TempDir
  static Path dir;
  private static JsonNode json;
  private static List<String> csvHeader;
  private static List<List<String>> csvRows;

  @BeforeAll
  static void search() throws Exception {
    ObjectNode template = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    template.put("gradient_datatype", "float32");
    Path t = dir.resolve("template.json");
    MAPPER.writeValue(t.toFile(), template);
    for (String out : List.of("s.json", "s.csv")) {
      // CP 2 first ranks 17th: 40 results hold both degrees and both stages
      Run r = CliRun.run("llm-optimal-execution", MODEL, "4", "8", "float16", SYSTEM, dir.resolve(out).toString(),
          "--context-par", "1,2", "--zero-stages", "1,2", "--no-dp-overlap", "--no-tp-overlap", "--quiet",
          "-t", "40", "--execution-template", t.toString(), "--report", dir.resolve(out + ".html").toString());
      assertThat(r.status()).as(r.err()).isZero();
    }
    json = MAPPER.readTree(dir.resolve("s.json").toFile());
    List<String> lines = Files.readAllLines(dir.resolve("s.csv"));
    csvHeader = List.of(lines.get(0).split(",", -1));
    csvRows = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      csvRows.add(List.of(l.split(",", -1)));
    }
  }

  @Test
  void jsonEntriesNameWhatRanAsTheCsvDoes() {
    assertThat(json.size()).isEqualTo(40).isEqualTo(csvRows.size());
    List<String> keys = new ArrayList<>();
    json.get("0").get("execution").fieldNames().forEachRemaining(keys::add);
    List<String> expected = new ArrayList<>(ResultFormat.executionColumns(true));
    // the Llama 3 8B example's own optimizer_kernel fused, then the storage datatype the template gives
    expected.add("optimizer_kernel");
    expected.add("gradient_datatype");
    assertThat(keys).isEqualTo(expected);
    int cp2 = 0, zero2 = 0;
    for (int i = 0; i < json.size(); i++) {
      JsonNode e = json.get(Integer.toString(i)).get("execution");
      for (String k : ResultFormat.EXTRA_EXECUTION_KEYS) {
        String cell = csvRows.get(i).get(csvHeader.indexOf(k));
        String value = e.get(k).isBoolean() ? (e.get(k).asBoolean() ? "True" : "False") : e.get(k).asText();
        assertThat(value).as("rank %d %s", i, k).isEqualTo(cell);
      }
      assertThat(e.get("zero_stage").asInt()).isIn(1, 2);
      assertThat(e.get("optimizer_sharding").asBoolean()).isTrue();
      assertThat(e.get("flash_attention").asBoolean()).isTrue();
      assertThat(e.get("gradient_datatype").asText()).isEqualTo("float32");
      cp2 += e.get("context_par").asInt() == 2 ? 1 : 0;
      zero2 += e.get("zero_stage").asInt() == 2 ? 1 : 0;
    }
    assertThat(cp2).as("CP 2 entries").isPositive();
    assertThat(zero2).as("ZeRO 2 entries").isPositive();
  }

  /** The search report's verdict and top table show CP and the ZeRO stage too. */
  @Test
  void reportShowsCpAndZeroStage() throws Exception {
    String html = Files.readString(dir.resolve("s.json.html"));
    JsonNode best = json.get("0").get("execution");
    assertThat(html).contains("at TP=" + best.get("tensor_par").asInt() + ", CP=" + best.get("context_par").asInt()
        + ", PP=" + best.get("pipeline_par").asInt() + ", DP=" + best.get("data_par").asInt()
        + ", EP=" + best.get("expert_par").asInt() + ", ZeRO stage " + best.get("zero_stage").asInt() + ",");
    assertThat(html).contains("<th>tensor_par</th><th>context_par</th><th>pipeline_par</th>",
        "<th>optimizer_sharding</th><th>zero_stage</th><th>flash_attention</th>",
        "<th>pipeline_interleaving</th><th>pipeline_schedule</th>", "<th>context_par_comm_type</th>");
  }

  /** The best entry, the first with CP 2 and the first with ZeRO 2 run again as they ran. */
  @Test
  void entriesRunAgainWithLlmAsTheyRan() throws Exception {
    List<Integer> ranks = new ArrayList<>(List.of(0));
    ranks.add(first("context_par", 2));
    ranks.add(first("zero_stage", 2));
    for (int rank : ranks) {
      JsonNode entry = json.get(Integer.toString(rank));
      Path exe = dir.resolve("exe" + rank + ".json");
      MAPPER.writeValue(exe.toFile(), entry.get("execution"));
      Path stats = dir.resolve("stats" + rank + ".json");
      Run r = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, stats.toString());
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(MAPPER.readTree(stats.toFile()).get("sample_rate").asDouble()).as("rank " + rank)
          .isEqualTo(entry.get("stats").get("sample_rate").asDouble());
    }
  }

  @Test
  void calculonMoeResultsKeepTheReferencesKeys() throws Exception {
    Path out = dir.resolve("fork.json");
    Run r = CliRun.run("llm-optimal-execution", MODEL, "4", "8", "float16", SYSTEM, out.toString(),
        "--no-dp-overlap", "--no-tp-overlap", "--quiet", "--model-version", "calculon-moe");
    assertThat(r.status()).as(r.err()).isZero();
    List<String> keys = new ArrayList<>();
    MAPPER.readTree(out.toFile()).get("0").get("execution").fieldNames().forEachRemaining(keys::add);
    assertThat(keys).isEqualTo(ResultFormat.EXECUTION_KEYS);
  }

  private static int first(String key, int value) {
    for (int i = 0; i < json.size(); i++) {
      if (json.get(Integer.toString(i)).get("execution").get(key).asInt() == value) {
        return i;
      }
    }
    throw new AssertionError("no entry with " + key + " " + value);
  }
}
