package calculon.search.output;

import calculon.util.AtomicFile;

import calculon.search.Partition;
import calculon.search.ResultSink;
import calculon.search.SearchResult;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code llm-all-executions} output: a CSV with header {@code <execution keys>,<stats keys>}
 * and one row per good execution, streamed as partitions complete (in enumeration order) into a
 * temporary file that {@link #commit()} renames over the target.
 */
public final class CsvRows implements ResultSink, AutoCloseable {
  /** A row's length in characters, about (megatron-126M rows: 1,300-1,500); only sizes buffers. */
  private static final int ROW_CHARS_GUESS = 1600;

  private final AtomicFile file;
  private final OutputStream out;
  private long rows;

  /** Whether rows carry {@link ResultFormat#EXTRA_EXECUTION_KEYS} (a search beyond Calculon's space). */
  private final boolean extended;

  /** The search template's columns ({@link ResultFormat#templateColumns}); empty without a template. */
  private final List<String> template;

  /** Rows of the reference's columns. */
  public CsvRows(Path out) throws IOException {
    this(out, false);
  }

  /** Rows with, when {@code extended}, the extra execution columns of a search beyond Calculon's space. */
  public CsvRows(Path out, boolean extended) throws IOException {
    this(out, extended, List.of());
  }

  /**
   * Rows with, when {@code extended}, the extra execution columns of a search beyond Calculon's
   * space, then the {@code template} columns ({@link ResultFormat#templateColumns}).
   */
  public CsvRows(Path out, boolean extended, List<String> template) throws IOException {
    this.extended = extended;
    this.template = List.copyOf(template);
    if (ResultWriter.formatOf(out) != ResultWriter.Format.CSV) {
      throw new IllegalArgumentException("llm-all-executions writes CSV only (.csv or .csv.gz): " + out);
    }
    this.file = new AtomicFile(out);
    this.out = file.stream();
    this.out.write(headerBytes(extended, this.template));
  }

  @Override
  public void accept(Partition partition, List<SearchResult> results, boolean partial)
      throws IOException {
    accept(partition, results, partial, prepare(partition, results));
  }

  /**
   * The rows of one partition's results as UTF-8 bytes (thread-safe: the search calls it from its
   * workers, so formatting, the bulk of an {@code lae} run's work, runs on all of them).
   */
  @Override
  public Object prepare(Partition partition, List<SearchResult> results) {
    return new Rows(rowBytes(results, extended, template), results.size());
  }

  /**
   * The CSV rows of {@code results} as this writer writes them, UTF-8, each ending in a line
   * break, header not included (thread-safe; {@code -d}'s output estimate formats its sample
   * with it).
   *
   * @param extended with the extra execution columns of a search beyond Calculon's space
   */
  public static byte[] rowBytes(List<SearchResult> results, boolean extended) {
    return rowBytes(results, extended, List.of());
  }

  /** As {@link #rowBytes(List, boolean)}, with the {@code template} columns' values ({@link ResultFormat#templateColumns}). */
  public static byte[] rowBytes(List<SearchResult> results, boolean extended, List<String> template) {
    PyFormat.ReprMemo memo = PyFormat.threadMemo();
    StringBuilder sb = new StringBuilder(results.size() * ROW_CHARS_GUESS);
    for (SearchResult r : results) {
      appendValues(sb, r, memo, extended, template);
      sb.append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The header line as this writer writes it, UTF-8, line break included. */
  public static byte[] headerBytes(boolean extended) {
    return headerBytes(extended, List.of());
  }

  /** As {@link #headerBytes(boolean)}, with the {@code template} columns. */
  public static byte[] headerBytes(boolean extended, List<String> template) {
    return ResultFormat.csvHeader(extended, false, template).getBytes(StandardCharsets.UTF_8);
  }

  /** Writes rows {@link #prepare} made, in the order the search hands them over. */
  @Override
  public void accept(Partition partition, List<SearchResult> results, boolean partial, Object prepared)
      throws IOException {
    Rows r = prepared instanceof Rows p ? p : (Rows) prepare(partition, results);
    out.write(r.bytes());
    rows += r.count();
  }

  /** Formatted rows and how many. */
  private record Rows(byte[] bytes, int count) {}

  public long rows() { return rows; }

  /** Finishes the file and puts it in place. */
  public void commit() throws IOException {
    out.flush();
    file.commit();
  }

  /** Finishes the file under another name in the same folder (an interrupted search's partial rows); the target is untouched. */
  public void commitAs(Path other) throws IOException {
    out.flush();
    file.commitAs(other);
  }

  @Override
  public void close() {
    file.abort();
  }

  /**
   * Appends {@code ,v1,v2,...}: the execution values (with the extra ones when {@code extended},
   * then the {@code template} columns') then the stats values.
   */
  static void writeValues(Appendable w, SearchResult r, boolean extended, List<String> template) throws IOException {
    StringBuilder sb = new StringBuilder(ROW_CHARS_GUESS);
    sb.append(',');
    appendValues(sb, r, PyFormat.threadMemo(), extended, template);
    w.append(sb);
  }

  /**
   * Appends {@code v1,v2,...}: the execution values then the stats values, each as Python's
   * {@code str} writes it ({@link ResultFormat#pyStr}; floats through {@code memo}), quoted as
   * {@link ResultFormat#csvField} says; a template column the execution does not carry is an
   * empty cell.
   */
  private static void appendValues(StringBuilder sb, SearchResult r, PyFormat.ReprMemo memo, boolean extended,
                                   List<String> template) {
    boolean first = true;
    List<Object> values = ResultFormat.executionValues(r.execution());
    if (extended || !template.isEmpty()) {
      values = new java.util.ArrayList<>(values);
      if (extended) {
        values.addAll(ResultFormat.extraExecutionValues(r.execution()));
      }
      values.addAll(ResultFormat.templateValues(r.execution(), template));
    }
    for (Object v : values) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      if (v == null) {
        continue;  // a template key this execution does not carry: an empty cell, read back as absent
      }
      if (v instanceof Integer i) {
        sb.append(i.intValue()); // Python's str of an int: its digits, never quoted
      } else {
        sb.append(ResultFormat.csvField(ResultFormat.pyStr(v)));
      }
    }
    Stats stats = r.stats();
    for (StatField f : StatField.all()) {
      sb.append(',');
      // a float's repr or None: never a comma, quote or line break, so never quoted
      sb.append(stats.isNull(f) ? ResultFormat.pyStr(null) : memo.repr(stats.get(f)));
    }
  }
}
