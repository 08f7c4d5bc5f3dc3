package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code recompute_method} and {@code recompute_num_layers} on the command line: a search takes
 * them from {@code --execution-template} for its executions with full recompute (and only those),
 * each result runs again through {@code llm} at the sample rate the search reported, and a file
 * that gives them without full recompute, or under calculon-moe, is one line and exit 2.
 */
class PartialRecomputeCliTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path execution(String name, Map<String, Object> edits) throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.remove("recompute_modules");
    edits.forEach((k, v) -> t.set(k, MAPPER.valueToTree(v)));
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), t);
    return p;
  }

  /**
   * A block recompute that does not fit is told to recompute more of each chunk, never to offload
   * its activations, which a partial recompute cannot run with (ExecutionReader.check).
   */
  @Test
  void anInfeasibleBlockRecomputeIsToldToRecomputeMoreNotToOffload() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    t.put("activation_recompute", "full").put("recompute_method", "block").put("recompute_num_layers", 2)
        .put("pipeline_interleaving", 1).put("seq_par_ag_redo", false);
    t.remove("recompute_modules");
    Path exe = dir.resolve("block.json");
    MAPPER.writeValue(exe.toFile(), t);
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) s.get("mem1")).put("GiB", 36);
    Path small = dir.resolve("small.json");
    MAPPER.writeValue(small.toFile(), s);
    Run r = CliRun.run("llm", "models/llama3-70B.json", exe.toString(), small.toString(), "-");
    assertThat(r.status()).as(r.err()).isEqualTo(Main.EXIT_INFEASIBLE);
    String tryList = r.out().substring(r.out().indexOf("; try "), r.out().indexOf("; alone") > 0
        ? r.out().indexOf("; alone") : r.out().length());
    assertThat(tryList).contains("a larger recompute_num_layers").doesNotContain("activations_offload");
  }

  @Test
  void aSearchGivesTheTemplatesMethodToItsFullRecomputeExecutions() throws Exception {
    Path t = execution("template.json", Map.of("activation_recompute", "full", "recompute_method", "block",
        "recompute_num_layers", 5));
    Path out = dir.resolve("search.json");
    Run r = CliRun.runOptimalExecution(MODEL, "4", "8", "bfloat16", SYSTEM, out.toString(), "--zero-stages", "1",
        "--context-par", "1", "--no-dp-overlap", "--no-tp-overlap", "--quiet", "-t", "3000",
        "--execution-template", t.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode results = MAPPER.readTree(out.toFile());
    JsonNode full = null;
    int fullCount = 0;
    for (JsonNode entry : results) {
      JsonNode e = entry.get("execution");
      if (e.get("activation_recompute").asText().equals("full")) {
        assertThat(e.get("recompute_method").asText()).isEqualTo("block");
        assertThat(e.get("recompute_num_layers").asInt()).isEqualTo(5);
        full = full == null ? entry : full;
        fullCount++;
      } else {
        assertThat(e.has("recompute_method")).isFalse();
        assertThat(e.has("recompute_num_layers")).isFalse();
      }
    }
    assertThat(fullCount).isPositive();
    Path again = dir.resolve("again.json");
    MAPPER.writeValue(again.toFile(), full.get("execution"));
    Path stats = dir.resolve("stats.json");
    Run llm = CliRun.run("llm", MODEL, again.toString(), SYSTEM, stats.toString());
    assertThat(llm.status()).as(llm.err()).isZero();
    assertThat(MAPPER.readTree(stats.toFile()).get("sample_rate").asDouble())
        .isEqualTo(full.get("stats").get("sample_rate").asDouble());
  }

  @Test
  void withoutFullRecomputeTheKeysAreOneLineAndExitTwo() throws Exception {
    Path e = execution("exe.json", Map.of("activation_recompute", "attn_only", "recompute_num_layers", 2));
    Run r = CliRun.run("llm", MODEL, e.toString(), SYSTEM, "-");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("calculon llm: " + e + ": recompute_num_layers: needs activation_recompute "
        + "\"full\" (it says how full recompute divides a pipeline chunk's blocks), got \"attn_only\"\n");
  }

  @Test
  void calculonMoeRefusesBlockRecomputeInOneLine() throws Exception {
    Path e = execution("exe.json", Map.of("activation_recompute", "full", "recompute_method", "block",
        "recompute_num_layers", 2));
    Run r = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, e.toString(), SYSTEM, "-");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).startsWith("calculon llm: " + e + ": recompute_method: needs the corrected model")
        .endsWith("drop --model-version calculon-moe or the key\n");
    assertThat(r.err().lines().count()).isEqualTo(1);
    // the defaults are full recompute as the fork runs it: ignored there, with the note every ignored key gets
    Path plain = execution("plain.json", Map.of("activation_recompute", "full", "recompute_method", "uniform",
        "recompute_num_layers", 1));
    Run p = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, plain.toString(), SYSTEM, "-");
    assertThat(p.status()).as(p.err()).isZero();
    assertThat(p.err()).contains("recompute_method").contains("recompute_num_layers");
    // a calculon-moe search given such a template: the same line
    Run s = CliRun.runOptimalExecution("--model-version", "calculon-moe", MODEL, "4", "8", "bfloat16", SYSTEM,
        dir.resolve("s.json").toString(), "--quiet", "--execution-template", e.toString());
    assertThat(s.status()).isEqualTo(2);
    assertThat(s.err()).isEqualTo("calculon llm-optimal-execution: " + e + ": recompute_method: needs the corrected "
        + "model (Calculon-MoE recomputes every block from its own checkpoint); drop --model-version calculon-moe "
        + "or the key\n");
  }
}
