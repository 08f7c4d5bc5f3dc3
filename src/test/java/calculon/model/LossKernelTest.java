package calculon.model;

import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.LossKernel;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.stats.ExecutionDict;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code loss_kernel}: the logits' cross-entropy traffic and stored bytes per kernel, hand-counted
 * from each framework's code (LossKernel's javadoc), on ModernBlocksTest's small model with a
 * 32,000-word vocabulary split over TP 2: n = T x V / TP = 1,024 x 16,000 logits per rank, 2-byte
 * activations (a = 2), fp32 intermediates (F = 4).
 */
class LossKernelTest {
  static final long VOCAB = 32_000;
  static final double N = (double) T * VOCAB / TP;

  static Layer loss(Consumer<ObjectNode> execution, ModelVersion version) throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> m.put("vocab_size", VOCAB), execution);
    Execution exe = (Execution) in[1];
    Hardware hw = new Hardware((SystemSpec) in[2], exe.datatype());
    return BlockBuilder.buildWithVocabulary((Application) in[0], exe, hw, version, BlockBuilder.Kind.DENSE, false, true)
        .stream().filter(l -> l.name().equals(BlockBuilder.CROSS_ENTROPY)).findFirst().orElseThrow();
  }

  static Layer loss(Consumer<ObjectNode> execution) throws Exception {
    return loss(execution, ModelVersion.CORRECTED);
  }

  static Consumer<ObjectNode> kernel(String k) {
    return e -> e.put("loss_kernel", k);
  }

  @Test
  void fusedReadsAndWritesEachLogitOncePerPass() throws Exception {
    Layer l = loss(e -> { });
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(N * (2 + 2));
    assertThat(l.memAccessed(Stage.AGRAD)).isEqualTo(N * (2 + 2));
    assertThat(l.activation()).isEqualTo(N * 2);
    assertThat(loss(kernel("fused")).memAccessed(Stage.FW)).isEqualTo(N * 4);
  }

  @Test
  void megatronRunsEveryStepInFp32() throws Exception {
    Layer l = loss(kernel("megatron"));
    // float() a + F, max F, -= max 2F, exp 2F, sum F, div_ 2F
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(N * (2 + 4 + 4 + 2 * 4 + 2 * 4 + 4 + 2 * 4));
    // mul_ by the output gradient 2F, cast back F + a
    assertThat(l.memAccessed(Stage.AGRAD)).isEqualTo(N * (2 * 4 + 4 + 2));
    // the saved fp32 softmax
    assertThat(l.activation()).isEqualTo(N * 4);
  }

  @Test
  void eagerIsTorchCrossEntropyOnUpcastLogits() throws Exception {
    Layer l = loss(kernel("eager"));
    // float() a + F, log_softmax 2F; backward scatter F, log_softmax_backward 3F, cast F + a
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(N * (2 + 4 + 2 * 4));
    assertThat(l.memAccessed(Stage.AGRAD)).isEqualTo(N * (4 + 3 * 4 + 4 + 2));
    assertThat(l.activation()).isEqualTo(N * 4);
    // eager element-wise layers imply the eager loss; a given loss_kernel wins
    Consumer<ObjectNode> eager = e -> e.put("elementwise_kernels", "eager");
    assertThat(loss(eager).memAccessed(Stage.FW)).isEqualTo(l.memAccessed(Stage.FW));
    assertThat(loss(eager.andThen(kernel("fused"))).memAccessed(Stage.FW)).isEqualTo(N * 4);
  }

  @Test
  void theKernelNeverChangesFlops() throws Exception {
    for (LossKernel k : LossKernel.values()) {
      Layer l = loss(kernel(k.jsonName));
      assertThat(l.flops(Stage.FW)).as(k.jsonName).isEqualTo(5 * N);
      assertThat(l.flops(Stage.AGRAD)).as(k.jsonName).isEqualTo(8 * N);
    }
  }

  @Test
  void calculonMoeCostsASoftmax() throws Exception {
    Layer l = loss(kernel("megatron"), ModelVersion.CALCULON_MOE);
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(N * 4);
  }

  @Test
  void theRunSaysWhichKernelItUsed() throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> m.put("vocab_size", VOCAB), kernel("megatron"));
    assertThat(ExecutionDict.asRun((Execution) in[1], (Application) in[0], (SystemSpec) in[2], ModelVersion.CORRECTED))
        .containsEntry("loss_kernel", "megatron");
    assertThat(ExecutionDict.optionalKeys((Execution) in[1])).containsEntry("loss_kernel", "megatron");
    Object[] plain = ModernBlocksTest.inputs(m -> m.put("vocab_size", VOCAB), e -> { });
    assertThat(ExecutionDict.asRun((Execution) plain[1], (Application) plain[0], (SystemSpec) plain[2],
        ModelVersion.CORRECTED)).containsEntry("loss_kernel", "fused");
    assertThat(ExecutionDict.optionalKeys((Execution) plain[1])).doesNotContainKey("loss_kernel");
  }

  @Test
  void badValueIsAOneLineError() {
    assertThatThrownBy(() -> loss(kernel("liger")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("loss_kernel")
        .hasMessageContaining("must be one of \"fused\", \"eager\", \"megatron\", got \"liger\"").hasMessageNotContaining("\n");
  }
}
