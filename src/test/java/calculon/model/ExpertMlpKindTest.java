package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Architecture.MlpKind;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which MLP the experts compute ({@link BlockBuilder#expertMlp}, what the summary's expert_mlp
 * says): a gated model file's mlp decides; for a Calculon-MoE model (no mlp key: GeLU) the
 * execution's activation_function silu makes SwiGLU experts (spec.md "MoE MLP"). The layers
 * built follow it: a gated expert's first projection is twice as wide (gate and up).
 */
class ExpertMlpKindTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static Application model(String mlp) throws Exception {
    ObjectNode m = (ObjectNode) MAPPER.readTree(Path.of("models/gpt-1.8T.json").toFile());
    if (mlp != null) {
      m.put("mlp", mlp);
    }
    return ApplicationReader.read(m, "gpt-1.8T.json");
  }

  private static Execution execution(String activation) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/gpt_1.8_training_4096.json").toFile());
    e.put("activation_function", activation);
    return ExecutionReader.read(e, "gpt_1.8_training_4096.json");
  }

  @Test
  void theGatedModelFileDecidesElseActivationFunction() throws Exception {
    assertThat(BlockBuilder.expertMlp(model(null), execution("gelu"))).isEqualTo(MlpKind.GELU);
    assertThat(BlockBuilder.expertMlp(model(null), execution("silu"))).isEqualTo(MlpKind.SWIGLU);
    assertThat(BlockBuilder.expertMlp(model("swiglu"), execution("gelu"))).isEqualTo(MlpKind.SWIGLU);
    assertThat(BlockBuilder.expertMlp(model("geglu"), execution("silu"))).isEqualTo(MlpKind.GEGLU);
    assertThat(BlockBuilder.expertMlp(model("gelu"), execution("silu"))).isEqualTo(MlpKind.SWIGLU);
  }

  @Test
  void theExpertLayersFollowTheKind() throws Exception {
    SystemSpec sys = SystemReader.read(Path.of("systems/H100_80g_sxm.json"));
    Execution gelu = execution("gelu");
    Hardware hw = new Hardware(sys, gelu.datatype());
    List<String> plain = names(BlockBuilder.build(model(null), gelu, hw, ModelVersion.CORRECTED));
    assertThat(plain).contains("MlpBlock_GeLU_MoE").doesNotContain("MlpBlock_SwiGLU_MoE");
    List<String> gated = names(BlockBuilder.build(model("swiglu"), gelu, hw, ModelVersion.CORRECTED));
    assertThat(gated).contains("MlpBlock_SwiGLU_MoE").doesNotContain("MlpBlock_GeLU_MoE");
  }

  private static List<String> names(List<Layer> layers) {
    return layers.stream().map(Layer::name).toList();
  }
}
