package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Measured attention kernels (system key {@code attention_kernels}), derived by hand on Llama 3 8B
 * (32 heads of 128, 8 KV heads), sequence 8,192, microbatch 1, TP 1, H100 SXM (989.4 TFLOP/s
 * BF16): the causal kernel computes 32 x 8192^2 / 2 = 1,073,741,824 (query, key) pairs, so its
 * forward matrix flops are 2 x pairs x (128 + 128) = 549,755,813,888 and its backward 2.5 times
 * that (FlashAttention-3 paper's flop count, arXiv 2407.08608). The shipped file's cuDNN curve
 * gives 0.606 forward and 0.524 backward at 8,192 tokens (600 and 518 TFLOP/s measured, Fig. 5/6);
 * FlashAttention-2's 0.374 and 0.321 (370 and 318).
 */
class AttentionKernelTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final double PEAK = 989.4e12;
  static final double FW_FLOPS = 2.0 * 32 * 8192.0 * 8192 / 2 * 256;

  static Layer attention(String system, Consumer<ObjectNode> edit) throws Exception {
    Application app = ApplicationReader.read(Path.of("models/llama3-8B.json"));
    ObjectNode node = (ObjectNode) JSON.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    node.put("tensor_par", 1).put("pipeline_par", 1).put("data_par", 64).put("num_procs", 64).put("microbatch_size", 1).put("context_par", 1)
        .put("tensor_par_overlap", "none").put("flash_attention", true);
    node.remove("attention_kernel");
    edit.accept(node);
    Execution exe = ExecutionReader.read(node, "exe.json");
    SystemSpec sys = SystemReader.read(Path.of(system));
    return BlockBuilder.build(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CORRECTED).stream()
        .filter(l -> l.name().equals("AttnBlock_Multihead_FlashAttention")).findFirst().orElseThrow();
  }

  static final String H100 = "systems/H100_SXM_80g_dense.json";

  @Test
  void theDefaultKernelIsCudnnAtItsMeasuredRate() throws Exception {
    Layer l = attention(H100, e -> { });
    assertThat(l.processingTime(Stage.FW)).isCloseTo(FW_FLOPS / (PEAK * 0.606), within(1e-12));
    assertThat(l.processingTime(Stage.AGRAD)).isCloseTo(2.5 * FW_FLOPS / (PEAK * 0.524), within(1e-12));
  }

  @Test
  void theExecutionChoosesFlashAttention2() throws Exception {
    Layer l = attention(H100, e -> e.put("attention_kernel", "flash2"));
    assertThat(l.processingTime(Stage.FW)).isCloseTo(FW_FLOPS / (PEAK * 0.374), within(1e-12));
    assertThat(l.processingTime(Stage.AGRAD)).isCloseTo(2.5 * FW_FLOPS / (PEAK * 0.321), within(1e-12));
  }

  @Test
  void float8RunsKeepAttentionIn16Bits() throws Exception {
    Layer bf16 = attention(H100, e -> { });
    Layer fp8 = attention(H100, e -> e.put("datatype", "float8"));
    assertThat(fp8.processingTime(Stage.FW)).isEqualTo(bf16.processingTime(Stage.FW));
    assertThat(fp8.processingTime(Stage.AGRAD)).isEqualTo(bf16.processingTime(Stage.AGRAD));
  }

  @Test
  void contextParallelismLooksUpTheLengthOneCallSees() throws Exception {
    // CP 4: 2,048 query rows per rank and a quarter of the pairs; cuDNN at 2k: 0.624 forward
    Layer l = attention(H100, e -> e.put("context_par", 4).put("data_par", 16).put("num_procs", 64)
        .put("context_par_net", 0));
    assertThat(l.processingTime(Stage.FW)).isCloseTo(FW_FLOPS / 4 / (PEAK * 0.624), within(1e-12));
  }

  @Test
  void aSystemWithoutKernelsKeepsTheMatrixCurveAndAddsTheMemoryTime() throws Exception {
    // Calculon-MoE's H100 file has no attention_kernels (and no bfloat16): no_overlap adds the
    // kernel's estimated HBM traffic to its flops time, as before measured kernels
    Layer l = attention("systems/H100_80g_sxm.json", e -> e.put("datatype", "float16"));
    assertThat(l.memTime(Stage.FW)).isGreaterThan(0);
    assertThat(l.processingTime(Stage.FW)).isCloseTo(l.flopsTime(Stage.FW) + l.memTime(Stage.FW), within(1e-15));
  }

  /**
   * A kernel the system lacks: one line naming the field and the system's kernels, with the one
   * close name when there is one ("flash4" is as close to flash2 as to flash3: no guess).
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"flash4|''", "flash_3|' (did you mean \"flash3\"?)'"})
  void aKernelTheSystemLacksIsOneLineNamingTheField(String kernel, String hint) throws Exception {
    Application app = ApplicationReader.read(Path.of("models/llama3-8B.json"));
    ObjectNode node = (ObjectNode) JSON.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    node.put("attention_kernel", kernel);
    Execution exe = ExecutionReader.read(node, "exe.json");
    SystemSpec sys = SystemReader.read(Path.of(H100));
    assertThatThrownBy(() -> RunChecks.check(app, exe, sys, "m.json", "exe.json", H100))
        .isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: attention_kernel: \"" + kernel + "\" is not among the kernels of " + H100
            + " (attention_kernels.kernels: cudnn, flash2, flash3)" + hint);
  }

  /** A kernel name that is not a string: the rule without a garbled choice list. */
  @Test
  void aKernelThatIsNotAStringIsOneLine() throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    node.put("attention_kernel", 3);
    assertThatThrownBy(() -> ExecutionReader.read(node, "exe.json"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("exe.json: attention_kernel: must be a string, got 3");
  }

  @Test
  void aKernelWithFlashAttentionOffIsRejected() throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    node.put("attention_kernel", "cudnn").put("flash_attention", false);
    assertThatThrownBy(() -> ExecutionReader.read(node, "exe.json"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("attention_kernel").hasMessageContaining("needs flash_attention");
  }

  @Test
  void theDefaultMustNameAKernel() throws Exception {
    ObjectNode sys = (ObjectNode) JSON.readTree(Path.of(H100).toFile());
    ((ObjectNode) sys.get("attention_kernels")).put("default", "flash9");
    assertThatThrownBy(() -> SystemReader.read(sys, "sys.json"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("sys.json: attention_kernels.default: must name one of the kernels (cudnn, flash2, flash3), got \"flash9\"");
  }
}
