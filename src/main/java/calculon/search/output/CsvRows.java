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

  public CsvRows(Path out) throws IOException {
    if (ResultWriter.formatOf(out) != ResultWriter.Format.CSV) {
      throw new IllegalArgumentException("llm-all-executions writes CSV only (.csv or .csv.gz): " + out);
    }
    this.file = new AtomicFile(out);
    this.w = ResultWriter.writer(file);
    w.write(String.join(",", ResultFormat.EXECUTION_KEYS));
    w.write(',');
    w.write(String.join(",", ResultFormat.STATS_KEYS));
    w.write('\n');
  }

  @Override
  public void accept(Partition partition, List<SearchResult> results, boolean partial)
      throws IOException {
    for (SearchResult r : results) {
      StringBuilder sb = new StringBuilder(2048);
      writeValues(sb, r);
      // drop the leading comma: rows here have no index column
      w.append(sb, 1, sb.length());
      w.write('\n');
      rows++;
    }
  }

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

  /** Appends {@code ,v1,v2,...}: the execution values then the stats values. */
  static void writeValues(Appendable w, SearchResult r) throws IOException {
    for (Object v : ResultFormat.executionValues(r.execution())) {
      w.append(',').append(ResultFormat.csvField(ResultFormat.pyStr(v)));
    }
    for (StatField f : StatField.all()) {
      w.append(',').append(ResultFormat.csvField(ResultFormat.pyStr(ResultFormat.statValue(r.stats(), f))));
    }
  }
}
