package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import org.junit.jupiter.api.Test;

/**
 * Which stage the per-block stats ({@code block_*}) describe when the pipeline stages differ: the
 * slowest stage's average block (its totals over its block slots), not the stage that needs the
 * most memory, whose memory lines the file holds (docs/reports.md, "Which block the per-block stats
 * describe"). Weights by hand, bf16 (2 bytes), TP 1: a block of the small model (h 1024, ff 4096,
 * 16 heads of 64, RMSNorm, no bias, GeLU) has 4 h^2 attention + 2 h ff MLP + 2 h norm weights =
 * 12,584,960, 25,169,920 bytes; the 256,000 x 1024 embedding and output layer 524,288,000 bytes
 * each; the final norm 2,048 bytes.
 */
class BlockStatsStageTest {
  static final double BLOCK_BYTES = 2.0 * (4 * 1024 * 1024 + 2 * 1024 * 4096 + 2 * 1024);
  static final double VOCAB_BYTES = 2.0 * 256_000 * 1024;
  static final double FINAL_NORM_BYTES = 2.0 * 1024;

  @Test
  void blockStatsAreTheSlowestStagesAverageBlockNotTheMemoryHeaviestStages() throws Exception {
    // stages of 13, 1, 1 and 1 blocks (13 slots each): the first (13 blocks and the embedding) is
    // the slowest, the last (one block, the output layer and the final norm) needs the most memory
    Stats s = FaultCases.run("per-stage-inflight", "model-small-h-big-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CORRECTED,
        n -> n.put("blocks_in_first_stage", 13).put("blocks_in_last_stage", 1));
    assertThat(s.blocksPerProc()).isEqualTo(13);
    assertThat(s.get(StatField.BLOCK_WEIGHT_SPACE) * 13).isCloseTo(13 * BLOCK_BYTES + VOCAB_BYTES, within(1.0));
    assertThat(s.get(StatField.WEIGHT_SPACE)).isCloseTo(BLOCK_BYTES + VOCAB_BYTES + FINAL_NORM_BYTES, within(1.0));
    // the times are the same stage's: 13 slots x 8 microbatches of that average block
    assertThat(s.get(StatField.FW_TIME)).isCloseTo(13 * 8 * s.get(StatField.BLOCK_FW_TIME),
        within(1e-12 * s.get(StatField.FW_TIME)));
  }
}
