package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Megatron-Core's backward TP overlap ({@code tensor_par_overlap: backward};
 * {@code LinearWithGradAccumulationAndAsyncCommunication}) on the Nemotron-4 15B run of the
 * validation table (TP 8, sequence parallel, 4,096 tokens, microbatch 1): a column-parallel input's
 * re-all-gather runs beside the input-gradient matmuls of the projections it feeds and its
 * input-gradient reduce-scatter beside their weight-gradient matmuls; nothing else changes.
 */
class TpBackwardOverlapTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/nemotron-4-15B.json"),
      EXE = Path.of("validation/modern/nemotron4_15B_768gpu.json"),
      SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");

  static Execution exe(String overlap) throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(EXE.toFile());
    node.put("tensor_par_overlap", overlap);
    return ExecutionReader.read(node, EXE.toString());
  }

  static List<Layer> block(String overlap) throws Exception {
    Application app = ApplicationReader.read(MODEL);
    Execution e = exe(overlap);
    return BlockBuilder.build(app, e, new Hardware(SystemReader.read(SYSTEM), e.datatype()), ModelVersion.CORRECTED);
  }

  static Stats run(String overlap) throws Exception {
    Application app = ApplicationReader.read(MODEL);
    Execution e = exe(overlap);
    SystemSpec sys = SystemReader.read(SYSTEM);
    return Evaluator.evaluate(app, e, new Hardware(sys, e.datatype()), ModelVersion.CORRECTED, false);
  }

  static Layer named(List<Layer> layers, String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void theMlpInputsCollectivesHideBehindTheUpProjectionsBackwardMatmuls() throws Exception {
    List<Layer> layers = block("backward");
    Layer f = named(layers, "MlpBlock_F");
    Layer up = named(layers, "MlpBlock_Mlp1");
    // reduce-scatter of the input gradient beside the weight-gradient matmul
    double rs = f.netTime(Stage.AGRAD, true);
    assertThat(rs).isPositive();
    assertThat(f.exposedNetTime(Stage.AGRAD, true))
        .isCloseTo(Math.max(0, rs - up.processingTime(Stage.WGRAD)), within(1e-15));
    // sequence-parallel re-all-gather beside the input-gradient matmul
    double ag = f.netTime(Stage.WGRAD, true);
    assertThat(ag).isPositive();
    assertThat(f.exposedNetTime(Stage.WGRAD, true))
        .isCloseTo(Math.max(0, ag - up.processingTime(Stage.AGRAD)), within(1e-15));
    // the forward all-gather and the row-parallel side stay exposed, as with none
    assertThat(f.exposedNetTime(Stage.FW, true)).isEqualTo(f.netTime(Stage.FW, true));
    Layer g = named(layers, "MlpBlock_G");
    assertThat(g.exposedNetTime(Stage.AGRAD, true)).isEqualTo(g.netTime(Stage.AGRAD, true));
  }

  @Test
  void theAttentionInputHidesBehindAllThreeProjections() throws Exception {
    List<Layer> layers = block("backward");
    Layer f = named(layers, "AttnBlock_F");
    double wgrad = 0, dgrad = 0;
    for (String p : List.of("AttnBlock_Query", "AttnBlock_Key", "AttnBlock_Value")) {
      wgrad += named(layers, p).processingTime(Stage.WGRAD);
      dgrad += named(layers, p).processingTime(Stage.AGRAD);
    }
    assertThat(f.exposedNetTime(Stage.AGRAD, true))
        .isCloseTo(Math.max(0, f.netTime(Stage.AGRAD, true) - wgrad), within(1e-15));
    assertThat(f.exposedNetTime(Stage.WGRAD, true))
        .isCloseTo(Math.max(0, f.netTime(Stage.WGRAD, true) - dgrad), within(1e-15));
  }

  @Test
  void onlyExposureChangesNotSizesFlopsOrLinkTime() throws Exception {
    Stats none = run("none");
    Stats backward = run("backward");
    for (StatField f : List.of(StatField.BLOCK_FW_FLOPS, StatField.BLOCK_AGRAD_FLOPS, StatField.FW_TIME,
        StatField.BW_TIME, StatField.TP_COMM_LINK_TIME, StatField.PROC_MEM_TIER1_CAP_REQ)) {
      assertThat(backward.get(f)).as(f.key).isEqualTo(none.get(f));
    }
    assertThat(backward.get(StatField.TP_COMM_EXPOSED_TIME)).isLessThan(none.get(StatField.TP_COMM_EXPOSED_TIME));
    assertThat(backward.get(StatField.RECOMM_EXPOSED_TIME)).isLessThan(none.get(StatField.RECOMM_EXPOSED_TIME));
    assertThat(backward.get(StatField.TOTAL_TIME)).isLessThan(none.get(StatField.TOTAL_TIME));
  }

  /** Calculon-MoE has neither Megatron-Core's backward overlap nor TE's userbuffers ({@link TpUserbuffersTest}). */
  @ParameterizedTest
  @ValueSource(strings = {"backward", "userbuffers"})
  void calculonMoeHasNoSuchMode(String overlap) throws Exception {
    // with Calculon-MoE's GeLU MLP, so that the overlap is the only key it lacks
    ObjectNode model = (ObjectNode) JSON.readTree(MODEL.toFile());
    model.put("mlp", "gelu");
    Application app = ApplicationReader.read(model, MODEL.toString());
    Execution e = exe(overlap);
    SystemSpec sys = SystemReader.read(SYSTEM);
    assertThatThrownBy(() -> Evaluator.evaluate(app, e, new Hardware(sys, e.datatype()), ModelVersion.CALCULON_MOE, false))
        .isInstanceOf(Infeasible.class).hasMessageContaining("\"" + overlap + "\" needs the corrected model");
  }
}
