package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.hardware.Hardware;
import calculon.model.Stage;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link DataParallelSync} on hand-derived cases: one synthetic block and a synthetic two-tier
 * system with round numbers, so that every byte and second below can be checked on paper.
 *
 * <p>System (both tiers: reduce_scatter and all_gather {@code [1, -1]}, all_reduce {@code [2, -1]},
 * so a ring collective among n members puts S (n-1)/n bytes (twice that for an all-reduce) on each
 * link, Calculon's {@code bytes * scalar * (1 + offset/n)}):
 * <ul>
 *   <li>tier 0 ("NVLink"): 200 GB/s x 0.5 efficiency = 100e9 B/s, 1 us latency, 8 GPUs;
 *   <li>tier 1 ("across nodes"): 25 GB/s x 0.8 efficiency = 20e9 B/s, 10 us latency, 64 GPUs.
 * </ul>
 * Block: 1e9 bytes of bf16 weights synchronised over DP, a 2e9-byte fp32 gradient buffer;
 * MoE blocks add 3e9 bytes of expert weights and a 6e9-byte expert gradient buffer over DP_exp.
 * Four blocks per stage (one chunk), 8 microbatches per step unless a case says otherwise.
 */
class DataParallelSyncTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final double TIER0_BYTES_PER_SECOND = 200e9 * 0.5, TIER0_LATENCY_SECONDS = 1e-6;
  static final double TIER1_BYTES_PER_SECOND = 25e9 * 0.8, TIER1_LATENCY_SECONDS = 10e-6;
  static final double WEIGHT_BYTES = 1e9, GRADIENT_BYTES = 2e9;
  static final double EXPERT_WEIGHT_BYTES = 3e9, EXPERT_GRADIENT_BYTES = 6e9;
  static final int BLOCKS = 4;
  /** relative tolerance: the derivations are exact up to floating-point rounding */
  static final double REL = 1e-12;

  static final String SYSTEM = """
      {"matrix": {"bfloat16": {"tflops": 1000, "gflops_efficiency": [[0, 1.0]]}},
       "vector": {"bfloat16": {"tflops": 100, "gflops_efficiency": [[0, 1.0]]}},
       "mem1": {"GiB": 1000, "GBps": 1000, "MB_efficiency": [[0, 1.0]]},
       "mem2": {"GiB": 0, "GBps": 1, "MB_efficiency": [[0, 1.0]]},
       "processing_mode": "roofline",
       "networks": [
         {"bandwidth": 200, "efficiency": 0.5, "size": 8, "latency": 1e-6,
          "ops": {"p2p": [1.0, null], "reduce_scatter": [1.0, -1], "all_gather": [1.0, -1],
                  "all_reduce": [2.0, -1], "all_to_all": [1.0, null]},
          "must_be_filled": false, "processor_usage": 0.0},
         {"bandwidth": 25, "efficiency": 0.8, "size": 64, "latency": 1e-5,
          "ops": {"p2p": [1.0, null], "reduce_scatter": [1.0, -1], "all_gather": [1.0, -1],
                  "all_reduce": [2.0, -1], "all_to_all": [1.0, null]},
          "must_be_filled": false, "processor_usage": 0.0}]}
      """;

  /** A dense run: TP 8 fills a node (tier 0), DP 4 across nodes (tier 1), ZeRO 1. */
  static final String EXECUTION = """
      {"num_procs": 32, "tensor_par": 8, "pipeline_par": 1, "data_par": 4,
       "tensor_par_net": 0, "pipeline_par_net": 0, "data_par_net": 1,
       "batch_size": 32, "microbatch_size": 1, "num_experts": 1, "top_k_experts": 1,
       "expert_par": 1, "expert_slice": 1, "data_par_exp": 1, "data_par_exp_net": 0,
       "expert_par_net": 0, "expert_slice_net": 0, "datatype": "bfloat16",
       "fused_activation": true, "attention_type": "multihead", "activation_recompute": "none",
       "pipeline_interleaving": 1, "optimizer_sharding": true, "tensor_par_comm_type": "rs_ag",
       "tensor_par_overlap": "none", "seq_par_ag_redo": false, "data_par_overlap": false,
       "weight_offload": false, "activations_offload": false, "optimizer_offload": false,
       "training": true, "model_MoE": false}
      """;

  /** Seconds of a ring collective of {@code wireBytes} (already times scalar and (n-1)/n) on tier 0 / tier 1. */
  static double tier0(double wireBytes) {
    return TIER0_LATENCY_SECONDS + wireBytes / TIER0_BYTES_PER_SECOND;
  }

  static double tier1(double wireBytes) {
    return TIER1_LATENCY_SECONDS + wireBytes / TIER1_BYTES_PER_SECOND;
  }

  static Execution execution(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(EXECUTION);
    edit.accept(node);
    return ExecutionReader.read(node, "synthetic-execution.json");
  }

  /** TP 2 on tier 0, DP 8 on tier 1: 4 members of each DP group per 8-GPU node. */
  static void dp8AcrossNodes(ObjectNode e) {
    e.put("num_procs", 16);
    e.put("tensor_par", 2);
    e.put("data_par", 8);
  }

  /** A MoE run of 8 experts, top 2, with {@code ep} x {@code es} per node and DP_exp 4 on tier 1. */
  static void moe(ObjectNode e, int ep, int es) {
    e.put("model_MoE", true);
    e.put("num_experts", 8);
    e.put("top_k_experts", 2);
    e.put("expert_par", ep);
    e.put("expert_slice", es);
    e.put("data_par_exp", 4);
    e.put("data_par_exp_net", 1);
  }

  /** A block with the bytes above and nothing else (no compute, no other traffic). */
  static BlockStats block(boolean moe) {
    BlockStats b = BlockStats.stageAverage(List.of(), 1); // all zero
    b.weightSpace = WEIGHT_BYTES + (moe ? EXPERT_WEIGHT_BYTES : 0);
    b.dpWeightSpace = WEIGHT_BYTES;
    b.dpGradBuffer = GRADIENT_BYTES;
    if (moe) {
      b.expertWeightSpace = EXPERT_WEIGHT_BYTES;
      b.expertGradBuffer = EXPERT_GRADIENT_BYTES;
    }
    return b;
  }

  static DataParallelSync sync(Execution exe, BlockStats b, boolean corrected) throws Exception {
    Hardware hw = new Hardware(SystemReader.read(JSON.readTree(SYSTEM), "synthetic-system.json"), exe.datatype());
    return new DataParallelSync(exe, hw, corrected, PipelineSchedule.of(exe, corrected), b, BLOCKS, BLOCKS, 1, BLOCKS - 1, 1);
  }

  /** The step without overlap windows: every block time 0 (what only overlap reads). */
  static DataParallelSync.Traffic step(Execution exe, BlockStats b, boolean corrected) throws Exception {
    return sync(exe, b, corrected).step(0, 0, 0, 0, 0, 0, 0);
  }

  static void assertClose(double actual, double expected) {
    assertThat(actual).isCloseTo(expected, within(Math.abs(expected) * REL));
  }

  @Test
  void zeroStage0AllReducesTheGradientBuffer() throws Exception {
    Execution exe = execution(e -> {
      e.put("optimizer_sharding", false);
      e.put("zero_stage", 0);
    });
    DataParallelSync.Traffic t = step(exe, block(false), true);
    // all-reduce of the 2e9-byte fp32 gradients among DP = 4 on tier 1 (TP 8 fills the node: one
    // rail): 2e9 x 2 x 3/4 = 3e9 wire bytes / 20e9 B/s = 0.15 s + 10 us = 0.15001 s per block
    double block = 0.15001;
    assertClose(tier1(2 * GRADIENT_BYTES * 3 / 4), block);
    assertClose(t.linkSeconds(), BLOCKS * block);           // 0.60004 s
    assertClose(t.exposedSeconds(), BLOCKS * block);        // no overlap: all exposed
    assertThat(t.blockBytes()).isEqualTo(WEIGHT_BYTES);     // block_dp_size reports the weight bytes
    assertThat(t.blockExpertBytes()).isZero();
    assertThat(t.expertLinkSeconds()).isZero();
    assertThat(t.chunkBandwidthReq()).isZero();
    assertThat(t.tailBandwidthReq()).isZero();
  }

  @Test
  void calculonMoeAllReducesTheWeightBytes() throws Exception {
    Execution exe = execution(e -> {
      e.put("optimizer_sharding", false);
      e.put("zero_stage", 0);
    });
    // the fork moves the weight bytes: 1e9 x 2 x 3/4 = 1.5e9 / 20e9 = 0.075 s + 10 us
    DataParallelSync.Traffic t = step(exe, block(false), false);
    assertClose(t.linkSeconds(), BLOCKS * 0.07501);
  }

  @Test
  void zeroStage1ReduceScattersGradientsAndAllGathersWeights() throws Exception {
    DataParallelSync.Traffic t = step(execution(e -> { }), block(false), true);
    // reduce-scatter of the fp32 gradients: 2e9 x 3/4 = 1.5e9 / 20e9 = 0.075 s + 10 us = 0.07501 s
    // all-gather of the bf16 weights:       1e9 x 3/4 = 0.75e9 / 20e9 = 0.0375 s + 10 us = 0.03751 s
    double block = 0.07501 + 0.03751;
    assertClose(tier1(GRADIENT_BYTES * 3 / 4) + tier1(WEIGHT_BYTES * 3 / 4), block);
    assertClose(t.linkSeconds(), BLOCKS * block);            // 0.45008 s
    assertClose(t.exposedSeconds(), BLOCKS * block);
    assertThat(t.blockBytes()).isEqualTo(WEIGHT_BYTES);
  }

  @Test
  void zeroStage1OnNvlinkRunsAtTheNodesBandwidth() throws Exception {
    // TP 2 x DP 4 in one 8-GPU node, DP on tier 0: the lowest tier has no tier below, one rail
    Execution exe = execution(e -> {
      e.put("num_procs", 8);
      e.put("tensor_par", 2);
      e.put("data_par_net", 0);
    });
    DataParallelSync.Traffic t = step(exe, block(false), true);
    // RS 2e9 x 3/4 = 1.5e9 / 100e9 = 0.015 s + 1 us; AG 1e9 x 3/4 = 0.75e9 / 100e9 = 0.0075 s + 1 us
    double block = 0.015001 + 0.007501;
    assertClose(tier0(GRADIENT_BYTES * 3 / 4) + tier0(WEIGHT_BYTES * 3 / 4), block);
    assertClose(t.linkSeconds(), BLOCKS * block);            // 0.090008 s
  }

  @Test
  void zeroStage1AcrossNodesSplitsItsRingOverTheNodesRails() throws Exception {
    // TP 2 on tier 0, DP 8 on tier 1: Megatron's rank order puts 8 / 2 = 4 DP members in each
    // node, so NCCL's 4 channels each put 1/4 of the bytes on their own tier-1 link and 3/4 cross
    // the node's NVLink; the slower share sets the time (ring among n = 8: factor 7/8)
    Execution exe = execution(DataParallelSyncTest::dp8AcrossNodes);
    DataParallelSync.Traffic t = step(exe, block(false), true);
    // reduce-scatter of 2e9: tier 1 gets 2e9/4 x 7/8 = 4.375e8 B / 20e9 = 0.021875 s + 10 us = 0.021885 s
    //                        tier 0 gets 2e9 x 3/4 x 7/8 = 1.3125e9 B / 100e9 = 0.013125 s + 1 us = 0.013126 s
    double reduce = Math.max(0.021885, 0.013126);
    // all-gather of 1e9:     tier 1 2.1875e8 / 20e9 = 0.0109375 s + 10 us = 0.0109475 s
    //                        tier 0 6.5625e8 / 100e9 = 0.0065625 s + 1 us = 0.0065635 s
    double gather = Math.max(0.0109475, 0.0065635);
    assertClose(tier1(GRADIENT_BYTES / 4 * 7 / 8), 0.021885);
    assertClose(tier0(GRADIENT_BYTES * 3 / 4 * 7 / 8), 0.013126);
    assertClose(t.linkSeconds(), BLOCKS * (reduce + gather)); // 0.131330 s
    // the same group on one rail (Calculon-MoE: no rails) moves every byte over tier 1, the
    // weight bytes both ways: 2 x (1e9 x 7/8 / 20e9 + 10 us) = 2 x 0.04376 s per block
    assertClose(step(exe, block(false), false).linkSeconds(), BLOCKS * 2 * 0.04376);
  }

  @Test
  void zeroStage1OverlapExposesTheFirstBlockAndWhatTheLastChunkCannotHide() throws Exception {
    // one 1F1B chunk of 4 blocks (PP 1): no earlier chunk overlaps; the last chunk's window is its
    // backward time less its transfer and an average block, (3 x 0.05 + 0.05) - 0 - 0.05 = 0.15 s,
    // against its last 3 blocks' reduction: 3 x 0.07501 = 0.22503 s, 0.07503 s past the window.
    // The gather runs beside the next step's forward (overlap_param_gather): 4 blocks of 0.03751 s
    // prefetched behind 0.1 s forward blocks expose only the first, 0.03751 s. Processor usage 0.
    Execution exe = execution(e -> e.put("data_par_overlap", true));
    DataParallelSync.Traffic t = sync(exe, block(false), true).step(0.1, 0.1, 0.05, 0.05, 0.2, 0, 0);
    double reduce = 0.07501, gather = 0.03751;
    // exposed = one block's reduction + last-chunk overflow + first gather
    assertClose(t.exposedSeconds(), reduce + (3 * reduce - 0.15) + gather);   // 0.18755 s
    assertClose(t.linkSeconds(), BLOCKS * (reduce + gather));
    // the tail's required bandwidth: the bytes the time puts on a DP link in that window, the
    // reduce-scatter's 2e9 x 3/4 = 1.5e9 per block (the gather runs in the forward pass):
    // 4 x 1.5e9 / 0.15 s = 4e10 B/s. One chunk: nothing before the last overlaps, no chunk figure.
    assertClose(t.tailBandwidthReq(), 4e10);
    assertThat(t.chunkBandwidthReq()).isZero();
    // Calculon-MoE: 4 blocks' weight bytes x (rs + ag scalars 1 + 1) over the same 0.15 s window
    DataParallelSync.Traffic fork = sync(exe, block(false), false).step(0.1, 0.1, 0.05, 0.05, 0.2, 0, 0);
    assertClose(fork.tailBandwidthReq(), BLOCKS * WEIGHT_BYTES * 2 / 0.15);
  }

  @Test
  void theRequiredBandwidthCountsTheBytesOneRailCarries() throws Exception {
    // DP 8 across nodes with 4 members per node (TP 2), as zeroStage1AcrossNodes... above, with
    // overlap: the time charges each tier-1 link 2e9/4 x 7/8 = 4.375e8 bytes of the reduce-scatter
    // per block, so the tail window of 0.15 s needs 4 x 4.375e8 / 0.15 = 1.1666...e10 B/s, not the
    // unsplit 4 x 1e9 x 2 / 0.15 = 5.333...e10 B/s the weight bytes and both scalars would say
    Execution exe = execution(e -> {
      dp8AcrossNodes(e);
      e.put("data_par_overlap", true);
    });
    DataParallelSync.Traffic t = sync(exe, block(false), true).step(0.1, 0.1, 0.05, 0.05, 0.2, 0, 0);
    assertClose(t.tailBandwidthReq(), BLOCKS * 4.375e8 / 0.15);
    // the window is what the exposed time overflows: 3 blocks' reduction (0.021885 s each, the
    // tier-1 share) against 0.15 s fits, so only the first block's reduction and gather stay
    assertClose(t.exposedSeconds(), 0.021885 + 0.0109475);
  }

  @Test
  void zeroStage3GathersEveryBlockTwicePerMicrobatchWithoutPipelining() throws Exception {
    Execution exe = execution(e -> e.put("zero_stage", 3));
    DataParallelSync.Traffic t = step(exe, block(false), true);
    // each microbatch: all-gather before forward and again before backward (1e9 x 3/4 / 20e9 +
    // 10 us = 0.03751 s each), reduce-scatter after backward (2e9 x 3/4 / 20e9 + 10 us = 0.07501 s)
    double perBlock = 2 * 0.03751 + 0.07501;
    // 8 microbatches (32 samples / DP 4 / microbatch 1) x 4 blocks
    assertThat(exe.numMicrobatches()).isEqualTo(8);
    assertClose(t.linkSeconds(), 8 * BLOCKS * perBlock);    // 4.80096 s
    assertClose(t.exposedSeconds(), 8 * BLOCKS * perBlock);
    // bytes per block and microbatch: two gathers of the weights and one scatter of the gradients
    assertThat(t.blockBytes()).isEqualTo(2 * WEIGHT_BYTES + GRADIENT_BYTES);
    // nothing overlaps: no bandwidth makes the traffic hidden
    assertThat(t.chunkBandwidthReq()).isZero();
    assertThat(t.tailBandwidthReq()).isZero();
  }

  @Test
  void zeroStage3OverlapHidesWhatTheComputeCovers() throws Exception {
    Execution exe = execution(e -> {
      e.put("zero_stage", 3);
      e.put("data_par_overlap", true);
    });
    // blocks of 0.03 s forward and 0.1 s backward, none of it HBM-bound or on tier 1
    DataParallelSync.Traffic t = sync(exe, block(false), true).step(0.03, 0.03, 0.1, 0.1, 0.4, 0, 0);
    // forward gather 0.03751 s behind 0.03 s of forward pass: 0.00751 s exposed;
    // backward gather + scatter 0.03751 + 0.07501 = 0.11252 s behind 0.1 s: 0.01252 s exposed
    assertClose(t.exposedSeconds(), 8 * BLOCKS * (0.00751 + 0.01252));   // 0.64096 s
    assertClose(t.linkSeconds(), 8 * BLOCKS * (2 * 0.03751 + 0.07501));
    // required bandwidth of one tier-1 link: the forward gather puts 1e9 x 3/4 = 7.5e8 B on it in
    // 0.03 s (2.5e10 B/s); the backward gather and scatter 7.5e8 + 1.5e9 = 2.25e9 B in 0.1 s
    // (2.25e10 B/s); the larger, 2.5e10 B/s, above the link's 2e10: hence the exposure above
    assertClose(t.chunkBandwidthReq(), 2.5e10);
    assertClose(t.tailBandwidthReq(), 2.5e10);
  }

  /**
   * Megatron-FSDP with experts, as the model zoo's Qwen3 FSDP row runs it (EP inside a node, the
   * experts' gathers and reduce-scatters over DP_exp across nodes): the collectives run beside
   * the whole pass, the expert all-to-all on NVLink included, not only its matrix products.
   */
  @Test
  void zeroStage3HidesBehindTheWholePassLessItsHbmBoundTimeAndTheTrafficOnItsTiers() throws Exception {
    // TP 8 x DP 4 dense (DP on tier 1); EP 4 x ES 2 fill a node, DP_exp 4 on tier 1
    Execution exe = execution(e -> {
      moe(e, 4, 2);
      e.put("zero_stage", 3);
      e.put("data_par_overlap", true);
    });
    BlockStats b = block(true);
    int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal();
    // matrix products alone: 0.1 s forward, 0.25 s recompute + backward (the old windows)
    b.flopsTime[fw] = 0.1;
    b.flopsTime[ag] = 0.1;
    b.flopsTime[wg] = 0.1;
    b.reFlopsTime = 0.05;
    // HBM-bound seconds: 0.05 forward; 0.05 + 0.03 + 0.02 recompute and backward
    b.memTime[fw] = 0.05;
    b.memTime[ag] = 0.05;
    b.memTime[wg] = 0.03;
    b.reMemTime = 0.02;
    // the expert all-to-all and the TP collectives, 0.04 s and 0.01 s per pass, on NVLink (tier 0)
    for (int pass : new int[] {BlockStats.FWD, BlockStats.BWD, BlockStats.RECOMM}) {
      for (int pos : new int[] {BlockStats.BASE, BlockStats.EDGE}) {
        b.commTime[calculon.model.CommGroup.EP.ordinal()][pass][pos] = 0.04;
        b.commTime[calculon.model.CommGroup.TP.ordinal()][pass][pos] = 0.01;
      }
    }
    // block times with that traffic exposed: forward 0.25 s, recompute + backward 0.5 s
    DataParallelSync.Traffic t = sync(exe, b, true).step(0.25, 0.25, 0.5, 0.5, 2.0, 0, 0);
    // gather: dense 1e9 x 3/4 / 20e9 + 10 us = 0.03751 s, experts 3e9 x 3/4 / 20e9 + 10 us = 0.11251 s
    double gather = 0.03751 + 0.11251;
    // reduce-scatter: dense 2e9 x 3/4 / 20e9 + 10 us = 0.07501 s, experts 6e9 x 3/4 / 20e9 + 10 us
    double scatter = 0.07501 + 0.22501;
    // forward window 0.25 - 0.05 = 0.2 s hides the 0.15002 s gather; backward window
    // 0.5 - 0.1 = 0.4 s against 0.45004 s: 0.05004 s exposed per block and microbatch
    // (the matrix products alone, 0.1 s and 0.25 s, exposed 0.05002 + 0.20004 s)
    assertThat(exe.numMicrobatches()).isEqualTo(8);
    assertClose(t.exposedSeconds(), 8 * BLOCKS * (gather + scatter - 0.4));   // 1.60128 s
    assertClose(t.linkSeconds(), 8 * BLOCKS * (2 * gather + scatter));
    // required bandwidth: the forward gather's 7.5e8 + 2.25e9 = 3e9 B per tier-1 link in 0.2 s
    // (1.5e10 B/s); backward 3e9 + 1.5e9 + 4.5e9 = 9e9 B in 0.4 s (2.25e10 B/s), the larger
    assertClose(t.chunkBandwidthReq(), 2.25e10);

    // the same all-to-all on the tier the experts' collectives cross shares their links: its
    // 0.04 s per pass leave the windows (forward 0.16 s, still enough; backward 0.4 - 0.08 =
    // 0.32 s: 0.13004 s exposed); the TP traffic stays on tier 0 and in the window
    Execution epAcrossNodes = execution(e -> {
      moe(e, 4, 2);
      e.put("expert_par_net", 1);
      e.put("zero_stage", 3);
      e.put("data_par_overlap", true);
    });
    DataParallelSync.Traffic shared = sync(epAcrossNodes, b, true).step(0.25, 0.25, 0.5, 0.5, 2.0, 0, 0);
    assertClose(shared.exposedSeconds(), 8 * BLOCKS * (gather + scatter - 0.32));  // 4.16128 s
  }

  @Test
  void zeroStage3WithPipeliningHoldsTheStageGatheredAndScattersOnce() throws Exception {
    // PP 2 (DP 4, TP 8 on tier 0, PP on tier 1): each block gathered once in the first
    // microbatch's forward pass and reduce-scattered once after its last backward pass
    Execution exe = execution(e -> {
      e.put("num_procs", 64);
      e.put("pipeline_par", 2);
      e.put("pipeline_par_net", 1);
      e.put("zero_stage", 3);
      e.put("data_par_overlap", true);
    });
    // forward blocks of 0.03 s (the gather's window); the backward window hides nothing here
    DataParallelSync.Traffic t = sync(exe, block(false), true).step(0.03, 0.03, 0, 0, 0, 0, 0);
    // link: 4 x (0.03751 + 0.07501) = 0.45008 s, independent of the 8 microbatches
    assertClose(t.linkSeconds(), BLOCKS * (0.03751 + 0.07501));
    // exposed: the gather's 0.00751 s past the forward compute, the reduce-scatter whole
    assertClose(t.exposedSeconds(), BLOCKS * (0.00751 + 0.07501));       // 0.33008 s
    assertThat(t.blockBytes()).isEqualTo(WEIGHT_BYTES + GRADIENT_BYTES);
    // the gather's 7.5e8 B per link in 0.03 s: 2.5e10 B/s; the reduce-scatter after the last
    // backward pass has no compute to hide behind: no tail figure
    assertClose(t.chunkBandwidthReq(), 2.5e10);
    assertThat(t.tailBandwidthReq()).isZero();
  }

  @Test
  void moeExpertsSynchroniseOverDataParExpOnTheirOwnTier() throws Exception {
    // dense side TP 8 x DP 4 (tier 1); expert side EP 4 x ES 2 fill a node, DP_exp 4 on tier 1
    Execution exe = execution(e -> moe(e, 4, 2));
    DataParallelSync.Traffic t = step(exe, block(true), true);
    // dense: RS 2e9 and AG 1e9 among 4: 0.07501 + 0.03751 s (as ZeRO 1 above)
    double dense = 0.07501 + 0.03751;
    // experts: RS 6e9 x 3/4 = 4.5e9 / 20e9 = 0.225 s + 10 us; AG 3e9 x 3/4 = 2.25e9 / 20e9 = 0.1125 s + 10 us
    double expert = 0.22501 + 0.11251;
    assertClose(t.expertLinkSeconds(), BLOCKS * expert);    // 1.35008 s
    assertClose(t.linkSeconds(), BLOCKS * (dense + expert)); // 1.80016 s: the link time holds both
    assertThat(t.blockExpertBytes()).isEqualTo(EXPERT_WEIGHT_BYTES);
    assertThat(t.blockBytes()).isEqualTo(WEIGHT_BYTES + EXPERT_WEIGHT_BYTES);
  }

  @Test
  void withDataPar1OnlyTheCorrectedModelKeepsTheExpertTraffic() throws Exception {
    // DP 1, DP_exp 4: the dense weights need no reduction, the experts' do. Dense side TP 8 x
    // PP 4 = 32 (PP on tier 1); expert side EP 2 x ES 1 x PP 4 x DP_exp 4 = 32
    Execution exe = execution(e -> {
      e.put("pipeline_par", 4);
      e.put("pipeline_par_net", 1);
      e.put("data_par", 1);
      e.put("batch_size", 8);
      e.put("optimizer_sharding", false);
      e.put("zero_stage", 0);
      moe(e, 2, 1);
    });
    // the experts' all-reduce of 6e9 fp32 gradient bytes among DP_exp = 4 on tier 1: the expert
    // groups nested inside it per node are ES x EP = 2 ranks (PP runs on tier 1, not below), so
    // 8 / 2 = 4 members per node, 4 rails (the group's 4):
    // tier 1 carries 6e9/4 x 2 x 3/4 = 2.25e9 B / 20e9 = 0.1125 s + 10 us;
    // tier 0 carries 6e9 x 3/4 x 2 x 3/4 = 6.75e9 / 100e9 = 0.0675 s + 1 us: 0.11251 s per block
    DataParallelSync.Traffic corrected = step(exe, block(true), true);
    assertClose(tier1(EXPERT_GRADIENT_BYTES / 4 * 2 * 3 / 4), 0.11251);
    assertClose(corrected.linkSeconds(), BLOCKS * 0.11251);
    assertClose(corrected.expertLinkSeconds(), BLOCKS * 0.11251);
    // Calculon-MoE drops all gradient traffic from the step when DP is 1 (spec quirk 16) but still
    // reports the expert part: one rail, the weight bytes, 3e9 x 2 x 3/4 = 4.5e9 / 20e9 + 10 us
    DataParallelSync.Traffic fork = step(exe, block(true), false);
    assertThat(fork.linkSeconds()).isZero();
    assertThat(fork.exposedSeconds()).isZero();
    assertClose(fork.expertLinkSeconds(), BLOCKS * 0.22501);
  }
}
