package calculon.search.output;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyJsonTest {
  @Test
  void likePythonJsonDumps() throws Exception {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("a", 1);
    inner.put("b", Arrays.asList(1.5, true, null, "x\"y"));
    inner.put("c", Map.of());
    inner.put("d", 5.43e-05);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("0", inner);
    doc.put("1", List.of());
    StringBuilder indented = new StringBuilder();
    PyJson.write(indented, doc, true);
    // json.dumps(doc, indent=2)
    assertThat(indented.toString()).isEqualTo("{\n  \"0\": {\n    \"a\": 1,\n    \"b\": [\n      1.5,\n"
        + "      true,\n      null,\n      \"x\\\"y\"\n    ],\n    \"c\": {},\n    \"d\": 5.43e-05\n  },\n"
        + "  \"1\": []\n}");
    StringBuilder flat = new StringBuilder();
    PyJson.write(flat, doc, false);
    // json.dumps(doc)
    assertThat(flat.toString()).isEqualTo(
        "{\"0\": {\"a\": 1, \"b\": [1.5, true, null, \"x\\\"y\"], \"c\": {}, \"d\": 5.43e-05}, \"1\": []}");
    assertThat(PyJson.number(Double.POSITIVE_INFINITY)).isEqualTo("Infinity");
    assertThat(PyJson.number(Double.NaN)).isEqualTo("NaN");
  }
}
