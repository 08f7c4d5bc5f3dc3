package calculon.search;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.AttentionType;
import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.model.Infeasible;
import calculon.stats.StatField;
import java.util.ArrayList;
import java.util.List;

/**
 * A literal transcription of the reference's loops (duplicates included) for the tests: every
 * execution in the reference's order, evaluated, with the reference's counting and -m break.
 */
final class ReferenceEmulation {
  /** The reference's TP overlap choices (its TpOverlap has no async_tp, a corrected-model value). */
  private static final TpOverlap[] REFERENCE_OVERLAPS = {TpOverlap.NONE, TpOverlap.RING, TpOverlap.PIPE};
  final List<SearchResult> good = new ArrayList<>();
  long total;
  long goodCount;
  long badCount;

  private final GoldenSearch g;
  private final ExecutionEvaluator ev;
  private long seq;

  ReferenceEmulation(GoldenSearch g, ExecutionEvaluator ev) {
    this.g = g;
    this.ev = ev;
  }

  ReferenceEmulation run() {
    SearchOptions o = g.options();
    Application app = g.app();
    int n = o.numProcs();
    switch (o.kind()) {
      case DENSE -> {
        for (int tp : Enumerators.tensorParallelisms(n, app.hidden(), app.attnHeads())) {
          for (int pp : Enumerators.pipelineParallelisms(n, tp, app.numBlocks())) {
            int dp = n / (tp * pp);
            for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
              int batch = Enumerators.batchSize(dp, o.maxBatchSize());
              if (batch < 0) {
                continue;
              }
              for (Recompute rc : new Recompute[] {Recompute.FULL, Recompute.ATTN_ONLY, Recompute.NONE}) {
                for (boolean sh : dp > 1 ? new boolean[] {true, false} : new boolean[] {false}) {
                  for (TpCommType comm : TpCommType.values()) {
                    task(1, 1, tp, pp, dp, 1, ppint, batch, rc, sh, comm);
                  }
                }
              }
            }
          }
        }
      }
      case MOE -> {
        int ep = o.numExperts();
        for (int tp : Enumerators.tensorParallelisms(n / ep, app.hidden(), app.attnHeads())) {
          for (int pp : Enumerators.pipelineParallelisms(n, tp * ep, app.numBlocks())) {
            int dp = n / pp / tp;
            int batch = Enumerators.batchSize(dp, o.maxBatchSize());
            if (batch < 0) {
              continue;
            }
            for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
              for (Recompute rc : new Recompute[] {Recompute.NONE, Recompute.FULL, Recompute.ATTN_ONLY}) {
                for (boolean sh : dp > 1 ? new boolean[] {true, false} : new boolean[] {false}) {
                  for (TpCommType comm : TpCommType.values()) {
                    task(ep, tp, tp, pp, dp, n / tp / ep / pp, ppint, batch, rc, sh, comm);
                  }
                }
              }
            }
          }
        }
      }
      case MOE_FLEX -> {
        for (int ep : Enumerators.expertParallelismsFlexible(o.numExperts(), n)) {
          for (int pp : Enumerators.pipelineParallelisms(n / ep, 1, app.numBlocks())) {
            if (n % pp != 0) {
              continue;
            }
            int r2 = n / ep / pp;
            for (int es : Enumerators.expertSliceParallelisms(1, r2, app.hidden())) {
              if (n % (ep * es * pp) != 0) {
                continue;
              }
              for (int tp : Enumerators.tensorParallelisms(r2, app.hidden(), app.attnHeads())) {
                if (n % (tp * pp) != 0) {
                  continue;
                }
                int dp = n / pp / tp;
                int batch = Enumerators.batchSize(dp, o.maxBatchSize());
                if (batch < 0) {
                  continue;
                }
                for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
                  for (boolean sh : dp > 1 ? new boolean[] {true, false} : new boolean[] {false}) {
                    for (TpCommType comm : TpCommType.values()) {
                      task(ep, es, tp, pp, dp, n / es / ep / pp, ppint, batch, Recompute.NONE, sh, comm);
                    }
                  }
                }
              }
            }
          }
        }
      }
      default -> throw new AssertionError();
    }
    return this;
  }

  private static boolean[] pick(boolean c) {
    return c ? new boolean[] {true, false} : new boolean[] {false};
  }

  private static int[] nets(boolean used, int n) {
    if (!used) {
      return new int[] {0};
    }
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private void task(int ep, int es, int tp, int pp, int dp, int dpe, int ppint, int batch,
                    Recompute rc, boolean sh, TpCommType comm) {
    SearchOptions o = g.options();
    boolean moe = o.kind().isMoe();
    boolean mem2 = g.system().mem2().gib() > 0 && !moe;
    int nn = g.system().networks().size();
    boolean canRedo = !moe && comm == TpCommType.RS_AG && rc != Recompute.FULL;
    List<Integer> mbsList = new ArrayList<>();
    int local = batch / dp;
    for (int m = 1; m <= local; m++) {
      if (local % m == 0 && (m * g.app().seqSize()) % tp == 0) {
        mbsList.add(m);
      }
    }
    mbsList.add(local); // the fork's repeated last candidate
    for (boolean redo : pick(canRedo)) {
      for (boolean dpo : pick(dp > 1 && o.allowDpOverlap())) {
        for (TpOverlap tpo : tp > 1 && o.allowTpOverlap() ? REFERENCE_OVERLAPS : new TpOverlap[] {TpOverlap.NONE}) {
          for (boolean wo : pick(mem2)) {
            for (boolean ao : pick(mem2 && rc != Recompute.FULL)) {
              for (boolean oo : pick(mem2)) {
                for (boolean fused : o.fusedActivation()) {
                  for (int mbs : mbsList) {
                    long before = goodCount;
                    for (int tn : nets(tp > 1, nn)) {
                      for (int pn : nets(pp > 1, nn)) {
                        for (int dn : nets(dp > 1, nn)) {
                          for (int dne : moe ? nets(dpe > 1, nn) : new int[] {1}) {
                            for (int epn : moe ? nets(ep > 1, nn) : new int[] {1}) {
                              for (int esn : moe ? nets(es > 1, nn) : new int[] {1}) {
                                total++;
                                Execution e = new Execution(o.numProcs(), tp, pp, dp, tn, pn, dn,
                                    batch, mbs, moe ? o.numExperts() : 1,
                                    moe ? Math.min(2, o.numExperts()) : 1, ep, es, dpe, dne, epn,
                                    esn, o.datatype(), fused, AttentionType.MULTIHEAD, rc, ppint, sh,
                                    comm, tpo, redo, dpo, wo, ao, oo, true, moe,
                                    ActivationFunction.GELU);
                                try {
                                  var s = ev.evaluate(e, false);
                                  goodCount++;
                                  good.add(new SearchResult(s.get(StatField.SAMPLE_RATE), e, s, 0, seq++));
                                } catch (Infeasible x) {
                                  badCount++;
                                }
                              }
                            }
                          }
                        }
                      }
                    }
                    if (o.mbsBreak() && goodCount == before) {
                      break;
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /** The reference's sorted list without its duplicates (an execution counts where it first appears). */
  List<Execution> rankedDistinct(int n) {
    List<SearchResult> sorted = new ArrayList<>(good);
    sorted.sort(SearchResult.RANKING);
    List<Execution> out = new ArrayList<>();
    for (SearchResult r : sorted) {
      Execution e = r.execution().withTensorParCommType(r.execution().effectiveTpCommType());
      if (!out.contains(e)) {
        out.add(e);
        if (out.size() == n) {
          break;
        }
      }
    }
    return out;
  }
}
