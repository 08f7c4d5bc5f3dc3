package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The shipped example executions step the optimizer as the framework they describe does. The nine
 * {@code examples/*xH100.json} describe Megatron-Core bf16 runs, whose optimizer
 * (megatron/core/optimizer, core_r0.8.0) reads the fp32 gradient for the clipping norm
 * ({@code get_grad_norm_fp32}), steps with Transformer Engine's or Apex's {@code FusedAdam} and
 * copies the fp32 master back into the bf16 weights ({@code _copy_main_params_to_model_params}):
 * they say {@code optimizer_kernel: fused} (38 bytes a parameter, docs/reference.md). The
 * original-format float16 examples are Calculon's and Calculon-MoE's own files and keep Calculon's
 * count (the key left out, {@code calculon}).
 */
class ShippedExamplesOptimizerKernelTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void megatronCoreExamplesSayFusedAndTheOriginalFormatOnesLeaveTheKeyOut() throws Exception {
    int xh100 = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of("examples"), "*.json")) {
      for (Path f : files) {
        JsonNode e = MAPPER.readTree(f.toFile());
        if (f.getFileName().toString().endsWith("xH100.json")) {
          xh100++;
          assertThat(e.path("optimizer_kernel").asText()).as(f.toString()).isEqualTo("fused");
        } else {
          assertThat(e.has("optimizer_kernel")).as(f.toString()).isFalse();
        }
      }
    }
    assertThat(xh100).isEqualTo(9);
  }
}
