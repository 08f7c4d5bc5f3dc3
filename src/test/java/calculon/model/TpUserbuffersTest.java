package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Transformer Engine's userbuffers TP overlap with its default configuration
 * ({@code tensor_par_overlap: userbuffers}; {@code initialize_ub}): ring exchange for the
 * all-gathers (as {@code ring}), a 4-split pipeline for the row-parallel forward reduce-scatter and
 * bulk transfers beside the other backward matmul for the column-parallel backward, each matmul a
 * pipelined or bulk transfer runs beside launched without 16 of the H100's 132 SMs. Hand-derived on
 * each layer of the Nemotron-4 15B block of the validation table (TP 8, sequence parallel with the
 * re-all-gather, H100 DGX).
 */
class TpUserbuffersTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/nemotron-4-15B.json"),
      EXE = Path.of("validation/modern/nemotron4_15B_768gpu.json"),
      SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");
  /** The share of SMs a matmul loses beside a pipelined or bulk transfer: 16 of 132. */
  static final double MARGIN = 1 - 16.0 / 132;

  static Execution exe(String overlap) throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(EXE.toFile());
    node.put("tensor_par_overlap", overlap);
    return ExecutionReader.read(node, EXE.toString());
  }

  static Hardware hw(Execution e) throws Exception {
    return new Hardware(SystemReader.read(SYSTEM), e.datatype());
  }

  static List<Layer> block(String overlap) throws Exception {
    Execution e = exe(overlap);
    return BlockBuilder.build(ApplicationReader.read(MODEL), e, hw(e), ModelVersion.CORRECTED);
  }

  static Layer named(List<Layer> layers, String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
  }

  /** Time of pass {@code s}, then the exposure it leaves (the layer remembers the last pass's). */
  static double[] pass(Layer l, Stage s) {
    double time = l.processingTime(s);
    return new double[] {time, l.exposedNetTime(s, true)};
  }

  @Test
  void allGathersRunAsRingExchange() throws Exception {
    List<Layer> ub = block("userbuffers"), ring = block("ring");
    for (String name : List.of("AttnBlock_QKV_AG", "MlpBlock_Mlp1_AG")) {
      assertThat(pass(named(ub, name), Stage.FW)).as(name).containsExactly(pass(named(ring, name), Stage.FW));
    }
    for (String name : List.of("AttnBlock_MLP_RS", "MlpBlock_Mlp2_RS")) {
      assertThat(pass(named(ub, name), Stage.AGRAD)).as(name).containsExactly(pass(named(ring, name), Stage.AGRAD));
    }
  }

  @Test
  void theForwardReduceScatterIsPipelinedInFourSplitsBesideASlowerMatmul() throws Exception {
    Hardware hw = hw(exe("userbuffers"));
    List<Layer> ub = block("userbuffers");
    for (String name : List.of("AttnBlock_MLP_RS", "MlpBlock_Mlp2_RS")) {
      Layer l = named(ub, name);
      double chunk = hw.processingTime(l.flopsTime(Stage.FW) / MARGIN, l.memTime(Stage.FW)) / 4;
      double net = l.netTime(Stage.FW, true);
      assertThat(net).isPositive();
      double[] t = pass(l, Stage.FW);
      assertThat(t[0]).as(name).isCloseTo(4 * chunk, within(1e-15));
      assertThat(t[1]).as(name).isCloseTo(net / 4 + 3 * Math.max(0, net / 4 - chunk), within(1e-15));
      // the last split's reduce-scatter is always exposed
      assertThat(t[1]).isGreaterThanOrEqualTo(net / 4);
    }
  }

  @Test
  void theColumnParallelBackwardTransfersRunBesideTheOtherMatmul() throws Exception {
    Hardware hw = hw(exe("userbuffers"));
    List<Layer> ub = block("userbuffers");
    for (String name : List.of("AttnBlock_QKV_AG", "MlpBlock_Mlp1_AG")) {
      Layer l = named(ub, name);
      double reduceScatter = l.netTime(Stage.AGRAD, true), regather = l.netTime(Stage.WGRAD, true);
      assertThat(reduceScatter).isPositive();
      assertThat(regather).isPositive();  // seq_par_ag_redo: the input is all-gathered again
      double[] dgrad = pass(l, Stage.AGRAD);
      assertThat(dgrad[0]).isCloseTo(hw.processingTime(l.flopsTime(Stage.AGRAD) / MARGIN, l.memTime(Stage.AGRAD)), within(1e-15));
      assertThat(dgrad[1]).isCloseTo(Math.max(0, reduceScatter - l.flopsTime(Stage.WGRAD) / MARGIN), within(1e-15));
      double[] wgrad = pass(l, Stage.WGRAD);
      assertThat(wgrad[0]).isCloseTo(hw.processingTime(l.flopsTime(Stage.WGRAD) / MARGIN, l.memTime(Stage.WGRAD)), within(1e-15));
      assertThat(wgrad[1]).isCloseTo(Math.max(0, regather - l.flopsTime(Stage.AGRAD) / MARGIN), within(1e-15));
    }
  }

  @Test
  void theStepLiesBetweenNoOverlapAndTheFullRing() throws Exception {
    Application app = ApplicationReader.read(MODEL);
    double[] step = new double[3];
    String[] modes = {"none", "userbuffers", "ring"};
    for (int i = 0; i < 3; i++) {
      Execution e = exe(modes[i]);
      step[i] = Evaluator.evaluate(app, e, hw(e), ModelVersion.CORRECTED, false).get(StatField.TOTAL_TIME);
    }
    assertThat(step[1]).isLessThan(step[0]).isGreaterThan(step[2]);
  }

  /** The block with the system file's {@code streaming_multiprocessors} set to {@code sms} (null: removed). */
  static List<Layer> blockWithSms(Integer sms) throws Exception {
    ObjectNode sys = (ObjectNode) JSON.readTree(SYSTEM.toFile());
    if (sms == null) {
      sys.remove("streaming_multiprocessors");
    } else {
      sys.put("streaming_multiprocessors", sms);
    }
    Execution e = exe("userbuffers");
    return BlockBuilder.build(ApplicationReader.read(MODEL), e,
        new Hardware(SystemReader.read(sys, SYSTEM.toString()), e.datatype()), ModelVersion.CORRECTED);
  }

  @Test
  void theSmShareFollowsTheSystemsStreamingMultiprocessors() throws Exception {
    Execution e = exe("userbuffers");
    Hardware hw = hw(e);
    Layer b200Like = named(blockWithSms(148), "MlpBlock_Mlp2_RS");
    double chunk = hw.processingTime(b200Like.flopsTime(Stage.FW) / (1 - 16.0 / 148), b200Like.memTime(Stage.FW)) / 4;
    assertThat(pass(b200Like, Stage.FW)[0]).isCloseTo(4 * chunk, within(1e-15));
    // no key: an H100's 132, the shipped H100 file's value
    assertThat(pass(named(blockWithSms(null), "MlpBlock_Mlp2_RS"), Stage.FW))
        .containsExactly(pass(named(block("userbuffers"), "MlpBlock_Mlp2_RS"), Stage.FW));
  }

  @Test
  void aSystemWithTooFewSmsForUserbuffersIsRefusedInOneLine() throws Exception {
    ObjectNode sys = (ObjectNode) JSON.readTree(SYSTEM.toFile());
    sys.put("streaming_multiprocessors", 16);
    Execution e = exe("userbuffers");
    assertThatThrownBy(() -> RunChecks.check(ApplicationReader.read(MODEL), e,
        SystemReader.read(sys, "sys.json"), MODEL.toString(), EXE.toString(), "sys.json"))
        .hasMessage("sys.json: streaming_multiprocessors: must be more than the 16 SMs tensor_par_overlap "
            + "\"userbuffers\" gives its communication (" + EXE + "), got 16");
    sys.put("streaming_multiprocessors", 0);
    assertThatThrownBy(() -> SystemReader.read(sys, "sys.json"))
        .hasMessage("sys.json: streaming_multiprocessors: must be a positive integer, got 0");
    sys.put("streaming_multiprocessors", 1.5);
    assertThatThrownBy(() -> SystemReader.read(sys, "sys.json"))
        .hasMessage("sys.json: streaming_multiprocessors: must be an integer, got 1.5");
  }

  @Test
  void itNeedsSequenceParallelismAsMegatronDoes() throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(EXE.toFile());
    node.put("tensor_par_overlap", "userbuffers");
    node.put("tensor_par_comm_type", "ar");
    node.put("seq_par_ag_redo", false);
    assertThatThrownBy(() -> ExecutionReader.read(node, "e.json"))
        .hasMessage("e.json: tensor_par_overlap: \"userbuffers\" needs sequence parallelism "
            + "(tensor_par_comm_type \"rs_ag\"), got \"ar\"");
  }
}
