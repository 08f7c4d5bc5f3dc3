package calculon.config;

import static calculon.config.JsonFields.describe;
import static calculon.config.JsonFields.fmt;
import static calculon.config.JsonFields.index;
import static calculon.config.JsonFields.join;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a system file: the matrix and vector compute rates per datatype with their efficiency
 * curves, the two memory levels, the processing mode and the network tiers with their collective
 * ops (the original Calculon's {@code System} format, {@code calculon/system.py}), plus the
 * optional price and power keys ({@link SystemEconomics}), measured fused-attention kernel curves
 * ({@link #ATTENTION_KERNELS}) and the GPU's streaming multiprocessors
 * ({@link #STREAMING_MULTIPROCESSORS}) and its compute capability ({@link #COMPUTE_CAPABILITY}).
 * Values outside physical ranges (see {@link #MIN_RATE}) are refused so the model's times stay finite. Every failure is a {@link ConfigError} with the
 * one-line message {@code <file>: <json path>: <rule>}.
 */
public final class SystemReader {

  /** Top-level keys of a system file. */
  public static final List<String> SYSTEM_KEYS =
      List.of("matrix", "vector", "mem1", "mem2", "processing_mode", "networks");

  static final Set<String> COMPUTE_KEYS = Set.of("tflops", "gflops_efficiency");
  static final Set<String> MEMORY_KEYS = Set.of("GiB", "GBps", "MB_efficiency");
  static final List<String> NETWORK_KEYS = List.of(
      "bandwidth", "efficiency", "size", "latency", "ops", "must_be_filled", "processor_usage");
  private static final List<String> COLLECTIVE_OPS = List.of("reduce_scatter", "all_gather", "all_reduce");
  private static final List<String> REQUIRED_OPS =
      List.of("p2p", "reduce_scatter", "all_gather", "all_reduce");
  static final Set<String> ALLOWED_OPS =
      new LinkedHashSet<>(List.of("p2p", "reduce_scatter", "all_gather", "all_reduce", "all_to_all"));
  /** The datatype names a processor ({@code matrix}, {@code vector}) may list. */
  private static final List<String> DATATYPE_NAMES = Arrays.stream(Datatype.values()).map(d -> d.jsonName).toList();

  /**
   * Physical ranges of system values, six or more orders of magnitude beyond any shipped system
   * (1e-6 TFLOP/s is a megaflop per second, 1e9 TFLOP/s a zettaflop per second). Outside them the
   * model's sums of times overflow to infinity or underflow to zero, so they are rejected here.
   */
  static final double MIN_RATE = 1e-6;
  static final double MAX_RATE = 1e9;
  /** Smallest efficiency (curves, tiers, ops): below it a time overflows as surely as with a zero rate. */
  static final double MIN_EFFICIENCY = 1e-6;
  /** Largest op scalar and offset: bytes on the wire per byte sent. */
  static final double MAX_OP_FACTOR = 1e6;
  /** Largest network latency, seconds. */
  static final double MAX_LATENCY_SECONDS = 1e3;
  /**
   * Optional system key: the GPU's streaming multiprocessors (an integer). Transformer Engine's
   * userbuffers overlap ({@code tensor_par_overlap: userbuffers}) takes 16 of them from the matmuls
   * beside its pipelined and bulk transfers; without the key an H100's 132 is assumed.
   */
  public static final String STREAMING_MULTIPROCESSORS = "streaming_multiprocessors";

  /**
   * Optional system key: the GPU's CUDA compute capability, a string "MAJOR.MINOR"
   * ({@link SystemSpec.ComputeCapability}); read for {@code fp8_recipe: mxfp8}, which needs
   * Blackwell's block-scaled tensor cores ({@link Fp8Recipe#runsOn}).
   */
  public static final String COMPUTE_CAPABILITY = "compute_capability";

  /** "MAJOR.MINOR", each part one to three digits. */
  private static final java.util.regex.Pattern COMPUTE_CAPABILITY_FORMAT =
      java.util.regex.Pattern.compile("([0-9]{1,3})\\.([0-9]{1,3})");

  /** Optional system key: measured fused-attention kernel speeds ({@link SystemSpec.AttentionKernels}). */
  public static final String ATTENTION_KERNELS = "attention_kernels";

  private SystemReader() {}

  /** Reads the system file {@code file} ({@link JsonFiles#read}, then {@link #read(JsonNode, String)}). */
  public static SystemSpec read(Path file) throws ConfigError {
    return read(JsonFiles.read(file), file.toString());
  }

  /** A system: processors, memories, processing mode and network tiers (see the class comment). */
  public static SystemSpec read(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "a system file");
    FileKind.check(node, file, FileKind.SYSTEM);
    String keysHint = "a system file has exactly " + String.join(", ", SYSTEM_KEYS)
        + " (and optionally " + String.join(", ", SystemEconomics.KEYS) + ", " + ATTENTION_KERNELS
        + ", " + STREAMING_MULTIPROCESSORS + ", " + COMPUTE_CAPABILITY + ")";
    Set<String> allowed = new LinkedHashSet<>(SYSTEM_KEYS);
    allowed.addAll(SystemEconomics.KEYS);
    allowed.add(ATTENTION_KERNELS);
    allowed.add(STREAMING_MULTIPROCESSORS);
    allowed.add(COMPUTE_CAPABILITY);
    j.noUnknownKeys(node, "", allowed, keysHint);
    for (String k : SYSTEM_KEYS) {
      j.member(node, "", k, keysHint);
    }
    Map<Datatype, SystemSpec.ComputeRate> matrix = readProcessor(j, node.get("matrix"), "matrix");
    Map<Datatype, SystemSpec.ComputeRate> vector = readProcessor(j, node.get("vector"), "vector");
    SystemSpec.MemorySpec mem1 = readMemory(j, node.get("mem1"), "mem1");
    SystemSpec.MemorySpec mem2 = readMemory(j, node.get("mem2"), "mem2");
    ProcessingMode mode = j.enumKey(node, "processing_mode", ProcessingMode.values(), x -> x.jsonName);
    JsonNode nets = j.array(node.get("networks"), "networks");
    if (nets.isEmpty()) {
      throw j.error("networks", "must list at least one network tier");
    }
    List<SystemSpec.NetworkSpec> networks = new ArrayList<>();
    for (int i = 0; i < nets.size(); i++) {
      networks.add(readNetwork(j, nets.get(i), index("networks", i)));
    }
    // price and power: optional, checked here, read by SystemEconomics.of (sweeps)
    SystemEconomics.read(j, node, networks.size());
    SystemSpec.AttentionKernels kernels = node.has(ATTENTION_KERNELS)
        ? readAttentionKernels(j, node.get(ATTENTION_KERNELS), matrix) : null;
    Integer sms = null;
    if (node.has(STREAMING_MULTIPROCESSORS)) {
      sms = j.intValue(node.get(STREAMING_MULTIPROCESSORS), STREAMING_MULTIPROCESSORS);
      if (sms < 1) {
        throw j.error(STREAMING_MULTIPROCESSORS, "must be a positive integer, got " + sms);
      }
    }
    SystemSpec.ComputeCapability cc = node.has(COMPUTE_CAPABILITY)
        ? readComputeCapability(j, node.get(COMPUTE_CAPABILITY)) : null;
    return new SystemSpec(JsonFiles.baseName(file), Collections.unmodifiableMap(matrix),
        Collections.unmodifiableMap(vector), mem1, mem2, mode, Collections.unmodifiableList(networks),
        kernels, sms, cc, node);
  }

  /** {@code "compute_capability": "MAJOR.MINOR"}, as nvidia-smi prints it; major at least 1. */
  private static SystemSpec.ComputeCapability readComputeCapability(JsonFields j, JsonNode v) throws ConfigError {
    String rule = "must be a string \"MAJOR.MINOR\" as nvidia-smi --query-gpu=compute_cap prints it "
        + "(\"9.0\" for H100 and H200, \"10.0\" for B200 and GB200, \"10.3\" for GB300)";
    if (v == null || !v.isTextual()) {
      throw j.error(COMPUTE_CAPABILITY, rule + ", got " + describe(v));
    }
    java.util.regex.Matcher m = COMPUTE_CAPABILITY_FORMAT.matcher(v.textValue());
    if (!m.matches() || Integer.parseInt(m.group(1)) < 1) {
      throw j.error(COMPUTE_CAPABILITY, rule + ", got " + describe(v));
    }
    return new SystemSpec.ComputeCapability(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
  }
  /**
   * {@code "attention_kernels": {"default": NAME, "kernels": {NAME: {"fw_efficiency": [[tokens,
   * eff], ...], "bw_efficiency": [...]}, ...}}}: at least one kernel, the default among them, and a
   * 16-bit matrix rate for the efficiencies to scale.
   */
  private static SystemSpec.AttentionKernels readAttentionKernels(JsonFields j, JsonNode node,
      Map<Datatype, SystemSpec.ComputeRate> matrix) throws ConfigError {
    String p = ATTENTION_KERNELS;
    j.object(node, p, "default and kernels");
    j.noUnknownKeys(node, p, Set.of("default", "kernels"), "expected default and kernels");
    JsonNode ks = j.object(j.member(node, p, "kernels", null), join(p, "kernels"), "kernel name -> {fw_efficiency, bw_efficiency}");
    if (ks.isEmpty()) {
      throw j.error(join(p, "kernels"), "must name at least one kernel");
    }
    Map<String, SystemSpec.KernelCurves> kernels = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = ks.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      String kp = join(join(p, "kernels"), JsonFields.oneLine(en.getKey()));
      JsonNode k = j.object(en.getValue(), kp, "fw_efficiency and bw_efficiency");
      j.noUnknownKeys(k, kp, Set.of("fw_efficiency", "bw_efficiency"), "expected fw_efficiency and bw_efficiency");
      double[][] fw = readCurve(j, j.member(k, kp, "fw_efficiency", null), join(kp, "fw_efficiency"), "tokens");
      double[][] bw = readCurve(j, j.member(k, kp, "bw_efficiency", null), join(kp, "bw_efficiency"), "tokens");
      kernels.put(en.getKey(), new SystemSpec.KernelCurves(fw[0], fw[1], bw[0], bw[1]));
    }
    String def = j.string(j.member(node, p, "default", null), join(p, "default"), String.join(", ", kernels.keySet()));
    if (!kernels.containsKey(def)) {
      throw j.error(join(p, "default"), "must name one of the kernels (" + String.join(", ", kernels.keySet())
          + "), got \"" + JsonFields.oneLine(def) + "\"" + NearMiss.didYouMean(def, kernels.keySet()));
    }
    if (!matrix.containsKey(Datatype.BFLOAT16) && !matrix.containsKey(Datatype.FLOAT16)) {
      throw j.error(p, "needs matrix.bfloat16 or matrix.float16: the efficiencies are fractions of the 16-bit matrix peak");
    }
    return new SystemSpec.AttentionKernels(def, Collections.unmodifiableMap(kernels));
  }

  private static Map<Datatype, SystemSpec.ComputeRate> readProcessor(JsonFields j, JsonNode node, String path)
      throws ConfigError {
    j.object(node, path, "datatype name -> {tflops, gflops_efficiency}");
    Map<Datatype, SystemSpec.ComputeRate> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      String p = join(path, JsonFields.oneLine(en.getKey()));
      Datatype dt = Datatype.fromJson(en.getKey());
      if (dt == null) {
        throw j.error(p, "unknown datatype (known: " + String.join(", ", DATATYPE_NAMES) + ")"
            + NearMiss.didYouMean(en.getKey(), DATATYPE_NAMES));
      }
      JsonNode v = j.object(en.getValue(), p, "tflops and gflops_efficiency");
      j.noUnknownKeys(v, p, COMPUTE_KEYS, "expected tflops and gflops_efficiency");
      double tflops = j.number(j.member(v, p, "tflops", null), join(p, "tflops"));
      if (tflops < 0) {
        throw j.error(join(p, "tflops"), "must be 0 or more, got " + fmt(tflops));
      }
      if (tflops != 0) {
        inRange(j, join(p, "tflops"), tflops, MIN_RATE, MAX_RATE, "TFLOP/s");
      }
      double[][] curve = readCurve(j, j.member(v, p, "gflops_efficiency", null), join(p, "gflops_efficiency"), "gflops");
      out.put(dt, new SystemSpec.ComputeRate(tflops, curve[0], curve[1]));
    }
    return out;
  }

  /** A list of [threshold, efficiency] pairs: thresholds ≥ 0 strictly decreasing, 0 < eff ≤ 1. */
  private static double[][] readCurve(JsonFields j, JsonNode node, String path, String unit) throws ConfigError {
    j.array(node, path);
    double[] th = new double[node.size()];
    double[] eff = new double[node.size()];
    for (int i = 0; i < node.size(); i++) {
      String p = index(path, i);
      JsonNode pair = node.get(i);
      if (!pair.isArray() || pair.size() != 2) {
        throw j.error(p, "must be a [" + unit + ", efficiency] pair, got " + describe(pair));
      }
      th[i] = j.number(pair.get(0), index(p, 0));
      eff[i] = j.number(pair.get(1), index(p, 1));
      if (th[i] < 0) {
        throw j.error(index(p, 0), "threshold must be 0 or more, got " + fmt(th[i]));
      }
      if (!(eff[i] >= MIN_EFFICIENCY && eff[i] <= 1)) {
        throw j.error(index(p, 1), "efficiency must be in (0, 1] and at least " + fmt(MIN_EFFICIENCY) + ", got " + fmt(eff[i]));
      }
      if (i > 0 && !(th[i] < th[i - 1])) {
        throw j.error(index(p, 0), "thresholds must strictly decrease, got " + fmt(th[i])
            + " after " + fmt(th[i - 1]));
      }
    }
    return new double[][] {th, eff};
  }

  private static void inRange(JsonFields j, String path, double v, double min, double max, String unit)
      throws ConfigError {
    if (!(v >= min && v <= max)) {
      throw j.error(path, "must be in [" + fmt(min) + ", " + fmt(max) + "] " + unit
          + " (outside it the model's times overflow or vanish), got " + fmt(v));
    }
  }

  private static SystemSpec.MemorySpec readMemory(JsonFields j, JsonNode node, String path) throws ConfigError {
    j.object(node, path, "GiB, GBps, MB_efficiency");
    j.noUnknownKeys(node, path, MEMORY_KEYS, "expected GiB, GBps and MB_efficiency");
    double gib = j.number(j.member(node, path, "GiB", null), join(path, "GiB"));
    if (gib < 0 && !path.equals("mem1")) {
      throw j.error(join(path, "GiB"), "must be 0 or more, got " + fmt(gib));
    }
    if (path.equals("mem1") && !(gib > 0)) {
      // Tier 1 (HBM) holds every weight, activation and optimizer byte the step touches; a GPU
      // without it cannot run any block, so a 0 here is a typo, not a design point (mem2 0 = none).
      throw j.error(join(path, "GiB"), "must be > 0, got " + fmt(gib));
    }
    double gbps = j.number(j.member(node, path, "GBps", null), join(path, "GBps"));
    if (!(gbps > 0)) {
      throw j.error(join(path, "GBps"), "must be a positive number, got " + fmt(gbps));
    }
    inRange(j, join(path, "GBps"), gbps, MIN_RATE, MAX_RATE, "GB/s");
    double[][] curve = readCurve(j, j.member(node, path, "MB_efficiency", null), join(path, "MB_efficiency"), "MB");
    return new SystemSpec.MemorySpec(gib, gbps, curve[0], curve[1]);
  }

  private static SystemSpec.NetworkSpec readNetwork(JsonFields j, JsonNode node, String path) throws ConfigError {
    j.object(node, path, "a network tier");
    String hint = "a network tier has exactly " + String.join(", ", NETWORK_KEYS);
    j.noUnknownKeys(node, path, new LinkedHashSet<>(NETWORK_KEYS), hint);
    for (String k : NETWORK_KEYS) {
      j.member(node, path, k, null);
    }
    double bw = j.number(node.get("bandwidth"), join(path, "bandwidth"));
    if (!(bw > 0)) {
      throw j.error(join(path, "bandwidth"), "must be a positive number (GB/s), got " + fmt(bw));
    }
    inRange(j, join(path, "bandwidth"), bw, MIN_RATE, MAX_RATE, "GB/s");
    double eff = j.number(node.get("efficiency"), join(path, "efficiency"));
    if (!(eff >= MIN_EFFICIENCY && eff <= 1)) {
      throw j.error(join(path, "efficiency"), "must be in (0, 1] and at least " + fmt(MIN_EFFICIENCY) + ", got " + fmt(eff));
    }
    long size = j.integer(node.get("size"), join(path, "size"));
    if (size < 0) {
      throw j.error(join(path, "size"), "must be 0 or more, got " + size);
    }
    double latency = j.number(node.get("latency"), join(path, "latency"));
    if (latency < 0) {
      throw j.error(join(path, "latency"), "must be 0 or more (seconds), got " + fmt(latency));
    }
    inRange(j, join(path, "latency"), latency, 0, MAX_LATENCY_SECONDS, "seconds");
    boolean mustBeFilled = j.bool(node.get("must_be_filled"), join(path, "must_be_filled"));
    double usage = j.number(node.get("processor_usage"), join(path, "processor_usage"));
    if (!(usage >= 0 && usage < 1)) {
      throw j.error(join(path, "processor_usage"), "must be in [0, 1), got " + fmt(usage));
    }
    String opsPath = join(path, "ops");
    JsonNode ops = j.object(node.get("ops"), opsPath, "op name -> [scalar, offset(, efficiency)]");
    j.noUnknownKeys(ops, opsPath, ALLOWED_OPS, "network ops are p2p, reduce_scatter, all_gather, all_reduce, all_to_all");
    for (String op : REQUIRED_OPS) {
      j.member(ops, opsPath, op, null);
    }
    Map<String, SystemSpec.OpSpec> opMap = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = ops.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      opMap.put(en.getKey(), readOp(j, en.getKey(), en.getValue(), join(opsPath, en.getKey())));
    }
    return new SystemSpec.NetworkSpec(bw, eff, size, latency, Collections.unmodifiableMap(opMap),
        mustBeFilled, usage);
  }

  private static SystemSpec.OpSpec readOp(JsonFields j, String op, JsonNode v, String path) throws ConfigError {
    boolean collective = COLLECTIVE_OPS.contains(op);
    String shape = collective ? "[scalar, offset] or [scalar, offset, efficiency]"
        : "[scalar, null] or [scalar, null, efficiency]";
    if (!v.isArray() || v.size() < 2 || v.size() > 3) {
      throw j.error(path, "must be " + shape + ", got " + describe(v));
    }
    double scalar = j.number(v.get(0), index(path, 0));
    if (!(scalar > 0)) {
      throw j.error(index(path, 0), "scalar must be a positive number, got " + fmt(scalar));
    }
    inRange(j, index(path, 0), scalar, MIN_RATE, MAX_OP_FACTOR, "bytes sent per byte");
    Double offset;
    if (collective) {
      if (v.get(1).isNull()) {
        throw j.error(index(path, 1), "offset must be a number for " + op + ", got null");
      }
      offset = j.number(v.get(1), index(path, 1));
      // size = bytes*scalar*(1 + offset/n): below -1 a group of one or more would send negative bytes
      if (!(offset >= -1 && offset <= MAX_OP_FACTOR)) {
        throw j.error(index(path, 1), "offset must be in [-1, " + fmt(MAX_OP_FACTOR)
            + "] (bytes*scalar*(1 + offset/n) must not go negative), got " + fmt(offset));
      }
    } else {
      if (!v.get(1).isNull()) {
        throw j.error(index(path, 1), "offset must be null for " + op + ", got " + describe(v.get(1)));
      }
      offset = null;
    }
    Double efficiency = null;
    if (v.size() == 3) {
      double e = j.number(v.get(2), index(path, 2));
      if (!(e == 0 || e >= MIN_EFFICIENCY && e <= 1)) {
        throw j.error(index(path, 2), "efficiency must be 0 (use the tier's) or in [" + fmt(MIN_EFFICIENCY)
            + ", 1], got " + fmt(e));
      }
      efficiency = e;
    }
    return new SystemSpec.OpSpec(scalar, offset, efficiency);
  }
}
