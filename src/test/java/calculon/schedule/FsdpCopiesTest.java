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
 * PyTorch FSDP2's compute-stream copies ({@code fsdp_impl: pytorch}, {@link DataParallelSync#fsdpCopies})
 * by hand on Llama 3.1 8B: P = 32 blocks of 218,112,000 parameters (attention 2 x 4096^2 +
 * 2 x 4096 x 1024, SwiGLU 3 x 4096 x 14,336, two RMSNorms of 4096) + two 128,256 x 4096 tables
 * (525,336,576 each) + the final norm (4096) = 8,030,261,248. Every copy of these runs moves more
 * than 100 MB, where the systems' HBM runs at 0.9 of its rate (2.4 TB/s on the 96 GB H100: 2.16
 * TB/s; 4.8 TB/s on the H200: 4.32 TB/s).
 */
class FsdpCopiesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/llama3-8B.json");
  static final double BLOCK = 218_112_000.0, TABLE = 525_336_576.0, NORM = 4096;
  static final double P = 32 * BLOCK + 2 * TABLE + NORM;
  static final double H100_HBM = 2.4e12 * 0.9, H200_HBM = 4.8e12 * 0.9;

  static Stats run(String exe, String system, Consumer<ObjectNode> edit) throws Exception {
    Application app = ApplicationReader.read(MODEL);
    ObjectNode node = (ObjectNode) JSON.readTree(Path.of(exe).toFile());
    edit.accept(node);
    Execution e = ExecutionReader.read(node, exe);
    SystemSpec sys = SystemReader.read(Path.of(system));
    return Evaluator.evaluate(app, e, new Hardware(sys, e.datatype()), ModelVersion.CORRECTED, false);
  }

  static Stats titan8Gpu(Consumer<ObjectNode> edit) throws Exception {
    return run("validation/modern/titan_8B_8gpu_fsdp.json", "systems/H100_SXM_96g_hbm2e_dense.json", edit);
  }

  @Test
  void llama8BOn8GpusCopies14BytesPerParameterAStep() throws Exception {
    // one microbatch: the forward gather's copy-out 2 x 2 B/P, the backward gather's 2 x 2 B/P and
    // the reduce-scatter copy-in's bf16 read and fp32 write 2 + 4 B/P: 14 P = 112.42 GB a step,
    // 52.0 ms at 2.16 TB/s
    Stats s = titan8Gpu(e -> { });
    assertThat(14 * P / 1e9).isCloseTo(112.42, within(0.01));
    assertThat(s.get(StatField.FSDP_COPY_TIME)).isCloseTo(14 * P / H100_HBM, within(1e-9));
    assertThat(s.get(StatField.FSDP_COPY_TIME)).isCloseTo(0.05204, within(1e-5));
  }

  @Test
  void theCopiesAddToTheStepAsComputeStreamTimeAndMegatronFsdpHasNone() throws Exception {
    Stats pytorch = titan8Gpu(e -> { });
    Stats megatron = titan8Gpu(e -> e.put("fsdp_impl", "megatron"));
    Stats unsaid = titan8Gpu(e -> e.remove("fsdp_impl"));
    assertThat(megatron.get(StatField.FSDP_COPY_TIME)).isZero();
    assertThat(unsaid.get(StatField.TOTAL_TIME)).isEqualTo(megatron.get(StatField.TOTAL_TIME));
    double copies = pytorch.get(StatField.FSDP_COPY_TIME);
    assertThat(pytorch.get(StatField.TOTAL_TIME) - megatron.get(StatField.TOTAL_TIME)).isCloseTo(copies, within(1e-12));
    // the forward pass carries its gather's copy-out (4 of the 14 B/P), the backward pass the rest
    assertThat(pytorch.get(StatField.FW_TIME) - megatron.get(StatField.FW_TIME)).isCloseTo(4 * P / H100_HBM, within(1e-12));
    assertThat(pytorch.get(StatField.BW_TIME) - megatron.get(StatField.BW_TIME)).isCloseTo(10 * P / H100_HBM, within(1e-12));
    // nothing else moves: the communication is what it was
    assertThat(pytorch.get(StatField.DP_COMM_EXPOSED_TIME)).isEqualTo(megatron.get(StatField.DP_COMM_EXPOSED_TIME));
  }

  @Test
  void float8AllGatherCopiesOneBytePerGatheredFloat8Weight() throws Exception {
    // Trainy's 32 H200 (weight_datatype float8): each copy-out reads and writes the gathered
    // float8 weights, 1 B/P, but the logits table stays 16-bit (2 B): W = P + TABLE bytes; the
    // gradients are bf16 and reduced in fp32 as before: 2 x 2 W + 6 P a step
    Stats s = run("validation/modern/trainy_8B_h200_32gpu.json", "systems/H200_SXM_141g_dense.json", e -> { });
    double w = P + TABLE;
    assertThat(s.get(StatField.FSDP_COPY_TIME)).isCloseTo((4 * w + 6 * P) / H200_HBM, within(1e-9));
  }

  @Test
  void aPipelineStageAccumulatesItsUnshardedGradientsInFp32EveryMicrobatch() throws Exception {
    // PP 2 x DP 4, 3 microbatches: the last stage (16 blocks, the final norm and the logits
    // table, P_s = 4,015,132,672, the slower) gathers once (2 x 2 B/P_s), casts the first
    // microbatch's bf16 gradients to fp32 (2 + 4), adds each later one into them (4 + 2 + 4, twice)
    // and copies the fp32 sum into the reduce-scatter input (4 + 4): 38 B/P_s a step
    Stats s = titan8Gpu(e -> {
      e.put("pipeline_par", 2);
      e.put("data_par", 4);
      e.put("batch_size", 24);
    });
    double stage = 16 * BLOCK + NORM + TABLE;
    assertThat(stage).isEqualTo(4_015_132_672.0);
    assertThat(s.get(StatField.FSDP_COPY_TIME)).isCloseTo(38 * stage / H100_HBM, within(1e-9));
  }
}
