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
 * PLACEHOLDER, replaced on merge by the real reader (with validation). Reads the three input
 * files with no checks beyond what is needed not to crash on well-formed inputs.
 */
public final class ConfigReader {
  private ConfigReader() {}

  private static final ObjectMapper MAPPER = new ObjectMapper();

  public static Application readApplication(Path file) throws ConfigError {
    JsonNode n = read(file);
    String name = file.getFileName().toString().replaceFirst("\\.json(\\.gz)?$", "");
    return new Application(name, n.path("hidden").asLong(), n.path("feedforward").asLong(),
        n.path("seq_size").asLong(), n.path("attn_heads").asLong(), n.path("attn_size").asLong(),
        n.path("num_blocks").asLong());
  }

  public static Execution readExecution(Path file) throws ConfigError {
    JsonNode n = read(file);
    String act = n.path("activation_function").isTextual() ? n.get("activation_function").asText() : "gelu";
    return new Execution(
        n.path("num_procs").asInt(), n.path("tensor_par").asInt(), n.path("pipeline_par").asInt(),
        n.path("data_par").asInt(), n.path("tensor_par_net").asInt(), n.path("pipeline_par_net").asInt(),
        n.path("data_par_net").asInt(), n.path("batch_size").asInt(), n.path("microbatch_size").asInt(),
        n.path("num_experts").asInt(1), n.path("top_k_experts").asInt(1), n.path("expert_par").asInt(1),
        n.path("expert_slice").asInt(1), n.path("data_par_exp").asInt(1), n.path("data_par_exp_net").asInt(),
        n.path("expert_par_net").asInt(), n.path("expert_slice_net").asInt(),
        Datatype.fromJson(n.path("datatype").asText()), n.path("fused_activation").asBoolean(),
        AttentionType.fromJson(n.path("attention_type").asText()),
        Recompute.fromJson(n.path("activation_recompute").asText()),
        n.path("pipeline_interleaving").asInt(), n.path("optimizer_sharding").asBoolean(),
        TpCommType.fromJson(n.path("tensor_par_comm_type").asText()),
        TpOverlap.fromJson(n.path("tensor_par_overlap").asText()), n.path("seq_par_ag_redo").asBoolean(),
        n.path("data_par_overlap").asBoolean(), n.path("weight_offload").asBoolean(),
        n.path("activations_offload").asBoolean(), n.path("optimizer_offload").asBoolean(),
        n.path("training").asBoolean(), n.path("model_MoE").asBoolean(), ActivationFunction.fromJson(act));
  }

  public static SystemSpec readSystem(Path file) throws ConfigError {
    JsonNode n = read(file);
    List<SystemSpec.NetworkSpec> nets = new ArrayList<>();
    for (JsonNode net : n.path("networks")) {
      Map<String, SystemSpec.OpSpec> ops = new LinkedHashMap<>();
      net.path("ops").properties().forEach(e -> {
        JsonNode v = e.getValue();
        ops.put(e.getKey(), new SystemSpec.OpSpec(v.path(0).asDouble(),
            v.path(1).isNumber() ? v.get(1).asDouble() : null,
            v.path(2).isNumber() ? v.get(2).asDouble() : null));
      });
      nets.add(new SystemSpec.NetworkSpec(net.path("bandwidth").asDouble(), net.path("efficiency").asDouble(),
          net.path("size").asLong(), net.path("latency").asDouble(), ops,
          net.path("must_be_filled").asBoolean(), net.path("processor_usage").asDouble()));
    }
    return new SystemSpec(file.getFileName().toString(), rates(n.path("matrix")), rates(n.path("vector")),
        memory(n.path("mem1")), memory(n.path("mem2")),
        ProcessingMode.fromJson(n.path("processing_mode").asText()), nets, n);
  }

  /** The real reader checks the three together; the placeholder accepts everything. */
  public static void checkRun(Application app, Execution exe, SystemSpec sys,
                              Path appFile, Path exeFile, Path sysFile) throws ConfigError {
  }

  private static Map<Datatype, SystemSpec.ComputeRate> rates(JsonNode n) {
    Map<Datatype, SystemSpec.ComputeRate> m = new EnumMap<>(Datatype.class);
    n.properties().forEach(e -> {
      Datatype d = Datatype.fromJson(e.getKey());
      if (d != null) {
        double[][] curve = curve(e.getValue().path("gflops_efficiency"));
        m.put(d, new SystemSpec.ComputeRate(e.getValue().path("tflops").asDouble(), curve[0], curve[1]));
      }
    });
    return m;
  }

  private static SystemSpec.MemorySpec memory(JsonNode n) {
    double[][] curve = curve(n.path("MB_efficiency"));
    return new SystemSpec.MemorySpec(n.path("GiB").asDouble(), n.path("GBps").asDouble(), curve[0], curve[1]);
  }

  private static double[][] curve(JsonNode pairs) {
    double[][] c = new double[2][pairs.size()];
    for (int i = 0; i < pairs.size(); i++) {
      c[0][i] = pairs.get(i).path(0).asDouble();
      c[1][i] = pairs.get(i).path(1).asDouble();
    }
    return c;
  }

  private static JsonNode read(Path file) throws ConfigError {
    String name = file.getFileName().toString();
    if (!name.endsWith(".json") && !name.endsWith(".json.gz")) {
      throw new ConfigError(file.toString(), "", "input files must end .json or .json.gz");
    }
    try (InputStream raw = Files.newInputStream(file);
         InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new ConfigError(file.toString(), "", "cannot read: " + e.getMessage());
    }
  }
}
