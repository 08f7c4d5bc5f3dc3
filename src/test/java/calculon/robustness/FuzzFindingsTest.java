package calculon.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Findings of a longer fuzz run (1,000,000 configurations, seed 777) that the CI-sized run does
 * not reach, kept as fixed cases built from the golden cases they were mutated from.
 */
class FuzzFindingsTest {

  static Stats evaluate(String goldenId, Consumer<ObjectNode> editExecution, Consumer<ObjectNode> editSystem,
                        ModelVersion v) throws Exception {
    JsonNode c = Seeds.JSON.readTree(Path.of("src/test/resources/goldens/public/cases", goldenId + ".json").toFile());
    ObjectNode exeJson = c.get("execution").deepCopy();
    ObjectNode sysJson = c.get("system").deepCopy();
    editExecution.accept(exeJson);
    editSystem.accept(sysJson);
    Application app = ApplicationReader.read((ObjectNode) c.get("model"), "model.json");
    Execution exe = ExecutionReader.read(exeJson, "execution.json");
    SystemSpec sys = SystemReader.read(sysJson, "system.json");
    RunChecks.check(app, exe, sys, "model.json", "execution.json", "system.json");
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), v, false);
  }

  /**
   * 2^31 - 1 microbatches (megatron-22B, PP 8, interleaving 2): the pipeline's p2p time grows in
   * proportion to the microbatches; the count times the chunks overflowed an int and came out
   * negative.
   */
  @ParameterizedTest
  @EnumSource(ModelVersion.class)
  void pipelineTimeOfTwoBillionMicrobatchesDoesNotOverflow(ModelVersion v) throws Exception {
    String id = "rand-dense-0044-megatron-22B-Fullflat.moe";
    Stats huge = evaluate(id, e -> e.put("batch_size", Integer.MAX_VALUE), s -> { }, v);
    Stats big = evaluate(id, e -> e.put("batch_size", 1 << 30), s -> { }, v);
    assertThat(huge.get(StatField.PP_COMM_LINK_TIME) / big.get(StatField.PP_COMM_LINK_TIME))
        .isCloseTo((double) Integer.MAX_VALUE / (1 << 30), within(1e-9));
  }

  /**
   * A matrix unit so fast (1e9 TFLOP/s) that the forward window left for offloading is empty: a
   * run that offloads nothing needs no offload bandwidth (the reference computes 0 / 0 = NaN).
   */
  @ParameterizedTest
  @EnumSource(ModelVersion.class)
  void nothingToOffloadNeedsNoBandwidthEvenWithoutAWindow(ModelVersion v) throws Exception {
    Stats s = evaluate("rand-dense-0285-anthropic-52B-synthetic-a100_80g_roofline_bf16_fp32-try1.moe",
        e -> { }, sys -> ((ObjectNode) sys.get("matrix").get("float16")).put("tflops", 1e9), v);
    assertThat(s.get(StatField.OFFLOAD_MEM_BW_REQ)).isZero();
  }
}
