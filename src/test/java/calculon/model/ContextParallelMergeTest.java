package calculon.model;

import static calculon.model.ModernBlocksTest.A;
import static calculon.model.ModernBlocksTest.BYTES;
import static calculon.model.ModernBlocksTest.D;
import static calculon.model.ModernBlocksTest.S;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.block;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import calculon.stats.ExecutionDict;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code context_par_impl}: the element-wise work between context parallelism's attention calls
 * ({@link ContextParallelMerge}), hand-counted from each framework's code, on ModernBlocksTest's
 * small model (16 heads of 64 over TP 2: 8 heads per rank, multi-head so 8 KV heads; S = 1,024
 * tokens, microbatch 1) at CP 2: 512 tokens per rank, one step after the first (n = 1), which over
 * the two ranks is a full-query step on one and a half-query step on the other (3/4 of the rows
 * on average). a = 2 bytes, F = 4, D = 8.
 */
class ContextParallelMergeTest {
  static final String MERGE = "AttnBlock_CP_Merge";
  static final double TOKENS = S / 2.0;
  /** R: output rows per rank; E: output elements; Q: query elements; K: key and value elements. */
  static final double R = TOKENS * A / TP, E = R * D, Q = R * D, K = TOKENS * A / TP * 2 * D;
  static final double FP32 = 4, FP64 = 8;

  static Consumer<ObjectNode> cp(String type) {
    return e -> e.put("context_par", 2).put("data_par", 1).put("batch_size", 1).put("context_par_net", 0)
        .put("context_par_comm_type", type);
  }

  static Layer merge(Consumer<ObjectNode> execution) throws Exception {
    return block(m -> { }, execution).layer(MERGE);
  }

  @Test
  void transformerEngineRingCorrectsTheOutputInSixteenBits() throws Exception {
    Layer l = merge(cp("p2p"));
    double a = BYTES;
    // zeros_like(q): a E; flash_attn_fwd_out_correction on the first step (all rows) and the later
    // one (3/4 of them): read the step's output, read and write out, read two fp32 logsumexps;
    // the fp64 logsumexp correction of the later step, its clone to fp64 and the cast back
    double fw = a * E + (1 + 0.75) * (3 * a * E + 2 * FP32 * R) + 0.75 * (2 * FP64 + FP32) * R
        + 2 * (FP32 + FP64) * R;
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(fw).isEqualTo(3_493_888);
    // the K/V copy into the first buffer; dq and dkv added in a (read both, write one)
    assertThat(l.memAccessed(Stage.AGRAD)).isEqualTo(2 * a * K + 3 * a * (Q + K) * 1.75).isEqualTo(10_354_688);
    assertThat(l.memAccessed(Stage.WGRAD)).isZero();
    assertThat(l.usefulFlops(Stage.FW)).isZero();
  }

  @Test
  void transformerEngineAllGatherCopiesAndReorders() throws Exception {
    Layer l = merge(cp("all_gather"));
    double a = BYTES;
    // index_select of the gathered K and V (CP x K); both chunks' outputs copied into out
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(2 * a * 2 * K + 2 * a * E);
    // reorder, zero dk/dv, add each chunk's over its causal range (CP + 1/2 local K), reorder, dq copies
    assertThat(l.memAccessed(Stage.AGRAD))
        .isEqualTo(2 * a * 2 * K + a * 2 * K + 3 * a * 2.5 * K + 2 * a * 2 * K + 2 * a * Q);
  }

  @Test
  void ulyssesHasNothingToMerge() throws Exception {
    Layer l = merge(cp("a2a"));
    assertThat(l.memAccessed(Stage.FW)).isZero();
    assertThat(l.memAccessed(Stage.AGRAD)).isZero();
  }

  @Test
  void eagerPyTorchMergesInFp32OpByOp() throws Exception {
    Layer l = merge(cp("all_gather").andThen(e -> e.put("context_par_impl", "pytorch")
        .put("elementwise_kernels", "eager")));
    double a = BYTES;
    // key/value contiguous and one K/V cat (2aK each); both steps' outputs cast to fp32; the later
    // step's merge (full-query 8F E + 14F R, half-query 6F E + 9F R, averaged); the cast back
    double fw = 2 * a * K + 2 * a * K + 2 * (a + FP32) * E + (7 * FP32 * E + 11.5 * FP32 * R) + (FP32 + a) * E;
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(fw);
    // the copies again; fp32 zeros; each step's add (2F + a) on its share plus the later step's
    // half-step cat (F per element on average); the fp32 K/V-gradient cat every step; casts back
    double qk = Q + K;
    double bw = 2 * a * K + 2 * a * K + FP32 * qk + (2 * FP32 + a) * qk * 1.75 + FP32 * qk + 2 * FP32 * 2 * K
        + (FP32 + a) * qk;
    assertThat(l.memAccessed(Stage.AGRAD)).isEqualTo(bw);
    // the ring merges the same way: the same bytes (each step's cat happens with either rotater)
    assertThat(merge(cp("p2p").andThen(e -> e.put("context_par_impl", "pytorch")
        .put("elementwise_kernels", "eager"))).memAccessed(Stage.FW)).isEqualTo(fw);
  }

  @Test
  void compiledPyTorchFusesEachStep() throws Exception {
    Layer l = merge(cp("all_gather").andThen(e -> e.put("context_par_impl", "pytorch")));
    double a = BYTES;
    // the gathered K/V cat; the first step's fp32 copy; the later step read once, the accumulator
    // read and written (half a step on the half-query rank, whose cat copies the other half); the cast back
    double fw = 2 * a * K + (a + FP32) * E + (0.75 * a + 2 * FP32) * E + 2.75 * FP32 * R + (FP32 + a) * E;
    assertThat(l.memAccessed(Stage.FW)).isEqualTo(fw);
    double qk = Q + K;
    assertThat(l.memAccessed(Stage.AGRAD))
        .isEqualTo(2 * a * K + (a + FP32) * qk + (0.75 * a + 2 * FP32) * qk + (FP32 + a) * qk);
    // the ring materializes a cat for each of the n = 1 permutes: the same count at CP 2
    assertThat(merge(cp("p2p").andThen(e -> e.put("context_par_impl", "pytorch"))).memAccessed(Stage.FW))
        .isEqualTo(fw);
  }

  @Test
  void pyTorchAllGatherHoldsTheGatheredKeysAndTheFp32GradientBuffers() throws Exception {
    Layer l = merge(cp("all_gather").andThen(e -> e.put("context_par_impl", "pytorch")));
    double a = BYTES;
    // _AllGatherRotater's gathered K/V (CP = 2 blocks of a K), and the backward's fp32 dq (F Q),
    // dk/dv accumulators, dkv cat in flight and block arriving (3F K); the forward's fp32 output
    // and logsumexp (F (E + R)) are fewer bytes, so the backward's set counts
    double working = 2 * a * K + FP32 * (Q + 3 * K);
    assertThat(FP32 * (E + R)).isLessThan(FP32 * (Q + 3 * K));
    assertThat(l.activation()).isEqualTo(working).isEqualTo(9_437_184);
    // transient: none of it is kept for the backward pass
    assertThat(l.storesActivation()).isFalse();
  }

  @Test
  void pyTorchRingHoldsThreeKeyValueBlocks() throws Exception {
    Layer l = merge(cp("p2p").andThen(e -> e.put("context_par_impl", "pytorch")));
    // the block in use, the cat being sent, the block arriving (3a K), and the backward's fp32 set
    assertThat(l.activation()).isEqualTo(3 * BYTES * K + FP32 * (Q + 3 * K)).isEqualTo(10_485_760);
  }

  @Test
  void inferenceHoldsOnlyTheForwardBuffers() throws Exception {
    Layer l = merge(cp("all_gather").andThen(e -> e.put("context_par_impl", "pytorch").put("training", false)
        .put("data_par_overlap", false).put("zero_stage", 0).put("optimizer_sharding", false)));
    // the gathered K/V and the merger's fp32 output and logsumexp
    assertThat(l.activation()).isEqualTo(2 * BYTES * K + FP32 * (E + R));
  }

  @Test
  void theWorkingBuffersAddToTheBlocksWorkingSpaceOnly() throws Exception {
    Consumer<ObjectNode> te = cp("all_gather").andThen(e -> e.put("batch_size", 2));
    Consumer<ObjectNode> pt = te.andThen(e -> e.put("context_par_impl", "pytorch"));
    Stats t = ModernBlocksTest.run(m -> { }, te), p = ModernBlocksTest.run(m -> { }, pt);
    double working = 2 * BYTES * K + FP32 * (Q + 3 * K);
    assertThat(p.get(StatField.BLOCK_ACT_WORKING_SPACE) - t.get(StatField.BLOCK_ACT_WORKING_SPACE))
        .isCloseTo(working, within(1e-6));
    assertThat(p.get(StatField.BLOCK_ACT_STORAGE_SPACE)).isEqualTo(t.get(StatField.BLOCK_ACT_STORAGE_SPACE));
    // Transformer Engine's buffers, the ring's or Ulysses', are not counted
    assertThat(merge(cp("all_gather")).activation()).isZero();
    assertThat(merge(cp("a2a")).activation()).isZero();
  }

  @Test
  void theMergeIsRedoneWithTheRecomputedAttention() throws Exception {
    assertThat(merge(cp("p2p")).needsRecompute()).isFalse();
    assertThat(merge(cp("p2p").andThen(e -> e.put("activation_recompute", "full"))).needsRecompute()).isTrue();
    assertThat(merge(cp("p2p").andThen(e -> e.put("activation_recompute", "attn_only"))).needsRecompute()).isTrue();
  }

  @Test
  void noContextParallelismNoMerge() throws Exception {
    assertThat(block(m -> { }, e -> e.put("context_par_impl", "pytorch")).layers())
        .extracting(Layer::name).doesNotContain(MERGE);
  }

  @Test
  void theRunSaysWhichImplementationItUsed() throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> { }, cp("p2p").andThen(e -> e.put("context_par_impl", "pytorch")));
    assertThat(ExecutionDict.asRun((Execution) in[1], (Application) in[0], (SystemSpec) in[2], ModelVersion.CORRECTED))
        .containsEntry("context_par_impl", "pytorch");
    assertThat(ExecutionDict.optionalKeys((Execution) in[1])).containsEntry("context_par_impl", "pytorch");
    Object[] plain = ModernBlocksTest.inputs(m -> { }, cp("p2p"));
    assertThat(ExecutionDict.asRun((Execution) plain[1], (Application) plain[0], (SystemSpec) plain[2],
        ModelVersion.CORRECTED)).containsEntry("context_par_impl", "transformer_engine");
    assertThat(ExecutionDict.optionalKeys((Execution) plain[1])).doesNotContainKey("context_par_impl");
  }

  @Test
  void badValueIsAOneLineError() {
    assertThatThrownBy(() -> merge(cp("p2p").andThen(e -> e.put("context_par_impl", "megatron"))))
        .isInstanceOf(ConfigError.class).hasMessageContaining("context_par_impl")
        .hasMessageContaining("must be one of \"transformer_engine\", \"pytorch\", got \"megatron\"")
        .hasMessageNotContaining("\n");
  }
}
