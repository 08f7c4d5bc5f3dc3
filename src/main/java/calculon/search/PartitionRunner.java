package calculon.search;

import calculon.config.Execution;
import calculon.model.Infeasible;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Evaluates one partition, in enumeration order. This is the hot loop: tier assignments that
 * break the tier rules are counted bad without a call; once the model rejects one tier-valid
 * assignment of a (prefix, microbatch) block, the block's other tier-valid assignments are bad
 * too (the model's non-tier rejections, memory, interleaving and offload, do not depend on the
 * tier choice), unless that inference is switched off.
 */
public final class PartitionRunner {
  private final SearchSpace space;
  private final ExecutionEvaluator evaluator;
  private final boolean inferInfeasible;
  private final boolean pruneByBound;

  public PartitionRunner(SearchSpace space, ExecutionEvaluator evaluator, boolean inferInfeasible) {
    this(space, evaluator, inferInfeasible, inferInfeasible);
  }

  /**
   * @param inferInfeasible after a model rejection, count the block's other tier-valid assignments bad
   * @param pruneByBound    after a model acceptance, count the block's other tier-valid assignments
   *                        good without evaluating them when {@link ExecutionEvaluator#sampleRateBound}
   *                        says they cannot enter the top N (never while collecting every result).
   *                        Both rest on the same property: the model's non-tier rejections do not
   *                        depend on the tier choice.
   */
  public PartitionRunner(SearchSpace space, ExecutionEvaluator evaluator, boolean inferInfeasible,
                         boolean pruneByBound) {
    this.space = space;
    this.evaluator = evaluator;
    this.inferInfeasible = inferInfeasible;
    this.pruneByBound = pruneByBound;
  }

  /**
   * @param collectAll keep every good result (for a {@link ResultSink}) as well as the top N
   * @param progress   receives done counts and best rates; may be null
   * @param cancelled  polled between blocks
   */
  public PartitionResult run(Partition p, boolean collectAll, Progress progress,
                             BooleanSupplier cancelled) {
    return run(p, collectAll, progress, cancelled, new RateBar(space.options().topN()));
  }

  /**
   * As {@link #run(Partition, boolean, Progress, BooleanSupplier)}, sharing {@code bar} with the
   * other partitions of the same search: a result below the bar is counted but not kept, and the
   * bound pruning compares with it. The partition's own top N then lacks results that cannot
   * enter the search's top N; the merged top N is the same.
   */
  public PartitionResult run(Partition p, boolean collectAll, Progress progress,
                             BooleanSupplier cancelled, RateBar bar) {
    SearchOptions opts = space.options();
    PartitionPlan plan = space.plan(p);
    Counts c = new Counts();
    TopN top = new TopN(opts.topN());
    List<SearchResult> all = collectAll ? new ArrayList<>() : null;
    Prefix[] prefixes = plan.prefixes();
    int[] mbs = plan.mbs();
    int[][] tiers = plan.tiers();
    String[] tierError = plan.tierError();
    int nm = mbs.length;
    int nt = tiers.length;
    long partitionWeight = p.referenceWeight();
    boolean withLayers = opts.withLayers();
    double localBest = Double.NaN;
    boolean partial = false;
    boolean prune = pruneByBound && !collectAll;
    boolean headlineFirst = !collectAll && evaluator.sampleRateIsCheaper();
    boolean moe = opts.kind().isMoe();
    long blocksVisited = 0;
    // the tier-valid assignments, in order: the others are counted bad per block without a visit
    int[] valid = new int[nt];
    int nv = 0;
    for (int ti = 0; ti < nt; ti++) {
      if (tierError[ti] == null) {
        valid[nv++] = ti;
      }
    }
    int tierBad = nt - nv;

    long redoTwins = 0;  // executions that also stand for their seq_par_ag_redo false twin
    outer:
    for (int xi = 0; xi < prefixes.length; xi++) {
      Prefix x = prefixes[xi];
      // a corrected-model TP overlap mode stands for no reference execution
      long w = x.calculonKnobs() ? partitionWeight : 0;
      boolean broke = false;
      for (int mi = 0; mi < nm; mi++) {
        if (cancelled.getAsBoolean()) {
          partial = true;
          break outer;
        }
        long blockGood = 0;
        long blockBad = 0;
        boolean infeasible = false;
        boolean feasible = false;
        int[] boundTier = null;
        double bound = Double.NaN;
        Infeasible.Rule blockRule = Infeasible.Rule.OTHER;
        blocksVisited++;
        blockBad += tierBad;
        c.tierRejected += tierBad;
        for (int vi = 0; vi < nv; vi++) {
          int ti = valid[vi];
          if (infeasible) {
            blockBad++;
            c.inferredInfeasible++;
            c.rejectedBy[blockRule.ordinal()]++;
            continue;
          }
          Execution exe = space.execution(p, x, mbs[mi], tiers[ti]);
          if (feasible && prune) {
            // the bound depends on the tiers only through the block
            if (boundTier == null || !sameBlockTiers(boundTier, tiers[ti], moe)) {
              boundTier = tiers[ti];
              bound = evaluator.sampleRateBound(exe);
            }
            if (!top.wouldKeep(bound) || bar.excludes(bound)) {
              blockGood++;
              c.boundPruned++;
              continue;
            }
          }
          Stats stats = null;
          double rate;
          c.evaluated++;
          try {
            if (headlineFirst) {
              // the headline first; the full stats only for what the top N keeps
              rate = evaluator.sampleRateTierChecked(exe);
            } else {
              stats = evaluator.evaluateTierChecked(exe, withLayers);
              rate = stats.get(StatField.SAMPLE_RATE);
            }
          } catch (Infeasible e) {
            blockBad++;
            c.rejectedBy[e.rule().ordinal()]++;
            blockRule = e.rule();
            infeasible = inferInfeasible;
            continue;
          } catch (RuntimeException e) {
            throw new SearchFailure("evaluation failed for " + exe + ": " + e, e);
          }
          blockGood++;
          feasible = true;
          long seq = ((long) xi * nm + mi) * nt + ti;
          SearchResult kept = null;
          if (collectAll) {
            kept = new SearchResult(rate, exe, stats, p.index(), seq);
            all.add(kept);
          }
          if (top.wouldKeep(rate) && (collectAll || !bar.excludes(rate))) {
            bar.offer(rate);
            if (kept == null) {
              kept = new SearchResult(rate, exe, stats != null ? stats : fullStats(exe, withLayers, rate),
                  p.index(), seq);
            }
            top.offer(kept);
          }
          if (!(rate <= localBest)) {
            localBest = rate;
            if (progress != null) {
              progress.offerBest(rate);
            }
          }
        }
        c.total += nt;
        if (plan.hasRedoTwin(x)) {
          redoTwins += nt;
        }
        c.good += blockGood;
        c.bad += blockBad;
        c.refTotal += w * nt;
        c.refGood += w * blockGood;
        c.refBad += w * blockBad;
        if (w == 0) {
          c.outsideReference += nt;
          c.outsideReferenceGood += blockGood;
        }
        if (progress != null) {
          progress.add(nt);
        }
        if (opts.mbsBreak() && blockGood == 0) {
          broke = true;
          if (progress != null) {
            // not counted (Counts.total leaves them out): off the progress total instead
            progress.skip((long) (nm - mi - 1) * nt);
          }
          break;
        }
        if (mi == nm - 1 && plan.extraIsDuplicate()) {
          // the reference runs the last size again, with the same outcome
          c.refTotal += w * nt;
          c.refGood += w * blockGood;
          c.refBad += w * blockBad;
        }
      }
      if (!broke && !plan.extraIsDuplicate()) {
        // the reference's extra candidate is not a valid size: it would run it; we do not
        c.refTotal += w * nt;
        c.refUnevaluated += w * nt;
      }
    }
    // every visited block rejects the same tier assignments: count them by rule once
    for (String err : tierError) {
      if (err != null) {
        c.rejectedBy[Infeasible.Rule.ofNetworkTierMessage(err).ordinal()] += blocksVisited;
      }
    }
    c.mergedNoOps = (long) p.noOpCopies() * c.total + redoTwins;
    c.mergedRedoTwins = redoTwins;
    return new PartitionResult(p, c, top, all, partial);
  }

  /** The full stats of an execution whose headline rate was {@code rate}; they must agree. */
  private Stats fullStats(Execution exe, boolean withLayers, double rate) {
    Stats stats;
    try {
      stats = evaluator.evaluateTierChecked(exe, withLayers);
    } catch (Infeasible | RuntimeException e) {
      throw new SearchFailure("evaluation failed for " + exe + ": " + e, e);
    }
    double full = stats.get(StatField.SAMPLE_RATE);
    if (Double.doubleToLongBits(full) != Double.doubleToLongBits(rate)) {
      throw new SearchFailure("evaluation of " + exe + " gave sample rate " + rate
          + " without stats and " + full + " with them", null);
    }
    return stats;
  }

  /**
   * Whether two tier assignments give the same block: TP, EP, ES and CP on the same tiers, and in
   * a MoE space PP and DP_exp too (the corrected model's expert exchange counts the EP peers that
   * share a tier-0 domain, which the expert side's tiers decide: {@code ExpertDispatch.domainPeers}).
   */
  private static boolean sameBlockTiers(int[] a, int[] b, boolean moe) {
    return a[0] == b[0] && a[4] == b[4] && a[5] == b[5] && a[6] == b[6]
        && (!moe || (a[1] == b[1] && a[3] == b[3]));
  }
}
