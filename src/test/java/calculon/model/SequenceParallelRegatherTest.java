package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import calculon.stats.ExecutionDict;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Megatron-Core's two TP overlap modes gather a sequence-parallel input again in the backward pass
 * whatever {@code seq_par_ag_redo} says ({@link BlockBuilder#redoesSequenceParallelGather}):
 * {@code LinearWithGradAccumulationAndAsyncCommunication} saves the 1/TP shard and re-gathers it,
 * Transformer Engine's {@code LayerNormLinear} re-gathers its {@code ln_out}. On the Nemotron-4 15B
 * run of the validation table (TP 8, SP, 4,096 tokens, microbatch 1), which says
 * {@code seq_par_ag_redo: true}, the same file with {@code false} must run the same.
 */
class SequenceParallelRegatherTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/nemotron-4-15B.json"),
      EXE = Path.of("validation/modern/nemotron4_15B_768gpu.json"),
      SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");

  static Execution exe(String overlap, boolean redo) throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(EXE.toFile());
    node.put("tensor_par_overlap", overlap);
    node.put("seq_par_ag_redo", redo);
    return ExecutionReader.read(node, EXE.toString());
  }

  static Stats run(String overlap, boolean redo) throws Exception {
    Application app = ApplicationReader.read(MODEL);
    Execution e = exe(overlap, redo);
    SystemSpec sys = SystemReader.read(SYSTEM);
    return Evaluator.evaluate(app, e, new Hardware(sys, e.datatype()), ModelVersion.CORRECTED, false);
  }

  @ParameterizedTest
  @ValueSource(strings = {"backward", "userbuffers"})
  void theModeRedoesTheGatherWhateverTheFlagSays(String overlap) throws Exception {
    Stats asked = run(overlap, true);
    Stats notAsked = run(overlap, false);
    for (StatField f : StatField.values()) {
      assertThat(notAsked.get(f)).as(f.key).isEqualTo(asked.get(f));
    }
    assertThat(ExecutionDict.asRun(exe(overlap, false), null, null, ModelVersion.CORRECTED))
        .containsEntry("seq_par_ag_redo", true);
  }

  /**
   * By hand: without the redo a block stores, besides the 1/TP shard every mode keeps, the whole
   * gathered input of its two column-parallel projections (QKV, MLP up): 2 x T x H x 2 bytes =
   * 2 x 4,096 x 6,144 x 2 = 100,663,296 bytes per block. {@code none} (Calculon's mode) still
   * stores it when the file says {@code false}; {@code backward} no longer does.
   */
  @Test
  void backwardStoresOnlyTheShard() throws Exception {
    double gathered = 2.0 * 4096 * 6144 * 2;
    double none = run("none", false).get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double backward = run("backward", false).get(StatField.BLOCK_ACT_STORAGE_SPACE);
    assertThat(none - backward).isEqualTo(gathered);
    assertThat(run("none", true).get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(backward);
    assertThat(ExecutionDict.asRun(exe("none", false), null, null, ModelVersion.CORRECTED))
        .containsEntry("seq_par_ag_redo", false);
  }

  /** Calculon-MoE reads the flag alone (its summary too). */
  @Test
  void calculonMoeKeepsTheFlag() throws Exception {
    Execution e = exe("none", false);
    assertThat(BlockBuilder.redoesSequenceParallelGather(e, ModelVersion.CALCULON_MOE)).isFalse();
    assertThat(ExecutionDict.asRun(exe("backward", false), null, null, ModelVersion.CALCULON_MOE))
        .containsEntry("seq_par_ag_redo", false);
  }
}
