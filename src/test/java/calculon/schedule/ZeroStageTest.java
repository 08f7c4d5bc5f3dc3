package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.hardware.Network;
import calculon.config.Datatype;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * ZeRO stages in bytes per parameter on faults/distributed-optimizer (a Llama-2-7B-like model,
 * P = 6,738,415,616, DP 8, one pipeline stage of 32 blocks): bf16 weights (2 B/P), gradients in
 * the gradient datatype (2 or 4 B/P), fp32 master weights and two Adam moments (12 B/P).
 */
class ZeroStageTest {
  static final double P = 6_738_415_616.0;
  static final String KIND = "distributed-optimizer", MODEL = "model-llama2-7b-like.json",
      SYSTEM = "system-h100-bigmem.json";

  static Stats run(String exe, Consumer<ObjectNode> edit) throws Exception {
    return FaultCases.run(KIND, MODEL, exe, SYSTEM, ModelVersion.CORRECTED, edit);
  }

  static double bytesPerParam(Stats s) {
    return (s.get(StatField.WEIGHT_SPACE) + s.get(StatField.WEIGHT_GRAD_SPACE) + s.get(StatField.OPTIMIZER_SPACE)) / P;
  }

  @Test
  void noShardingIs16BytesPerParamWithBf16GradientsAnd18WithFp32() throws Exception {
    // Calculon's accounting for stage 0: one block's gradients in an fp32 accumulation buffer,
    // 16 + 2/32 B/P (the README's "exact" 16)
    assertThat(bytesPerParam(run("exe-dp8_noshard.json", e -> { }))).isCloseTo(16 + 2 / 32.0, within(1e-9));
    assertThat(bytesPerParam(run("exe-dp8_noshard_fp32grad.json", e -> { }))).isCloseTo(18, within(1e-9));
  }

  @Test
  void optimizerShardingIsMegatronsDistributedOptimizerZeroStage1() throws Exception {
    // 2 (weights) + 4 (full fp32 gradient buffer) + 12/8 = 7.5 B/P = 50.54 GB
    Stats fp32 = run("exe-dp8_shard_fp32grad.json", e -> { });
    assertThat(bytesPerParam(fp32)).isCloseTo(7.5, within(1e-9));
    assertThat(bytesPerParam(fp32) * P / 1e9).isCloseTo(50.54, within(0.005));
    // 2 + 2 + 12/8 = 5.5 B/P = 37.06 GB
    Stats bf16 = run("exe-dp8_shard.json", e -> { });
    assertThat(bytesPerParam(bf16) * P / 1e9).isCloseTo(37.06, within(0.005));
    // the explicit key means the same
    assertThat(bytesPerParam(run("exe-dp8_shard.json", e -> e.put("zero_stage", 1)))).isEqualTo(bytesPerParam(bf16));
  }

  @Test
  void optimizerOffloadMovesTheWholeGradientBufferToTier2() throws Exception {
    // ZeRO-1 with the optimizer offloaded: the 2 B/P bf16 gradient buffer (13.48 GB) and the
    // 12/8 B/P sharded optimizer state go to tier 2 whole; tier 1 keeps the weights, the
    // activations and one block's worth of each (the resident minimum). Nothing is lost: the
    // gradients used to vanish from both tiers (only one sharded block gradient per block went
    // to tier 2)
    Stats s = run("exe-dp8_shard.json", e -> e.put("optimizer_offload", true));
    assertThat(s.get(StatField.PROC_MEM_TIER2_CAP_REQ))
        .isCloseTo(s.get(StatField.WEIGHT_GRAD_SPACE) + s.get(StatField.OPTIMIZER_SPACE), within(1.0));
    assertThat(s.get(StatField.WEIGHT_GRAD_SPACE) / P).isCloseTo(2, within(1e-9));
    Stats resident = run("exe-dp8_shard.json", e -> { });
    assertThat(s.get(StatField.PROC_MEM_TIER1_CAP_REQ)).isLessThan(resident.get(StatField.PROC_MEM_TIER1_CAP_REQ));
  }

  @Test
  void zeroStage2ShardsTheGradientsBarOneBlocksFp32Bucket() throws Exception {
    // gradients: one average block's fp32 buffer 4/32 + the other 31 blocks' 2/8 each:
    // 0.125 + 0.2421875; total 2 + 0.3671875 + 12/8 = 3.8671875 B/P (Calculon's optimizer_sharding)
    Stats s = run("exe-dp8_shard.json", e -> e.put("zero_stage", 2));
    assertThat(s.get(StatField.WEIGHT_GRAD_SPACE) / P).isCloseTo(4 / 32.0 + 2 / 8.0 * 31 / 32, within(1e-9));
    assertThat(bytesPerParam(s)).isCloseTo(3.8671875, within(1e-9));
    Stats fork = FaultCases.run(KIND, MODEL, "exe-dp8_shard.json", SYSTEM, ModelVersion.CALCULON_MOE, e -> { });
    assertThat(s.get(StatField.WEIGHT_GRAD_SPACE)).isEqualTo(fork.get(StatField.WEIGHT_GRAD_SPACE));
  }

  @Test
  void zeroStage3ShardsTheWeightsAndHoldsTwoGatheredBlocks() throws Exception {
    // weights 2/8 + two gathered blocks 2 * 2/32; gradients as stage 2: 0.375 + 0.3671875 + 1.5 B/P
    Stats s = run("exe-dp8_shard.json", e -> e.put("zero_stage", 3));
    assertThat(s.get(StatField.WEIGHT_SPACE) / P).isCloseTo(2 / 8.0 + 2 * 2 / 32.0, within(1e-9));
    assertThat(bytesPerParam(s)).isCloseTo(2.2421875, within(1e-9));
  }

  @Test
  void zeroStages1And2MoveTheSameBytesAsAnAllReduceAndStage3GathersTwicePerMicrobatch() throws Exception {
    Stats z1 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 1));
    Stats z2 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 2));
    Stats z3 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 3));
    assertThat(z2.get(StatField.DP_COMM_LINK_TIME)).isEqualTo(z1.get(StatField.DP_COMM_LINK_TIME));
    // stage 3, no overlap: per block and microbatch, all-gather forward and backward, reduce-scatter
    SystemSpec sys = SystemReader.read(FaultCases.ROOT.resolve(KIND).resolve(SYSTEM));
    Network net = new Hardware(sys, Datatype.BFLOAT16).network(0);
    double blockWeights = 2 * P / 32, blockGrads = 2 * P / 32;
    double perBlock = 2 * net.time(Network.Op.ALL_GATHER, blockWeights, 8)
        + net.time(Network.Op.REDUCE_SCATTER, blockGrads, 8);
    int microbatches = 128 / 8 / 2;
    assertThat(z3.get(StatField.DP_COMM_LINK_TIME)).isCloseTo(microbatches * 32 * perBlock, within(1e-9 * perBlock));
    assertThat(z3.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(z3.get(StatField.DP_COMM_LINK_TIME));
  }

  /** The fault case on two pipeline stages of 16 blocks (16 processors, PP across the nodes). */
  static Stats twoStages(Consumer<ObjectNode> edit) throws Exception {
    return run("exe-dp8_shard.json", e -> {
      e.put("zero_stage", 3).put("pipeline_par", 2).put("num_procs", 16).put("pipeline_par_net", 1);
      edit.accept(e);
    });
  }

  @Test
  void zeroStage3InAPipelineStageHoldsEveryBlockGatheredAndItsGradientsUnsharded() throws Exception {
    // torch.distributed.pipelining with FSDP2 (StageMemory.zero3HoldsStage), per stage of 16
    // blocks of w bf16 bytes each (w = 2P/32, plus the embedding's share Calculon spreads over
    // the blocks): the weight shards 16 w/8 plus all 16 blocks gathered, 16 w; every block's
    // unsharded bf16 gradients, 16 w; the sharded optimizer state 16/32 * 12/8 = 0.75 B/P
    Stats s = twoStages(e -> { });
    double w = s.get(StatField.BLOCK_WEIGHT_SPACE);
    assertThat(w / (2 * P / 32)).isCloseTo(1, within(1e-6));
    assertThat(s.get(StatField.WEIGHT_SPACE)).isCloseTo(16 * w / 8 + 16 * w, within(1.0));
    assertThat(s.get(StatField.WEIGHT_GRAD_SPACE)).isCloseTo(16 * w, within(1.0));
    assertThat(s.get(StatField.OPTIMIZER_SPACE) / P).isCloseTo(0.75, within(1e-6));
    // in the fp32 reduce datatype the held gradients double
    Stats fp32 = twoStages(e -> e.put("gradient_datatype", "float32"));
    assertThat(fp32.get(StatField.WEIGHT_GRAD_SPACE)).isCloseTo(2 * 16 * w, within(1.0));
  }

  @Test
  void zeroStage3InAPipelineStageGathersAndReducesEachBlockOncePerStep() throws Exception {
    // 8 microbatches, yet each of the stage's 16 blocks is gathered once (first forward) and
    // reduce-scattered once (after the last backward), not 8 times twice and 8 times
    SystemSpec sys = SystemReader.read(FaultCases.ROOT.resolve(KIND).resolve(SYSTEM));
    Network net = new Hardware(sys, Datatype.BFLOAT16).network(0);
    Stats s = twoStages(e -> { });
    double w = s.get(StatField.BLOCK_WEIGHT_SPACE);
    double gather = net.time(Network.Op.ALL_GATHER, w, 8);
    double scatter = net.time(Network.Op.REDUCE_SCATTER, w, 8);
    assertThat(s.get(StatField.DP_COMM_LINK_TIME)).isCloseTo(16 * (gather + scatter), within(1e-9 * gather));
    assertThat(s.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(s.get(StatField.DP_COMM_LINK_TIME));
    assertThat(s.get(StatField.BLOCK_DP_SIZE)).isCloseTo(2 * w, within(1.0));
    // with DP overlap the first forward hides the gathers; the reduction after the last backward
    // has no compute left to hide behind and stays exposed whole
    Stats overlapped = twoStages(e -> e.put("data_par_overlap", true));
    assertThat(overlapped.get(StatField.DP_COMM_EXPOSED_TIME))
        .isGreaterThanOrEqualTo(16 * scatter)
        .isLessThan(s.get(StatField.DP_COMM_EXPOSED_TIME));
  }

  @Test
  void zeroStageConflictingWithOptimizerShardingIsAOneLineConfigError() {
    assertThatThrownBy(() -> run("exe-dp8_shard.json", e -> e.put("zero_stage", 0)))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("zero_stage").hasMessageContaining("optimizer_sharding")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run("exe-dp8_noshard.json", e -> e.put("zero_stage", 2)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("conflicts");
    assertThatThrownBy(() -> run("exe-dp8_shard.json", e -> e.put("zero_stage", 4)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("must be 0, 1, 2 or 3");
  }

  @Test
  void calculonMoeKeepsTheForksMeaningOfOptimizerSharding() throws Exception {
    // the fork shards gradients with the optimizer state (docs/deviations.md)
    Stats fork = FaultCases.run(KIND, MODEL, "exe-dp8_shard.json", SYSTEM, ModelVersion.CALCULON_MOE, e -> { });
    assertThat(fork.get(StatField.WEIGHT_GRAD_SPACE) / P).isLessThan(1.0);
  }
}
