package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
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
 * The token shuffles around the expert exchange, by hand: a MoE block (H 1024, 8 experts of 2048,
 * top-2, sequence 1024, microbatch 1, TP 1, EP 2) routes T k = 2,048 token copies, so the
 * permutation before the dispatch and, in the corrected model, the unpermutation after the
 * combine (Megatron-Core moe_utils.permute / unpermute) each move 2,048 x 1,024 elements; the
 * calculon-moe model charges the permutation only.
 */
class TokenUnpermuteTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static List<Layer> block(ModelVersion v) throws Exception {
    return block(v, e -> { }, "systems/H100_80g_sxm.json");
  }

  /** The block with the execution edited and on the given system. */
  static List<Layer> block(ModelVersion v, java.util.function.Consumer<ObjectNode> edit, String system) throws Exception {
    ObjectNode m = JSON.createObjectNode().put("hidden", 1024).put("feedforward", 2048).put("seq_size", 1024)
        .put("attn_heads", 16).put("attn_size", 64).put("num_blocks", 4).put("mlp", "swiglu");
    m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2));
    Application app = ApplicationReader.read(m, "model.json");
    ObjectNode e = (ObjectNode) JSON.readTree(Path.of("examples/megatron_1T_training_4096_original.json").toFile());
    e.put("num_procs", 2).put("tensor_par", 1).put("pipeline_par", 1).put("data_par", 2).put("batch_size", 2)
        .put("microbatch_size", 1).put("weight_offload", false).put("tensor_par_comm_type", "ar")
        .put("pipeline_par_net", 0).put("data_par_net", 0).put("activation_recompute", "none")
        .put("model_MoE", true).put("num_experts", 8).put("top_k_experts", 2).put("expert_par", 2)
        .put("expert_slice", 1).put("data_par_exp", 1).put("expert_par_net", 0).put("expert_slice_net", 0)
        .put("data_par_exp_net", 0).put("seq_par_ag_redo", false).put("tensor_par_overlap", "none");
    edit.accept(e);
    Execution exe = ExecutionReader.read(e, "execution.json");
    SystemSpec sys = SystemReader.read(Path.of(system));
    return BlockBuilder.build(app, exe, new Hardware(sys, exe.datatype()), v, BlockBuilder.Kind.MOE);
  }

  static Layer named(List<Layer> layers, String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElse(null);
  }

  @Test
  void theCorrectedModelUnpermutesWhatItPermuted() throws Exception {
    List<Layer> corrected = block(ModelVersion.CORRECTED);
    double copies = 1024.0 * 2 * 1024;
    Layer perm = named(corrected, "RouterBlock_TensorTransformation");
    Layer unperm = named(corrected, "MlpBlock_Unpermute");
    assertThat(perm.flops(Stage.FW)).isEqualTo(copies);
    assertThat(unperm.flops(Stage.FW)).isEqualTo(copies);
    assertThat(unperm.flops(Stage.AGRAD)).isEqualTo(copies);
    assertThat(unperm.weightParams()).isZero();
    assertThat(unperm.activation()).isZero();
    // after the combine all-to-all, before the residual add
    int at = corrected.indexOf(unperm);
    assertThat(corrected.get(at - 1).name()).isEqualTo("MlpBlock_All2All_MoE_Expert");
    assertThat(named(block(ModelVersion.CALCULON_MOE), "MlpBlock_Unpermute")).isNull();
  }
}
