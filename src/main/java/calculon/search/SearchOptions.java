package calculon.search;

import calculon.config.Datatype;
import java.util.List;
import java.util.Objects;

/**
 * What a search enumerates and keeps; the command-line options of the reference searches.
 *
 * @param kind            which space (dense, legacy MoE, flexible MoE)
 * @param numProcs        N, the processors of the run
 * @param maxBatchSize    the global batch is the largest multiple of DP not above this
 * @param datatype        the datatype every execution uses
 * @param fusedActivation the fused-activation values to try, in order (reference {@code -f})
 * @param mbsBreak        {@code -m}: stop a microbatch-size loop at the first size with no feasible execution (dense only)
 * @param allowTpOverlap  false with {@code --no-tp-overlap}
 * @param allowDpOverlap  false with {@code --no-dp-overlap}
 * @param allowOffload    false with {@code --no-offload}: weight_offload, activations_offload and
 *                        optimizer_offload only false (they are enumerated only in the dense space
 *                        of a system with a tier-2 memory, {@code mem2.GiB} &gt; 0)
 * @param numExperts      E ({@code -moe}); ignored by the dense space
 * @param topN            how many best executions to keep ({@code -t}, &gt; 0)
 * @param withLayers      {@code -l}: ask the evaluator for per-layer stats
 */
public record SearchOptions(SearchKind kind, int numProcs, int maxBatchSize, Datatype datatype,
                            List<Boolean> fusedActivation, boolean mbsBreak, boolean allowTpOverlap,
                            boolean allowDpOverlap, boolean allowOffload, int numExperts, int topN,
                            boolean withLayers) {

  public SearchOptions {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(datatype, "datatype");
    fusedActivation = List.copyOf(fusedActivation);
    if (numProcs <= 0) {
      throw new IllegalArgumentException("num_procs must be > 0");
    }
    if (maxBatchSize <= 0) {
      throw new IllegalArgumentException("max_batch_size must be > 0");
    }
    if (topN <= 0) {
      throw new IllegalArgumentException("top-n must be > 0");
    }
    if (fusedActivation.isEmpty()) {
      throw new IllegalArgumentException("at least one fused-activation value");
    }
    if (kind.isMoe() && numExperts <= 0) {
      throw new IllegalArgumentException("number of experts must be > 0");
    }
  }

  /** Defaults of the reference: {@code -f true}, overlaps and offload allowed, no {@code -m}, top 1, no layers. */
  public static SearchOptions defaults(SearchKind kind, int numProcs, int maxBatchSize,
                                       Datatype datatype, int numExperts) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, List.of(true), false, true,
        true, true, numExperts, 1, false);
  }

  public SearchOptions withMbsBreak(boolean b) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, b,
        allowTpOverlap, allowDpOverlap, allowOffload, numExperts, topN, withLayers);
  }

  public SearchOptions withTopN(int n) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, mbsBreak,
        allowTpOverlap, allowDpOverlap, allowOffload, numExperts, n, withLayers);
  }

  public SearchOptions withOverlaps(boolean tp, boolean dp) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, mbsBreak,
        tp, dp, allowOffload, numExperts, topN, withLayers);
  }

  /** These options with offload allowed or not ({@code --no-offload}). */
  public SearchOptions withOffload(boolean offload) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, mbsBreak,
        allowTpOverlap, allowDpOverlap, offload, numExperts, topN, withLayers);
  }

  public SearchOptions withFusedActivation(List<Boolean> fused) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fused, mbsBreak,
        allowTpOverlap, allowDpOverlap, allowOffload, numExperts, topN, withLayers);
  }

  public SearchOptions withLayers(boolean layers) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, mbsBreak,
        allowTpOverlap, allowDpOverlap, allowOffload, numExperts, topN, layers);
  }

  public SearchOptions withNumExperts(int experts) {
    return new SearchOptions(kind, numProcs, maxBatchSize, datatype, fusedActivation, mbsBreak,
        allowTpOverlap, allowDpOverlap, allowOffload, experts, topN, withLayers);
  }
}
