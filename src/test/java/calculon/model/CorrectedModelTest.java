package calculon.model;

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
import calculon.schedule.Evaluator;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * One test per fix of the corrected model (docs/deviations.md), each against a hand derivation
 * from the Calculon-MoE version's own numbers on the same configuration.
 */
class CorrectedModelTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final double REL = 1e-12;

  record Pair(Stats fork, Stats corrected, Execution exe) {}

  static Pair run(String model, String execution, String system, Consumer<ObjectNode> edit) throws Exception {
    Application app = ApplicationReader.read(Path.of(model));
    ObjectNode e = (ObjectNode) JSON.readTree(Path.of(execution).toFile());
    edit.accept(e);
    Execution exe = ExecutionReader.read(e, execution);
    SystemSpec sys = SystemReader.read(Path.of(system));
    RunChecks.check(app, exe, sys, model, execution, system);
    Hardware hw = new Hardware(sys, exe.datatype());
    return new Pair(Evaluator.evaluate(app, exe, hw, ModelVersion.CALCULON_MOE, true),
        Evaluator.evaluate(app, exe, hw, ModelVersion.CORRECTED, true), exe);
  }

  static Pair dense(Consumer<ObjectNode> edit) throws Exception {
    return run("models/megatron-22B.json", "examples/megatron_1T_training_4096_original.json", "systems/a100_80g.json", edit);
  }

  static Pair moe(Consumer<ObjectNode> edit) throws Exception {
    return run("models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json", edit);
  }

  static Stats.LayerStats layer(Stats s, String name) {
    return s.layers().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void activationMemoryHoldsEveryInFlightMicrobatch() throws Exception {
    // PP 4, 8 microbatches: 1F1B keeps min(8, 4) = 4 microbatches' activations per stage
    Pair p = dense(e -> e.put("batch_size", 1024).put("weight_offload", false));
    Stats s = p.corrected();
    double working = s.get(StatField.BLOCK_ACT_WORKING_SPACE), storage = s.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    int blocksPerProc = 48 / 4;
    assertThat(s.get(StatField.ACT_SPACE)).isCloseTo(working + storage * (blocksPerProc * 4 - 1), within(1.0));
    Stats f = p.fork();
    assertThat(f.get(StatField.ACT_SPACE)).isCloseTo(f.get(StatField.BLOCK_ACT_WORKING_SPACE)
        + f.get(StatField.BLOCK_ACT_STORAGE_SPACE) * (blocksPerProc - 1), within(1.0));
  }

  @Test
  void routerTopKRunsOverTokensTimesExperts() throws Exception {
    Pair p = moe(e -> { });
    double tokensPerRank = 1 * 4096 / 8.0; // microbatch x sequence / TP (sequence parallel)
    assertThat(layer(p.fork(), "RouterBlock_SelectTopK").get(LayerField.FW_FLOPS)).isEqualTo(2 * tokensPerRank);
    assertThat(layer(p.corrected(), "RouterBlock_SelectTopK").get(LayerField.FW_FLOPS)).isEqualTo(2 * tokensPerRank * 16);
  }

  @Test
  void routerPermutationMovesWholeHiddenVectors() throws Exception {
    Pair p = moe(e -> { });
    double routed = 4096 / 8.0 * 2; // tokens per rank x top-k
    assertThat(layer(p.fork(), "RouterBlock_TensorTransformation").get(LayerField.FW_FLOPS)).isEqualTo(routed);
    assertThat(layer(p.corrected(), "RouterBlock_TensorTransformation").get(LayerField.FW_FLOPS)).isEqualTo(routed * 10752);
  }

  @Test
  void pipeOverlapCountsItsFirstTileOnceAsExposedCommunication() throws Exception {
    Pair p = dense(e -> e.put("tensor_par_overlap", "pipe").put("tensor_par_comm_type", "rs_ag"));
    Stats.LayerStats fork = layer(p.fork(), "MlpBlock_Mlp2_RS"), fixed = layer(p.corrected(), "MlpBlock_Mlp2_RS");
    double netTile = fork.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME) / 8;
    assertThat(netTile).isPositive();
    assertThat(fixed.get(LayerField.FW_PROCESSING_TIME))
        .isCloseTo(fork.get(LayerField.FW_PROCESSING_TIME) - netTile, within(1e-15));
    assertThat(fixed.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME_EXPOSED))
        .isEqualTo(fork.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME_EXPOSED));
  }

  @Test
  void usefulFlopsCountTheOptimizerStepOncePerStep() throws Exception {
    // DP 128: batch 128 is one microbatch per step, 1024 is eight; the per-microbatch work is the same
    Pair p = dense(e -> e.put("batch_size", 1024));
    Pair one = dense(e -> e.put("batch_size", 128));
    int microbatches = 1024 / 128;
    double optim = p.corrected().get(StatField.BLOCK_OPTIM_FLOPS);
    assertThat(optim).isPositive();
    assertThat(p.corrected().get(StatField.USEFUL_FLOPS))
        .isCloseTo(one.corrected().get(StatField.USEFUL_FLOPS) - optim + optim / microbatches, within(1.0));
    // Calculon-MoE counts the step once per microbatch
    assertThat(p.fork().get(StatField.USEFUL_FLOPS)).isCloseTo(one.fork().get(StatField.USEFUL_FLOPS), within(1.0));
  }

  @Test
  void expertOptimizerStateIsShardedOverDataParallelExperts() throws Exception {
    Pair p = moe(e -> { });
    // DP 128, DP_exp 8: an expert's optimizer state is split 8 ways, not 128
    double fork = layer(p.fork(), "MlpBlock_Mlp1_MoE").get(LayerField.OPTIMIZER);
    assertThat(layer(p.corrected(), "MlpBlock_Mlp1_MoE").get(LayerField.OPTIMIZER)).isCloseTo(fork * 128 / 8, within(fork * REL * 16));
    assertThat(layer(p.corrected(), "AttnBlock_Query").get(LayerField.OPTIMIZER))
        .isEqualTo(layer(p.fork(), "AttnBlock_Query").get(LayerField.OPTIMIZER));
  }

  @Test
  void expertGradientsAreSynchronisedEvenWithoutDataParallelism() throws Exception {
    // 4 GPUs: TP 4, DP 1 for attention; EP 2, ES 1, DP_exp 2 for 2 experts
    Pair p = run("models/megatron-126M.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json",
        e -> e.put("num_procs", 4).put("tensor_par", 4).put("pipeline_par", 1).put("data_par", 1)
        .put("batch_size", 8).put("microbatch_size", 1).put("num_experts", 2).put("expert_par", 2)
        .put("expert_slice", 1).put("data_par_exp", 2).put("optimizer_sharding", false)
        .put("data_par_overlap", false).put("pipeline_par_net", 0).put("data_par_exp_net", 0)
        .put("expert_par_net", 0).put("data_par_net", 0).put("expert_slice_net", 0));
    assertThat(p.fork().get(StatField.DP_COMM_EXPOSED_TIME)).isZero();
    double expTraffic = p.corrected().get(StatField.DP_EXP_COMM_LINK_TIME);
    assertThat(expTraffic).isPositive();
    assertThat(p.corrected().get(StatField.DP_COMM_EXPOSED_TIME)).isCloseTo(expTraffic, within(expTraffic * 1e-12));
  }

  @Test
  void withoutPipelineTheLatencyOfThePipelineNetworkDoesNotMatter() throws Exception {
    // PP = 1 with pipeline_par_net naming a third tier that nothing else uses
    Consumer<ObjectNode> noPipeline = e -> e.put("pipeline_par", 1).put("data_par", 512).put("batch_size", 1024)
        .put("weight_offload", false).put("pipeline_par_net", 2);
    Pair fast = run("models/megatron-22B.json", "examples/megatron_1T_training_4096_original.json",
        withPipelineTier(1e-6).toString(), noPipeline);
    Pair slow = run("models/megatron-22B.json", "examples/megatron_1T_training_4096_original.json",
        withPipelineTier(1e-3).toString(), noPipeline);
    assertThat(slow.corrected().get(StatField.TOTAL_TIME)).isEqualTo(fast.corrected().get(StatField.TOTAL_TIME));
    assertThat(slow.fork().get(StatField.TOTAL_TIME)).isGreaterThan(fast.fork().get(StatField.TOTAL_TIME));
  }

  /** systems/a100_80g.json with a third tier, a copy of tier 1 with the given latency. */
  static Path withPipelineTier(double latencySeconds) throws Exception {
    ObjectNode sys = (ObjectNode) JSON.readTree(Path.of("systems/a100_80g.json").toFile());
    ObjectNode tier = sys.get("networks").get(1).deepCopy();
    tier.put("latency", latencySeconds);
    ((com.fasterxml.jackson.databind.node.ArrayNode) sys.get("networks")).add(tier);
    Path tmp = java.nio.file.Files.createTempFile("pipeline-tier", ".json");
    java.nio.file.Files.writeString(tmp, sys.toString());
    return tmp;
  }

  @Test
  void dropoutGradientsTakeTheDatatypesBytes() throws Exception {
    Pair p = dense(e -> { });
    double fork = layer(p.fork(), "AttnBlock_DropOut").get(LayerField.ACTIVATION_GRAD);
    assertThat(layer(p.corrected(), "AttnBlock_DropOut").get(LayerField.ACTIVATION_GRAD)).isEqualTo(fork * 2); // float16
    assertThat(layer(p.corrected(), "AttnBlock_DropOut").get(LayerField.ACTIVATION))
        .isEqualTo(layer(p.fork(), "AttnBlock_DropOut").get(LayerField.ACTIVATION)); // the mask stays 1 byte
  }

  @Test
  void fp8TrainingKeepsBf16CopiesButComputesInFp8() throws Exception {
    Pair p = moe(e -> e.put("datatype", "float8"));
    Stats.LayerStats fork = layer(p.fork(), "AttnBlock_Query"), fixed = layer(p.corrected(), "AttnBlock_Query");
    assertThat(fixed.get(LayerField.WEIGHT)).isEqualTo(fork.get(LayerField.WEIGHT) * 2);     // 1 byte -> bf16
    assertThat(fixed.get(LayerField.ACTIVATION)).isEqualTo(fork.get(LayerField.ACTIVATION) * 2);
    assertThat(fixed.get(LayerField.FW_FLOPS)).isEqualTo(fork.get(LayerField.FW_FLOPS));
    // the matmul still runs at the FP8 rate: only its memory traffic doubled
    double flopsSeconds = fixed.get(LayerField.FW_FLOPS) / (3958e12 * 0.99);
    assertThat(fixed.get(LayerField.FW_PROCESSING_TIME)).isGreaterThan(fork.get(LayerField.FW_PROCESSING_TIME));
    assertThat(flopsSeconds).isLessThan(fixed.get(LayerField.FW_PROCESSING_TIME));
  }

  /**
   * Qwen3-235B-A22B on 512 H100 (TP 1, EP 128, selective recompute, activations offloaded, bf16): the block stores each
   * tensor its backward pass needs once, and the routing layers (top-k, permutation, both
   * all-to-alls) neither store nor cancel anything. Calculon-MoE lets them cancel their consumers'
   * inputs (quirk 21), which with the corrected router sizes made this block's storage negative
   * (found by FuzzTest).
   */
  @Test
  void moeBlockStoresEachTensorOnceAndRoutingCancelsNothing() throws Exception {
    // without the vocabulary, so the block statistics are one transformer block's
    ObjectNode model = (ObjectNode) JSON.readTree(Path.of("models/qwen3-235B-A22B.json").toFile());
    model.remove("vocab_size");
    Path noVocab = java.nio.file.Files.createTempFile("qwen3-no-vocab", ".json");
    java.nio.file.Files.writeString(noVocab, model.toString());
    Pair p = run(noVocab.toString(), "examples/qwen3-235B-A22B_512xH100.json",
        "systems/H100_SXM_80g_dense.json", e -> e.put("activation_recompute", "attn_only").put("activations_offload", true));
    long t = 4096, h = 4096, heads = 64, kvHeads = 4, d = 128, k = 8, ff = 1536, bytes = 2;
    // attention under attn_only (TP 1, no SP, flash attention by default): the block input, the
    // QKV projections' input (kept without SP: Korthikanti Table 2), Q per query head, K and V per
    // KV head and the attention output; no dropout mask (Qwen3 trains without dropout), and the
    // kernel's row statistics go with the recomputed core attention
    long attention = bytes * (2 * t * h + (2 * heads + 2 * kvHeads) * d * t);
    // MoE: the block input and the router's input, the k selected scores, the dispatched tokens
    // (the first expert matmul's input) and the second expert matmul's input
    long moe = bytes * (2 * t * h + t * k + t * k * h + t * k * ff);
    assertThat(p.corrected().get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo((double) (attention + moe));
    assertThat(p.fork().get(StatField.BLOCK_ACT_STORAGE_SPACE)).isLessThan(attention + moe);
  }

  /**
   * megatron-22B, TP 8, PP 4, DP 128 with data-parallel overlap on a100_80g, the data-parallel
   * tier's bandwidth swept from 40 to 65 GB/s: in the corrected model the step never gets slower as
   * the network gets faster. Calculon-MoE's exposure jumps up where the traffic starts to fit its
   * window, between 52.5 and 53 GB/s (PhysicalPropertiesTest's finding).
   */
  @Test
  void fasterDataParallelNetworkNeverSlowsTheStep() throws Exception {
    Consumer<ObjectNode> overlap = e -> e.put("weight_offload", false).put("optimizer_sharding", false).put("zero_stage", 0)
        .put("data_par_overlap", true).put("batch_size", 1024).put("pipeline_interleaving", 1);
    double[] previous = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
    int forkSlower = 0;
    for (int i = 0; i <= 50; i++) {
      double gbps = 40 + i * 0.5;
      ObjectNode sys = (ObjectNode) JSON.readTree(Path.of("systems/a100_80g.json").toFile());
      ((ObjectNode) sys.get("networks").get(1)).put("bandwidth", gbps);
      Path tmp = java.nio.file.Files.createTempFile("dp-tier", ".json");
      java.nio.file.Files.writeString(tmp, sys.toString());
      Pair p = run("models/megatron-22B.json", "examples/megatron_1T_training_4096_original.json", tmp.toString(), overlap);
      double fork = p.fork().get(StatField.TOTAL_TIME), corrected = p.corrected().get(StatField.TOTAL_TIME);
      assertThat(corrected).as("corrected step at %s GB/s", gbps).isLessThanOrEqualTo(previous[1] * (1 + 1e-12));
      forkSlower += fork > previous[0] * (1 + 1e-12) ? 1 : 0;
      previous[0] = fork;
      previous[1] = corrected;
    }
    assertThat(forkSlower).as("bandwidths where Calculon-MoE's step got slower").isPositive();
  }
}
