package calculon.search;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The best {@code n} results by {@link SearchResult#RANKING}. Not thread-safe: each partition
 * fills its own, and {@link #merge} combines them; the outcome does not depend on merge order
 * because the ranking is total.
 */
public final class TopN {
  private final int capacity;
  private final ArrayList<SearchResult> items;

  public TopN(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be > 0");
    }
    this.capacity = capacity;
    this.items = new ArrayList<>(Math.min(capacity, 64) + 1);
  }

  public int capacity() { return capacity; }

  /** Whether a result with this rate, found after all present ones, would be kept. */
  public boolean wouldKeep(double sampleRate) {
    return items.size() < capacity
        || SearchResult.rank(sampleRate) > SearchResult.rank(items.get(items.size() - 1).sampleRate());
  }

  public void offer(SearchResult r) {
    int lo = 0;
    int hi = items.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (SearchResult.RANKING.compare(items.get(mid), r) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo >= capacity) {
      return;
    }
    items.add(lo, r);
    if (items.size() > capacity) {
      items.remove(items.size() - 1);
    }
  }

  public void merge(TopN other) {
    for (SearchResult r : other.items) {
      offer(r);
    }
  }

  public int size() { return items.size(); }

  public SearchResult best() { return items.isEmpty() ? null : items.get(0); }

  /** The kept results, best first. */
  public List<SearchResult> results() { return Collections.unmodifiableList(new ArrayList<>(items)); }
}
