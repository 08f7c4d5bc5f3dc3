package calculon.schedule;

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
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The expert all-to-all of the shipped Qwen3-235B example (EP 128 on tier 1, DP_exp 4 on tier 0
 * of 8-GPU nodes, so 2 EP ranks per node) in the corrected model: split by tier, capped by
 * node-limited routing, paired by moe_a2a_overlap, sent again by full recompute; the calculon-moe
 * model keeps the fork's cost.
 */
class ExpertExchangeTest {
  static final String MODEL = "models/qwen3-235B-A22B.json";
  static final String EXE = "examples/qwen3-235B-A22B_512xH100.json";
  static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  static Stats run(ModelVersion version, Consumer<ObjectNode> edit) throws Exception {
    return run(version, edit, false);
  }

  /**
   * @param noLatency zero the tiers' latency, so that link times are bytes over bandwidth only and
   *                  byte ratios show exactly (every exchange pays n - d transfer latencies)
   */
  static Stats run(ModelVersion version, Consumer<ObjectNode> edit, boolean noLatency) throws Exception {
    return run(version, edit, noLatency, sys -> { });
  }

  /** @param systemEdit changes the system file's JSON before it is read */
  static Stats run(ModelVersion version, Consumer<ObjectNode> edit, boolean noLatency,
                   Consumer<ObjectNode> systemEdit) throws Exception {
    Application app = ApplicationReader.read(Path.of(MODEL));
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(Path.of(EXE).toFile());
    node.remove("moe_a2a_overlap");
    edit.accept(node);
    Execution exe = ExecutionReader.read(node, EXE);
    ObjectNode sysNode = (ObjectNode) FaultCases.JSON.readTree(Path.of(SYSTEM).toFile());
    if (noLatency) {
      sysNode.withArray("networks").forEach(t -> ((ObjectNode) t).put("latency", 0.0));
    }
    systemEdit.accept(sysNode);
    SystemSpec sys = SystemReader.read(sysNode, SYSTEM);
    RunChecks.check(app, exe, sys, MODEL, EXE, SYSTEM);
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, false);
  }

  @Test
  void theAllToAllSplitsByTierAndTakesTheSlowerTier() throws Exception {
    Stats s = run(ModelVersion.CORRECTED, n -> { });
    double tier0 = s.get(StatField.EP_A2A_TIER0_LINK_TIME), upper = s.get(StatField.EP_A2A_UPPER_TIER_LINK_TIME);
    assertThat(tier0).isPositive();
    // 1 of 127 peers shares the node; tier 0 is 450 GB/s against 50, at the tiers' efficiencies 0.805 and 0.96,
    // so the upper tier is the slower one in every exchange and the link time is its time
    assertThat(upper).isCloseTo(s.get(StatField.EP_COMM_LINK_TIME), within(1e-9));
    assertThat(tier0).isLessThan(upper / 100);
  }

  @Test
  void theForkChargesTheWholeExchangeToTheEpTierAndWritesNoSplit() throws Exception {
    Stats fork = run(ModelVersion.CALCULON_MOE, n -> { });
    Stats corrected = run(ModelVersion.CORRECTED, n -> { });
    assertThat(StatsJson.toMap(fork, false)).doesNotContainKeys("ep_a2a_tier0_link_time", "ep_a2a_upper_tier_link_time");
    // the node-local 1/128 leaves the IB tier
    assertThat(corrected.get(StatField.EP_A2A_UPPER_TIER_LINK_TIME)).isLessThan(fork.get(StatField.EP_COMM_LINK_TIME));
    // the overlap key is the corrected model's
    assertThat(run(ModelVersion.CALCULON_MOE, n -> n.put("moe_a2a_overlap", true)).get(StatField.TOTAL_TIME))
        .isEqualTo(fork.get(StatField.TOTAL_TIME));
  }

  @Test
  void nodeLimitedRoutingCutsTheCrossNodePart() throws Exception {
    Stats free = run(ModelVersion.CORRECTED, n -> { }, true);
    Stats four = run(ModelVersion.CORRECTED, n -> n.put("moe_max_domains_per_token", 4), true);
    // top-8 over 64 nodes: 8 * 126/128 = 7.875 remote copies per token, at most 4 nodes: 4 sends,
    // so the bytes (here, without latency, the link time) shrink to 4/7.875
    double ratio = four.get(StatField.EP_A2A_UPPER_TIER_LINK_TIME) / free.get(StatField.EP_A2A_UPPER_TIER_LINK_TIME);
    assertThat(ratio).isCloseTo(4 / 7.875, within(1e-9));
    // with latency the 126 transfers' latencies stay
    double withLatency = run(ModelVersion.CORRECTED, n -> n.put("moe_max_domains_per_token", 4))
        .get(StatField.EP_A2A_UPPER_TIER_LINK_TIME) / run(ModelVersion.CORRECTED, n -> { })
        .get(StatField.EP_A2A_UPPER_TIER_LINK_TIME);
    assertThat(withLatency).isGreaterThan(4 / 7.875).isLessThan(1);
    assertThat(four.get(StatField.EP_A2A_TIER0_LINK_TIME)).isGreaterThan(free.get(StatField.EP_A2A_TIER0_LINK_TIME));
  }

  @Test
  void oneMicrobatchHasNothingToPairWith() throws Exception {
    // PP 1 with one microbatch per step (batch 512 over DP 512): Megatron-Core runs its forward alone and
    // its backward alone (combined_1f1b_schedule_for_no_pipelining), so nothing is hidden
    Consumer<ObjectNode> one = n -> n.put("batch_size", 512);
    Stats plain = run(ModelVersion.CORRECTED, one);
    Stats overlap = run(ModelVersion.CORRECTED, one.andThen(n -> n.put("moe_a2a_overlap", true)));
    assertThat(overlap.get(StatField.TOTAL_TIME)).isEqualTo(plain.get(StatField.TOTAL_TIME));
    assertThat(overlap.get(StatField.EP_COMM_EXPOSED_TIME)).isEqualTo(plain.get(StatField.EP_COMM_EXPOSED_TIME));
  }

  @Test
  void overlapHidesPairedTransfersOnlyAndKeepsTheRecomputedOnesExposed() throws Exception {
    // four microbatches: the first forward and the last backward alone, three pairs
    Consumer<ObjectNode> four = n -> n.put("batch_size", 2048);
    Stats plain = run(ModelVersion.CORRECTED, four);
    Stats hidden = run(ModelVersion.CORRECTED, four.andThen(n -> n.put("moe_a2a_overlap", true)));
    double link = plain.get(StatField.EP_COMM_EXPOSED_TIME);
    double overlapped = hidden.get(StatField.EP_COMM_OVERLAPPED_TIME);
    double exposed = hidden.get(StatField.EP_COMM_EXPOSED_TIME);
    assertThat(overlapped + exposed).isCloseTo(link, within(1e-9));
    // a quarter of the forward and backward exchanges (the unpaired passes) stays exposed at least
    assertThat(exposed).isGreaterThanOrEqualTo(link / 4).isLessThan(link);
    // no more hidden than the compute of the paired passes could cover
    double compute = plain.get(StatField.FW_TIME) + plain.get(StatField.BW_TIME) + plain.get(StatField.RECOMPUTE_TIME);
    assertThat(overlapped).isLessThanOrEqualTo(compute * 3 / 4);
    // full recompute's second exchange is outside the pairs
    assertThat(hidden.get(StatField.EP_RECOMM_EXPOSED_TIME)).isPositive()
        .isEqualTo(plain.get(StatField.EP_RECOMM_EXPOSED_TIME));
    assertThat(plain.get(StatField.TOTAL_TIME) - hidden.get(StatField.TOTAL_TIME)).isCloseTo(overlapped, within(1e-9));
  }

  @Test
  void onlyASelectiveRecomputeIsPartnerCompute() throws Exception {
    // four microbatches, three pairs: a selective recompute runs inside its module's backward
    // node and hides more; a full recompute runs before the paired backward (Megatron-Core's
    // recompute_model_chunk_schedule_plan) and hides exactly what no recompute hides
    // (on GPUs of 160 GiB, so that the runs without full recompute fit)
    Consumer<ObjectNode> four = n -> n.put("batch_size", 2048).put("moe_a2a_overlap", true);
    Consumer<ObjectNode> big = sys -> ((ObjectNode) sys.get("mem1")).put("GiB", 160);
    double none = run(ModelVersion.CORRECTED, four.andThen(n -> n.put("activation_recompute", "none")), false, big)
        .get(StatField.EP_COMM_OVERLAPPED_TIME);
    double full = run(ModelVersion.CORRECTED, four, false, big).get(StatField.EP_COMM_OVERLAPPED_TIME);
    double attn = run(ModelVersion.CORRECTED, four.andThen(n -> n.put("activation_recompute", "attn_only")), false, big)
        .get(StatField.EP_COMM_OVERLAPPED_TIME);
    assertThat(full).isCloseTo(none, within(none * 1e-12));
    assertThat(attn).isGreaterThan(none);
  }

  @Test
  void fullRecomputeSendsTheForwardExchangesAgain() throws Exception {
    // the example recomputes whole blocks: the corrected model repeats the dispatch and the
    // combine (Megatron-Core checkpoints whole layers), each the size of its backward twin in
    // bf16, so the re-communication is half the forward-plus-backward link time; the fork sends
    // them once
    Stats c = run(ModelVersion.CORRECTED, n -> { });
    assertThat(c.get(StatField.EP_RECOMM_LINK_TIME))
        .isCloseTo(c.get(StatField.EP_COMM_LINK_TIME) / 2, within(c.get(StatField.EP_COMM_LINK_TIME) * 1e-12));
    assertThat(run(ModelVersion.CALCULON_MOE, n -> { }).get(StatField.EP_RECOMM_LINK_TIME)).isZero();
  }

  @Test
  void anFp8DispatchShortensTheExchange() throws Exception {
    Stats bf16 = run(ModelVersion.CORRECTED, n -> { }, true);
    Stats fp8 = run(ModelVersion.CORRECTED, n -> n.put("moe_dispatch_datatype", "float8"), true);
    // the forward dispatch is one of four exchanges per block (dispatch and combine, forward and backward)
    assertThat(fp8.get(StatField.EP_COMM_LINK_TIME)).isCloseTo(bf16.get(StatField.EP_COMM_LINK_TIME) * 7 / 8,
        within(bf16.get(StatField.EP_COMM_LINK_TIME) * 0.01));
  }

  @Test
  void allToAllOverlapKeepsTheContextParallelReCommunication() throws Exception {
    // CP 8 (all-gather, partly exposed: at CP 2 NCCL's ring moves half the keys and values and the
    // attention hides them) with full recompute: the recomputed forward repeats the KV exchange. The all-to-all
    // overlap scales the EP re-communication only; the CP one must stay in the total (it was
    // dropped when the overlap re-summed the exposed re-communication)
    Consumer<ObjectNode> cp = n -> n.put("context_par", 8).put("context_par_net", 1).put("data_par", 64)
        .put("context_par_comm_type", "all_gather");
    Stats off = run(ModelVersion.CORRECTED, cp);
    Stats on = run(ModelVersion.CORRECTED, cp.andThen(n -> n.put("moe_a2a_overlap", true)));
    double cpRecomm = off.get(StatField.RECOMM_EXPOSED_TIME) - off.get(StatField.TP_RECOMM_EXPOSED_TIME)
        - off.get(StatField.EP_RECOMM_EXPOSED_TIME) - off.get(StatField.ES_RECOMM_EXPOSED_TIME);
    assertThat(cpRecomm).isPositive();
    assertThat(on.get(StatField.RECOMM_EXPOSED_TIME)).isCloseTo(on.get(StatField.TP_RECOMM_EXPOSED_TIME)
        + on.get(StatField.EP_RECOMM_EXPOSED_TIME) + on.get(StatField.ES_RECOMM_EXPOSED_TIME) + cpRecomm, within(1e-12));
  }
}
