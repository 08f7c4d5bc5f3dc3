package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code config.json} (transformers' PretrainedConfig as published with a model)
 * turned into a calculon model file (docs/reference.md, "Model keys"), with a note for every
 * config key that was not mapped and every parameter the model file cannot describe.
 *
 * <p>Supported {@code model_type}s and where their meaning comes from (transformers'
 * {@code models/<type>/modeling_<type>.py}): llama (Llama 2/3), mistral, mixtral, qwen2
 * (Qwen2/2.5), qwen2_moe, qwen3, qwen3_moe, deepseek_v2, deepseek_v3 (MLA), gpt_oss, gemma2,
 * gemma3 / gemma3_text (a multimodal config's {@code text_config} is used, the vision tower is
 * not mapped), nemotron (Nemotron-4 and Minitron). Every one of them is a pre-norm decoder with
 * rotary positions; all but nemotron use RMSNorm and a gated MLP (SwiGLU for silu, GeGLU for
 * gelu). Nemotron ({@code modeling_nemotron.py}) uses {@code NemotronLayerNorm1P}, a LayerNorm with
 * weight and bias, and an ungated two-matrix MLP with {@code relu2} (squared ReLU): {@code norm:
 * layernorm}, {@code mlp: squared_relu}.
 *
 * <p>{@code seq_size} is the pre-training context where the config names it
 * ({@code rope_scaling.original_max_position_embeddings}, then gpt-oss's
 * {@code initial_context_length}), else {@code max_position_embeddings}, unless the caller gives one.
 */
public final class HuggingFaceImport {
  private HuggingFaceImport() {}

  /** The model types this importer maps. */
  public static final List<String> MODEL_TYPES = List.of("llama", "mistral", "mixtral", "qwen2", "qwen2_moe",
      "qwen3", "qwen3_moe", "deepseek_v2", "deepseek_v3", "gpt_oss", "gemma2", "gemma3", "gemma3_text", "nemotron");

  /**
   * Keys with no effect on parameters or on training cost (token ids, initialisation, numerics,
   * rotary frequencies, router loss weights and scoring, inference-only settings).
   */
  static final Set<String> NO_EFFECT = Set.of("_name_or_path", "architectures", "model_type", "auto_map",
      "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "transformers_version",
      "use_cache", "initializer_range", "rms_norm_eps", "layer_norm_eps", "norm_eps", "rope_theta", "rope_local_base_freq",
      "pretraining_tp", "output_router_logits", "router_aux_loss_coef", "aux_loss_alpha",
      "seq_aux", "norm_topk_prob", "router_jitter_noise", "scoring_func", "routed_scaling_factor", "topk_method",
      "n_group", "topk_group", "ep_size", "cache_implementation", "query_pre_attn_scalar", "swiglu_limit",
      "use_mrope", "mlp_dropout", "tie_encoder_decoder", "final_logit_softcapping",
      "attn_logit_softcapping", "rope_parameters", "use_bidirectional_attention");

  /** Dropout probabilities the model file has keys for ({@code attention_dropout}, {@code hidden_dropout}). */
  static final List<String> DROPOUT_KEYS = List.of("attention_dropout", "hidden_dropout");

  /** What a model file cannot say about these keys, when they are set. */
  private static final Map<String, String> NOT_MODELLED = Map.of(
      "sliding_window", "sliding-window attention is not modelled: every layer attends to the whole sequence",
      "layer_types", "per-layer attention types (sliding / full) are not modelled",
      "quantization_config", "the checkpoint's quantization is not a model property: set the datatypes in the execution",
      "mlp_only_layers", "dense layers at arbitrary positions are not modelled",
      "max_window_layers", "sliding-window attention is not modelled",
      "partial_rotary_factor", "the rotary embedding turns this share of each head's dimensions; calculon turns"
          + " them all (element-wise work only, no parameters)");

  /**
   * The model file's sliding-window keys from the config: {@code sliding_window} (tokens) when set
   * and not switched off ({@code use_sliding_window: false}, Qwen2/3), with the blocks that use it
   * from {@code layer_types} (GPT-OSS, newer configs), else {@code sliding_window_pattern} (Gemma 3:
   * every k-th block full), else, for Gemma 2, every second block full (transformers'
   * {@code Gemma2DecoderLayer}: {@code is_sliding = not bool(layer_idx % 2)}), else every block
   * windowed (Mistral). A window Qwen2/3 turn on ({@code use_sliding_window: true}, which also
   * depends on {@code max_window_layers}) is left unmapped and reported.
   */
  private static Map<String, Object> slidingWindow(JsonNode c, Config cfg, String type, long blocks, String prefix,
                                                   JsonFields j) throws ConfigError {
    Map<String, Object> out = new LinkedHashMap<>();
    JsonNode w = c.get("sliding_window");
    JsonNode use = c.get("use_sliding_window");
    // Qwen2/3's switch is a boolean (transformers' Qwen2Config); a string such as "no" is refused,
    // not read loosely
    Boolean useWindow = use == null || use.isNull() ? null : j.bool(use, prefix + "use_sliding_window");
    boolean switchedOff = Boolean.FALSE.equals(useWindow);
    boolean qwenOn = Boolean.TRUE.equals(useWindow);
    if (w != null && w.isNumber() && w.asDouble() < 0) {
      throw j.error(prefix + "sliding_window", "must be a window in tokens (a positive integer), 0 or null for"
          + " none, got " + w.asText());
    }
    if (w == null || w.isNull() || switchedOff || qwenOn || (w.isNumber() && w.asLong() == 0)) {
      return out;
    }
    out.put("sliding_window", j.integer(w, prefix + "sliding_window"));
    JsonNode types = c.get("layer_types");
    JsonNode pattern = c.has("sliding_window_pattern") ? c.get("sliding_window_pattern") : c.get("_sliding_window_pattern");
    if (types != null && types.isArray() && types.size() == blocks) {
      List<String> list = new ArrayList<>();
      for (JsonNode t : types) {
        list.add(t.asText());
      }
      out.put("layer_types", list);
    } else if (pattern != null && pattern.isNumber()) {
      out.put("sliding_window_pattern", pattern.asLong());
    } else if (type.equals("gemma2")) {
      out.put("sliding_window_pattern", GEMMA2_FULL_EVERY);
    }
    for (String k : List.of("sliding_window", "layer_types", "sliding_window_pattern", "_sliding_window_pattern",
        "use_sliding_window")) {
      cfg.used.add(k);
    }
    return out;
  }

  /**
   * Refuses a calculon model, execution, system or stats file or search results given as CONFIG ({@link FileKind}'s two keys,
   * and no {@code model_type}) with one line saying what it is and what import-hf reads, instead of
   * {@code model_type: "" is not supported}, which reads as if the file were a config of an unknown
   * model. A model file needs no import; the line says where it goes instead.
   *
   * @throws ConfigError {@code models/llama3-8B.json is a calculon model file (hidden, num_blocks), not a
   *                     Hugging Face config.json (...)}
   */
  static void notACalculonFile(JsonNode root, String file) throws ConfigError {
    FileKind kind = root.has("model_type") ? null : FileKind.of(root);
    if (kind == null) {
      return;
    }
    throw ConfigError.sentence(file, file + " is " + (kind == FileKind.SEARCH_RESULTS ? "" : "a ") + "calculon "
        + kind.noun + " (" + kind.keys()
        + "), not a Hugging Face config.json (import-hf reads a model's config.json from its Hugging Face Hub "
        + "repository, with model_type, hidden_size, num_hidden_layers, ..."
        + (kind == FileKind.MODEL ? "; a calculon model file needs no import: give it to llm, lpc or a search as it is)"
            : ")"));
  }

  /** Gemma 2 alternates windowed and full blocks, windowed first: every second block is full. */
  static final long GEMMA2_FULL_EVERY = 2;

  /** A converted model: the model file's keys in order, and what could not be mapped. */
  public record Result(Map<String, Object> model, List<String> notMapped) {}

  /**
   * Converts a parsed config.json.
   *
   * @param root    the config.json object
   * @param file    its name, for messages and the model file's {@code source}
   * @param seqSize the training sequence length to write, or null to take it from the config
   * @throws ConfigError (file, key, rule) when a required key is missing or has the wrong type,
   *                     or the model type is not supported
   */
  public static Result convert(JsonNode root, String file, Long seqSize) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(root, "", "a Hugging Face config.json");
    notACalculonFile(root, file);
    List<String> notes = new ArrayList<>();
    String prefix = "";
    JsonNode c = root;
    JsonNode text = root.get("text_config");
    if (text != null && !text.isNull()) {
      // transformers' multimodal configs (Gemma3Config, LlavaConfig) hold the language model's config here
      j.object(text, "text_config", "the language model's config of a multimodal config.json");
      c = text;
      prefix = "text_config.";
      notes.add("vision_config: the vision tower is not mapped (text model only)");
    }
    Config cfg = new Config(j, c, prefix);
    String type = modelType(root, c, prefix, j);
    cfg.used.add("model_type");
    boolean deepseek = type.startsWith("deepseek");
    boolean gemma = type.startsWith("gemma");
    boolean nemotron = type.equals("nemotron");

    long hidden = cfg.positive("hidden_size");
    long heads = cfg.positive("num_attention_heads");
    long blocks = cfg.positive("num_hidden_layers");
    long kvHeads = cfg.has("num_key_value_heads") ? cfg.positive("num_key_value_heads") : heads;
    long vocab = cfg.positive("vocab_size");
    long intermediate = cfg.positive("intermediate_size");
    // transformers' config classes: Gemma ties its embeddings by default, the others do not
    boolean tied = cfg.bool("tie_word_embeddings", gemma);

    // an absent hidden_act is transformers' default (silu for the Llama family); an explicit null is
    // no activation at all, which no supported model has: refused, not read as the default
    if (!cfg.has("hidden_activation") && c.has("hidden_act") && c.get("hidden_act").isNull()) {
      throw j.error(prefix + "hidden_act", "is null: name the MLP's activation (silu, gelu*, or relu2 for nemotron),"
          + " or leave the key out for silu");
    }
    String act = cfg.has("hidden_activation") ? cfg.string("hidden_activation", null) : cfg.string("hidden_act", "silu");
    if (cfg.has("hidden_activation")) {
      cfg.used.add("hidden_act");
    }
    String mlp;
    if (nemotron) {
      // NemotronMLP: down_proj(act_fn(up_proj(x))), no gate
      if (!act.equals("relu2")) {
        throw j.error(prefix + "hidden_act", "\"" + act + "\" is not an MLP calculon models for nemotron (relu2: squared_relu)");
      }
      mlp = "squared_relu";
    } else if (act.equals("silu") || act.equals("swish")) {
      mlp = "swiglu";
    } else if (act.startsWith("gelu")) {
      mlp = "geglu";
    } else {
      throw j.error(prefix + "hidden_act", "\"" + act + "\" is not a gated MLP calculon models (silu: SwiGLU, gelu*: GeGLU)");
    }

    // Biases: gpt-oss has them on every projection and expert; Llama-style configs say so per
    // part; Qwen2 has them on q, k and v only (modeling_qwen2.py), which a model file cannot say.
    boolean attnBias = cfg.bool("attention_bias", type.equals("gpt_oss"));
    boolean mlpBias = cfg.bool("mlp_bias", type.equals("gpt_oss"));
    boolean bias = attnBias && mlpBias;
    long attnSize;
    Map<String, Object> mla = null;
    if (deepseek) {
      long nope = cfg.positive("qk_nope_head_dim");
      long rope = cfg.nonNegative("qk_rope_head_dim");
      attnSize = nope + rope;
      mla = new LinkedHashMap<>();
      mla.put("q_lora_rank", cfg.isNull("q_lora_rank") ? 0L : cfg.nonNegative("q_lora_rank"));
      mla.put("kv_lora_rank", cfg.positive("kv_lora_rank"));
      mla.put("qk_nope_head_dim", nope);
      mla.put("qk_rope_head_dim", rope);
      mla.put("v_head_dim", cfg.positive("v_head_dim"));
      kvHeads = heads;  // MLA has one key and value per head, from the shared latent
      cfg.used.add("head_dim");
    } else if (cfg.has("head_dim") && !cfg.isNull("head_dim")) {
      attnSize = cfg.positive("head_dim");
      if (cfg.has("kv_channels")) {
        cfg.used.add("kv_channels");
      }
    } else if (nemotron && cfg.has("kv_channels") && !cfg.isNull("kv_channels")) {
      attnSize = cfg.positive("kv_channels");  // NeMo's name for the head dimension, in converted configs
    } else {
      // transformers' attention modules: head_dim = getattr(config, "head_dim", hidden_size // num_attention_heads)
      // (modeling_llama.py LlamaAttention; earlier releases raised "hidden_size must be divisible by num_heads")
      if (hidden % heads != 0) {
        throw j.error(prefix + "num_attention_heads", "must divide hidden_size=" + hidden
            + " when head_dim is not given (the head dimension is hidden_size / num_attention_heads), got " + heads);
      }
      attnSize = hidden / heads;
    }
    if (!deepseek && heads % kvHeads != 0) {
      // repeat_kv (modeling_llama.py): each key/value head serves num_attention_heads / num_key_value_heads queries
      throw j.error(prefix + "num_key_value_heads", "must divide num_attention_heads=" + heads
          + " (grouped-query attention shares each key/value head among a whole group of query heads), got " + kvHeads);
    }
    if (type.equals("qwen2") || type.equals("qwen2_moe")) {
      bias = false;
      notes.add("q/k/v projection biases not counted (" + blocks * (heads + 2 * kvHeads) * attnSize
          + " parameters): calculon's bias key covers every linear layer, Qwen2 has them on q, k and v only");
    } else if (attnBias != mlpBias) {
      notes.add("attention_bias=" + attnBias + ", mlp_bias=" + mlpBias + ": biases on only some layers are"
          + " not modelled, bias=false");
    }
    if (type.startsWith("qwen3") || type.startsWith("gemma3")) {
      notes.add("q/k RMSNorm not counted (" + 2 * attnSize * blocks + " parameters)");
    }
    if (gemma) {
      notes.add("post-attention and post-feedforward norms not counted (" + 2 * hidden * blocks + " parameters)");
    }

    // MoE
    Map<String, Object> moe = null;
    long feedforward = intermediate;
    String expertsKey = first(cfg, "num_local_experts", "n_routed_experts", "num_experts");
    if (expertsKey != null && !cfg.isNull(expertsKey) && cfg.positive(expertsKey) > 1) {
      long experts = cfg.positive(expertsKey);
      String topKey = first(cfg, "num_experts_per_tok", "experts_per_token");
      if (topKey == null) {
        throw j.error(prefix + "num_experts_per_tok", "missing (a MoE config needs the experts per token)");
      }
      long topK = cfg.positive(topKey);
      if (topK > experts) {
        throw j.error(prefix + topKey, "must not exceed " + expertsKey + "=" + experts + " (each token is routed to "
            + "that many different experts), got " + topK);
      }
      if (cfg.has("experts_per_token") && cfg.has("num_experts_per_tok")) {
        cfg.used.add("experts_per_token");
      }
      moe = new LinkedHashMap<>();
      moe.put("num_experts", experts);
      moe.put("top_k", topK);
      long expertFf = cfg.has("moe_intermediate_size") ? cfg.positive("moe_intermediate_size") : intermediate;
      long firstDense = deepseek ? cfg.nonNegative("first_k_dense_replace", 0) : 0;
      long interval = 1;
      if (deepseek) {
        interval = cfg.positive("moe_layer_freq", 1);
        if (firstDense % interval != 0) {
          notes.add("moe_layer_freq=" + interval + " with first_k_dense_replace=" + firstDense
              + ": MoE layers are counted from the first MoE layer on");
        }
      } else if (cfg.has("decoder_sparse_step")) {
        // Qwen MoE: layer i is sparse when (i + 1) % step == 0 (modeling_qwen2_moe.py)
        interval = cfg.positive("decoder_sparse_step");
        firstDense = interval - 1;
      }
      if (cfg.has("mlp_only_layers") && cfg.node("mlp_only_layers").isArray() && cfg.node("mlp_only_layers").isEmpty()) {
        cfg.used.add("mlp_only_layers");
      }
      if (firstDense == 0) {
        feedforward = expertFf;  // no dense block: feedforward is the expert width (docs/models.md)
        if (expertFf != intermediate) {
          notes.add("intermediate_size " + intermediate + " unused: every layer is MoE");
        }
      }
      moe.put("expert_feedforward", expertFf);
      long shared = deepseek ? cfg.nonNegative("n_shared_experts", 0) : 0;
      if (shared > 0) {
        moe.put("shared_experts", shared);
        moe.put("shared_feedforward", expertFf);  // DeepSeekMoE: one MLP of n_shared x moe_intermediate_size
      }
      if (cfg.has("shared_expert_intermediate_size") && !cfg.isNull("shared_expert_intermediate_size")
          && cfg.nonNegative("shared_expert_intermediate_size") > 0) {
        moe.put("shared_experts", 1L);
        moe.put("shared_feedforward", cfg.positive("shared_expert_intermediate_size"));
        notes.add("the shared expert's sigmoid gate not counted (" + hidden * blocks + " parameters)");
      }
      if (firstDense > 0) {
        moe.put("first_dense_layers", firstDense);
      }
      if (interval > 1) {
        moe.put("layer_interval", interval);
      }
      if (type.equals("gpt_oss")) {
        notes.add("router biases not counted (" + experts * blocks + " parameters)");
        notes.add("attention sinks not counted (" + heads * blocks + " parameters)");
      }
      if (cfg.string("topk_method", "").equals("noaux_tc")) {
        notes.add("the router's e_score_correction_bias not counted (" + experts * (blocks - firstDense) + " parameters)");
      }
    } else if (expertsKey != null) {
      cfg.used.add(expertsKey);
    }

    // multi-token prediction (DeepSeek-V3's num_nextn_predict_layers): mtp_layers
    long mtp = cfg.has("num_nextn_predict_layers") ? cfg.nonNegative("num_nextn_predict_layers", 0) : 0;
    cfg.used.add("num_nextn_predict_layers");

    Map<String, Object> window = slidingWindow(c, cfg, type, blocks, prefix, j);

    // sequence length
    long seq;
    String seqFrom;
    JsonNode scaling = c.get("rope_scaling");
    if (scaling != null && !scaling.isNull()) {
      j.object(scaling, prefix + "rope_scaling", "transformers' rope_scaling: an object such as {\"rope_type\": \"llama3\", ...}, or null");
    }
    if (seqSize != null) {
      seq = seqSize;
      seqFrom = "--seq-size";
    } else if (scaling != null && scaling.isObject() && scaling.has("original_max_position_embeddings")) {
      String field = prefix + "rope_scaling.original_max_position_embeddings";
      seq = j.integer(scaling.get("original_max_position_embeddings"), field);
      if (seq < 1) {
        throw j.error(field, "must be a positive integer, got " + seq);
      }
      seqFrom = "rope_scaling.original_max_position_embeddings";
    } else if (cfg.has("initial_context_length")) {
      seq = cfg.positive("initial_context_length");
      seqFrom = "initial_context_length";
    } else {
      seq = cfg.positive("max_position_embeddings");
      seqFrom = "max_position_embeddings";
    }
    cfg.used.add("rope_scaling");
    cfg.used.add("initial_context_length");
    cfg.used.add("max_position_embeddings");
    // the advice only when the length came from the config: a --seq-size the user gave is theirs
    notes.add(0, "seq_size " + seq + " from " + seqFrom
        + (seqSize != null ? "" : " (give --seq-size for your training sequence length)"));

    for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (cfg.used.contains(k) || NO_EFFECT.contains(k) || DROPOUT_KEYS.contains(k) || k.equals("text_config")
          || k.equals("vision_config")) {
        continue;
      }
      JsonNode v = c.get(k);
      boolean off = v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isArray() && v.isEmpty())
          || (k.equals("sliding_window") && v.isNumber() && v.asLong() == 0);
      if ((k.equals("sliding_window") || k.equals("max_window_layers"))
          && cfg.has("use_sliding_window") && !c.get("use_sliding_window").asBoolean(true)) {
        off = true;  // Qwen2/3: the window is off unless use_sliding_window
      }
      if (off || k.equals("use_sliding_window") || k.equals("sliding_window_size") || k.equals("sliding_window_pattern")
          || k.equals("_sliding_window_pattern")) {
        if (!off && !c.has("sliding_window")) {
          notes.add(prefix + k + ": " + NOT_MODELLED.get("sliding_window"));
        }
        continue;
      }
      // the value beside the key when it is one number (partial_rotary_factor 0.5, say)
      String shown = v.isNumber() ? k + " " + v.asText() : k;
      notes.add(prefix + shown + ": " + NOT_MODELLED.getOrDefault(k, "not mapped (no calculon model key)"));
    }

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hidden", hidden);
    m.put("feedforward", feedforward);
    m.put("seq_size", seq);
    m.put("attn_heads", heads);
    m.put("attn_size", attnSize);
    m.put("num_blocks", blocks);
    m.put("num_kv_heads", kvHeads);
    m.put("mlp", mlp);
    m.put("vocab_size", vocab);
    m.put("tied_embeddings", tied);
    m.put("position_embedding", "rope");
    m.put("bias", bias);
    m.put("norm", nemotron ? "layernorm" : "rmsnorm");
    // dropout probabilities as the config writes them (Llama, Mistral, Qwen, DeepSeek: 0.0);
    // absent, the model file's defaults apply (0.1, Megatron-LM's, docs/reference.md)
    for (String k : DROPOUT_KEYS) {
      if (c.has(k) && !c.get(k).isNull()) {
        m.put(k, probability(j, c.get(k), prefix + k));
      }
    }
    if (mla != null) {
      m.put("mla", mla);
    }
    if (moe != null) {
      m.put("moe", moe);
    }
    if (mtp > 0) {
      m.put("mtp_layers", mtp);
    }
    m.putAll(window);
    String name = root.path("_name_or_path").asText("");
    m.put("source", "calculon import-hf of " + file + " (model_type " + type + (name.isEmpty() ? "" : ", " + name)
        + "). Not mapped: " + (notes.size() > 1 ? String.join("; ", notes.subList(1, notes.size())) : "nothing") + ".");
    refusedModel(m, file);
    return new Result(m, notes);
  }

  /**
   * The {@code model_type} that decides the mapping: the text model's ({@code text_config.model_type})
   * when a multimodal config names one, else the root's. It must be a string in {@link #MODEL_TYPES}
   * (transformers' {@code CONFIG_MAPPING} names them case-sensitively); a misspelt one
   * ({@code lama}, {@code mixtrall}, {@code qwen-3}) gets {@link NearMiss#didYouMean}'s hint.
   *
   * @throws ConfigError {@code model_type: missing: ...}, {@code model_type: is null: ...},
   *                     {@code model_type: must be a string naming the model type (...), got 3},
   *                     {@code model_type: "lama" is not supported (supported: ...) (did you mean "llama"?)}
   */
  static String modelType(JsonNode root, JsonNode c, String prefix, JsonFields j) throws ConfigError {
    boolean inText = !prefix.isEmpty() && c.has("model_type") && !c.get("model_type").isNull();
    JsonNode v = inText ? c.get("model_type") : root.get("model_type");
    String field = inText ? prefix + "model_type" : "model_type";
    String supported = "supported: " + String.join(", ", MODEL_TYPES);
    if (v == null) {
      // a config.json always names its model_type (transformers' PretrainedConfig.to_dict writes it)
      throw j.error(field, "missing: a Hugging Face config.json names its model type (" + supported + ")");
    }
    if (v.isNull()) {
      throw j.error(field, "is null: a Hugging Face config.json names its model type (" + supported + ")");
    }
    if (!v.isTextual()) {
      throw j.error(field, "must be a string naming the model type (" + supported + "), got " + JsonFields.describe(v));
    }
    String type = v.textValue();
    if (!MODEL_TYPES.contains(type)) {
      throw j.error(field, JsonFields.describe(v) + " is not supported (" + supported + ")"
          + NearMiss.didYouMean(type, MODEL_TYPES));
    }
    return type;
  }

  /**
   * The last guard: the converted model read back as a model file ({@link ApplicationReader#read}),
   * so a config that passes every check above but still makes a model calculon refuses (a
   * {@code layer_types} entry that is neither attention kind, say) is one line here, naming the
   * model file's key and rule, and nothing is written.
   *
   * @throws ConfigError {@code FILE: converts to a model file calculon refuses: KEY: RULE}
   */
  private static void refusedModel(Map<String, Object> m, String file) throws ConfigError {
    try {
      ApplicationReader.read(TREE.valueToTree(m), file);
    } catch (ConfigError e) {
      throw ConfigError.sentence(file, file + ": converts to a model file calculon refuses: "
          + (e.field() == null || e.field().isEmpty() ? "" : e.field() + ": ") + e.rule());
    }
  }

  /** Turns the converted model's map into the tree the model-file reader reads. */
  private static final ObjectMapper TREE = new ObjectMapper();

  /** A dropout probability: a number from 0 to 1 (torch.nn.Dropout refuses any other). */
  private static double probability(JsonFields j, JsonNode v, String field) throws ConfigError {
    double p = j.number(v, field);
    if (!(p >= 0 && p <= 1)) {
      throw j.error(field, "must be a probability between 0 and 1, got " + JsonFields.describe(v));
    }
    return p;
  }

  private static String first(Config cfg, String... keys) {
    for (String k : keys) {
      if (cfg.has(k)) {
        return k;
      }
    }
    return null;
  }

  /** Reads keys of one config object and remembers which were read. */
  private static final class Config {
    final JsonFields j;
    final JsonNode c;
    final String prefix;
    final Set<String> used = new LinkedHashSet<>();

    Config(JsonFields j, JsonNode c, String prefix) {
      this.j = j;
      this.c = c;
      this.prefix = prefix;
    }

    boolean has(String k) { return c.has(k); }

    boolean isNull(String k) {
      used.add(k);
      return c.get(k) == null || c.get(k).isNull();
    }

    JsonNode node(String k) {
      used.add(k);
      return c.get(k);
    }

    long positive(String k) throws ConfigError { return atLeast(k, 1, "must be a positive integer"); }

    long positive(String k, long dflt) throws ConfigError { return present(k) ? positive(k) : dflt; }

    long nonNegative(String k) throws ConfigError { return atLeast(k, 0, "must be 0 or more"); }

    long nonNegative(String k, long dflt) throws ConfigError { return present(k) ? nonNegative(k) : dflt; }

    /** Whether key {@code k} is there and not null. */
    private boolean present(String k) { return c.has(k) && !c.get(k).isNull(); }

    /** The integer at key {@code k} (required), at least {@code min}; else an error naming the key and the rule. */
    private long atLeast(String k, long min, String rule) throws ConfigError {
      used.add(k);
      long v = j.integer(j.member(c, prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), k, null), prefix + k);
      if (v < min) {
        throw j.error(prefix + k, rule + ", got " + v);
      }
      return v;
    }

    boolean bool(String k, boolean dflt) throws ConfigError {
      used.add(k);
      return present(k) ? j.bool(c.get(k), prefix + k) : dflt;
    }

    String string(String k, String dflt) throws ConfigError {
      used.add(k);
      if (!c.has(k) || c.get(k).isNull()) {
        if (dflt == null) {
          throw j.error(prefix + k, "missing");
        }
        return dflt;
      }
      return j.string(c.get(k), prefix + k, null);
    }
  }
}
