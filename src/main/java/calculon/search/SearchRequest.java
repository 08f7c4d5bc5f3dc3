package calculon.search;

import calculon.config.CpCommType;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.NearMiss;
import calculon.config.Precision;
import calculon.config.SystemSpec;
import calculon.config.TpOverlap;
import calculon.model.ModelVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * The search options beyond Calculon's knobs as a user gives them, on a search command's line
 * ({@code --zero-stages 1,3}) or in a sweep SPEC's {@code search} object ({@code "zero_stages": [1, 3]}),
 * and the rules that check them: one place for both, so a sweep searches what the command searches
 * and rejects what it rejects. A broken rule is an {@link Invalid} naming the {@link Key}; each
 * caller words the key its own way (the flag, or the SPEC field).
 */
public final class SearchRequest {
  private SearchRequest() {}

  /** The options, with the command-line flag and the sweep SPEC key that give each. */
  public enum Key {
    /** {@code --[no-]flash-attention}; errors can only come from the negative form. */
    FLASH_ATTENTION("--no-flash-attention", "flash_attention"),
    PIPELINE_SCHEDULES("--pipeline-schedules", "pipeline_schedules"),
    ZERO_STAGES("--zero-stages", "zero_stages"),
    CONTEXT_PAR("--context-par", "context_par"),
    MAX_CONTEXT_PAR("--max-context-par", "max_context_par"),
    CP_COMM_TYPES("--cp-comm-types", "cp_comm_types"),
    TP_OVERLAPS("--tp-overlaps", "tp_overlaps"),
    /** Its rules are the template file's: their text starts with the file's key. */
    EXECUTION_TEMPLATE("--execution-template", "execution_template");

    /** The flag as an error names it. */
    public final String flag;
    /** The key in a sweep SPEC's {@code search} object. */
    public final String specKey;

    Key(String flag, String specKey) {
      this.flag = flag;
      this.specKey = specKey;
    }
  }

  /**
   * Calculon-MoE's default number of experts for its MoE searches, taken when neither the model
   * ({@code moe.num_experts}) nor the user ({@code -moe}, a sweep's {@code search.experts}) gives one:
   * the fork's {@code llm-optimal-execution-moe} argument default.
   */
  public static final int DEFAULT_EXPERTS = 16;

  /**
   * The note a MoE search of a model without {@code moe.num_experts} gets when nobody gave the
   * number of experts (the search runs with {@link #DEFAULT_EXPERTS}), the same for a search
   * command and a sweep, each naming its own option, in the form of every other note ({@code
   * calculon COMMAND: note: ...}), e.g. {@code calculon llm-optimal-execution-moe: note: m.json has
   * no moe.num_experts: searched as a mixture of experts with -moe's default of 16 experts (give
   * -moe E; a dense model's search is llm-optimal-execution)}.
   *
   * @param command the command that prints it: {@code llm-optimal-execution-moe}, {@code sweep}
   * @param model  the model file as the user named it
   * @param option where the number is given: {@code -moe}, {@code search.experts}
   * @param give   how to give it: {@code -moe E}, {@code "experts": E}
   * @param dense  the dense search: {@code llm-optimal-execution}, {@code "command": "llm-optimal-execution"}
   */
  public static String defaultExpertsNote(String command, String model, String option, String give, String dense) {
    return "calculon " + command + ": note: " + model + " has no moe.num_experts: searched as a mixture of experts with " + option
        + "'s default of " + DEFAULT_EXPERTS + " experts (give " + give + "; a dense model's search is " + dense + ")";
  }

  /** A rule the options break: the option and the rule, without the option's name. */
  public static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;
    private final Key key;
    private final String rule;
    private final String specRule;

    Invalid(Key key, String rule) {
      this(key, rule, rule);
    }

    /** A rule worded one way for the command line ({@code rule}) and one way for a SPEC ({@code specRule}). */
    Invalid(Key key, String rule, String specRule) {
      super(key.flag + ": " + rule, null, false, false);
      this.key = key;
      this.rule = rule;
      this.specRule = specRule;
    }

    public Key key() { return key; }

    /** The rule as the command line says it (naming flags). */
    public String rule() { return rule; }

    /** The rule as a sweep SPEC says it (naming SPEC keys); most rules read the same. */
    public String specRule() { return specRule; }
  }

  /**
   * The space beyond Calculon's knobs that the options ask for (null or false: not given).
   *
   * <p>In the corrected model every ZeRO stage ({@link SpaceAxes#ALL_ZERO_STAGES}) and the
   * long-sequence CP degrees ({@link SpaceAxes#DEFAULT_MIN_CP_RANK_TOKENS}) with both comm types,
   * and Calculon's TP overlap modes ({@link SpaceAxes#DEFAULT_TP_OVERLAPS}), unless the options
   * restrict (or, for the TP overlap modes, widen) them; {@code maxContextPar} alone opens every degree up to it. In
   * calculon-moe Calculon's space ({@link SpaceAxes#CALCULON}, golden parity), where any of these
   * options is an error.
   *
   * @param version           the model version searched
   * @param pipelineSchedules also the corrected model's schedules (docs/schedules.md)
   * @param zeroStages        ZeRO stages, each 0 to 3, once
   * @param contextPars       CP degrees as written: the one word {@code all}, or degrees (each an
   *                          integer above 0, once); {@code contextParsShown} is how the user wrote
   *                          them, for the message
   * @param maxContextPar     the largest CP degree, above 0
   * @param cpCommTypes       {@code context_par_comm_type} names (p2p, a2a, all_gather), each once
   * @param tpOverlaps        {@code tensor_par_overlap} names (none, ring, pipe, async_tp, backward,
   *                          userbuffers), each once ({@link SpaceAxes#DEFAULT_TP_OVERLAPS} when null)
   * @param tpOverlapOff      {@code --no-tp-overlap} (SPEC: {@code tp_overlap: false}) was given: it
   *                          and {@code tpOverlaps} contradict each other
   * @throws Invalid naming the option and the rule
   */
  public static SpaceAxes axes(ModelVersion version, boolean pipelineSchedules, List<Integer> zeroStages,
                               List<String> contextPars, String contextParsShown, Integer maxContextPar,
                               List<String> cpCommTypes, List<String> tpOverlaps, boolean tpOverlapOff)
      throws Invalid {
    if (!version.corrected()) {
      Key given = pipelineSchedules ? Key.PIPELINE_SCHEDULES : zeroStages != null ? Key.ZERO_STAGES
          : contextPars != null ? Key.CONTEXT_PAR : maxContextPar != null ? Key.MAX_CONTEXT_PAR
          : cpCommTypes != null ? Key.CP_COMM_TYPES : tpOverlaps != null ? Key.TP_OVERLAPS : null;
      if (given != null) {
        throw new Invalid(given, "enumerates the corrected model's execution keys; drop it or the model version "
            + version.cliName);
      }
      return SpaceAxes.CALCULON;
    }
    SpaceAxes d = SpaceAxes.correctedDefaults(pipelineSchedules);
    List<Integer> stages = zeroStages == null ? d.zeroStages() : zeroStages;
    if (stages.isEmpty()) {
      throw new Invalid(Key.ZERO_STAGES, "must list at least one stage (0, 1, 2 or 3)");
    }
    for (int z : stages) {
      if (z < 0 || z > 3) {
        throw new Invalid(Key.ZERO_STAGES, "each stage must be 0, 1, 2 or 3, got " + z);
      }
    }
    if (stages.stream().distinct().count() != stages.size()) {
      throw new Invalid(Key.ZERO_STAGES, "a stage is listed twice: " + stages);
    }
    List<Integer> cps = d.contextPars();
    int minTokens = d.minCpRankTokens();
    boolean all = contextPars != null && contextPars.size() == 1 && "all".equals(contextPars.get(0));
    if (all || (contextPars == null && maxContextPar != null)) {
      minTokens = 0;
    } else if (contextPars != null) {
      cps = new ArrayList<>();
      for (String c : contextPars) {
        int v;
        try {
          v = Integer.parseInt(c.trim());
        } catch (NumberFormatException e) {
          v = 0;
        }
        if (v <= 0) {
          throw new Invalid(Key.CONTEXT_PAR, "must be all or a list of degrees above 0 such as 1,2,4, got "
              + contextParsShown + NearMiss.didYouMean(c.trim(), List.of("all")));
        }
        if (cps.contains(v)) {
          throw new Invalid(Key.CONTEXT_PAR, "degree " + v + " is listed twice");
        }
        cps.add(v);
      }
      if (cps.isEmpty()) {
        throw new Invalid(Key.CONTEXT_PAR, "must be all or a list of degrees above 0 such as 1,2,4, got "
            + contextParsShown);
      }
    }
    if (maxContextPar != null && maxContextPar <= 0) {
      throw new Invalid(Key.MAX_CONTEXT_PAR, "must be a positive integer, got " + maxContextPar);
    }
    List<CpCommType> types = new ArrayList<>();
    for (String t : cpCommTypes == null ? List.of("p2p", "a2a") : cpCommTypes) {
      CpCommType c = CpCommType.fromJson(t);
      if (c == null) {
        throw new Invalid(Key.CP_COMM_TYPES, "each type must be p2p, a2a or all_gather, got \"" + t + "\""
            + NearMiss.didYouMean(t, CP_COMM_TYPE_NAMES));
      }
      if (types.contains(c)) {
        throw new Invalid(Key.CP_COMM_TYPES, "a type is listed twice: " + cpCommTypes);
      }
      types.add(c);
    }
    if (types.isEmpty()) {
      throw new Invalid(Key.CP_COMM_TYPES, "must list at least one type (p2p, a2a or all_gather)");
    }
    List<TpOverlap> overlaps = SpaceAxes.DEFAULT_TP_OVERLAPS;
    if (tpOverlaps != null) {
      if (tpOverlapOff) {
        throw new Invalid(Key.TP_OVERLAPS, "cannot be combined with --no-tp-overlap (which searches none only); drop one",
            "cannot be combined with tp_overlap false (which searches none only); drop one");
      }
      overlaps = new ArrayList<>();
      for (String t : tpOverlaps) {
        TpOverlap o = TpOverlap.fromJson(t);
        if (o == null) {
          throw new Invalid(Key.TP_OVERLAPS, "each mode must be " + TP_OVERLAP_NAMES + ", got \"" + t + "\""
              + NearMiss.didYouMean(t, java.util.Arrays.stream(TpOverlap.values()).map(m -> m.jsonName).toList()));
        }
        if (overlaps.contains(o)) {
          throw new Invalid(Key.TP_OVERLAPS, "a mode is listed twice: " + tpOverlaps);
        }
        overlaps.add(o);
      }
      if (overlaps.isEmpty()) {
        throw new Invalid(Key.TP_OVERLAPS, "must list at least one mode (" + TP_OVERLAP_NAMES + ")");
      }
    }
    return new SpaceAxes(stages, cps, maxContextPar == null ? 0 : maxContextPar, minTokens, types, overlaps,
        pipelineSchedules);
  }

  /** The {@code context_par_comm_type} names, for the "did you mean" of a misspelt one. */
  private static final List<String> CP_COMM_TYPE_NAMES =
      java.util.Arrays.stream(CpCommType.values()).map(t -> t.jsonName).toList();

  /** The {@code tensor_par_overlap} names, for messages: "none, ring, pipe, async_tp, backward or userbuffers". */
  private static final String TP_OVERLAP_NAMES;

  static {
    TpOverlap[] all = TpOverlap.values();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < all.length; i++) {
      b.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].jsonName);
    }
    TP_OVERLAP_NAMES = b.toString();
  }

  /**
   * The keys every execution of the search carries: the template file's ({@code --execution-template},
   * null: none) that change something at this search's kind and datatype, then {@code flashAttention}
   * (null: not given; it wins over the file). A dense search drops the template's {@code moe_*} keys
   * and a search whose datatype is not float8 its {@code fp8_recipe}, as the execution reader drops
   * them from a run that has no use for them ({@link #templateIgnoredKeysNote} says so, once).
   *
   * @param template     the template file, read by {@link calculon.config.ExecutionReader#readTemplate}, or null
   * @param templateName the file as the user named it (messages)
   * @param kind         the space searched
   * @param datatype     the search's compute datatype
   */
  public static SearchTemplate template(Execution template, String templateName, SearchKind kind,
                                        Datatype datatype, Boolean flashAttention) {
    SearchTemplate t = SearchTemplate.DEFAULTS;
    if (template != null) {
      t = SearchTemplate.of(template).relevantTo(kind.isMoe(), datatype);
    }
    return t.withFlashAttention(flashAttention);
  }

  /**
   * The template file without the keys {@link #template} drops at this kind and datatype (null for
   * null): what the search's other notes (calculon-moe's ignored keys) may name, so that no key is
   * named twice.
   */
  public static Execution withoutIgnoredKeys(Execution template, SearchKind kind, Datatype datatype) {
    if (template == null) {
      return null;
    }
    Execution out = datatype == Datatype.FLOAT8 ? template : template.withPrecision(template.precision().withoutFp8Recipe());
    return kind.isMoe() ? out : out.withScheduleOptions(template.scheduleOptions().withoutMoeKeys());
  }

  /**
   * The one note of the template's keys a search of this kind and datatype drops
   * ({@link #template}): {@code note: t.json gives a key that changes nothing here, ignored:
   * moe_dispatcher (this search is dense: a dense run sends no tokens to experts); the results are
   * the same without it (docs/reference.md)}, without the {@code calculon COMMAND: } prefix; null
   * when the template (null: none) gives no such key.
   */
  public static String templateIgnoredKeysNote(Execution template, String templateName, SearchKind kind,
                                               Datatype datatype) {
    if (template == null) {
      return null;
    }
    SearchTemplate t = SearchTemplate.of(template);
    boolean fp8 = t.precision().fp8Recipe() != null && datatype != Datatype.FLOAT8;
    return calculon.config.ExecutionReader.ignoredKeysNote(templateName,
        fp8 ? "this search's datatype is \"" + datatype.jsonName + "\"" : null,
        kind.isMoe() ? List.of() : t.moeKeysGiven(), "this search is dense", "the results are");
  }

  /**
   * The execution reader's cross-file rules for the template's keys, for this search's datatype and
   * system: an {@code fp8_recipe} (kept by {@link #template} in float8 searches only) the system's GPU runs ({@link calculon.config.Fp8Recipe#refusalOn}:
   * MXFP8 needs compute capability 10.x or 11.x), an {@code attention_kernel} the system lists, and that kernel
   * only with flash attention.
   *
   * @param templateName the template file as the user named it
   * @param systemName   the system file as the user named it
   * @throws Invalid naming the template ({@link Key#EXECUTION_TEMPLATE}, the rule starting with
   *                 the file's key) or {@link Key#FLASH_ATTENTION}
   */
  public static void checkTemplate(SearchTemplate t, String templateName, Datatype datatype, SystemSpec sys,
                                   String systemName) throws Invalid {
    String refusal = t.precision().fp8Recipe() == null ? null : t.precision().fp8Recipe().refusalOn(sys, systemName);
    if (refusal != null) {
      throw new Invalid(Key.EXECUTION_TEMPLATE, Precision.FP8_RECIPE_KEY + ": " + refusal);
    }
    String kernel = t.layerOptions().attentionKernel();
    if (kernel != null) {
      if (sys.attentionKernels() == null || !sys.attentionKernels().kernels().containsKey(kernel)) {
        throw new Invalid(Key.EXECUTION_TEMPLATE, "attention_kernel: \"" + kernel
            + "\" is not among the kernels of " + systemName);
      }
      if (Boolean.FALSE.equals(t.layerOptions().flashAttention())) {
        throw new Invalid(Key.FLASH_ATTENTION, templateName
            + "'s attention_kernel needs flash attention (the kernel is the fused attention's)");
      }
    }
  }
}
