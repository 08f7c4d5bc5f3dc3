package calculon.stats;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stats files are written with the reference's number types ({@link PyNumberType}): over every
 * accepted golden case of the fork, a value is written as an int exactly where the reference wrote one, but
 * for the few keys whose type the rule leaves to a code path it does not follow (counted, and
 * bounded here so that it cannot grow). Before the rule, every int of the reference (56-74 per
 * stats file) was written with a trailing ".0". And the provenance keys follow the stats.
 */
class GoldenStatsTextTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final StatsJson.Provenance MOE = new StatsJson.Provenance("test", ModelVersion.CALCULON_MOE);

  @Test
  void numberTypesAreTheReferences(@TempDir Path dir) throws Exception {
    Path cases = Path.of("src/test/resources/goldens/public/cases");
    List<Path> files;
    try (Stream<Path> s = Files.list(cases)) {
      files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    int checked = 0, values = 0, refInts = 0, mismatches = 0;
    Map<String, Integer> byKey = new TreeMap<>();
    List<String> readmeMismatches = new ArrayList<>();
    for (Path f : files) {
      JsonNode golden = MAPPER.readTree(f.toFile());
      JsonNode expected = golden.path("expected");
      // the fork's cases (the original Calculon's name some keys differently)
      if (!"moe".equals(golden.path("checkout").asText()) || !"ok".equals(expected.path("status").asText())
          || !expected.has("stats")) {
        continue;
      }
      Stats stats = GoldenStats.of(golden, dir);
      Map<String, Object> written = StatsJson.toMap(stats, false, MOE);
      for (StatField field : StatField.all()) {
        JsonNode ref = expected.get("stats").get(field.key);
        if (ref == null || ref.isNull()) {
          continue;
        }
        values++;
        boolean refInt = ref.isIntegralNumber();
        refInts += refInt ? 1 : 0;
        boolean ours = written.get(field.key) instanceof Long;
        if (ours != refInt) {
          mismatches++;
          byKey.merge(field.key, 1, Integer::sum);
          if (golden.get("id").asText().startsWith("readme-moe")) {
            readmeMismatches.add(field.key);
          }
        }
      }
      checked++;
    }
    System.out.printf("GoldenStatsTextTest: %d cases, %d values, %d ints in the reference, %d typed differently "
        + "(%.1f per file; every int was before): %s%n", checked, values, refInts, mismatches,
        (double) mismatches / checked, byKey);
    assertThat(checked).isGreaterThanOrEqualTo(630);
    assertThat(refInts).as("the reference writes ints").isGreaterThan(50 * checked);
    assertThat(readmeMismatches).as("the MoE README run").isEmpty();
    assertThat(mismatches).as("values typed unlike the reference").isLessThanOrEqualTo(2 * checked);
  }

  @Test
  void aStatsFileSaysWhereItCameFrom(@TempDir Path dir) throws Exception {
    JsonNode golden = GoldenStats.goldenCase("readme-dense-megatron-1T.moe");
    Stats stats = GoldenStats.of(golden, dir);
    Path out = dir.resolve("stats.json");
    StatsJson.write(stats, true, new StatsJson.Provenance("9.9.9", ModelVersion.CORRECTED), out);
    JsonNode written = MAPPER.readTree(out.toFile());
    List<String> keys = new ArrayList<>();
    written.fieldNames().forEachRemaining(keys::add);
    assertThat(keys.subList(keys.size() - 3, keys.size()))
        .containsExactly(StatsJson.CALCULON_VERSION_KEY, StatsJson.MODEL_VERSION_KEY, StatsJson.LAYERS_KEY);
    assertThat(written.get("model_version").asText()).isEqualTo("corrected");
    assertThat(written.get("calculon_version").asText()).isEqualTo("9.9.9");
    // a byte count is a whole number of bytes: 5992816640, not 5992816640.0
    assertThat(Files.readString(out)).contains("\"block_fw_mem_accessed\": 5992816640,");
  }

  @Test
  void correctedByteCountsLoseTheirRoundingNoise(@TempDir Path dir) throws Exception {
    Stats stats = GoldenStats.of(GoldenStats.goldenCase("readme-moe-gpt-1.8T.moe"), dir);
    stats.set(StatField.PROC_MEM_TIER1_CAP_REQ, 20702869504.000004);
    stats.set(StatField.BUBBLE_TIME, 2.5000000000000004);
    String corrected = StatsJson.toJson(stats, false, new StatsJson.Provenance("t", ModelVersion.CORRECTED), 2);
    assertThat(corrected).contains("\"proc_mem_tier1_cap_req\": 20702869504,")
        .contains("\"bubble_time\": 2.5000000000000004,");  // a time is not a byte count
    String fork = StatsJson.toJson(stats, false, MOE, 2);
    assertThat(fork).contains("\"proc_mem_tier1_cap_req\": 20702869504.000004,");  // the reference's value
  }
}
