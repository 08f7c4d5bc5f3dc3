package calculon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A misspelt enumerated value gets the same "did you mean" as a misspelt key
 * ({@link NearMiss#didYouMean}: the closest allowed name within the unknown-key edit distance),
 * and a value far from every allowed one gets none.
 */
class EnumSuggestionTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TP_OVERLAPS =
      "\"none\", \"ring\", \"pipe\", \"async_tp\", \"backward\", \"userbuffers\"";

  private static ObjectNode exe() throws IOException {
    return (ObjectNode) JSON.readTree(Paths.get("examples/megatron_1T_training_4096_original.json").toFile());
  }

  private static ObjectNode sys() throws IOException {
    return (ObjectNode) JSON.readTree(Paths.get("systems/a100_80g.json").toFile());
  }

  private static ObjectNode model() {
    return JSON.createObjectNode().put("hidden", 64).put("feedforward", 256).put("seq_size", 16)
        .put("attn_heads", 2).put("attn_size", 32).put("num_blocks", 1);
  }

  @Test
  void aNearMissNamesTheCloseValue() throws IOException {
    ObjectNode e = exe().put("tensor_par_overlap", "userbufers");
    assertThatThrownBy(() -> ExecutionReader.read(e, "exe.json")).isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: tensor_par_overlap: must be one of " + TP_OVERLAPS
            + ", got \"userbufers\" (did you mean \"userbuffers\"?)");
  }

  @Test
  void aFarMissHasNoSuggestion() throws IOException {
    ObjectNode e = exe().put("tensor_par_overlap", "overlapped");
    assertThatThrownBy(() -> ExecutionReader.read(e, "exe.json")).isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: tensor_par_overlap: must be one of " + TP_OVERLAPS + ", got \"overlapped\"");
  }

  @Test
  void aNonStringValueListsTheChoicesWithoutSuggestion() throws IOException {
    ObjectNode e = exe().put("tensor_par_overlap", 3);
    assertThatThrownBy(() -> ExecutionReader.read(e, "exe.json")).isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: tensor_par_overlap: must be a string (one of " + TP_OVERLAPS + "), got 3");
  }

  @Test
  void aListItemNamesItsIndexAndTheCloseValue() throws IOException {
    ObjectNode e = exe();
    e.putArray("recompute_modules").add("mlp").add("layrnorm");
    assertThatThrownBy(() -> ExecutionReader.read(e, "exe.json")).isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: recompute_modules[1]: must be one of \"core_attn\", \"layernorm\", \"mlp\", "
            + "\"moe_act\", \"moe\", \"shared_experts\", \"mla_up_proj\", \"op_sac\", got \"layrnorm\" "
            + "(did you mean \"layernorm\"?)");
  }

  @Test
  void aMisspeltProcessorDatatypeNamesTheCloseOne() throws IOException {
    ObjectNode s = sys();
    ObjectNode matrix = (ObjectNode) s.get("matrix");
    matrix.set("flaot16", matrix.remove("float16"));
    assertThatThrownBy(() -> SystemReader.read(s, "sys.json")).isInstanceOf(ConfigError.class)
        .hasMessage("sys.json: matrix.flaot16: unknown datatype (known: float4, float8, float16, bfloat16, "
            + "float32) (did you mean \"float16\"?)");
  }

  /**
   * The datatypes' common short names (Megatron-LM's --bf16/--fp16/--fp8-format spellings) are
   * four or more edits from the full names, so only the alias table suggests them; they are not
   * accepted, and an alias whose datatype is not among the allowed names suggests nothing.
   */
  @Test
  void aDatatypeAliasNamesTheFullName() throws IOException {
    ObjectNode e = exe().put("datatype", "bf16");
    assertThatThrownBy(() -> ExecutionReader.read(e, "exe.json")).isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: datatype: must be one of \"float4\", \"float8\", \"float16\", \"bfloat16\", "
            + "\"float32\", got \"bf16\" (did you mean \"bfloat16\"?)");
    ObjectNode s = sys();
    ObjectNode matrix = (ObjectNode) s.get("matrix");
    matrix.set("FP16", matrix.remove("float16"));
    assertThatThrownBy(() -> SystemReader.read(s, "sys.json")).isInstanceOf(ConfigError.class)
        .hasMessage("sys.json: matrix.FP16: unknown datatype (known: float4, float8, float16, bfloat16, "
            + "float32) (did you mean \"float16\"?)");
    List<String> datatypes = Datatype.jsonNames();
    assertThat(NearMiss.closest("fp8", datatypes)).isEqualTo("float8");
    assertThat(NearMiss.closest("fp32", datatypes)).isEqualTo("float32");
    assertThat(NearMiss.closest("fp4", datatypes)).isEqualTo("float4");
    assertThat(NearMiss.closest("bf16", List.of("float16", "float32"))).isNull();
  }

  @Test
  void keysAndValuesShareOneClosenessRule() {
    List<String> names = List.of("none", "ring", "pipe", "async_tp", "backward", "userbuffers");
    // edit distance 1 within max(1, 10/3) = 3
    assertThat(NearMiss.didYouMean("userbufers", names)).isEqualTo(" (did you mean \"userbuffers\"?)");
    // two adjacent letters swapped count one edit (optimal string alignment): "rnig" is 1 from
    // "ring", within max(1, 4/3) = 1 (Levenshtein counts 2); "irgn" is 2 (two swaps), too far
    assertThat(NearMiss.didYouMean("rnig", names)).isEqualTo(" (did you mean \"ring\"?)");
    assertThat(NearMiss.didYouMean("gird", List.of("models", "systems", "grid", "search"))).isEqualTo(" (did you mean \"grid\"?)");
    assertThat(NearMiss.didYouMean("irgn", names)).isEmpty();
    assertThat(NearMiss.didYouMean("RING", names)).isEqualTo(" (did you mean \"ring\"?)");
    // one edit from both "flash2" and "flash3": a tie names neither
    assertThat(NearMiss.didYouMean("flash4", List.of("cudnn", "flash2", "flash3"))).isEmpty();
    assertThat(NearMiss.didYouMean("flsh3", List.of("cudnn", "flash2", "flash3"))).isEqualTo(" (did you mean \"flash3\"?)");
    // an abbreviation, too far by edits: the one name sharing its longest prefix (9 of 10 here)
    List<String> keys = List.of("flash_attention", "attention_kernel", "fp8_recipe", "tensor_par", "tensor_par_net");
    assertThat(NearMiss.didYouMean("flash_attn", keys)).isEqualTo(" (did you mean \"flash_attention\"?)");
    // a prefix two names share is a tie; a short one (5 < 6) names none
    assertThat(NearMiss.didYouMean("tensor_parallel", keys)).isEmpty();
    assertThat(NearMiss.didYouMean("flashy", keys)).isEmpty();
  }

  private static <E> List<String> names(E[] values, Function<E, String> name) {
    List<String> out = new ArrayList<>();
    for (E v : values) {
      out.add(name.apply(v));
    }
    return out;
  }

  /** Every enumerated key, with its allowed values: a value in the wrong case must name itself. */
  static Stream<Arguments> enumeratedKeys() {
    List<Arguments> out = new ArrayList<>();
    List<String> datatypes = names(Datatype.values(), d -> d.jsonName);
    for (String k : List.of("datatype", "moe_dispatch_datatype")) {
      out.add(Arguments.of("exe", k, datatypes));
    }
    for (String k : Precision.KEYS) {
      out.add(Arguments.of("exe", k, datatypes));
    }
    out.add(Arguments.of("exe", "attention_type", names(AttentionType.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "activation_recompute", names(Recompute.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "tensor_par_comm_type", names(TpCommType.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "tensor_par_overlap", names(TpOverlap.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "context_par_comm_type", names(CpCommType.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "pipeline_schedule",
        names(PipelineScheduleKind.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "moe_dispatcher", names(MoeDispatcher.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "loss_kernel", names(LossKernel.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "context_par_impl", names(ContextParallelImpl.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "fsdp_impl", names(FsdpImpl.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "optimizer_kernel", names(OptimizerKernel.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", Precision.FP8_RECIPE_KEY, names(Fp8Recipe.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "activation_function",
        names(ActivationFunction.values(), x -> x.jsonName)));
    out.add(Arguments.of("exe", "elementwise_kernels", List.of("fused", "eager")));
    out.add(Arguments.of("sys", "processing_mode", names(ProcessingMode.values(), x -> x.jsonName)));
    out.add(Arguments.of("model", "mlp", names(Architecture.MlpKind.values(), x -> x.jsonName)));
    out.add(Arguments.of("model", "norm", names(Architecture.Norm.values(), x -> x.jsonName)));
    out.add(Arguments.of("model", "position_embedding", List.of("learned", "rope")));
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("enumeratedKeys")
  void aValueInTheWrongCaseNamesItself(String role, String key, List<String> values) throws IOException {
    for (String v : values) {
      String typo = v.toUpperCase();
      ObjectNode node = role.equals("exe") ? exe() : role.equals("sys") ? sys() : model();
      node.put(key, typo);
      String file = role + ".json";
      ConfigError err = catchThrowableOfType(() -> read(role, node, file), ConfigError.class);
      assertThat(err).as("%s = %s", key, typo).isNotNull();
      assertThat(err.getMessage()).startsWith(file + ": " + key + ": must be one of ")
          .endsWith(", got \"" + typo + "\" (did you mean \"" + v + "\"?)");
    }
  }

  private static void read(String role, JsonNode node, String file) throws ConfigError {
    switch (role) {
      case "exe" -> ExecutionReader.read(node, file);
      case "sys" -> SystemReader.read(node, file);
      default -> ApplicationReader.read(node, file);
    }
  }
}
