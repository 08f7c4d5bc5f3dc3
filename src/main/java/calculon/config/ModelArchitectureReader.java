package calculon.config;

import calculon.config.Architecture.Mla;
import calculon.config.Architecture.MlpKind;
import calculon.config.Architecture.Moe;
import calculon.config.Architecture.Norm;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** Reads and checks the optional architecture keys of a model file (see {@link Architecture}). */
final class ModelArchitectureReader {
  private ModelArchitectureReader() {}

  /** The optional top-level keys of a model file this class reads (docs/reference.md lists each). */
  static final Set<String> KEYS = Set.of("num_kv_heads", "mlp", "vocab_size", "tied_embeddings",
      "position_embedding", "bias", "norm", "mla", "moe", "attention_dropout", "hidden_dropout",
      "sliding_window", "sliding_window_pattern", "layer_types", "mtp_layers");
  static final Set<String> MLA_KEYS = orderedSet("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim");
  static final Set<String> MOE_KEYS = orderedSet("num_experts", "top_k", "expert_feedforward", "shared_experts",
      "shared_feedforward", "first_dense_layers", "layer_interval", "capacity_factor");

  /**
   * The optional top-level keys of a model file this reader knows, plus {@code source} (where the
   * figures come from; free text, not read). With {@link ApplicationReader#APPLICATION_KEYS} they are
   * every key a model file may have: anything else is a misspelling and is rejected (a silently
   * ignored {@code num_kv_head} would run the model as multi-head attention).
   */
  static final java.util.List<String> OPTIONAL_KEYS = java.util.List.of("num_kv_heads", "mlp", "vocab_size",
      "tied_embeddings", "position_embedding", "bias", "norm", "mla", "moe", "attention_dropout", "hidden_dropout",
      "sliding_window", "sliding_window_pattern", "layer_types", "mtp_layers", "source");

  static {
    if (!OPTIONAL_KEYS.containsAll(KEYS)) {
      throw new AssertionError("a model key is read but not allowed: " + KEYS);
    }
  }

  static Architecture read(JsonFields j, JsonNode node, long hidden, long feedforward, long heads, long blocks)
      throws ConfigError {
    Architecture d = Architecture.calculon(heads);
    int kvHeads = d.numKvHeads();
    if (node.has("num_kv_heads")) {
      kvHeads = j.intValue(node.get("num_kv_heads"), "num_kv_heads");
      if (kvHeads < 1 || kvHeads > heads || heads % kvHeads != 0) {
        throw j.error("num_kv_heads", "must divide attn_heads=" + heads + " (1 is multi-query, "
            + heads + " multi-head), got " + kvHeads);
      }
    }
    MlpKind mlp = d.mlp();
    if (node.has("mlp")) {
      mlp = j.enumKey(node, "mlp", MlpKind.values(), x -> x.jsonName);
    }
    long vocab = d.vocabSize();
    if (node.has("vocab_size")) {
      vocab = positive(j, node.get("vocab_size"), "vocab_size");
    }
    boolean tied = node.has("tied_embeddings") ? j.bool(node.get("tied_embeddings"), "tied_embeddings") : d.tiedEmbeddings();
    boolean learned = d.learnedPositions();
    if (node.has("position_embedding")) {
      learned = j.oneOf(node.get("position_embedding"), "position_embedding", java.util.List.of("learned", "rope")).equals("learned");
    }
    boolean bias = node.has("bias") ? j.bool(node.get("bias"), "bias") : d.linearBiases();
    Norm norm = d.norm();
    if (node.has("norm")) {
      norm = j.enumKey(node, "norm", Norm.values(), x -> x.jsonName);
    }
    Mla mla = node.has("mla") ? mla(j, node.get("mla")) : null;
    Moe moe = node.has("moe") ? moe(j, node.get("moe"), feedforward, blocks) : null;
    Architecture.Dropout dropout = new Architecture.Dropout(
        probability(j, node, "attention_dropout", d.dropout().attention()),
        probability(j, node, "hidden_dropout", d.dropout().hidden()));
    int mtp = 0;
    if (node.has("mtp_layers")) {
      mtp = (int) nonNegative(j, node.get("mtp_layers"), "mtp_layers");
      if (mtp > blocks) {
        throw j.error("mtp_layers", "must be at most num_blocks=" + blocks + ", got " + mtp);
      }
      if (mtp > 0 && vocab == 0) {
        throw j.error("mtp_layers", "needs vocab_size (each module predicts through the output head)");
      }
    }
    return new Architecture(kvHeads, mlp, vocab, tied, learned, bias, norm, mla, moe, dropout,
        slidingWindow(j, node, blocks), mtp);
  }

  private static double probability(JsonFields j, JsonNode node, String key, double absent) throws ConfigError {
    if (!node.has(key)) {
      return absent;
    }
    double p = j.number(node.get(key), key);
    if (!(p >= 0 && p <= 1)) {
      throw j.error(key, "must be a probability between 0 and 1, got " + JsonFields.describe(node.get(key)));
    }
    return p;
  }

  /** Hugging Face's names of the two attention kinds in {@code layer_types}. */
  static final String SLIDING = "sliding_attention", FULL = "full_attention";

  /**
   * {@code sliding_window} (tokens) and which blocks use it: all (Mistral), every block but each
   * k-th ({@code sliding_window_pattern: k}, Gemma 3's key: block i is full when (i + 1) % k == 0;
   * 2 is Gemma 2 and GPT-OSS), or an explicit {@code layer_types} list as Hugging Face writes it.
   */
  private static Architecture.SlidingWindow slidingWindow(JsonFields j, JsonNode node, long blocks) throws ConfigError {
    boolean pattern = node.has("sliding_window_pattern"), types = node.has("layer_types");
    if (!node.has("sliding_window") || node.get("sliding_window").isNull()) {
      if (pattern || types) {
        throw j.error(pattern ? "sliding_window_pattern" : "layer_types", "needs sliding_window (the window in tokens)");
      }
      return null;
    }
    long tokens = positive(j, node.get("sliding_window"), "sliding_window");
    if (pattern && types) {
      throw j.error("layer_types", "give either sliding_window_pattern or layer_types, not both");
    }
    java.util.List<Boolean> windowed = new java.util.ArrayList<>();
    if (types) {
      JsonNode list = j.array(node.get("layer_types"), "layer_types");
      if (list.size() != blocks) {
        throw j.error("layer_types", "must list one entry per block (num_blocks=" + blocks + "), got " + list.size());
      }
      for (int i = 0; i < list.size(); i++) {
        String t = j.string(list.get(i), JsonFields.index("layer_types", i), SLIDING + ", " + FULL);
        if (!t.equals(SLIDING) && !t.equals(FULL)) {
          throw j.error(JsonFields.index("layer_types", i), "must be " + SLIDING + " or " + FULL + ", got \"" + t + "\"");
        }
        windowed.add(t.equals(SLIDING));
      }
      return new Architecture.SlidingWindow(tokens, blocks, 0, windowed);
    }
    long every = pattern ? positive(j, node.get("sliding_window_pattern"), "sliding_window_pattern") : 0;
    if (every > blocks) {
      throw j.error("sliding_window_pattern", "must be at most num_blocks=" + blocks + ", got " + every);
    }
    return new Architecture.SlidingWindow(tokens, blocks, every, java.util.List.of());
  }

  private static Set<String> orderedSet(String... keys) {
    return java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(java.util.List.of(keys)));
  }

  private static long positive(JsonFields j, JsonNode v, String path) throws ConfigError {
    long x = j.integer(v, path);
    if (x < 1) {
      throw j.error(path, "must be a positive integer, got " + JsonFields.describe(v));
    }
    return x;
  }

  private static long nonNegative(JsonFields j, JsonNode v, String path) throws ConfigError {
    long x = j.integer(v, path);
    if (x < 0) {
      throw j.error(path, "must be 0 or more, got " + JsonFields.describe(v));
    }
    return x;
  }

  private static Mla mla(JsonFields j, JsonNode m) throws ConfigError {
    j.object(m, "mla", "multi-head latent attention settings");
    j.noUnknownKeys(m, "mla", MLA_KEYS, "mla has " + String.join(", ", MLA_KEYS.stream().sorted().toList()));
    String need = "mla needs " + String.join(", ", MLA_KEYS.stream().sorted().toList());
    return new Mla(
        nonNegative(j, j.member(m, "mla", "q_lora_rank", need), "mla.q_lora_rank"),
        positive(j, j.member(m, "mla", "kv_lora_rank", need), "mla.kv_lora_rank"),
        positive(j, j.member(m, "mla", "qk_nope_head_dim", need), "mla.qk_nope_head_dim"),
        nonNegative(j, j.member(m, "mla", "qk_rope_head_dim", need), "mla.qk_rope_head_dim"),
        positive(j, j.member(m, "mla", "v_head_dim", need), "mla.v_head_dim"));
  }

  private static Moe moe(JsonFields j, JsonNode m, long feedforward, long blocks) throws ConfigError {
    j.object(m, "moe", "mixture-of-experts settings");
    j.noUnknownKeys(m, "moe", MOE_KEYS, "moe has " + String.join(", ", MOE_KEYS));
    int experts = (int) Math.min(Integer.MAX_VALUE, positive(j, j.member(m, "moe", "num_experts", "moe needs num_experts and top_k"), "moe.num_experts"));
    int topK = (int) Math.min(Integer.MAX_VALUE, positive(j, j.member(m, "moe", "top_k", "moe needs num_experts and top_k"), "moe.top_k"));
    if (topK > experts) {
      throw j.error("moe.top_k", "must not exceed num_experts=" + experts + ", got " + topK);
    }
    long expertFf = m.has("expert_feedforward") ? positive(j, m.get("expert_feedforward"), "moe.expert_feedforward") : feedforward;
    int shared = m.has("shared_experts") ? (int) Math.min(Integer.MAX_VALUE, nonNegative(j, m.get("shared_experts"), "moe.shared_experts")) : 0;
    long sharedFf = m.has("shared_feedforward") ? positive(j, m.get("shared_feedforward"), "moe.shared_feedforward") : expertFf;
    long firstDense = m.has("first_dense_layers") ? nonNegative(j, m.get("first_dense_layers"), "moe.first_dense_layers") : 0;
    if (firstDense >= blocks) {
      throw j.error("moe.first_dense_layers", "must be less than num_blocks=" + blocks + ", got " + firstDense);
    }
    long interval = m.has("layer_interval") ? positive(j, m.get("layer_interval"), "moe.layer_interval") : 1;
    if (interval > blocks) {
      throw j.error("moe.layer_interval", "must be at most num_blocks=" + blocks + ", got " + interval);
    }
    double capacity = 1.0;
    if (m.has("capacity_factor")) {
      capacity = j.number(m.get("capacity_factor"), "moe.capacity_factor");
      if (capacity < 1.0 || capacity > 1e3) {
        throw j.error("moe.capacity_factor", "must be between 1 (perfect balance) and 1000, got " + JsonFields.fmt(capacity));
      }
    }
    return new Moe(experts, topK, expertFf, shared, sharedFf, (int) firstDense, (int) interval, capacity);
  }
}
