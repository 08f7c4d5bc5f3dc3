package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Full recompute on uneven pipeline stages by hand: each stage keeps the checkpoints of its own
 * blocks (Megatron-Core's {@code TransformerBlock._checkpointed_forward} keeps one input per
 * checkpointed layer of its stage, {@code num_layers_per_pipeline_rank}), not one per block slot.
 * The small model (h 1024, seq 4096, bf16, TP 1, no sequence parallelism) checkpoints a block's
 * input, 1 x 4096 x 1024 x 2 B = 8 MiB per microbatch. 16 blocks on PP 4 split 2/6/6/2 (6 slots),
 * 8 microbatches under 1F1B: stage k holds 4 - k in flight.
 */
class StageCheckpointTest {
  static final String DIR = "per-stage-inflight";
  static final double CHECKPOINT_BYTES = 1.0 * 4096 * 1024 * 2;
  static final int SLOTS = 6;

  static Execution unevenFull() throws Exception {
    Path e = FaultCases.ROOT.resolve(DIR).resolve("exe-pp4_nm8.json");
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(e.toFile());
    node.put("activation_recompute", "full").put("blocks_in_first_stage", 2).put("blocks_in_last_stage", 2);
    return ExecutionReader.read(node, e.toString());
  }

  @Test
  void aStageOfFewerBlocksThanSlotsKeepsItsOwnBlocksCheckpoints() throws Exception {
    Path dir = FaultCases.ROOT.resolve(DIR);
    Path m = dir.resolve("model-small-h-no-vocab.json");
    Application app = ApplicationReader.read((ObjectNode) FaultCases.JSON.readTree(m.toFile()), m.toString());
    Execution exe = unevenFull();
    Hardware hw = new Hardware(SystemReader.read(dir.resolve("system-ideal-net.json")), exe.datatype());
    BlockStats block = BlockStats.of(BlockBuilder.buildWithVocabulary(app, exe, hw, ModelVersion.CORRECTED,
        BlockBuilder.Kind.DENSE, false, false), app, exe, hw, ModelVersion.CORRECTED);
    assertThat(block.actCheckpointSize).isEqualTo(CHECKPOINT_BYTES);
    // stage 0: 2 blocks in 6 slots, 4 microbatches in flight: 2 x 4 checkpoints (64 MiB), not 6 x 4
    BlockStats stage0 = BlockStats.stageAverage(List.of(block, block), SLOTS);
    StageMemory corrected = new StageMemory(stage0, SLOTS, 4, 1, exe, true);
    assertThat(corrected.checkpoint).isCloseTo(2 * 4 * CHECKPOINT_BYTES, within(1e-6));
    // the resident checkpoints under offload and the per-block figure stay one block's
    assertThat(corrected.checkpointMin).isEqualTo(2 * CHECKPOINT_BYTES);
    assertThat(stage0.actCheckpointSize).isEqualTo(CHECKPOINT_BYTES);
    // Calculon-MoE's accounting (kept for golden parity) charges every slot
    StageMemory reference = new StageMemory(stage0, SLOTS, 4, 1, exe, false);
    assertThat(reference.checkpoint).isCloseTo(SLOTS * 4 * CHECKPOINT_BYTES, within(1e-6));
    // a full stage is unchanged: 6 blocks x 3 in flight
    BlockStats stage1 = BlockStats.stageAverage(List.of(block, block, block, block, block, block), SLOTS);
    assertThat(new StageMemory(stage1, SLOTS, 3, 1, exe, true).checkpoint)
        .isCloseTo(6 * 3 * CHECKPOINT_BYTES, within(1e-6));
  }

  @Test
  void theRunReportsTheStageThatNeedsTheMostWithItsOwnCheckpoints() throws Exception {
    // stage 1 (6 blocks x 3 in flight = 18 checkpoints, 144 MiB) needs the most tier-1 memory
    Stats s = FaultCases.run(DIR, "model-small-h-no-vocab.json", "exe-pp4_nm8.json", "system-ideal-net.json",
        ModelVersion.CORRECTED, e -> e.put("activation_recompute", "full").put("blocks_in_first_stage", 2)
            .put("blocks_in_last_stage", 2));
    assertThat(s.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE)).isEqualTo(CHECKPOINT_BYTES);
    assertThat(s.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(18 * CHECKPOINT_BYTES, within(1e-3));
  }
}
