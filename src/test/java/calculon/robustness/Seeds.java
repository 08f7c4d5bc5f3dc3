package calculon.robustness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Starting points for the robustness tests: the model, execution and system objects of the public
 * golden cases (coherent triples, accepted and rejected ones), plus the shipped models/, examples/
 * and systems/ files. Loaded once per JVM; callers deep-copy before changing anything.
 */
final class Seeds {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path GOLDEN_CASES = Path.of("src/test/resources/goldens/public/cases");

  /** One model, execution and system that belong together. */
  record Triple(String id, ObjectNode model, ObjectNode execution, ObjectNode system) {}

  private static Seeds instance;

  final List<Triple> triples;
  final List<ObjectNode> models;
  final List<ObjectNode> executions;
  final Map<String, ObjectNode> shippedModels;
  final Map<String, ObjectNode> shippedSystems;

  private Seeds(List<Triple> triples, Map<String, ObjectNode> shippedModels,
                List<ObjectNode> shippedExecutions, Map<String, ObjectNode> shippedSystems) {
    this.triples = Collections.unmodifiableList(triples);
    this.shippedModels = Collections.unmodifiableMap(shippedModels);
    this.shippedSystems = Collections.unmodifiableMap(shippedSystems);
    Set<JsonNode> m = new LinkedHashSet<>(shippedModels.values());
    Set<JsonNode> e = new LinkedHashSet<>(shippedExecutions);
    for (Triple t : triples) {
      m.add(t.model());
      e.add(t.execution());
    }
    this.models = m.stream().map(ObjectNode.class::cast).toList();
    this.executions = e.stream().map(ObjectNode.class::cast).toList();
  }

  static synchronized Seeds get() {
    if (instance == null) {
      instance = load();
    }
    return instance;
  }

  private static Seeds load() {
    Map<String, ObjectNode> models = readDir(Path.of("models"));
    Map<String, ObjectNode> examples = readDir(Path.of("examples"));
    Map<String, ObjectNode> systems = readDir(Path.of("systems"));
    List<Triple> triples = new ArrayList<>();
    try (Stream<Path> files = Files.list(GOLDEN_CASES)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
        JsonNode c = JSON.readTree(p.toFile());
        if (c.get("model") instanceof ObjectNode m && c.get("execution") instanceof ObjectNode e
            && c.get("system") instanceof ObjectNode s) {
          triples.add(new Triple(c.path("id").asText(p.getFileName().toString()), m, e, s));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // The shipped examples, each with its model and a shipped system, so the triples cover them
    // too: a modern model's example is named <model>_<n>xH100 and runs on the dense H100 system.
    ObjectNode h100 = systems.get("H100_80g_sxm");
    ObjectNode h100Dense = systems.get("H100_SXM_80g_dense");
    ObjectNode a100 = systems.get("a100_80g");
    for (Map.Entry<String, ObjectNode> ex : examples.entrySet()) {
      String name = ex.getKey();
      ObjectNode modern = name.contains("_") ? models.get(name.substring(0, name.indexOf('_'))) : null;
      if (modern != null) {
        triples.add(new Triple("example-" + name, modern, ex.getValue(), h100Dense));
        continue;
      }
      ObjectNode model = name.startsWith("nemo") ? models.get("nemo-mixtral-8x3b-moe")
          : name.startsWith("gpt_1.8") ? models.get("gpt-1.8T")
          : name.startsWith("megatron_1T") ? models.get("megatron-1T") : models.get("turing-530B");
      triples.add(new Triple("example-" + name, model, ex.getValue(), name.startsWith("megatron") ? a100 : h100));
    }
    if (triples.size() < 100) {
      throw new IllegalStateException("expected the public golden cases under " + GOLDEN_CASES
          + ", found " + triples.size() + " seeds");
    }
    return new Seeds(triples, models, new ArrayList<>(examples.values()), systems);
  }

  private static Map<String, ObjectNode> readDir(Path dir) {
    Map<String, ObjectNode> out = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
        String name = p.getFileName().toString();
        out.put(name.substring(0, name.length() - ".json".length()), (ObjectNode) JSON.readTree(p.toFile()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
