package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.config.ConfigReader;
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
  void zeroStage2ShardsTheGradientsBarOneBlocksBucket() throws Exception {
    // 2 + (2/8 + one average block's full buffer 2/32) + 12/8 = 3.8125 B/P
    Stats s = run("exe-dp8_shard.json", e -> e.put("zero_stage", 2));
    assertThat(s.get(StatField.WEIGHT_GRAD_SPACE) / P).isCloseTo(2 / 8.0 + 2 / 32.0, within(1e-9));
    assertThat(bytesPerParam(s)).isCloseTo(3.8125, within(1e-9));
  }

  @Test
  void zeroStage3ShardsTheWeightsAndHoldsTwoGatheredBlocks() throws Exception {
    // weights 2/8 + two gathered blocks 2 * 2/32; gradients as stage 2: 2.1875 B/P
    Stats s = run("exe-dp8_shard.json", e -> e.put("zero_stage", 3));
    assertThat(s.get(StatField.WEIGHT_SPACE) / P).isCloseTo(2 / 8.0 + 2 * 2 / 32.0, within(1e-9));
    assertThat(bytesPerParam(s)).isCloseTo(2.1875, within(1e-9));
  }

  @Test
  void zeroStages1And2MoveTheSameBytesAsAnAllReduceAndStage3GathersTwicePerMicrobatch() throws Exception {
    Stats z1 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 1));
    Stats z2 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 2));
    Stats z3 = run("exe-dp8_shard.json", e -> e.put("zero_stage", 3));
    assertThat(z2.get(StatField.DP_COMM_LINK_TIME)).isEqualTo(z1.get(StatField.DP_COMM_LINK_TIME));
    // stage 3, no overlap: per block and microbatch, all-gather forward and backward, reduce-scatter
    SystemSpec sys = ConfigReader.readSystem(FaultCases.ROOT.resolve(KIND).resolve(SYSTEM));
    Network net = new Hardware(sys, Datatype.BFLOAT16).network(0);
    double blockWeights = 2 * P / 32, blockGrads = 2 * P / 32;
    double perBlock = 2 * net.time(Network.Op.ALL_GATHER, blockWeights, 8)
        + net.time(Network.Op.REDUCE_SCATTER, blockGrads, 8);
    int microbatches = 128 / 8 / 2;
    assertThat(z3.get(StatField.DP_COMM_LINK_TIME)).isCloseTo(microbatches * 32 * perBlock, within(1e-9 * perBlock));
    assertThat(z3.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(z3.get(StatField.DP_COMM_LINK_TIME));
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
