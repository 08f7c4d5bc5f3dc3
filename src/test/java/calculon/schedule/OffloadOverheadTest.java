package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ConfigReader;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The offload overhead (reference llm.py: offload seconds plus the block's HBM seconds beyond the
 * block's time) exists only where something is offloaded. A long-context block whose flash
 * attention is priced at its measured kernel rate ({@code attention_kernels}) estimates more HBM
 * seconds than its time; without offload the corrected model must charge no overhead for that.
 */
class OffloadOverheadTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/llama3-8B.json"),
      EXE = Path.of("validation/modern/titan_8B_cp4_seq131072.json"),
      SYSTEM = Path.of("systems/H100_SXM_96g_hbm2e_dense.json");

  static Stats run(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode model = (ObjectNode) JSON.readTree(MODEL.toFile());
    model.put("seq_size", 131072);
    Application app = ConfigReader.readApplication(model, MODEL.toString());
    ObjectNode node = (ObjectNode) JSON.readTree(EXE.toFile());
    edit.accept(node);
    Execution exe = ConfigReader.readExecution(node, EXE.toString());
    SystemSpec sys = ConfigReader.readSystem(SYSTEM);
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CORRECTED, false);
  }

  @Test
  void noOffloadNoOverheadEvenWhereTheBlocksHbmSecondsExceedItsTime() throws Exception {
    Stats s = run(e -> { });
    // the precondition that made the reference formula charge an overhead here
    assertThat(s.get(StatField.BLOCK_FW_MEM_TIME)).isGreaterThan(s.get(StatField.BLOCK_FW_TIME));
    assertThat(s.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isZero();
    assertThat(s.get(StatField.BW_OFFLOAD_EXPOSED_TIME)).isZero();
  }

  @Test
  void anOffloadingRunStillPaysTheReferenceOverhead() throws Exception {
    // offloading the weights streams them through HBM beside the block's own traffic: the forward
    // overhead is at least the block's HBM seconds beyond its time (offload seconds >= 0)
    Stats none = run(e -> { });
    Stats offload = run(e -> e.put("weight_offload", true));
    double beyond = offload.get(StatField.BLOCK_FW_MEM_TIME) - offload.get(StatField.BLOCK_FW_TIME);
    assertThat(offload.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isGreaterThan(0);
    assertThat(offload.get(StatField.TOTAL_TIME)).isGreaterThan(none.get(StatField.TOTAL_TIME));
    assertThat(beyond).isGreaterThan(0);
    assertThat(offload.get(StatField.BLOCK_FW_TIME)).isCloseTo(none.get(StatField.BLOCK_FW_TIME), within(1e-12));
  }
}
