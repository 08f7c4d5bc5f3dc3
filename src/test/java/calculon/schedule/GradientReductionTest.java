package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel gradient reduction in the corrected model: the gradients are reduced in their own
 * datatype (Megatron-Core {@code grad_reduce_in_fp32}) and the updated weights gathered in theirs;
 * a sharded optimizer's weight all-gather runs beside the next step's first forward pass
 * ({@code overlap_param_gather}); a group with k members in one node spreads its ring over their k
 * network links (NCCL's channels). Hand-derived on the Megatron-LM README's GPT rows on DGX H100
 * (DP 48 over 50 GB/s scale-out links at 0.96 efficiency and 20 us latency; NVLink 450 GB/s at
 * 0.805 and 10 us; NCCL's ring on both tiers: reduce-scatter and all-gather put (n-1)/n of the
 * buffer on a link, all-reduce twice that, n the DP degree; systems/SOURCES.md).
 */
class GradientReductionTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");
  static final double SCALE_OUT_BYTES_PER_SECOND = 50e9 * 0.96, SCALE_OUT_LATENCY_SECONDS = 20e-6,
      NVLINK_BYTES_PER_SECOND = 450e9 * 0.805, NVLINK_LATENCY_SECONDS = 10e-6;
  /** The README rows' DP degree. */
  static final int DP = 48;
  /** GPT 16B: TP 4, so 2 of each DP group's members per 8-GPU node; 32 blocks. */
  static final String GPT_16B = "16B_192gpu";
  /** GPT 32B: TP 8, one member per node; 48 blocks. */
  static final String GPT_32B = "32B_384gpu";
  /** GPT 1.7B: TP 1, 8 members per node; 24 blocks. */
  static final String GPT_1_7B = "1.7B_48gpu";

  static Stats run(String row, Consumer<ObjectNode> edit) throws Exception {
    Path model = Path.of("models/megatron-gpt-" + row.substring(0, row.indexOf('_')) + ".json");
    Path execution = Path.of("validation/modern/megatron_gpt_" + row + ".json");
    Application app = ApplicationReader.read((ObjectNode) JSON.readTree(model.toFile()), model.toString());
    ObjectNode node = (ObjectNode) JSON.readTree(execution.toFile());
    edit.accept(node);
    Execution exe = ExecutionReader.read(node, execution.toString());
    SystemSpec sys = SystemReader.read(SYSTEM);
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CORRECTED, false);
  }

  static Stats run(Consumer<ObjectNode> edit) throws Exception {
    return run(GPT_32B, edit);
  }

  /**
   * One ring reduce-scatter or all-gather of {@code bytes} among {@code dp} ranks on the scale-out
   * tier: (dp-1)/dp of the bytes on the link (an all-reduce is two: pass twice the bytes).
   */
  static double scaleOut(double bytes, int dp) {
    return SCALE_OUT_LATENCY_SECONDS + bytes * (dp - 1) / dp / SCALE_OUT_BYTES_PER_SECOND;
  }

  static double scaleOut(double bytes) {
    return scaleOut(bytes, DP);
  }

  /**
   * A ring over {@code rails} members per node: the slower of the scale-out and NVLink shares,
   * each with the ring's (dp-1)/dp.
   */
  static double rails(double bytes, int rails, int dp) {
    return Math.max(scaleOut(bytes / rails, dp),
        NVLINK_LATENCY_SECONDS + bytes * (rails - 1) / rails * (dp - 1) / dp / NVLINK_BYTES_PER_SECOND);
  }

  static double rails(double bytes, int rails) {
    return rails(bytes, rails, DP);
  }

  static final int BLOCKS = 48;

  @Test
  void gradientsAreReducedInTheirDatatypeAndWeightsGatheredInTheirs() throws Exception {
    Stats fp32 = run(e -> e.put("gradient_datatype", "float32"));
    Stats bf16 = run(e -> e.put("gradient_datatype", "bfloat16"));
    double weightBytes = fp32.get(StatField.BLOCK_WEIGHT_SPACE); // bf16 weights, per block
    assertThat(bf16.get(StatField.BLOCK_WEIGHT_SPACE)).isEqualTo(weightBytes);
    // reduce-scatter of fp32 gradients (twice the weight bytes), all-gather of bf16 weights
    assertThat(fp32.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(BLOCKS * (scaleOut(2 * weightBytes) + scaleOut(weightBytes)), within(1e-12));
    assertThat(bf16.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(BLOCKS * 2 * scaleOut(weightBytes), within(1e-12));
  }

  @Test
  void withoutShardingTheAllReduceMovesTheGradientsInTheirDatatype() throws Exception {
    // ZeRO 0: one ring all-reduce of the gradients (all_reduce [2.0, -1]: twice a gather's bytes)
    Stats s = run(e -> {
      e.put("gradient_datatype", "float32");
      e.put("optimizer_sharding", false);
      e.put("zero_stage", 0);
    });
    double weightBytes = s.get(StatField.BLOCK_WEIGHT_SPACE);
    assertThat(s.get(StatField.DP_COMM_LINK_TIME)).isCloseTo(BLOCKS * scaleOut(2 * 2 * weightBytes), within(1e-12));
  }

  @Test
  void theFirstAndLastBucketsStayExposedAndTheRestHides() throws Exception {
    Stats s = run(GPT_16B, e -> e.put("gradient_datatype", "float32"));
    double weightBytes = s.get(StatField.BLOCK_WEIGHT_SPACE);
    double firstGather = rails(weightBytes, 2),
        lastReduce = rails(s.get(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING), 2);
    double exposed = s.get(StatField.DP_COMM_EXPOSED_TIME);
    // the first block's all-gather waits before the first forward, the last block's
    // reduce-scatter follows the last backward: neither can hide
    assertThat(exposed).isGreaterThanOrEqualTo(firstGather + lastReduce);
    assertThat(exposed).isLessThan(s.get(StatField.DP_COMM_LINK_TIME));
    // without overlap everything is exposed
    Stats serial = run(GPT_16B, e -> {
      e.put("gradient_datatype", "float32");
      e.put("data_par_overlap", false);
    });
    assertThat(serial.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(serial.get(StatField.DP_COMM_LINK_TIME));
  }

  @Test
  void aGroupWithSeveralMembersPerNodeSpreadsItsRingOverTheirLinks() throws Exception {
    // TP 4: 2 members of each DP group per node, the ring's bytes split over 2 links
    Stats tp4 = run(GPT_16B, e -> { });
    // weights in bf16, gradients in fp32: the block's fp32 gradient bytes (its gradient elements
    // can outnumber its weight elements by the TP-replicated norms' share)
    double w16 = tp4.get(StatField.BLOCK_WEIGHT_SPACE), g16 = tp4.get(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING);
    assertThat(tp4.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(32 * (rails(g16, 2) + rails(w16, 2)), within(1e-12));
    // the scale-out share is the slower one here: half the bytes at 48 GB/s
    assertThat(rails(g16, 2)).isEqualTo(scaleOut(g16 / 2));
    // TP 1: 8 members per node
    Stats tp1 = run(GPT_1_7B, e -> { });
    double w17 = tp1.get(StatField.BLOCK_WEIGHT_SPACE), g17 = tp1.get(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING);
    assertThat(tp1.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(24 * (rails(g17, 8) + rails(w17, 8)), within(1e-12));
    // PP 2 inside the node with TP 4 fills it: one member per node, one link
    Stats pp = run(GPT_16B, e -> {
      e.put("pipeline_par", 2);
      e.put("data_par", 24);
      e.put("pipeline_par_net", 0);
    });
    // (each stage's own blocks: read the stage's block sizes)
    double wpp = pp.get(StatField.BLOCK_WEIGHT_SPACE), gpp = pp.get(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING);
    assertThat(pp.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(16 * (scaleOut(gpp, 24) + scaleOut(wpp, 24)), within(1e-12));
    // PP across nodes (Megatron's order puts DP inside it): 2 members per node again
    Stats ppOut = run(GPT_16B, e -> {
      e.put("pipeline_par", 2);
      e.put("data_par", 24);
    });
    assertThat(ppOut.get(StatField.DP_COMM_LINK_TIME))
        .isCloseTo(16 * (rails(gpp, 2, 24) + rails(wpp, 2, 24)), within(1e-12));
  }

  @Test
  void prefetchedGathersHideBehindTheForwardPassButTheFirst() {
    // one chunk of 4 blocks, 1 s gathers, 2.5 s of forward per block: block i is needed at 2.5 i
    // and gathered at i + 1, so only the first waits; the other 3 s of gathers steal 2% of the
    // compute they run beside: 1 + 0.02 * 3 = 1.06
    assertThat(CommOverlap.prefetchedExposed(1, 1, 4, 1, 2.5, 8, 0.02)).isCloseTo(1.06, within(1e-12));
    // 0.5 s of forward per block: the last is needed at 1.5 and gathered at 4, a 2.5 s stall:
    // 2.5 + 0.06 = 2.56
    assertThat(CommOverlap.prefetchedExposed(1, 1, 4, 1, 0.5, 8, 0.02)).isCloseTo(2.56, within(1e-12));
    // two chunks of 2 blocks, 0.5 s per block, 4 microbatches through chunk 0 before chunk 1:
    // chunk 1's blocks are needed at 4 and 4.5 and gathered at 3 and 4; chunk 0's second block is
    // needed at 0.5 and gathered at 2, the largest stall: 1.5 + 0.06 = 1.56
    assertThat(CommOverlap.prefetchedExposed(1, 2, 2, 4, 0.5, 8, 0.02)).isCloseTo(1.56, within(1e-12));
    // the same stage with one microbatch per chunk (no interleaved warm-up): chunk 1's last block
    // is needed at 1.5 and gathered at 4: 2.5 + 0.06 = 2.56
    assertThat(CommOverlap.prefetchedExposed(1, 2, 2, 1, 0.5, 8, 0.02)).isCloseTo(2.56, within(1e-12));
    // little compute to run beside: the stolen share is bounded by it (0.02 * 1 s)
    assertThat(CommOverlap.prefetchedExposed(1, 1, 4, 1, 2.5, 1, 0.02)).isCloseTo(1.02, within(1e-12));
    // one block: only the first gather, exposed whole, running beside nothing
    assertThat(CommOverlap.prefetchedExposed(1.5, 1, 1, 1, 10, 8, 0.02)).isCloseTo(1.5, within(1e-12));
  }
}
