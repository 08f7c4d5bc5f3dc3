package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.stats.StatField;
import calculon.stats.StatsJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a stats file of the README's two runs holds, as the README's command table counts it: the
 * reference's 122 stats, for the MoE example one more (the corrected model's expert all-to-all on
 * the EP tier, written because it is not zero), then calculon_version and model_version.
 */
class StatsFileKeysTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String[] DENSE = {"models/megatron-1T.json", "examples/megatron_1T_training_4096_original.json",
      "systems/a100_80g.json"};
  private static final String[] MOE = {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
      "systems/H100_80g_sxm.json"};

  @TempDir
  Path dir;

  @Test
  void readmeRunsWriteTheStatsTheReadmeCounts() throws Exception {
    List<String> dense = stats(DENSE, "dense.json");
    List<String> moe = stats(MOE, "moe.json");
    assertThat(StatField.all()).hasSize(122);
    assertThat(dense).hasSize(122);
    assertThat(moe).hasSize(123).endsWith("ep_a2a_upper_tier_link_time");
    String readme = Files.readString(Path.of("README.md"));
    assertThat(readme).contains("the 122 stats (123 for the MoE example");
  }

  /** The stats keys of {@code llm RUN out.json}: every key but the provenance. */
  private List<String> stats(String[] run, String name) throws Exception {
    Path out = dir.resolve(name);
    CliRun.Run r = CliRun.run("llm", run[0], run[1], run[2], out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode doc = MAPPER.readTree(out.toFile());
    assertThat(doc.has(StatsJson.CALCULON_VERSION_KEY) && doc.has(StatsJson.MODEL_VERSION_KEY)).isTrue();
    List<String> keys = new ArrayList<>();
    doc.fieldNames().forEachRemaining(k -> {
      if (!k.equals(StatsJson.CALCULON_VERSION_KEY) && !k.equals(StatsJson.MODEL_VERSION_KEY)) {
        keys.add(k);
      }
    });
    return keys;
  }
}
