package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import org.junit.jupiter.api.Test;

/**
 * The schedules' closed forms (Narayanan et al. 2021, arXiv 2104.04473, Sections 2.2.1-2.2.2)
 * and Megatron-Core's warm-up counts, derived by hand for small pipelines.
 */
class PipelineScheduleTest {

  @Test
  void oneFOneBBubbleIsPMinusOneChunksAFractionPMinusOneOverM() {
    OneFOneB s = new OneFOneB(4, 8);
    assertThat(s.bubbleSeconds(2.0, 0)).isEqualTo(3 * 2.0);
    assertThat(s.bubbleFraction()).isEqualTo(3 / 8.0);
    // the ideal step is m chunk times: bubble / ideal = (p - 1)/m
    assertThat(s.bubbleSeconds(2.0, 0) / (8 * 2.0)).isEqualTo(s.bubbleFraction());
  }

  @Test
  void interleavedBubbleIsAFractionPMinusOneOverVM() {
    // p 4, v 2, m 8: chunks are half a stage; the ideal step is m v = 16 chunk times, the bubble 3
    Interleaved s = new Interleaved(4, 8, 2);
    assertThat(s.bubbleSeconds(1.0, 0)).isEqualTo(3.0);
    assertThat(s.bubbleFraction()).isEqualTo(3 / 16.0);
    assertThat(s.bubbleSeconds(1.0, 0) / (8 * 2 * 1.0)).isEqualTo(s.bubbleFraction());
  }

  @Test
  void interleavedWithMicrobatchesNotAMultipleOfStagesPaysTheShortRounds() {
    // m 6 = 4 + 2: (v - 1)(p - m mod p) = 1 * 2 more chunk times (Calculon's formula)
    assertThat(new Interleaved(4, 6, 2).bubbleSeconds(1.0, 0)).isEqualTo(3.0 + 2.0);
  }

  @Test
  void oneFOneBStageKHoldsMinOfMAndPMinusK() {
    OneFOneB s = new OneFOneB(4, 8);
    assertThat(new double[] {s.inFlightMicrobatches(0), s.inFlightMicrobatches(1),
        s.inFlightMicrobatches(2), s.inFlightMicrobatches(3)}).containsExactly(4, 3, 2, 1);
    OneFOneB few = new OneFOneB(4, 2);
    assertThat(new double[] {few.inFlightMicrobatches(0), few.inFlightMicrobatches(1),
        few.inFlightMicrobatches(2), few.inFlightMicrobatches(3)}).containsExactly(2, 2, 2, 1);
  }

  @Test
  void interleavedStageKHoldsMegatronsWarmupPlusOneChunk() {
    Interleaved s = new Interleaved(4, 8, 2);
    // stage 0: 2(p - 1) + (v - 1)p = 10 warm-up chunks + 1 = 11 chunks of half a stage = 5.5,
    // Korthikanti et al. 2022's p(1 + (p - 1)/(p v)) = 4 * (1 + 3/8) = 5.5
    assertThat(s.inFlightMicrobatches(0)).isEqualTo(5.5);
    assertThat(s.inFlightMicrobatches(0)).isCloseTo(s.referenceInFlightMicrobatches(), within(1e-12));
    // last stage: (v - 1)p + 1 = 5 chunks = 2.5 microbatches
    assertThat(s.inFlightMicrobatches(3)).isEqualTo(2.5);
    // m 2: no stage can hold more than all m v = 4 chunks = 2 microbatches
    assertThat(new Interleaved(4, 2, 2).inFlightMicrobatches(0)).isEqualTo(2.0);
  }

  @Test
  void interleavedLastStageHoldsOneMicrobatchOfItsLastChunk() {
    // p 4, v 2, m 8, Megatron-Core's table: forwards mb 0-3 chunk 0, mb 0-3 chunk 1, mb 4-7
    // chunk 0, mb 4-7 chunk 1; backwards the same with the chunks reversed. Stage 3 warms up with
    // (v - 1)p = 4 forwards of chunk 0, then each chunk-1 forward is followed by its backward:
    // 4 of chunk 0 and 1 of chunk 1 (the logits); forward 8 (chunk 0, mb 4) runs before
    // backward 4 (chunk 0, mb 0), so chunk 0 alone peaks at 5
    Interleaved s = new Interleaved(4, 8, 2);
    double none = 1;
    assertThat(s.inFlightMicrobatches(3, new double[] {0.5, 0.5}, none)).isEqualTo(2.5);
    assertThat(s.inFlightMicrobatches(3, new double[] {0, 1}, none)).isEqualTo(1.0);
    assertThat(s.inFlightMicrobatches(3, new double[] {1, 0}, none)).isEqualTo(5.0);
    // a last chunk storing 0.7 of the stage (its logits): 4 x 0.3 + 1 x 0.7 (> 5 x 0.3), not 2.5
    assertThat(s.inFlightMicrobatches(3, new double[] {0.3, 0.7}, none)).isCloseTo(1.9, within(1e-12));
  }

  @Test
  void interleavedFirstStageHoldsUpToTwoPOfItsFirstChunk() {
    // stage 0 warms up 2(p - 1) + (v - 1)p = 10 forwards (chunk 0 x4, chunk 1 x4, chunk 0 x2),
    // then forward 10 (chunk 0, mb 6), backward 0 (chunk 1), forward 11 (chunk 0, mb 7): all 8
    // microbatches of chunk 0 with 3 of chunk 1; the equal-share peak stays 11 chunks = 5.5
    Interleaved s = new Interleaved(4, 8, 2);
    double none = 1;
    assertThat(s.inFlightMicrobatches(0, new double[] {1, 0}, none)).isEqualTo(8.0);
    assertThat(s.inFlightMicrobatches(0, new double[] {0, 1}, none)).isEqualTo(4.0);
    assertThat(s.inFlightMicrobatches(0, new double[] {0.5, 0.5}, none)).isEqualTo(s.inFlightMicrobatches(0));
    for (int k = 0; k < 4; k++) {
      assertThat(s.inFlightMicrobatches(k, new double[] {0.5, 0.5}, none)).isEqualTo(s.inFlightMicrobatches(k));
    }
  }

  @Test
  void interleavedReplayOfFewerGroupsGivesTheSamePeak() {
    // the replay of m microbatches is cut to 5 full groups plus m's last one: same peak as the
    // whole replay, for every stage, uneven shares and m not a multiple of p
    double[][] shares = {{0.5, 0.3, 0.2}, {0.1, 0.1, 0.8}, {0.7, 0.2, 0.1}};
    double none = 1;
    for (int m = 20; m <= 61; m++) {
      Interleaved s = new Interleaved(4, m, 3);
      assertThat(s.replayedMicrobatches(m)).isLessThanOrEqualTo(24);
      for (int k = 0; k < 4; k++) {
        for (double[] share : shares) {
          assertThat(s.order(k).peak(share, none)).as("m %d stage %d", m, k)
              .isEqualTo(s.order(k, m).peak(share, none));
        }
      }
    }
    // 2^31 - 1 microbatches replay as 47 (5 groups of 8 and the last 7)
    double[] uneven = {0.9, 0.1};
    assertThat(new Interleaved(8, Integer.MAX_VALUE, 2).inFlightMicrobatches(0, uneven, 1))
        .isEqualTo(new Interleaved(8, 47, 2).inFlightMicrobatches(0, uneven, 1));
  }

  @Test
  void zeroBubbleH1StageKHoldsPMinusKWholeAndKWeightGradPending() {
    // Qi et al. 2024, Figure 3 top: stage k delays its W by k microbatches; with W keeping half
    // of a microbatch's activations, stage k peaks at (p - k) + k/2
    ZeroBubbleH1 s = new ZeroBubbleH1(4, 8);
    double[] one = {1};
    assertThat(new double[] {s.inFlightMicrobatches(0, one, 0.5),
        s.inFlightMicrobatches(1, one, 0.5), s.inFlightMicrobatches(2, one, 0.5),
        s.inFlightMicrobatches(3, one, 0.5)}).containsExactly(4, 3.5, 3, 2.5);
    // W keeping everything: p on every stage, the paper's "same number of in-flight microbatches"
    for (int k = 0; k < 4; k++) {
      assertThat(s.inFlightMicrobatches(k, one, 1)).isEqualTo(4.0);
    }
    // m 2 < p: stage 3 runs F1, B1, F2 (1 whole, 1 pending), then B2 and the two W passes
    assertThat(new ZeroBubbleH1(4, 2).inFlightMicrobatches(3, one, 0.5)).isEqualTo(1.5);
    assertThat(new ZeroBubbleH1(4, 2).inFlightMicrobatches(0, one, 0.5)).isEqualTo(2.0);
  }

  @Test
  void interleavedOverlapExposesOnlyTheWarmupAndCooldownTransfers() {
    // p 4, v 2, m 8 (16 chunks): stage 0 warms up 2 x 3 + 4 = 10 chunks, stage 3 (v - 1)p = 4;
    // transfers of 1 s forward and 2 s backward, beside chunks of 3 s forward and 6 s backward
    Interleaved s = new Interleaved(4, 8, 2);
    assertThat(s.exposedP2pSeconds(0, 1, 2, 3, 6)).isEqualTo(10 * 3.0);
    assertThat(s.exposedP2pSeconds(3, 1, 2, 3, 6)).isEqualTo(4 * 3.0);
    // a transfer longer than the other direction's chunk exposes the difference in the steady
    // state: stage 3, 12 steady steps of max(0, 5 - 4) + max(0, 2 - 3)
    assertThat(s.exposedP2pSeconds(3, 5, 2, 3, 4)).isEqualTo(4 * 7.0 + 12 * 1.0);
    // m 2: all 4 chunks are warm-up on stage 0, nothing hides (Megatron-Core's
    // are_all_microbatches_in_warmup)
    assertThat(new Interleaved(4, 2, 2).exposedP2pSeconds(0, 1, 2, 3, 6)).isEqualTo(4 * 3.0);
  }

  @Test
  void pipelineP2pOverlapHidesTheSteadyStateTransfersOfTheStep() throws Exception {
    // equal stages: the step is stage 0's, whose 10 warm-up and 10 cool-down chunks of m v = 16
    // wait for their transfers; the tiny transfers hide behind every steady-state chunk
    java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> vp2 =
        e -> e.put("pipeline_interleaving", 2);
    Stats on = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CORRECTED, vp2);
    Stats off = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CORRECTED, vp2.andThen(e -> e.put("pipeline_p2p_overlap", false)));
    double link = on.get(StatField.PP_COMM_LINK_TIME);
    assertThat(link).isPositive();
    assertThat(off.get(StatField.PP_COMM_EXPOSED_TIME)).isEqualTo(link);
    assertThat(on.get(StatField.PP_COMM_EXPOSED_TIME)).isCloseTo(10 / 16.0 * link, within(1e-12 * link));
    assertThat(on.get(StatField.PP_COMM_OVERLAPPED_TIME)).isCloseTo(6 / 16.0 * link, within(1e-12 * link));
    assertThat(off.get(StatField.TOTAL_TIME) - on.get(StatField.TOTAL_TIME))
        .isCloseTo(6 / 16.0 * link, within(1e-9 * off.get(StatField.TOTAL_TIME)));
    // calculon-moe never overlaps them, whatever the key says
    Stats ref = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CALCULON_MOE, vp2);
    assertThat(ref.get(StatField.PP_COMM_EXPOSED_TIME)).isEqualTo(ref.get(StatField.PP_COMM_LINK_TIME));
  }

  @Test
  void lastStageMemoryDoesNotGrowWithMicrobatchesUnder1F1B() throws Exception {
    // faults/per-stage-inflight: the logits stage is the heaviest and holds one microbatch. The
    // case's 15.41 GiB counts Calculon's unfused attention (scores stored); with the corrected
    // model's default flash attention the stage is lighter, and just as flat in m
    double gib = 1L << 30;
    double flash = 0;
    for (String exe : new String[] {"exe-pp4_nm1.json", "exe-pp4_nm2.json", "exe-pp4_nm4.json", "exe-pp4_nm8.json"}) {
      Stats s = FaultCases.run("per-stage-inflight", "model-small-h-big-vocab.json", exe, "system-ideal-net.json",
          ModelVersion.CORRECTED, e -> e.put("flash_attention", false));
      // the case's figure predates the activations-table2 fix: selective recompute without SP
      // now keeps each block's QKV input (s h = 4096 x 1024, 2 bytes), here for 4 blocks - 1 of
      // one in-flight microbatch (the working block's is counted once already)
      double qkvInputs = 3 * 4096.0 * 1024 * 2 / gib;
      // and the rotary embedding (a corrected-model layer since) adds its gradient of the rank's
      // queries and keys, s (h + h) x 2 bytes, to the block's activation-gradient space
      double rotaryGradient = 4096.0 * (1024 + 1024) * 2 / gib;
      assertThat(s.get(StatField.PROC_MEM_TIER1_CAP_REQ) / gib).as(exe)
          .isCloseTo(15.41 + qkvInputs + rotaryGradient, within(0.005));
      Stats f = FaultCases.run("per-stage-inflight", "model-small-h-big-vocab.json", exe, "system-ideal-net.json");
      if (flash == 0) {
        flash = f.get(StatField.PROC_MEM_TIER1_CAP_REQ);
        assertThat(flash).isLessThan(s.get(StatField.PROC_MEM_TIER1_CAP_REQ));
      }
      assertThat(f.get(StatField.PROC_MEM_TIER1_CAP_REQ)).as(exe).isEqualTo(flash);
    }
  }

  @Test
  void withoutAVocabularyTheFirstStageHoldsMinOfMAndPMicrobatches() throws Exception {
    Stats m2 = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm2.json", "system-ideal-net.json");
    Stats m4 = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm4.json", "system-ideal-net.json");
    Stats m8 = FaultCases.run("per-stage-inflight", "model-small-h-no-vocab.json", "exe-pp4_nm8.json", "system-ideal-net.json");
    double storage = m2.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double blocks = m2.blocksPerProc();
    // two more microbatches in flight: two more copies of the stage's stored activations
    assertThat(m4.get(StatField.PROC_MEM_TIER1_CAP_REQ) - m2.get(StatField.PROC_MEM_TIER1_CAP_REQ))
        .isCloseTo(2 * blocks * storage, within(1.0));
    assertThat(m8.get(StatField.PROC_MEM_TIER1_CAP_REQ)).isEqualTo(m4.get(StatField.PROC_MEM_TIER1_CAP_REQ));
  }

  @Test
  void pairingForwardsWithBackwardsLeavesTheWarmUpAlone() {
    // Megatron-Core's interleaved warm-up 2(p - k - 1) + (v - 1)p, plus the one forward the
    // all-to-all overlap adds (get_pp_rank_microbatches): p 4, v 2, stage 0: 6 + 4 + 1 = 11
    Interleaved paired = new Interleaved(4, 8, 2, 1);
    assertThat(paired.a2aUnpairedForwards(0)).isEqualTo(11);
    assertThat(paired.a2aUnpairedForwards(3)).isEqualTo(5);
    // one more chunk in flight than without the overlap: (11 + 1) / 2 against (10 + 1) / 2
    assertThat(paired.inFlightMicrobatches(0)).isEqualTo(6.0);
    assertThat(new Interleaved(4, 8, 2).inFlightMicrobatches(0)).isEqualTo(5.5);
    // never more than the m v chunk forwards
    assertThat(new Interleaved(4, 2, 2, 1).a2aUnpairedForwards(0)).isEqualTo(4);
    // 1F1B: the p - k - 1 warm-up forwards and the added one; PP 1: the first forward alone
    // (combined_1f1b_schedule_for_no_pipelining)
    assertThat(new OneFOneB(4, 8).a2aUnpairedForwards(0)).isEqualTo(4);
    assertThat(new OneFOneB(4, 8).a2aUnpairedForwards(3)).isEqualTo(1);
    assertThat(new OneFOneB(1, 8).a2aUnpairedForwards(0)).isEqualTo(1);
  }
}
