package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped modern model runs through {@code llm} with its example execution and through a
 * search, on the dense H100 SXM system, with the corrected model.
 */
class ShippedModelsRunTest {
  static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  static Stream<Arguments> models() {
    // model, GPUs of its example, search command and its GPUs / max batch
    return Stream.of(
        Arguments.of("llama3-8B", 64, "loe", 16, 32),
        Arguments.of("llama3-70B", 256, "loe", 64, 64),
        Arguments.of("llama3-405B", 1024, "loe", 1024, 512),
        Arguments.of("mixtral-8x7B", 64, "loe-moe", 64, 128),
        Arguments.of("mixtral-8x22B", 256, "loe-moe", 256, 256),
        Arguments.of("qwen3-30B-A3B", 128, "loe-moe", 128, 256),
        Arguments.of("qwen3-235B-A22B", 512, "loe-moe", 512, 512),
        Arguments.of("deepseek-v3", 512, "loe-moe", 512, 512),
        Arguments.of("gpt-oss-120b", 128, "loe-moe", 128, 256));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsThroughLlmAndASearch(String model, int exampleGpus, String search, int gpus, int batch,
                                @TempDir Path dir) throws Exception {
    String modelFile = "models/" + model + ".json";
    String example = "examples/" + model + "_" + exampleGpus + "xH100.json";
    Path stats = dir.resolve("stats.json");
    CliRun.Run single = MainTest.run("llm", modelFile, example, SYSTEM, stats.toString(), "--model-version", "corrected");
    assertThat(single.status()).as(single.err() + single.out()).isZero();
    ObjectMapper json = new ObjectMapper();
    assertThat(json.readTree(stats.toFile()).get("total_time").asDouble()).isPositive();

    Path best = dir.resolve("best.json");
    String[] args = search.equals("loe")
        ? new String[] {search, modelFile, "" + gpus, "" + batch, "bfloat16", SYSTEM, best.toString(),
            "--model-version", "corrected", "--quiet", "-m", "--no-tp-overlap", "--no-dp-overlap"}
        : new String[] {search, modelFile, "" + gpus, "" + batch, "bfloat16", SYSTEM, best.toString(),
            "--model-version", "corrected", "--quiet", "--no-tp-overlap", "--no-dp-overlap"};
    CliRun.Run found = MainTest.run(args);
    assertThat(found.status()).as(found.err() + found.out()).isZero();
    JsonNode top = json.readTree(best.toFile()).get("0");
    assertThat(top.get("stats").get("sample_rate").asDouble()).isPositive();
  }
}
