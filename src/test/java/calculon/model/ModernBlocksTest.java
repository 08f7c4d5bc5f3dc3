package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The blocks of modern architectures against hand derivations: flops, weights and activation
 * bytes of the layers each feature adds or changes. A small model (H 1024, F 4096, 16 heads of 64,
 * 4 blocks, sequence 1024, microbatch 1 so T = 1024 tokens) on 4 GPUs with TP 2, float16 (2 bytes).
 */
class ModernBlocksTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long H = 1024, F = 4096, A = 16, D = 64, L = 4, S = 1024, T = 1024, TP = 2;
  static final double BYTES = 2;

  /** The block's layers and the hardware they were prepared for. */
  record Block(List<Layer> layers, Hardware hw) {
    Layer layer(String name) {
      return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }
  }

  static Block block(Consumer<ObjectNode> model, Consumer<ObjectNode> execution) throws Exception {
    Object[] in = inputs(model, execution);
    Application app = (Application) in[0];
    Execution exe = (Execution) in[1];
    Hardware hw = new Hardware((SystemSpec) in[2], exe.datatype());
    return new Block(BlockBuilder.build(app, exe, hw, ModelVersion.CORRECTED), hw);
  }

  static Stats run(Consumer<ObjectNode> model, Consumer<ObjectNode> execution) throws Exception {
    return run(model, execution, s -> { });
  }

  /** {@link #run(Consumer, Consumer)} on the system file edited by {@code system}. */
  static Stats run(Consumer<ObjectNode> model, Consumer<ObjectNode> execution, Consumer<ObjectNode> system)
      throws Exception {
    Object[] in = inputs(model, execution, system);
    Execution exe = (Execution) in[1];
    return Evaluator.evaluate((Application) in[0], exe, new Hardware((SystemSpec) in[2], exe.datatype()),
        ModelVersion.CORRECTED, true);
  }

  /** The model, execution and system of this class's small model, checked as a run. */
  static Object[] inputs(Consumer<ObjectNode> model, Consumer<ObjectNode> execution) throws Exception {
    return inputs(model, execution, s -> { });
  }

  /** {@link #inputs(Consumer, Consumer)} on the system file edited by {@code system}. */
  static Object[] inputs(Consumer<ObjectNode> model, Consumer<ObjectNode> execution, Consumer<ObjectNode> system)
      throws Exception {
    ObjectNode m = JSON.createObjectNode().put("hidden", H).put("feedforward", F).put("seq_size", S)
        .put("attn_heads", A).put("attn_size", D).put("num_blocks", L);
    model.accept(m);
    ObjectNode e = (ObjectNode) JSON.readTree(Path.of("examples/megatron_1T_training_4096_original.json").toFile());
    e.put("num_procs", 4).put("tensor_par", (int) TP).put("pipeline_par", 1).put("data_par", 2).put("batch_size", 2)
        .put("microbatch_size", 1).put("weight_offload", false).put("tensor_par_comm_type", "ar")
        .put("pipeline_par_net", 0).put("data_par_net", 0).put("activation_recompute", "none");
    execution.accept(e);
    Application app = ApplicationReader.read(m, "model.json");
    Execution exe = ExecutionReader.read(e, "execution.json");
    ObjectNode sysJson = (ObjectNode) JSON.readTree(Path.of("systems/H100_80g_sxm.json").toFile());
    system.accept(sysJson);
    SystemSpec sys = SystemReader.read(sysJson, "systems/H100_80g_sxm.json");
    RunChecks.check(app, exe, sys, "model.json", "execution.json", "system.json");
    return new Object[] {app, exe, sys};
  }

  static Stats.LayerStats layer(Stats s, String name) {
    return s.layers().stream().filter(l -> l.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(name + " not among " + s.layers().stream().map(Stats.LayerStats::name).toList()));
  }

  static void matmul(Stats.LayerStats l, double m, double n, double k) {
    assertThat(l.get(LayerField.FW_FLOPS)).as(l.name() + " flops").isEqualTo(2 * m * n * k);
    assertThat(l.get(LayerField.WEIGHT)).as(l.name() + " weight bytes").isEqualTo(n * k * BYTES);
    assertThat(l.get(LayerField.ACTIVATION)).as(l.name() + " activation bytes").isEqualTo(m * n * BYTES);
  }

  @Test
  void groupedQueryAttentionNarrowsKeysAndValues() throws Exception {
    Stats s = run(m -> m.put("num_kv_heads", 4), e -> { });
    matmul(layer(s, "AttnBlock_Query"), T, H, A * D / TP);
    matmul(layer(s, "AttnBlock_Key"), T, H, 4 / TP * D);     // 2 KV heads per rank
    matmul(layer(s, "AttnBlock_Value"), T, H, 4 / TP * D);
  }

  @Test
  void kvHeadsFewerThanTensorParallelRanksAreReplicated() throws Exception {
    Stats s = run(m -> m.put("num_kv_heads", 1), e -> { });
    matmul(layer(s, "AttnBlock_Key"), T, H, D);               // one whole head on each rank
  }

  @Test
  void latentAttentionProjectsThroughLatents() throws Exception {
    long qr = 256, kvr = 128, nope = 64, rope = 32, v = 64;
    Stats s = run(m -> m.set("mla", JSON.createObjectNode().put("q_lora_rank", qr).put("kv_lora_rank", kvr)
        .put("qk_nope_head_dim", nope).put("qk_rope_head_dim", rope).put("v_head_dim", v)),
        e -> e.put("flash_attention", false));
    matmul(layer(s, "AttnBlock_Query_Down"), T, H, qr);
    matmul(layer(s, "AttnBlock_Query_Up"), T, qr, A * (nope + rope) / TP);
    matmul(layer(s, "AttnBlock_KV_Down"), T, H, kvr + rope);
    matmul(layer(s, "AttnBlock_KV_Up"), T, kvr, A * (nope + v) / TP);
    // scores over the query/key width (no-rotary + rotary), context over the value width
    assertThat(layer(s, "AttnBlock_Multihead_Key_Query").get(LayerField.FW_FLOPS))
        .isEqualTo(2.0 * (A / TP) * S * (nope + rope) * S);
    assertThat(layer(s, "AttnBlock_Multihead_Attn").get(LayerField.FW_FLOPS)).isEqualTo(2.0 * (A / TP) * S * S * v);
    matmul(layer(s, "AttnBlock_MLP"), T, A * v / TP, H);
    // the fused kernel: causal, so half the S x S pairs, over the same widths, plus the softmax
    // (5 flops per pair) and the attention dropout (1)
    Stats f = run(m -> m.set("mla", JSON.createObjectNode().put("q_lora_rank", qr).put("kv_lora_rank", kvr)
        .put("qk_nope_head_dim", nope).put("qk_rope_head_dim", rope).put("v_head_dim", v)), e -> { });
    double pairs = (A / TP) * S * S / 2.0;
    assertThat(layer(f, "AttnBlock_Multihead_FlashAttention").get(LayerField.FW_FLOPS))
        .isEqualTo(2 * pairs * (nope + rope + v) + 6 * pairs);
  }

  @Test
  void gatedMlpHasThreeMatricesAndAGate() throws Exception {
    Stats s = run(m -> m.put("mlp", "swiglu"), e -> { });
    matmul(layer(s, "MlpBlock_Mlp1"), T, H, 2 * F / TP);       // gate and up together
    matmul(layer(s, "MlpBlock_Mlp2"), T, F / TP, H);
    double x = (double) T * F / TP;
    Stats.LayerStats gate = layer(s, "MlpBlock_GatedActivation");
    assertThat(gate.get(LayerField.FW_FLOPS)).isEqualTo(8 * x + x);   // swish, then the gating product
    assertThat(gate.get(LayerField.AGRAD_FLOPS)).isEqualTo(13 * x + 2 * x);
  }

  static Consumer<ObjectNode> moeExecution(int experts, int topK, int ep) {
    // 4 GPUs: TP 2, DP 2 for attention; EP ep, ES 1, DP_exp 4/ep for the experts
    return e -> e.put("model_MoE", true).put("num_experts", experts).put("top_k_experts", topK)
        .put("expert_par", ep).put("expert_slice", 1).put("data_par_exp", 4 / ep).put("data_par_exp_net", 0)
        .put("expert_par_net", 0).put("expert_slice_net", 0).put("tensor_par_comm_type", "rs_ag");
  }

  @Test
  void fineGrainedExpertsUseTheirOwnWidth() throws Exception {
    long fe = 512;
    Stats s = run(m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)
        .put("expert_feedforward", fe)), moeExecution(8, 2, 4));
    // TP 2 with SP, ES 1 (expert slicing below TP): each rank dispatches its T/TP tokens x top-2,
    // and receives as many for its local experts
    long local = 8 / 4, tokensPerExpert = T / TP * 2 / local;
    Stats.LayerStats up = layer(s, "MlpBlock_Mlp1_MoE");
    assertThat(up.get(LayerField.FW_FLOPS)).isEqualTo(local * 2.0 * tokensPerExpert * H * fe);
    assertThat(up.get(LayerField.WEIGHT)).isEqualTo(local * H * fe * BYTES);
    assertThat(up.get(LayerField.ACTIVATION)).isEqualTo(local * tokensPerExpert * H * BYTES);
  }

  @Test
  void sharedExpertsSeeEveryToken() throws Exception {
    Stats s = run(m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)
        .put("expert_feedforward", 512).put("shared_experts", 2).put("shared_feedforward", 256)), moeExecution(8, 2, 4));
    matmul(layer(s, "MlpBlock_Shared_Mlp1"), T, H, 2 * 256 / TP);
    matmul(layer(s, "MlpBlock_Shared_Mlp2"), T, 2 * 256 / TP, H);
  }

  @Test
  void capacityFactorLoadsTheBusiestExpertAndTheAllToAll() throws Exception {
    Consumer<ObjectNode> balanced = m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2));
    Consumer<ObjectNode> skewed = m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)
        .put("capacity_factor", 1.25));
    Stats even = run(balanced, moeExecution(8, 2, 4)), busy = run(skewed, moeExecution(8, 2, 4));
    assertThat(layer(busy, "MlpBlock_Mlp1_MoE").get(LayerField.FW_FLOPS))
        .isEqualTo(layer(even, "MlpBlock_Mlp1_MoE").get(LayerField.FW_FLOPS) * 1.25);
    assertThat(layer(busy, "RouterBlock_All2All_Expert").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE))
        .isEqualTo(layer(even, "RouterBlock_All2All_Expert").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE) * 1.25);
  }

  @Test
  void vocabularyLayersSitOnTheFirstAndLastStage() throws Exception {
    long vocab = 32_001; // odd, so the split over TP rounds up
    Stats s = run(m -> m.put("vocab_size", vocab).put("tied_embeddings", false), e -> { });
    // one stage holds every block, so the first block of the stage carries the embedding
    long perRank = (vocab + TP - 1) / TP;
    Stats.LayerStats lookup = layer(s, "Embedding_Lookup");
    assertThat(lookup.get(LayerField.WEIGHT)).isEqualTo(perRank * H * BYTES);
    assertThat(lookup.get(LayerField.FW_FLOPS)).isZero();
    assertThat(lookup.get(LayerField.WGRAD_FLOPS)).isEqualTo((double) T * H);
    // with PP = 1 the stage's average block carries both ends: logits add 2*T*H*V/TP flops per step
    Stats plain = run(m -> { }, e -> { });
    // logits, cross-entropy (costed as a softmax) and final norm (the embedding all-reduce's
    // additions are the collective's, not model flops)
    double headFlops = 2.0 * T * H * perRank + 5.0 * T * perRank + 9.0 * T * H;
    assertThat((s.get(StatField.BLOCK_FW_FLOPS) - plain.get(StatField.BLOCK_FW_FLOPS)) * L)
        .isCloseTo(headFlops, within(headFlops * 1e-9));
  }

  @Test
  void denseFirstLayersMakeStagesDiffer() throws Exception {
    // 4 blocks, PP 2: stage 0 holds the two dense blocks, stage 1 the two MoE blocks
    Consumer<ObjectNode> model = m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)
        .put("first_dense_layers", 2));
    Consumer<ObjectNode> exe = moeExecution(8, 2, 2).andThen(e -> e.put("pipeline_par", 2).put("data_par", 1)
        .put("data_par_exp", 1).put("expert_par", 2).put("num_procs", 4).put("optimizer_sharding", false).put("zero_stage", 0)
        .put("data_par_overlap", false).put("pipeline_par_net", 1).put("batch_size", 4));
    Stats mixed = run(model, exe);
    Stats allMoe = run(m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)), exe);
    // the MoE stage is the slower one, and it is the same as a stage of the all-MoE model
    assertThat(mixed.get(StatField.TOTAL_TIME)).isEqualTo(allMoe.get(StatField.TOTAL_TIME));
    assertThat(mixed.get(StatField.BLOCK_WEIGHT_SPACE)).isEqualTo(allMoe.get(StatField.BLOCK_WEIGHT_SPACE));
  }

  @Test
  void storageDatatypesAreSetApartFromTheComputeDatatype() throws Exception {
    // fp16 compute; fp32 weights (so no separate master copy), fp8 activations, bf16 gradients
    Stats s = run(m -> { }, e -> e.put("datatype", "float16").put("weight_datatype", "float32")
        .put("activation_datatype", "float8").put("gradient_datatype", "bfloat16"));
    Stats.LayerStats q = layer(s, "AttnBlock_Query");
    double w = (double) H * (A * D / TP);
    assertThat(q.get(LayerField.WEIGHT)).isEqualTo(w * 4);
    assertThat(q.get(LayerField.ACTIVATION)).isEqualTo((double) T * H * 1);
    assertThat(q.get(LayerField.WEIGHT_GRAD)).isEqualTo(w * 2 / 2); // bf16, sharded over DP 2
    // Adam: two fp32 moments per weight, and no master copy since the weights are fp32 already
    assertThat(q.get(LayerField.OPTIMIZER)).isEqualTo(2 * w * 4 / 2);
    // forward traffic: inputs and outputs at 1 byte, weights at 4
    assertThat(q.get(LayerField.FW_MEM_ACCESSED)).isEqualTo((double) T * H + (double) T * (A * D / TP) + w * 4);
  }

  @Test
  void unknownStorageDatatypeIsAConfigError() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> run(m -> { }, e -> e.put("master_weight_datatype", "int8")))
        .isInstanceOf(calculon.config.ConfigError.class).hasMessageContaining("master_weight_datatype");
  }

  @Test
  void tiedEmbeddingsOnOneStageAreOneTable() throws Exception {
    long vocab = 32_000, perRank = vocab / TP;
    Stats untied = run(m -> m.put("vocab_size", vocab).put("tied_embeddings", false), e -> { });
    Stats tied = run(m -> m.put("vocab_size", vocab).put("tied_embeddings", true), e -> { });
    // PP = 1: the stage's average block holds the table once instead of twice
    assertThat((untied.get(StatField.BLOCK_WEIGHT_SPACE) - tied.get(StatField.BLOCK_WEIGHT_SPACE)) * L)
        .isCloseTo(perRank * H * BYTES, within(1.0));
    assertThat(tied.get(StatField.BLOCK_WGRAD_FLOPS)).isEqualTo(untied.get(StatField.BLOCK_WGRAD_FLOPS));
  }

  @Test
  void moeEveryOtherBlockMixesBlockKindsInAStage() throws Exception {
    Consumer<ObjectNode> dense = m -> { };
    Consumer<ObjectNode> everyOther = m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2)
        .put("layer_interval", 2));
    Consumer<ObjectNode> allMoe = m -> m.set("moe", JSON.createObjectNode().put("num_experts", 8).put("top_k", 2));
    Stats mixed = run(everyOther, moeExecution(8, 2, 4));
    Stats moe = run(allMoe, moeExecution(8, 2, 4));
    Stats plain = run(dense, moeExecution(8, 2, 4).andThen(e -> e.put("model_MoE", false).put("num_experts", 1)
        .put("top_k_experts", 1).put("expert_par", 1).put("data_par_exp", 1)));
    // PP = 1, 4 blocks: two dense and two MoE, so the average block is their mean
    assertThat(mixed.get(StatField.BLOCK_FW_FLOPS))
        .isCloseTo((moe.get(StatField.BLOCK_FW_FLOPS) + plain.get(StatField.BLOCK_FW_FLOPS)) / 2,
            within(moe.get(StatField.BLOCK_FW_FLOPS) * 1e-12));
  }
}
