package calculon.search.output;

import calculon.config.Execution;
import calculon.model.BlockBuilder;
import calculon.model.ModelVersion;
import calculon.search.SearchTemplate;
import calculon.stats.ExecutionDict;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a search result looks in output files: the execution as the reference's search writes it
 * (the 32 keys of the Calculon-MoE execution file without {@code activation_function}, which the
 * reference's search dicts omit; the comm type is the one the model ran) and the stats in
 * {@link StatField} order.
 */
public final class ResultFormat {
  private ResultFormat() {}

  /** Execution keys of search outputs, in order. */
  public static final List<String> EXECUTION_KEYS =
      List.copyOf(Arrays.asList(Execution.FIELDS).subList(0, Execution.FIELDS.length - 1));

  /** Stats keys, in order. */
  public static final List<String> STATS_KEYS =
      Arrays.stream(StatField.all()).map(f -> f.key).toList();

  /** The execution's values, in {@link #EXECUTION_KEYS} order (Integer, Boolean or String). */
  public static List<Object> executionValues(Execution e) {
    return List.of(e.numProcs(), e.tensorPar(), e.pipelinePar(), e.dataPar(), e.tensorParNet(),
        e.pipelineParNet(), e.dataParNet(), e.batchSize(), e.microbatchSize(), e.numExperts(),
        e.topKExperts(), e.expertPar(), e.expertSlice(), e.dataParExp(), e.dataParExpNet(),
        e.expertParNet(), e.expertSliceNet(), e.datatype().jsonName, e.fusedActivation(),
        e.attentionType().jsonName, e.activationRecompute().jsonName, e.pipelineInterleaving(),
        e.optimizerSharding(), e.effectiveTpCommType().jsonName, e.tensorParOverlap().jsonName,
        e.seqParAgRedo(), e.dataParOverlap(), e.weightOffload(), e.activationsOffload(),
        e.optimizerOffload(), e.training(), e.modelMoE());
  }

  /** The execution of a result in Calculon's space: {@link #executionJson(Execution, boolean)} without the extra keys. */
  public static Map<String, Object> executionJson(Execution e) {
    return executionJson(e, false);
  }

  /**
   * The execution of a result as JSON: {@link #EXECUTION_KEYS}, then with {@code extended} (a
   * search beyond Calculon's space, which the corrected model's searches are) the values of
   * {@link #EXTRA_EXECUTION_KEYS} as the execution ran them, given or defaulted (so a reader sees
   * the ZeRO stage and CP of every result, as the CSV shows them), then the other optional keys
   * the execution says (layer options, storage datatypes, schedule and MoE keys from the search's
   * template), so that an entry runs again with {@code llm} as it ran; without {@code extended}
   * (calculon-moe) not the keys that model ignores ({@code ExecutionDict.IGNORED_BY_CALCULON_MOE}).
   */
  public static Map<String, Object> executionJson(Execution e, boolean extended) {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Object> v = executionValues(e);
    for (int i = 0; i < EXECUTION_KEYS.size(); i++) {
      m.put(EXECUTION_KEYS.get(i), v.get(i));
    }
    if (extended) {
      List<Object> extra = extraExecutionValues(e);
      for (int i = 0; i < EXTRA_EXECUTION_KEYS.size(); i++) {
        m.put(EXTRA_EXECUTION_KEYS.get(i), extra.get(i));
      }
    }
    // the optional keys the execution says (absent from the reference's outputs): layer options,
    // storage datatypes, ZeRO stage and CP, schedule
    calculon.stats.ExecutionDict.optionalKeys(e).forEach((k, x) -> {
      // a calculon-moe search ran without the corrected-model keys it ignores: its results leave them out
      if (extended || !calculon.stats.ExecutionDict.IGNORED_BY_CALCULON_MOE.contains(k)) {
        m.putIfAbsent(k, x);
      }
    });
    return m;
  }

  /**
   * Execution columns a CSV of a search beyond Calculon's space adds after {@link #EXECUTION_KEYS}
   * (and keys its JSON entries always hold): what that space enumerates (ZeRO stage, CP degree,
   * tier and comm type, pipeline schedule) and whether the attention is one fused kernel (the
   * corrected model's default, or the search's {@code --[no-]flash-attention} / template).
   */
  public static final List<String> EXTRA_EXECUTION_KEYS = List.of(
      "zero_stage", "context_par", "context_par_net", "context_par_comm_type", "pipeline_schedule",
      "flash_attention");

  /**
   * The values of {@link #EXTRA_EXECUTION_KEYS} as the execution runs them in the corrected model
   * (the only one whose searches go beyond Calculon's space).
   */
  public static List<Object> extraExecutionValues(Execution e) {
    return List.of(e.zeroStage(), e.contextPar(), e.contextParNet(), e.parallel().contextParCommType().jsonName,
        e.pipelineSchedule().jsonName, BlockBuilder.usesFlashAttention(e, ModelVersion.CORRECTED));
  }

  /** The CSV header's execution keys: the reference's, and with {@code extended} the extra ones. */
  public static List<String> executionColumns(boolean extended) {
    if (!extended) {
      return EXECUTION_KEYS;
    }
    List<String> all = new ArrayList<>(EXECUTION_KEYS);
    all.addAll(EXTRA_EXECUTION_KEYS);
    return all;
  }

  /**
   * The header line of a search's CSV, line end included: {@code <execution columns>,<stats keys>}
   * ({@link #executionColumns}, {@link #STATS_KEYS}), after an unnamed index column (a leading
   * {@code ,}) when {@code indexed}: the best executions' file, whose rows start with their rank
   * (the reference writes it with pandas' {@code to_csv}, index included); the rows of
   * {@code llm-all-executions} have no index. The one place both CSV writers take it from.
   */
  public static String csvHeader(boolean extended, boolean indexed) {
    return csvHeader(extended, indexed, List.of());
  }

  /**
   * As {@link #csvHeader(boolean, boolean)}, with the {@code template} columns
   * ({@link #templateColumns}) after the execution columns and before the stats.
   */
  public static String csvHeader(boolean extended, boolean indexed, List<String> template) {
    return (indexed ? "," : "") + String.join(",", executionColumns(extended))
        + (template.isEmpty() ? "" : "," + String.join(",", template)) + ","
        + String.join(",", STATS_KEYS) + "\n";
  }

  /**
   * The CSV columns a search's template adds, in {@link ExecutionDict#optionalKeys} order: the
   * optional keys {@code template} gives its executions ({@code recompute_method},
   * {@code recompute_num_layers}, {@code recompute_modules}, {@code attention_kernel},
   * {@code elementwise_kernels}, {@code loss_kernel}, {@code fsdp_impl}, {@code optimizer_kernel}, the storage datatypes,
   * {@code fp8_recipe}, the MoE dispatch keys, ...) less those {@link #executionColumns} already
   * holds ({@code flash_attention} with {@code extended}) and, without {@code extended}
   * (calculon-moe), less those that model ignores ({@link ExecutionDict#IGNORED_BY_CALCULON_MOE},
   * as its JSON entries leave them out). Empty without a template, so a search without one writes
   * the columns it always wrote. A row whose execution does not carry one of them (a template's
   * {@code recompute_method} applies to full recompute only, {@code recompute_modules} to the
   * rest: {@code SearchTemplate#layerOptionsFor}) leaves its cell empty, which {@code convert} and
   * {@code report} read as absent.
   *
   * @param template the keys every execution of the search carries (after {@code relevantTo})
   */
  public static List<String> templateColumns(SearchTemplate template, boolean extended) {
    List<String> out = new ArrayList<>();
    List<String> base = executionColumns(extended);
    for (String k : ExecutionDict.templateKeys(template.layerOptions(), template.precision(), template.moe()).keySet()) {
      if (!base.contains(k) && (extended || !ExecutionDict.IGNORED_BY_CALCULON_MOE.contains(k))) {
        out.add(k);
      }
    }
    return List.copyOf(out);
  }

  /**
   * The values of {@code columns} ({@link #templateColumns}) as {@code e} ran them, null for a key
   * {@code e} does not carry (an empty cell).
   */
  public static List<Object> templateValues(Execution e, List<String> columns) {
    if (columns.isEmpty()) {
      return List.of();
    }
    Map<String, Object> given = ExecutionDict.optionalKeys(e);
    List<Object> out = new ArrayList<>(columns.size());
    for (String k : columns) {
      out.add(given.get(k));
    }
    return out;
  }

  /**
   * One stats value: a Double, or null for JSON null. The reference writes some fields as Python
   * ints; {@link Stats} does not say which yet, so all numbers are written as floats (numerically
   * equal; the one place to change when it does).
   */
  public static Object statValue(Stats s, StatField f) {
    return s.isNull(f) ? null : s.get(f);
  }

  public static Map<String, Object> statsJson(Stats s, boolean withLayers) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (StatField f : StatField.all()) {
      m.put(f.key, statValue(s, f));
    }
    if (withLayers && s.layers() != null) {
      m.put("layers", layersJson(s));
    }
    return m;
  }

  public static List<Object> layersJson(Stats s) {
    List<Object> out = new ArrayList<>();
    if (s.layers() == null) {
      return out;
    }
    for (Stats.LayerStats l : s.layers()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (LayerField f : LayerField.all()) {
        m.put(f.key, f == LayerField.NAME ? l.name() : (Object) l.get(f));
      }
      out.add(m);
    }
    return out;
  }

  /**
   * A value as Python's {@code str} writes it in the reference's CSV files; a list (a template's
   * {@code recompute_modules}) as Python writes a list of strings, {@code ['core_attn', 'mlp']},
   * which {@code convert} and {@code report} read back as the list.
   */
  public static String pyStr(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof List<?> list) {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < list.size(); i++) {
        Object x = list.get(i);
        b.append(i == 0 ? "" : ", ").append(x instanceof String str ? "'" + str + "'" : pyStr(x));
      }
      return b.append(']').toString();
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Double d) {
      return calculon.util.PyFormat.repr(d);
    }
    return v.toString();
  }

  /** A CSV field: quoted (RFC 4180) only when it holds a comma, quote or line break. */
  public static String csvField(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ',' || c == '"' || c == '\n' || c == '\r') {
        return '"' + s.replace("\"", "\"\"") + '"';
      }
    }
    return s;
  }
}
