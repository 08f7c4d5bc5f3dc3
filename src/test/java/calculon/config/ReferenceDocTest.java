package calculon.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/reference.md lists every key the reader accepts, each in its section ("Model keys",
 * "Execution keys", "System keys") as the first cell of a table row: the key sets are taken from
 * the reader's own constants, so a key added to the reader without a row fails here. Every key
 * found in the shipped model, execution and system files must be listed too.
 */
class ReferenceDocTest {
  private static final Path DOC = Path.of("docs/reference.md");
  private static final Pattern ROW_KEY = Pattern.compile("(?m)^\\| `([^`]+)` \\|");

  /** The text of one "## title" section. */
  private static String section(String title) throws Exception {
    String doc = Files.readString(DOC);
    int start = doc.indexOf("\n## " + title + "\n");
    assertThat(start).as("section '" + title + "' in " + DOC).isNotNegative();
    int end = doc.indexOf("\n## ", start + 1);
    return end < 0 ? doc.substring(start) : doc.substring(start, end);
  }

  /** The keys of the rows of a section's tables. */
  private static Set<String> rows(String title) throws Exception {
    Set<String> keys = new LinkedHashSet<>();
    Matcher m = ROW_KEY.matcher(section(title));
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }

  private static List<String> prefixed(String prefix, Collection<String> keys) {
    return keys.stream().map(k -> prefix + k).toList();
  }

  @Test
  void everyModelKeyTheReaderAcceptsHasARow() throws Exception {
    Set<String> rows = rows("Model keys");
    assertThat(rows).containsAll(ApplicationReader.APPLICATION_KEYS);
    assertThat(rows).containsAll(ModelArchitectureReader.KEYS);
    assertThat(rows).containsAll(ModelArchitectureReader.OPTIONAL_KEYS);
    assertThat(rows).containsAll(prefixed("mla.", ModelArchitectureReader.MLA_KEYS));
    assertThat(rows).containsAll(prefixed("moe.", ModelArchitectureReader.MOE_KEYS));
  }

  @Test
  void everyExecutionKeyTheReaderAcceptsHasARow() throws Exception {
    assertThat(rows("Execution keys")).containsAll(ExecutionReader.EXECUTION_KEYS);
  }

  @Test
  void everySystemKeyTheReaderAcceptsHasARow() throws Exception {
    Set<String> rows = rows("System keys");
    assertThat(rows).containsAll(SystemReader.SYSTEM_KEYS);
    assertThat(rows).containsAll(SystemReader.COMPUTE_KEYS);
    assertThat(rows).containsAll(SystemReader.MEMORY_KEYS);
    assertThat(rows).containsAll(SystemReader.NETWORK_KEYS);
    assertThat(rows).contains(SystemReader.ATTENTION_KERNELS, SystemReader.STREAMING_MULTIPROCESSORS,
        SystemReader.COMPUTE_CAPABILITY);
    String text = section("System keys");
    for (String op : SystemReader.ALLOWED_OPS) {
      assertThat(text).as("network op " + op).contains("`" + op + "`");
    }
    for (Datatype d : Datatype.values()) {
      assertThat(section("Execution keys")).as("datatype " + d.jsonName).contains("`" + d.jsonName + "`");
    }
  }

  @Test
  void everyKeyOfTheShippedFilesHasARow() throws Exception {
    Set<String> model = rows("Model keys"), execution = rows("Execution keys"), system = rows("System keys");
    for (Path p : files("models")) {
      JsonNode n = JsonFiles.read(p);
      for (String k : keys(n)) {
        assertThat(model).as(p + ": " + k).contains(k);
        if (n.get(k).isObject()) {
          for (String sub : keys(n.get(k))) {
            assertThat(model).as(p + ": " + k + "." + sub).contains(k + "." + sub);
          }
        }
      }
    }
    for (Path p : files("examples")) {
      assertThat(execution).as(p.toString()).containsAll(keys(JsonFiles.read(p)));
    }
    for (Path p : files("systems")) {
      JsonNode n = JsonFiles.read(p);
      assertThat(system).as(p.toString()).containsAll(keys(n));
      for (JsonNode net : n.get("networks")) {
        assertThat(system).as(p + ": networks").containsAll(keys(net));
      }
      assertThat(system).as(p + ": mem1").containsAll(keys(n.get("mem1")));
    }
  }

  private static List<Path> files(String dir) throws Exception {
    try (Stream<Path> s = Files.list(Path.of(dir))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  private static List<String> keys(JsonNode n) {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }
}
