package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ConfigReader;
import calculon.config.Execution;
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
 * ({@code overlap_param_gather}). Hand-derived on the Megatron-LM README's GPT 16B row
 * (TP 4, DP 48 over 50 GB/s scale-out links at 0.8 efficiency, 20 us latency, 32 blocks).
 */
class GradientReductionTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/megatron-gpt-16B.json"),
      EXECUTION = Path.of("validation/modern/megatron_gpt_16B_192gpu.json"),
      SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");
  static final double SCALE_OUT_BYTES_PER_SECOND = 50e9 * 0.8, LATENCY_SECONDS = 20e-6;
  static final int BLOCKS = 32;

  static Stats run(Consumer<ObjectNode> edit) throws Exception {
    Application app = ConfigReader.readApplication((ObjectNode) JSON.readTree(MODEL.toFile()), MODEL.toString());
    ObjectNode node = (ObjectNode) JSON.readTree(EXECUTION.toFile());
    edit.accept(node);
    Execution exe = ConfigReader.readExecution(node, EXECUTION.toString());
    SystemSpec sys = ConfigReader.readSystem(SYSTEM);
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CORRECTED, false);
  }

  /** One collective of {@code bytes} on the scale-out tier (scalar 1, offset 0 for both ops). */
  static double scaleOut(double bytes) {
    return LATENCY_SECONDS + bytes / SCALE_OUT_BYTES_PER_SECOND;
  }

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
    // ZeRO 0: one all-reduce of the gradients (all_reduce scalar 1, offset 0 on this tier)
    Stats s = run(e -> {
      e.put("gradient_datatype", "float32");
      e.put("optimizer_sharding", false);
      e.put("zero_stage", 0);
    });
    double weightBytes = s.get(StatField.BLOCK_WEIGHT_SPACE);
    assertThat(s.get(StatField.DP_COMM_LINK_TIME)).isCloseTo(BLOCKS * scaleOut(2 * weightBytes), within(1e-12));
  }

  @Test
  void theFirstAndLastBucketsStayExposedAndTheRestHides() throws Exception {
    Stats s = run(e -> e.put("gradient_datatype", "float32"));
    double weightBytes = s.get(StatField.BLOCK_WEIGHT_SPACE);
    double firstGather = scaleOut(weightBytes), lastReduce = scaleOut(2 * weightBytes);
    double exposed = s.get(StatField.DP_COMM_EXPOSED_TIME);
    // the first block's all-gather waits before the first forward, the last block's
    // reduce-scatter follows the last backward: neither can hide
    assertThat(exposed).isGreaterThanOrEqualTo(firstGather + lastReduce);
    assertThat(exposed).isLessThan(s.get(StatField.DP_COMM_LINK_TIME));
    // without overlap everything is exposed
    Stats serial = run(e -> {
      e.put("gradient_datatype", "float32");
      e.put("data_par_overlap", false);
    });
    assertThat(serial.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(serial.get(StatField.DP_COMM_LINK_TIME));
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
