package calculon.search;

import java.io.IOException;
import java.util.List;

/**
 * Receives every good result ({@code llm-all-executions}). The search calls
 * {@link #accept} once per partition, in partition order, from one thread at a time, so a sink
 * can stream rows to a file without holding the whole space.
 */
public interface ResultSink {
  /** The good results of one partition, in enumeration order; {@code partial} when cut short by a cancel. */
  void accept(Partition partition, List<SearchResult> results, boolean partial) throws IOException;

  /**
   * Work on one partition's results that can run in the worker thread that found them, in any
   * order and concurrently (formatting rows, say); its value is handed to
   * {@link #accept(Partition, List, boolean, Object)}. Default: nothing (null).
   */
  default Object prepare(Partition partition, List<SearchResult> results) {
    return null;
  }

  /**
   * As {@link #accept(Partition, List, boolean)}, with what {@link #prepare} made of the same
   * results (the search calls this one). Default: ignores it.
   */
  default void accept(Partition partition, List<SearchResult> results, boolean partial, Object prepared)
      throws IOException {
    accept(partition, results, partial);
  }
}
