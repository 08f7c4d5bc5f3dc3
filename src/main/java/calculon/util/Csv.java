package calculon.util;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/**
 * CSV as RFC 4180 has it: comma-separated cells, a cell holding a comma, a double quote, CR or LF
 * is quoted with double quotes and its quotes doubled; records end with CRLF or LF.
 */
public final class Csv {
  private Csv() {}

  /** Appends one record (no line end) to {@code out}. */
  public static void appendRecord(StringBuilder out, List<String> cells) {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      appendCell(out, cells.get(i));
    }
  }

  /** Appends one cell, quoted when it must be. */
  public static void appendCell(StringBuilder out, String cell) {
    boolean quote = false;
    for (int i = 0; i < cell.length() && !quote; i++) {
      char c = cell.charAt(i);
      quote = c == ',' || c == '"' || c == '\r' || c == '\n';
    }
    if (!quote) {
      out.append(cell);
      return;
    }
    out.append('"');
    for (int i = 0; i < cell.length(); i++) {
      char c = cell.charAt(i);
      if (c == '"') {
        out.append('"');
      }
      out.append(c);
    }
    out.append('"');
  }

  /** Reads records one at a time from a character stream. */
  public static final class RecordReader {
    private final Reader in;
    private int pushedBack = -2;
    private long line = 1;

    public RecordReader(Reader in) {
      this.in = in;
    }

    /** The line the next record starts on (1-based), for messages. */
    public long line() { return line; }

    /**
     * The next record's cells, or null at the end of the input.
     *
     * @throws IOException on a read error or a quoted cell left open at the end
     */
    public List<String> next() throws IOException {
      int c = read();
      if (c == -1) {
        return null;
      }
      List<String> cells = new ArrayList<>();
      StringBuilder cell = new StringBuilder();
      boolean quoted = false;
      boolean wasQuoted = false;
      while (true) {
        if (quoted) {
          if (c == -1) {
            throw new IOException("a quoted cell is not closed before the end of the file");
          }
          if (c == '"') {
            int d = read();
            if (d == '"') {
              cell.append('"');
            } else {
              quoted = false;
              c = d;
              continue;
            }
          } else {
            if (c == '\n') {
              line++;
            }
            cell.append((char) c);
          }
        } else if (c == '"' && cell.length() == 0 && !wasQuoted) {
          quoted = true;
          wasQuoted = true;
        } else if (c == ',') {
          cells.add(cell.toString());
          cell.setLength(0);
          wasQuoted = false;
        } else if (c == '\r' || c == '\n' || c == -1) {
          if (c == '\r') {
            int d = read();
            if (d != '\n') {
              unread(d);
            }
          }
          if (c != -1) {
            line++;
          }
          cells.add(cell.toString());
          return cells;
        } else {
          cell.append((char) c);
        }
        c = read();
      }
    }

    private int read() throws IOException {
      if (pushedBack != -2) {
        int c = pushedBack;
        pushedBack = -2;
        return c;
      }
      return in.read();
    }

    private void unread(int c) {
      pushedBack = c;
    }
  }
}
