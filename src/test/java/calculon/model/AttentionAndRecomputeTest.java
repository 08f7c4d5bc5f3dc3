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

import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import org.junit.jupiter.api.Test;

/**
 * Flash attention, dropout, sliding windows and per-module recompute, derived by hand on
 * ModernBlocksTest's small dense model (H 1024, F 4096, 16 heads of 64, S = T = 1024, TP 2
 * without sequence parallelism, fp16, fused GeLU, microbatch 1).
 */
class AttentionAndRecomputeTest {
  static final String FLASH = "AttnBlock_Multihead_FlashAttention";
  static final double HEADS = A / TP;

  @Test
  void causalKernelComputesHalfTheScoreAndContextFlops() throws Exception {
    Stats unfused = run(m -> { }, e -> e.put("flash_attention", false));
    Stats flash = run(m -> { }, e -> e.put("flash_attention", true));
    double scores = layer(unfused, "AttnBlock_Multihead_Key_Query").get(LayerField.FW_FLOPS);
    double context = layer(unfused, "AttnBlock_Multihead_Attn").get(LayerField.FW_FLOPS);
    assertThat(scores).isEqualTo(2 * HEADS * S * D * S);
    // S^2/2 pairs per head: half the two matmuls, plus softmax (5) and dropout (1) per pair
    double pairs = HEADS * S * S / 2.0;
    assertThat(layer(flash, FLASH).get(LayerField.FW_FLOPS)).isEqualTo((scores + context) / 2 + 6 * pairs);
  }

  @Test
  void backwardRecomputesTheScores() throws Exception {
    Stats flash = run(m -> m.put("attention_dropout", 0.0), e -> { });
    double pairs = HEADS * S * S / 2.0;
    double forwardMatmuls = 2 * pairs * (D + D);
    // dQ, dK, dV, dP (2x the forward matmuls), softmax backward (8 per pair), and recomputed
    // S = QK^T (2 pairs d) and P = exp(S - L) (2 per pair): FlashAttention-2 Alg. 2
    assertThat(layer(flash, FLASH).get(LayerField.AGRAD_FLOPS))
        .isEqualTo(2 * forwardMatmuls + 8 * pairs + 2 * pairs * D + 2 * pairs);
  }

  @Test
  void flashStoresQkvAndRowStatisticsOnly() throws Exception {
    Stats flash = run(m -> { }, e -> { });
    // Q, K, V of the rank's 8 heads in fp16 plus one fp32 logsumexp per query row
    assertThat(layer(flash, FLASH).get(LayerField.ACTIVATION)).isEqualTo(3 * HEADS * S * D * BYTES + 4 * HEADS * S);
    Stats unfused = run(m -> { }, e -> e.put("flash_attention", false));
    // the unfused block stores, beyond that: scores' softmax (2 bytes), dropout mask (1 byte) and
    // the dropout output (2 bytes) per score, 5 a s^2 / t (Korthikanti Table 2), less the statistics
    assertThat(unfused.get(StatField.BLOCK_ACT_STORAGE_SPACE) - flash.get(StatField.BLOCK_ACT_STORAGE_SPACE))
        .isEqualTo(5 * HEADS * S * S - 4 * HEADS * S);
  }

  @Test
  void slidingWindowLimitsTheKeysPerQuery() throws Exception {
    long w = 256;
    Stats all = run(m -> m.put("sliding_window", w).put("attention_dropout", 0.0), e -> { });
    // causal with a window: S W - W^2/2 pairs per head; matmuls over d_qk + d_v, softmax 5 per pair
    double pairs = HEADS * (S * w - w * w / 2.0);
    assertThat(layer(all, FLASH).get(LayerField.FW_FLOPS)).isEqualTo(pairs * (2 * (D + D) + 5));
    // every second block full (Gemma 2, GPT-OSS): the average of the two
    Stats half = run(m -> m.put("sliding_window", w).put("sliding_window_pattern", 2).put("attention_dropout", 0.0), e -> { });
    double full = HEADS * S * S / 2.0;
    assertThat(layer(half, FLASH).get(LayerField.FW_FLOPS)).isEqualTo((pairs + full) / 2 * (2 * (D + D) + 5));
    // the same as Hugging Face's layer_types list
    Stats listed = run(m -> {
      m.put("sliding_window", w).put("attention_dropout", 0.0);
      m.putArray("layer_types").add("sliding_attention").add("full_attention").add("sliding_attention").add("full_attention");
    }, e -> { });
    assertThat(layer(listed, FLASH).get(LayerField.FW_FLOPS)).isEqualTo(layer(half, FLASH).get(LayerField.FW_FLOPS));
    // a window at least as long as the sequence changes nothing
    Stats wide = run(m -> m.put("sliding_window", 4096).put("attention_dropout", 0.0), e -> { });
    assertThat(layer(wide, FLASH).get(LayerField.FW_FLOPS)).isEqualTo(full * (2 * (D + D) + 5));
  }

  @Test
  void zeroDropoutStoresNoMasks() throws Exception {
    Stats with = run(m -> { }, e -> e.put("flash_attention", false));
    Stats without = run(m -> m.put("attention_dropout", 0.0).put("hidden_dropout", 0.0), e -> e.put("flash_attention", false));
    // per score: no mask (1 byte) and no dropout output (2 bytes; the context matmul reads the
    // softmax output itself), so 2 a s^2 / t instead of Table 2's 5; no residual masks (1 byte per
    // T x H element, two per block)
    assertThat(with.get(StatField.BLOCK_ACT_STORAGE_SPACE) - without.get(StatField.BLOCK_ACT_STORAGE_SPACE))
        .isEqualTo(3 * HEADS * S * S + 2.0 * T * H);
    assertThat(without.layers()).extracting(Stats.LayerStats::name)
        .doesNotContain("AttnBlock_Multihead_DropOut", "AttnBlock_DropOut", "MlpBlock_DropOut");
  }

  @Test
  void coreAttentionModuleIsSelectiveRecompute() throws Exception {
    Stats module = run(m -> { }, e -> e.putArray("recompute_modules").add("core_attn"));
    Stats selective = run(m -> { }, e -> e.put("activation_recompute", "attn_only"));
    assertThat(module.get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(selective.get(StatField.BLOCK_ACT_STORAGE_SPACE));
    assertThat(module.get(StatField.BLOCK_RE_FLOPS)).isEqualTo(selective.get(StatField.BLOCK_RE_FLOPS))
        .isEqualTo(layer(module, FLASH).get(LayerField.FW_FLOPS));
  }

  @Test
  void mlpModuleKeepsOnlyTheMlpInput() throws Exception {
    Stats none = run(m -> { }, e -> { });
    Stats mlp = run(m -> { }, e -> e.putArray("recompute_modules").add("mlp"));
    // fused GeLU stores nothing; the second matmul's input T x F/TP goes, the first's (the input) stays
    assertThat(none.get(StatField.BLOCK_ACT_STORAGE_SPACE) - mlp.get(StatField.BLOCK_ACT_STORAGE_SPACE))
        .isEqualTo(T * F / TP * BYTES);
    // recomputed: both matmuls and the GeLU (8 flops per element)
    assertThat(mlp.get(StatField.BLOCK_RE_FLOPS)).isEqualTo(2 * (2.0 * T * H * F / TP) + 8.0 * T * F / TP);
  }

  @Test
  void layernormModuleDropsTheNormOutputs() throws Exception {
    Stats none = run(m -> { }, e -> { });
    Stats norm = run(m -> { }, e -> e.putArray("recompute_modules").add("layernorm"));
    // without SP the QKV and MLP inputs are the norms' outputs, T x H each; both norms (9 flops per element) run again
    assertThat(none.get(StatField.BLOCK_ACT_STORAGE_SPACE) - norm.get(StatField.BLOCK_ACT_STORAGE_SPACE))
        .isEqualTo(2 * T * H * BYTES);
    assertThat(norm.get(StatField.BLOCK_RE_FLOPS)).isEqualTo(2 * 9.0 * T * H);
  }

  @Test
  void calculonMoeIgnoresTheNewKeys() throws Exception {
    // absent or present, calculon-moe runs Calculon's attention (tested via the golden parity
    // suite for absent keys); here: the default-model switch alone decides flash attention
    assertThat(BlockBuilder.usesFlashAttention(
        calculon.config.ExecutionReader.read(java.nio.file.Path.of("examples/llama3-8B_64xH100.json")),
        ModelVersion.CALCULON_MOE)).isFalse();
    assertThat(BlockBuilder.usesFlashAttention(
        calculon.config.ExecutionReader.read(java.nio.file.Path.of("validation/seqsel/fig1/gpt3-175B_none.json")),
        ModelVersion.CORRECTED)).isFalse();
  }
}
