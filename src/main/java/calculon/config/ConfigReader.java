package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * PLACEHOLDER (replaced on merge): minimal reader of model and system files so the search
 * branch can run on its own. No validation beyond what it needs to build the records.
 */
public final class ConfigReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ConfigReader() {}

  static JsonNode readTree(Path p) throws ConfigError {
    String n = p.getFileName().toString();
    if (!n.endsWith(".json") && !n.endsWith(".json.gz")) {
      throw new ConfigError(p.toString(), "", "expected a .json or .json.gz file");
    }
    try (InputStream raw = Files.newInputStream(p);
         InputStream in = n.endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new ConfigError(p.toString(), "", "cannot read: " + e.getMessage());
    }
  }

  private static String baseName(Path p) {
    String n = p.getFileName().toString();
    if (n.endsWith(".gz")) {
      n = n.substring(0, n.length() - 3);
    }
    return n.endsWith(".json") ? n.substring(0, n.length() - 5) : n;
  }

  private static JsonNode req(JsonNode o, String k, Path p) throws ConfigError {
    JsonNode v = o.get(k);
    if (v == null || v.isNull()) {
      throw new ConfigError(p.toString(), k, "missing");
    }
    return v;
  }

  public static Application readApplication(Path p) throws ConfigError {
    return applicationFromJson(readTree(p), baseName(p), p);
  }

  public static Application applicationFromJson(JsonNode o, String name, Path p) throws ConfigError {
    return new Application(name, req(o, "hidden", p).asLong(), req(o, "feedforward", p).asLong(),
        req(o, "seq_size", p).asLong(), req(o, "attn_heads", p).asLong(),
        req(o, "attn_size", p).asLong(), req(o, "num_blocks", p).asLong());
  }

  public static Execution readExecution(Path p) throws ConfigError {
    throw new ConfigError(p.toString(), "", "placeholder ConfigReader cannot read executions");
  }

  public static SystemSpec readSystem(Path p) throws ConfigError {
    return systemFromJson(readTree(p), baseName(p), p);
  }

  public static SystemSpec systemFromJson(JsonNode o, String name, Path p) throws ConfigError {
    Map<Datatype, SystemSpec.ComputeRate> matrix = rates(req(o, "matrix", p));
    Map<Datatype, SystemSpec.ComputeRate> vector = rates(req(o, "vector", p));
    SystemSpec.MemorySpec mem1 = mem(req(o, "mem1", p));
    SystemSpec.MemorySpec mem2 = mem(req(o, "mem2", p));
    ProcessingMode mode = ProcessingMode.fromJson(req(o, "processing_mode", p).asText());
    List<SystemSpec.NetworkSpec> nets = new ArrayList<>();
    for (JsonNode n : req(o, "networks", p)) {
      Map<String, SystemSpec.OpSpec> ops = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : n.get("ops").properties()) {
        JsonNode a = e.getValue();
        Double off = a.size() > 1 && !a.get(1).isNull() ? a.get(1).asDouble() : null;
        Double eff = a.size() > 2 && !a.get(2).isNull() ? a.get(2).asDouble() : null;
        ops.put(e.getKey(), new SystemSpec.OpSpec(a.get(0).asDouble(), off, eff));
      }
      nets.add(new SystemSpec.NetworkSpec(n.get("bandwidth").asDouble(),
          n.get("efficiency").asDouble(), n.get("size").asLong(), n.get("latency").asDouble(), ops,
          n.get("must_be_filled").asBoolean(), n.get("processor_usage").asDouble()));
    }
    Object raw = MAPPER.convertValue(o, LinkedHashMap.class);
    return new SystemSpec(name, matrix, vector, mem1, mem2, mode, nets, raw);
  }

  private static Map<Datatype, SystemSpec.ComputeRate> rates(JsonNode o) {
    Map<Datatype, SystemSpec.ComputeRate> m = new EnumMap<>(Datatype.class);
    for (Map.Entry<String, JsonNode> e : o.properties()) {
      Datatype d = Datatype.fromJson(e.getKey());
      if (d == null) {
        continue;
      }
      JsonNode curve = e.getValue().get("gflops_efficiency");
      double[] th = new double[curve.size()];
      double[] ef = new double[curve.size()];
      for (int i = 0; i < th.length; i++) {
        th[i] = curve.get(i).get(0).asDouble();
        ef[i] = curve.get(i).get(1).asDouble();
      }
      m.put(d, new SystemSpec.ComputeRate(e.getValue().get("tflops").asDouble(), th, ef));
    }
    return m;
  }

  private static SystemSpec.MemorySpec mem(JsonNode o) {
    JsonNode curve = o.get("MB_efficiency");
    double[] th = new double[curve.size()];
    double[] ef = new double[curve.size()];
    for (int i = 0; i < th.length; i++) {
      th[i] = curve.get(i).get(0).asDouble();
      ef[i] = curve.get(i).get(1).asDouble();
    }
    return new SystemSpec.MemorySpec(o.get("GiB").asDouble(), o.get("GBps").asDouble(), th, ef);
  }
}
