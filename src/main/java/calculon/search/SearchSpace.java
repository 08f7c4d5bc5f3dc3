package calculon.search;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.AttentionType;
import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.config.SystemSpec;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The executions a Calculon-MoE search visits, in its order, each distinct execution once.
 *
 * <p>The space is a list of {@link Partition}s (the reference's pool tasks, in order); each
 * partition expands to a {@link PartitionPlan}. Two kinds of reference duplicates are left out:
 * the repeated last microbatch size (spec 5.1) and, for MoE with TP &gt; 1, the ar and p2p_rs_ag
 * tasks that the model silently runs as rs_ag (spec 5.4). A partition that stands for the three
 * comm types sits where the reference's {@code ar} task sits and carries {@code rs_ag}, the comm
 * type the model runs. Results therefore keep the reference's relative order.
 *
 * <p>Thread-safe and immutable after construction.
 */
public final class SearchSpace {
  private static final Recompute[] DENSE_RECOMPUTE = {Recompute.FULL, Recompute.ATTN_ONLY, Recompute.NONE};
  private static final Recompute[] MOE_RECOMPUTE = {Recompute.NONE, Recompute.FULL, Recompute.ATTN_ONLY};
  private static final Recompute[] FLEX_RECOMPUTE = {Recompute.NONE};
  private static final TpCommType[] COMM = {TpCommType.AR, TpCommType.P2P_RS_AG, TpCommType.RS_AG};
  /** Net index the reference writes into dense executions for the unused expert groups. */
  static final int DENSE_EXPERT_NET = 1;

  private final Application app;
  private final SystemSpec system;
  private final SearchOptions opts;
  private final TierCheck tierCheck;
  private final boolean hasMem2;
  private final List<Partition> partitions;
  private final long referenceTasks;
  /** Parallel splits left out because their data parallelism exceeds max_batch_size (no batch fits). */
  private int splitsWithoutBatch;
  // plan pieces, by the parameters they depend on
  private final Map<List<Object>, Prefix[]> prefixCache = new ConcurrentHashMap<>();
  private final Map<List<Integer>, int[]> mbsCache = new ConcurrentHashMap<>();
  private final Map<List<Integer>, TierTable> tierCache = new ConcurrentHashMap<>();

  public SearchSpace(Application app, SystemSpec system, SearchOptions opts) {
    this.app = app;
    this.system = system;
    this.opts = opts;
    this.tierCheck = new TierCheck(system.networks());
    this.hasMem2 = system.mem2().gib() > 0;
    List<Partition> parts = new ArrayList<>();
    switch (opts.kind()) {
      case DENSE -> enumerateDense(parts);
      case MOE -> enumerateMoe(parts);
      case MOE_FLEX -> enumerateMoeFlex(parts);
      default -> throw new AssertionError(opts.kind());
    }
    this.partitions = Collections.unmodifiableList(parts);
    long rt = 0;
    for (Partition p : parts) {
      rt += p.referenceTasks();
    }
    this.referenceTasks = rt;
  }

  public Application application() { return app; }

  public SystemSpec system() { return system; }

  public SearchOptions options() { return opts; }

  /** The partitions, in enumeration order ({@code partitions().get(i).index() == i}). */
  public List<Partition> partitions() { return partitions; }

  /**
   * Parallel splits (TP x PP x DP, with EP and ES for MoE; per interleaving for dense) the space
   * leaves out because DP exceeds max_batch_size, so no batch is a multiple of DP.
   */
  public int splitsWithoutBatch() { return splitsWithoutBatch; }

  /** How many tasks the reference builds (its "number of param combinations"). */
  public long referenceTaskCount() { return referenceTasks; }

  // ------------------------------------------------------------------ partitions

  private void enumerateDense(List<Partition> out) {
    int n = opts.numProcs();
    for (int tp : Enumerators.tensorParallelisms(n, app.hidden(), app.attnHeads())) {
      for (int pp : Enumerators.pipelineParallelisms(n, tp, app.numBlocks())) {
        int dp = n / (tp * pp);
        for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
          int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
          if (batch < 0) {
            splitsWithoutBatch++;
            continue;
          }
          addTasks(out, DENSE_RECOMPUTE, 1, 1, tp, pp, dp, 1, ppint, batch, false);
        }
      }
    }
  }

  private void enumerateMoe(List<Partition> out) {
    int n = opts.numProcs();
    int e = opts.numExperts();
    if (n % e != 0) {
      throw new IllegalArgumentException(
          "num_procs=" + n + " must be divisible by num_experts=" + e);
    }
    int ep = e;
    for (int tp : Enumerators.tensorParallelisms(n / ep, app.hidden(), app.attnHeads())) {
      int es = tp;
      for (int pp : Enumerators.pipelineParallelisms(n, (long) tp * ep, app.numBlocks())) {
        if (app.numBlocks() % pp != 0 || n % (ep * tp * pp) != 0) {
          continue;
        }
        int dp = n / pp / tp;
        int dpe = n / tp / ep / pp;
        int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
        if (batch < 0) {
          splitsWithoutBatch++;
          continue;
        }
        for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
          addTasks(out, MOE_RECOMPUTE, ep, es, tp, pp, dp, dpe, ppint, batch, true);
        }
      }
    }
  }

  private void enumerateMoeFlex(List<Partition> out) {
    int n = opts.numProcs();
    for (int ep : Enumerators.expertParallelismsFlexible(opts.numExperts(), n)) {
      int r = n / ep;
      for (int pp : Enumerators.pipelineParallelisms(r, 1, app.numBlocks())) {
        if (app.numBlocks() % pp != 0 || n % pp != 0) {
          continue;
        }
        int r2 = r / pp;
        List<Integer> esList = new ArrayList<>();
        for (int es : Enumerators.expertSliceParallelisms(1, r2, app.hidden())) {
          if (n % (ep * es * pp) == 0) {
            esList.add(es);
          }
        }
        List<Integer> tpList = new ArrayList<>();
        for (int tp : Enumerators.tensorParallelisms(r2, app.hidden(), app.attnHeads())) {
          if (n % (tp * pp) == 0) {
            tpList.add(tp);
          }
        }
        for (int es : esList) {
          for (int tp : tpList) {
            int dp = n / pp / tp;
            int dpe = n / es / ep / pp;
            int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
            if (batch < 0) {
              splitsWithoutBatch++;
              continue;
            }
            for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
              addTasks(out, FLEX_RECOMPUTE, ep, es, tp, pp, dp, dpe, ppint, batch, true);
            }
          }
        }
      }
    }
  }

  private static void addTasks(List<Partition> out, Recompute[] recomputes, int ep, int es, int tp,
                               int pp, int dp, int dpe, int ppint, int batch, boolean moe) {
    for (Recompute rc : recomputes) {
      for (boolean sharding : dp > 1 ? new boolean[] {true, false} : new boolean[] {false}) {
        if (moe && tp > 1) {
          // ar, p2p_rs_ag and rs_ag all run as rs_ag: one partition, at ar's place
          out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, sharding,
              TpCommType.RS_AG, COMM.length));
        } else {
          for (TpCommType comm : COMM) {
            out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, sharding,
                comm, 1));
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ inside a partition

  /** Expands one partition (cheap: the pieces are cached by the parameters they depend on). */
  public PartitionPlan plan(Partition p) {
    boolean moe = opts.kind().isMoe();
    boolean canRedo = !moe && p.commType() == TpCommType.RS_AG && p.recompute() != Recompute.FULL;
    Prefix[] prefixes = prefixCache.computeIfAbsent(
        List.of(canRedo, p.dp() > 1, p.tp() > 1, p.recompute() == Recompute.FULL),
        k -> prefixes(canRedo, p.dp() > 1, p.tp() > 1, p.recompute() == Recompute.FULL));
    int[] mbs = mbsCache.computeIfAbsent(List.of(p.tp(), p.dp(), p.batch()),
        k -> Enumerators.microbatchSizes(app.seqSize(), p.tp(), p.dp(), p.batch()));
    int extra = p.batch() / p.dp();
    boolean extraDup = mbs.length > 0 && mbs[mbs.length - 1] == extra;
    TierTable t = tierCache.computeIfAbsent(List.of(p.tp(), p.pp(), p.dp(), p.dpe(), p.ep(), p.es()),
        k -> tiers(p));
    return new PartitionPlan(p, prefixes, mbs, extra, extraDup, t.tiers, t.errors, t.valid);
  }

  private record TierTable(int[][] tiers, String[] errors, int valid) {}

  private Prefix[] prefixes(boolean canRedo, boolean dpMany, boolean tpMany, boolean fullRecompute) {
    boolean moe = opts.kind().isMoe();
    List<Prefix> prefixes = new ArrayList<>();
    boolean[] redos = canRedo ? new boolean[] {true, false} : new boolean[] {false};
    boolean[] dpos = dpMany && opts.allowDpOverlap() ? new boolean[] {true, false} : new boolean[] {false};
    TpOverlap[] tpos = tpMany && opts.allowTpOverlap()
        ? new TpOverlap[] {TpOverlap.NONE, TpOverlap.RING, TpOverlap.PIPE}
        : new TpOverlap[] {TpOverlap.NONE};
    boolean offload = !moe && hasMem2;
    boolean[] wos = offload ? new boolean[] {true, false} : new boolean[] {false};
    boolean[] aos = offload && !fullRecompute ? new boolean[] {true, false} : new boolean[] {false};
    boolean[] oos = wos;
    for (boolean redo : redos) {
      for (boolean dpo : dpos) {
        for (TpOverlap tpo : tpos) {
          for (boolean wo : wos) {
            for (boolean ao : aos) {
              for (boolean oo : oos) {
                for (boolean fused : opts.fusedActivation()) {
                  prefixes.add(new Prefix(redo, dpo, tpo, wo, ao, oo, fused));
                }
              }
            }
          }
        }
      }
    }
    return prefixes.toArray(new Prefix[0]);
  }

  private TierTable tiers(Partition p) {
    boolean moe = opts.kind().isMoe();
    int nets = tierCheck.numNetworks();
    List<int[]> tiers = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    int[] tns = range(p.tp() > 1, nets);
    int[] pns = range(p.pp() > 1, nets);
    int[] dns = range(p.dp() > 1, nets);
    int valid = 0;
    if (!moe) {
      for (int tn : tns) {
        for (int pn : pns) {
          for (int dn : dns) {
            String err = tierCheck.checkDense(p.tp(), p.pp(), p.dp(), tn, pn, dn);
            tiers.add(new int[] {tn, pn, dn, DENSE_EXPERT_NET, DENSE_EXPERT_NET, DENSE_EXPERT_NET});
            errors.add(err);
            valid += err == null ? 1 : 0;
          }
        }
      }
    } else {
      int[] dnes = range(p.dpe() > 1, nets);
      int[] epns = range(p.ep() > 1, nets);
      int[] esns = range(p.es() > 1, nets);
      for (int tn : tns) {
        for (int pn : pns) {
          for (int dn : dns) {
            for (int dne : dnes) {
              for (int epn : epns) {
                for (int esn : esns) {
                  String err = tierCheck.checkMoe(p.tp(), p.pp(), p.dp(), p.dpe(), p.ep(), p.es(),
                      tn, pn, dn, dne, epn, esn);
                  tiers.add(new int[] {tn, pn, dn, dne, epn, esn});
                  errors.add(err);
                  valid += err == null ? 1 : 0;
                }
              }
            }
          }
        }
      }
    }
    return new TierTable(tiers.toArray(new int[0][]), errors.toArray(new String[0]), valid);
  }

  private static int[] range(boolean used, int nets) {
    if (!used) {
      return new int[] {0};
    }
    int[] r = new int[nets];
    for (int i = 0; i < nets; i++) {
      r[i] = i;
    }
    return r;
  }

  /** The execution at one point of a partition, as the model should run it. */
  public Execution execution(Partition p, Prefix x, int mbs, int[] tier) {
    boolean moe = opts.kind().isMoe();
    int experts = moe ? opts.numExperts() : 1;
    // the model's top-k when it declares its experts, else Calculon-MoE's min(2, E)
    Architecture.Moe declared = app.architecture().moe();
    int topK = !moe ? 1 : declared != null ? declared.topK() : Math.min(2, experts);
    return new Execution(opts.numProcs(), p.tp(), p.pp(), p.dp(), tier[0], tier[1], tier[2],
        p.batch(), mbs, experts, topK, p.ep(), p.es(), p.dpe(), tier[3], tier[4], tier[5],
        opts.datatype(), x.fusedActivation(), AttentionType.MULTIHEAD, p.recompute(), p.ppint(),
        p.sharding(), p.commType(), x.tensorParOverlap(), x.seqParAgRedo(), x.dataParOverlap(),
        x.weightOffload(), x.activationsOffload(), x.optimizerOffload(), true, moe,
        ActivationFunction.GELU);
  }

  // ------------------------------------------------------------------ counting

  /** Distinct executions in the space (with {@code -m}, an upper bound of what a search visits). */
  public long size() {
    long s = 0;
    for (Partition p : partitions) {
      s += plan(p).size();
    }
    return s;
  }

  /**
   * Counts without evaluating (the {@code -d} mode). Nothing is feasible when nothing is
   * evaluated, so with {@code -m} each microbatch loop stops after its first size, as in the
   * reference.
   */
  public Counts count() {
    Counts c = new Counts();
    for (Partition p : partitions) {
      countInto(plan(p), c);
    }
    return c;
  }

  void countInto(PartitionPlan plan, Counts c) {
    long prefixes = plan.prefixes().length;
    long tiers = plan.tiers().length;
    int nm = plan.mbs().length;
    long w = plan.partition().referenceTasks();
    long distinctMbs = opts.mbsBreak() ? Math.min(1, nm) : nm;
    long refMbs = opts.mbsBreak() ? 1 : nm + 1;
    c.total += prefixes * distinctMbs * tiers;
    c.tierRejected += prefixes * distinctMbs * (tiers - plan.validTiers());
    c.refTotal += w * prefixes * refMbs * tiers;
  }
}
