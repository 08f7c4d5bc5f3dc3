package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Full recompute checkpoints the transformer layers and nothing else: Megatron-Core's
 * {@code TransformerBlock._checkpointed_forward} wraps the block's layers while the final norm, the
 * output layer and the loss belong to {@code GPTModel} outside it, and TorchTitan's {@code apply_ac}
 * wraps each {@code TransformerBlock}. So in the corrected model the head (final norm, logits,
 * cross-entropy) is never recomputed and its TP collective never re-sent; every block layer still
 * is. Calculon-MoE recomputes the head with the blocks, as the fork does.
 */
class HeadRecomputeTest {
  static List<Layer> lastStage(ModelVersion version) throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> m.put("vocab_size", 32_000),
        e -> e.put("activation_recompute", "full").put("seq_par_ag_redo", false));
    Execution exe = (Execution) in[1];
    Hardware hw = new Hardware((SystemSpec) in[2], exe.datatype());
    return BlockBuilder.buildWithVocabulary((Application) in[0], exe, hw, version, BlockBuilder.Kind.DENSE, false, true);
  }

  @Test
  void fullRecomputeLeavesTheHeadOutInTheCorrectedModel() throws Exception {
    List<Layer> layers = lastStage(ModelVersion.CORRECTED);
    List<Layer> head = layers.stream().filter(l -> l.name().startsWith("Head_")).toList();
    assertThat(head).extracting(Layer::name)
        .contains("Head_FinalNorm", "Head_F", "Head_Logits", BlockBuilder.CROSS_ENTROPY);
    assertThat(head).allSatisfy(l -> {
      assertThat(l.needsRecompute()).as(l.name()).isFalse();
      assertThat(l.needsRecomm()).as(l.name()).isFalse();
    });
    assertThat(layers.stream().filter(l -> l.name().equals("AttnBlock_LayerNorm") || l.name().equals("AttnBlock_Key")))
        .isNotEmpty().allSatisfy(l -> assertThat(l.needsRecompute()).isTrue());
  }

  @Test
  void calculonMoeRecomputesTheHeadWithTheBlocks() throws Exception {
    List<Layer> head = lastStage(ModelVersion.CALCULON_MOE).stream()
        .filter(l -> l.name().equals("Head_Logits") || l.name().equals(BlockBuilder.CROSS_ENTROPY)).toList();
    assertThat(head).hasSize(2).allSatisfy(l -> assertThat(l.needsRecompute()).as(l.name()).isTrue());
  }
}
