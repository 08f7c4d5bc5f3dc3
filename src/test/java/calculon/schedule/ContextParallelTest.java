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
    // backward: gathered again, and the gradients passed around the ring
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
