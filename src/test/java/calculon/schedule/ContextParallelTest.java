package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.Infeasible;
import calculon.model.Layer;
import calculon.model.ModelVersion;
import calculon.model.Stage;
import calculon.report.StepBreakdown;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.stats.Summary;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Context parallelism derived by hand on a small model (h 1024, 16 heads of 64, 16 KV heads,
 * s 4096, microbatch 1, bf16): every activation splits along the sequence, attention does 1/CP of
 * the score matrix, and the KV exchange moves what ring attention and Ulysses move.
 */
class ContextParallelTest {
  static final String KIND = "per-stage-inflight", MODEL = "model-small-h-no-vocab.json",
      EXE = "exe-pp1_nm8.json";

  static Consumer<ObjectNode> cp(int cp, String type, int dp) {
    return e -> e.put("context_par", cp).put("context_par_comm_type", type).put("data_par", dp)
        .put("num_procs", cp * dp).put("batch_size", 8 * dp);
  }

  static Stats run(String system, Consumer<ObjectNode> edit) throws Exception {
    return FaultCases.run(KIND, MODEL, EXE, system, ModelVersion.CORRECTED, edit);
  }

  static Layer cpLayer(Consumer<ObjectNode> edit) throws Exception {
    return BlockBuilderAccess.layer(edit, "AttnBlock_CP_KV", "system-ideal-net.json");
  }

  /** One layer of the block the case's files build with {@code edit} applied. */
  static final class BlockBuilderAccess {
    static Layer layer(Consumer<ObjectNode> edit, String name, String system) throws Exception {
      Path dir = FaultCases.ROOT.resolve(KIND);
      Application app = ApplicationReader.read(dir.resolve(MODEL));
      ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(dir.resolve(EXE).toFile());
      edit.accept(node);
      Execution exe = ExecutionReader.read(node, EXE);
      SystemSpec sys = SystemReader.read(dir.resolve(system));
      return BlockBuilder.build(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CORRECTED).stream()
          .filter(l -> l.name().equals(name)).findFirst().orElseThrow();
    }
  }

  @Test
  void everyActivationAndTheAttentionFlopsSplitAlongTheSequence() throws Exception {
    Stats one = run("system-ideal-net.json", cp(1, "p2p", 1));
    Stats two = run("system-ideal-net.json", cp(2, "p2p", 1));
    // beside the halved work, CP adds the merge of the two steps' partial outputs (ContextParallelMerge:
    // TE's correction, a product and a sum per output element on 1 + 3/4 of the rows: 2048 x 16 x 64 x 2 x 1.75)
    double merge = BlockBuilderAccess.layer(cp(2, "p2p", 1), "AttnBlock_CP_Merge", "system-ideal-net.json").flops(Stage.FW);
    assertThat(merge).isEqualTo(2048.0 * 16 * 64 * 2 * 1.75);
    assertThat(two.get(StatField.BLOCK_FW_FLOPS) - merge).isEqualTo(one.get(StatField.BLOCK_FW_FLOPS) / 2);
    assertThat(two.get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(one.get(StatField.BLOCK_ACT_STORAGE_SPACE) / 2);
    assertThat(two.get(StatField.BLOCK_WEIGHT_SPACE)).isEqualTo(one.get(StatField.BLOCK_WEIGHT_SPACE));
  }

  @Test
  void ringAttentionPassesCpMinusOneKvBlocksForwardAndTwiceThatBackward() throws Exception {
    // CP 4: 1024 tokens per rank x 16 KV heads x (64 + 64) = 2,097,152 elements = 4,194,304 bytes per block
    Layer l = cpLayer(cp(4, "p2p", 1));
    assertThat(l.commBytes(Stage.FW, true)).isEqualTo(3 * 4_194_304.0);
    assertThat(l.commBytes(Stage.AGRAD, true)).isEqualTo(2 * 3 * 4_194_304.0);
  }

  @Test
  void ulyssesMovesQueriesKeysValuesAndOutputOnce() throws Exception {
    // CP 2: 2048 tokens x 16 heads x (64 query + 128 key/value + 64 output) x 2 bytes
    Layer l = cpLayer(cp(2, "a2a", 1));
    assertThat(l.commBytes(Stage.FW, true)).isEqualTo(2048.0 * 16 * 256 * 2);
    assertThat(l.commBytes(Stage.AGRAD, true)).isEqualTo(l.commBytes(Stage.FW, true));
    // a2a is on the critical path: exposed = link
    assertThat(l.exposedNetTime(Stage.FW, true)).isEqualTo(l.netTime(Stage.FW, true));
  }

  @Test
  void allGatherMovesTheRingsBytesButHidesBehindTheOwnBlockOnly() throws Exception {
    // CP 4 as above: 4,194,304 bytes per KV block; the all-gather brings in the other 3
    String sys = "../distributed-optimizer/system-h100-bigmem.json";
    Layer ring = BlockBuilderAccess.layer(cp(4, "p2p", 1), "AttnBlock_CP_KV", sys);
    Layer gather = BlockBuilderAccess.layer(cp(4, "all_gather", 1), "AttnBlock_CP_KV", sys);
    assertThat(gather.commBytes(Stage.FW, true)).isEqualTo(ring.commBytes(Stage.FW, true)).isEqualTo(3 * 4_194_304.0);
    // backward: gathered again, and (TE) the gradients reduce-scattered: each rank sends 3 blocks
    assertThat(gather.commBytes(Stage.AGRAD, true)).isEqualTo(ring.commBytes(Stage.AGRAD, true));
    // the gather's exposure: what 1/CP of the attention's forward time cannot hide
    Layer attention = BlockBuilderAccess.layer(cp(4, "all_gather", 1), "AttnBlock_Multihead_FlashAttention", sys);
    double own = attention.processingTime(Stage.FW) / 4;
    assertThat(gather.exposedNetTime(Stage.FW, true))
        .isEqualTo(Math.max(0, gather.netTime(Stage.FW, true) - own))
        .isGreaterThan(ring.exposedNetTime(Stage.FW, true));
    // the seq_size rule is the ring's: two chunks per rank
    assertThatThrownBy(() -> run("system-ideal-net.json", cp(3, "all_gather", 1)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("seq_size");
  }

  /** 450 GB/s at efficiency 0.8 and 10 us latency: system-h100-bigmem.json's first network. */
  static double h100Seconds(double bytes) {
    return 1e-5 + bytes / (450e9 * 0.8);
  }

  @Test
  void transformerEngineAllGatherReduceScattersTheGradientsAfterTheBackward() throws Exception {
    // AttnFuncWithCPAndKVAllGather.backward: all-gather K, V again; reduce_scatter_along_first_dim
    // of the gathered dK, dV (4 blocks of 4,194,304 bytes, 16-bit) after both chunks' backward.
    // Bytes each rank sends: 3 blocks gathered + 3 blocks reduce-scattered.
    String sys = "../distributed-optimizer/system-h100-bigmem.json";
    Layer l = BlockBuilderAccess.layer(cp(4, "all_gather", 1), "AttnBlock_CP_KV", sys);
    double block = 4_194_304.0;
    assertThat(l.commBytes(Stage.AGRAD, true)).isEqualTo(6 * block).isEqualTo(25_165_824);
    // all-gather and reduce-scatter of the full 4 blocks, scalar 1, offset 0 (wire = the bytes)
    double gather = h100Seconds(4 * block), reduceScatter = h100Seconds(4 * block);
    assertThat(l.netTime(Stage.AGRAD, true)).isCloseTo(gather + reduceScatter, within(1e-15));
    // the gather hides behind 1/CP of the attention's backward; the reduce-scatter behind nothing
    Layer attention = BlockBuilderAccess.layer(cp(4, "all_gather", 1), "AttnBlock_Multihead_FlashAttention", sys);
    double backward = attention.processingTime(Stage.AGRAD) + attention.processingTime(Stage.WGRAD);
    assertThat(l.exposedNetTime(Stage.AGRAD, true))
        .isCloseTo(Math.max(0, gather - backward / 4) + reduceScatter, within(1e-15))
        .isGreaterThanOrEqualTo(reduceScatter);
  }

  @Test
  void pytorchPassesTheGradientsAroundTheRingInFp32() throws Exception {
    // _templated_ring_attention_backward: the K/V exchange again in bf16 (3 blocks of 2,097,152
    // elements x 2 bytes), then dkv_rotater.exchange_buffers of the fp32 gradients once per step:
    // 4 transfers of 2,097,152 x 4 = 8,388,608 bytes, the last bringing them home
    String sys = "../distributed-optimizer/system-h100-bigmem.json";
    double kv = 2_097_152.0, grad = h100Seconds(kv * 4);
    for (String type : new String[] {"all_gather", "p2p"}) {
      Layer l = BlockBuilderAccess.layer(cp(4, type, 1).andThen(e -> e.put("context_par_impl", "pytorch")),
          "AttnBlock_CP_KV", sys);
      assertThat(l.commBytes(Stage.AGRAD, true)).as(type)
          .isEqualTo(3 * kv * 2 + 4 * kv * 4).isEqualTo(46_137_344);
      // the forward is the 16-bit exchange either way
      assertThat(l.commBytes(Stage.FW, true)).as(type).isEqualTo(3 * kv * 2);
      double exchange = type.equals("p2p") ? 3 * h100Seconds(kv * 2) : h100Seconds(4 * kv * 2);
      assertThat(l.netTime(Stage.AGRAD, true)).as(type).isCloseTo(exchange + 4 * grad, within(1e-15));
      // the home-bound transfer follows the last step: never hidden
      assertThat(l.exposedNetTime(Stage.AGRAD, true)).as(type).isGreaterThanOrEqualTo(grad);
    }
    // Transformer Engine's ring sends 3 gradient blocks in bf16: 6 blocks in all
    Layer te = BlockBuilderAccess.layer(cp(4, "p2p", 1), "AttnBlock_CP_KV", sys);
    assertThat(te.commBytes(Stage.AGRAD, true)).isEqualTo(6 * kv * 2);
  }

  @Test
  void gradientsAreReducedOverDataTimesContextRanks() throws Exception {
    String sys = "../distributed-optimizer/system-h100-bigmem.json";
    Stats dp8 = run(sys, cp(1, "p2p", 8));
    Stats cp2dp4 = run(sys, cp(2, "p2p", 4));
    assertThat(dp8.get(StatField.DP_COMM_LINK_TIME)).isGreaterThan(0);
    assertThat(cp2dp4.get(StatField.DP_COMM_LINK_TIME)).isEqualTo(dp8.get(StatField.DP_COMM_LINK_TIME));
  }

  @Test
  void badContextParallelInputIsAOneLineConfigError() {
    assertThatThrownBy(() -> run("system-ideal-net.json", e -> e.put("context_par", 2)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("num_procs").hasMessageContaining("context_par");
    // 16 heads cannot split over 32 Ulysses ranks
    assertThatThrownBy(() -> run("system-ideal-net.json", cp(32, "a2a", 1)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("attn_heads");
    // 4096 tokens do not split into 2 x 3 load-balanced chunks
    assertThatThrownBy(() -> run("system-ideal-net.json", cp(3, "p2p", 1)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("seq_size");
  }

  @Test
  void calculonMoeModeDoesNotModelContextParallelism() {
    assertThatThrownBy(() -> FaultCases.run(KIND, MODEL, EXE, "system-ideal-net.json", ModelVersion.CALCULON_MOE,
        cp(2, "p2p", 1))).isInstanceOf(Infeasible.class);
  }
  @Test
  void theExposedKvExchangeIsAPartOfTheStepInTheSummaryAndTheReport() throws Exception {
    // Ulysses' all-to-all is on the critical path, so the step has exposed CP communication; the
    // step-time parts of the report and the summary's lines must show it and add up to total_time
    Stats s = run("system-ideal-net.json", cp(2, "a2a", 1));
    double exposed = s.get(StatField.CP_COMM_EXPOSED_TIME);
    assertThat(exposed).isPositive();
    double sum = StepBreakdown.of(s).stream().mapToDouble(StepBreakdown.Part::seconds).sum();
    assertThat(sum).isCloseTo(s.get(StatField.TOTAL_TIME), within(1e-12 * s.get(StatField.TOTAL_TIME)));
    assertThat(StepBreakdown.of(s).stream().filter(p -> p.label().equals("CP comm (exposed)")).findFirst()
        .orElseThrow().seconds()).isEqualTo(exposed);
    String text = Summary.text(s, ModelVersion.CORRECTED);
    assertThat(text).contains("Batch CP comm overhead: ").contains("Batch CP comm time on link: ");
    assertThat(Summary.text(s, ModelVersion.CALCULON_MOE)).doesNotContain("CP comm");
  }
}
