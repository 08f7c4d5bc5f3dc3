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
  /** The keys of {@link #MODEL} calculon-moe ignores: rotary positions, no dropout. */
  private static final String LLAMA_KEYS = "position_embedding, attention_dropout, hidden_dropout";

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
      e.put("context_par_impl", "pytorch");
      e.put("fsdp_impl", "pytorch");
      e.put("optimizer_kernel", "foreach");
      e.put("gradient_datatype", "float32");  // a storage datatype: read by both versions, so kept
    });
    Path without = execution("without.json", e -> {
      for (String k : new String[] {"flash_attention", "zero_stage", "recompute_modules", "elementwise_kernels",
          "attention_kernel", "repeat_kv", "loss_kernel", "fp8_recipe", "context_par_impl", "fsdp_impl",
          "optimizer_kernel"}) {
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
        .contains("flash_attention, recompute_modules").contains("elementwise_kernels").contains("context_par_impl").contains("fsdp_impl").contains("optimizer_kernel")
        .doesNotContain("gradient_datatype")
        // zero_stage 0 without optimizer_sharding is what the fork runs: not ignored
        .doesNotContain("zero_stage");
    assertThat(fork.err().lines().count()).isEqualTo(1);
    // llama3-8B's own rope and zero dropouts are named first, in the same line
    assertThat(fork.err()).startsWith("calculon llm: note: --model-version calculon-moe ignores " + LLAMA_KEYS
        + " in " + MODEL + " and flash_attention, ");
    assertThat(plain.err()).isEqualTo("calculon llm: note: --model-version calculon-moe ignores " + LLAMA_KEYS
        + " in " + MODEL + " (corrected-model keys, docs/reference.md); the run is Calculon-MoE's without them\n");
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
        assertThat(r.err()).contains(" and flash_attention, zero_stage in " + sharded + " (");
      } else {
        assertThat(r.err()).contains(" and flash_attention in " + sharded + " (");
      }
    }
    // the corrected model runs them and says so; of them context_par_impl alone changes nothing
    // at this execution's context_par 1, which it says (ContextParImplUnusedNoteTest)
    Run corrected = CliRun.run("llm", MODEL, with.toString(), H100, "-");
    assertThat(corrected.status()).as(corrected.err()).isZero();
    assertThat(corrected.out()).contains("'zero_stage': 0").contains("'elementwise_kernels': 'eager'");
    assertThat(corrected.err()).isEqualTo("calculon llm: note: context_par_impl in " + with + " changes nothing: "
        + "context_par is 1 (it chooses whose context-parallel attention runs when context_par is above 1; "
        + "docs/reference.md)\n");
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

  /**
   * Model keys calculon-moe ignores are named too, when the file gives them a value the corrected
   * model runs (attention_dropout 0 here: the fork always has dropout), in the execution note's line
   * and before its keys; the fork's summary is the one of the file without them, byte for byte. A
   * model file without such keys, run with an execution without any, gets no note.
   */
  @Test
  void ignoredModelKeysAreNamedInTheSameNote() throws Exception {
    Path noDropout = model("no-dropout.json", m -> m.put("attention_dropout", 0.0));
    Path calculon = model("calculon.json", m -> {});
    Path plainExe = execution("plain.json", e -> e.remove("flash_attention"));
    Run fork = CliRun.run("llm", noDropout.toString(), plainExe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).as(fork.err()).isZero();
    assertThat(fork.err()).isEqualTo("calculon llm: note: --model-version calculon-moe ignores attention_dropout in "
        + noDropout + " (corrected-model keys, docs/reference.md); the run is Calculon-MoE's without them\n");
    Run none = CliRun.run("llm", calculon.toString(), plainExe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(none.status()).as(none.err()).isZero();
    assertThat(none.err()).isEmpty();
    assertThat(fork.out()).isEqualTo(none.out());
    // both files: one line, the model file's keys first
    Path exe = execution("flash.json", e -> {});
    Run both = CliRun.run("llm", noDropout.toString(), exe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(both.err()).isEqualTo("calculon llm: note: --model-version calculon-moe ignores attention_dropout in "
        + noDropout + " and flash_attention in " + exe + " (corrected-model keys, docs/reference.md); the run is "
        + "Calculon-MoE's without them\n");
    // the corrected model runs the key: no note, and a different step
    Run corrected = CliRun.run("llm", noDropout.toString(), plainExe.toString(), H100, "-");
    assertThat(corrected.err()).isEmpty();
    assertThat(corrected.out()).isNotEqualTo(CliRun.run("llm", calculon.toString(), plainExe.toString(), H100, "-").out());
  }

  /**
   * Each model key calculon-moe is said to ignore leaves its summary as it is without the key
   * (the note tells the truth), and each changes the corrected model's (the key is not idle there);
   * a dropout above 0 (the fork's and the default's) is not named.
   */
  @Test
  void theModelKeysNamedAsIgnoredChangeNothingInTheFork() throws Exception {
    Path plainExe = execution("plain.json", e -> e.remove("flash_attention"));
    Path flashExe = execution("flash.json", e -> {});
    Path calculon = model("calculon.json", m -> {});
    String[][] cases = {
        {"position_embedding", "{\"position_embedding\": \"rope\"}"},
        {"attention_dropout", "{\"attention_dropout\": 0}"},
        {"hidden_dropout", "{\"hidden_dropout\": 0}"},
        {"sliding_window", "{\"sliding_window\": 2048}"},
        {"sliding_window, sliding_window_pattern", "{\"sliding_window\": 2048, \"sliding_window_pattern\": 2}"},
        {"mtp_layers", "{\"mtp_layers\": 1}"},
    };
    for (String[] c : cases) {
      ObjectNode keys = (ObjectNode) MAPPER.readTree(c[1]);
      Path m = model("with.json", n -> n.setAll(keys));
      Run fork = CliRun.run("llm", m.toString(), plainExe.toString(), H100, "-", "--model-version", "calculon-moe");
      assertThat(fork.err()).as(c[1]).isEqualTo("calculon llm: note: --model-version calculon-moe ignores " + c[0]
          + " in " + m + " (corrected-model keys, docs/reference.md); the run is Calculon-MoE's without them\n");
      assertThat(fork.out()).as(c[1]).isEqualTo(
          CliRun.run("llm", calculon.toString(), plainExe.toString(), H100, "-", "--model-version", "calculon-moe").out());
      // the window shortens the fused kernel's work only
      String exe = c[0].startsWith("sliding") ? flashExe.toString() : plainExe.toString();
      assertThat(CliRun.run("llm", m.toString(), exe, H100, "-").out()).as(c[1])
          .isNotEqualTo(CliRun.run("llm", calculon.toString(), exe, H100, "-").out());
    }
    Path dropout = model("dropout.json", m -> m.put("attention_dropout", 0.2).put("hidden_dropout", 0.1));
    assertThat(CliRun.run("llm", dropout.toString(), plainExe.toString(), H100, "-", "--model-version", "calculon-moe")
        .err()).isEmpty();
  }

  /** A calculon-moe search names its model file's ignored keys too, without a template. */
  @Test
  void aForkSearchNamesTheModelKeysItIgnores() throws Exception {
    ObjectNode m = (ObjectNode) MAPPER.readTree(Path.of("models/megatron-126M.json").toFile());
    m.put("hidden_dropout", 0.0);
    Path model = dir.resolve("126M.json");
    MAPPER.writeValue(model.toFile(), m);
    Run fork = CliRun.run("loe", model.toString(), "8", "8", "float16", "systems/a100_80g.json",
        dir.resolve("best.json").toString(), "--model-version", "calculon-moe");
    assertThat(fork.status()).as(fork.err()).isZero();
    assertThat(fork.err()).isEqualTo("calculon llm-optimal-execution: note: --model-version calculon-moe ignores "
        + "hidden_dropout in " + model + " (corrected-model keys, docs/reference.md); the results are "
        + "Calculon-MoE's without them\n");
  }

  /**
   * llama3-8B's sizes as a Calculon model (learned positions, dropout 0.1) with its vocabulary,
   * GQA, SwiGLU and RMSNorm, which both versions run; then {@code edit}.
   */
  private Path model(String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode m = (ObjectNode) MAPPER.readTree(Path.of(MODEL).toFile());
    m.remove(java.util.List.of("position_embedding", "attention_dropout", "hidden_dropout"));
    edit.accept(m);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), m);
    return p;
  }

  private Path execution(String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    edit.accept(e);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }
}
