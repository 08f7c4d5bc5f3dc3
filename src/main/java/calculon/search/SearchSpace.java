package calculon.search;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.AttentionType;
import calculon.config.ContextParallelImpl;
import calculon.config.CpCommType;
import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.ParallelOptions;
import calculon.config.PipelineScheduleKind;
import calculon.config.Precision;
import calculon.config.Recompute;
import calculon.config.ScheduleOptions;
import calculon.config.SystemSpec;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.model.Infeasible;
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
  /** Keys every execution gets ({@code --flash-attention}, {@code --execution-template}); not axes of the space. */
  private final SearchTemplate template;
  private final TierCheck tierCheck;
  private final boolean hasMem2;
  private final List<Partition> partitions;
  private final long referenceTasks;
  private final boolean mergeNoOps;
  private final SpaceAxes axes;
  /** {@link SpaceAxes#cpCommTypes} less what the template's context_par_impl cannot run ({@link #skipsUlysses}). */
  private final List<CpCommType> triedCpCommTypes;
  /** Parallel splits left out because their data parallelism exceeds max_batch_size (no batch fits). */
  private int splitsWithoutBatch;
  // plan pieces, by the parameters they depend on
  private final Map<List<Object>, Prefix[]> prefixCache = new ConcurrentHashMap<>();
  private final Map<List<Integer>, int[]> mbsCache = new ConcurrentHashMap<>();
  private final Map<List<Object>, TierTable> tierCache = new ConcurrentHashMap<>();

  /** The reference's enumeration (no-op duplicates kept, as the golden search parity needs). */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts) {
    this(app, system, opts, false, LayerOptions.DEFAULTS);
  }

  /**
   * @param mergeNoOps merge executions that differ only in a knob with no effect
   *                   ({@link NoOpKnobs}; for the corrected model: the reference's enumeration is
   *                   kept for Calculon-MoE parity)
   */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps) {
    this(app, system, opts, mergeNoOps, LayerOptions.DEFAULTS, false);
  }

  /**
   * A space whose executions all carry {@code layerOptions} (for example {@code flash_attention});
   * {@code mergeNoOps} as above.
   */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps,
                     LayerOptions layerOptions) {
    this(app, system, opts, mergeNoOps, layerOptions, false);
  }

  /** As {@link #SearchSpace(Application, SystemSpec, SearchOptions, boolean, LayerOptions, boolean)} with the default layer options. */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps,
                     boolean pipelineSchedules) {
    this(app, system, opts, mergeNoOps, LayerOptions.DEFAULTS, pipelineSchedules);
  }

  /**
   * A space that, with {@code pipelineSchedules}, also enumerates the corrected model's pipeline
   * schedules: after each pipelined split's Calculon schedule, zb-h1 and (even PP) dualpipe with one
   * chunk per stage, zb-v and dualpipev with two (docs/schedules.md). Those partitions stand for no
   * reference task.
   */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps,
                     LayerOptions layerOptions, boolean pipelineSchedules) {
    this(app, system, opts, mergeNoOps, layerOptions, SpaceAxes.CALCULON.withPipelineSchedules(pipelineSchedules));
  }

  /**
   * A space that also enumerates what {@code axes} says beyond Calculon's knobs (ZeRO stages,
   * context parallelism with its tier and comm type, pipeline schedules; corrected model only:
   * {@link SpaceAxes#CALCULON} is the reference's space). Partitions that run anything beyond
   * Calculon's knobs stand for no reference task.
   */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps,
                     LayerOptions layerOptions, SpaceAxes axes) {
    this(app, system, opts, mergeNoOps, new SearchTemplate(layerOptions, Precision.DEFAULTS,
        ScheduleOptions.DEFAULTS), axes);
  }

  /**
   * A space whose executions all carry {@code template}'s keys (layer options, storage
   * datatypes, MoE communication keys) and that enumerates what {@code axes} says.
   */
  public SearchSpace(Application app, SystemSpec system, SearchOptions opts, boolean mergeNoOps,
                     SearchTemplate template, SpaceAxes axes) {
    this.template = template;
    this.mergeNoOps = mergeNoOps;
    this.axes = axes;
    this.triedCpCommTypes = triedCpCommTypes(axes, template);
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

  /** The keys every execution carries. */
  public SearchTemplate template() { return template; }

  /**
   * Whether the space tries the offload flags on where the options allow it: a dense space on a
   * system with a tier-2 memory ({@code mem2.GiB} &gt; 0), as the reference. Where this is false,
   * {@code --no-offload} changes nothing.
   */
  public boolean offloadApplies() {
    return !opts.kind().isMoe() && hasMem2;
  }

  /**
   * This space with the offload flags enumerated ({@code offload} true) or held off
   * ({@code --no-offload}), the rest as it is: for {@code -d} to say how many executions
   * {@code --no-offload} leaves out.
   */
  public SearchSpace withOffload(boolean offload) {
    return new SearchSpace(app, system, opts.withOffload(offload), mergeNoOps, template, axes);
  }

  /** What the space enumerates beyond Calculon's knobs. */
  public SpaceAxes axes() { return axes; }

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
    // CP outermost, CP 1 first: Calculon's splits keep their order and come before the others
    for (int cp : contextParallelisms(n)) {
      for (int tp : Enumerators.tensorParallelisms(n / cp, app.hidden(), app.attnHeads())) {
        if (!cpFitsTp(cp, tp)) {
          continue;
        }
        for (int pp : Enumerators.pipelineParallelisms(n, (long) tp * cp, app.numBlocks())) {
          int dp = n / (tp * cp * pp);
          for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
            int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
            if (batch < 0) {
              splitsWithoutBatch++;
              continue;
            }
            addTasks(out, DENSE_RECOMPUTE, 1, 1, tp, cp, pp, dp, 1, ppint, batch, false);
          }
        }
      }
    }
  }

  /**
   * The CP degrees to try, ascending: the divisors c of the processors that {@link #axes} allows
   * and that split the sequence into the chunks one of the allowed comm types needs (ring
   * attention 2c, for causal load balancing; Ulysses c). Calculon's space: [1]. Degrees listed
   * ({@code --context-par 2}): those only, CP 1 too only when listed.
   */
  private List<Integer> contextParallelisms(int n) {
    List<Integer> out = new ArrayList<>();
    for (int c : Enumerators.factors(n)) {
      if (axes.allowsContextPar(c, app.seqSize()) && !cpCommTypes(c, 1).isEmpty()) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * The allowed CP comm types that can split the sequence over CP {@code cp} at TP {@code tp}
   * (reader rules, {@code RunChecks.checkContextAndStages}): ring attention cuts the sequence
   * into 2 CP chunks, Ulysses into CP and splits the heads over TP x CP. [p2p] at CP 1 (the comm
   * type is a no-op there).
   */
  private List<CpCommType> cpCommTypes(int cp, int tp) {
    if (cp == 1) {
      return List.of(CpCommType.P2P);
    }
    List<CpCommType> out = new ArrayList<>();
    for (CpCommType t : triedCpCommTypes) {
      long chunks = t != CpCommType.A2A ? 2L * cp : cp;
      if (app.seqSize() % chunks == 0 && (t != CpCommType.A2A || app.attnHeads() % ((long) tp * cp) == 0)) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The asked CP comm types ({@link SpaceAxes#cpCommTypes}) that the template's
   * {@code context_par_impl} runs: all, less {@code a2a} under {@code pytorch}, whose
   * context_parallel has no Ulysses all-to-all (the execution reader's rule,
   * {@code ExecutionReader.PYTORCH_A2A_RULE}).
   */
  private static List<CpCommType> triedCpCommTypes(SpaceAxes axes, SearchTemplate template) {
    if (!skipsUlysses(axes, template)) {
      return axes.cpCommTypes();
    }
    List<CpCommType> out = new ArrayList<>(axes.cpCommTypes());
    out.remove(CpCommType.A2A);
    return List.copyOf(out);
  }

  /**
   * Whether the space leaves out {@code a2a}, which the axes ask for, because the template's
   * {@code context_par_impl} is {@code pytorch} (PyTorch's context_parallel has no Ulysses
   * all-to-all; {@code ExecutionReader.PYTORCH_A2A_RULE}); the search commands say so once.
   */
  public boolean skipsUlysses() {
    return skipsUlysses(axes, template);
  }

  private static boolean skipsUlysses(SpaceAxes axes, SearchTemplate template) {
    return template.layerOptions().givenContextParImpl() == ContextParallelImpl.PYTORCH
        && axes.cpCommTypes().contains(CpCommType.A2A);
  }

  /**
   * Whether CP {@code cp} leaves each rank a sequence part that TP {@code tp} splits again, as
   * sequence parallelism (and every MoE run) needs: the space asks it of every split, so that the
   * TP comm types stay free.
   */
  private boolean cpFitsTp(int cp, int tp) {
    return cp == 1 || ((app.seqSize() / cp) % tp == 0 && !cpCommTypes(cp, tp).isEmpty());
  }

  private void enumerateMoe(List<Partition> out) {
    int n = opts.numProcs();
    int e = opts.numExperts();
    if (n % e != 0) {
      throw new IllegalArgumentException(
          "num_procs=" + n + " must be divisible by num_experts=" + e);
    }
    int ep = e;
    for (int cp : contextParallelisms(n)) {
      for (int tp : Enumerators.tensorParallelisms(n / ep, app.hidden(), app.attnHeads())) {
        int es = tp;
        if (!cpFitsTp(cp, tp)) {
          continue;
        }
        for (int pp : Enumerators.pipelineParallelisms(n, (long) tp * ep, app.numBlocks())) {
          if (app.numBlocks() % pp != 0 || n % (ep * tp * pp) != 0 || n % ((long) tp * cp * pp) != 0) {
            continue;
          }
          // the experts' split (EP x ES x PP x DP_exp) does not see CP; the dense side's does
          int dp = n / pp / tp / cp;
          int dpe = n / tp / ep / pp;
          int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
          if (batch < 0) {
            splitsWithoutBatch++;
            continue;
          }
          for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
            addTasks(out, MOE_RECOMPUTE, ep, es, tp, cp, pp, dp, dpe, ppint, batch, true);
          }
        }
      }
    }
  }

  private void enumerateMoeFlex(List<Partition> out) {
    int n = opts.numProcs();
    for (int cp : contextParallelisms(n)) {
      enumerateMoeFlex(out, cp);
    }
  }

  private void enumerateMoeFlex(List<Partition> out, int cp) {
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
          if (n % ((long) tp * cp * pp) == 0 && cpFitsTp(cp, tp)) {
            tpList.add(tp);
          }
        }
        for (int es : esList) {
          for (int tp : tpList) {
            int dp = n / pp / tp / cp;
            int dpe = n / es / ep / pp;
            int batch = Enumerators.batchSize(dp, opts.maxBatchSize());
            if (batch < 0) {
              splitsWithoutBatch++;
              continue;
            }
            for (int ppint : Enumerators.pipelineInterleavings(app.numBlocks(), pp)) {
              addTasks(out, FLEX_RECOMPUTE, ep, es, tp, cp, pp, dp, dpe, ppint, batch, true);
            }
          }
        }
      }
    }
  }

  /** Calculon's schedule (null), then, when enumerated, the schedules that run ppint chunks per stage. */
  private PipelineScheduleKind[] schedules(int pp, int ppint) {
    if (!axes.pipelineSchedules() || pp == 1) {
      return new PipelineScheduleKind[] {null};
    }
    if (ppint == 1) {
      return pp % 2 == 0
          ? new PipelineScheduleKind[] {null, PipelineScheduleKind.ZB_H1, PipelineScheduleKind.DUALPIPE}
          : new PipelineScheduleKind[] {null, PipelineScheduleKind.ZB_H1};
    }
    return ppint == 2
        ? new PipelineScheduleKind[] {null, PipelineScheduleKind.ZB_V, PipelineScheduleKind.DUALPIPE_V}
        : new PipelineScheduleKind[] {null};
  }

  private void addTasks(List<Partition> out, Recompute[] recomputes, int ep, int es, int tp, int cp,
                        int pp, int dp, int dpe, int ppint, int batch, boolean moe) {
    int first = out.size();
    for (CpCommType cpComm : cpCommTypes(cp, tp)) {
      addCalculonTasks(out, recomputes, ep, es, tp, cp, cpComm, pp, dp, dpe, ppint, batch, moe);
    }
    int last = out.size();
    for (PipelineScheduleKind s : schedules(pp, ppint)) {
      if (s != null) {
        for (int i = first; i < last; i++) {
          out.add(out.get(i).withSchedule(out.size(), s));
        }
      }
    }
  }

  /**
   * The tasks of one split, interleaving and CP comm type: recompute, ZeRO stage (the reference's
   * optimizer sharding true, false, then the other stages the axes ask for; only stage 0 where DP
   * x CP is 1, where the stages are no-ops), TP comm type. A partition beyond Calculon's knobs
   * (ZeRO stage 2 or 3, CP &gt; 1) stands for no reference task; its weight is 0.
   */
  private void addCalculonTasks(List<Partition> out, Recompute[] recomputes, int ep, int es, int tp,
                                int cp, CpCommType cpComm, int pp, int dp, int dpe, int ppint, int batch,
                                boolean moe) {
    for (Recompute rc : recomputes) {
      for (int zero : axes.stagesFor((long) dp * cp)) {
        int ref = zero <= 1 && cp == 1 ? 1 : 0;
        if (moe && tp > 1) {
          // ar, p2p_rs_ag and rs_ag all run as rs_ag: one partition, at ar's place
          out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, zero, cp, cpComm,
              TpCommType.RS_AG, ref * COMM.length, ref * COMM.length, 0, null));
        } else if (mergeNoOps && NoOpKnobs.tpCommTypeHasNoEffect(tp)) {
          // the three comm types run alike: one partition, at ar's place, for the three tasks
          out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, zero, cp, cpComm,
              TpCommType.AR, ref * COMM.length, ref * COMM.length, COMM.length - 1, null));
          if (canRedo(moe, TpCommType.RS_AG, rc)) {
            // rs_ag's seq_par_ag_redo variants are not duplicates (the model stores less with
            // redo, even at TP 1): they stay, at rs_ag's place, as part of the task counted above
            out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, zero, cp, cpComm,
                TpCommType.RS_AG, 0, ref, 0, null));
          }
        } else {
          for (TpCommType comm : COMM) {
            out.add(new Partition(out.size(), ep, es, tp, pp, dp, dpe, ppint, batch, rc, zero, cp, cpComm,
                comm, ref, ref, 0, null));
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ inside a partition

  /** Expands one partition (cheap: the pieces are cached by the parameters they depend on). */
  public PartitionPlan plan(Partition p) {
    boolean moe = opts.kind().isMoe();
    boolean canRedo = canRedo(moe, p.commType(), p.recompute());
    // a merged TP-1 space runs rs_ag with seq_par_ag_redo only: without it, it is ar's twin
    boolean redoOnly = canRedo && mergeNoOps && NoOpKnobs.tpCommTypeHasNoEffect(p.tp());
    // at TP > 1 the modes that always re-gather run seq_par_ag_redo false as its true twin
    boolean redoTwins = canRedo && mergeNoOps && p.tp() > 1;
    // DP overlap overlaps the gradient reduction over the ranks holding the same weights: DP x CP
    boolean dpMany = (long) p.dp() * p.cp() > 1;
    // the TP overlap modes that can run depend on sequence parallelism (userbuffers needs it)
    boolean seqPar = p.commType() == TpCommType.RS_AG;
    Prefix[] prefixes = prefixCache.computeIfAbsent(
        List.of(canRedo, dpMany, p.tp() > 1, p.recompute() == Recompute.FULL, redoOnly, seqPar, redoTwins),
        k -> prefixes(canRedo, dpMany, p.tp() > 1, p.recompute() == Recompute.FULL, redoOnly, seqPar, redoTwins));
    int[] mbs = mbsCache.computeIfAbsent(List.of(p.tp(), p.dp(), p.batch()),
        k -> Enumerators.microbatchSizes(app.seqSize(), p.tp(), p.dp(), p.batch()));
    int extra = p.batch() / p.dp();
    boolean extraDup = mbs.length > 0 && mbs[mbs.length - 1] == extra;
    TierTable t = tierCache.computeIfAbsent(
        List.of(p.tp(), p.pp(), p.dp(), p.dpe(), p.ep(), p.es(), p.cp(), p.cpComm()), k -> tiers(p));
    return new PartitionPlan(p, prefixes, mbs, extra, extraDup, t.tiers, t.errors, t.valid, redoTwins);
  }

  /** Whether the reference tries seq_par_ag_redo both ways (dense, sequence parallel, not full recompute). */
  private static boolean canRedo(boolean moe, TpCommType comm, Recompute rc) {
    return !moe && comm == TpCommType.RS_AG && rc != Recompute.FULL;
  }

  /**
   * The executions merged into {@code e} as no-op duplicates, each as the execution keys in which
   * it differs (empty when nothing was merged, always in the reference's enumeration).
   */
  public List<Map<String, Object>> equivalents(Execution e) {
    return mergeNoOps ? NoOpKnobs.equivalents(e) : List.of();
  }

  /** Whether no-op duplicates are merged in this space. */
  public boolean mergesNoOps() { return mergeNoOps; }

  private record TierTable(int[][] tiers, String[] errors, int valid) {}

  /**
   * The prefixes of a partition, in the reference's loop order (spec section 4.4). Empty when none
   * of the asked TP overlap modes can run in it (e.g. {@code --tp-overlaps userbuffers} without
   * sequence parallelism): the partition then has no executions.
   */
  private Prefix[] prefixes(boolean canRedo, boolean dpMany, boolean tpMany, boolean fullRecompute,
                            boolean redoOnly, boolean seqPar, boolean redoTwins) {
    boolean moe = opts.kind().isMoe();
    List<Prefix> prefixes = new ArrayList<>();
    boolean[] redos = redoOnly ? new boolean[] {true} : canRedo ? new boolean[] {true, false} : new boolean[] {false};
    boolean[] dpos = dpMany && opts.allowDpOverlap() ? new boolean[] {true, false} : new boolean[] {false};
    TpOverlap[] tpos = tpMany && opts.allowTpOverlap()
        ? axes.tpOverlaps().stream().filter(o -> whyTpOverlapCannotRun(o, seqPar) == null).toArray(TpOverlap[]::new)
        : new TpOverlap[] {TpOverlap.NONE};
    // the reference tries the offload flags only where there is a tier-2 memory to offload to
    boolean offload = !moe && hasMem2 && opts.allowOffload();
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
                  if (redoTwins && !redo && tpo.alwaysRegathersSequenceParallelInput()) {
                    continue;  // the model re-gathers anyway: the redo prefix stands for it
                  }
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

  /** How each line of {@link #notTried} begins, after the command's {@code calculon COMMAND: }. */
  public static final String NOT_TRIED = "note: not tried: ";

  /**
   * The one note per asked value that no execution of this space runs, as every command says it,
   * without the command's prefix: {@code note: not tried: tensor_par_overlap ring (why)} for each
   * of {@link #tpOverlapsNeverRun}, then {@code note: not tried: context_par 3 (why)} for each of
   * {@link #contextParsNeverRun}; empty when every asked value runs somewhere. The search commands
   * print these lines on standard error before they search, after {@code calculon COMMAND: } as
   * their other notes; a sweep prints each once after {@code calculon sweep: }, with the points it
   * applies to (docs/search.md, docs/sweeps.md). Nothing else changes: the space and its results
   * are the same.
   *
   * @param tpOverlapsAsked the TP overlap modes were asked ({@code --tp-overlaps}, a SPEC's
   *                        {@code tp_overlaps}); see {@link #tpOverlapsNeverRun}
   */
  public List<String> notTried(boolean tpOverlapsAsked) {
    List<String> lines = new ArrayList<>();
    tpOverlapsNeverRun(tpOverlapsAsked).forEach((mode, why) ->
        lines.add(NOT_TRIED + "tensor_par_overlap " + mode.jsonName + " (" + why + ")"));
    contextParsNeverRun().forEach((cp, why) -> lines.add(NOT_TRIED + "context_par " + cp + " (" + why + ")"));
    return lines;
  }

  /**
   * The asked TP overlap modes ({@link SpaceAxes#tpOverlaps}) that no execution of this space runs,
   * each with the reason, in the asked order: empty when every mode runs somewhere. A mode that
   * runs only with sequence parallelism (userbuffers) counts as run: the rs_ag splits try it.
   *
   * @param asked the modes were asked ({@code --tp-overlaps}, a SPEC's {@code tp_overlaps}): then
   *              also the modes other than none that no execution runs because every execution of
   *              the space has TP 1, where only none runs (Calculon's default modes left out at TP 1
   *              are no news: a TP-1 search has nothing to overlap)
   */
  public Map<TpOverlap, String> tpOverlapsNeverRun(boolean asked) {
    Map<TpOverlap, String> never = new java.util.LinkedHashMap<>();
    if (!opts.allowTpOverlap()) {
      return never;
    }
    boolean tpOneOnly = asked && !partitions.isEmpty() && partitions.stream().allMatch(p -> p.tp() == 1);
    for (TpOverlap o : axes.tpOverlaps()) {
      String why = whyTpOverlapCannotRun(o, true);
      if (why == null && tpOneOnly && o != TpOverlap.NONE) {
        why = "every execution of this search has TP 1, where only none runs";
      }
      if (why != null) {
        never.put(o, why);
      }
    }
    return never;
  }

  /**
   * The CP degrees asked by number ({@link SpaceAxes#contextPars}, {@code --context-par 1,3}) that
   * no execution of this space runs, each with the reason, in the asked order: empty when each runs
   * somewhere, when the degrees were not listed (the default, or {@code all}: only the degrees that
   * can run are tried) and when the space is empty (the search then says why nothing runs).
   * Reasons, first that applies: the degree does not divide num_procs; it is above the largest
   * degree asked ({@link SpaceAxes#maxContextPar}); no asked CP comm type splits the sequence with
   * it ({@link #cpCommTypes}: ring attention and all_gather cut 2 CP chunks, Ulysses CP and its
   * heads); else no parallel split with it meets the space's rules.
   */
  public Map<Integer, String> contextParsNeverRun() {
    Map<Integer, String> never = new java.util.LinkedHashMap<>();
    if (partitions.isEmpty()) {
      return never;
    }
    java.util.Set<Integer> run = new java.util.HashSet<>();
    for (Partition p : partitions) {
      run.add(p.cp());
    }
    for (int c : axes.contextPars()) {
      if (run.contains(c)) {
        continue;
      }
      String why = whyContextParCannotRun(c);
      // not seen with the shipped models: TP 1 and PP 1 always fit a degree that passed the
      // tests above, and a larger CP leaves less data parallelism for max_batch_size
      never.put(c, why != null ? why
          : "no parallel split of the " + opts.numProcs() + " processors with it meets the search's rules");
    }
    return never;
  }

  /**
   * The rule a search with CP degrees listed ({@link SpaceAxes#contextPars}, {@code --context-par
   * 3}) breaks when none of them can run, so that it runs nothing (the search enumerates exactly the
   * listed degrees): {@code none of the listed degrees can run here: 3 (it does not divide num_procs
   * 64)}, each degree with its reason ({@link #contextParsNeverRun}'s, those that depend on the
   * degree alone). Null when a listed degree passes them, and when no degrees were listed (the
   * default, {@code all}): a space that is empty for another reason (every split's DP above
   * max_batch_size) says so as any empty search does.
   */
  public String contextParsNoneCanRun() {
    if (axes.contextPars().isEmpty()) {
      return null;
    }
    List<String> why = new ArrayList<>();
    for (int c : axes.contextPars()) {
      String w = whyContextParCannotRun(c);
      if (w == null) {
        return null;
      }
      why.add(c + " (" + w + ")");
    }
    return "none of the listed degrees can run here: " + String.join(", ", why);
  }

  /**
   * Why CP degree {@code c} cannot run in this space whatever the split, or null: it does not
   * divide num_procs; it is above the largest degree asked ({@link SpaceAxes#maxContextPar}); no
   * asked CP comm type splits the sequence with it ({@link #cpCommTypes}: ring attention and
   * all_gather cut 2 CP chunks, Ulysses CP and its heads).
   */
  private String whyContextParCannotRun(int c) {
    int n = opts.numProcs();
    if (n % c != 0) {
      return "it does not divide num_procs " + n;
    } else if (axes.maxContextPar() > 0 && c > axes.maxContextPar()) {
      return "above the largest degree asked, " + axes.maxContextPar();
    } else if (triedCpCommTypes.isEmpty()) {
      return "a2a, the one comm type asked, cannot run with the template's context_par_impl \"pytorch\"";
    } else if (cpCommTypes(c, 1).isEmpty()) {
      List<String> needs = new ArrayList<>();
      for (CpCommType t : triedCpCommTypes) {
        long chunks = t != CpCommType.A2A ? 2L * c : c;
        needs.add(t.jsonName + (app.seqSize() % chunks != 0
            ? " needs seq_size " + app.seqSize() + " to be a multiple of " + chunks
            : " needs attn_heads " + app.attnHeads() + " to be a multiple of " + c));
      }
      return String.join("; ", needs);
    }
    return null;
  }

  /**
   * Why TP overlap {@code o} cannot run at TP &gt; 1 in this space, by the readers' rules
   * ({@code ExecutionReader.check}, {@code RunChecks.check}), or null when it can:
   * {@code userbuffers} needs sequence parallelism
   * ({@code seqPar}: the TP comm type the model runs is rs_ag; Megatron-LM's --tp-comm-overlap
   * asserts --sequence-parallel, megatron/training/arguments.py) and more SMs than it gives its
   * communication ({@link TpOverlap#USERBUFFERS_COMM_SMS}, where the system says its SMs); a
   * model with multi-head latent attention runs only the modes with separate collectives (none,
   * backward).
   */
  private String whyTpOverlapCannotRun(TpOverlap o, boolean seqPar) {
    if (app.architecture().mla() != null && !o.separateCollectives()) {
      return "multi-head latent attention runs only none and backward";
    }
    if (o == TpOverlap.USERBUFFERS) {
      Integer sms = system.streamingMultiprocessors();
      if (sms != null && sms <= TpOverlap.USERBUFFERS_COMM_SMS) {
        return "the system has " + sms + " SMs; userbuffers gives " + TpOverlap.USERBUFFERS_COMM_SMS
            + " to its communication";
      }
      if (!seqPar) {
        return "userbuffers needs sequence parallelism (rs_ag)";
      }
    }
    return null;
  }

  private TierTable tiers(Partition p) {
    boolean moe = opts.kind().isMoe();
    int nets = tierCheck.numNetworks();
    List<int[]> tiers = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    int[] tns = range(p.tp() > 1, nets);
    int[] pns = range(p.pp() > 1, nets);
    int[] dns = range(p.dp() > 1, nets);
    int[] cns = cpTiers(p);
    int valid = 0;
    if (!moe) {
      for (int tn : tns) {
        for (int pn : pns) {
          for (int dn : dns) {
            for (int cn : cns) {
              String err = tierCheck.checkDense(p.tp(), p.cp(), p.pp(), p.dp(), tn, cn, pn, dn);
              tiers.add(new int[] {tn, pn, dn, DENSE_EXPERT_NET, DENSE_EXPERT_NET, DENSE_EXPERT_NET, cn});
              errors.add(err);
              valid += err == null ? 1 : 0;
            }
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
                  for (int cn : cns) {
                    String err = tierCheck.checkMoe(p.tp(), p.cp(), p.pp(), p.dp(), p.dpe(), p.ep(), p.es(),
                        tn, cn, pn, dn, dne, epn, esn);
                    tiers.add(new int[] {tn, pn, dn, dne, epn, esn, cn});
                    errors.add(err);
                    valid += err == null ? 1 : 0;
                  }
                }
              }
            }
          }
        }
      }
    }
    return new TierTable(tiers.toArray(new int[0][]), errors.toArray(new String[0]), valid);
  }

  /**
   * The tiers the CP group may use: [0] at CP 1 (unused), every tier for ring attention, the
   * tiers with an {@code all_to_all} op for Ulysses (the reader's rule for files).
   */
  private int[] cpTiers(Partition p) {
    int nets = tierCheck.numNetworks();
    if (p.cp() == 1 || p.cpComm() != CpCommType.A2A) {
      return range(p.cp() > 1, nets);
    }
    return java.util.stream.IntStream.range(0, nets)
        .filter(t -> system.networks().get(t).ops().containsKey("all_to_all")).toArray();
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
    Execution exe = new Execution(opts.numProcs(), p.tp(), p.pp(), p.dp(), tier[0], tier[1], tier[2],
        p.batch(), mbs, experts, topK, p.ep(), p.es(), p.dpe(), tier[3], tier[4], tier[5],
        opts.datatype(), x.fusedActivation(), AttentionType.MULTIHEAD, p.recompute(), p.ppint(),
        p.sharding(), p.commType(), x.tensorParOverlap(), x.seqParAgRedo(), x.dataParOverlap(),
        x.weightOffload(), x.activationsOffload(), x.optimizerOffload(), true, moe,
        ActivationFunction.GELU, template.precision(), parallelOptions(p, tier),
        template.layerOptionsFor(p.recompute()), template.scheduleOptions(p.schedule()));
    return exe;
  }

  /**
   * The ZeRO stage and CP of a partition as execution keys: Calculon's defaults for stages 0 and
   * 1 without CP (the same execution the reference's optimizer sharding gives), else the stage
   * said explicitly and the CP group on its tier.
   */
  private static ParallelOptions parallelOptions(Partition p, int[] tier) {
    if (p.zeroStage() <= 1 && p.cp() == 1) {
      return ParallelOptions.defaults(p.sharding());
    }
    return new ParallelOptions(p.zeroStage(), p.zeroStage() > 1, p.cp(), p.cp() > 1 ? tier[6] : 0,
        p.cpComm(), 0, 0);
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
   * Counts without evaluating (the {@code -d} mode): {@code total}, {@code tierRejected} (the
   * assignments that break a network-tier rule, which a search counts bad without a model call),
   * {@code rejectedBy} for those tier rules only, the reference-equivalent total and the merged
   * no-op duplicates; no good or bad. Nothing is feasible when nothing is evaluated, so with
   * {@code -m} each microbatch loop stops after its first size, as in the reference.
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
    long w = plan.partition().referenceWeight();
    long distinctMbs = opts.mbsBreak() ? Math.min(1, nm) : nm;
    long refMbs = opts.mbsBreak() ? 1 : nm + 1;
    c.total += prefixes * distinctMbs * tiers;
    c.tierRejected += prefixes * distinctMbs * (tiers - plan.validTiers());
    // each counted block rejects the same tier assignments, by the rule each breaks (as PartitionRunner counts them)
    for (String err : plan.tierError()) {
      if (err != null) {
        c.rejectedBy[Infeasible.Rule.ofNetworkTierMessage(err).ordinal()] += prefixes * distinctMbs;
      }
    }
    // a corrected-model TP overlap mode stands for no reference execution
    c.refTotal += w * plan.referencePrefixes() * refMbs * tiers;
    long twins = plan.redoTwinPrefixes() * distinctMbs * tiers;
    c.mergedNoOps += plan.partition().noOpCopies() * prefixes * distinctMbs * tiers + twins;
    c.mergedRedoTwins += twins;
  }
}
