package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llm-parameter-calculator: Calculon-MoE's output for every dense model, and MoE total/active counts. */
class ParameterCalculatorTest {
  static String run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void everyGoldenModelPrintsTheReferenceLine(@TempDir Path tmp) throws Exception {
    JsonNode golden = new ObjectMapper().readTree(Path.of("src/test/resources/goldens/parameter_calculator/parameter_calculator.json").toFile());
    int checked = 0;
    for (Map.Entry<String, JsonNode> e : golden.get("models").properties()) {
      JsonNode moe = e.getValue().get("moe");
      if (moe == null || moe.get("exit_code").asInt() != 0) {
        continue;
      }
      Path model = tmp.resolve(e.getKey() + ".json");
      Files.writeString(model, e.getValue().get("model").toString());
      assertThat(run("lpc", model.toString())).isEqualTo(moe.get("stdout_default").asText());
      assertThat(run("lpc", "-a", "15", model.toString())).isEqualTo(moe.get("stdout_a15").asText());
      checked++;
    }
    assertThat(checked).isGreaterThanOrEqualTo(17);
  }

  /**
   * gpt-1.8T (H 10752, F 43008, 96 heads of 112, 120 blocks, S 4096) with 16 GeLU experts, top-2:
   * per block attention 4·H·A·d + 3·A·d + H + 4H = 462,422,016 + 32,256 + 10,752 + 43,008;
   * router H·E = 172,032; one expert 2·H·F + F + H = 924,844,032 + 53,760; embeddings
   * (51,200 + 4,096)·H = 594,542,592.
   */
  @Test
  void moeModelGetsTotalAndActiveCounts() {
    long attention = 462_422_016L + 32_256 + 10_752 + 43_008 + 172_032;
    long expert = 924_844_032L + 53_760;
    long embeddings = 594_542_592L;
    long total = 120 * (attention + 16 * expert) + embeddings;
    long active = 120 * (attention + 2 * expert) + embeddings;
    assertThat(total).isEqualTo(1_831_919_910_912L);
    assertThat(active).isEqualTo(278_091_620_352L);
    String line = run("lpc", "models/gpt-1.8T.json", "-e", "examples/gpt_1.8_training_4096.json");
    assertThat(line).isEqualTo("gpt-1.8T      -> 1.832 T total, " + String.format("%.3f G", active / 1e9)
        + " active (16 experts, top-2); " + String.format("%.3f G", (active - 51_200L * 10752) / 1e9)
        + " active without the input embedding\n"
        + " ".repeat(13) + " -> 5.322 G per GPU (largest pipeline stage; TP 8, PP 4, EP 16, ES 8)\n");
  }

  /**
   * --execution is checked against the model as llm checks it (RunChecks.checkModelAndExecution):
   * a dense execution of a MoE model, or more pipeline stages than blocks, is one line naming the
   * execution file and the key, exit 2, and no count.
   */
  @Test
  void theExecutionMustFitTheModel(@TempDir Path tmp) throws Exception {
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode dense =
        (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    dense.put("tensor_par_overlap", "none");
    Path exe = tmp.resolve("dense.json");
    json.writeValue(exe.toFile(), dense);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.execute(new String[] {"lpc", "models/deepseek-v3.json", "-e", exe.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("calculon llm-parameter-calculator: " + exe
        + ": model_MoE: must be true: models/deepseek-v3.json is a mixture-of-experts model (256 experts)\n");
  }
}
