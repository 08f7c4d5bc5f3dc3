package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Strictly typed access to the members of a parsed configuration file. Every failure becomes a
 * {@link ConfigError} naming the file and the JSON path of the offending value.
 */
final class JsonFields {
  private final String file;

  JsonFields(String file) {
    this.file = file;
  }

  String file() { return file; }

  ConfigError error(String path, String rule) {
    return new ConfigError(file, path, oneLine(rule));
  }

  /** Child path: {@code a} + {@code b} is {@code a.b}; the root is the empty path. */
  static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  static String index(String path, int i) {
    return path + "[" + i + "]";
  }

  /** The JSON value in a short, one-line form for messages: {@code "2"}, {@code 2.5}, {@code a list}. */
  static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      String s = node.toString();
      return s.length() <= 40 ? s : "a list of " + node.size();
    }
    String s = node.toString();
    if (s.length() > 60) {
      s = s.substring(0, 57) + "...";
    }
    return oneLine(s);
  }

  static String oneLine(String s) {
    return s.replaceAll("[\\r\\n\\t]+", " ");
  }

  JsonNode object(JsonNode node, String path, String what) throws ConfigError {
    if (node == null || !node.isObject()) {
      throw error(path, "must be a JSON object" + (what == null ? "" : " (" + what + ")")
          + ", got " + describe(node));
    }
    return node;
  }

  JsonNode array(JsonNode node, String path) throws ConfigError {
    if (node == null || !node.isArray()) {
      throw error(path, "must be a list, got " + describe(node));
    }
    return node;
  }

  /** The member {@code key} of {@code obj}, or an error saying it is missing. */
  JsonNode member(JsonNode obj, String path, String key, String hint) throws ConfigError {
    JsonNode v = obj.get(key);
    if (v == null) {
      throw error(join(path, key), "missing" + (hint == null ? "" : " (" + hint + ")"));
    }
    return v;
  }

  /** Rejects members of {@code obj} not in {@code allowed}, suggesting the closest allowed name. */
  void noUnknownKeys(JsonNode obj, String path, Set<String> allowed, String what) throws ConfigError {
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        unknown.add(k);
      }
    }
    if (unknown.isEmpty()) {
      return;
    }
    String first = unknown.get(0);
    StringBuilder rule = new StringBuilder("unknown key").append(didYouMean(first, allowed));
    if (unknown.size() > 1) {
      rule.append("; also unknown: ").append(String.join(", ", unknown.subList(1, unknown.size())));
    }
    if (what != null) {
      rule.append("; ").append(what);
    }
    throw error(join(path, printable(first)), rule.toString());
  }

  private static String printable(String key) {
    String k = oneLine(key);
    return k.length() > 60 ? k.substring(0, 57) + "..." : k;
  }

  /**
   * The hint for a name {@code given} that is none of {@code allowed} (a misspelt key or value):
   * {@code  (did you mean "x"?)} with the closest allowed name ({@link #closest}), or the empty
   * string when none is close.
   */
  static String didYouMean(String given, Collection<String> allowed) {
    String close = closest(given, allowed);
    return close == null ? "" : " (did you mean \"" + close + "\"?)";
  }

  /**
   * The allowed name closest to {@code key}, ignoring case, if its edit distance (Levenshtein) is
   * at most min(3, max(1, length of {@code key} / 3)) and no other allowed name is as close (a
   * tie, {@code flash4} among {@code flash2} and {@code flash3}, would be a guess); else null.
   */
  static String closest(String key, Collection<String> allowed) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    boolean tie = false;
    for (String a : allowed) {
      int d = editDistance(key.toLowerCase(), a.toLowerCase());
      if (d < bestD) {
        bestD = d;
        best = a;
        tie = false;
      } else if (d == bestD) {
        tie = true;
      }
    }
    return !tie && bestD <= Math.min(3, Math.max(1, key.length() / 3)) ? best : null;
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** A JSON integer (not 2.0, "2" or true) that fits a long. */
  long integer(JsonNode v, String path) throws ConfigError {
    if (v == null || !v.isIntegralNumber()) {
      throw error(path, "must be an integer, got " + describe(v));
    }
    if (!v.canConvertToLong()) {
      throw error(path, "is too large, got " + describe(v));
    }
    return v.longValue();
  }

  /** A JSON integer that fits a Java int. */
  int intValue(JsonNode v, String path) throws ConfigError {
    long x = integer(v, path);
    if (x > Integer.MAX_VALUE || x < Integer.MIN_VALUE) {
      throw error(path, "is too large (at most " + Integer.MAX_VALUE + "), got " + describe(v));
    }
    return (int) x;
  }

  /** Member {@code key} of {@code obj} as an int (see {@link #intValue}). */
  int intKey(JsonNode obj, String key) throws ConfigError {
    return intValue(obj.get(key), key);
  }

  /** Member {@code key} of {@code obj} as a boolean. */
  boolean boolKey(JsonNode obj, String key) throws ConfigError {
    return bool(obj.get(key), key);
  }

  /** A JSON number (integer or decimal). */
  double number(JsonNode v, String path) throws ConfigError {
    if (v == null || !v.isNumber()) {
      throw error(path, "must be a number, got " + describe(v));
    }
    double d = v.doubleValue();
    if (!Double.isFinite(d)) {
      throw error(path, "must be a finite number, got " + describe(v));
    }
    return d;
  }

  boolean bool(JsonNode v, String path) throws ConfigError {
    if (v == null || !v.isBoolean()) {
      throw error(path, "must be true or false, got " + describe(v));
    }
    return v.booleanValue();
  }

  String string(JsonNode v, String path, String choices) throws ConfigError {
    if (v == null || !v.isTextual()) {
      throw error(path, "must be a string" + (choices == null ? "" : " (one of " + choices + ")")
          + ", got " + describe(v));
    }
    return v.textValue();
  }

  /**
   * A string that must be one of {@code names} (an enumerated value). Otherwise the rule is
   * {@code must be one of "a", "b", got "x"}, with {@link #didYouMean} when one name is close, or
   * {@code must be a string (one of "a", "b"), got 3} when it is no string.
   */
  String oneOf(JsonNode v, String path, List<String> names) throws ConfigError {
    List<String> quoted = new ArrayList<>();
    for (String n : names) {
      quoted.add("\"" + n + "\"");
    }
    String choices = String.join(", ", quoted);
    String s = string(v, path, choices);
    if (!names.contains(s)) {
      throw error(path, "must be one of " + choices + ", got " + describe(v) + didYouMean(s, names));
    }
    return s;
  }

  /**
   * The constant of {@code all} whose JSON name ({@code nameOf}) is the string at {@code path}; the
   * rules and messages are {@link #oneOf}'s.
   */
  <E extends Enum<E>> E enumValue(JsonNode v, String path, E[] all, Function<E, String> nameOf)
      throws ConfigError {
    List<String> names = new ArrayList<>();
    for (E e : all) {
      names.add(nameOf.apply(e));
    }
    return all[names.indexOf(oneOf(v, path, names))];
  }

  /** Member {@code key} of {@code obj} as an enum constant (see {@link #enumValue}). */
  <E extends Enum<E>> E enumKey(JsonNode obj, String key, E[] all, Function<E, String> nameOf) throws ConfigError {
    return enumValue(obj.get(key), key, all, nameOf);
  }

  /** A number formatted for messages: integers without ".0". */
  static String fmt(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
  }
}
