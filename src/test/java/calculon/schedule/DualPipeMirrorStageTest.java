package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Execution;
import calculon.config.ExecutionReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A DualPipe rank runs two pipeline stages, stage k for one direction and stage p - 1 - k for the
 * other (DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.1; deepseek-ai/DualPipe
 * {@code dualpipe.py}): its memory holds both stages' parameters and each stage's own share of
 * the p + 1 microbatches in flight ({@link DualPipe#heldMicrobatches}), not p + 1 microbatches
 * and two parameter copies of stage k alone, which charged the last rank p + 1 microbatches of
 * the logits and two output heads.
 */
class DualPipeMirrorStageTest {
  static Execution exe() throws Exception {
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(
        FaultCases.ROOT.resolve("per-stage-inflight/exe-pp4_nm8.json").toFile());
    node.put("batch_size", 16).put("pipeline_schedule", "dualpipe");
    return ExecutionReader.read(node, "exe.json");
  }

  static BlockStats block(double weights, double working, double storage, double actGrad, double gradNoSharding,
                          double grad, double optimizer) {
    BlockStats b = BlockStats.stageAverage(List.of(), 1);
    b.weightSpace = weights;
    b.actWorkingSpace = working;
    b.actStorageSpace = storage;
    b.actGradSpace = actGrad;
    b.weightGradSpaceNoSharding = gradNoSharding;
    b.weightGradSpace = grad;
    b.optimizerSpace = optimizer;
    return b;
  }

  @Test
  void eachRankHoldsPMicrobatchesSplitBetweenItsTwoStagesByHand() {
    DualPipe dp = new DualPipe(8, 16);
    // rank 0: h = 0, its stage 0 (first direction) 2(4 - 0 - 1) + 1 = 7, the other direction's stage 7: 1
    assertThat(dp.heldMicrobatches(0, 0)).isEqualTo(7);
    assertThat(dp.heldMicrobatches(0, 7)).isEqualTo(1);
    // rank 7 mirrors rank 0: stage 0 of the direction it starts 7, its own stage 7 only 1
    assertThat(dp.heldMicrobatches(7, 0)).isEqualTo(7);
    assertThat(dp.heldMicrobatches(7, 7)).isEqualTo(1);
    // rank 5: h = 2, stage 2: 2(4 - 2 - 1) + 3 = 5, stage 5: 3
    assertThat(dp.heldMicrobatches(5, 2)).isEqualTo(5);
    assertThat(dp.heldMicrobatches(5, 5)).isEqualTo(3);
    for (int k = 0; k < 8; k++) {
      // p in all; the overlapped pair's forward makes the README's PP + 1
      assertThat(dp.heldMicrobatches(k, k) + dp.heldMicrobatches(k, 7 - k) + 1).isEqualTo((int) dp.inFlightMicrobatches(k));
    }
  }

  @Test
  void twoStagesAreSummedByHand() throws Exception {
    Execution e = exe();
    int blocks = 3;
    BlockStats own = block(10, 3, 2, 1, 6, 4, 5);
    BlockStats mirror = block(20, 9, 7, 8, 12, 11, 30);
    StageMemory m = new StageMemory(own, 2, mirror, 3, blocks, 1, e, true);
    assertThat(m.weightSpace).isEqualTo((10 + 20) * 3.0);
    // one working block (the own stage's), each stage's storage times its own microbatches
    assertThat(m.actSpace).isEqualTo(3 + 2 * (3 * 2 - 1) + 7 * 3 * 3.0);
    assertThat(m.actGrad).isEqualTo(8.0);
    // ZeRO 0: one block's unsharded gradient buffer plus the others' gradients, per stage
    assertThat(m.weightGrad).isEqualTo((6 + 4 * 2) + (12 + 11 * 2.0));
    assertThat(m.optimizer).isEqualTo((5 + 30) * 3.0);
    assertThat(m.tier1).isEqualTo(m.weightSpace + m.actSpace + m.actGrad + m.weightGrad + m.optimizer);
  }

  @Test
  void equalStagesKeepTwoCopiesAndPPlusOneMicrobatches() throws Exception {
    Execution e = exe();
    BlockStats b = block(10, 3, 2, 1, 6, 4, 5);
    StageMemory paired = new StageMemory(b, 1 + 1, b, 3, 4, 1, e, true);
    StageMemory copies = new StageMemory(b, 4, 5, 2, e, true);
    assertThat(paired.tier1).isCloseTo(copies.tier1, within(1e-9));
    assertThat(paired.actSpace).isCloseTo(copies.actSpace, within(1e-9));
  }
}
