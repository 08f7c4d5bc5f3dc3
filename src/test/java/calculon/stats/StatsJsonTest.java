package calculon.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatsJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String CASE = "readme-moe-gpt-1.8T.moe";

  @Test
  void jsonFileHasTheReferenceKeysInOrderAndItsValues(@TempDir Path dir) throws Exception {
    JsonNode golden = GoldenStats.goldenCase(CASE);
    Stats stats = GoldenStats.of(golden, dir);
    Path out = dir.resolve("stats.json");
    StatsJson.write(stats, false, out);

    JsonNode expected = golden.get("expected").get("stats");
    JsonNode written = MAPPER.readTree(out.toFile());
    assertThat(fieldNames(written)).containsExactlyElementsOf(fieldNames(expected));
    for (String key : fieldNames(expected)) {
      assertThat(written.get(key).doubleValue()).as(key).isEqualTo(expected.get(key).doubleValue());
    }
    String text = Files.readString(out);
    assertThat(text).startsWith("{\n  \"block_fw_flops\": ").doesNotEndWith("\n");
    // Python repr of the floats: exponent form below 1e-4, ".0" on whole numbers.
    assertThat(text).contains("\"block_fw_flops\": " + repr(expected.get("block_fw_flops")) + ",");
  }

  @Test
  void layersFollowTheStatsWithTheNameFirst(@TempDir Path dir) throws Exception {
    JsonNode golden = GoldenStats.goldenCase(CASE);
    Stats stats = GoldenStats.of(golden, dir);
    Path out = dir.resolve("stats.json.gz");
    StatsJson.write(stats, true, out);

    String text;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(out))) {
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(text).doesNotContain("\n").startsWith("{\"block_fw_flops\": ");
    JsonNode written = MAPPER.readTree(text);
    List<String> keys = fieldNames(written);
    assertThat(keys).hasSize(StatField.all().length + 1).last().isEqualTo("layers");
    JsonNode expectedLayers = golden.get("expected").get("layers");
    JsonNode layers = written.get("layers");
    assertThat(layers.size()).isEqualTo(expectedLayers.size()).isPositive();
    for (int i = 0; i < layers.size(); i++) {
      assertThat(fieldNames(layers.get(i))).containsExactlyElementsOf(fieldNames(expectedLayers.get(i)));
      assertThat(layers.get(i).get("name").asText()).isEqualTo(expectedLayers.get(i).get("name").asText());
      for (String key : fieldNames(expectedLayers.get(i))) {
        if (!key.equals("name")) {
          assertThat(layers.get(i).get(key).doubleValue()).as(key).isEqualTo(expectedLayers.get(i).get(key).doubleValue());
        }
      }
    }
  }

  @Test
  void nullFieldsAndNonFiniteValuesAreWrittenAsPythonDoes(@TempDir Path dir) throws Exception {
    Stats stats = GoldenStats.of(GoldenStats.goldenCase(CASE), dir);
    stats.setNull(StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD);
    stats.set(StatField.SAMPLE_RATE, Double.POSITIVE_INFINITY);
    stats.set(StatField.TOTAL_EFFICIENCY, Double.NaN);
    String text = StatsJson.toJson(stats, false, 2);
    assertThat(text).contains("\"act_checkpoint_size_with_offload\": null,")
        .contains("\"total_efficiency\": NaN,").endsWith("\"sample_rate\": Infinity\n}");
  }

  private static String repr(JsonNode n) {
    return calculon.util.PyFormat.repr(n.doubleValue());
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }
}
