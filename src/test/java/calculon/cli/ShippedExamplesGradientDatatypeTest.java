package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped example executions reduce gradients as the framework they describe does. Megatron-LM
 * turns {@code accumulate_allreduce_grads_in_fp32} on for every {@code --bf16} run without
 * {@code --grad-reduce-in-bf16} (megatron/training/arguments.py: "bfloat16 requires gradient
 * accumulation and all-reduce to be done in fp32"), and Megatron-Core's DistributedDataParallel
 * keeps the gradient buffer in {@code torch.float if grad_reduce_in_fp32 else param.dtype}: the bf16
 * examples say {@code gradient_datatype: float32}, the original-format float16 ones leave it out.
 */
class ShippedExamplesGradientDatatypeTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  @Test
  void bf16ExamplesReduceInFp32AndFp16OnesInFp16() throws Exception {
    int bf16 = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of("examples"), "*.json")) {
      for (Path f : files) {
        JsonNode e = MAPPER.readTree(f.toFile());
        String datatype = e.path("datatype").asText();
        if (datatype.equals("bfloat16")) {
          bf16++;
          assertThat(e.path("gradient_datatype").asText()).as(f.toString()).isEqualTo("float32");
        } else {
          assertThat(datatype).as(f.toString()).isEqualTo("float16");
          assertThat(e.has("gradient_datatype")).as(f.toString()).isFalse();
        }
      }
    }
    assertThat(bf16).isEqualTo(9);  // the nine examples/*xH100.json
  }

  /**
   * Llama 3 70B on 256 H100s (TP 4, PP 2, DP 32, ZeRO 1): the largest stage's weight gradients are
   * 4 bytes a parameter, twice its bf16 weights, and 2 bytes with the key left out. Its DP traffic is
   * a reduce-scatter of the gradients and an all-gather of the bf16 weights, 4 + 2 bytes a parameter
   * instead of 2 + 2: the link time grows 1.5x.
   */
  @Test
  void fp32GradientsDoubleTheGradientBytesAndTheReduceScatter() throws Exception {
    Path example = Path.of("examples/llama3-70B_256xH100.json");
    ObjectNode bf16 = (ObjectNode) MAPPER.readTree(example.toFile());
    bf16.remove("gradient_datatype");
    Path bf16File = dir.resolve("bf16-grads.json");
    MAPPER.writeValue(bf16File.toFile(), bf16);
    JsonNode fp32 = stats(example, "fp32.json");
    JsonNode half = stats(bf16File, "bf16.json");
    assertThat(fp32.get("weight_grad_space").asLong()).isEqualTo(2 * fp32.get("weight_space").asLong());
    assertThat(half.get("weight_grad_space").asLong()).isEqualTo(half.get("weight_space").asLong());
    assertThat(fp32.get("dp_comm_link_time").asDouble() / half.get("dp_comm_link_time").asDouble())
        .isCloseTo(1.5, within(0.01));
  }

  private JsonNode stats(Path execution, String name) throws Exception {
    Path out = dir.resolve(name);
    CliRun.Run r = CliRun.run("llm", "models/llama3-70B.json", execution.toString(), H100, out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    return MAPPER.readTree(out.toFile());
  }
}
