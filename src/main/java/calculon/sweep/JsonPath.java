package calculon.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A path into a JSON document as a sweep's grid names it: object keys joined by dots, array
 * elements by {@code [i]}, e.g. {@code mem1.GiB}, {@code networks[1].bandwidth},
 * {@code matrix.bfloat16.tflops}. A key holding a dot cannot be named (no calculon file has one).
 */
public final class JsonPath {
  /** One step: an object key, or an array index when {@code key} is null. */
  private record Step(String key, int index) {}

  private final String text;
  private final List<Step> steps;

  private JsonPath(String text, List<Step> steps) {
    this.text = text;
    this.steps = steps;
  }

  /**
   * Parses {@code a.b[2].c}.
   *
   * @throws IllegalArgumentException with the rule the text breaks
   */
  public static JsonPath parse(String text) {
    List<Step> steps = new ArrayList<>();
    if (text.isEmpty()) {
      throw new IllegalArgumentException("an empty path");
    }
    for (String part : text.split("\\.", -1)) {
      int br = part.indexOf('[');
      String key = br < 0 ? part : part.substring(0, br);
      if (key.isEmpty()) {
        throw new IllegalArgumentException("an empty key in path '" + text + "'");
      }
      steps.add(new Step(key, -1));
      String rest = br < 0 ? "" : part.substring(br);
      while (!rest.isEmpty()) {
        int close = rest.indexOf(']');
        if (!rest.startsWith("[") || close < 2) {
          throw new IllegalArgumentException("a bad index in path '" + text + "' (write name[0])");
        }
        int idx;
        try {
          idx = Integer.parseInt(rest.substring(1, close));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("a bad index in path '" + text + "' (write name[0])");
        }
        if (idx < 0) {
          throw new IllegalArgumentException("a negative index in path '" + text + "'");
        }
        steps.add(new Step(null, idx));
        rest = rest.substring(close + 1);
      }
    }
    return new JsonPath(text, List.copyOf(steps));
  }

  /**
   * The paths of every number, boolean and string of {@code root} (the fields a grid can sweep),
   * written as {@link #parse} reads them ({@code mem1.GiB}, {@code networks[0].bandwidth}): the
   * candidates of a misspelt grid field's "did you mean".
   */
  public static List<String> leaves(JsonNode root) {
    List<String> out = new ArrayList<>();
    leaves(root, "", out);
    return out;
  }

  private static void leaves(JsonNode node, String at, List<String> out) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> leaves(e.getValue(), at.isEmpty() ? e.getKey() : at + "." + e.getKey(), out));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        leaves(node.get(i), at + "[" + i + "]", out);
      }
    } else if (!at.isEmpty() && (node.isNumber() || node.isBoolean() || node.isTextual())) {
      out.add(at);
    }
  }

  /** The first key: which top-level member of the file the path lies under. */
  public String firstKey() { return steps.get(0).key(); }

  /** The node at this path in {@code root}, or null when a step does not exist. */
  public JsonNode get(JsonNode root) {
    JsonNode n = root;
    for (Step s : steps) {
      if (n == null) {
        return null;
      }
      n = s.key() != null ? (n.isObject() ? n.get(s.key()) : null) : (n.isArray() ? n.get(s.index()) : null);
    }
    return n;
  }

  /**
   * Where this path indexes past the end of a list of {@code root}, the rule to tell the user:
   * {@code networks[2] is past the end of networks (2 entries: networks[0] to networks[1])};
   * null when every index it takes exists (or the path leaves the document before any index).
   */
  public String indexBeyond(JsonNode root) {
    JsonNode n = root;
    StringBuilder at = new StringBuilder();
    for (Step s : steps) {
      if (n == null) {
        return null;
      }
      if (s.key() != null) {
        at.append(at.length() == 0 ? "" : ".").append(s.key());
        n = n.isObject() ? n.get(s.key()) : null;
      } else {
        if (n.isArray() && s.index() >= n.size()) {
          String list = at.toString();
          return list + "[" + s.index() + "] is past the end of " + list + " (" + n.size()
              + (n.size() == 1 ? " entry: " + list + "[0])"
                 : n.isEmpty() ? " entries)" : " entries: " + list + "[0] to " + list + "[" + (n.size() - 1) + "])");
        }
        at.append('[').append(s.index()).append(']');
        n = n.isArray() ? n.get(s.index()) : null;
      }
    }
    return null;
  }

  /**
   * Replaces the value at this path (which must exist: {@link #get} not null) in {@code root}, a
   * mutable copy the caller owns.
   */
  public void set(JsonNode root, JsonNode value) {
    JsonNode parent = root;
    for (int i = 0; i < steps.size() - 1; i++) {
      Step s = steps.get(i);
      parent = s.key() != null ? parent.get(s.key()) : parent.get(s.index());
    }
    Step last = steps.get(steps.size() - 1);
    if (last.key() != null) {
      ((ObjectNode) parent).set(last.key(), value);
    } else {
      ((ArrayNode) parent).set(last.index(), value);
    }
  }

  /**
   * Writes {@code value} at this path into {@code root} (a mutable copy the caller owns), adding
   * the objects of the path's keys that are missing: what a user writing the field into the file
   * would write. Returns false when the path cannot be written so (it indexes a list that is
   * missing or too short, or passes through a value that is not an object or list); {@code root}
   * may then hold some of the objects added.
   */
  public boolean setCreating(JsonNode root, JsonNode value) {
    JsonNode n = root;
    for (int i = 0; i < steps.size() - 1; i++) {
      Step s = steps.get(i);
      JsonNode next = s.key() != null ? (n.isObject() ? n.get(s.key()) : null) : (n.isArray() ? n.get(s.index()) : null);
      if (next == null) {
        if (s.key() == null || !n.isObject() || steps.get(i + 1).key() == null) {
          return false;
        }
        next = ((ObjectNode) n).putObject(s.key());
      }
      n = next;
    }
    Step last = steps.get(steps.size() - 1);
    if (last.key() != null && n.isObject()) {
      ((ObjectNode) n).set(last.key(), value);
      return true;
    }
    if (last.key() == null && n.isArray() && last.index() < n.size()) {
      ((ArrayNode) n).set(last.index(), value);
      return true;
    }
    return false;
  }

  @Override
  public String toString() { return text; }
}
