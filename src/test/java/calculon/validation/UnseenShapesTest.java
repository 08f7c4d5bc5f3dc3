package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.cli.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus of 2024-2026 style training configurations (src/test/resources/unseen/corpus.json:
 * Llama 3 8B to 405B, GPT-3 175B, Nemotron-4 340B, Mixtral, Qwen3 MoE, DeepSeek-V3, GPT-OSS on
 * H100, H200, B200, GB200 and GB300, with TP/CP/PP/VP/EP/ETP, uneven first and last stages,
 * ZeRO 1 to 3, selective and full recompute, bf16 and every FP8 recipe), written from how
 * Megatron-Core, NeMo and TorchTitan runs are set up, without measured numbers. Each runs through
 * the command line as a user runs it ({@code calculon llm MODEL EXECUTION SYSTEM OUT.json}, the
 * default corrected model) and must:
 * <ul>
 *   <li>evaluate (exit 0, no stack trace) and fit tier-1 memory, as these runs do in the frameworks;
 *   <li>give finite, non-negative stats and a positive step time;
 *   <li>take at least the matmul time at the system's peak rate for the run's datatype:
 *       6 x (weights a token multiplies) x tokens / (GPUs x peak), the physical floor;
 *   <li>land in a plausible MFU band: at least {@link #MFU_FLOOR} of the 16-bit peak for the
 *       6N model flops, at most {@link #MFU_CEILING} of the datatype's peak with causal attention;
 *   <li>need no more memory with full recompute, a higher ZeRO stage or half the microbatch.
 * </ul>
 * No value the tool printed is copied here: the bounds are physical or hand-derived.
 */
class UnseenShapesTest {
  static final Path CORPUS = Paths.get("src/test/resources/unseen/corpus.json");
  static final ObjectMapper JSON = new ObjectMapper();
  static final double GIB = 1024.0 * 1024 * 1024;

  /**
   * A sensible configuration reaches at least a tenth of the 16-bit peak in 6N model flops; the
   * least efficient public 2024-2026 MoE runs (fine-grained experts, EP over InfiniBand) report
   * MFUs in the tens of percent.
   */
  static final double MFU_FLOOR = 0.10;

  /**
   * No end-to-end training step reaches three quarters of the datatype's dense peak: the matmuls
   * alone do not (the shipped H100 curve tops out at 80% of peak for the largest GEMMs), and the
   * step adds element-wise work, communication and the pipeline bubble.
   */
  static final double MFU_CEILING = 0.75;

  static final String FULL_RECOMPUTE = "full recompute";

  /** One corpus entry with its files read. */
  record Shape(String label, Path model, Path execution, Path system, double matmulParams) {
    JsonNode modelJson() throws IOException { return JSON.readTree(model.toFile()); }
    ObjectNode executionJson() throws IOException { return (ObjectNode) JSON.readTree(execution.toFile()); }
    JsonNode systemJson() throws IOException { return JSON.readTree(system.toFile()); }
  }

  static List<Shape> corpus() throws IOException {
    List<Shape> shapes = new ArrayList<>();
    for (JsonNode r : JSON.readTree(CORPUS.toFile()).get("runs")) {
      shapes.add(new Shape(r.get("label").asText(), Paths.get(r.get("model").asText()),
          Paths.get(r.get("execution").asText()), Paths.get(r.get("system").asText()),
          r.get("matmul_params_billion").asDouble() * 1e9));
    }
    return shapes;
  }

  /** Runs {@code llm} on the files and returns its stats (the JSON output), asserting it succeeded. */
  static JsonNode llm(Shape s, Path execution, Path dir, String what) throws IOException {
    Path out = Files.createTempFile(dir, "stats", ".json");
    Files.delete(out);
    CliRun.Run run = CliRun.run("llm", s.model().toString(), execution.toString(), s.system().toString(),
        out.toString());
    assertThat(run.err()).as(s.label() + " " + what).doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(run.status()).as(s.label() + " " + what + ": " + run.err()).isZero();
    return JSON.readTree(out.toFile());
  }

  static JsonNode llm(Shape s, Path dir) throws IOException {
    return llm(s, s.execution(), dir, "as written");
  }

  /** The corpus covers what it claims: every shipped modern model family, GPU and recipe. */
  @Test
  void corpusCoversTheModernKeys() throws IOException {
    List<Shape> shapes = corpus();
    assertThat(shapes).hasSizeGreaterThanOrEqualTo(25);
    StringBuilder all = new StringBuilder();
    for (Shape s : shapes) {
      assertThat(s.model()).as(s.label()).isRegularFile();
      assertThat(s.execution()).as(s.label()).isRegularFile();
      assertThat(s.system()).as(s.label()).isRegularFile();
      all.append(Files.readString(s.execution())).append(s.system()).append(s.model());
    }
    String text = all.toString();
    for (String key : List.of("\"zero_stage\": 3", "\"context_par\": ", "\"context_par_comm_type\": \"a2a\"",
        "\"context_par_comm_type\": \"all_gather\"", "\"recompute_modules\"", "\"activation_recompute\": \"full\"",
        "\"blocks_in_first_stage\"", "\"fp8_recipe\": \"delayed\"", "\"fp8_recipe\": \"current\"",
        "\"fp8_recipe\": \"blockwise\"", "\"fp8_recipe\": \"mxfp8\"", "\"fp8_recipe\": \"tensorwise\"",
        "\"tensor_par_overlap\": \"userbuffers\"", "\"tensor_par_overlap\": \"async_tp\"",
        "\"pipeline_schedule\": \"zb-h1\"", "\"pipeline_schedule\": \"dualpipev\"", "\"gradient_datatype\"",
        "\"expert_slice\": 2", "\"moe_a2a_overlap\": true", "\"moe_dispatcher\": \"flex\"",
        "H100", "H200", "B200", "GB200", "GB300", "deepseek-v3", "qwen3-235B", "qwen3-30B", "mixtral-8x7B",
        "mixtral-8x22B", "gpt-oss", "llama3-405B", "nemotron-4-340B", "gpt3-175B")) {
      assertThat(text).as("the corpus has " + key).contains(key);
    }
  }

  /** Each shape evaluates, fits, and its step is no faster than its matmuls at peak. */
  @TestFactory
  List<DynamicTest> eachShapeEvaluatesFitsAndIsPhysical(@TempDir Path dir) throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Shape s : corpus()) {
      tests.add(DynamicTest.dynamicTest(s.label(), () -> {
        JsonNode stats = llm(s, dir);
        JsonNode model = s.modelJson();
        ObjectNode exe = s.executionJson();
        JsonNode system = s.systemJson();
        for (Iterator<Map.Entry<String, JsonNode>> it = stats.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          if (f.getValue().isNumber()) {
            assertThat(Double.isFinite(f.getValue().asDouble())).as(s.label() + " " + f.getKey()).isTrue();
            assertThat(f.getValue().asDouble()).as(s.label() + " " + f.getKey()).isGreaterThanOrEqualTo(0.0);
          }
        }
        double seconds = stats.get("total_time").asDouble();
        assertThat(seconds).as(s.label()).isPositive();
        assertThat(stats.get("proc_mem_tier1_cap_req").asDouble() / GIB).as(s.label() + " tier-1 GiB")
            .isLessThanOrEqualTo(system.get("mem1").get("GiB").asDouble());

        int gpus = exe.get("num_procs").asInt();
        double tokens = exe.get("batch_size").asDouble() * model.get("seq_size").asDouble();
        double peak = system.get("matrix").get(exe.get("datatype").asText()).get("tflops").asDouble() * 1e12;
        double peak16 = system.get("matrix").get("bfloat16").get("tflops").asDouble() * 1e12;
        double denseFlops = 6 * s.matmulParams() * tokens;
        assertThat(seconds).as(s.label() + ": step time vs matmuls at peak")
            .isGreaterThanOrEqualTo(denseFlops / (gpus * peak));
        assertThat(denseFlops / (seconds * gpus * peak16)).as(s.label() + ": 6N MFU of the 16-bit peak")
            .isGreaterThanOrEqualTo(MFU_FLOOR);
        // causal attention: QK^T and PV, 2 S A d flops a token and layer forward, three times that in all
        double attention = 6 * model.get("num_blocks").asDouble() * model.get("seq_size").asDouble()
            * model.get("attn_heads").asDouble() * model.get("attn_size").asDouble() * tokens;
        assertThat((denseFlops + attention) / (seconds * gpus * peak)).as(s.label() + ": MFU of the datatype's peak")
            .isLessThanOrEqualTo(MFU_CEILING);
      }));
    }
    return tests;
  }

  /**
   * Memory goes the right way: full recompute, a higher ZeRO stage (to 2; to 3 only without PP,
   * where FSDP under PP holds each stage's full weights for the step), half the microbatch, and
   * twice the TP or CP degree on half the DP ranks (the same GPUs; the optimizer state stays
   * sharded over as many ranks, the weights or the activations split twice as far) each need no
   * more tier-1 memory than the run as written, and full recompute takes no less time (a changed
   * run that no longer fits fails here too: the tool then exits non-zero).
   */
  @TestFactory
  List<DynamicTest> memoryIsMonotoneInRecomputeShardingAndMicrobatch(@TempDir Path dir) throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Shape s : corpus()) {
      ObjectNode exe = s.executionJson();
      List<Map.Entry<String, Consumer<ObjectNode>>> changes = new ArrayList<>();
      if (!"full".equals(exe.get("activation_recompute").asText())) {
        changes.add(Map.entry(FULL_RECOMPUTE, e -> {
          e.put("activation_recompute", "full");
          e.remove("recompute_modules");
          e.put("seq_par_ag_redo", false);
        }));
      }
      int zero = exe.has("zero_stage") ? exe.get("zero_stage").asInt() : 1;
      if (zero < 2 || (zero == 2 && exe.get("pipeline_par").asInt() == 1)) {
        changes.add(Map.entry("zero_stage " + (zero + 1), e -> {
          e.put("zero_stage", zero + 1);
          e.put("optimizer_sharding", true);
        }));
      }
      if (exe.get("microbatch_size").asInt() % 2 == 0) {
        changes.add(Map.entry("half microbatch", e -> e.put("microbatch_size", exe.get("microbatch_size").asInt() / 2)));
      }
      JsonNode model = s.modelJson();
      int tier0 = s.systemJson().get("networks").get(0).get("size").asInt();
      int tp = exe.get("tensor_par").asInt();
      int cp = exe.has("context_par") ? exe.get("context_par").asInt() : 1;
      int dp = exe.get("data_par").asInt();
      int kvHeads = model.has("num_kv_heads") ? model.get("num_kv_heads").asInt() : model.get("attn_heads").asInt();
      boolean cpOnTier0 = !exe.has("context_par_net") || exe.get("context_par_net").asInt() == 0;
      boolean a2a = exe.has("context_par_comm_type") && "a2a".equals(exe.get("context_par_comm_type").asText());
      if (dp % 2 == 0 && dp / 2 * cp > 1 && 2 * tp * (cpOnTier0 ? cp : 1) <= tier0 && kvHeads % (2 * tp) == 0
          && (!a2a || model.get("attn_heads").asInt() % (2 * tp * cp) == 0)
          && expertDataParallel(exe, 2 * tp, cp, dp / 2) > 0) {
        changes.add(Map.entry("TP x 2, DP / 2", e -> {
          e.put("tensor_par", 2 * tp);
          e.put("data_par", dp / 2);
          if (e.get("model_MoE").asBoolean()) {
            e.put("data_par_exp", expertDataParallel(exe, 2 * tp, cp, dp / 2));
          }
        }));
      }
      if (dp % 2 == 0 && (!cpOnTier0 || tp * 2 * cp <= tier0) && model.get("seq_size").asInt() % (4 * cp) == 0
          && (!a2a || model.get("attn_heads").asInt() % (2 * tp * cp) == 0)
          && expertDataParallel(exe, tp, 2 * cp, dp / 2) > 0) {
        changes.add(Map.entry("CP x 2, DP / 2", e -> {
          e.put("context_par", 2 * cp);
          e.put("context_par_net", cpOnTier0 ? 0 : 1);
          e.put("data_par", dp / 2);
          if (e.get("model_MoE").asBoolean()) {
            e.put("data_par_exp", expertDataParallel(exe, tp, 2 * cp, dp / 2));
          }
        }));
      }
      for (Map.Entry<String, Consumer<ObjectNode>> change : changes) {
        tests.add(DynamicTest.dynamicTest(s.label() + ", " + change.getKey(), () -> {
          JsonNode base = llm(s, dir);
          ObjectNode changed = s.executionJson();
          change.getValue().accept(changed);
          Path file = Files.createTempFile(dir, "exe", ".json");
          Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(changed));
          JsonNode after = llm(s, file, dir, change.getKey());
          assertThat(after.get("proc_mem_tier1_cap_req").asDouble()).as(s.label() + ", " + change.getKey())
              .isLessThanOrEqualTo(base.get("proc_mem_tier1_cap_req").asDouble() * (1 + 1e-9));
          if (change.getKey().equals(FULL_RECOMPUTE)) {
            // the forward runs twice: a step cannot get shorter
            assertThat(after.get("total_time").asDouble()).as(s.label() + ", " + change.getKey() + " step seconds")
                .isGreaterThanOrEqualTo(base.get("total_time").asDouble());
          }
        }));
      }
    }
    return tests;
  }

  /**
   * DP_exp that keeps TP x CP x DP = EP x ES x DP_exp (Megatron-Core folds the expert groups over
   * the same ranks); 1 for a dense run, 0 when the product does not divide.
   */
  static int expertDataParallel(JsonNode exe, int tp, int cp, int dp) {
    if (!exe.get("model_MoE").asBoolean()) {
      return 1;
    }
    int experts = exe.get("expert_par").asInt() * exe.get("expert_slice").asInt();
    return (tp * cp * dp) % experts == 0 ? tp * cp * dp / experts : 0;
  }

  /**
   * The brief's example, by hand: Llama 3 70B, TP4 PP4 VP5, distributed optimizer over DP 4, on
   * 64 H100 80GB. A block has q and o (8192 x 8192 each), k and v (8192 x 1024 each), the SwiGLU
   * MLP (3 x 8192 x 28672) and two RMSNorm scales: 855,654,400 weights. The first stage holds 20
   * blocks and the 128256 x 8192 embedding (the last one the same size of output layer and one
   * more norm scale), split over TP 4, in bf16: 9.08e9 bytes. Adam's fp32 master weights and two
   * moments (12 bytes each) are sharded over DP 4: 13.6e9 bytes.
   */
  @Test
  void llama70bTp4Pp4Vp5WeightsAndOptimizerByHand(@TempDir Path dir) throws IOException {
    Shape s = corpus().stream().filter(x -> x.label().equals("Llama 3 70B 64 H100 TP4 PP4 VP5 bf16")).findFirst()
        .orElseThrow();
    JsonNode stats = llm(s, dir);
    long block = 2L * 8192 * 8192 + 2L * 8192 * 1024 + 3L * 8192 * 28672 + 2L * 8192;
    assertThat(block).isEqualTo(855_654_400L);
    double stageWeights = (20.0 * block + 128256.0 * 8192) / 4;
    assertThat(stats.get("weight_space").asDouble()).isCloseTo(2 * stageWeights, within(2 * stageWeights * 0.002));
    assertThat(stats.get("optimizer_space").asDouble()).isCloseTo(12 * stageWeights / 4, within(12 * stageWeights / 4 * 0.002));
    assertThat(stats.get("proc_mem_tier1_cap_req").asDouble() / GIB).isLessThan(80.0);
  }
}
