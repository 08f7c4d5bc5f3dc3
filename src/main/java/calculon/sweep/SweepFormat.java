package calculon.sweep;

import calculon.util.Csv;
import calculon.util.PyFormat;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a sweep's rows are written: CSV (RFC 4180 quoting, records end with LF) or JSON Lines (one object per line, keys in column order). One record is always one
 * line (messages are made one-line), so a resumed sweep can cut a file at a line end. Numbers are
 * written as Python's {@code repr} (shortest round trip) so both formats hold the exact doubles;
 * a missing or non-finite value is an empty CSV cell and a JSON {@code null}.
 */
public enum SweepFormat {
  CSV(".csv"),
  JSONL(".jsonl");

  public final String extension;

  SweepFormat(String extension) { this.extension = extension; }

  /** The format of an output file name, or null when its extension is neither. */
  public static SweepFormat of(String fileName) {
    for (SweepFormat f : values()) {
      if (fileName.endsWith(f.extension)) {
        return f;
      }
    }
    return null;
  }

  /** The header line (CSV), or null (JSON Lines has none). */
  public String header(List<String> columns) {
    if (this == JSONL) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    Csv.appendRecord(b, columns);
    return b.append('\n').toString();
  }

  /** One record, with its line end. Cells: String, Long/Integer, Double, Boolean or null. */
  public String record(List<String> columns, List<Object> cells) {
    StringBuilder b = new StringBuilder();
    if (this == CSV) {
      List<String> text = new ArrayList<>(cells.size());
      for (Object c : cells) {
        text.add(csvText(c));
      }
      Csv.appendRecord(b, text);
      return b.append('\n').toString();
    }
    b.append('{');
    for (int i = 0; i < columns.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      quote(b, columns.get(i));
      b.append(": ");
      Object c = cells.get(i);
      if (c == null || (c instanceof Double d && !Double.isFinite(d))) {
        b.append("null");
      } else if (c instanceof String s) {
        quote(b, s);
      } else if (c instanceof Double d) {
        b.append(PyFormat.repr(d));
      } else {
        b.append(c);
      }
    }
    return b.append("}\n").toString();
  }

  /**
   * A complete record line read back: each column's cell as text ({@code ""} for a missing value;
   * CSV booleans {@code True}/{@code False}, JSON Lines {@code true}/{@code false}), or null when
   * the line is not a record of {@code columns} in this format.
   */
  public Map<String, String> cells(String line, List<String> columns) {
    List<String> text;
    if (this == CSV) {
      try {
        text = new Csv.RecordReader(new StringReader(line)).next();
      } catch (IOException e) {
        return null;
      }
    } else {
      JsonNode n;
      try {
        n = MAPPER.readTree(line);
      } catch (IOException e) {
        return null;
      }
      if (n == null || !n.isObject()) {
        return null;
      }
      text = new ArrayList<>();
      for (String c : columns) {
        JsonNode v = n.get(c);
        text.add(v == null || v.isNull() ? "" : v.isTextual() ? v.asText() : v.toString());
      }
    }
    if (text == null || text.size() != columns.size()) {
      return null;
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < columns.size(); i++) {
      m.put(columns.get(i), text.get(i));
    }
    return m;
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A cell as the CSV writes it: empty for null or a non-finite number, True/False, repr floats. */
  public static String csvText(Object c) {
    if (c == null || (c instanceof Double d && !Double.isFinite(d))) {
      return "";
    }
    if (c instanceof Double d) {
      return PyFormat.repr(d);
    }
    if (c instanceof Boolean bo) {
      return bo ? "True" : "False";
    }
    return c.toString();
  }

  private static void quote(StringBuilder b, String s) {
    b.append('"').append(JsonStringEncoder.getInstance().quoteAsString(s)).append('"');
  }

  /**
   * The point index a complete record starts with (its first cell / the "point" member), or -1
   * when the line is not a record of this format.
   */
  public long pointOf(String line) {
    int i = 0;
    if (this == JSONL) {
      String p = "{\"point\": ";
      if (!line.startsWith(p)) {
        return -1;
      }
      i = p.length();
    }
    int j = i;
    while (j < line.length() && Character.isDigit(line.charAt(j))) {
      j++;
    }
    if (j == i || j >= line.length() || line.charAt(j) != ',') {
      return -1;
    }
    try {
      return Long.parseLong(line.substring(i, j));
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
