package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Uneven pipeline stages by hand: 16 equal blocks on PP 4 with 2 blocks on the first and the last
 * stage leave 6 on each middle stage; 8 microbatches under 1F1B (stage k holds 4 - k).
 */
class UnevenStagesTest {
  static final String KIND = "per-stage-inflight", MODEL = "model-small-h-no-vocab.json",
      EXE = "exe-pp4_nm8.json", SYSTEM = "system-ideal-net.json";

  static Stats run(Consumer<ObjectNode> model, Consumer<ObjectNode> exe) throws Exception {
    return FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED, exe);
  }

  static final Consumer<ObjectNode> TWO_SIX_SIX_TWO =
      e -> e.put("blocks_in_first_stage", 2).put("blocks_in_last_stage", 2);

  @Test
  void theStepIsTheSlowestStagesWithItsBubble() throws Exception {
    // the slowest stage holds 6 blocks: the step of a 24-block model split 6/6/6/6
    Stats uneven = run(m -> { }, TWO_SIX_SIX_TWO);
    Stats even24 = run(m -> m.put("num_blocks", 24), e -> { });
    assertThat(uneven.get(StatField.TOTAL_TIME)).isCloseTo(even24.get(StatField.TOTAL_TIME),
        within(1e-12 * even24.get(StatField.TOTAL_TIME)));
    assertThat(uneven.get(StatField.BUBBLE_TIME)).isCloseTo(even24.get(StatField.BUBBLE_TIME),
        within(1e-12 * even24.get(StatField.BUBBLE_TIME)));
    assertThat(uneven.blocksPerProc()).isEqualTo(6);
  }

  @Test
  void eachStageHoldsItsOwnBlocksTimesItsInFlightMicrobatches() throws Exception {
    // stored block activations held: stage 0: 2 x 4 = 8, stage 1: 6 x 3 = 18, stage 2: 6 x 2 = 12,
    // stage 3: 2 x 1 = 2; the requirement is stage 1's: working + storage (18 - 1)
    Stats s = run(m -> { }, TWO_SIX_SIX_TWO);
    double working = s.get(StatField.BLOCK_ACT_WORKING_SPACE), storage = s.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    assertThat(s.get(StatField.ACT_SPACE)).isCloseTo(working + storage * 17, within(1e-6 * storage));
    // even 4/4/4/4: stage 0 holds 4 x 4 = 16
    Stats even = run(m -> { }, e -> { });
    assertThat(s.get(StatField.PROC_MEM_TIER1_CAP_REQ) - even.get(StatField.PROC_MEM_TIER1_CAP_REQ))
        .isCloseTo(2 * storage + 2 * (s.get(StatField.BLOCK_WEIGHT_SPACE)
            + s.get(StatField.BLOCK_WEIGHT_GRAD_SPACE) + s.get(StatField.BLOCK_OPTIMIZER_SPACE)), within(1e-3 * storage));
  }

  @Test
  void interleavingNeedNotDivideAStagesBlocks() throws Exception {
    // v 4 on 2/6/6/2: the middle stages' chunks hold 2, 2, 1, 1 blocks (4 slots of 2)
    Stats v1 = run(m -> { }, TWO_SIX_SIX_TWO);
    Stats v4 = run(m -> { }, TWO_SIX_SIX_TWO.andThen(e -> e.put("pipeline_interleaving", 2)));
    assertThat(v4.blocksPerProc()).isEqualTo(6);
    assertThat(v4.get(StatField.BUBBLE_TIME)).isLessThan(v1.get(StatField.BUBBLE_TIME));
    Stats odd = run(m -> { }, TWO_SIX_SIX_TWO.andThen(e -> e.put("pipeline_interleaving", 4)));
    assertThat(odd.blocksPerProc()).isEqualTo(8);
    assertThat(odd.get(StatField.TOTAL_TIME)).isPositive();
  }

  @Test
  void stageCountsThatDoNotAddUpAreOneLineConfigErrors() {
    // 16 - 3 - 2 = 11 blocks do not split evenly over 2 middle stages
    assertThatThrownBy(() -> run(m -> { }, e -> e.put("blocks_in_first_stage", 3).put("blocks_in_last_stage", 2)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("blocks_in_first_stage").hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run(m -> { }, e -> e.put("blocks_in_first_stage", 0)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("positive");
  }

  @Test
  void calculonMoeModeHasEvenStagesOnly() {
    assertThatThrownBy(() -> FaultCases.run(KIND, MODEL, m -> { }, EXE, SYSTEM, ModelVersion.CALCULON_MOE,
        TWO_SIX_SIX_TWO)).isInstanceOf(Infeasible.class);
  }
}
