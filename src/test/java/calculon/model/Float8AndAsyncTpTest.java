package calculon.model;

import static calculon.model.ModernBlocksTest.A;
import static calculon.model.ModernBlocksTest.D;
import static calculon.model.ModernBlocksTest.F;
import static calculon.model.ModernBlocksTest.H;
import static calculon.model.ModernBlocksTest.T;
import static calculon.model.ModernBlocksTest.TP;
import static calculon.model.ModernBlocksTest.layer;
import static calculon.model.ModernBlocksTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ConfigError;
import calculon.hardware.Hardware;
import calculon.stats.LayerField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * torchao's dynamic tensorwise float8 ({@code fp8_recipe: tensorwise}) and PyTorch's async TP
 * ({@code tensor_par_overlap: async_tp}) against hand derivations on ModernBlocksTest's small model
 * (H 1024, F 4096, 16 heads of 64, T = 1,024 tokens, TP 2). A float8 run keeps 2-byte activations
 * and weights; each cast reads the 16-bit copy twice (amax, then scale and cast) and writes one
 * byte: 5 bytes per element.
 */
class Float8AndAsyncTpTest {
  static final double CAST = 2 * 2 + 1;
  /**
   * Transformer Engine's quantize kernel of a 16-bit operand (delayed, block and MXFP8 scaling, and
   * current scaling after a fused amax): one read of 2 bytes, row- and column-wise float8 copies.
   */
  static final double TE_CAST = 2 + 2 * 1;
  /** Current scaling's unfused cast: an amax read, then the quantize kernel's read and two copies. */
  static final double TE_CURRENT_CAST = 2 * 2 + 2 * 1;

  /**
   * One symmetric-memory copy of a 1 MiB shard (T/TP x H = 512 x 1024 elements of 2 bytes): 1 MiB
   * read and 1 MiB written, 2 MiB at the H100 file's 3,072 GB/s and its 0.6 efficiency for
   * transfers of 1 to 10 MB.
   */
  static final double SHARD_PASS = 2.0 * (1 << 20) / (3072e9 * 0.6);
  /** One barrier of the symmetric-memory ops: the TP tier's latency in the H100 file, 10 us. */
  static final double LATENCY = 1e-5;

  static Consumer<ObjectNode> float8(String recipe) {
    return e -> {
      e.put("datatype", "float8");
      if (recipe != null) {
        e.put("fp8_recipe", recipe);
      }
    };
  }

  static double delta(Stats with, Stats without, String layer, LayerField f) {
    return layer(with, layer).get(f) - layer(without, layer).get(f);
  }

  @Test
  void tensorwiseCastsBothOperandsOfEveryPass() throws Exception {
    Stats delayed = run(m -> { }, float8(null));
    Stats tensorwise = run(m -> { }, float8("tensorwise"));
    // the MLP's second matmul: input T x F/TP, weight F/TP x H, output T x H
    double in = (double) T * F / TP, w = (double) F / TP * H, out = (double) T * H;
    // delayed scaling (one microbatch a step): the GeLU kernel writes Mlp2's input in float8 itself;
    // TE quantizes the weight and the output gradient in kernels of their own
    assertThat(delta(tensorwise, delayed, "MlpBlock_Mlp2", LayerField.FW_MEM_ACCESSED)).isEqualTo(CAST * (in + w) - TE_CAST * w);
    assertThat(delta(tensorwise, delayed, "MlpBlock_Mlp2", LayerField.AGRAD_MEM_ACCESSED)).isEqualTo(CAST * (out + w) - TE_CAST * out);
    assertThat(delta(tensorwise, delayed, "MlpBlock_Mlp2", LayerField.WGRAD_MEM_ACCESSED)).isEqualTo(CAST * (out + in));
    // the casts are kernels of their own: the pass takes their memory time on top, whatever overlaps
    assertThat(delta(tensorwise, delayed, "MlpBlock_Mlp2", LayerField.FW_PROCESSING_TIME)).isPositive();
    // no cast around an element-wise layer
    assertThat(delta(tensorwise, delayed, "MlpBlock_GeLU", LayerField.FW_MEM_ACCESSED)).isZero();
  }

  @Test
  void keysAndValuesReuseTheQueriesCastOfTheirInput() throws Exception {
    Stats delayed = run(m -> { }, float8(null));
    Stats tensorwise = run(m -> { }, float8("tensorwise"));
    double in = (double) T * H, w = (double) H * A * D / TP;
    // delayed scaling: the norm writes wq's input in float8; TE quantizes each weight
    assertThat(delta(tensorwise, delayed, "AttnBlock_Query", LayerField.FW_MEM_ACCESSED)).isEqualTo(CAST * (in + w) - TE_CAST * w);
    // wk casts its weight only; its weight-gradient pass its output gradient only
    assertThat(delta(tensorwise, delayed, "AttnBlock_Key", LayerField.FW_MEM_ACCESSED)).isEqualTo(CAST * w - TE_CAST * w);
    assertThat(delta(tensorwise, delayed, "AttnBlock_Key", LayerField.WGRAD_MEM_ACCESSED))
        .isEqualTo(CAST * T * A * D / TP);
  }

  /**
   * Transformer Engine's LayerNormLinear normalises into float8 and all-gathers that under
   * sequence parallelism (delayed scaling, the default recipe, too): the QKV and MLP-up gathers
   * move one byte per element, the backward reduce-scatter two.
   */
  @Test
  void delayedScalingGathersTheNormalisedInputInFloat8() throws Exception {
    Consumer<ObjectNode> sp = e -> e.put("tensor_par_comm_type", "rs_ag");
    Stats delayed = run(m -> { }, sp.andThen(float8(null)));
    for (String gather : new String[] {"AttnBlock_F", "MlpBlock_F"}) {
      assertThat(layer(delayed, gather).get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE)).as(gather).isEqualTo(1.0 * T * H);
      assertThat(layer(delayed, gather).get(LayerField.BASEBLOCK_BW_TP_COMM_SIZE)).as(gather).isEqualTo(2.0 * T * H);
    }
    // a 16-bit run gathers two bytes per element
    Stats bf16 = run(m -> { }, sp);
    assertThat(layer(bf16, "MlpBlock_F").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE)).isEqualTo(2.0 * T * H);
  }

  @Test
  void sequenceParallelInputIsGatheredInFloat8() throws Exception {
    Consumer<ObjectNode> sp = e -> e.put("tensor_par_comm_type", "rs_ag");
    Stats bf16 = run(m -> { }, sp);  // float16 on this system, 2 bytes
    Stats tensorwise = run(m -> { }, sp.andThen(float8("tensorwise")));
    // the all-gather before QKV moves T x H elements at 1 byte instead of 2; the backward
    // reduce-scatter stays 16-bit
    assertThat(layer(bf16, "AttnBlock_F").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE)).isEqualTo(2.0 * T * H);
    assertThat(layer(tensorwise, "AttnBlock_F").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE)).isEqualTo(1.0 * T * H);
    assertThat(layer(tensorwise, "AttnBlock_F").get(LayerField.BASEBLOCK_BW_TP_COMM_SIZE)).isEqualTo(2.0 * T * H);
    // and wq casts the shard it gathers: T/TP x H
    Stats delayed = run(m -> { }, sp.andThen(float8(null)));
    double w = (double) H * A * D / TP;
    assertThat(delta(tensorwise, delayed, "AttnBlock_Query", LayerField.FW_MEM_ACCESSED))
        .isCloseTo(CAST * ((double) T / TP * H + w) - TE_CAST * w, within(1e-6));
  }

  /**
   * Transformer Engine quantizes an operand in its producing kernel, with a fused amax, or in a
   * kernel of its own, by recipe and producer (normalization.cpp, activation.cpp, bias.cpp:
   * their Impl choice): delayed scaling fuses into the norm, the activation and its gradient;
   * MXFP8 into the activation and its gradient only; current scaling fuses the amax there (4
   * bytes per element left, 6 elsewhere); block scaling fuses nothing. Everything else (the
   * attention output, the output gradients of the projections, the weights once per step) has a
   * quantize kernel of its own under every recipe. Under sequence parallelism the norm's shard
   * is quantized and all-gathered in float8.
   */
  @Test
  void transformerEngineQuantizesWhereItsProducersCannot() throws Exception {
    // batch 8 over DP 2, microbatch 1: 4 microbatches a step
    double microbatches = 4;
    Consumer<ObjectNode> batch8 = e -> e.put("batch_size", 8);
    Stats delayed = run(m -> { }, batch8.andThen(float8(null)));
    Stats current = run(m -> { }, batch8.andThen(float8("current")));
    Stats blockwise = run(m -> { }, batch8.andThen(float8("blockwise")));
    // MXFP8 needs Blackwell's tensor cores: the same rates, declared compute capability 10.0
    Consumer<ObjectNode> blackwell = s -> s.put("compute_capability", "10.0");
    Stats mxfp8 = ModernBlocksTest.run(m -> { }, batch8.andThen(float8("mxfp8")), blackwell);
    Stats delayedBlackwell = ModernBlocksTest.run(m -> { }, batch8.andThen(float8(null)), blackwell);
    double in = (double) T * F / TP, w = (double) F / TP * H, out = (double) T * H;
    Stats bf16 = run(m -> { }, batch8);
    // Mlp2: GeLU input (current: fused amax, 4 bytes), output gradient plain (6), weight plain (6 per step)
    assertThat(delta(current, delayed, "MlpBlock_Mlp2", LayerField.FW_MEM_ACCESSED))
        .isCloseTo(TE_CAST * in + (TE_CURRENT_CAST - TE_CAST) * w / microbatches, within(1e-6));
    assertThat(delta(current, delayed, "MlpBlock_Mlp2", LayerField.AGRAD_MEM_ACCESSED))
        .isEqualTo((TE_CURRENT_CAST - TE_CAST) * out);
    assertThat(delta(current, delayed, "MlpBlock_Mlp2", LayerField.WGRAD_MEM_ACCESSED)).isZero();
    // block scaling fuses nothing: Mlp2's input costs a quantize kernel; weight and gradient as delayed
    assertThat(delta(blockwise, delayed, "MlpBlock_Mlp2", LayerField.FW_MEM_ACCESSED)).isCloseTo(TE_CAST * in, within(1e-6));
    assertThat(delta(blockwise, delayed, "MlpBlock_Mlp2", LayerField.AGRAD_MEM_ACCESSED)).isZero();
    // MXFP8 fuses into the activation: Mlp2 as delayed; but not into the norm: wq's input T x H
    for (LayerField f : new LayerField[] {LayerField.FW_MEM_ACCESSED, LayerField.AGRAD_MEM_ACCESSED,
        LayerField.WGRAD_MEM_ACCESSED}) {
      assertThat(layer(mxfp8, "MlpBlock_Mlp2").get(f)).as(f.toString()).isEqualTo(layer(delayedBlackwell, "MlpBlock_Mlp2").get(f));
    }
    assertThat(delta(mxfp8, delayedBlackwell, "AttnBlock_Query", LayerField.FW_MEM_ACCESSED)).isCloseTo(TE_CAST * T * H, within(1e-6));
    // Mlp1's output gradient comes from the GeLU's backward kernel: fused for delayed and MXFP8,
    // a quantize kernel for block scaling (T x F/TP)
    assertThat(delta(mxfp8, delayedBlackwell, "MlpBlock_Mlp1", LayerField.AGRAD_MEM_ACCESSED)).isZero();
    assertThat(delta(blockwise, delayed, "MlpBlock_Mlp1", LayerField.AGRAD_MEM_ACCESSED)).isCloseTo(TE_CAST * in, within(1e-6));
    // delayed itself against a 16-bit run: Mlp2's weight once per step and its output gradient
    assertThat(delta(delayed, bf16, "MlpBlock_Mlp2", LayerField.AGRAD_MEM_ACCESSED)).isEqualTo(TE_CAST * out);
    assertThat(delta(delayed, bf16, "MlpBlock_Mlp2", LayerField.WGRAD_MEM_ACCESSED)).isZero();
    // the output projection's input, the attention output (T x A D / TP), has no producer that
    // quantizes: a kernel of its own under delayed scaling too, beside the weight's per-step cast
    double attnOut = (double) T * A * D / TP, wo = (double) A * D / TP * H;
    assertThat(delta(delayed, bf16, "AttnBlock_MLP", LayerField.FW_MEM_ACCESSED))
        .isCloseTo(TE_CAST * (attnOut + wo / microbatches), within(1e-6));
    assertThat(delta(blockwise, delayed, "AttnBlock_MLP", LayerField.FW_MEM_ACCESSED)).isZero();
    // with sequence parallelism TE quantizes the shard (amax reduced over TP) and gathers float8:
    // wq's input is T/TP x H, after the norm (current: fused amax)
    Consumer<ObjectNode> sp = batch8.andThen(e -> e.put("tensor_par_comm_type", "rs_ag"));
    Stats currentSp = run(m -> { }, sp.andThen(float8("current")));
    assertThat(layer(currentSp, "AttnBlock_F").get(LayerField.BASEBLOCK_FW_TP_COMM_SIZE)).isEqualTo(1.0 * T * H);
    Stats delayedSp = run(m -> { }, sp.andThen(float8(null)));
    double wq = (double) H * A * D / TP;
    assertThat(delta(currentSp, delayedSp, "AttnBlock_Query", LayerField.FW_MEM_ACCESSED))
        .isCloseTo(TE_CAST * ((double) T / TP * H) + (TE_CURRENT_CAST - TE_CAST) * wq / microbatches, within(1e-6));
  }

  /**
   * A recipe name is checked on every run, float8 or not (a run that is not float8 ignores a
   * well-formed one: IgnoredExecutionKeysTest).
   */
  @Test
  void fp8RecipeNamesAreCheckedOnEveryRun() {
    assertThatThrownBy(() -> run(m -> { }, e -> e.put("fp8_recipe", "rowwise")))
        .isInstanceOf(ConfigError.class).hasMessage("execution.json: fp8_recipe: must be one of \"delayed\", "
            + "\"tensorwise\", \"current\", \"blockwise\", \"mxfp8\", got \"rowwise\"");
    assertThatThrownBy(() -> run(m -> { }, float8("rowwise")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("must be one of \"delayed\", \"tensorwise\", \"current\", \"blockwise\", \"mxfp8\", got \"rowwise\"");
  }

  /**
   * MXFP8 runs where Transformer Engine runs it (quantization.py, {@code _compute_mxfp8_support}):
   * compute capability 10.0 up to, not including, 12.0; the system file says its GPU's capability
   * ({@code compute_capability}), and without it declares no microscaling tensor cores.
   */
  @Test
  void mxfp8NeedsComputeCapabilityTenOrEleven() throws Exception {
    String rule = "fp8_recipe: \"mxfp8\" needs a GPU of compute capability 10.x to 11.x";
    assertThatThrownBy(() -> run(m -> { }, float8("mxfp8")))
        .isInstanceOf(ConfigError.class).hasMessageStartingWith("execution.json: " + rule)
        .hasMessageEndingWith("but system.json gives no compute_capability (e.g. \"10.0\" for a B200)");
    for (String hopperOrRtx : new String[] {"9.0", "8.9", "12.0", "12.1"}) {
      assertThatThrownBy(() -> ModernBlocksTest.run(m -> { }, float8("mxfp8"), s -> s.put("compute_capability", hopperOrRtx)))
          .as(hopperOrRtx).isInstanceOf(ConfigError.class).hasMessageStartingWith("execution.json: " + rule)
          .hasMessageEndingWith("but system.json has compute_capability " + hopperOrRtx);
    }
    for (String blackwell : new String[] {"10.0", "10.3", "11.0"}) {
      assertThat(ModernBlocksTest.run(m -> { }, float8("mxfp8"), s -> s.put("compute_capability", blackwell))
          .get(calculon.stats.StatField.TOTAL_TIME)).as(blackwell).isPositive();
    }
    // the other recipes need no capability (TE runs them from 8.9 or 9.0, as the float8 rate does)
    assertThat(run(m -> { }, float8("blockwise")).get(calculon.stats.StatField.TOTAL_TIME)).isPositive();
  }

  @Test
  void computeCapabilityIsAMajorMinorString() {
    for (Object bad : new Object[] {"10", "ten", "10.0.1", "0.9", " 9.0"}) {
      assertThatThrownBy(() -> ModernBlocksTest.run(m -> { }, e -> { }, s -> s.put("compute_capability", (String) bad)))
          .as(bad.toString()).isInstanceOf(ConfigError.class)
          .hasMessageStartingWith("systems/H100_80g_sxm.json: compute_capability: must be a string \"MAJOR.MINOR\" as "
              + "nvidia-smi --query-gpu=compute_cap prints it");
    }
    assertThatThrownBy(() -> ModernBlocksTest.run(m -> { }, e -> { }, s -> s.put("compute_capability", 10.0)))
        .isInstanceOf(ConfigError.class).hasMessageEndingWith("got 10.0");
  }

  @Test
  void asyncTpRunsTheDecomposedPassesAsOneMatmulPerShard() throws Exception {
    // microbatch 8: QKV is 2 x 8192 x 1024 x 1536 = 25.8 GFLOP (the system's 0.9 bin), a shard's
    // half of it falls in the 0.6 bin
    ModernBlocksTest.Block b = ModernBlocksTest.block(m -> { }, e -> e.put("tensor_par_comm_type", "rs_ag")
        .put("tensor_par_overlap", "async_tp").put("microbatch_size", 8).put("batch_size", 16));
    Layer qkv = b.layer("AttnBlock_QKV_AG"), down = b.layer("MlpBlock_Mlp2_RS");
    // forward: on each of the TP shards one matmul per weight (wq, wk, wv: a third of the width
    // each with 16 query and 16 key/value heads), each at its own size's efficiency
    assertThat(qkv.flopsTime(Stage.FW)).isEqualTo(3 * TP * b.hw().matrix().time(qkv.flops(Stage.FW) / 3 / TP))
        .isGreaterThan(b.hw().matrix().time(qkv.flops(Stage.FW)));
    // the down projection has one weight: TP matmuls of 1/TP of the rows
    assertThat(down.flopsTime(Stage.FW)).isEqualTo(TP * b.hw().matrix().time(down.flops(Stage.FW) / TP));
    // a row-parallel layer's input gradient is fed by the gradient's all-gather: decomposed too
    assertThat(down.flopsTime(Stage.AGRAD)).isEqualTo(TP * b.hw().matrix().time(down.flops(Stage.AGRAD) / TP));
    // not a column-parallel input gradient (its reduce-scatter is not fused), nor a weight gradient
    assertThat(qkv.flopsTime(Stage.AGRAD)).isEqualTo(b.hw().matrix().time(qkv.flops(Stage.AGRAD)));
    assertThat(qkv.flopsTime(Stage.WGRAD)).isEqualTo(b.hw().matrix().time(qkv.flops(Stage.WGRAD)));
  }

  @Test
  void asyncTpLeavesTheColumnParallelInputGradientReduceScatterExposed() throws Exception {
    Consumer<ObjectNode> sp = e -> e.put("tensor_par_comm_type", "rs_ag");
    Stats ring = run(m -> { }, sp.andThen(e -> e.put("tensor_par_overlap", "ring")));
    Stats async = run(m -> { }, sp.andThen(e -> e.put("tensor_par_overlap", "async_tp")));
    Stats.LayerStats qkvRing = layer(ring, "AttnBlock_QKV_AG"), qkvAsync = layer(async, "AttnBlock_QKV_AG");
    // forward: the same all-gather as ring's plus the symmetric-memory copies and barriers
    // (three passes of a 1 MiB shard read and written, three barriers; see
    // asyncTpChargesTheSymmetricMemoryCopiesAndBarriers), the transfers hidden behind three mms
    // per shard (slower than ring's one): exposed, only the copies
    assertThat(qkvAsync.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME))
        .isCloseTo(qkvRing.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME) + 3 * SHARD_PASS + 3 * LATENCY, within(1e-15));
    assertThat(qkvAsync.get(LayerField.BASEBLOCK_FW_TP_COMM_TIME_EXPOSED))
        .isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-15));
    // backward: the input gradient (a sum of three matmuls) is reduce-scattered whole, after them,
    // by NCCL, charged as the unfused path's TpComm charges it: with the HBM pass of its 2 MiB
    // input and output (no_overlap: added to the reduction)
    assertThat(qkvAsync.get(LayerField.BASEBLOCK_BW_TP_COMM_TIME_EXPOSED))
        .isEqualTo(qkvAsync.get(LayerField.BASEBLOCK_BW_TP_COMM_TIME)).isPositive()
        .isGreaterThan(qkvRing.get(LayerField.BASEBLOCK_BW_TP_COMM_TIME_EXPOSED));
    assertThat(qkvAsync.get(LayerField.BASEBLOCK_BW_TP_COMM_TIME))
        .isCloseTo(qkvRing.get(LayerField.BASEBLOCK_BW_TP_COMM_TIME) + 2 * SHARD_PASS, within(1e-15));
    // a row-parallel layer's backward all-gather stays overlapped: exposed, only its copies
    // (the local copy, one pull, the own shard into the gathered gradient) and three barriers
    assertThat(layer(async, "MlpBlock_Mlp2_RS").get(LayerField.BASEBLOCK_BW_TP_COMM_TIME_EXPOSED))
        .isCloseTo(layer(ring, "MlpBlock_Mlp2_RS").get(LayerField.BASEBLOCK_BW_TP_COMM_TIME_EXPOSED)
            + 3 * SHARD_PASS + 3 * LATENCY, within(1e-15));
  }

  @Test
  void asyncTpReadsTheGatheredInputOncePerWeightAndReducesTheStackedPartials() throws Exception {
    Consumer<ObjectNode> sp = e -> e.put("tensor_par_comm_type", "rs_ag");
    Stats ring = run(m -> { }, sp.andThen(e -> e.put("tensor_par_overlap", "ring")));
    Stats async = run(m -> { }, sp.andThen(e -> e.put("tensor_par_overlap", "async_tp")));
    // the gathered QKV input is T x H elements of 2 bytes; wk's and wv's mms read it again in
    // the forward and the weight-gradient passes
    double gathered = (double) T * H * ModernBlocksTest.BYTES;
    assertThat(delta(async, ring, "AttnBlock_QKV_AG", LayerField.FW_MEM_ACCESSED)).isEqualTo(2 * gathered);
    assertThat(delta(async, ring, "AttnBlock_QKV_AG", LayerField.WGRAD_MEM_ACCESSED)).isEqualTo(2 * gathered);
    // the three partial input gradients are summed as the unfused path's Fork of three users
    // prices it: three read, one written
    assertThat(delta(async, ring, "AttnBlock_QKV_AG", LayerField.AGRAD_MEM_ACCESSED)).isEqualTo(4 * gathered);
    // the row-parallel forward reduces the stacked partial outputs (T x H, every rank's chunk)
    // into its T/TP x H shard in one kernel after the last chunk
    double partials = (double) T * H * ModernBlocksTest.BYTES;
    assertThat(delta(async, ring, "MlpBlock_Mlp2_RS", LayerField.FW_MEM_ACCESSED))
        .isEqualTo(partials + partials / TP);
    assertThat(delta(async, ring, "MlpBlock_Mlp2_RS", LayerField.AGRAD_MEM_ACCESSED)).isZero();
    // a single-weight all-gather matmul reads its input once, as ring does
    assertThat(delta(async, ring, "MlpBlock_Mlp1_AG", LayerField.FW_MEM_ACCESSED)).isZero();
    // the traffic costs time
    assertThat(delta(async, ring, "MlpBlock_Mlp2_RS", LayerField.FW_PROCESSING_TIME)).isPositive();
  }

  @Test
  void asyncTpFusesTheBackwardRegatherOnlyWithTheMatmulsRecomputeRedoes() throws Exception {
    Consumer<ObjectNode> async = e -> e.put("tensor_par_comm_type", "rs_ag").put("tensor_par_overlap", "async_tp")
        .put("microbatch_size", 8).put("batch_size", 16);
    // nothing recomputed: the re-gathered input feeds only the weight gradient (X^T dY, where X is
    // not the left operand micro_pipeline_tp fuses): a plain all-gather, exposed whole
    ModernBlocksTest.Block none = ModernBlocksTest.block(m -> { }, async.andThen(e -> e.put("seq_par_ag_redo", true)));
    Layer qkv = none.layer("AttnBlock_QKV_AG");
    assertThat(qkv.netTime(Stage.WGRAD, true)).isPositive();
    assertThat(qkv.exposedNetTime(Stage.WGRAD, true)).isEqualTo(qkv.netTime(Stage.WGRAD, true));
    // full recompute: the three forward mms run again on the gathered shards and hide the
    // transfers as in the forward pass: with TP 2, (TP - 1) x (net / TP - forward flops time / TP)
    ModernBlocksTest.Block full = ModernBlocksTest.block(m -> { }, async.andThen(e -> e.put("activation_recompute", "full")));
    Layer qkvFull = full.layer("AttnBlock_QKV_AG");
    // (the fused re-gather's copies, in its link time and exposed whole, apart)
    double copies = ((Layers.LinearOverlapped) qkvFull).symmetricMemorySeconds(Stage.WGRAD, full.hw());
    double net = qkvFull.netTime(Stage.WGRAD, true) - copies, fw = qkvFull.flopsTime(Stage.FW);
    assertThat(qkvFull.exposedNetTime(Stage.WGRAD, true))
        .isCloseTo((TP - 1) * Math.max(0, net / TP - fw / TP) + copies, within(1e-15))
        .isLessThan(net + copies);
    // each pass reports its own exposure (the reference reports the last processed pass's)
    assertThat(qkv.exposedNetTime(Stage.AGRAD, true)).isEqualTo(qkv.netTime(Stage.AGRAD, true));
  }

  @Test
  void asyncTpChargesTheSymmetricMemoryCopiesAndBarriers() throws Exception {
    // torch/distributed/_symmetric_memory/__init__.py: a fused all-gather copies the own shard
    // into the symmetric buffer (exposed), pulls TP - 1 peer shards (each a shard written here
    // while a peer reads one here) and, when the gathered tensor is returned, copies the own
    // shard into it; three barriers. A fused reduce-scatter pulls TP - 1 partial chunks; two
    // exposed barriers. TP 2, T = 1,024 tokens, H = 1,024, 2 bytes: every shard and chunk 1 MiB.
    Consumer<ObjectNode> async = e -> e.put("tensor_par_comm_type", "rs_ag").put("tensor_par_overlap", "async_tp");
    ModernBlocksTest.Block kept = ModernBlocksTest.block(m -> { }, async);
    Layers.LinearOverlapped qkv = (Layers.LinearOverlapped) kept.layer("AttnBlock_QKV_AG");
    Layers.LinearOverlapped up = (Layers.LinearOverlapped) kept.layer("MlpBlock_Mlp1_AG");
    Layers.LinearOverlapped down = (Layers.LinearOverlapped) kept.layer("MlpBlock_Mlp2_RS");
    Hardware hw = kept.hw();
    // forward all-gather, the gathered input kept for the weight gradient (seq_par_ag_redo false,
    // return_A): the local copy, one pull, the own shard into the output
    assertThat(qkv.symmetricMemorySeconds(Stage.FW, hw)).isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-18));
    assertThat(up.symmetricMemorySeconds(Stage.FW, hw)).isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-18));
    // forward reduce-scatter: one pull of the peer's partial chunk (its reduction is asyncExtraBytes')
    assertThat(down.symmetricMemorySeconds(Stage.FW, hw)).isCloseTo(SHARD_PASS + 2 * LATENCY, within(1e-18));
    // backward gather of the output gradient, kept for the weight gradient
    assertThat(down.symmetricMemorySeconds(Stage.AGRAD, hw)).isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-18));
    // the column-parallel input gradient's reduce-scatter is NCCL's (no copies here) and nothing
    // is gathered again
    assertThat(qkv.symmetricMemorySeconds(Stage.AGRAD, hw)).isZero();
    assertThat(qkv.symmetricMemorySeconds(Stage.WGRAD, hw)).isZero();
    // each is exposed whole on top of the overlapped transfers (here all hidden)
    assertThat(qkv.exposedNetTime(Stage.FW, true)).isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-15));

    // gathered again in the backward: the forward does not return the gathered input (no own-shard
    // copy); with nothing recomputed the re-gather is NCCL's, charged as TpComm charges one (no pass)
    ModernBlocksTest.Block redo = ModernBlocksTest.block(m -> { }, async.andThen(e -> e.put("seq_par_ag_redo", true)));
    Layers.LinearOverlapped qkvRedo = (Layers.LinearOverlapped) redo.layer("AttnBlock_QKV_AG");
    assertThat(qkvRedo.symmetricMemorySeconds(Stage.FW, hw)).isCloseTo(2 * SHARD_PASS + 3 * LATENCY, within(1e-18));
    assertThat(qkvRedo.symmetricMemorySeconds(Stage.WGRAD, hw)).isZero();
    // fused with the recomputed forward matmuls (full recompute), it returns the gathered input
    // for the weight gradient: three copies again
    ModernBlocksTest.Block full = ModernBlocksTest.block(m -> { }, async.andThen(e -> e.put("activation_recompute", "full")));
    assertThat(((Layers.LinearOverlapped) full.layer("AttnBlock_QKV_AG")).symmetricMemorySeconds(Stage.WGRAD, hw))
        .isCloseTo(3 * SHARD_PASS + 3 * LATENCY, within(1e-18));

    // float8 tensorwise: the input is gathered in float8 (a 512 KiB shard, 1 MiB a copy, still
    // the 0.6 bin) and fused_all_gather_scaled_matmul always returns it, even when the backward
    // gathers again; the reduce-scatter's partials stay 16-bit
    ModernBlocksTest.Block f8 = ModernBlocksTest.block(m -> { }, async.andThen(float8("tensorwise"))
        .andThen(e -> e.put("seq_par_ag_redo", true)));
    Hardware hw8 = f8.hw();
    assertThat(((Layers.LinearOverlapped) f8.layer("AttnBlock_QKV_AG")).symmetricMemorySeconds(Stage.FW, hw8))
        .isCloseTo(3 * SHARD_PASS / 2 + 3 * LATENCY, within(1e-18));
    assertThat(((Layers.LinearOverlapped) f8.layer("MlpBlock_Mlp2_RS")).symmetricMemorySeconds(Stage.FW, hw8))
        .isCloseTo(SHARD_PASS + 2 * LATENCY, within(1e-18));

    // the other overlap modes have none of it
    ModernBlocksTest.Block ring = ModernBlocksTest.block(m -> { }, e -> e.put("tensor_par_comm_type", "rs_ag")
        .put("tensor_par_overlap", "ring"));
    assertThat(((Layers.LinearOverlapped) ring.layer("AttnBlock_QKV_AG")).symmetricMemorySeconds(Stage.FW, ring.hw())).isZero();
  }

  @Test
  void calculonMoeHasNoAsyncTp() throws Exception {
    Object[] in = ModernBlocksTest.inputs(m -> { }, e -> e.put("tensor_par_comm_type", "rs_ag")
        .put("tensor_par_overlap", "async_tp"));
    calculon.config.Execution exe = (calculon.config.Execution) in[1];
    assertThatThrownBy(() -> calculon.schedule.Evaluator.evaluate((calculon.config.Application) in[0], exe,
        new calculon.hardware.Hardware((calculon.config.SystemSpec) in[2], exe.datatype()), ModelVersion.CALCULON_MOE, false))
        .isInstanceOf(Infeasible.class).hasMessageContaining("\"async_tp\" needs the corrected model");
  }

  @Test
  void aRunShowsTheRecipeItUsed() throws Exception {
    calculon.config.Execution delayed = (calculon.config.Execution) ModernBlocksTest.inputs(m -> { }, float8(null))[1];
    calculon.config.Execution tensorwise =
        (calculon.config.Execution) ModernBlocksTest.inputs(m -> { }, float8("tensorwise"))[1];
    calculon.config.Execution half = (calculon.config.Execution) ModernBlocksTest.inputs(m -> { }, e -> { })[1];
    assertThat(calculon.stats.ExecutionDict.asRun(delayed, null, null, ModelVersion.CORRECTED)).containsEntry("fp8_recipe", "delayed");
    assertThat(calculon.stats.ExecutionDict.asRun(tensorwise, null, null, ModelVersion.CORRECTED))
        .containsEntry("fp8_recipe", "tensorwise");
    assertThat(calculon.stats.ExecutionDict.asRun(half, null, null, ModelVersion.CORRECTED)).doesNotContainKey("fp8_recipe");
  }
}
