package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fp8_recipe} from {@code --execution-template}: as the reader drops it from a run that is
 * not float8, a search whose datatype is not float8 drops it from the template, with one note, and
 * no result carries it.
 * A float8 search carries the recipe into every result, and its best execution runs again through
 * {@code llm} at the sample rate the search reported.
 */
class SearchTemplateFp8RecipeTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path template() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("datatype", "float8");
    t.put("fp8_recipe", "tensorwise");
    Path p = dir.resolve("template.json");
    MAPPER.writeValue(p.toFile(), t);
    return p;
  }

  private Run search(Path template, String datatype, Path out) {
    return CliRun.run(new OptimalExecutionCommand(), MODEL, "4", "8", datatype, SYSTEM, out.toString(),
        "--zero-stages", "1", "--context-par", "1", "--no-dp-overlap", "--no-tp-overlap", "--quiet",
        "--execution-template", template.toString());
  }

  /**
   * A bfloat16 search given a float8 template: the recipe changes nothing there (Megatron-LM reads
   * --fp8-recipe only with --fp8-format), so the search says so once and its results are those of
   * the template without the key, no execution carrying it.
   */
  @Test
  void aRecipeInANonFloat8SearchIsIgnoredWithOneNote() throws Exception {
    Path t = template();
    Path out = dir.resolve("bf16.json");
    Run r = search(t, "bfloat16", out);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm-optimal-execution: note: " + t + " gives a key that changes nothing "
        + "here, ignored: fp8_recipe (this search's datatype is \"bfloat16\": the recipe applies to float8 runs "
        + "only); the results are the same without it (docs/reference.md)\n");
    ObjectNode plain = (ObjectNode) MAPPER.readTree(t.toFile());
    plain.remove("fp8_recipe");
    Path p = dir.resolve("plain.json");
    MAPPER.writeValue(p.toFile(), plain);
    Path without = dir.resolve("without.json");
    Run w = search(p, "bfloat16", without);
    assertThat(w.status()).as(w.err()).isZero();
    assertThat(w.err()).isEmpty();
    assertThat(MAPPER.readTree(out.toFile())).isEqualTo(MAPPER.readTree(without.toFile()));
    assertThat(MAPPER.readTree(out.toFile()).get("0").get("execution").has("fp8_recipe")).isFalse();
  }

  /** The rule's text after {@code fp8_recipe: } for MXFP8 on {@code system}, which {@code has} the rest. */
  static String mxfp8Rule(String system, String has) {
    return "\"mxfp8\" needs a GPU of compute capability 10.x to 11.x (Blackwell's block-scaled tensor cores; "
        + "Transformer Engine refuses MXFP8BlockScaling elsewhere), but " + system + " " + has;
  }

  private Path mxfp8Execution() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("datatype", "float8");
    t.put("fp8_recipe", "mxfp8");
    Path p = dir.resolve("mxfp8.json");
    MAPPER.writeValue(p.toFile(), t);
    return p;
  }

  /**
   * MXFP8 needs Blackwell's block-scaled tensor cores (Transformer Engine: compute capability 10.0
   * or higher, below 12.0): on the H100 file (compute_capability 9.0) {@code llm} and the searches
   * stop with one line naming the execution file, fp8_recipe and the system's capability, exit 2;
   * on a system file without the key they say it gives none; on B200 (10.0) the run goes through.
   */
  @Test
  void mxfp8OnHopperIsRefusedByLlmAndTheSearches() throws Exception {
    Path exe = mxfp8Execution();
    Run llm = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), SYSTEM, "-");
    assertThat(llm.status()).isEqualTo(2);
    assertThat(llm.out()).isEmpty();
    assertThat(llm.err()).isEqualTo("calculon llm: " + exe + ": fp8_recipe: " + mxfp8Rule(SYSTEM, "has compute_capability 9.0") + "\n");
    String noKey = "systems/H100_80g_sxm.json";
    Run fork = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), noKey, "-");
    assertThat(fork.status()).isEqualTo(2);
    assertThat(fork.err()).isEqualTo("calculon llm: " + exe + ": fp8_recipe: "
        + mxfp8Rule(noKey, "gives no compute_capability (e.g. \"10.0\" for a B200)") + "\n");
    Run blackwell = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), "systems/B200_HGX_180g_dense.json", "-");
    assertThat(blackwell.status()).as(blackwell.err()).isZero();

    Path out = dir.resolve("search.json");
    Run search = search(exe, "float8", out);
    assertThat(search.status()).isEqualTo(2);
    assertThat(search.out()).isEmpty();
    assertThat(search.err()).isEqualTo("calculon llm-optimal-execution: " + exe + ": fp8_recipe: "
        + mxfp8Rule(SYSTEM, "has compute_capability 9.0") + "\n");
    assertThat(out).doesNotExist();
    Path csv = dir.resolve("all.csv");
    Run all = CliRun.run(new AllExecutionsCommand(), MODEL, "8", "8", "float8", SYSTEM, csv.toString(), "--quiet",
        "--execution-template", exe.toString());
    assertThat(all.status()).isEqualTo(2);
    assertThat(all.err()).isEqualTo("calculon llm-all-executions: " + exe + ": fp8_recipe: "
        + mxfp8Rule(SYSTEM, "has compute_capability 9.0") + "\n");
    assertThat(csv).doesNotExist();
  }

  @Test
  void aFloat8SearchCarriesTheRecipeAndItsBestRunsAgain() throws Exception {
    Path out = dir.resolve("fp8.json");
    Run r = search(template(), "float8", out);
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode best = MAPPER.readTree(out.toFile()).get("0");
    assertThat(best.get("execution").get("fp8_recipe").asText()).isEqualTo("tensorwise");
    assertThat(best.get("execution").get("datatype").asText()).isEqualTo("float8");
    Path exe = dir.resolve("best.json");
    MAPPER.writeValue(exe.toFile(), best.get("execution"));
    Run again = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, "-");
    assertThat(again.status()).as(again.err()).isZero();
    Matcher m = Pattern.compile("Sample rate: ([0-9.]+);").matcher(again.out());
    assertThat(m.find()).as(again.out()).isTrue();
    // the summary prints 2 decimals
    assertThat(Double.parseDouble(m.group(1))).isCloseTo(best.get("stats").get("sample_rate").asDouble(), within(0.005));
  }
}
