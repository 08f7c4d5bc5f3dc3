package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.model.ModelVersion;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Without {@code --model-version} every command runs the corrected model; with
 * {@code --model-version calculon-moe} the seed README's runs give the fork's output exactly.
 */
class DefaultModelVersionTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void theDefaultIsTheCorrectedModel() {
    assertThat(ModelVersion.DEFAULT).isEqualTo(ModelVersion.CORRECTED);
    assertThat(new ModelVersionOption().version()).isEqualTo(ModelVersion.CORRECTED);
  }

  @ParameterizedTest
  @CsvSource({
      "models/megatron-1T.json, examples/megatron_1T_training_4096_original.json, systems/a100_80g.json, readme-dense-megatron-1T.moe",
      "models/gpt-1.8T.json, examples/gpt_1.8_training_4096.json, systems/H100_80g_sxm.json, readme-moe-gpt-1.8T.moe",
  })
  void readmeExamplesRunCorrectedByDefaultAndTheForkWithTheSwitch(String model, String exe, String sys,
                                                                  String goldenId, @TempDir Path dir) throws Exception {
    Path plain = dir.resolve("plain.json");
    Path corrected = dir.resolve("corrected.json");
    Path fork = dir.resolve("fork.json");
    assertThat(CliRun.run("llm", model, exe, sys, plain.toString()).status()).isZero();
    assertThat(CliRun.run("llm", model, exe, sys, corrected.toString(), "--model-version", "corrected").status()).isZero();
    assertThat(CliRun.run("llm", model, exe, sys, fork.toString(), "--model-version", "calculon-moe").status()).isZero();

    assertThat(Files.readString(plain)).isEqualTo(Files.readString(corrected));
    JsonNode golden = golden(goldenId);
    assertThat(differingKeys(MAPPER.readTree(fork.toFile()), golden.get("expected").get("stats"))).isEmpty();
    // The corrected model counts every in-flight microbatch's activations: the memory differs.
    assertThat(differingKeys(MAPPER.readTree(plain.toFile()), golden.get("expected").get("stats")))
        .contains("proc_mem_tier1_cap_req");
  }

  @Test
  void moeSummaryWithTheSwitchIsTheReferencesStdout() throws Exception {
    Run r = CliRun.run("llm", "models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
        "systems/H100_80g_sxm.json", "-", "--model-version", "calculon-moe");
    assertThat(r.status()).isZero();
    assertThat(r.out()).isEqualTo(golden("readme-moe-gpt-1.8T.moe").get("expected").get("summary_stdout").asText());
  }

  @Test
  void validationTablesAreTheCorrectedModelsByDefault() {
    Run plain = CliRun.run("llm-validation");
    Run corrected = CliRun.run("lv", "--model-version", "corrected");
    Run fork = CliRun.run("lv", "--model-version", "calculon-moe");
    assertThat(plain.status()).isZero();
    assertThat(plain.out()).isEqualTo(corrected.out()).isNotEqualTo(fork.out());
  }

  private static JsonNode golden(String id) throws Exception {
    try (InputStream in = DefaultModelVersionTest.class.getResourceAsStream("/goldens/public/cases/" + id + ".json")) {
      return MAPPER.readTree(in);
    }
  }

  /** Keys of {@code expected} whose value in {@code got} is missing or off by more than 1e-9 relative. */
  private static List<String> differingKeys(JsonNode got, JsonNode expected) {
    List<String> differ = new ArrayList<>();
    for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      JsonNode g = got.get(key);
      JsonNode e = expected.get(key);
      boolean same = g != null && (e.isNumber()
          ? Math.abs(g.doubleValue() - e.doubleValue()) <= 1e-9 * Math.max(Math.abs(e.doubleValue()), 1e-12)
          : g.equals(e));
      if (!same) {
        differ.add(key);
      }
    }
    return differ;
  }
}
