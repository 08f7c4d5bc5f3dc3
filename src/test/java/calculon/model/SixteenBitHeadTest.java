package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.hardware.Processor;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The logits projection stays in 16 bits in a float8 run (Layer.sixteenBitMatmul; Megatron-Core's
 * output_layer is not a Transformer Engine module, torchtitan's Float8 converter skips
 * {@code output}), on ModernBlocksTest's small model with a 32,000-word vocabulary over TP 2.
 */
class SixteenBitHeadTest {
  static final long VOCAB = 32_000;

  static List<Layer> head(Consumer<ObjectNode> execution, ModelVersion version) throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> m.put("vocab_size", VOCAB).put("tied_embeddings", false), execution);
    Execution exe = (Execution) in[1];
    Hardware hw = new Hardware((SystemSpec) in[2], exe.datatype());
    return BlockBuilder.buildWithVocabulary((Application) in[0], exe, hw, version, BlockBuilder.Kind.DENSE, false, true);
  }

  static Layer named(List<Layer> layers, String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
  }

  static SystemSpec system() throws Exception {
    return (SystemSpec) ModernBlocksTest.inputs(m -> { }, e -> { })[2];
  }

  static final Consumer<ObjectNode> FP8 = e -> e.put("datatype", "float8").put("fp8_recipe", "tensorwise")
      .put("weight_datatype", "float8");

  @Test
  void logitsRunAtTheSixteenBitRateWithoutCastsInAFloat8Run() throws Exception {
    List<Layer> layers = head(FP8, ModelVersion.CORRECTED);
    Layer logits = named(layers, "Head_Logits");
    Processor bf16 = new Hardware(system(), Datatype.FLOAT16).matrix();
    Processor fp8 = new Hardware(system(), Datatype.FLOAT8).matrix();
    double flops = logits.flops(Stage.FW);
    assertThat(flops).isEqualTo(2.0 * ModernBlocksTest.T * ModernBlocksTest.H * VOCAB / ModernBlocksTest.TP);
    assertThat(logits.flopsTime(Stage.FW)).isEqualTo(bf16.time(flops)).isGreaterThan(fp8.time(flops));
    assertThat(logits.castBytes(Stage.FW)).isZero();
    assertThat(logits.weight()).isEqualTo(ModernBlocksTest.H * (double) VOCAB / ModernBlocksTest.TP * 2);
    // the blocks' matmuls stay float8, cast and stored in one byte
    Layer query = named(layers, "AttnBlock_Query");
    assertThat(query.flopsTime(Stage.FW)).isEqualTo(fp8.time(query.flops(Stage.FW)));
    assertThat(query.castBytes(Stage.FW)).isPositive();
    assertThat(query.weight()).isEqualTo(query.weightParams() * 1);
  }

  /**
   * Megatron-Core's MoE router is a plain PyTorch matmul outside Transformer Engine
   * (megatron/core/transformer/moe/router.py, TopKRouter.gating): in a Transformer Engine float8
   * run it stays 16-bit and quantizes nothing, while the experts' matmuls run in float8.
   */
  @Test
  void theRouterStaysSixteenBitUnderTransformerEngineFloat8() throws Exception {
    String h100 = "systems/H100_SXM_80g_dense.json";
    List<Layer> moe = TokenUnpermuteTest.block(ModelVersion.CORRECTED,
        e -> e.put("datatype", "float8").put("fp8_recipe", "blockwise"), h100);
    Layer router = named(moe, "RouterBlock_ExpertProjection");
    SystemSpec sys = calculon.config.SystemReader.read(java.nio.file.Path.of(h100));
    Processor bf16 = new Hardware(sys, Datatype.BFLOAT16).matrix();
    // T x H x E = 1,024 x 1,024 x 8, twice
    assertThat(router.flops(Stage.FW)).isEqualTo(2.0 * 1024 * 1024 * 8);
    assertThat(router.flopsTime(Stage.FW)).isEqualTo(bf16.time(router.flops(Stage.FW)));
    assertThat(router.castBytes(Stage.FW)).isZero();
    assertThat(router.castBytes(Stage.AGRAD)).isZero();
    // the expert MLP's first matmul is float8 (faster than the same grouped GEMM, one product per
    // local expert, at the 16-bit rate) and quantizes its dispatched input (block scaling)
    Layer expert = moe.stream().filter(l -> l.name().contains("Mlp1")).findFirst().orElseThrow();
    double groups = expert.gemmGroups;
    assertThat(expert.flopsTime(Stage.FW)).isLessThan(groups * bf16.time(expert.flops(Stage.FW) / groups));
    assertThat(expert.castBytes(Stage.FW)).isPositive();
  }

  @Test
  void calculonMoeRunsEveryMatmulInTheRunsDatatype() throws Exception {
    Layer logits = named(head(e -> e.put("datatype", "float8"), ModelVersion.CALCULON_MOE), "Head_Logits");
    Processor fp8 = new Hardware(system(), Datatype.FLOAT8).matrix();
    assertThat(logits.flopsTime(Stage.FW)).isEqualTo(fp8.time(logits.flops(Stage.FW)));
  }

  @Test
  void aSixteenBitRunIsUnchanged() throws Exception {
    Layer logits = named(head(e -> { }, ModelVersion.CORRECTED), "Head_Logits");
    Processor bf16 = new Hardware(system(), Datatype.FLOAT16).matrix();
    assertThat(logits.flopsTime(Stage.FW)).isEqualTo(bf16.time(logits.flops(Stage.FW)));
  }
}
