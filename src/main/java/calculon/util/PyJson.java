package calculon.util;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text exactly as Python's {@code json.dumps} writes it (the reference's io.write_json_file):
 * floats as {@code repr}, {@code NaN}/{@code Infinity} tokens, non-ASCII escaped, and with an
 * indent {@code ","} and {@code ": "} separators, without one {@code ", "} and {@code ": "}.
 *
 * <p>Values: {@link Map} (keys written with {@code String.valueOf}, in iteration order, so pass a
 * LinkedHashMap), {@link Iterable}, {@code double[]}, String, Boolean, null, Double/Float (always
 * float form, e.g. {@code 123.0}) and other Numbers (written as integers). Jackson {@link JsonNode}
 * trees are written as they are: integral numbers as ints, others as floats.
 */
public final class PyJson {
  private PyJson() {}

  /** The indent Python's reference uses for .json outputs. */
  public static final int FILE_INDENT = 2;
  /** Pass as indent for Python's {@code indent=None}: one line. */
  public static final int NO_INDENT = -1;

  /** Python {@code json.dumps(value, indent=indent)}; {@link #NO_INDENT} for one line. */
  public static String dumps(Object value, int indent) {
    StringBuilder sb = new StringBuilder();
    try {
      write(sb, value, indent);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringBuilder does not throw
    }
    return sb.toString();
  }

  /** Writes {@code value} as {@link #dumps} would return it. */
  public static void write(Appendable out, Object value, int indent) throws IOException {
    new Emitter(out, indent).value(value, 0);
  }

  /** Whether the reference accepts this file name for JSON: {@code .json} or {@code .json.gz}. */
  public static boolean isJsonExtension(String fileName) {
    return fileName.endsWith(".json") || fileName.endsWith(".json.gz");
  }

  /**
   * Writes {@code value} as the reference's write_json_file does: {@code .json} with indent 2,
   * {@code .json.gz} gzipped on one line; no trailing newline. The text goes to a temporary file
   * in the same folder that is then renamed over {@code path}, so a failure never leaves a
   * half-written file behind.
   *
   * @throws IllegalArgumentException when the name ends neither .json nor .json.gz
   */
  public static void writeFile(Path path, Object value) throws IOException {
    String name = path.getFileName().toString();
    if (!isJsonExtension(name)) {
      throw new IllegalArgumentException("JSON output must end .json or .json.gz: " + path);
    }
    AtomicFile.writeText(path, dumps(value, name.endsWith(".gz") ? NO_INDENT : FILE_INDENT));
  }

  /** Python json's float token: repr, or the non-standard NaN / Infinity / -Infinity. */
  public static String floatToken(double x) {
    if (Double.isNaN(x)) {
      return "NaN";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "Infinity" : "-Infinity";
    }
    return PyFormat.repr(x);
  }

  private static final class Emitter {
    private final Appendable out;
    private final int indent;

    Emitter(Appendable out, int indent) {
      this.out = out;
      this.indent = indent;
    }

    void value(Object v, int depth) throws IOException {
      if (v instanceof JsonNode) {
        node((JsonNode) v, depth);
      } else if (v == null) {
        out.append("null");
      } else if (v instanceof Boolean) {
        out.append((Boolean) v ? "true" : "false");
      } else if (v instanceof Double || v instanceof Float) {
        out.append(floatToken(((Number) v).doubleValue()));
      } else if (v instanceof BigDecimal) {
        out.append(floatToken(((BigDecimal) v).doubleValue()));
      } else if (v instanceof Number) {
        out.append(v.toString());
      } else if (v instanceof CharSequence) {
        string(v.toString());
      } else if (v instanceof Map<?, ?>) {
        Map<?, ?> m = (Map<?, ?>) v;
        if (m.isEmpty()) {
          out.append("{}");
          return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          separator(first, depth + 1);
          first = false;
          string(String.valueOf(e.getKey()));
          out.append(": ");
          value(e.getValue(), depth + 1);
        }
        close('}', depth);
      } else if (v instanceof double[]) {
        double[] a = (double[]) v;
        if (a.length == 0) {
          out.append("[]");
          return;
        }
        out.append('[');
        for (int i = 0; i < a.length; i++) {
          separator(i == 0, depth + 1);
          out.append(floatToken(a[i]));
        }
        close(']', depth);
      } else if (v instanceof Iterable<?>) {
        Iterator<?> it = ((Iterable<?>) v).iterator();
        if (!it.hasNext()) {
          out.append("[]");
          return;
        }
        out.append('[');
        boolean first = true;
        while (it.hasNext()) {
          separator(first, depth + 1);
          first = false;
          value(it.next(), depth + 1);
        }
        close(']', depth);
      } else {
        throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
      }
    }

    void node(JsonNode n, int depth) throws IOException {
      switch (n.getNodeType()) {
        case OBJECT: {
          if (n.size() == 0) {
            out.append("{}");
            return;
          }
          out.append('{');
          boolean first = true;
          Iterator<Map.Entry<String, JsonNode>> it = n.properties().iterator();
          while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            separator(first, depth + 1);
            first = false;
            string(e.getKey());
            out.append(": ");
            node(e.getValue(), depth + 1);
          }
          close('}', depth);
          break;
        }
        case ARRAY: {
          if (n.size() == 0) {
            out.append("[]");
            return;
          }
          out.append('[');
          for (int i = 0; i < n.size(); i++) {
            separator(i == 0, depth + 1);
            node(n.get(i), depth + 1);
          }
          close(']', depth);
          break;
        }
        case NUMBER:
          out.append(n.isIntegralNumber() ? n.bigIntegerValue().toString() : floatToken(n.doubleValue()));
          break;
        case STRING:
          string(n.textValue());
          break;
        case BOOLEAN:
          out.append(n.booleanValue() ? "true" : "false");
          break;
        case NULL:
        case MISSING:
          out.append("null");
          break;
        default:
          throw new IllegalArgumentException("cannot write JSON node " + n.getNodeType());
      }
    }

    /** Before an item: "," unless first, then a newline and indent (or ", " on one line). */
    private void separator(boolean first, int depth) throws IOException {
      if (indent < 0) {
        if (!first) {
          out.append(", ");
        }
        return;
      }
      if (!first) {
        out.append(',');
      }
      newline(depth);
    }

    private void close(char c, int depth) throws IOException {
      if (indent >= 0) {
        newline(depth);
      }
      out.append(c);
    }

    private void newline(int depth) throws IOException {
      out.append('\n');
      for (int i = 0; i < depth * indent; i++) {
        out.append(' ');
      }
    }

    /** A JSON string with Python's ensure_ascii escaping. */
    private void string(String s) throws IOException {
      out.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"': out.append("\\\""); break;
          case '\\': out.append("\\\\"); break;
          case '\n': out.append("\\n"); break;
          case '\r': out.append("\\r"); break;
          case '\t': out.append("\\t"); break;
          case '\b': out.append("\\b"); break;
          case '\f': out.append("\\f"); break;
          default:
            if (c < 0x20 || c > 0x7e) {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
        }
      }
      out.append('"');
    }
  }
}
