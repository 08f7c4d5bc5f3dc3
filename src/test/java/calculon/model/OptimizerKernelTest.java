package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.OptimizerKernel;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.stats.ExecutionDict;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code optimizer_kernel}: the optimizer step's and the gradient clipping's HBM traffic per
 * parameter of the optimizer's shard, hand-counted from each framework's code (OptimizerKernel's
 * javadoc), on ModernBlocksTest's small model in float16 (w = 2) with fp32 gradients (g = 4), fp32
 * master weights (p = 4) and fp32 moments (s = 4), ZeRO stage 1 over DP 2: each rank updates half
 * of every layer's parameters.
 */
class OptimizerKernelTest {
  /** Calculon's count: master + two moments, read once. */
  static final double CALCULON = 4 + 2 * 4;
  /**
   * Megatron-Core: no grad copy (fp32 already), the norm's read 4, FusedAdam reads g, p, m, v and
   * writes p, m, v (4 + 4 + 4 + 4 + 4 + 4 + 4 = 28), the copy into the 16-bit weights 4 + 2.
   */
  static final double FUSED = 0 + 4 + 28 + (4 + 2);
  /** torch _fused_adamw_: 28; clip_grad_norm_: the norm's read 4, the unconditional mul_ 4 + 4. */
  static final double TORCH_FUSED = 28 + 4 + 8;
  /**
   * torch _multi_tensor_adamw: mul_(params) 8, lerp_(m, g) 12, mul_(v) 8, addcmul_(v, g, g) 12,
   * sqrt(v) 8, div_ 8, add_ 8, addcdiv_(p, m, denom) 16 = 80; clipping 12.
   */
  static final double FOREACH = 8 + 12 + 8 + 12 + 8 + 8 + 8 + 16 + 12;

  static Consumer<ObjectNode> run(String kernel) {
    return e -> {
      e.put("datatype", "float16").put("gradient_datatype", "float32").put("optimizer_sharding", true)
          .put("zero_stage", 1);
      if (kernel != null) {
        e.put("optimizer_kernel", kernel);
      }
    };
  }

  static List<Layer> block(Consumer<ObjectNode> execution, ModelVersion version) throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> { }, execution);
    Execution exe = (Execution) in[1];
    Hardware hw = new Hardware((SystemSpec) in[2], exe.datatype());
    return BlockBuilder.build((Application) in[0], exe, hw, version);
  }

  /** The query projection: H x H / TP parameters (16 heads of 64 over TP 2). */
  static Layer matmul(List<Layer> block) {
    return block.stream().filter(l -> l.name().equals("AttnBlock_Query")).findFirst().orElseThrow();
  }

  @Test
  void bytesPerParameterAsHandCounted() {
    assertThat(OptimizerKernel.CALCULON.bytesPerParameter(2, 4, 4, 4)).isEqualTo(CALCULON);
    assertThat(OptimizerKernel.FUSED.bytesPerParameter(2, 4, 4, 4)).isEqualTo(38);
    assertThat(OptimizerKernel.TORCH_FUSED.bytesPerParameter(2, 4, 4, 4)).isEqualTo(40);
    assertThat(OptimizerKernel.FOREACH.bytesPerParameter(2, 4, 4, 4)).isEqualTo(92);
    assertThat(FUSED).isEqualTo(38);
    assertThat(TORCH_FUSED).isEqualTo(40);
    assertThat(FOREACH).isEqualTo(92);
    // bf16 gradients: Megatron-Core's .float() copy (2 + 4) before Adam reads the fp32 main
    // gradient; torch reads the gradient as it is, g = 2, in Adam and in both clipping passes
    assertThat(OptimizerKernel.FUSED.bytesPerParameter(2, 2, 4, 4)).isEqualTo(2 + 4 + 4 + 28 + 6);
    assertThat(OptimizerKernel.TORCH_FUSED.bytesPerParameter(2, 2, 4, 4)).isEqualTo(2 + 8 + 16 + 3 * 2);
    assertThat(OptimizerKernel.FOREACH.bytesPerParameter(2, 2, 4, 4)).isEqualTo(16 + 56 + 2 * 2 + 3 * 2);
    // fp32 weights: no master copy, nothing copied back; the update runs on the weight itself
    assertThat(OptimizerKernel.FUSED.bytesPerParameter(4, 4, 4, 4)).isEqualTo(4 + 28);
    assertThat(OptimizerKernel.CALCULON.bytesPerParameter(4, 4, 4, 4)).isEqualTo(8);
  }

  @Test
  void theOptimizerPassMovesTheKernelsBytesOverTheShard() throws Exception {
    double[] perParam = {CALCULON, FUSED, TORCH_FUSED, FOREACH};
    String[] kernels = {"calculon", "fused", "torch_fused", "foreach"};
    Object[] in = ModernBlocksTest.inputs(m -> { }, run(null));
    Hardware hw = new Hardware((SystemSpec) in[2], ((Execution) in[1]).datatype());
    for (int i = 0; i < kernels.length; i++) {
      Layer l = matmul(block(run(kernels[i]), ModelVersion.CORRECTED));
      double params = (double) ModernBlocksTest.H * ModernBlocksTest.A * ModernBlocksTest.D / ModernBlocksTest.TP;
      assertThat(l.weightParams()).isEqualTo(params);
      // ZeRO 1 over DP 2: half of the parameters per rank
      double bytes = params / 2 * perParam[i];
      assertThat(l.memAccessed(Stage.OPTIM)).as(kernels[i]).isEqualTo(bytes);
      assertThat(l.memTime(Stage.OPTIM)).as(kernels[i]).isEqualTo(hw.mem1().time(bytes));
      // a memory-bound pass: 11 flops per parameter against 12 or more bytes
      assertThat(l.processingTime(Stage.OPTIM)).as(kernels[i]).isGreaterThanOrEqualTo(l.memTime(Stage.OPTIM));
      // the flops stay Calculon's 11 per parameter of the shard
      assertThat(l.flops(Stage.OPTIM)).as(kernels[i]).isEqualTo(params / 2 * 11);
    }
  }

  @Test
  void withoutTheKeyCalculonsCountAndNothingMoves() throws Exception {
    Layer plain = matmul(block(run(null), ModelVersion.CORRECTED));
    assertThat(plain.memAccessed(Stage.OPTIM)).isEqualTo(plain.optimizer()).isEqualTo(plain.weightParams() / 2 * CALCULON);
  }

  @Test
  void calculonMoeKeepsCalculonsCount() throws Exception {
    Layer fork = matmul(block(run("foreach"), ModelVersion.CALCULON_MOE));
    assertThat(fork.memAccessed(Stage.OPTIM)).isEqualTo(fork.optimizer());
  }

  @Test
  void theStepsOptimizerTimeGrowsWithTheBlocksBytes() throws Exception {
    Stats calculon = ModernBlocksTest.run(m -> { }, run(null));
    Stats foreach = ModernBlocksTest.run(m -> { }, run("foreach"));
    // every layer with weights keeps them in 16 bits with an fp32 master: the block's optimizer
    // bytes scale by 92 / 12
    assertThat(foreach.get(StatField.BLOCK_OPTIM_MEM_ACCESSED) / calculon.get(StatField.BLOCK_OPTIM_MEM_ACCESSED))
        .isCloseTo(FOREACH / CALCULON, within(1e-12));
    assertThat(foreach.get(StatField.OPTIM_STEP_TIME)).isGreaterThan(calculon.get(StatField.OPTIM_STEP_TIME));
    // the step charges the optimizer once: optim_step_time is the block's optimizer time per block
    assertThat(foreach.get(StatField.OPTIM_STEP_TIME))
        .isCloseTo(ModernBlocksTest.L * foreach.get(StatField.BLOCK_OPTIM_TIME), within(1e-15));
  }

  @Test
  void theRunSaysWhichKernelItUsed() throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> { }, run("foreach"));
    assertThat(ExecutionDict.asRun((Execution) in[1], (Application) in[0], (SystemSpec) in[2], ModelVersion.CORRECTED))
        .containsEntry("optimizer_kernel", "foreach");
    assertThat(ExecutionDict.optionalKeys((Execution) in[1])).containsEntry("optimizer_kernel", "foreach");
    Object[] plain = ModernBlocksTest.inputs(m -> { }, run(null));
    assertThat(ExecutionDict.asRun((Execution) plain[1], (Application) plain[0], (SystemSpec) plain[2],
        ModelVersion.CORRECTED)).containsEntry("optimizer_kernel", "calculon");
    assertThat(ExecutionDict.optionalKeys((Execution) plain[1])).doesNotContainKey("optimizer_kernel");
  }

  @Test
  void badValueIsAOneLineError() {
    assertThatThrownBy(() -> block(run("adam8bit"), ModelVersion.CORRECTED))
        .isInstanceOf(ConfigError.class).hasMessageContaining("optimizer_kernel")
        .hasMessageContaining("must be one of \"calculon\", \"fused\", \"torch_fused\", \"foreach\", got \"adam8bit\"")
        .hasMessageNotContaining("\n");
  }
}
