package calculon.search.output;

import calculon.util.PyFormat;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Writes maps, lists, strings, booleans, integers, doubles and null as Python's
 * {@code json.dumps} does: with {@code indent=2} ({@code ","} and {@code ": "} separators, one item
 * a line) or without indent ({@code ", "} and {@code ": "}). Doubles are Python {@code repr}s;
 * NaN and infinities use Python's non-standard tokens.
 */
public final class PyJson {
  private PyJson() {}

  public static void write(Appendable out, Object value, boolean indent) throws IOException {
    write(out, value, indent ? 0 : -1);
  }

  private static void write(Appendable out, Object v, int level) throws IOException {
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      string(out, s);
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Double d) {
      out.append(number(d));
    } else if (v instanceof Float f) {
      out.append(number(f.doubleValue()));
    } else if (v instanceof Number n) {
      out.append(n.toString());
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        out.append("{}");
        return;
      }
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          out.append(level < 0 ? ", " : ",");
        }
        first = false;
        newline(out, level < 0 ? -1 : level + 1);
        string(out, String.valueOf(e.getKey()));
        out.append(": ");
        write(out, e.getValue(), level < 0 ? -1 : level + 1);
      }
      newline(out, level);
      out.append('}');
    } else if (v instanceof List<?> l) {
      if (l.isEmpty()) {
        out.append("[]");
        return;
      }
      out.append('[');
      boolean first = true;
      for (Object o : l) {
        if (!first) {
          out.append(level < 0 ? ", " : ",");
        }
        first = false;
        newline(out, level < 0 ? -1 : level + 1);
        write(out, o, level < 0 ? -1 : level + 1);
      }
      newline(out, level);
      out.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass());
    }
  }

  /** A double as Python's json module writes it. */
  public static String number(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    return PyFormat.repr(d);
  }

  private static void newline(Appendable out, int level) throws IOException {
    if (level < 0) {
      return;
    }
    out.append('\n');
    for (int i = 0; i < level; i++) {
      out.append("  ");
    }
  }

  private static void string(Appendable out, String s) throws IOException {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c > 0x7f) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
