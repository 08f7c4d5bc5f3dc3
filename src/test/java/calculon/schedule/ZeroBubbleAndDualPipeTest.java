package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.config.ExecutionReader;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Zero-bubble (Qi et al. 2024, arXiv 2401.10241) and DualPipe (DeepSeek-V3 report, arXiv
 * 2412.19437, Section 3.2.1; deepseek-ai/DualPipe README table) schedules: their bubbles equal the
 * papers' formulas, and their in-flight microbatches the counts derived by hand from the
 * schedules' step structure.
 */
class ZeroBubbleAndDualPipeTest {
  /** F = B_input = W = 1 s: the full backward is 2 s (the papers' convention). */
  static final PipelineSchedule.ChunkTimes EQUAL = new PipelineSchedule.ChunkTimes(1, 2, 1, 0);

  @Test
  void zbH1BubbleIsAThirdOf1F1BsWhenForwardBackwardAndWeightPassesAreEqual() {
    ZeroBubbleH1 zb = new ZeroBubbleH1(4, 8);
    // (p - 1)(F + B - 2W) = 3 * (1 + 2 - 2) = 3 s; 1F1B: (p - 1)(F + B) = 9 s
    assertThat(zb.bubbleSeconds(EQUAL, 0)).isEqualTo(3.0);
    assertThat(new OneFOneB(4, 8).bubbleSeconds(EQUAL, 0)).isEqualTo(9.0);
    // README of sail-sg/zero-bubble-pipeline-parallelism: bubble rate (p - 1)/3m
    assertThat(zb.bubbleFraction()).isEqualTo(3 / 24.0);
    assertThat(zb.bubbleSeconds(EQUAL, 0) / (8 * 3.0)).isEqualTo(zb.bubbleFraction());
    assertThat(zb.bubbleFraction()).isCloseTo(new OneFOneB(4, 8).bubbleFraction() / 3, within(1e-15));
  }

  @Test
  void zbH1WithoutAWeightPassIs1F1B() {
    PipelineSchedule.ChunkTimes noW = new PipelineSchedule.ChunkTimes(1, 2, 0, 0);
    assertThat(new ZeroBubbleH1(8, 16).bubbleSeconds(noW, 0)).isEqualTo(new OneFOneB(8, 16).bubbleSeconds(3.0, 0));
  }

  @Test
  void zbVHasNoBubbleWhenPassesAreEqualAndIsInterleavedWithoutAWeightPass() {
    ZeroBubbleV zb = new ZeroBubbleV(4, 8);
    assertThat(zb.bubbleSeconds(EQUAL, 0)).isEqualTo(0.0);
    assertThat(zb.bubbleFraction()).isEqualTo(0.0);
    // W = 0: the V is interleaved 1F1B with v = 2, (p - 1) chunk times
    PipelineSchedule.ChunkTimes noW = new PipelineSchedule.ChunkTimes(1, 2, 0, 0);
    assertThat(zb.bubbleSeconds(noW, 0)).isEqualTo(new Interleaved(4, 8, 2).bubbleSeconds(3.0, 0));
    // between the two: W = 0.5 s, (p - 1)(F + B - 3W) = 3 * 1.5
    assertThat(zb.bubbleSeconds(new PipelineSchedule.ChunkTimes(1, 2, 0.5, 0), 0)).isEqualTo(4.5);
  }

  @Test
  void dualPipeBubbleIsTheReadmeTableFormula() {
    // p 8, m 20 (the README's figure): (p/2 - 1)(F&B + B - 3W) = 3 * (3 + 2 - 3) = 6 s with no
    // communication (F&B = F + B = 3 s)
    DualPipe dp = new DualPipe(8, 20);
    assertThat(dp.bubbleSeconds(EQUAL, 0)).isEqualTo(6.0);
    // of an ideal m (F + B) = 60 s: (p - 2)/(3m)
    assertThat(dp.bubbleFraction()).isEqualTo(6 / 60.0);
    assertThat(dp.bubbleSeconds(EQUAL, 0) / (20 * 3.0)).isCloseTo(dp.bubbleFraction(), within(1e-15));
  }

  @Test
  void dualPipeOverlapsTheAllToAllOfAForwardAndBackwardPair() {
    // F 2 s and B 3 s each hold 1 s of all-to-all: the pair runs 3 s of compute beside 2 s of
    // communication, F&B = max(5 - 2, 2) = 3 s, bubble (8/2 - 1)(3 + 3 - 3 * 1) = 9 s
    PipelineSchedule.ChunkTimes t = new PipelineSchedule.ChunkTimes(2, 3, 1, 2);
    assertThat(new DualPipe(8, 20).bubbleSeconds(t, 0)).isEqualTo(9.0);
    // communication longer than the compute beside it is what the pair takes: F&B = 4 s
    PipelineSchedule.ChunkTimes commBound = new PipelineSchedule.ChunkTimes(2, 3, 1, 4);
    assertThat(new DualPipe(8, 20).bubbleSeconds(commBound, 0)).isEqualTo(3 * (4 + 3 - 3.0));
    assertThat(new DualPipe(8, 20).overlapsForwardWithBackward()).isTrue();
    assertThat(new ZeroBubbleH1(8, 20).overlapsForwardWithBackward()).isFalse();
  }

  @Test
  void dualPipeVRunsTwiceTheStagesOnItsRanks() {
    // README: 4 ranks = 8 stages, 10 microbatches; (PP/2 - 1) = 3 pairs of chunk times
    DualPipeV dv = new DualPipeV(4, 10);
    assertThat(dv.bubbleSeconds(EQUAL, 0)).isEqualTo(6.0);
    // ideal: 10 microbatches of 2 chunks of 3 s
    assertThat(dv.bubbleSeconds(EQUAL, 0) / (10 * 2 * 3.0)).isCloseTo(dv.bubbleFraction(), within(1e-15));
    assertThat(dv.bubbleFraction()).isCloseTo(3 / 30.0, within(1e-15));
  }

  @Test
  void dualPipeHoldsTwoParameterCopiesAndDualPipeVOne() {
    assertThat(new DualPipe(8, 20).parameterCopies()).isEqualTo(2);
    assertThat(new DualPipeV(4, 10).parameterCopies()).isEqualTo(1);
    assertThat(new ZeroBubbleV(4, 10).parameterCopies()).isEqualTo(1);
    assertThat(new OneFOneB(4, 10).parameterCopies()).isEqualTo(1);
  }

  @Test
  void dualPipeRanksHoldPPlusOneMicrobatchesByHandFromItsSteps() {
    int p = 8;
    // dualpipe.py step 1: 2(p/2 - h - 1) forwards, step 2: h + 1 forwards in each direction
    for (int h = 0; h < p / 2; h++) {
      assertThat(2 * (p / 2 - h - 1) + 2 * (h + 1)).isEqualTo(p);
    }
    DualPipe dp = new DualPipe(p, 20);
    for (int k = 0; k < p; k++) {
      // p, plus the forward of an overlapped pair allocated before its backward frees: README "PP+1"
      assertThat(dp.inFlightMicrobatches(k)).isEqualTo(p + 1.0);
    }
  }

  @Test
  void dualPipeVRanksHoldTwoPPlusOneHalfStageChunks() {
    int p = 4;
    // dualpipev.py step 1: 2(p - r - 1) forwards of chunk 0, step 2: r + 1 of each chunk = 2p chunks
    for (int r = 0; r < p; r++) {
      assertThat(2 * (p - r - 1) + 2 * (r + 1)).isEqualTo(2 * p);
    }
    // 2p + 1 chunks of half the rank's blocks (README "PP+1" with PP = 2p stages)
    assertThat(new DualPipeV(p, 10).inFlightMicrobatches(3)).isEqualTo(4.5);
  }

  @Test
  void zeroBubbleSchedulesKeep1F1BsPeakOnEveryStage() {
    ZeroBubbleH1 h1 = new ZeroBubbleH1(4, 8);
    ZeroBubbleV v = new ZeroBubbleV(4, 8);
    for (int k = 0; k < 4; k++) {
      assertThat(h1.inFlightMicrobatches(k)).isEqualTo(new OneFOneB(4, 8).inFlightMicrobatches(0));
      assertThat(v.inFlightMicrobatches(k)).isEqualTo(4.0);
    }
    assertThat(new ZeroBubbleH1(4, 2).inFlightMicrobatches(0)).isEqualTo(2.0);
  }

  // ------------------------------------------------------------------ through the evaluator

  static Stats run(Consumer<ObjectNode> edit) throws Exception {
    return FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CORRECTED, edit);
  }

  @Test
  void zbH1SavesTwoWeightPassesPerStageOfTheFill() throws Exception {
    Stats oneF = run(n -> { });
    Stats zb = run(n -> n.put("pipeline_schedule", "zb-h1"));
    // (p - 1)(F + B) - (p - 1)(F + B - 2W) = 2(p - 1)W with W the stage's weight-gradient time
    double w = oneF.blocksPerProc() * oneF.get(StatField.BLOCK_WGRAD_TIME);
    assertThat(oneF.get(StatField.BUBBLE_TIME) - zb.get(StatField.BUBBLE_TIME)).isCloseTo(2 * 3 * w, within(1e-12));
    assertThat(zb.get(StatField.TOTAL_TIME)).isLessThan(oneF.get(StatField.TOTAL_TIME));
    // the explicit "1f1b" is the absent key
    assertThat(run(n -> n.put("pipeline_schedule", "1f1b")).get(StatField.TOTAL_TIME))
        .isEqualTo(oneF.get(StatField.TOTAL_TIME));
  }

  @Test
  void dualPipeDoublesTheWeightsAndHoldsPPlusOneMicrobatches() throws Exception {
    Stats oneF = run(n -> { });
    Stats dp = run(n -> n.put("pipeline_schedule", "dualpipe"));
    assertThat(dp.get(StatField.WEIGHT_SPACE)).isEqualTo(2 * oneF.get(StatField.WEIGHT_SPACE));
    assertThat(dp.get(StatField.OPTIMIZER_SPACE)).isEqualTo(2 * oneF.get(StatField.OPTIMIZER_SPACE));
    // activations: working + storage (blocks * in-flight - 1), in-flight p + 1 = 5 on every stage
    double storage = dp.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double working = dp.get(StatField.BLOCK_ACT_WORKING_SPACE);
    assertThat(dp.get(StatField.ACT_SPACE)).isCloseTo(working + storage * (4 * 5 - 1), within(1.0));
  }

  @Test
  void zbVAndDualPipeVRunTwoChunksPerStage() throws Exception {
    Stats zbv = run(n -> n.put("pipeline_schedule", "zb-v").put("pipeline_interleaving", 2));
    Stats inter = run(n -> n.put("pipeline_interleaving", 2));
    assertThat(zbv.get(StatField.BUBBLE_TIME)).isLessThan(inter.get(StatField.BUBBLE_TIME));
    // the V holds p = 4 microbatches on every stage; interleaved's first stage holds 5.5
    double storage = zbv.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double working = zbv.get(StatField.BLOCK_ACT_WORKING_SPACE);
    assertThat(zbv.get(StatField.ACT_SPACE)).isCloseTo(working + storage * (4 * 4 - 1), within(1.0));
    Stats dv = run(n -> n.put("pipeline_schedule", "dualpipev").put("pipeline_interleaving", 2));
    assertThat(dv.get(StatField.WEIGHT_SPACE)).isEqualTo(inter.get(StatField.WEIGHT_SPACE));
    assertThat(dv.get(StatField.ACT_SPACE)).isCloseTo(working + storage * (4 * 4.5 - 1), within(1.0));
  }

  // ------------------------------------------------------------------ validation

  static String error(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(
        FaultCases.ROOT.resolve("per-stage-inflight/exe-pp4_nm8.json").toFile());
    edit.accept(node);
    try {
      ExecutionReader.read(node, "exe.json");
    } catch (ConfigError e) {
      assertThat(e.getMessage()).doesNotContain("\n");
      return e.getMessage();
    }
    throw new AssertionError("accepted");
  }

  @Test
  void badSchedulesAreOneLineErrorsNamingTheField() throws Exception {
    assertThat(error(n -> n.put("pipeline_schedule", "gpipe")))
        .startsWith("exe.json: pipeline_schedule: must be one of \"1f1b\", \"interleaved\", \"zb-h1\"");
    assertThat(error(n -> n.put("pipeline_schedule", "zb-v")))
        .isEqualTo("exe.json: pipeline_schedule: \"zb-v\" runs 2 model chunks per stage, so pipeline_interleaving must be 2, got 1");
    assertThat(error(n -> n.put("pipeline_schedule", "dualpipev")))
        .contains("pipeline_interleaving must be 2");
    assertThat(error(n -> n.put("pipeline_schedule", "interleaved")))
        .contains("needs pipeline_interleaving >= 2");
    assertThat(error(n -> n.put("pipeline_schedule", "1f1b").put("pipeline_interleaving", 2)))
        .contains("pipeline_interleaving must be 1");
    // 8 microbatches on 3 stages: odd pipeline (num_procs follows)
    assertThat(error(n -> n.put("pipeline_schedule", "dualpipe").put("pipeline_par", 3).put("num_procs", 3)
        .put("batch_size", 8)))
        .isEqualTo("exe.json: pipeline_schedule: \"dualpipe\" pairs stage k with stage p-1-k, so pipeline_par must be even, got 3");
    assertThat(error(n -> n.put("pipeline_schedule", "dualpipe").put("batch_size", 6)))
        .contains("at least 2*pipeline_par = 8 microbatches").contains("got 6");
    assertThatThrownBy(() -> error(n -> n.put("pipeline_schedule", "dualpipe"))).hasMessage("accepted");
  }
}
