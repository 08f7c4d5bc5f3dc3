package calculon.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static Map<String, Object> sample() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", Arrays.asList(1, 2.0, Double.POSITIVE_INFINITY, Double.NaN, null, true, "x\u00e9\"\\"));
    m.put("b", Map.of());
    m.put("c", List.of());
    return m;
  }

  /** Expected text from Python 3.11 json.dumps(..., indent=2). */
  @Test
  void indentedLikePythonJsonDumps() {
    assertThat(PyJson.dumps(sample(), 2)).isEqualTo(
        "{\n  \"a\": [\n    1,\n    2.0,\n    Infinity,\n    NaN,\n    null,\n    true,\n"
            + "    \"x\\u00e9\\\"\\\\\"\n  ],\n  \"b\": {},\n  \"c\": []\n}");
  }

  @Test
  void oneLineLikePythonJsonDumps() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", Arrays.asList(1, 2.0, Map.of("q", Double.NEGATIVE_INFINITY)));
    m.put("b", Map.of());
    m.put("c", List.of());
    assertThat(PyJson.dumps(m, PyJson.NO_INDENT))
        .isEqualTo("{\"a\": [1, 2.0, {\"q\": -Infinity}], \"b\": {}, \"c\": []}");
  }

  /** Rewriting a golden stats object (parsed, ints kept) gives the very bytes the reference wrote. */
  @Test
  void rewritesGoldenStatsByteForByte() throws IOException, URISyntaxException, NoSuchAlgorithmException {
    int checked = 0;
    for (String id : List.of("readme-moe-gpt-1.8T.moe", "readme-dense-megatron-1T.moe",
        "readme-dense-megatron-1T.calc")) {
      JsonNode expected = goldenCase(id).get("expected");
      String text = PyJson.dumps(expected.get("stats"), PyJson.FILE_INDENT);
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      assertThat(HexFormat.of().formatHex(sha)).as(id).isEqualTo(expected.get("stats_sha256").asText());
      checked++;
    }
    assertThat(checked).isEqualTo(3);
  }

  @Test
  void writeFileGzipsOnOneLineAndLeavesNoTemporaryFile(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("x.json.gz");
    PyJson.writeFile(out, sample());
    try (InputStream in = new GZIPInputStream(Files.newInputStream(out))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(PyJson.dumps(sample(), PyJson.NO_INDENT));
    }
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(out);
    }
  }

  @Test
  void writeFileIndentsJsonByTwoWithoutTrailingNewline(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("x.json");
    Files.writeString(out, "old content that must go");
    PyJson.writeFile(out, sample());
    assertThat(Files.readString(out)).isEqualTo(PyJson.dumps(sample(), 2)).doesNotEndWith("\n");
  }

  @Test
  void writeFileRejectsOtherExtensions(@TempDir Path dir) {
    assertThatThrownBy(() -> PyJson.writeFile(dir.resolve("x.csv"), sample()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(".json.gz");
  }

  static JsonNode goldenCase(String id) throws IOException, URISyntaxException {
    Path p = PyFormatTest.goldenCases().resolve(id + ".json");
    return MAPPER.readTree(p.toFile());
  }
}
