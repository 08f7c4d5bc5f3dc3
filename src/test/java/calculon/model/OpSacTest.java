package calculon.model;

import static calculon.model.ModernBlocksTest.A;
import static calculon.model.ModernBlocksTest.BYTES;
import static calculon.model.ModernBlocksTest.D;
import static calculon.model.ModernBlocksTest.F;
import static calculon.model.ModernBlocksTest.H;
import static calculon.model.ModernBlocksTest.S;
import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.layer;
import static calculon.model.ModernBlocksTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * TorchTitan's per-op selective activation checkpointing ({@code recompute_modules: ["op_sac"]},
 * torchtitan's llama3 {@code parallelize.py}: {@code _custom_policy} keeps the outputs of the ops
 * in {@code _save_list} except every second matmul) and the rotary embedding, derived by hand on
 * ModernBlocksTest's small model made Llama-like: SwiGLU, RMSNorm, rotary positions, 4 KV heads,
 * no dropout; TP 2 with all-reduce (no sequence parallelism), T = 1,024 tokens, 2-byte elements.
 */
class OpSacTest {
  static final long KV = 4;
  /** Query and key/value widths on a rank: 16 heads of 64 over TP 2, and 4 KV heads over TP 2. */
  static final long Q_WIDTH = A * D / TP, KV_WIDTH = KV / TP * D;
  /** RMSNorm forward flops per element (Layers.LN_FW, Calculon's layer-norm count). */
  static final double NORM_FLOPS = 9;

  static final Consumer<ObjectNode> LLAMA = m -> m.put("mlp", "swiglu").put("norm", "rmsnorm")
      .put("position_embedding", "rope").put("num_kv_heads", KV).put("bias", false)
      .put("attention_dropout", 0.0).put("hidden_dropout", 0.0);

  static Stats opSac() throws Exception {
    return run(LLAMA, e -> e.putArray("recompute_modules").add("op_sac"));
  }

  @Test
  void keepsTheBlockInputTheOddMatmulsOutputsAndTheAttentionOutput() throws Exception {
    // x (T x H), wq out (T x Q), wv out (T x KV), attention output = wo input (T x Q), w1 out
    // (T x F/TP), w2 out before the all-reduce (T x H), and the kernel's fp32 logsumexp per row
    double elements = T * (H + Q_WIDTH + KV_WIDTH + Q_WIDTH + F / TP + H);
    double stats = (double) A / TP * S * 4;
    assertThat(opSac().get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(elements * BYTES + stats);
  }

  @Test
  void recomputesWkWoW3AndEveryNonMatmulOp() throws Exception {
    double wk = 2.0 * T * H * KV_WIDTH, wo = 2.0 * T * Q_WIDTH * H, w3 = 2.0 * T * H * F / TP;
    double norms = 2 * NORM_FLOPS * T * H;
    double rotary = 3.0 * T * (Q_WIDTH + KV_WIDTH);
    double swiglu = 9.0 * T * F / TP;     // swish (8 per element) and the gating product
    double residuals = 2.0 * T * H;
    assertThat(opSac().get(StatField.BLOCK_RE_FLOPS))
        .isCloseTo(wk + wo + w3 + norms + rotary + swiglu + residuals, within(1e-6));
  }

  @Test
  void recomputesAboutAThirdOfTheForwardMatmulsOfLlama() throws Exception {
    // matmuls 2, 4, 6 of wq, wk, wv, wo, w1, w3, w2: a physical property of the policy
    double fwMatmuls = 2.0 * T * H * (2 * Q_WIDTH + 2 * KV_WIDTH + 3 * F / TP);
    double reMatmuls = 2.0 * T * H * (KV_WIDTH + Q_WIDTH + F / TP);
    assertThat(reMatmuls / fwMatmuls).isBetween(0.3, 0.4);
    Stats none = run(LLAMA, e -> { });
    assertThat(opSac().get(StatField.BLOCK_RE_FLOPS) - none.get(StatField.BLOCK_RE_FLOPS))
        .isGreaterThan(reMatmuls);
  }

  @Test
  void rotaryEmbeddingRotatesTheRanksQueriesAndKeys() throws Exception {
    Stats s = run(LLAMA, e -> { });
    Stats.LayerStats rope = layer(s, "AttnBlock_Rotary");
    double elements = (double) T * (Q_WIDTH + KV_WIDTH);
    assertThat(rope.get(LayerField.FW_FLOPS)).isEqualTo(3 * elements);
    assertThat(rope.get(LayerField.AGRAD_FLOPS)).isEqualTo(3 * elements);
    assertThat(rope.get(LayerField.ACTIVATION)).isZero();
    // a learned-position model has no rotary layer
    assertThat(run(m -> { }, e -> { }).layers()).extracting(Stats.LayerStats::name).doesNotContain("AttnBlock_Rotary");
  }

  @Test
  void rejectsMoeAndOtherModules() {
    assertThatThrownBy(() -> run(LLAMA, e -> e.putArray("recompute_modules").add("op_sac").add("mlp")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_modules")
        .hasMessageContaining("only be listed with \"layernorm\"");
    assertThatThrownBy(() -> run(LLAMA, e -> e.put("flash_attention", false).putArray("recompute_modules").add("op_sac")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("fused attention kernel, not flash_attention false");
  }
}
