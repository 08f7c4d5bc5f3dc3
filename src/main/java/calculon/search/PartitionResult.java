package calculon.search;

import java.util.List;

/**
 * What one partition produced: its tallies, its best results, and (for a result sink) all its
 * good results in enumeration order. {@code partial} when a cancel cut it short.
 */
public record PartitionResult(Partition partition, Counts counts, TopN top,
                              List<SearchResult> all, boolean partial) {}
