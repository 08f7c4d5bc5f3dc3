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

  public PartitionRunner(SearchSpace space, ExecutionEvaluator evaluator, boolean inferInfeasible) {
    this.space = space;
    this.evaluator = evaluator;
    this.inferInfeasible = inferInfeasible;
  }

  /**
   * @param collectAll keep every good result (for a {@link ResultSink}) as well as the top N
   * @param progress   receives done counts and best rates; may be null
   * @param cancelled  polled between blocks
   */
  public PartitionResult run(Partition p, boolean collectAll, Progress progress,
                             BooleanSupplier cancelled) {
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
    long w = p.referenceTasks();
    boolean withLayers = opts.withLayers();
    double localBest = Double.NaN;
    boolean partial = false;
    long blocksVisited = 0;

    outer:
    for (int xi = 0; xi < prefixes.length; xi++) {
      Prefix x = prefixes[xi];
      boolean broke = false;
      for (int mi = 0; mi < nm; mi++) {
        if (cancelled.getAsBoolean()) {
          partial = true;
          break outer;
        }
        long blockGood = 0;
        long blockBad = 0;
        boolean infeasible = false;
        Infeasible.Rule blockRule = Infeasible.Rule.OTHER;
        blocksVisited++;
        for (int ti = 0; ti < nt; ti++) {
          if (tierError[ti] != null) {
            blockBad++;
            c.tierRejected++;
            continue;
          }
          if (infeasible) {
            blockBad++;
            c.inferredInfeasible++;
            c.rejectedBy[blockRule.ordinal()]++;
            continue;
          }
          Execution exe = space.execution(p, x, mbs[mi], tiers[ti]);
          Stats stats;
          c.evaluated++;
          try {
            stats = evaluator.evaluate(exe, withLayers);
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
          double rate = stats.get(StatField.SAMPLE_RATE);
          long seq = ((long) xi * nm + mi) * nt + ti;
          SearchResult kept = null;
          if (collectAll) {
            kept = new SearchResult(rate, exe, stats, p.index(), seq);
            all.add(kept);
          }
          if (top.wouldKeep(rate)) {
            top.offer(kept != null ? kept : new SearchResult(rate, exe, stats, p.index(), seq));
          }
          if (!(rate <= localBest)) {
            localBest = rate;
            if (progress != null) {
              progress.offerBest(rate);
            }
          }
        }
        c.total += nt;
        c.good += blockGood;
        c.bad += blockBad;
        c.refTotal += w * nt;
        c.refGood += w * blockGood;
        c.refBad += w * blockBad;
        if (progress != null) {
          progress.add(nt);
        }
        if (opts.mbsBreak() && blockGood == 0) {
          broke = true;
          if (progress != null) {
            progress.add((long) (nm - mi - 1) * nt);
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
    return new PartitionResult(p, c, top, all, partial);
  }
}
