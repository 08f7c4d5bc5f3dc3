package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corrected model's execution choices (ZeRO stage, CP with its tier and comm type, flash
 * attention and its kernel, recomputed modules, pipeline schedule, MoE dispatcher) are visible in
 * what a user reads: the {@code llm ... -} summary and the run report, whether the execution file
 * gave them or the model's defaults applied. calculon-moe's summary stays the fork's
 * ({@code DefaultModelVersionTest}, {@code SummaryTest}).
 */
class ExecutionChoicesShownTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  /**
   * The Llama 3 70B example gives flash_attention and gradient_datatype (last, as a storage type the
   * file gave): the rest are the corrected model's defaults.
   */
  @Test
  void summaryListsCpAndZeroStageAndTheDefaultsTheRunUsed() {
    Run r = CliRun.run("llm", "models/llama3-70B.json", "examples/llama3-70B_256xH100.json", H100, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("Run on 256 processors with:\nTP=4\nCP=1\nPP=2\nDP=32\nZeRO stage=1\nSP=4\nEP=1\nES=1\n"
        + "Blocks per processor: 40\n");
    // optimizer_sharding true alone means ZeRO 1; the system's default measured kernel is cudnn;
    // interleaving 40 runs Megatron's interleaved 1F1B
    // the model file's swiglu is what runs: the execution's activation_function gives it its place
    assertThat(executionLine(r.out())).endsWith("'model_MoE': False, 'mlp': 'swiglu', "
        + "'zero_stage': 1, 'context_par': 1, 'context_par_net': 0, 'context_par_comm_type': 'p2p', "
        + "'flash_attention': True, 'attention_kernel': 'cudnn', 'repeat_kv': False, 'recompute_modules': [], 'elementwise_kernels': 'fused', 'loss_kernel': 'fused', "
        + "'optimizer_kernel': 'calculon', 'pipeline_schedule': 'interleaved', 'pipeline_p2p_overlap': True, 'gradient_datatype': 'float32'}");
  }

  /** Every key given: CP 2 over Ulysses all-to-alls, ZeRO 2, two recomputed modules, a named kernel, no SP. */
  @Test
  void summaryShowsGivenChoices() throws Exception {
    Path exe = execution("examples/llama3-8B_64xH100.json", "cp.json", e -> {
      e.put("tensor_par", 4);
      e.put("context_par", 2);
      e.put("context_par_net", 0);
      e.put("context_par_comm_type", "a2a");
      e.put("zero_stage", 2);
      e.put("optimizer_sharding", true);
      e.putArray("recompute_modules").add("mlp").add("layernorm");
      e.put("tensor_par_comm_type", "ar");
      e.put("attention_kernel", "flash3");
    });
    Run r = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), H100, "-");
    assertThat(r.status()).as(r.err()).isZero();
    // tensor_par_comm_type ar: the corrected model does not split the sequence over TP
    assertThat(r.out()).contains("Run on 64 processors with:\nTP=4\nCP=2 (network tier 0, a2a)\nPP=1\nDP=8\n"
        + "ZeRO stage=2\nSP=1\nEP=1\nES=1\n");
    assertThat(executionLine(r.out())).endsWith("'zero_stage': 2, 'context_par': 2, 'context_par_net': 0, "
        + "'context_par_comm_type': 'a2a', 'flash_attention': True, 'attention_kernel': 'flash3', "
        + "'repeat_kv': False, 'recompute_modules': ['layernorm', 'mlp'], 'elementwise_kernels': 'fused', 'loss_kernel': 'fused', "
        + "'context_par_impl': 'transformer_engine', 'optimizer_kernel': 'calculon', 'pipeline_schedule': '1f1b', 'gradient_datatype': 'float32'}");
  }

  /** Flash attention off: no kernel runs; a MoE run names its dispatcher; a system without kernels has none. */
  @Test
  void noKernelWithoutFlashAttentionAndTheMoeDispatcher() throws Exception {
    Path exe = execution("examples/llama3-8B_64xH100.json", "noflash.json", e -> e.put("flash_attention", false));
    Run r = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), H100, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(executionLine(r.out())).contains("'flash_attention': False, 'attention_kernel': None,")
        .doesNotContain("moe_dispatcher");

    Run moe = CliRun.run("llm", "models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
        "systems/H100_80g_sxm.json", "-");
    assertThat(moe.status()).as(moe.err()).isZero();
    assertThat(moe.out()).contains("TP=8\nCP=1\nPP=4\nDP=128\nZeRO stage=1\nSP=8\nEP=16\nES=8\n");
    assertThat(executionLine(moe.out())).endsWith("'flash_attention': True, 'attention_kernel': None, "
        + "'repeat_kv': False, 'recompute_modules': [], 'elementwise_kernels': 'fused', 'loss_kernel': 'fused', 'optimizer_kernel': 'calculon', 'pipeline_schedule': '1f1b', 'moe_dispatcher': 'alltoall'}");
  }

  /**
   * The MLP the run computes, not the execution's activation_function: Llama 3 8B's SwiGLU even when
   * the execution says gelu; GPT 1.8T's GeLU experts (a Calculon-MoE model, no mlp key) and, with
   * activation_function silu, its SwiGLU experts (BlockBuilder.expertMlp); DeepSeek-V3's dense
   * first layers and experts. calculon-moe prints the fork's activation_function as before.
   */
  @Test
  void summaryShowsTheMlpThatRuns() throws Exception {
    Path gelu = execution("examples/llama3-8B_64xH100.json", "gelu.json", e -> e.put("activation_function", "gelu"));
    Run dense = CliRun.run("llm", "models/llama3-8B.json", gelu.toString(), H100, "-");
    assertThat(dense.status()).as(dense.err()).isZero();
    assertThat(executionLine(dense.out())).contains("'model_MoE': False, 'mlp': 'swiglu', 'zero_stage'")
        .doesNotContain("activation_function", "expert_mlp");

    String[] gpt = {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json"};
    Run moe = CliRun.run("llm", gpt[0], gpt[1], gpt[2], "-");
    assertThat(executionLine(moe.out())).contains("'model_MoE': True, 'expert_mlp': 'gelu', 'zero_stage'")
        .doesNotContain("activation_function", "'mlp'");
    Path silu = execution(gpt[1], "silu.json", e -> e.put("activation_function", "silu"));
    Run swiglu = CliRun.run("llm", gpt[0], silu.toString(), gpt[2], "-");
    assertThat(executionLine(swiglu.out())).contains("'model_MoE': True, 'expert_mlp': 'swiglu', 'zero_stage'");

    Run ds = CliRun.run("llm", "models/deepseek-v3.json", "examples/deepseek-v3_512xH100.json", H100, "-");
    assertThat(ds.status()).as(ds.err()).isZero();
    assertThat(executionLine(ds.out())).contains("'model_MoE': True, 'mlp': 'swiglu', 'expert_mlp': 'swiglu', 'zero_stage'");

    Run fork = CliRun.run("llm", "models/llama3-8B.json", gelu.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(executionLine(fork.out())).contains("'model_MoE': False, 'activation_function': 'gelu'")
        .doesNotContain("'mlp'");
  }

  /**
   * The corrected summary labels the activation checkpoints so that they do not read as context
   * parallelism (the fork's "Act CP" sits beside "CP="), and prints a zero size as 0 B; the fork's
   * text keeps "Act CP: 0.000 iB" (its golden stdout, SummaryTest).
   */
  @Test
  void activationCheckpointsAreNotCalledCp() {
    Run r = CliRun.run("llm", "models/llama3-70B.json", "examples/llama3-70B_256xH100.json", H100, "-");
    assertThat(r.out()).contains("\nCP=1\n", "\nAct recompute checkpoints: 0 B;\n", "\nMem tier2 capacity requirement: ")
        .doesNotContain("Act CP", " iB;");
    Run fork = CliRun.run("llm", "models/llama3-70B.json", "examples/llama3-70B_256xH100.json", H100, "-",
        "--model-version", "calculon-moe");
    assertThat(fork.out()).contains("\nAct CP: 0.000 iB;\n").doesNotContain("recompute checkpoints");
  }

  /** The fork's summary has neither line (its parity with the golden stdout is DefaultModelVersionTest's). */
  @Test
  void calculonMoeSummaryHasNoCorrectedModelLines() {
    Run r = CliRun.run("llm", "models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
        "systems/H100_80g_sxm.json", "-", "--model-version", "calculon-moe");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("TP=8\nPP=4\nDP=128\nSP=8\n").doesNotContain("CP=", "ZeRO", "zero_stage");
  }

  /** The run report's execution table: from llm --report, and from calculon report with the inputs. */
  @Test
  void reportListsTheChoices() throws Exception {
    Path html = dir.resolve("run.html");
    Path stats = dir.resolve("stats.json");
    Run r = CliRun.run("llm", "models/llama3-70B.json", "examples/llama3-70B_256xH100.json", H100,
        stats.toString(), "--report", html.toString());
    assertThat(r.status()).as(r.err()).isZero();
    Path again = dir.resolve("again.html");
    Run rep = CliRun.run("report", stats.toString(), again.toString(), "--model", "models/llama3-70B.json",
        "--execution", "examples/llama3-70B_256xH100.json", "--system", H100);
    assertThat(rep.status()).as(rep.err()).isZero();
    for (Path page : new Path[] {html, again}) {
      String text = Files.readString(page);
      assertThat(text).as(page.toString()).contains("<tr><td>zero_stage</td><td>1</td></tr>",
          "<tr><td>context_par</td><td>1</td></tr>", "<tr><td>context_par_comm_type</td><td>p2p</td></tr>",
          "<tr><td>flash_attention</td><td>true</td></tr>", "<tr><td>attention_kernel</td><td>cudnn</td></tr>",
          "<tr><td>recompute_modules</td><td>[]</td></tr>",
          "<tr><td>pipeline_schedule</td><td>interleaved</td></tr>", "<tr><td>mlp</td><td>swiglu</td></tr>")
          .doesNotContain("activation_function");
    }
  }

  private Path execution(String base, String name, java.util.function.Consumer<ObjectNode> edit) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of(base).toFile());
    edit.accept(e);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  private static String executionLine(String summary) {
    Matcher m = Pattern.compile("(?m)^Execution: (\\{.*\\});$").matcher(summary);
    assertThat(m.find()).as(summary).isTrue();
    return m.group(1);
  }
}
