package calculon.search;

import java.util.ArrayList;
import java.util.List;

/**
 * The candidate generators of Calculon-MoE ({@code llm.py:272-382}, {@code optimal_execution.py:165-174}),
 * as plain functions returning ascending lists. Microbatch sizes are returned without the
 * reference's repeated last candidate; {@link SearchSpace} accounts for that repeat separately.
 */
public final class Enumerators {
  private Enumerators() {}

  /** Divisors of x, ascending (1..x). */
  public static List<Integer> factors(long x) {
    List<Integer> out = new ArrayList<>();
    for (long c = 1; c <= x; c++) {
      if (x % c == 0) {
        out.add((int) c);
      }
    }
    return out;
  }

  /** Divisors c of N with H % c == 0 and A % c == 0. */
  public static List<Integer> tensorParallelisms(long numProcs, long hidden, long attnHeads) {
    List<Integer> out = new ArrayList<>();
    for (int c : factors(numProcs)) {
      if (hidden % c == 0 && attnHeads % c == 0) {
        out.add(c);
      }
    }
    return out;
  }

  /** Divisors c of min(N/t, L) with N % (t c) == 0 and L % c == 0. */
  public static List<Integer> pipelineParallelisms(long numProcs, long tensorPar, long numBlocks) {
    if (numProcs % tensorPar != 0) {
      throw new IllegalArgumentException("num_procs=" + numProcs + " not divisible by " + tensorPar);
    }
    List<Integer> out = new ArrayList<>();
    for (int c : factors(Math.min(numProcs / tensorPar, numBlocks))) {
      if (numProcs % (tensorPar * c) == 0 && numBlocks % c == 0) {
        out.add(c);
      }
    }
    return out;
  }

  /** [1] when PP == 1, else the divisors of L/PP. */
  public static List<Integer> pipelineInterleavings(long numBlocks, long pipelinePar) {
    if (pipelinePar == 1) {
      return List.of(1);
    }
    return factors(numBlocks / pipelinePar);
  }

  /** Divisors m of batch/DP with (m S) % TP == 0, ascending, each once. */
  public static int[] microbatchSizes(long seqSize, long tensorPar, long dataPar, long batch) {
    long local = batch / dataPar;
    List<Integer> out = new ArrayList<>();
    for (int m : factors(local)) {
      if ((m * seqSize) % tensorPar == 0) {
        out.add(m);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Divisors of min(E, N) that divide both E and N. */
  public static List<Integer> expertParallelismsFlexible(long numExperts, long numProcs) {
    List<Integer> out = new ArrayList<>();
    for (int c : factors(Math.min(numExperts, numProcs))) {
      if (numExperts % c == 0 && numProcs % c == 0) {
        out.add(c);
      }
    }
    return out;
  }

  /** Divisors of N/EP that divide H. */
  public static List<Integer> expertSliceParallelisms(long expertPar, long numProcs, long hidden) {
    List<Integer> out = new ArrayList<>();
    for (int c : factors(numProcs / expertPar)) {
      if (hidden % c == 0) {
        out.add(c);
      }
    }
    return out;
  }

  /** The largest multiple of DP not above the maximum, or -1 when DP exceeds it. */
  public static int batchSize(int dataPar, int maxBatchSize) {
    if (dataPar > maxBatchSize) {
      return -1;
    }
    return (maxBatchSize / dataPar) * dataPar;
  }
}
