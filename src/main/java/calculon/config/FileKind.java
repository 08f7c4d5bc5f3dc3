package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The three kinds of input file, told apart by two keys only that kind has, so that a file given
 * in another's place (model and execution swapped on the command line) is named as such, instead
 * of a list of unknown keys with a misleading near-miss ({@code num_procs: unknown key (did you
 * mean "num_blocks"?)}).
 */
public enum FileKind {
  MODEL("a", "model file", "hidden", "num_blocks"),
  EXECUTION("an", "execution file", "num_procs", "tensor_par"),
  SYSTEM("a", "system file", "matrix", "networks");

  /** With its article: "a model file". */
  final String name;
  /** Without article: "model file". */
  final String noun;
  private final String key1, key2;

  FileKind(String article, String noun, String key1, String key2) {
    this.noun = noun;
    this.name = article + " " + noun;
    this.key1 = key1;
    this.key2 = key2;
  }

  /** The two keys that mark this kind, as messages list them: "hidden, num_blocks". */
  String keys() {
    return key1 + ", " + key2;
  }

  /** The kind whose two keys {@code node} has, or null (not an object, or no kind's pair). */
  static FileKind of(JsonNode node) {
    if (node == null || !node.isObject()) {
      return null;
    }
    for (FileKind k : values()) {
      if (node.has(k.key1) && node.has(k.key2)) {
        return k;
      }
    }
    return null;
  }

  /**
   * Refuses {@code node}, read where {@code expected} belongs, when it has the two keys of another
   * kind and neither of {@code expected}'s: one line naming both kinds and the argument order.
   *
   * @throws ConfigError {@code file: this looks like an execution file (num_procs, tensor_par), not a
   *                     model file: check which file goes where (...)}
   */
  static void check(JsonNode node, String file, FileKind expected) throws ConfigError {
    if (!node.isObject() || node.has(expected.key1) || node.has(expected.key2)) {
      return;
    }
    // of() cannot give expected back: the node has neither of its keys
    FileKind k = of(node);
    if (k != null) {
      throw swapped(k, file, expected.name);
    }
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
    if (k != null) {
      throw swapped(k, file, expected);
    }
  }

  /** The one line of a file of kind {@code k} given where {@code expected} belongs. */
  private static ConfigError swapped(FileKind k, String file, String expected) {
    return new ConfigError(file, "", "this looks like " + k.name + " (" + k.keys() + "), not "
        + expected + ": check which file goes where (the command's --help lists its arguments in order)");
  }
}
