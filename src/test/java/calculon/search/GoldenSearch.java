package calculon.search;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A search golden (goldens/search/*.json) and the search it describes. */
record GoldenSearch(String name, JsonNode json, String command, Application app, SystemSpec system,
                    SearchOptions options) {

  static final Path DIR = Path.of("src/test/resources/goldens/search");
  static final ObjectMapper MAPPER = new ObjectMapper();

  static Stream<GoldenSearch> all() throws IOException {
    List<GoldenSearch> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.sorted().toList()) {
        String n = f.getFileName().toString();
        if (n.equals("index.json") || n.startsWith("readme_")) {
          continue;
        }
        out.add(load(f));
      }
    }
    return out.stream();
  }

  static GoldenSearch load(Path f) throws IOException {
    JsonNode j = MAPPER.readTree(f.toFile());
    List<String> cmd = new ArrayList<>();
    j.get("command").forEach(c -> cmd.add(c.asText()));
    String command = cmd.get(0);
    SearchKind kind = switch (command) {
      case "llm-optimal-execution", "llm-all-executions" -> SearchKind.DENSE;
      case "llm-optimal-execution-moe" -> SearchKind.MOE;
      case "llm-optimal-execution-moe-flexible" -> SearchKind.MOE_FLEX;
      default -> throw new IllegalArgumentException(command);
    };
    int numProcs = Integer.parseInt(cmd.get(2));
    int maxBatch = Integer.parseInt(cmd.get(3));
    Datatype dt = Datatype.fromJson(cmd.get(4));
    boolean mbsBreak = false;
    boolean tpo = true;
    boolean dpo = true;
    int topN = 1;
    int experts = 16;
    List<Boolean> fused = List.of(true);
    for (int i = 7; i < cmd.size(); i++) {
      switch (cmd.get(i)) {
        case "-m" -> mbsBreak = true;
        case "--no-tp-overlap" -> tpo = false;
        case "--no-dp-overlap" -> dpo = false;
        case "-t" -> topN = Integer.parseInt(cmd.get(++i));
        case "-moe" -> experts = Integer.parseInt(cmd.get(++i));
        case "-f" -> {
          String v = cmd.get(++i);
          fused = v.equals("both") ? List.of(false, true) : List.of(v.startsWith("t"));
        }
        default -> throw new IllegalArgumentException("option " + cmd.get(i));
      }
    }
    try {
      Application app = ApplicationReader.read(j.get("model"), j.get("model_name").asText());
      SystemSpec sys = SystemReader.read(j.get("system"), j.get("system_name").asText());
      SearchOptions o = new SearchOptions(kind, numProcs, maxBatch, dt, fused, mbsBreak, tpo, dpo, true,
          experts, topN, false);
      return new GoldenSearch(f.getFileName().toString(), j, command, app, sys, o);
    } catch (calculon.config.ConfigError e) {
      throw new IOException(e);
    }
  }

  boolean fromFork() { return json.get("checkout").asText().equals("moe"); }

  Long debugCount() {
    JsonNode d = json.get("debug_count");
    return d == null || d.isNull() ? null : d.asLong();
  }

  @Override
  public String toString() { return name; }
}
