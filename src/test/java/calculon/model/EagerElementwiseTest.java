package calculon.model;

import static calculon.model.ModernBlocksTest.A;
import static calculon.model.ModernBlocksTest.D;
import static calculon.model.ModernBlocksTest.F;
import static calculon.model.ModernBlocksTest.H;
import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.layer;
import static calculon.model.ModernBlocksTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.ConfigError;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code elementwise_kernels: eager}: the element-wise layers' traffic op by op, as torchtitan's
 * Llama code runs them in eager PyTorch (EagerElementwise's counts), on ModernBlocksTest's small
 * model made Llama-like (RMSNorm, rotary, SwiGLU, 4 KV heads), 2-byte activations (a = 2), fp32
 * intermediates (4 bytes), T = 1,024 tokens, TP 2 without sequence parallelism.
 */
class EagerElementwiseTest {
  static final Consumer<ObjectNode> LLAMA = OpSacTest.LLAMA;
  static final Consumer<ObjectNode> EAGER = e -> e.put("elementwise_kernels", "eager");

  @Test
  void rmsNormIsSevenKernelsWithFp32Intermediates() throws Exception {
    Stats.LayerStats norm = layer(run(LLAMA, EAGER), "AttnBlock_LayerNorm");
    double n = (double) T * H;
    // float(), pow, mean, x * rsqrt, type_as, * weight: 4 a + 7 F per element
    assertThat(norm.get(LayerField.FW_MEM_ACCESSED)).isEqualTo(n * (4 * 2 + 7 * 4));
    assertThat(norm.get(LayerField.AGRAD_MEM_ACCESSED)).isEqualTo(n * (4 * 2 + 17 * 4));
    // fused, the norm reads and writes each element once per pass (plus its weights)
    Stats.LayerStats fused = layer(run(LLAMA, e -> { }), "AttnBlock_LayerNorm");
    assertThat(fused.get(LayerField.FW_MEM_ACCESSED)).isEqualTo(n * 2 * 2 + H * 2);
    // LayerNorm is one ATen kernel in eager PyTorch too
    Stats ln = run(LLAMA.andThen(m -> m.put("norm", "layernorm")), EAGER);
    assertThat(layer(ln, "AttnBlock_LayerNorm").get(LayerField.FW_MEM_ACCESSED)).isEqualTo(n * 2 * 2 + 2 * H * 2);
  }

  @Test
  void rotaryAndSwigluFollowTheirOps() throws Exception {
    Stats s = run(LLAMA, EAGER);
    double rotated = (double) T * (A * D / TP + 4 / TP * D);
    assertThat(layer(s, "AttnBlock_Rotary").get(LayerField.FW_MEM_ACCESSED)).isEqualTo(rotated * (2 * 2 + 4 * 4));
    double product = (double) T * F / TP;
    assertThat(layer(s, "MlpBlock_GatedActivation").get(LayerField.FW_MEM_ACCESSED)).isEqualTo(product * 5 * 2);
    assertThat(layer(s, "MlpBlock_GatedActivation").get(LayerField.AGRAD_MEM_ACCESSED)).isEqualTo(product * 9 * 2);
  }

  @Test
  void eagerOnlyAddsTimeAndNeverChangesFlopsOrMemory() throws Exception {
    Stats fused = run(LLAMA, e -> { });
    Stats eager = run(LLAMA, EAGER);
    assertThat(eager.get(StatField.BLOCK_FW_FLOPS)).isEqualTo(fused.get(StatField.BLOCK_FW_FLOPS));
    assertThat(eager.get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(fused.get(StatField.BLOCK_ACT_STORAGE_SPACE));
    assertThat(eager.get(StatField.BLOCK_FW_TIME)).isGreaterThan(fused.get(StatField.BLOCK_FW_TIME));
  }

  @Test
  void badValueIsAOneLineError() {
    assertThatThrownBy(() -> run(LLAMA, e -> e.put("elementwise_kernels", "compiled")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("elementwise_kernels")
        .hasMessageContaining("must be one of \"fused\", \"eager\", got \"compiled\"");
  }
}
