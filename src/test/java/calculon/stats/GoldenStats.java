package calculon.stats;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builds a {@link Stats} holding a golden case's inputs and expected values, as the model would. */
final class GoldenStats {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private GoldenStats() {}

  static JsonNode goldenCase(String id) throws IOException, URISyntaxException {
    Path p = Path.of(GoldenStats.class.getResource("/goldens/public/cases/" + id + ".json").toURI());
    return MAPPER.readTree(p.toFile());
  }

  /** The case's inputs read through the config readers from files in {@code dir}, its expected stats and layers. */
  static Stats of(JsonNode golden, Path dir) throws IOException, ConfigError {
    Path model = write(dir, "model.json", golden.get("model"));
    Path exe = write(dir, "execution.json", golden.get("execution"));
    Path sys = write(dir, "system.json", golden.get("system"));
    Application app = ApplicationReader.read(model);
    Execution execution = ExecutionReader.read(exe);
    SystemSpec system = SystemReader.read(sys);
    Stats stats = new Stats(app, execution, system);
    JsonNode expected = golden.get("expected").get("stats");
    for (StatField f : StatField.all()) {
      JsonNode v = expected.get(f.key);
      if (v == null) {
        throw new IllegalArgumentException("golden lacks " + f.key);
      }
      if (v.isNull()) {
        stats.setNull(f);
      } else {
        stats.set(f, v.doubleValue());
      }
    }
    JsonNode layers = golden.get("expected").get("layers");
    if (layers != null && layers.isArray()) {
      List<Stats.LayerStats> list = new ArrayList<>();
      for (JsonNode layer : layers) {
        double[] values = new double[LayerField.all().length];
        for (LayerField f : LayerField.all()) {
          if (f != LayerField.NAME) {
            values[f.ordinal()] = layer.get(f.key).doubleValue();
          }
        }
        list.add(new Stats.LayerStats(layer.get("name").asText(), values));
      }
      stats.setLayers(list);
    }
    return stats;
  }

  private static Path write(Path dir, String name, JsonNode value) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    return p;
  }
}
