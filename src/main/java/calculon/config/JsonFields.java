package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
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

  /** Rejects members of {@code obj} not in {@code allowed}, suggesting the closest allowed name ({@link NearMiss#unknownKeys}). */
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
    throw error(join(path, printable(unknown.get(0))), NearMiss.unknownKeys(unknown, allowed, what));
  }

  private static String printable(String key) {
    String k = oneLine(key);
    return k.length() > 60 ? k.substring(0, 57) + "..." : k;
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
   * {@code must be one of "a", "b", got "x"}, with {@link NearMiss#didYouMean} when one name is close, or
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
      throw error(path, "must be one of " + choices + ", got " + describe(v) + NearMiss.didYouMean(s, names));
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
