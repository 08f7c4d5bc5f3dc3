package calculon.report;

import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * What the search report draws from all good executions, in bounded memory however many there
 * are: the best sample rate per (EP, TP, PP) cell for the heatmaps, and a uniform random sample of
 * (tier-1 bytes, sample rate) points for the scatter plot (reservoir sampling, Vitter's algorithm R).
 *
 * <p>Not thread-safe: give each search thread its own and {@link #merge} them at the end.
 */
public final class SearchPoints {
  /** Scatter points kept by default: enough to show the cloud, small enough for an HTML page. */
  public static final int DEFAULT_SAMPLE_SIZE = 5_000;

  /** A heatmap cell. */
  public record Cell(int expertPar, int tensorPar, int pipelinePar) implements Comparable<Cell> {
    @Override
    public int compareTo(Cell o) {
      int c = Integer.compare(expertPar, o.expertPar);
      if (c == 0) {
        c = Integer.compare(tensorPar, o.tensorPar);
      }
      return c != 0 ? c : Integer.compare(pipelinePar, o.pipelinePar);
    }
  }

  private final int capacity;
  private final SplittableRandom random;
  private final Map<Cell, Double> best = new TreeMap<>();
  private final double[] sampleBytes;
  private final double[] sampleRate;
  private int kept;
  private long count;

  /** Keeps up to {@code sampleSize} scatter points, drawn with the given seed (reproducible reports). */
  public SearchPoints(int sampleSize, long seed) {
    if (sampleSize < 1) {
      throw new IllegalArgumentException("sample size must be positive: " + sampleSize);
    }
    this.capacity = sampleSize;
    this.random = new SplittableRandom(seed);
    this.sampleBytes = new double[sampleSize];
    this.sampleRate = new double[sampleSize];
  }

  public SearchPoints() {
    this(DEFAULT_SAMPLE_SIZE, 0);
  }

  /** Records one good execution. */
  public void add(int expertPar, int tensorPar, int pipelinePar, double sampleRate, double tier1Bytes) {
    best.merge(new Cell(expertPar, tensorPar, pipelinePar), sampleRate, Math::max);
    long seen = count++;
    if (kept < capacity) {
      sampleBytes[kept] = tier1Bytes;
      this.sampleRate[kept] = sampleRate;
      kept++;
    } else {
      long j = random.nextLong(seen + 1);
      if (j < capacity) {
        sampleBytes[(int) j] = tier1Bytes;
        this.sampleRate[(int) j] = sampleRate;
      }
    }
  }

  public void add(SearchRow r) {
    add(r.expertPar(), r.tensorPar(), r.pipelinePar(), r.sampleRate(), r.tier1Bytes());
  }

  /** Records an evaluated execution (the stats must carry their execution). */
  public void add(Stats s) {
    add(s.execution().expertPar(), s.execution().tensorPar(), s.execution().pipelinePar(),
        s.get(StatField.SAMPLE_RATE), s.get(StatField.PROC_MEM_TIER1_CAP_REQ));
  }

  /**
   * Adds {@code other}'s executions to this one: best cells combine exactly; the sample stays
   * uniform over both (each kept point of a side stands for count/kept executions of it).
   */
  public SearchPoints merge(SearchPoints other) {
    other.best.forEach((c, v) -> best.merge(c, v, Math::max));
    long total = count + other.count;
    if (kept + other.kept <= capacity) {
      System.arraycopy(other.sampleBytes, 0, sampleBytes, kept, other.kept);
      System.arraycopy(other.sampleRate, 0, sampleRate, kept, other.kept);
      kept += other.kept;
    } else {
      // weighted sampling without replacement (Efraimidis and Spirakis 2006): keys u^(1/w), keep the largest
      int n = kept + other.kept;
      double[] keys = new double[n];
      double wThis = kept == 0 ? 0 : (double) count / kept;
      double wOther = other.kept == 0 ? 0 : (double) other.count / other.kept;
      for (int i = 0; i < n; i++) {
        double w = i < kept ? wThis : wOther;
        keys[i] = Math.pow(random.nextDouble(), 1 / w);
      }
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> Double.compare(keys[b], keys[a]));
      double[] bytes = new double[capacity];
      double[] rates = new double[capacity];
      for (int i = 0; i < capacity; i++) {
        int k = order[i];
        bytes[i] = k < kept ? sampleBytes[k] : other.sampleBytes[k - kept];
        rates[i] = k < kept ? sampleRate[k] : other.sampleRate[k - kept];
      }
      System.arraycopy(bytes, 0, sampleBytes, 0, capacity);
      System.arraycopy(rates, 0, sampleRate, 0, capacity);
      kept = capacity;
    }
    count = total;
    return this;
  }

  /** Good executions recorded. */
  public long count() { return count; }

  /** Best sample rate per cell, in (EP, TP, PP) order. */
  public Map<Cell, Double> best() { return java.util.Collections.unmodifiableMap(best); }

  /** The kept scatter points: {x = tier-1 bytes[], y = sample rate[]}. */
  public double[][] sample() {
    return new double[][] {java.util.Arrays.copyOf(sampleBytes, kept), java.util.Arrays.copyOf(sampleRate, kept)};
  }

  /** The distinct EP values recorded, ascending. */
  List<Integer> expertPars() {
    List<Integer> eps = new ArrayList<>();
    for (Cell c : best.keySet()) {
      if (eps.isEmpty() || eps.get(eps.size() - 1) != c.expertPar()) {
        eps.add(c.expertPar());
      }
    }
    return eps;
  }
}
