package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Multi-token prediction ({@code mtp_layers}, DeepSeek-V3 report Section 2.2; Megatron-Core's
 * multi_token_prediction.py) against a hand derivation: on a small dense model (H 1024, F 4096,
 * 16 heads of 64, SwiGLU, RMSNorm, vocabulary 32000, 4 blocks, sequence 1024, microbatch 1: T =
 * 1024 tokens, TP 2) the last stage's block gains exactly one more block, the 2H -> H projection,
 * two RMSNorms and a second pass of the shared output head, and no weights but the block's, the
 * projection's (2H x H/TP) and three norms' (H each: enorm, hnorm and the module's own final norm
 * before the shared head, as Megatron's MultiTokenPredictionLayer has).
 */
class MultiTokenPredictionTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long H = 1024, T = 1024, TP = 2;

  static Application model(int mtp) throws ConfigError {
    ObjectNode m = JSON.createObjectNode().put("hidden", H).put("feedforward", 4096).put("seq_size", 1024)
        .put("attn_heads", 16).put("attn_size", 64).put("num_blocks", 4).put("vocab_size", 32000)
        .put("mlp", "swiglu").put("norm", "rmsnorm").put("bias", false).put("tied_embeddings", false);
    if (mtp > 0) {
      m.put("mtp_layers", mtp);
    }
    return ApplicationReader.read(m, "model.json");
  }

  static List<Layer> last(Application app, ModelVersion v, boolean logits) throws Exception {
    ObjectNode e = (ObjectNode) JSON.readTree(Path.of("examples/megatron_1T_training_4096_original.json").toFile());
    e.put("num_procs", 4).put("tensor_par", (int) TP).put("pipeline_par", 1).put("data_par", 2).put("batch_size", 2)
        .put("microbatch_size", 1).put("weight_offload", false).put("tensor_par_comm_type", "ar")
        .put("pipeline_par_net", 0).put("data_par_net", 0).put("activation_recompute", "none");
    Execution exe = ExecutionReader.read(e, "execution.json");
    SystemSpec sys = SystemReader.read(Path.of("systems/H100_80g_sxm.json"));
    return BlockBuilder.buildWithVocabulary(app, exe, new Hardware(sys, exe.datatype()), v,
        BlockBuilder.Kind.DENSE, false, logits);
  }

  static double sum(List<Layer> layers, java.util.function.ToDoubleFunction<Layer> f) {
    return layers.stream().mapToDouble(f).sum();
  }

  @Test
  void theLastStageRunsOneMoreBlockTheProjectionAndTheSharedHead() throws Exception {
    List<Layer> plain = last(model(0), ModelVersion.CORRECTED, false);
    List<Layer> head = last(model(0), ModelVersion.CORRECTED, true);
    List<Layer> mtp = last(model(1), ModelVersion.CORRECTED, true);
    double block = sum(plain, l -> l.flops(Stage.FW));
    double headFlops = sum(head, l -> l.flops(Stage.FW)) - block;
    double projection = 2.0 * T * (2 * H) * (H / TP);
    double norms = mtp.stream().filter(l -> l.name().startsWith("Mtp_") && l.name().endsWith("Norm"))
        .mapToDouble(l -> l.flops(Stage.FW)).sum();
    Layer proj = mtp.stream().filter(l -> l.name().equals("Mtp_Projection")).findFirst().orElseThrow();
    assertThat(proj.flops(Stage.FW)).isEqualTo(projection);
    // forward flops: block + head, then embedding lookup (no forward flops), two norms, the
    // projection, a second block and the head again
    assertThat(sum(mtp, l -> l.flops(Stage.FW))).isEqualTo(2 * block + 2 * headFlops + norms + projection);
    // weights: the plain block's twice, the head's projection once (shared), the projection
    // 2H x H/TP, three RMSNorm scales of H, and no second embedding table
    double blockWeights = sum(plain, Layer::weightParams);
    double headWeights = sum(head, Layer::weightParams) - blockWeights;
    assertThat(sum(mtp, Layer::weightParams)).isEqualTo(2 * blockWeights + headWeights + 2.0 * H * H / TP + 3 * H);
  }

  @Test
  void onlyTheLastStageAndOnlyTheCorrectedModel() throws Exception {
    // a block without the output head (not the last stage) is unchanged
    assertThat(sum(last(model(2), ModelVersion.CORRECTED, false), l -> l.flops(Stage.FW)))
        .isEqualTo(sum(last(model(0), ModelVersion.CORRECTED, false), l -> l.flops(Stage.FW)));
    // two modules add two of everything
    double one = sum(last(model(1), ModelVersion.CORRECTED, true), l -> l.flops(Stage.FW));
    double none = sum(last(model(0), ModelVersion.CORRECTED, true), l -> l.flops(Stage.FW));
    assertThat(sum(last(model(2), ModelVersion.CORRECTED, true), l -> l.flops(Stage.FW))).isEqualTo(none + 2 * (one - none));
    // calculon-moe ignores the key
    assertThat(sum(last(model(1), ModelVersion.CALCULON_MOE, true), l -> l.flops(Stage.FW)))
        .isEqualTo(sum(last(model(0), ModelVersion.CALCULON_MOE, true), l -> l.flops(Stage.FW)));
  }

  @Test
  void badValuesAreOneLineErrors() {
    ObjectNode m = JSON.createObjectNode().put("hidden", H).put("feedforward", 4096).put("seq_size", 1024)
        .put("attn_heads", 16).put("attn_size", 64).put("num_blocks", 4).put("mtp_layers", 1);
    assertThatThrownBy(() -> ApplicationReader.read(m, "model.json")).isInstanceOf(ConfigError.class)
        .hasMessageContaining("model.json").hasMessageContaining("mtp_layers: needs vocab_size").hasMessageNotContaining("\n");
    m.put("vocab_size", 100).put("mtp_layers", -1);
    assertThatThrownBy(() -> ApplicationReader.read(m, "model.json")).hasMessageContaining("mtp_layers: must be 0 or more");
    m.put("mtp_layers", 5);
    assertThatThrownBy(() -> ApplicationReader.read(m, "model.json")).hasMessageContaining("mtp_layers: must be at most num_blocks=4");
  }
}
