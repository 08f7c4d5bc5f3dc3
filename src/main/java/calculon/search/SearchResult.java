package calculon.search;

import calculon.config.Execution;
import calculon.stats.Stats;
import java.util.Comparator;

/**
 * One good execution: its stats and where it sits in the enumeration ({@code partition},
 * then {@code seq} inside it), which breaks ties.
 */
public record SearchResult(double sampleRate, Execution execution, Stats stats, int partition,
                           long seq) {

  /**
   * The ranking: higher sample rate first; equal rates in enumeration order (what the reference's
   * stable descending sort over its ordered pool results gives). NaN ranks last.
   */
  public static final Comparator<SearchResult> RANKING = (a, b) -> {
    int c = Double.compare(rank(b.sampleRate), rank(a.sampleRate));
    if (c != 0) {
      return c;
    }
    c = Integer.compare(a.partition, b.partition);
    return c != 0 ? c : Long.compare(a.seq, b.seq);
  };

  static double rank(double rate) {
    return Double.isNaN(rate) ? Double.NEGATIVE_INFINITY : rate;
  }
}
