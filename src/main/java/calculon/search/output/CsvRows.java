package calculon.search.output;

import calculon.util.AtomicFile;

import calculon.search.Partition;
import calculon.search.ResultSink;
import calculon.search.SearchResult;
import calculon.stats.StatField;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code llm-all-executions} output: a CSV with header {@code <execution keys>,<stats keys>}
 * and one row per good execution, streamed as partitions complete (in enumeration order) into a
 * temporary file that {@link #commit()} renames over the target.
 */
public final class CsvRows implements ResultSink, AutoCloseable {
  private final AtomicFile file;
  private final Writer w;
  private long rows;

  /** Whether rows carry {@link ResultFormat#EXTRA_EXECUTION_KEYS} (a search beyond Calculon's space). */
  private final boolean extended;

  /** Rows of the reference's columns. */
  public CsvRows(Path out) throws IOException {
    this(out, false);
  }

  /** Rows with, when {@code extended}, the extra execution columns of a search beyond Calculon's space. */
  public CsvRows(Path out, boolean extended) throws IOException {
    this.extended = extended;
    if (ResultWriter.formatOf(out) != ResultWriter.Format.CSV) {
      throw new IllegalArgumentException("llm-all-executions writes CSV only (.csv or .csv.gz): " + out);
    }
    this.file = new AtomicFile(out);
    this.w = ResultWriter.writer(file);
    w.write(String.join(",", ResultFormat.executionColumns(extended)));
    w.write(',');
    w.write(String.join(",", ResultFormat.STATS_KEYS));
    w.write('\n');
  }

  @Override
  public void accept(Partition partition, List<SearchResult> results, boolean partial)
      throws IOException {
    accept(partition, results, partial, prepare(partition, results));
  }

  /** The rows of one partition's results (thread-safe: the search calls it from its workers). */
  @Override
  public Object prepare(Partition partition, List<SearchResult> results) {
    StringBuilder sb = new StringBuilder(results.size() * 2600);
    try {
      for (SearchResult r : results) {
        int start = sb.length();
        writeValues(sb, r, extended);
        // drop the leading comma: rows here have no index column
        sb.deleteCharAt(start);
        sb.append('\n');
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // a StringBuilder does not throw
    }
    return new Rows(sb, results.size());
  }

  /** Writes rows {@link #prepare} made, in the order the search hands them over. */
  @Override
  public void accept(Partition partition, List<SearchResult> results, boolean partial, Object prepared)
      throws IOException {
    Rows r = prepared instanceof Rows p ? p : (Rows) prepare(partition, results);
    w.append(r.text());
    rows += r.count();
  }

  /** Formatted rows and how many. */
  private record Rows(CharSequence text, int count) {}

  public long rows() { return rows; }

  /** Finishes the file and puts it in place. */
  public void commit() throws IOException {
    w.flush();
    file.commit();
  }

  /** Finishes the file under another name in the same folder (an interrupted search's partial rows); the target is untouched. */
  public void commitAs(Path other) throws IOException {
    w.flush();
    file.commitAs(other);
  }

  @Override
  public void close() {
    file.abort();
  }

  /** Appends {@code ,v1,v2,...}: the execution values (with the extra ones when {@code extended}) then the stats values. */
  static void writeValues(Appendable w, SearchResult r, boolean extended) throws IOException {
    for (Object v : ResultFormat.executionValues(r.execution())) {
      w.append(',').append(ResultFormat.csvField(ResultFormat.pyStr(v)));
    }
    if (extended) {
      for (Object v : ResultFormat.extraExecutionValues(r.execution())) {
        w.append(',').append(ResultFormat.csvField(ResultFormat.pyStr(v)));
      }
    }
    for (StatField f : StatField.all()) {
      w.append(',').append(ResultFormat.csvField(ResultFormat.pyStr(ResultFormat.statValue(r.stats(), f))));
    }
  }
}
