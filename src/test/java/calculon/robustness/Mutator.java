package calculon.robustness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Seeded mutations of a model, execution and system JSON tree: numbers changed (0, -1, huge,
 * fractional, perturbed), types flipped, keys deleted and added, enums and datatype names swapped,
 * network tier indexes moved, efficiency curves broken, network tiers and ops edited, and a few
 * structure-preserving moves (booleans toggled, parallelism refactored) that keep enough
 * configurations valid to reach the model. Every value stays representable as JSON text, so a
 * mutated tree can also be written to a file for the command line. {@link #log} says what was done.
 */
final class Mutator {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  static final int MODEL = 0;
  static final int EXECUTION = 1;
  static final int SYSTEM = 2;
  static final String[] DOC_NAMES = {"model", "execution", "system"};

  /** Every name a field of ours can take, and some near misses. */
  private static final String[] ENUM_NAMES = {
      "multihead", "multiquery", "full", "attn_only", "none", "ar", "p2p_rs_ag", "rs_ag", "ring",
      "pipe", "gelu", "silu", "a2a", "roofline", "no_overlap", "float4", "float8", "float16", "bfloat16",
      "float32", "", "FULL", "Float16", "fp16", "none ", "swiglu", "int8", "NaN", "true", "0",
      "core_attn", "layernorm", "mlp", "moe_act", "moe", "shared_experts", "mla_up_proj", "op_sac",
      "sliding_attention", "full_attention", "async_tp", "tensorwise", "delayed", "mxfp8", "rowwise", "eager", "fused",
      "squared_relu", "pytorch", "transformer_engine", "uniform", "block", "foreach", "torch_fused", "calculon"};
  private static final String[] DATATYPES = {"float4", "float8", "float16", "bfloat16", "float32"};
  private static final String[] EXTRA_KEYS = {
      "", "foo", "TENSOR_PAR", "tensor-par", "num_proc", "tensor_parr", "\n", "hidden ", "networks",
      "model_moe", "all_to_all", "p2p", "GiB", "tflops", "bandwidth", "activation_function",
      "flash_attention", "recompute_modules", "attention_dropout", "hidden_dropout", "sliding_window",
      "sliding_window_pattern", "layer_types", "fp8_recipe", "elementwise_kernels", "loss_kernel", "compute_capability",
      "context_par_impl", "recompute_method", "recompute_num_layers", "optimizer_kernel"};
  private static final String[] NET_KEYS = {
      "tensor_par_net", "pipeline_par_net", "data_par_net", "data_par_exp_net", "expert_par_net",
      "expert_slice_net", "context_par_net"};
  private static final String[] BOOL_KEYS = {
      "fused_activation", "optimizer_sharding", "seq_par_ag_redo", "data_par_overlap", "weight_offload",
      "activations_offload", "optimizer_offload", "training", "model_MoE", "flash_attention", "repeat_kv"};
  private static final String[] OPS = {"p2p", "reduce_scatter", "all_gather", "all_reduce", "all_to_all"};

  private final SplittableRandom r;
  private final Seeds seeds;
  final List<String> log = new ArrayList<>();

  Mutator(SplittableRandom r, Seeds seeds) {
    this.r = r;
    this.seeds = seeds;
  }

  private ObjectNode[] docs;
  private final boolean[] copied = new boolean[3];

  /**
   * Applies one to four mutations to {@code docs} (model, execution, system). A document is
   * deep-copied before its first change (copy on write), so the seeds are never changed and an
   * unchanged document stays the very seed object.
   */
  void mutate(ObjectNode[] docs) {
    this.docs = docs;
    int n = 1 + (r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0);
    for (int i = 0; i < n; i++) {
      mutateOnce();
    }
  }

  /** Whether document {@code d} was changed (and so is no longer a seed object). */
  boolean changed(int d) { return copied[d]; }

  /** Document {@code d}, copied first if this is its first change. */
  private ObjectNode own(int d) {
    if (!copied[d]) {
      docs[d] = docs[d].deepCopy();
      copied[d] = true;
    }
    return docs[d];
  }

  private void mutateOnce() {
    int k = r.nextInt(100);
    if (k < 14) {
      perturbNumber(own(pickDoc()));
    } else if (k < 24) {
      replaceWithInteresting(own(pickDoc()));
    } else if (k < 32) {
      flipType(own(pickDoc()));
    } else if (k < 38) {
      delete(own(pickDoc()));
    } else if (k < 42) {
      addKey(own(pickDoc()));
    } else if (k < 48) {
      swapEnum(own(r.nextBoolean() ? EXECUTION : SYSTEM));
    } else if (k < 55) {
      networkIndex(own(EXECUTION));
    } else if (k < 63) {
      curve(own(SYSTEM));
    } else if (k < 69) {
      datatype();
    } else if (k < 79) {
      toggleBoolean(own(EXECUTION));
    } else if (k < 88) {
      refactorParallelism(own(EXECUTION));
    } else if (k < 96) {
      network(own(SYSTEM));
    } else if (k < 98) {
      layerOptions();
    } else {
      swapDocument();
    }
  }

  private int pickDoc() {
    int k = r.nextInt(10);
    return k < 2 ? MODEL : k < 6 ? EXECUTION : SYSTEM;
  }

  // ---------------------------------------------------------------------------------------------
  // Locations in a tree

  /** A value slot: a member of an object or an element of a list; {@code up} is the slot holding {@code parent}. */
  record Loc(JsonNode parent, String key, int index, Loc up) {
    JsonNode get() { return key != null ? parent.get(key) : parent.get(index); }

    String path() {
      String prefix = up == null ? "" : up.path();
      return key != null ? (prefix.isEmpty() ? key : prefix + "." + key) : prefix + "[" + index + "]";
    }

    void set(JsonNode v) {
      if (key != null) {
        ((ObjectNode) parent).set(key, v);
      } else {
        ((ArrayNode) parent).set(index, v);
      }
    }

    void remove() {
      if (key != null) {
        ((ObjectNode) parent).remove(key);
      } else {
        ((ArrayNode) parent).remove(index);
      }
    }
  }

  private static void collect(JsonNode node, Loc at, List<Loc> out) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        Loc l = new Loc(node, e.getKey(), -1, at);
        out.add(l);
        collect(e.getValue(), l, out);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        Loc l = new Loc(node, null, i, at);
        out.add(l);
        collect(node.get(i), l, out);
      }
    }
  }

  private Loc pick(JsonNode doc, java.util.function.Predicate<JsonNode> want) {
    List<Loc> all = new ArrayList<>();
    collect(doc, null, all);
    all.removeIf(l -> !want.test(l.get()));
    return all.isEmpty() ? null : all.get(r.nextInt(all.size()));
  }

  private <T> T oneOf(T[] xs) { return xs[r.nextInt(xs.length)]; }

  // ---------------------------------------------------------------------------------------------
  // Value mutations

  private void perturbNumber(ObjectNode doc) {
    Loc l = pick(doc, JsonNode::isNumber);
    if (l == null) {
      return;
    }
    JsonNode v = l.get();
    JsonNode nv;
    if (v.isIntegralNumber() && v.canConvertToLong()) {
      long x = v.longValue();
      long[] choices = {x * 2, x / 2, x + 1, x - 1, -x, 0, 1, x * 1000, 1 + r.nextLong(Math.max(1, Math.abs(x) * 2 + 1)), x * 3};
      nv = r.nextInt(8) == 0 ? F.numberNode(x + (r.nextBoolean() ? 0.0 : 0.5)) : F.numberNode(choices[r.nextInt(choices.length)]);
    } else {
      double x = v.doubleValue();
      double[] choices = {x * 2, x / 2, x * 1e6, x / 1e6, -x, 0, x + 1, 1 - x, Math.nextUp(1.0), 1.0, x * r.nextDouble()};
      double d = choices[r.nextInt(choices.length)];
      nv = Double.isFinite(d) ? F.numberNode(d) : F.numberNode(0);
    }
    log.add("perturb " + l.path() + ": " + v + " -> " + nv);
    l.set(nv);
  }

  /** Values that break assumptions: zero, signs, int and long limits, tiny and huge, NaN-like strings, other types. */
  private JsonNode interesting() {
    List<Supplier<JsonNode>> s = List.of(
        () -> F.numberNode(0), () -> F.numberNode(-1), () -> F.numberNode(1), () -> F.numberNode(2),
        () -> F.numberNode(3), () -> F.numberNode(7), () -> F.numberNode(1024),
        () -> F.numberNode(Integer.MAX_VALUE), () -> F.numberNode(1L << 31), () -> F.numberNode(1L << 32),
        () -> F.numberNode(1L << 53), () -> F.numberNode(Long.MAX_VALUE), () -> F.numberNode(Integer.MIN_VALUE),
        () -> F.numberNode(BigInteger.ONE.shiftLeft(64)), () -> F.numberNode(new BigDecimal("1e400")),
        () -> F.numberNode(0.5), () -> F.numberNode(1.5), () -> F.numberNode(2.0), () -> F.numberNode(-0.0),
        () -> F.numberNode(1e-300), () -> F.numberNode(Double.MIN_VALUE), () -> F.numberNode(1e300),
        () -> F.numberNode(Double.MAX_VALUE), () -> F.numberNode(-1e300),
        () -> F.textNode("NaN"), () -> F.textNode("Infinity"), () -> F.textNode("-Infinity"),
        () -> F.textNode("1"), () -> F.textNode(""), () -> F.textNode("0x10"),
        () -> F.booleanNode(true), () -> F.booleanNode(false), () -> F.nullNode(),
        () -> F.arrayNode(), () -> F.objectNode(), () -> F.arrayNode().add(1),
        () -> F.arrayNode().add(0).add(1.0), () -> F.objectNode().put("a", 1));
    return s.get(r.nextInt(s.size())).get();
  }

  private void replaceWithInteresting(ObjectNode doc) {
    Loc l = pick(doc, v -> true);
    if (l == null) {
      return;
    }
    JsonNode nv = interesting();
    log.add("replace " + l.path() + ": " + shortText(l.get()) + " -> " + nv);
    l.set(nv);
  }

  private void flipType(ObjectNode doc) {
    Loc l = pick(doc, v -> true);
    if (l == null) {
      return;
    }
    JsonNode v = l.get();
    JsonNode nv = switch (r.nextInt(6)) {
      case 0 -> F.textNode(v.isTextual() ? v.textValue() : v.toString());
      case 1 -> v.isTextual() ? F.numberNode(v.textValue().length()) : F.booleanNode(v.asBoolean());
      case 2 -> F.nullNode();
      case 3 -> F.arrayNode().add(v.deepCopy());
      case 4 -> F.objectNode().set("value", v.deepCopy());
      default -> v.isNumber() ? F.booleanNode(v.doubleValue() != 0) : F.numberNode(v.asInt(1));
    };
    log.add("flip type " + l.path() + ": " + shortText(v) + " -> " + shortText(nv));
    l.set(nv);
  }

  private void delete(ObjectNode doc) {
    Loc l = pick(doc, v -> true);
    if (l == null) {
      return;
    }
    log.add("delete " + l.path());
    l.remove();
  }

  private void addKey(ObjectNode doc) {
    List<Loc> objects = new ArrayList<>();
    collect(doc, null, objects);
    objects.removeIf(l -> !l.get().isObject());
    JsonNode target = doc;
    String where = "";
    if (!objects.isEmpty() && r.nextBoolean()) {
      Loc l = objects.get(r.nextInt(objects.size()));
      target = l.get();
      where = l.path() + ".";
    }
    String key = r.nextBoolean() ? oneOf(EXTRA_KEYS) : oneOf(allKeys());
    JsonNode v = interesting();
    log.add("add " + where + key + " = " + v);
    ((ObjectNode) target).set(key, v);
  }

  private static String[] allKeysCache;

  private String[] allKeys() {
    if (allKeysCache == null) {
      java.util.Set<String> keys = new java.util.TreeSet<>();
      for (Seeds.Triple t : seeds.triples.subList(0, Math.min(50, seeds.triples.size()))) {
        for (JsonNode d : new JsonNode[] {t.model(), t.execution(), t.system()}) {
          List<Loc> ls = new ArrayList<>();
          collect(d, null, ls);
          for (Loc l : ls) {
            if (l.key() != null) {
              keys.add(l.key());
            }
          }
        }
      }
      allKeysCache = keys.toArray(new String[0]);
    }
    return allKeysCache;
  }

  private void swapEnum(ObjectNode doc) {
    Loc l = pick(doc, JsonNode::isTextual);
    if (l == null) {
      return;
    }
    String nv = oneOf(ENUM_NAMES);
    log.add("enum " + l.path() + ": " + l.get() + " -> \"" + nv + "\"");
    l.set(F.textNode(nv));
  }

  private void networkIndex(ObjectNode exe) {
    String key = oneOf(NET_KEYS);
    int v = r.nextInt(7) - 1;
    log.add("net index " + key + " -> " + v);
    exe.put(key, v);
  }

  // ---------------------------------------------------------------------------------------------
  // System structure

  /** Efficiency curves: lists of [threshold, efficiency] pairs. */
  private void curve(ObjectNode sys) {
    Loc l = pick(sys, v -> v.isArray() && v.size() > 0 && v.get(0).isArray() && v.get(0).size() == 2);
    if (l == null) {
      return;
    }
    ArrayNode c = (ArrayNode) l.get();
    int i = r.nextInt(c.size());
    String what;
    switch (r.nextInt(12)) {
      case 0 -> { c.removeAll(); what = "empty"; }
      case 1 -> {
        List<JsonNode> xs = new ArrayList<>();
        c.forEach(xs::add);
        c.removeAll();
        for (int j = xs.size() - 1; j >= 0; j--) {
          c.add(xs.get(j));
        }
        what = "reversed (unsorted)";
      }
      case 2 -> { c.remove(c.size() - 1); what = "last entry dropped (may not reach 0)"; }
      case 3 -> { c.remove(0); what = "first entry dropped"; }
      case 4 -> {
        if (!(c.get(i) instanceof ArrayNode entry) || entry.size() < 2) {
          return;
        }
        double e = new double[] {1.0, 1.5, 0, -0.1, 1e-9, 1e-300, 2}[r.nextInt(7)];
        entry.set(1, F.numberNode(e));
        what = "efficiency[" + i + "] = " + e;
      }
      case 5 -> {
        if (!(c.get(i) instanceof ArrayNode entry) || entry.size() < 2) {
          return;
        }
        double t = new double[] {-1, 0, 1e300, c.get(Math.max(0, i - 1)).path(0).asDouble(), 0.5}[r.nextInt(5)];
        entry.set(0, F.numberNode(t));
        what = "threshold[" + i + "] = " + t;
      }
      case 6 -> { c.add(F.arrayNode().add(0).add(0.5)); what = "append [0, 0.5]"; }
      case 7 -> { c.removeAll(); c.add(F.arrayNode().add(0).add(1.0)); what = "[[0, 1]]"; }
      case 8 -> { c.insert(i, c.get(i).deepCopy()); what = "entry " + i + " duplicated"; }
      case 9 -> {
        JsonNode bad = new JsonNode[] {F.arrayNode().add(1), F.arrayNode().add(1).add(2).add(3), F.textNode("x"),
            F.nullNode(), F.arrayNode().add("1").add(0.5)}[r.nextInt(5)];
        c.set(i, bad);
        what = "entry " + i + " = " + bad;
      }
      case 10 -> {
        // a fine-grained valid curve, efficiency rising with size
        c.removeAll();
        int n = 1 + r.nextInt(6);
        for (int j = n - 1; j >= 0; j--) {
          c.add(F.arrayNode().add(j == 0 ? 0 : Math.pow(10, j - 2)).add((j + 1.0) / n));
        }
        what = "new valid curve of " + n;
      }
      default -> {
        // efficiency falling with size: legal, but it makes bigger operations less efficient
        for (int j = 0; j < c.size(); j++) {
          if (c.get(j) instanceof ArrayNode entry && entry.size() >= 2) {
            entry.set(1, F.numberNode((j + 1.0) / c.size()));
          }
        }
        what = "efficiency decreasing with size";
      }
    }
    log.add("curve " + l.path() + ": " + what);
  }

  private void datatype() {
    ObjectNode sys = own(SYSTEM);
    String unit = r.nextBoolean() ? "matrix" : "vector";
    JsonNode procs = sys.get(unit);
    switch (r.nextInt(5)) {
      case 0 -> {
        String dt = r.nextInt(4) == 0 ? oneOf(ENUM_NAMES) : oneOf(DATATYPES);
        log.add("execution datatype -> \"" + dt + "\"");
        own(EXECUTION).put("datatype", dt);
      }
      case 1 -> {
        if (procs instanceof ObjectNode o && o.size() > 0) {
          String from = o.fieldNames().next();
          String to = r.nextInt(4) == 0 ? oneOf(ENUM_NAMES) : oneOf(DATATYPES);
          JsonNode v = o.remove(from);
          o.set(to, v);
          log.add(unit + " datatype renamed " + from + " -> " + to);
        }
      }
      case 2 -> {
        if (procs instanceof ObjectNode o && o.size() > 0) {
          String dt = oneOf(DATATYPES);
          o.remove(dt);
          log.add(unit + " datatype " + dt + " removed");
        }
      }
      case 3 -> {
        if (procs instanceof ObjectNode o && o.size() > 0) {
          String from = o.fieldNames().next();
          String to = oneOf(DATATYPES);
          o.set(to, o.get(from).deepCopy());
          log.add(unit + " datatype " + from + " copied to " + to);
        }
      }
      default -> {
        if (procs instanceof ObjectNode o && o.size() > 0) {
          List<String> names = new ArrayList<>();
          o.fieldNames().forEachRemaining(names::add);
          String dt = names.get(r.nextInt(names.size()));
          if (o.get(dt) instanceof ObjectNode rate) {
            double t = new double[] {0, 1e-9, 1e9, 0.001, 5000}[r.nextInt(5)];
            rate.put("tflops", t);
            log.add(unit + "." + dt + ".tflops = " + t);
          }
        }
      }
    }
  }

  private void network(ObjectNode sys) {
    if (!(sys.get("networks") instanceof ArrayNode nets) || nets.isEmpty()) {
      return;
    }
    int t = r.nextInt(nets.size());
    if (!(nets.get(t) instanceof ObjectNode net)) {
      return;
    }
    String p = "networks[" + t + "]";
    switch (r.nextInt(11)) {
      case 0 -> { nets.add(net.deepCopy()); log.add(p + " duplicated as a new last tier"); }
      case 1 -> { nets.remove(t); log.add(p + " removed"); }
      case 2 -> {
        if (net.get("ops") instanceof ObjectNode ops) {
          String op = oneOf(OPS);
          ops.remove(op);
          log.add(p + ".ops." + op + " removed");
        }
      }
      case 3 -> {
        if (net.get("ops") instanceof ObjectNode ops) {
          String op = oneOf(OPS);
          JsonNode[] shapes = {F.arrayNode().add(1.0), F.arrayNode().add(1.0).addNull(),
              F.arrayNode().add(1.0).add(-1), F.arrayNode().add(1.0).add(0).add(0.5),
              F.arrayNode().add(1.0).addNull().add(0.5), F.arrayNode().add(1.0).addNull().add(2),
              F.arrayNode().add(0).addNull(), F.arrayNode().add(2.0).add(-1).add(0),
              F.arrayNode().add(1.0).add(1e300), F.arrayNode().add(1e-300).addNull()};
          JsonNode v = oneOf(shapes);
          ops.set(op, v);
          log.add(p + ".ops." + op + " = " + v);
        }
      }
      case 4 -> {
        long size = new long[] {0, 1, 2, 3, 8, 64, 4096, 1L << 40, -1}[r.nextInt(9)];
        net.put("size", size);
        log.add(p + ".size = " + size);
      }
      case 5 -> {
        boolean b = !net.path("must_be_filled").asBoolean();
        net.put("must_be_filled", b);
        log.add(p + ".must_be_filled = " + b);
      }
      case 6 -> {
        double u = new double[] {0, 0.5, 0.99, 1, -0.1, 0.999999}[r.nextInt(6)];
        net.put("processor_usage", u);
        log.add(p + ".processor_usage = " + u);
      }
      case 7 -> {
        double e = new double[] {1, 1e-9, 0, 1.01, 0.5}[r.nextInt(5)];
        net.put("efficiency", e);
        log.add(p + ".efficiency = " + e);
      }
      case 8 -> {
        double l = new double[] {0, 1e-300, 1, 1e9, -1e-6}[r.nextInt(5)];
        net.put("latency", l);
        log.add(p + ".latency = " + l);
      }
      case 9 -> {
        double b = new double[] {1e-9, 1e12, 0.001, 1e300, 0}[r.nextInt(5)];
        net.put("bandwidth", b);
        log.add(p + ".bandwidth = " + b);
      }
      default -> {
        String mem = r.nextBoolean() ? "mem1" : "mem2";
        if (sys.get(mem) instanceof ObjectNode m) {
          String k = r.nextBoolean() ? "GiB" : "GBps";
          double v = new double[] {0, 1e-9, 1e12, 1e300, 0.5}[r.nextInt(5)];
          m.put(k, v);
          log.add(mem + "." + k + " = " + v);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Execution structure (moves that tend to stay valid, to reach the model)

  private static final String[] MODULES = {
      "core_attn", "layernorm", "mlp", "moe_act", "moe", "shared_experts", "mla_up_proj", "op_sac"};

  /**
   * Mostly valid values of the layer keys: flash attention on or off, a few recompute modules
   * (duplicates and full recompute now and then), dropout probabilities, a per-block
   * {@code layer_types} list, a sliding window with a pattern, and a partial full recompute
   * ({@code recompute_method}, {@code recompute_num_layers}; without full recompute now and then).
   */
  private void layerOptions() {
    switch (r.nextInt(6)) {
      case 0 -> {
        boolean on = r.nextBoolean();
        log.add("flash_attention = " + on);
        own(EXECUTION).put("flash_attention", on);
      }
      case 1 -> {
        ArrayNode list = own(EXECUTION).putArray("recompute_modules");
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          list.add(oneOf(MODULES));
        }
        log.add("recompute_modules = " + list);
      }
      case 2 -> {
        String key = r.nextBoolean() ? "attention_dropout" : "hidden_dropout";
        double p = new double[] {0, 0.1, 0.5, 1, -0.1, 1.5}[r.nextInt(6)];
        log.add(key + " = " + p);
        own(MODEL).put(key, p);
      }
      case 3 -> {
        // Hugging Face's per-block list: mostly one entry per block, sometimes one short or a bad name
        ObjectNode m = own(MODEL);
        int blocks = Math.max(0, Math.min(m.path("num_blocks").asInt(4), 256));
        int n = r.nextInt(4) == 0 ? Math.max(0, blocks - 1) : blocks;
        ArrayNode types = m.putArray("layer_types");
        for (int i = 0; i < n; i++) {
          types.add(r.nextInt(20) == 0 ? "local" : r.nextBoolean() ? "sliding_attention" : "full_attention");
        }
        if (r.nextInt(5) != 0) {
          m.put("sliding_window", new int[] {128, 4096}[r.nextInt(2)]);
        }
        if (r.nextInt(10) == 0) {
          m.put("sliding_window_pattern", 2);
        }
        log.add("layer_types of " + n + " blocks, sliding_window " + m.get("sliding_window"));
      }
      case 4 -> {
        ObjectNode e = own(EXECUTION);
        if (r.nextInt(4) != 0) {
          e.put("activation_recompute", "full");
        }
        String method = new String[] {"uniform", "block", "block", "selective"}[r.nextInt(4)];
        int n = new int[] {1, 2, 3, 5, 8, 1000, 0, -1}[r.nextInt(8)];
        if (r.nextInt(5) != 0) {
          e.put("recompute_method", method);
        }
        e.put("recompute_num_layers", n);
        log.add("activation_recompute " + e.get("activation_recompute") + ", recompute_method "
            + e.get("recompute_method") + ", recompute_num_layers " + n);
      }
      default -> {
        int w = new int[] {1, 128, 4096, 1 << 20}[r.nextInt(4)];
        ObjectNode m = own(MODEL);
        m.put("sliding_window", w);
        if (r.nextBoolean()) {
          m.put("sliding_window_pattern", 1 + r.nextInt(6));
        }
        log.add("sliding_window = " + w + ", pattern " + m.get("sliding_window_pattern"));
      }
    }
  }

  private void toggleBoolean(ObjectNode exe) {
    String key = oneOf(BOOL_KEYS);
    JsonNode v = exe.get(key);
    boolean b = v == null || !v.isBoolean() ? r.nextBoolean() : !v.booleanValue();
    log.add("toggle " + key + " -> " + b);
    exe.put(key, b);
  }

  private static final int[] SMALL_POWERS = {1, 1, 2, 2, 4, 8, 16, 32, 3, 6};

  /** New TP, PP, DP (and EP, ES, DP_exp for MoE) with num_procs and batch_size made consistent. */
  private void refactorParallelism(ObjectNode exe) {
    int tp = SMALL_POWERS[r.nextInt(SMALL_POWERS.length)];
    int pp = SMALL_POWERS[r.nextInt(SMALL_POWERS.length)];
    int dp = SMALL_POWERS[r.nextInt(SMALL_POWERS.length)];
    int mbs = new int[] {1, 1, 2, 4, 8}[r.nextInt(5)];
    int nm = new int[] {1, 2, 3, 4, 8, 16, 64}[r.nextInt(7)];
    int procs = tp * pp * dp;
    exe.put("tensor_par", tp);
    exe.put("pipeline_par", pp);
    exe.put("data_par", dp);
    exe.put("num_procs", procs);
    exe.put("microbatch_size", mbs);
    exe.put("batch_size", dp * mbs * nm);
    exe.put("pipeline_interleaving", pp == 1 ? 1 : new int[] {1, 1, 2, 3, 4}[r.nextInt(5)]);
    if (r.nextInt(3) == 0) {
      pipelineSchedule(exe, pp);
    }
    String moe = "";
    if (exe.path("model_MoE").asBoolean(false) && exe.path("num_experts").canConvertToInt()) {
      int e = Math.max(1, exe.get("num_experts").asInt());
      List<Integer> divisors = new ArrayList<>();
      for (int d = 1; d <= e; d++) {
        if (e % d == 0) {
          divisors.add(d);
        }
      }
      int ep = divisors.get(r.nextInt(divisors.size()));
      int rest = procs / pp;
      List<Integer> es = new ArrayList<>();
      for (int d = 1; d <= rest; d++) {
        if (rest % (d * ep) == 0) {
          es.add(d);
        }
      }
      if (!es.isEmpty()) {
        int s = es.get(r.nextInt(es.size()));
        exe.put("expert_par", ep);
        exe.put("expert_slice", s);
        exe.put("data_par_exp", rest / (ep * s));
        moe = ", ep " + ep + ", es " + s + ", dpe " + rest / (ep * s);
      }
    }
    log.add("parallelism tp " + tp + ", pp " + pp + ", dp " + dp + ", mbs " + mbs + ", nm " + nm + moe);
    if (r.nextInt(3) == 0) {
      parallelOptions(exe, tp, pp, dp);
    }
  }

  /**
   * The corrected model's parallel keys: a ZeRO stage (mostly agreeing with optimizer_sharding),
   * a CP degree (num_procs follows), its tier and comm type, first/last stage block counts.
   */
  private void parallelOptions(ObjectNode exe, int tp, int pp, int dp) {
    StringBuilder what = new StringBuilder("parallel options");
    if (r.nextBoolean()) {
      int zero = r.nextInt(10) == 0 ? r.nextInt(6) - 1 : r.nextInt(4);
      if (r.nextInt(5) != 0) {
        exe.put("optimizer_sharding", zero >= 1);
      }
      exe.put("zero_stage", zero);
      what.append(", zero_stage ").append(zero);
    }
    if (r.nextBoolean()) {
      int cp = new int[] {1, 2, 2, 4, 8, 0}[r.nextInt(6)];
      exe.put("context_par", cp);
      if (r.nextInt(5) != 0) {
        exe.put("num_procs", tp * pp * dp * Math.max(cp, 1));
      }
      exe.put("context_par_comm_type", r.nextBoolean() ? "p2p" : "a2a");
      if (r.nextBoolean()) {
        exe.put("context_par_net", r.nextInt(3));
      }
      if (r.nextBoolean()) {
        String impl = new String[] {"transformer_engine", "pytorch", "PyTorch"}[r.nextInt(3)];
        exe.put("context_par_impl", impl);
        what.append(", context_par_impl ").append(impl);
      }
      what.append(", cp ").append(cp);
    }
    if (r.nextInt(3) == 0) {
      int first = r.nextInt(4), last = r.nextInt(4);
      if (r.nextBoolean()) {
        exe.put("blocks_in_first_stage", first);
      }
      if (r.nextBoolean()) {
        exe.put("blocks_in_last_stage", last);
      }
      what.append(", first/last blocks ").append(first).append('/').append(last);
    }
    log.add(what.toString());
  }

  /** Schedule names the reader accepts, and near misses. */
  private static final String[] SCHEDULES = {
      "1f1b", "interleaved", "zb-h1", "zb-v", "dualpipe", "dualpipev", "ZB-H1", "gpipe", "zb_v", ""};

  /**
   * The corrected model's {@code pipeline_schedule}, mostly with the chunks per stage it needs
   * (zb-v and dualpipev run 2) and sometimes with a mismatching one.
   */
  private void pipelineSchedule(ObjectNode exe, int pp) {
    String s = oneOf(SCHEDULES);
    exe.put("pipeline_schedule", s);
    if (pp > 1 && r.nextInt(4) != 0) {
      exe.put("pipeline_interleaving", s.equals("zb-v") || s.equals("dualpipev") ? 2
          : s.equals("interleaved") ? 2 + r.nextInt(3) : 1);
    }
    log.add("pipeline_schedule " + s + ", interleaving " + exe.path("pipeline_interleaving"));
    if (r.nextInt(3) == 0) {
      // Megatron-Core's overlap_p2p_comm (interleaved only), sometimes a bad value
      JsonNode overlap = r.nextInt(6) == 0 ? F.textNode("yes") : F.booleanNode(r.nextBoolean());
      exe.set("pipeline_p2p_overlap", overlap);
      log.add("pipeline_p2p_overlap " + overlap);
    }
    if (r.nextBoolean()) {
      moeExchange(exe);
    }
  }

  /** The corrected model's expert-exchange keys, with a few bad values. */
  private void moeExchange(ObjectNode exe) {
    StringBuilder what = new StringBuilder("moe exchange");
    if (r.nextBoolean()) {
      String d = oneOf(new String[] {"alltoall", "allgather", "flex", "all_to_all", ""});
      exe.put("moe_dispatcher", d);
      what.append(", dispatcher ").append(d);
    }
    if (r.nextBoolean()) {
      exe.put("moe_a2a_overlap", r.nextBoolean());
    }
    if (r.nextBoolean()) {
      int m = r.nextInt(10) - 1;
      exe.put("moe_max_domains_per_token", m);
      what.append(", max domains ").append(m);
    }
    if (r.nextBoolean()) {
      String dt = oneOf(new String[] {"float8", "bfloat16", "float4", "fp8"});
      exe.put("moe_dispatch_datatype", dt);
      what.append(", dispatch ").append(dt);
    }
    log.add(what.toString());
  }

  private void swapDocument() {
    if (r.nextBoolean()) {
      ObjectNode m = seeds.models.get(r.nextInt(seeds.models.size()));
      docs[MODEL] = m;
      copied[MODEL] = false;
      log.add("model replaced by " + m);
    } else {
      Seeds.Triple t = seeds.triples.get(r.nextInt(seeds.triples.size()));
      docs[SYSTEM] = t.system();
      copied[SYSTEM] = false;
      log.add("system replaced by that of " + t.id());
    }
  }

  private static String shortText(JsonNode v) {
    String s = String.valueOf(v);
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
