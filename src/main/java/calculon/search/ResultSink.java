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
}
