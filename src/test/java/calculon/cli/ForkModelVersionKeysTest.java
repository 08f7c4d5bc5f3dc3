package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An execution that changes the parallel split in a way Calculon-MoE cannot express (context
 * parallelism, uneven pipeline stages) is a configuration error under
 * {@code --model-version calculon-moe}: one line naming the file, the key and the rule, exit status
 * 2, as every other configuration error (it was {@code ERROR: context_par and
 * blocks_in_first/last_stage need the corrected model}, exit status 255, naming neither). The
 * corrected model runs the same files.
 */
class ForkModelVersionKeysTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-8B.json";
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  @Test
  void contextParallelismUnderCalculonMoeIsAConfigurationError() throws Exception {
    // TP 8 x CP 2 x PP 1 x DP 4 = 64: llama3-8B's 8,192 tokens split into 4 chunks of 2,048
    Path exe = execution("cp.json", e -> {
      e.put("context_par", 2);
      e.put("context_par_net", 1);
      e.put("data_par", 4);
      e.put("batch_size", 32);
    });
    Run fork = CliRun.run("llm", MODEL, exe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).isEqualTo(2);
    assertThat(fork.out()).isEmpty();
    assertThat(fork.err()).isEqualTo("calculon llm: " + exe + ": context_par: needs the corrected model (Calculon-MoE has no "
        + "context parallelism); drop --model-version calculon-moe or set context_par 1, got 2\n");
    Run corrected = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(corrected.status()).as(corrected.err()).isZero();
    assertThat(corrected.out()).contains("CP=2 (network tier 1, p2p)");
  }

  @Test
  void unevenPipelineStagesUnderCalculonMoeAreAConfigurationError() throws Exception {
    // PP 2 over 32 blocks: 15 on the first stage, 17 on the last
    Path exe = execution("uneven.json", e -> {
      e.put("pipeline_par", 2);
      e.put("pipeline_par_net", 1);
      e.put("data_par", 4);
      e.put("batch_size", 32);
      e.put("blocks_in_first_stage", 15);
    });
    Run fork = CliRun.run("llm", MODEL, exe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).isEqualTo(2);
    assertThat(fork.err()).isEqualTo("calculon llm: " + exe + ": blocks_in_first_stage: needs the corrected model (Calculon-MoE "
        + "splits the blocks evenly over the pipeline stages); drop --model-version calculon-moe or the key\n");
    Run corrected = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(corrected.status()).as(corrected.err()).isZero();
    assertThat(corrected.out()).contains("PP=2\n");
  }

  @Test
  void asyncTpUnderCalculonMoeIsAConfigurationError() throws Exception {
    Path exe = execution("async.json", e -> {
      e.put("tensor_par_comm_type", "rs_ag");
      e.put("tensor_par_overlap", "async_tp");
    });
    Run fork = CliRun.run("llm", MODEL, exe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).isEqualTo(2);
    assertThat(fork.err()).isEqualTo("calculon llm: " + exe + ": tensor_par_overlap: \"async_tp\" needs the corrected model "
        + "(Calculon-MoE has none, ring or pipe); drop --model-version calculon-moe or choose one of those\n");
    Run corrected = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(corrected.status()).as(corrected.err()).isZero();
  }

  /**
   * Keys that only add a cost or a choice the fork has no model for are ignored under
   * calculon-moe: the summary is the one the same file without them gives, byte for byte (its
   * Execution line no longer lists them as if they had run), and one line on standard error names
   * the ignored keys.
   */
  @Test
  void ignoredCorrectedModelKeysAreNamedAndLeftOutOfTheForkSummary() throws Exception {
    Path with = execution("with.json", e -> {
      e.put("flash_attention", true);
      e.put("zero_stage", 0);
      e.put("recompute_modules", MAPPER.createArrayNode().add("core_attn"));
      e.put("elementwise_kernels", "eager");
      e.put("gradient_datatype", "float32");  // a storage datatype: read by both versions, so kept
    });
    Path without = execution("without.json", e -> {
      for (String k : new String[] {"flash_attention", "zero_stage", "recompute_modules", "elementwise_kernels",
          "attention_kernel", "repeat_kv", "loss_kernel", "fp8_recipe"}) {
        e.remove(k);
      }
      e.put("gradient_datatype", "float32");
    });
    Run fork = CliRun.run("llm", MODEL, with.toString(), H100, "-", "--model-version", "calculon-moe");
    Run plain = CliRun.run("llm", MODEL, without.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).as(fork.err()).isZero();
    assertThat(plain.status()).as(plain.err()).isZero();
    assertThat(fork.out()).isEqualTo(plain.out()).contains("'gradient_datatype': 'float32'")
        .doesNotContain("flash_attention").doesNotContain("zero_stage");
    assertThat(fork.err()).startsWith("calculon llm: note: --model-version calculon-moe ignores ")
        .contains("flash_attention, recompute_modules").contains("elementwise_kernels")
        .doesNotContain("gradient_datatype")
        // zero_stage 0 without optimizer_sharding is what the fork runs: not ignored
        .doesNotContain("zero_stage");
    assertThat(fork.err().lines().count()).isEqualTo(1);
    assertThat(plain.err()).isEmpty();
    // with optimizer_sharding the fork runs stage 2 (gradients sharded too): 1 is ignored and named, 2 is not
    for (int stage : new int[] {1, 2}) {
      Path sharded = execution("stage" + stage + ".json", e -> {
        e.put("optimizer_sharding", true);
        e.put("zero_stage", stage);
      });
      Run r = CliRun.run("llm", MODEL, sharded.toString(), H100, "-", "--model-version", "calculon-moe");
      assertThat(r.status()).as(r.err()).isZero();
      // the example's own flash_attention is named either way
      if (stage == 1) {
        assertThat(r.err()).contains("ignores flash_attention, zero_stage in");
      } else {
        assertThat(r.err()).contains("ignores flash_attention in");
      }
    }
    // the corrected model runs them and says so
    Run corrected = CliRun.run("llm", MODEL, with.toString(), H100, "-");
    assertThat(corrected.status()).as(corrected.err()).isZero();
    assertThat(corrected.out()).contains("'zero_stage': 0").contains("'elementwise_kernels': 'eager'");
    assertThat(corrected.err()).isEmpty();
  }

  /**
   * A calculon-moe search given a template with corrected-model keys says it ignores them, and its
   * results leave them out (an entry run again with llm must describe what was evaluated); the
   * corrected search keeps them.
   */
  @Test
  void aForkSearchNamesTheTemplateKeysItIgnoresAndLeavesThemOutOfItsResults() throws Exception {
    String template = "examples/llama3-8B_64xH100.json";  // flash_attention: true
    Path out = dir.resolve("best.json");
    Run fork = CliRun.run("loe", "models/megatron-126M.json", "8", "8", "float16", "systems/a100_80g.json",
        out.toString(), "--model-version", "calculon-moe", "--execution-template", template);
    assertThat(fork.status()).as(fork.err()).isZero();
    assertThat(fork.err()).isEqualTo("calculon llm-optimal-execution: note: --model-version calculon-moe ignores "
        + "flash_attention in " + template + " (corrected-model keys, docs/reference.md); the results are "
        + "Calculon-MoE's without them\n");
    assertThat(MAPPER.readTree(out.toFile()).get("0").get("execution").has("flash_attention")).isFalse();
    Path corrected = dir.resolve("corrected.json");
    Run c = CliRun.run("loe", "models/megatron-126M.json", "8", "8", "float16", "systems/a100_80g.json",
        corrected.toString(), "--execution-template", template);
    assertThat(c.status()).as(c.err()).isZero();
    assertThat(MAPPER.readTree(corrected.toFile()).get("0").get("execution").get("flash_attention").asBoolean()).isTrue();
  }

  private Path execution(String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    edit.accept(e);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }
}
