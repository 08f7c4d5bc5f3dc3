package calculon.model;

import static calculon.model.ModernBlocksTest.F;
import static calculon.model.ModernBlocksTest.JSON;
import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.inputs;
import static calculon.model.ModernBlocksTest.layer;
import static calculon.model.ModernBlocksTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.RunChecks;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.validation.MegatronFlops;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code mlp: squared_relu} (Nemotron-4: relu(x)^2, two matrices, no gate) on ModernBlocksTest's
 * small model: T = 1,024 tokens, F = 4,096, TP 2, 2-byte activations, so the activation runs over
 * n = T F / TP = 2,097,152 elements per rank. Hand-derived: forward 2 flops per element (max,
 * multiply), backward 3 (2 relu(x) dy); the same stored input and memory traffic as GeLU (8 and
 * 13 flops); the same parameters and the same Megatron flops count.
 */
class SquaredReluTest {
  static final Consumer<ObjectNode> SQUARED = m -> m.put("mlp", "squared_relu");
  static final Consumer<ObjectNode> UNFUSED = e -> e.put("fused_activation", false);
  static final double N = (double) T * F / TP;

  @Test
  void flopsPerElementAreTwoForwardAndThreeBackward() throws Exception {
    Stats.LayerStats sq = layer(run(SQUARED, UNFUSED), "MlpBlock_SquaredReLU");
    assertThat(N).isEqualTo(2_097_152);
    assertThat(sq.get(LayerField.FW_FLOPS)).isEqualTo(4_194_304);     // 2 n
    assertThat(sq.get(LayerField.AGRAD_FLOPS)).isEqualTo(6_291_456);  // 3 n
    Stats.LayerStats gelu = layer(run(m -> { }, UNFUSED), "MlpBlock_GeLU");
    assertThat(gelu.get(LayerField.FW_FLOPS)).isEqualTo(8 * N);
    assertThat(gelu.get(LayerField.AGRAD_FLOPS)).isEqualTo(13 * N);
  }

  @Test
  void memoryIsGelusTheInputStoredAndReadAndWrittenOncePerPass() throws Exception {
    Stats.LayerStats sq = layer(run(SQUARED, UNFUSED), "MlpBlock_SquaredReLU");
    Stats.LayerStats gelu = layer(run(m -> { }, UNFUSED), "MlpBlock_GeLU");
    assertThat(sq.get(LayerField.ACTIVATION)).isEqualTo(N * 2).isEqualTo(gelu.get(LayerField.ACTIVATION));
    assertThat(sq.get(LayerField.FW_MEM_ACCESSED)).isEqualTo(2 * N * 2).isEqualTo(gelu.get(LayerField.FW_MEM_ACCESSED));
    // fused into the first matmul it stores nothing, as GeLU
    assertThat(layer(run(SQUARED, e -> e.put("fused_activation", true)), "MlpBlock_SquaredReLU")
        .get(LayerField.ACTIVATION)).isZero();
  }

  @Test
  void onlyTheActivationsFlopsChange() throws Exception {
    Stats sq = run(SQUARED, UNFUSED);
    Stats gelu = run(m -> { }, UNFUSED);
    assertThat(gelu.get(StatField.BLOCK_FW_FLOPS) - sq.get(StatField.BLOCK_FW_FLOPS)).isEqualTo(6 * N);
    assertThat(gelu.get(StatField.BLOCK_AGRAD_FLOPS) - sq.get(StatField.BLOCK_AGRAD_FLOPS)).isEqualTo(10 * N);
    assertThat(sq.get(StatField.BLOCK_WGRAD_FLOPS)).isEqualTo(gelu.get(StatField.BLOCK_WGRAD_FLOPS));
    assertThat(sq.get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(gelu.get(StatField.BLOCK_ACT_STORAGE_SPACE));
    assertThat(sq.get(StatField.BLOCK_WEIGHT_SPACE)).isEqualTo(gelu.get(StatField.BLOCK_WEIGHT_SPACE));
    Application a = (Application) inputs(SQUARED, UNFUSED)[0];
    Application g = (Application) inputs(m -> { }, UNFUSED)[0];
    assertThat(ParameterCount.of(a).total()).isEqualTo(ParameterCount.of(g).total());
    assertThat(MegatronFlops.perStep(a, 8, MegatronFlops.Version.CAUSAL_2025))
        .isEqualTo(MegatronFlops.perStep(g, 8, MegatronFlops.Version.CAUSAL_2025));
  }

  @Test
  void aBadValueIsOneLineNamingTheKey() {
    assertThatThrownBy(() -> ApplicationReader.read(JSON.createObjectNode().put("hidden", 64)
        .put("feedforward", 256).put("seq_size", 16).put("attn_heads", 2).put("attn_size", 32).put("num_blocks", 1)
        .put("mlp", "relu2"), "model.json"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("model.json: mlp: must be one of \"gelu\", \"swiglu\", \"geglu\", \"squared_relu\", got \"relu2\"");
  }

  @Test
  void calculonMoeRefusesItAsAConfigurationErrorNamingTheKey() throws Exception {
    Object[] in = inputs(SQUARED, e -> { });
    Application app = (Application) in[0];
    Execution exe = (Execution) in[1];
    SystemSpec sys = (SystemSpec) in[2];
    assertThatThrownBy(() -> RunChecks.check(app, exe, sys, "model.json", "execution.json", "system.json", true))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("model.json: mlp: \"squared_relu\" needs the corrected model")
        .hasMessageNotContaining("\n");
    // and the evaluator itself never runs it as GeLU
    assertThatThrownBy(() -> Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CALCULON_MOE,
        false)).isInstanceOf(Infeasible.class).hasMessageContaining("squared_relu");
  }
}
