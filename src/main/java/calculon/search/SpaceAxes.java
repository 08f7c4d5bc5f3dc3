package calculon.search;

import calculon.config.CpCommType;
import calculon.config.ParallelOptions;
import calculon.config.TpOverlap;
import java.util.List;
import java.util.Objects;

/**
 * The corrected model's execution keys a search enumerates beyond Calculon's space: ZeRO stages
 * ({@code zero_stage}), context-parallel degrees ({@code context_par}) with their network tier and
 * comm type ({@code context_par_comm_type}), the TP overlap modes ({@code tensor_par_overlap}) and
 * pipeline schedules ({@code pipeline_schedule}). {@link #CALCULON} is Calculon's own space
 * (optimizer sharding on and off, no CP, TP overlap none, ring and pipe, Calculon's schedule), which
 * the {@code calculon-moe} searches keep for golden parity.
 *
 * @param zeroStages        ZeRO stages to try where the DP x CP group has more than one rank, in
 *                          enumeration order (Calculon's {@code optimizer_sharding} true, false is
 *                          stages 1, 0); where DP x CP is 1 every stage is the same execution (a
 *                          no-op) and only stage 0 runs
 * @param contextPars       CP degrees allowed, exactly these (each still has to divide the
 *                          processors and the sequence; CP 1 only when listed); {@code [1]}: no
 *                          context parallelism; empty: CP 1 and every degree that divides them, up
 *                          to {@code maxContextPar}
 * @param maxContextPar     the largest CP degree tried (0: no limit)
 * @param minCpRankTokens   with {@code contextPars} empty, try only CP degrees that leave each rank
 *                          at least this many tokens of the sequence (0: no limit); see
 *                          {@link #DEFAULT_MIN_CP_RANK_TOKENS}
 * @param cpCommTypes       the CP comm types tried for CP &gt; 1, in order
 * @param tpOverlaps        the {@code tensor_par_overlap} modes tried for TP &gt; 1, in order, each
 *                          where it can run ({@code SearchSpace}: userbuffers only with sequence
 *                          parallelism); TP 1 runs none only
 * @param pipelineSchedules also enumerate the schedules zb-h1, dualpipe, zb-v and dualpipev
 */
public record SpaceAxes(List<Integer> zeroStages, List<Integer> contextPars, int maxContextPar,
                        int minCpRankTokens, List<CpCommType> cpCommTypes, List<TpOverlap> tpOverlaps,
                        boolean pipelineSchedules) {

  /**
   * The TP overlap modes Calculon searches, in its order (its search's {@code tensor_par_overlap}
   * loop, shared/spec.md section 4.4: none, ring, pipe); the corrected model's default too, so a
   * search without {@code --tp-overlaps} is the one it was.
   */
  public static final List<TpOverlap> DEFAULT_TP_OVERLAPS = List.of(TpOverlap.NONE, TpOverlap.RING, TpOverlap.PIPE);

  /** Calculon's space: optimizer sharding true then false (stages 1, 0), CP 1, TP overlap none, ring, pipe, Calculon's schedule. */
  public static final SpaceAxes CALCULON = new SpaceAxes(List.of(1, 0), List.of(1), 0, 0, List.of(CpCommType.P2P),
      DEFAULT_TP_OVERLAPS, false);

  /** Every stage, Calculon's two first (so ties keep Calculon's choice): 1, 0, 2, 3. */
  public static final List<Integer> ALL_ZERO_STAGES = List.of(1, 0, 2, 3);

  /** Both CP comm types, ring attention first. */
  public static final List<CpCommType> ALL_CP_COMM_TYPES = List.of(CpCommType.P2P, CpCommType.A2A);

  /**
   * Tokens of the sequence each CP rank keeps at least in the default space: context parallelism
   * is the long-context tool (Megatron-Core and NeMo document it for long sequences; Llama 3 405B
   * ran CP 16 only in its long-context stage, 131,072 tokens, so 8,192 per rank: Llama 3 paper,
   * arXiv 2407.21783, Section 3.3.2). Half of Llama 3's share, so that an 8K-token model still tries
   * CP 2. Each CP degree multiplies the space (its tier and two comm types): a search of a short
   * sequence tries CP only when asked ({@code --context-par}).
   */
  public static final int DEFAULT_MIN_CP_RANK_TOKENS = 4096;

  /** The corrected model's default space: every ZeRO stage, the long-sequence CP degrees with both comm types. */
  public static SpaceAxes correctedDefaults(boolean pipelineSchedules) {
    return new SpaceAxes(ALL_ZERO_STAGES, List.of(), 0, DEFAULT_MIN_CP_RANK_TOKENS, ALL_CP_COMM_TYPES,
        DEFAULT_TP_OVERLAPS, pipelineSchedules);
  }

  /** These axes with Calculon's TP overlap modes ({@link #DEFAULT_TP_OVERLAPS}). */
  public SpaceAxes(List<Integer> zeroStages, List<Integer> contextPars, int maxContextPar, int minCpRankTokens,
                   List<CpCommType> cpCommTypes, boolean pipelineSchedules) {
    this(zeroStages, contextPars, maxContextPar, minCpRankTokens, cpCommTypes, DEFAULT_TP_OVERLAPS, pipelineSchedules);
  }

  /**
   * @throws IllegalArgumentException for an empty stage, comm type or overlap list, a value listed
   *                                  twice, a stage outside 0-3, a CP degree or limit below 0
   */
  public SpaceAxes {
    zeroStages = List.copyOf(zeroStages);
    contextPars = List.copyOf(contextPars);
    cpCommTypes = List.copyOf(cpCommTypes);
    tpOverlaps = List.copyOf(tpOverlaps);
    if (zeroStages.isEmpty() || cpCommTypes.isEmpty() || tpOverlaps.isEmpty()) {
      throw new IllegalArgumentException("every enumerated axis needs at least one value");
    }
    for (int z : zeroStages) {
      if (z < 0 || z > ParallelOptions.MAX_ZERO_STAGE) {
        throw new IllegalArgumentException("ZeRO stages are 0 to 3, got " + z);
      }
    }
    for (int c : contextPars) {
      if (c <= 0) {
        throw new IllegalArgumentException("context-parallel degrees must be > 0, got " + c);
      }
    }
    if (zeroStages.stream().distinct().count() != zeroStages.size()
        || contextPars.stream().distinct().count() != contextPars.size()
        || cpCommTypes.stream().distinct().count() != cpCommTypes.size()
        || tpOverlaps.stream().distinct().count() != tpOverlaps.size()) {
      throw new IllegalArgumentException("an enumerated value is listed twice");
    }
    cpCommTypes.forEach(Objects::requireNonNull);
    if (maxContextPar < 0 || minCpRankTokens < 0) {
      throw new IllegalArgumentException("CP limits must be >= 0, got " + maxContextPar + " and " + minCpRankTokens);
    }
  }

  /**
   * Whether CP degree {@code c} is one to try for a sequence of {@code seqSize} tokens (it must
   * still divide the processors and the sequence). Listed degrees ({@code --context-par 2}): exactly
   * those, CP 1 only when listed; otherwise CP 1 always, and the larger degrees by the limits.
   */
  boolean allowsContextPar(int c, long seqSize) {
    if (!contextPars.isEmpty()) {
      return contextPars.contains(c) && (maxContextPar == 0 || c <= maxContextPar);
    }
    return c == 1 || ((maxContextPar == 0 || c <= maxContextPar) && seqSize / c >= minCpRankTokens);
  }

  /** Whether this is Calculon's space (nothing beyond it is enumerated). */
  public boolean isCalculon() { return equals(CALCULON); }

  /** A copy that also enumerates (or not) the pipeline schedules. */
  public SpaceAxes withPipelineSchedules(boolean on) {
    return new SpaceAxes(zeroStages, contextPars, maxContextPar, minCpRankTokens, cpCommTypes, tpOverlaps, on);
  }

  /** The ZeRO stages a split with {@code shardRanks} = DP x CP ranks runs: only 0 when it is 1. */
  int[] stagesFor(long shardRanks) {
    if (shardRanks <= 1) {
      return new int[] {0};
    }
    return zeroStages.stream().mapToInt(Integer::intValue).toArray();
  }
}
