package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The three kinds of input file, a sweep SPEC, and the stats files, search results, sweep outputs
 * and sweep records calculon writes, told
 * apart by two keys only that kind has, so that a file given in another's place (model and
 * execution swapped on the command line, or a stats file given to report as --model) is named as
 * such, instead of a list of unknown keys with a misleading near-miss ({@code num_procs: unknown
 * key (did you mean "num_blocks"?)}).
 */
public enum FileKind {
  MODEL("a", "model file", "hidden", "num_blocks"),
  EXECUTION("an", "execution file", "num_procs", "tensor_par"),
  SYSTEM("a", "system file", "matrix", "networks"),
  /** What {@code llm} writes: the stats keys (StatField), of which these two come first and last. */
  STATS("a", "stats file", "block_fw_flops", "sample_rate"),
  /**
   * A sweep's output as {@code convert} writes it to JSON: {@code {"0": {"sweep": {point, model,
   * system, <grid fields>, rank, status}, "execution": {...}, "stats": {...}}, ...}}; its two keys
   * are entry "0"'s (before {@link #SEARCH_RESULTS}, whose two keys its entries have too).
   */
  SWEEP_OUTPUT("a", "sweep output", "sweep", "execution", true),
  /**
   * What the searches write, best first: {@code {"0": {"execution": {...}, "stats": {...}}, ...}};
   * its two keys are those of entry "0".
   */
  SEARCH_RESULTS("", "search results", "execution", "stats", true),
  /**
   * A {@code calculon sweep} SPEC (docs/sweeps.md): its lists of model and system files, which
   * every SPEC has (SweepSpec's required keys).
   */
  SWEEP_SPEC("a", "sweep spec", "models", "systems"),
  /**
   * The record {@code calculon sweep} writes beside its OUTPUT ({@code OUTPUT.spec.json}:
   * {@code {"fingerprint": ..., "format": ..., "spec": {...}}}, SweepOutput).
   */
  SWEEP_RECORD("a", "sweep output's record", "fingerprint", "spec");

  /** With its article: "a model file". */
  final String name;
  /** Without article: "model file". */
  final String noun;
  private final String key1, key2;
  /** Whether the two keys are entry "0"'s (the outputs with one entry per execution), not the file's. */
  private final boolean inEntryZero;

  FileKind(String article, String noun, String key1, String key2) {
    this(article, noun, key1, key2, false);
  }

  FileKind(String article, String noun, String key1, String key2, boolean inEntryZero) {
    this.noun = noun;
    this.name = article.isEmpty() ? noun : article + " " + noun;
    this.key1 = key1;
    this.key2 = key2;
    this.inEntryZero = inEntryZero;
  }

  /** The two keys that mark this kind, as messages list them: "hidden, num_blocks" or "\"0\": execution, stats". */
  String keys() {
    return (inEntryZero ? "\"0\": " : "") + key1 + ", " + key2;
  }

  String key1() {
    return key1;
  }

  String key2() {
    return key2;
  }

  /** Whether {@code node} (an object) has this kind's two keys (in its entry "0" for the outputs so marked). */
  boolean marks(JsonNode node) {
    JsonNode n = inEntryZero ? node.path("0") : node;
    return n.has(key1) && n.has(key2);
  }

  /** Whether this is one of the three input kinds (model, execution, system), not an output calculon writes. */
  public boolean isInput() {
    return this == MODEL || this == EXECUTION || this == SYSTEM;
  }

  /** The kind whose two keys {@code node} has, or null (not an object, or no kind's pair). */
  static FileKind of(JsonNode node) {
    if (node == null || !node.isObject()) {
      return null;
    }
    for (FileKind k : values()) {
      if (k.marks(node)) {
        return k;
      }
    }
    return null;
  }

  /**
   * What a swapped file's line says where the files are a command's positional arguments, the one
   * place their order is the mistake ({@link #where}).
   */
  public static final String ARGUMENT_ORDER = "the command's --help lists its arguments in order";

  /** How {@link #check}'s line ends, before {@link #where} adds where the file was given. */
  private static final String CHECK_WHERE = ": check which file goes where";

  /**
   * Refuses {@code node}, read where {@code expected} belongs, when it has the two keys of another
   * kind and neither of {@code expected}'s: one line naming both kinds. The reader does not know
   * whether the file came as a positional argument, an option or a sweep spec's entry: the caller
   * that does adds it ({@link #where}).
   *
   * @throws ConfigError {@code file: this looks like an execution file (num_procs, tensor_par), not a
   *                     model file: check which file goes where}
   */
  static void check(JsonNode node, String file, FileKind expected) throws ConfigError {
    FileKind k = misplaced(node, expected);
    if (k != null) {
      throw new ConfigError(file, "", "this looks like " + k.name + " (" + k.keys() + "), not " + expected.name
          + CHECK_WHERE);
    }
  }

  /**
   * {@code e} with {@code where} in brackets when it is {@link #check}'s line (a file of another
   * input kind), else {@code e} itself: {@code ... not an execution file: check which file goes
   * where (the command's --help lists its arguments in order)} for positional arguments
   * ({@link #ARGUMENT_ORDER}), {@code (--execution-template takes an execution file)} for an option.
   */
  public static ConfigError where(ConfigError e, String where) {
    if (e.rule().startsWith("this looks like ") && e.rule().endsWith(CHECK_WHERE)) {
      return new ConfigError(e.file(), e.field(), e.rule() + " (" + where + ")");
    }
    return e;
  }

  /**
   * The kind {@code node}, read where {@code expected} belongs, looks like instead: another kind
   * whose two keys it has while it has neither of {@code expected}'s (what {@link #check}
   * refuses); null otherwise (not an object, {@code expected}'s keys, or no kind's pair).
   */
  public static FileKind misplaced(JsonNode node, FileKind expected) {
    if (node == null || !node.isObject() || node.has(expected.key1) || node.has(expected.key2)) {
      return null;
    }
    // of() cannot give expected back: the node has neither of its keys
    return of(node);
  }

  /**
   * Whether {@code node} has one of the two keys that mark this kind (in its entry "0" for the
   * outputs so marked): every file of an input kind has both, so a file with neither is another file.
   */
  public boolean hasAKey(JsonNode node) {
    JsonNode n = inEntryZero ? node.path("0") : node;
    return n.has(key1) || n.has(key2);
  }

  /** With its article and the two keys that mark it, as messages name it: "a model file (hidden, num_blocks)". */
  public String described() {
    return name + " (" + keys() + ")";
  }

  /**
   * Refuses {@code node}, read where a file other than the three input kinds belongs (the report's
   * stats file or search results), when it has the two keys of one of them: one line naming the
   * kind it looks like and {@code expected}.
   *
   * @param expected what belongs there, with its article: "a stats file or search results"
   * @throws ConfigError {@code file: this looks like a model file (hidden, num_blocks), not a stats
   *                     file or search results: check which file goes where (...)}
   */
  public static void checkNoInputFile(JsonNode node, String file, String expected) throws ConfigError {
    FileKind k = of(node);
    if (k != null && k.isInput()) {
      // report's RESULTS, a positional argument
      throw swapped(file, k.name + " (" + k.keys() + ")", expected, ARGUMENT_ORDER);
    }
  }

  /**
   * The one line of every file given in another argument's place, by its content (the kinds
   * here) or by its name ({@code sweep}'s SPEC and OUTPUT, {@code report}'s RESULTS and REPORT):
   * {@code FILE: this looks like LOOKS, not EXPECTED: check which file goes where (WHERE)}, exit 2.
   *
   * @param file      the argument as the user gave it
   * @param looksLike what it looks like, with its article and why: "a sweep output (.csv)"
   * @param expected  what belongs there, with its article: "a sweep spec (.json)"
   * @param where     the right order: "SPEC first, then OUTPUT: calculon sweep spec.json out.csv"
   */
  public static ConfigError swapped(String file, String looksLike, String expected, String where) {
    return new ConfigError(file, "", "this looks like " + looksLike + ", not " + expected
        + ": check which file goes where (" + where + ")");
  }
}
