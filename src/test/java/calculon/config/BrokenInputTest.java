package calculon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-made broken inputs, each derived from a shipped good file: every one must give a
 * {@link ConfigError} whose message is one line and names the file and the field.
 */
class BrokenInputTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  @TempDir
  Path dir;

  /** Which role a file plays. */
  enum Role { MODEL, EXE, SYS }

  /** The three inputs of one run, as mutable JSON, written to the temp dir before reading. */
  static final class Fx {
    final Path dir;
    final ObjectNode model;
    final ObjectNode exe;
    final ObjectNode sys;
    Path modelPath;
    Path exePath;
    Path sysPath;
    final boolean[] write = {true, true, true};

    Fx(Path dir, boolean moe) throws IOException {
      this.dir = dir;
      String m = moe ? "models/gpt-1.8T.json" : "models/megatron-1T.json";
      String e = moe ? "examples/gpt_1.8_training_4096.json" : "examples/megatron_1T_training_4096_original.json";
      String s = moe ? "systems/H100_80g_sxm.json" : "systems/a100_80g.json";
      model = (ObjectNode) JSON.readTree(Paths.get(m).toFile());
      exe = (ObjectNode) JSON.readTree(Paths.get(e).toFile());
      sys = (ObjectNode) JSON.readTree(Paths.get(s).toFile());
      modelPath = dir.resolve(Paths.get(m).getFileName());
      exePath = dir.resolve(Paths.get(e).getFileName());
      sysPath = dir.resolve(Paths.get(s).getFileName());
    }

    Path path(Role r) { return r == Role.MODEL ? modelPath : r == Role.EXE ? exePath : sysPath; }

    ObjectNode node(Role r) { return r == Role.MODEL ? model : r == Role.EXE ? exe : sys; }

    /** Replace a file by raw bytes (and stop writing its JSON). */
    void raw(Role r, byte[] bytes) throws IOException {
      write[r.ordinal()] = false;
      Files.write(path(r), bytes);
    }

    void raw(Role r, String text) throws IOException { raw(r, text.getBytes(StandardCharsets.UTF_8)); }

    String text(Role r) throws IOException {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node(r));
    }

    ObjectNode net(int i) { return (ObjectNode) sys.get("networks").get(i); }

    ObjectNode ops(int i) { return (ObjectNode) net(i).get("ops"); }

    ObjectNode at(String dotted) {
      JsonNode n = sys;
      for (String p : dotted.split("\\.")) {
        n = n.get(p);
      }
      return (ObjectNode) n;
    }

    void run() throws Exception {
      for (Role r : Role.values()) {
        if (write[r.ordinal()]) {
          Files.writeString(path(r), text(r));
        }
      }
      Application app = ApplicationReader.read(modelPath);
      Execution exe = ExecutionReader.read(exePath);
      SystemSpec sys = SystemReader.read(sysPath);
      RunChecks.check(app, exe, sys, modelPath.toString(), exePath.toString(), sysPath.toString());
    }
  }

  interface Mutation {
    void apply(Fx f) throws Exception;
  }

  /** A broken input: the mutation, which file the error must name, its JSON path (null: the file itself) and a phrase. */
  record Case(boolean moe, Mutation mutation, Role file, String field, String phrase) {}

  private static Arguments dense(String name, Role file, String field, String phrase, Mutation m) {
    return Arguments.of(Named.of(name, new Case(false, m, file, field, phrase)));
  }

  private static Arguments moe(String name, Role file, String field, String phrase, Mutation m) {
    return Arguments.of(Named.of(name, new Case(true, m, file, field, phrase)));
  }

  private static ArrayNode arr(Object... xs) {
    ArrayNode a = F.arrayNode();
    for (Object x : xs) {
      if (x == null) {
        a.addNull();
      } else if (x instanceof Integer i) {
        a.add(i);
      } else if (x instanceof Double d) {
        a.add(d);
      } else if (x instanceof ArrayNode n) {
        a.add(n);
      } else {
        a.add(x.toString());
      }
    }
    return a;
  }

  static Stream<Arguments> brokenInputs() {
    Role M = Role.MODEL, E = Role.EXE, S = Role.SYS;
    return Stream.of(
        // ---- files
        dense("missing execution file", E, null, "file not found", f -> {
          f.write[1] = false;
          f.exePath = f.dir.resolve("no_such_execution.json");
        }),
        dense("directory given as the system file", S, null, "is a directory", f -> {
          f.write[2] = false;
          f.sysPath = f.dir.resolve("a_directory.json");
          Files.createDirectory(f.sysPath);
        }),
        dense("wrong extension", E, null, "must be a .json or .json.gz file", f -> {
          f.exePath = f.dir.resolve("execution.yaml");
        }),
        dense("truncated execution JSON", E, null, "invalid JSON at line", f ->
            f.raw(E, f.text(E).substring(0, f.text(E).length() / 2))),
        dense("empty model file", M, null, "is empty", f -> f.raw(M, "")),
        dense("trailing garbage after the object", S, null, "invalid JSON at line", f ->
            f.raw(S, f.text(S) + "\n]")),
        dense("a second object after the first", M, null, "more than one JSON value (a file holds one object)", f ->
            f.raw(M, f.text(M) + "\n{\"x\": 1}")),
        dense("duplicate key", M, null, "Duplicate field", f ->
            f.raw(M, "{\"hidden\": 1, \"hidden\": 2, \"feedforward\": 4, \"seq_size\": 8, \"attn_heads\": 1,"
                + " \"attn_size\": 1, \"num_blocks\": 1}")),
        dense("NaN token", S, null, "invalid JSON", f -> f.raw(S, f.text(S).replace("0.65", "NaN"))),
        dense("gzip extension on a plain file", S, null, "not a valid gzip", f -> {
          f.write[2] = false;
          f.sysPath = f.dir.resolve("a100_80g.json.gz");
          Files.writeString(f.sysPath, f.text(S));
        }),
        dense("truncated gzip", E, null, "truncated", f -> {
          f.write[1] = false;
          f.exePath = f.dir.resolve("exe.json.gz");
          byte[] gz = gzip(f.text(E));
          Files.write(f.exePath, Arrays.copyOf(gz, gz.length / 2));
        }),
        dense("model is a list, not an object", M, "", "must be a JSON object", f -> f.raw(M, "[1, 2, 3]")),
        dense("execution is a string", E, "", "must be a JSON object", f -> f.raw(E, "\"hello\"")),
        // ---- model
        dense("model: hidden missing", M, "hidden", "missing", f -> f.model.remove("hidden")),
        dense("model: negative hidden", M, "hidden", "must be a positive integer, got -2", f -> f.model.put("hidden", -2)),
        dense("model: seq_size as a string", M, "seq_size", "got \"2048\"", f -> f.model.put("seq_size", "2048")),
        dense("model: num_blocks fractional", M, "num_blocks", "got 2.5", f -> f.model.put("num_blocks", 2.5)),
        dense("model: attn_heads zero", M, "attn_heads", "got 0", f -> f.model.put("attn_heads", 0)),
        // ---- execution: types and keys
        dense("exe: negative tensor_par", E, "tensor_par", "must be a positive integer, got -2", f -> f.exe.put("tensor_par", -2)),
        dense("exe: tensor_par fractional", E, "tensor_par", "must be an integer, got 2.5", f -> f.exe.put("tensor_par", 2.5)),
        dense("exe: tensor_par as a string", E, "tensor_par", "must be an integer, got \"8\"", f -> f.exe.put("tensor_par", "8")),
        dense("exe: tensor_par as a boolean", E, "tensor_par", "must be an integer, got true", f -> f.exe.put("tensor_par", true)),
        dense("exe: num_procs beyond int", E, "num_procs", "too large", f -> f.exe.put("num_procs", 10_000_000_000L)),
        dense("exe: training as the string \"false\"", E, "training", "must be true or false, got \"false\"", f -> f.exe.put("training", "false")),
        dense("exe: unknown key (typo)", E, "tensor_parr", "did you mean \"tensor_par\"", f -> f.exe.put("tensor_parr", 8)),
        dense("exe: missing key", E, "num_procs", "missing", f -> f.exe.remove("num_procs")),
        dense("exe: some MoE keys but not all", E, "expert_par", "missing: expert_par, data_par_exp", f -> {
          f.exe.remove("expert_par");
          f.exe.remove("data_par_exp");
        }),
        dense("exe: bad attention_type", E, "attention_type", "got \"sparse\"", f -> f.exe.put("attention_type", "sparse")),
        dense("exe: bad activation_recompute", E, "activation_recompute", "\"full\", \"attn_only\", \"none\"", f -> f.exe.put("activation_recompute", "some")),
        dense("exe: unknown datatype", E, "datatype", "got \"int8\"", f -> f.exe.put("datatype", "int8")),
        dense("exe: datatype as a number", E, "datatype", "must be a string", f -> f.exe.put("datatype", 16)),
        dense("exe: bad activation_function", E, "activation_function", "got \"relu\"", f -> f.exe.put("activation_function", "relu")),
        dense("exe: bad tensor_par_overlap", E, "tensor_par_overlap", "got \"always\"", f -> f.exe.put("tensor_par_overlap", "always")),
        // ---- execution: rules
        dense("exe: batch not divisible by DP", E, "batch_size", "divisible by data_par", f -> f.exe.put("batch_size", 100)),
        dense("exe: microbatch does not divide the local batch", E, "microbatch_size", "must divide the local batch", f -> f.exe.put("microbatch_size", 3)),
        dense("exe: recompute without training", E, "activation_recompute", "needs training", f -> f.exe.put("training", false)),
        dense("exe: interleaving with PP 1", E, "pipeline_interleaving", "must be 1 when pipeline_par is 1", f -> {
          f.exe.put("pipeline_par", 1);
          f.exe.put("pipeline_interleaving", 2);
        }),
        dense("exe: interleaving zero", E, "pipeline_interleaving", "positive", f -> f.exe.put("pipeline_interleaving", 0)),
        dense("exe: optimizer sharding with DP 1", E, "optimizer_sharding", "needs data_par > 1", f -> f.exe.put("data_par", 1)),
        dense("exe: TP overlap with TP 1", E, "tensor_par_overlap", "needs tensor_par > 1", f -> {
          f.exe.put("tensor_par", 1);
          f.exe.put("tensor_par_overlap", "ring");
        }),
        dense("exe: seq_par_ag_redo with ar (dense)", E, "seq_par_ag_redo", "rs_ag", f -> f.exe.put("seq_par_ag_redo", true)),
        dense("exe: seq_par_ag_redo with full recompute", E, "seq_par_ag_redo", "\"full\"", f -> {
          f.exe.put("seq_par_ag_redo", true);
          f.exe.put("tensor_par_comm_type", "rs_ag");
          f.exe.put("activation_recompute", "full");
        }),
        dense("exe: DP overlap in inference", E, "data_par_overlap", "needs training", f -> {
          f.exe.put("training", false);
          f.exe.put("activation_recompute", "none");
        }),
        dense("exe: optimizer offload in inference", E, "optimizer_offload", "needs training", f -> {
          f.exe.put("training", false);
          f.exe.put("activation_recompute", "none");
          f.exe.put("data_par_overlap", false);
          f.exe.put("optimizer_offload", true);
        }),
        dense("exe: expert parallelism in a dense run", E, "expert_par", "must be 1 when model_MoE is false", f -> {
          f.exe.put("num_experts", 2);
          f.exe.put("expert_par", 2);
        }),
        dense("exe: zero experts", E, "num_experts", "positive", f -> f.exe.put("num_experts", 0)),
        dense("exe: negative network index", E, "tensor_par_net", "0 or more", f -> f.exe.put("tensor_par_net", -1)),
        // ---- cross-file rules (dense)
        dense("run: pipeline_par_net beyond the system's tiers", E, "pipeline_par_net", "has 2 networks", f -> f.exe.put("pipeline_par_net", 5)),
        dense("run: datatype the system lacks", E, "datatype", "not supported by", f -> f.exe.put("datatype", "float8")),
        dense("run: PP larger than num_blocks", E, "pipeline_par", "num_blocks (128", f -> {
          f.exe.put("pipeline_par", 256);
          f.exe.put("data_par", 2);
          f.exe.put("batch_size", 2);
        }),
        dense("run: TP does not divide hidden", E, "tensor_par", "hidden", f -> f.model.put("hidden", 25604)),
        dense("run: TP does not divide attn_heads (dense)", E, "tensor_par", "attn_heads", f -> f.model.put("attn_heads", 100)),
        dense("run: TP does not divide microbatch*seq with rs_ag", M, "seq_size", "microbatch_size*seq_size", f -> {
          f.exe.put("tensor_par_comm_type", "rs_ag");
          f.model.put("seq_size", 2047);
        }),
        dense("run: vector tflops 0 for the datatype", S, "vector.float16.tflops", "divide by zero", f ->
            f.at("vector.float16").put("tflops", 0)),
        dense("run: vector unit faster than the matrix unit", S, "vector.float16.tflops",
            "cannot exceed matrix.float16.tflops", f -> f.at("vector.float16").put("tflops", 1000)),
        dense("run: matrix curve does not reach 0", S, "matrix.float16.gflops_efficiency", "threshold of 0", f ->
            ((ArrayNode) f.at("matrix.float16").get("gflops_efficiency")).remove(3)),
        dense("run: mem1 curve does not reach 0", S, "mem1.MB_efficiency", "threshold of 0", f ->
            ((ArrayNode) f.at("mem1").get("MB_efficiency")).remove(3)),
        // ---- system
        dense("sys: missing mem2", S, "mem2", "missing", f -> f.sys.remove("mem2")),
        dense("sys: unknown top-level key", S, "comment", "unknown key", f -> f.sys.put("comment", "hi")),
        dense("sys: unknown datatype name", S, "matrix.int8", "unknown datatype", f ->
            f.at("matrix").set("int8", f.at("matrix.float16").deepCopy())),
        dense("sys: negative tflops", S, "matrix.float16.tflops", "0 or more", f -> f.at("matrix.float16").put("tflops", -1)),
        dense("sys: tflops as a string", S, "matrix.float16.tflops", "must be a number", f -> f.at("matrix.float16").put("tflops", "312")),
        dense("sys: efficiency above 1", S, "matrix.float16.gflops_efficiency[1][1]", "(0, 1]", f ->
            ((ArrayNode) f.at("matrix.float16").get("gflops_efficiency")).set(1, arr(16, 1.5))),
        dense("sys: curve thresholds increase", S, "vector.float16.gflops_efficiency[1][0]", "strictly decrease", f ->
            ((ArrayNode) f.at("vector.float16").get("gflops_efficiency")).set(1, arr(32, 0.5))),
        dense("sys: curve entry is not a pair", S, "mem2.MB_efficiency[0]", "pair", f ->
            ((ArrayNode) f.at("mem2").get("MB_efficiency")).set(0, arr(100, 0.9, 1))),
        dense("sys: mem1 GBps zero", S, "mem1.GBps", "must be a positive number, got 0", f -> f.at("mem1").put("GBps", 0)),
        dense("sys: negative mem2 GiB", S, "mem2.GiB", "0 or more", f -> f.at("mem2").put("GiB", -1)),
        dense("sys: mem1 GiB zero", S, "mem1.GiB", "must be > 0, got 0", f -> f.at("mem1").put("GiB", 0)),
        dense("sys: mem1 GiB negative", S, "mem1.GiB", "must be > 0, got -5", f -> f.at("mem1").put("GiB", -5)),
        dense("sys: bad processing_mode", S, "processing_mode", "got \"fast\"", f -> f.sys.put("processing_mode", "fast")),
        dense("sys: no networks", S, "networks", "at least one", f -> f.sys.set("networks", F.arrayNode())),
        dense("sys: network missing latency", S, "networks[1].latency", "missing", f -> f.net(1).remove("latency")),
        dense("sys: network with an extra key", S, "networks[1].name", "unknown key", f -> f.net(1).put("name", "IB")),
        dense("sys: bandwidth zero", S, "networks[0].bandwidth", "must be a positive number (GB/s), got 0", f -> f.net(0).put("bandwidth", 0)),
        dense("sys: network efficiency above 1", S, "networks[0].efficiency", "(0, 1]", f -> f.net(0).put("efficiency", 1.5)),
        dense("sys: negative network size", S, "networks[0].size", "0 or more", f -> f.net(0).put("size", -1)),
        dense("sys: fractional network size", S, "networks[0].size", "must be an integer", f -> f.net(0).put("size", 4.5)),
        dense("sys: latency as a string", S, "networks[0].latency", "must be a number", f -> f.net(0).put("latency", "1us")),
        dense("sys: must_be_filled as a string", S, "networks[0].must_be_filled", "true or false", f -> f.net(0).put("must_be_filled", "false")),
        dense("sys: processor_usage 1", S, "networks[0].processor_usage", "[0, 1)", f -> f.net(0).put("processor_usage", 1.0)),
        dense("sys: op missing", S, "networks[0].ops.all_gather", "missing", f -> f.ops(0).remove("all_gather")),
        dense("sys: unknown op", S, "networks[0].ops.broadcast", "unknown key", f -> f.ops(0).set("broadcast", arr(1, 0))),
        dense("sys: collective without offset", S, "networks[0].ops.reduce_scatter[1]", "must be a number", f ->
            f.ops(0).set("reduce_scatter", arr(1, null))),
        dense("sys: p2p with an offset", S, "networks[0].ops.p2p[1]", "must be null", f -> f.ops(0).set("p2p", arr(1, 0))),
        dense("sys: op scalar zero", S, "networks[1].ops.all_reduce[0]", "scalar must be a positive number, got 0", f -> f.ops(1).set("all_reduce", arr(0, 1))),
        dense("sys: op not a list", S, "networks[1].ops.p2p", "[scalar, null]", f -> f.ops(1).put("p2p", "fast")),
        // ---- MoE runs
        moe("moe: all_to_all missing on the EP tier", S, "networks[1].ops.all_to_all", "needed because this run uses expert parallelism", f ->
            f.ops(1).remove("all_to_all")),
        moe("moe: num_procs != EP*ES*PP*DP_exp", E, "num_procs", "expert_par*expert_slice*pipeline_par*data_par_exp", f -> f.exe.put("data_par_exp", 4)),
        moe("moe: num_procs != TP*PP*DP", E, "num_procs", "tensor_par*pipeline_par*data_par", f -> f.exe.put("data_par", 64)),
        moe("moe: top_k above num_experts", E, "top_k_experts", "cannot exceed num_experts", f -> f.exe.put("top_k_experts", 32)),
        moe("moe: top_k zero", E, "top_k_experts", "positive", f -> f.exe.put("top_k_experts", 0)),
        moe("moe: EP does not divide num_experts", E, "expert_par", "must divide num_experts", f -> f.exe.put("num_experts", 24)),
        moe("moe: EP above num_experts", E, "expert_par", "cannot exceed num_experts", f -> f.exe.put("num_experts", 8)),
        moe("moe: expert_slice_net out of range", E, "expert_slice_net", "does not exist", f -> f.exe.put("expert_slice_net", 2)),
        moe("moe: model_MoE as a string", E, "model_MoE", "true or false", f -> f.exe.put("model_MoE", "true")),
        moe("moe: float4 with zero vector tflops", S, "vector.float4.tflops", "divide by zero", f -> f.exe.put("datatype", "float4")),
        moe("moe: mbs*seq not divisible by TP", M, "seq_size", "microbatch_size*seq_size", f -> {
          f.model.put("seq_size", 4095);
        }),
        moe("moe: overlap needs heads*size divisible by TP", E, "tensor_par", "attn_heads*attn_size", f -> {
          f.exe.put("tensor_par_overlap", "ring");
          f.model.put("attn_heads", 95);
          f.model.put("attn_size", 1);
        }),
        // issue 13: one strictness for all files (model keys as execution and system keys)
        dense("model: misspelt num_kv_heads", M, "num_kv_head", "unknown key (did you mean \"num_kv_heads\"?)",
            f -> f.model.put("num_kv_head", 8)),
        dense("model: unknown top-level key lists the known ones", M, "hiddden", "a model file has hidden, feedforward",
            f -> f.model.put("hiddden", 8)),
        dense("model: misspelt nested moe key", M, "moe.num_expert", "did you mean \"num_experts\"?",
            f -> f.model.putObject("moe").put("num_expert", 8).put("top_k", 2)),
        dense("model: moe's error lists moe's keys", M, "moe.experts", "moe has num_experts, top_k, expert_feedforward, "
            + "shared_experts, shared_feedforward, first_dense_layers, layer_interval, capacity_factor",
            f -> f.model.putObject("moe").put("num_experts", 8).put("top_k", 2).put("experts", 1)),
        dense("model: misspelt nested mla key", M, "mla.kv_lora_rnk", "did you mean \"kv_lora_rank\"?",
            f -> f.model.putObject("mla").put("kv_lora_rnk", 512)),
        // layer options (flash attention, per-module recompute, dropout, sliding window)
        dense("exe: flash_attention as a string", E, "flash_attention", "must be true or false",
            f -> f.exe.put("flash_attention", "yes")),
        dense("exe: recompute_modules not a list", E, "recompute_modules", "must be a list",
            f -> f.exe.put("recompute_modules", "mlp")),
        dense("exe: unknown recompute module", E, "recompute_modules[0]", "must be one of \"core_attn\", \"layernorm\", \"mlp\"",
            f -> f.exe.putArray("recompute_modules").add("attention")),
        dense("exe: recompute module twice", E, "recompute_modules[1]", "\"mlp\" is listed twice",
            f -> f.exe.putArray("recompute_modules").add("mlp").add("mlp")),
        dense("exe: op_sac beside another module", E, "recompute_modules", "can only be listed with \"layernorm\"",
            f -> f.exe.putArray("recompute_modules").add("op_sac").add("core_attn")),
        // a well-formed recipe on a 16-bit run is ignored with a note (IgnoredExecutionKeysTest); a bad name is not
        dense("exe: unknown fp8_recipe on a 16-bit run", E, "fp8_recipe", "must be one of \"delayed\"",
            f -> f.exe.put("fp8_recipe", "rowwise")),
        dense("exe: unknown elementwise_kernels", E, "elementwise_kernels", "must be one of \"fused\", \"eager\", got \"compiled\"",
            f -> f.exe.put("elementwise_kernels", "compiled")),
        dense("exe: unknown loss_kernel", E, "loss_kernel", "must be one of \"fused\", \"eager\", \"megatron\", got \"liger\"",
            f -> f.exe.put("loss_kernel", "liger")),
        dense("exe: loss_kernel not a string", E, "loss_kernel", "must be",
            f -> f.exe.put("loss_kernel", 3)),
        dense("exe: unknown context_par_impl", E, "context_par_impl",
            "must be one of \"transformer_engine\", \"pytorch\", got \"megatron\"",
            f -> f.exe.put("context_par_impl", "megatron")),
        dense("exe: unknown fsdp_impl", E, "fsdp_impl",
            "must be one of \"megatron\", \"pytorch\", got \"deepspeed\"",
            f -> f.exe.put("fsdp_impl", "deepspeed")),
        dense("exe: unknown optimizer_kernel", E, "optimizer_kernel",
            "must be one of \"calculon\", \"fused\", \"torch_fused\", \"foreach\", got \"apex\"",
            f -> f.exe.put("optimizer_kernel", "apex")),
        dense("exe: optimizer_kernel not a string", E, "optimizer_kernel", "must be",
            f -> f.exe.put("optimizer_kernel", true)),
        dense("exe: recompute modules with full recompute", E, "recompute_modules", "must be empty with activation_recompute \"full\"",
            f -> {
              f.exe.put("activation_recompute", "full");
              f.exe.putArray("recompute_modules").add("layernorm");
            }),
        dense("model: dropout above 1", M, "attention_dropout", "must be a probability between 0 and 1",
            f -> f.model.put("attention_dropout", 1.5)),
        dense("model: negative hidden dropout", M, "hidden_dropout", "must be a probability between 0 and 1",
            f -> f.model.put("hidden_dropout", -0.1)),
        dense("model: window pattern without a window", M, "sliding_window_pattern", "needs sliding_window",
            f -> f.model.put("sliding_window_pattern", 2)),
        dense("model: zero window", M, "sliding_window", "must be a positive integer",
            f -> f.model.put("sliding_window", 0)),
        dense("model: layer_types of the wrong length", M, "layer_types", "must list one entry per block",
            f -> {
              f.model.put("sliding_window", 4096);
              f.model.putArray("layer_types").add("sliding_attention");
            }),
        dense("model: unknown layer type", M, "layer_types[1]", "must be sliding_attention or full_attention",
            f -> {
              f.model.put("sliding_window", 4096).put("num_blocks", 2);
              f.model.putArray("layer_types").add("sliding_attention").add("local");
            }),
        dense("model: pattern and layer_types both", M, "layer_types", "either sliding_window_pattern or layer_types",
            f -> {
              f.model.put("sliding_window", 4096).put("sliding_window_pattern", 2);
              f.model.putArray("layer_types");
            }),
        dense("dense: num_procs is not TP*PP*DP", E, "num_procs", "must equal tensor_par*pipeline_par*data_par = 8*4*128 = 4096, got 4000",
            f -> f.exe.put("num_procs", 4000)),
        // parallel keys (ZeRO stage, context parallelism, uneven stages), schedule and MoE exchange keys
        dense("exe: zero_stage 4", E, "zero_stage", "must be 0, 1, 2 or 3, got 4", f -> f.exe.put("zero_stage", 4)),
        dense("exe: zero_stage as a string", E, "zero_stage", "must be an integer", f -> f.exe.put("zero_stage", "1")),
        dense("exe: zero_stage against optimizer_sharding", E, "zero_stage", "conflicts with optimizer_sharding",
            f -> f.exe.put("optimizer_sharding", true).put("zero_stage", 0)),
        dense("exe: context_par zero", E, "context_par", "must be a positive integer, got 0", f -> f.exe.put("context_par", 0)),
        dense("exe: context_par outside num_procs", E, "num_procs", "must equal tensor_par*context_par*pipeline_par*data_par",
            f -> f.exe.put("context_par", 2)),
        dense("exe: context_par does not split the sequence", E, "context_par", "must split seq_size (2048",
            f -> f.exe.put("context_par", 3).put("num_procs", 12288)),
        dense("exe: context_par_net beyond the tiers", E, "context_par_net", "network tier 9 does not exist",
            f -> f.exe.put("context_par_net", 9)),
        dense("exe: unknown CP comm type", E, "context_par_comm_type", "must be one of \"p2p\", \"a2a\"",
            f -> f.exe.put("context_par_comm_type", "ring")),
        dense("exe: first-stage blocks leave uneven stages", E, "blocks_in_first_stage", "each needs the same number",
            f -> f.exe.put("blocks_in_first_stage", 3)),
        dense("exe: zero last-stage blocks", E, "blocks_in_last_stage", "must be a positive integer",
            f -> f.exe.put("blocks_in_last_stage", 0)),
        dense("exe: unknown pipeline schedule", E, "pipeline_schedule", "must be one of \"1f1b\"",
            f -> f.exe.put("pipeline_schedule", "gpipe")),
        dense("exe: pipeline p2p overlap as a string", E, "pipeline_p2p_overlap", "must be true or false",
            f -> f.exe.put("pipeline_p2p_overlap", "yes")),
        // a well-formed moe_* key on a dense run is ignored with a note (IgnoredExecutionKeysTest); a bad value is not
        dense("exe: unknown MoE dispatcher in a dense run", E, "moe_dispatcher", "must be one of \"alltoall\", \"allgather\"",
            f -> f.exe.put("moe_dispatcher", "deepep")),
        dense("exe: zero domains per token in a dense run", E, "moe_max_domains_per_token", "must be a positive integer",
            f -> f.exe.put("moe_max_domains_per_token", 0)),
        dense("exe: a2a overlap as a string in a dense run", E, "moe_a2a_overlap", "must be true or false",
            f -> f.exe.put("moe_a2a_overlap", "no")),
        moe("moe exe: unknown dispatcher", E, "moe_dispatcher", "must be one of \"alltoall\", \"allgather\"",
            f -> f.exe.put("moe_dispatcher", "deepep")),
        moe("moe exe: a2a overlap as a string", E, "moe_a2a_overlap", "must be true or false",
            f -> f.exe.put("moe_a2a_overlap", "yes")),
        moe("moe exe: zero domains per token", E, "moe_max_domains_per_token", "must be a positive integer",
            f -> f.exe.put("moe_max_domains_per_token", 0)),
        moe("moe exe: dispatch datatype with allgather", E, "moe_dispatch_datatype", "(moe_dispatcher is \"allgather\")",
            f -> f.exe.put("moe_dispatcher", "allgather").put("moe_dispatch_datatype", "float8")));
  }

  private static byte[] gzip(String text) throws IOException {
    java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bos.toByteArray();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenInputs")
  void brokenInputIsAOneLineConfigError(Case c) throws Exception {
    Fx f = new Fx(dir, c.moe());
    c.mutation().apply(f);
    Throwable t = catchThrowable(f::run);
    assertThat(t).as("expected a ConfigError").isInstanceOf(ConfigError.class);
    ConfigError e = (ConfigError) t;
    String msg = e.getMessage();
    if (Boolean.getBoolean("broken.verbose")) {
      System.out.println("BROKEN " + msg.replace(dir.toString(), "<tmp>"));
    }
    assertThat(msg).doesNotContain("\n").doesNotContain("\r");
    String file = f.path(c.file()).toString();
    assertThat(e.file()).isEqualTo(file);
    assertThat(msg).startsWith(file + ": ");
    if (c.field() == null) {
      assertThat(e.field()).isNull();
    } else if (c.field().isEmpty()) {
      assertThat(e.field()).isEmpty();
    } else {
      assertThat(e.field()).isEqualTo(c.field());
      assertThat(msg).contains(": " + c.field() + ": ");
    }
    assertThat(msg).contains(c.phrase());
  }

  // ---- good inputs stay good

  @Test
  void shippedDenseAndMoeRunsPass() throws Exception {
    assertThatCode(() -> new Fx(dir, false).run()).doesNotThrowAnyException();
    assertThatCode(() -> new Fx(dir, true).run()).doesNotThrowAnyException();
  }

  @Test
  void gzippedFilesAreRead() throws Exception {
    Fx f = new Fx(dir, true);
    f.write[2] = false;
    f.sysPath = dir.resolve("H100_80g_sxm.json.gz");
    Files.write(f.sysPath, gzip(f.text(Role.SYS)));
    f.run();
    assertThat(SystemReader.read(f.sysPath).name()).isEqualTo("H100_80g_sxm");
  }

  @Test
  void originalCalculonFormatReadsAsDense() throws Exception {
    Fx f = new Fx(dir, false);
    for (String k : ExecutionReader.MOE_EXECUTION_KEYS) {
      f.exe.remove(k);
    }
    for (String k : ParallelOptions.KEYS) {
      f.exe.remove(k);
    }
    assertThat(f.exe.size()).isEqualTo(23);
    for (int i = 0; i < 2; i++) {
      f.ops(i).remove("all_to_all");
    }
    f.run();
    Execution e = ExecutionReader.read(f.exePath);
    assertThat(e.modelMoE()).isFalse();
    assertThat(e.numExperts()).isEqualTo(1);
    assertThat(e.topKExperts()).isEqualTo(1);
    assertThat(e.expertPar()).isEqualTo(1);
    assertThat(e.expertSlice()).isEqualTo(1);
    assertThat(e.dataParExp()).isEqualTo(1);
    assertThat(e.expertParNet()).isZero();
    assertThat(e.activationFunction()).isEqualTo(ActivationFunction.GELU);
  }

  @Test
  void moeAcceptsSeqParAgRedoWithArBecauseTpForcesRsAg() throws Exception {
    Fx f = new Fx(dir, true);
    f.exe.put("seq_par_ag_redo", true);
    f.exe.put("tensor_par_comm_type", "ar");
    f.run();
  }

  @Test
  void nullActivationFunctionMeansGelu() throws Exception {
    Fx f = new Fx(dir, true);
    f.exe.putNull("activation_function");
    f.run();
    assertThat(ExecutionReader.read(f.exePath).activationFunction()).isEqualTo(ActivationFunction.GELU);
  }

  @Test
  void extraModelKeysAreIgnoredAndNameIsTheBaseName() throws Exception {
    Fx f = new Fx(dir, false);
    f.model.put("vocab_size", 51200);
    f.run();
    Application app = ApplicationReader.read(f.modelPath);
    assertThat(app.name()).isEqualTo("megatron-1T");
    assertThat(app.hidden()).isEqualTo(25600);
  }

  @Test
  void systemKeepsRawJsonAndValues() throws Exception {
    SystemSpec s = SystemReader.read(Paths.get("systems/H100_80g_sxm.json"));
    assertThat(s.raw()).isInstanceOf(JsonNode.class);
    assertThat(s.name()).isEqualTo("H100_80g_sxm");
    assertThat(s.vector().get(Datatype.FLOAT4).tflops()).isZero();
    assertThat(s.networks()).hasSize(2);
    assertThat(s.networks().get(0).ops().get("all_to_all").efficiency()).isEqualTo(0.6);
    assertThat(s.networks().get(0).ops().get("p2p").offset()).isNull();
    assertThat(s.processingMode()).isEqualTo(ProcessingMode.NO_OVERLAP);
  }

  @Test
  void everyShippedFileReads() throws Exception {
    for (String d : new String[] {"models", "examples", "systems"}) {
      try (Stream<Path> s = Files.list(Paths.get(d))) {
        for (Path p : s.filter(p -> p.toString().endsWith(".json")).toList()) {
          assertThatCode(() -> {
            switch (d) {
              case "models" -> ApplicationReader.read(p);
              case "examples" -> ExecutionReader.read(p);
              default -> SystemReader.read(p);
            }
          }).as(p.toString()).doesNotThrowAnyException();
        }
      }
    }
  }
}
