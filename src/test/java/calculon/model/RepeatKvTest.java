package calculon.model;

import static calculon.model.ModernBlocksTest.A;
import static calculon.model.ModernBlocksTest.BYTES;
import static calculon.model.ModernBlocksTest.D;
import static calculon.model.ModernBlocksTest.S;
import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.layer;
import static calculon.model.ModernBlocksTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import calculon.stats.LayerField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code repeat_kv}: keys and values copied to every query head before the attention kernel
 * (torchtitan's Llama, Hugging Face eager attention), on ModernBlocksTest's small model with 4 KV
 * heads (2 per rank at TP 2) and 16 query heads (8 per rank), T = S = 1,024 tokens, 2 bytes.
 */
class RepeatKvTest {
  static final Consumer<ObjectNode> GQA = m -> m.put("num_kv_heads", 4);
  static final long KV_PER_RANK = 4 / TP, HEADS_PER_RANK = A / TP;

  @Test
  void theKernelStoresAKeyAndValueCopyPerQueryHead() throws Exception {
    Stats grouped = run(GQA, e -> { });
    Stats repeated = run(GQA, e -> e.put("repeat_kv", true));
    // stored K and V: S x heads x (D + D) per rank, 8 heads instead of 2
    double extra = (double) S * (HEADS_PER_RANK - KV_PER_RANK) * 2 * D * BYTES;
    String fa = "AttnBlock_Multihead_FlashAttention";
    assertThat(layer(repeated, fa).get(LayerField.ACTIVATION) - layer(grouped, fa).get(LayerField.ACTIVATION))
        .isEqualTo(extra);
    // the copy reads the KV heads and writes the copies, both passes
    Stats.LayerStats copy = layer(repeated, "AttnBlock_RepeatKv");
    double in = (double) T * KV_PER_RANK * 2 * D, out = (double) T * HEADS_PER_RANK * 2 * D;
    assertThat(copy.get(LayerField.FW_MEM_ACCESSED)).isEqualTo((in + out) * BYTES);
    assertThat(copy.get(LayerField.AGRAD_MEM_ACCESSED)).isEqualTo((in + out) * BYTES);
    assertThat(copy.get(LayerField.AGRAD_FLOPS)).isEqualTo(out);
    assertThat(grouped.layers()).extracting(Stats.LayerStats::name).doesNotContain("AttnBlock_RepeatKv");
  }

  @Test
  void contextParallelismExchangesTheCopies() throws Exception {
    Consumer<ObjectNode> cp = e -> e.put("context_par", 2).put("data_par", 1).put("context_par_comm_type", "p2p")
        .put("batch_size", 1).put("context_par_net", 0);
    Stats grouped = run(GQA, cp);
    Stats repeated = run(GQA, cp.andThen(e -> e.put("repeat_kv", true)));
    String exchange = "AttnBlock_CP_KV";
    double groupedBytes = layer(grouped, exchange).get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE);
    // ring of 2: one block of the rank's S/2 tokens x KV heads x (D + D)
    assertThat(groupedBytes).isEqualTo((double) S / 2 * KV_PER_RANK * 2 * D * BYTES);
    assertThat(layer(repeated, exchange).get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE))
        .isEqualTo(groupedBytes * HEADS_PER_RANK / KV_PER_RANK);
  }

  @Test
  void multiHeadAttentionHasNothingToRepeat() throws Exception {
    Stats mha = run(m -> { }, e -> e.put("repeat_kv", true));
    assertThat(mha.layers()).extracting(Stats.LayerStats::name).doesNotContain("AttnBlock_RepeatKv");
  }
}
