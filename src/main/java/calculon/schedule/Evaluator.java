package calculon.schedule;

import static calculon.schedule.BlockStats.BASE;
import static calculon.schedule.BlockStats.BWD;
import static calculon.schedule.BlockStats.EDGE;
import static calculon.schedule.BlockStats.FWD;
import static calculon.schedule.BlockStats.RECOMM;

import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.Execution;
import calculon.config.ParallelDim;
import calculon.config.Recompute;
import calculon.config.RecomputeMethod;
import calculon.hardware.Hardware;
import calculon.hardware.Network;
import calculon.model.BlockBuilder;
import calculon.model.CommGroup;
import calculon.model.Infeasible;
import calculon.model.Layer;
import calculon.model.ModelVersion;
import calculon.model.ParameterCount;
import calculon.model.Stage;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One training (or inference) step of a model under one execution on one system, as
 * Calculon-MoE computes it: network-tier checks, block construction, per-block totals
 * ({@link BlockStats}), then the batch: each parallel group's communication ({@link GroupSeconds}),
 * block and chunk times with offload overheads ({@link BlockTimes}), pipeline chunks and bubble
 * ({@link PipelineSchedule}), data-parallel communication and its overlap ({@link DataParallelSync}),
 * memory per tier ({@link StageMemory}), and the step's time, efficiency and sample rate; with
 * {@code withLayers} the per-layer stats ({@link LayerStatsWriter}).
 */
public final class Evaluator {
  /** Offloading streams blocks through tier 1, so it needs at least this many blocks per processor (reference llm.py:1839-1842). */
  static final int MIN_BLOCKS_FOR_OFFLOAD = 3;

  private Evaluator() {}

  /** Evaluates with the default model version ({@link ModelVersion#DEFAULT}). */
  public static Stats evaluate(Application app, Execution exe, Hardware hw, boolean withLayers)
      throws Infeasible {
    return evaluate(app, exe, hw, ModelVersion.DEFAULT, withLayers);
  }

  public static Stats evaluate(Application app, Execution exe, Hardware hw, ModelVersion version,
                               boolean withLayers) throws Infeasible {
    return new Step(app, exe, hw, version, null, false).run(withLayers, true);
  }

  /**
   * As {@link #evaluate(Application, Execution, Hardware, ModelVersion, boolean)}, the same
   * result, with two shortcuts for searches: blocks come from {@code blocks} (null: built each
   * time; never cached with {@code withLayers}), and with {@code tiersChecked} the network-tier
   * check is skipped because the caller has already applied the same rules
   * ({@code calculon.search.TierCheck}).
   */
  public static Stats evaluate(Application app, Execution exe, Hardware hw, ModelVersion version,
                               boolean withLayers, BlockCache.Scope blocks, boolean tiersChecked)
      throws Infeasible {
    return new Step(app, exe, hw, version, withLayers ? null : blocks, false).run(withLayers, !tiersChecked);
  }

  /**
   * The sample rate {@link #evaluate} reports for {@code exe} ({@code batch_size / total_time}),
   * computed without the stats object (a search's headline figure; it asks for the full stats of
   * the executions it keeps). Same rejections as {@link #evaluate}.
   *
   * @param blocks       where blocks come from (null: built each time)
   * @param tiersChecked the caller has applied the network-tier rules already
   */
  public static double sampleRate(Application app, Execution exe, Hardware hw, ModelVersion version,
                                  BlockCache.Scope blocks, boolean tiersChecked) throws Infeasible {
    Architecture arch = app.architecture();
    if (!arch.uniformBlocks() || arch.modelsVocabulary() || asRun(app, exe, version).partialRecompute()) {
      return evaluate(app, exe, hw, version, false, blocks, tiersChecked).get(StatField.SAMPLE_RATE);
    }
    Step step = new Step(app, exe, hw, version, blocks, true);
    step.run(false, !tiersChecked);
    return step.headlineSampleRate;
  }

  /**
   * The execution the step model runs for {@code exe}: in the corrected model, plain full recompute
   * where {@code recompute_method: block} recomputes every block ({@link Execution#asRun}), so such
   * a run has exactly plain full recompute's numbers (its activation offload included); else
   * {@code exe}. Calculon-MoE refuses the key (it recomputes every block from its own checkpoint).
   */
  static Execution asRun(Application app, Execution exe, ModelVersion version) {
    return version.corrected() ? exe.asRun(app.numBlocks()) : exe;
  }

  /** Samples per second of a step of {@code totalSeconds}: the global batch over the step time. */
  static double samplesPerSecond(Execution exe, double totalSeconds) {
    return exe.batchSize() / totalSeconds;
  }

  /**
   * Bandwidth to move {@code bytes} within {@code windowSeconds}. Nothing to move needs no
   * bandwidth, even when the window is empty (the reference divides 0 by 0 and reports NaN).
   */
  static double perWindow(double bytes, double windowSeconds) {
    return bytes == 0 ? 0 : bytes / windowSeconds;
  }

  /**
   * Checks the network tiers each parallel group uses (reference
   * _check_network_assignment[s|_MoE]): the product of the degrees of the groups on one tier must
   * fit the tier, and fill it when it must be filled. A dense run checks its groups once; a MoE
   * run checks the expert side (PP, EP, ES, DP_exp) and the dense side (TP, PP, DP) apart.
   */
  static void checkNetworkTiers(Execution exe, Hardware hw) throws Infeasible {
    int n = hw.numNetworks();
    if (!exe.modelMoE()) {
      long[] size = tierSizes(exe, n, true);
      for (int t = 0; t < n; t++) {
        if (size[t] > 0) {
          Network net = hw.network(t);
          if (size[t] > net.size()) {
            throw new Infeasible(Infeasible.Rule.NETWORK_TIER_SIZE, "Network tier" + t + " isn't big enough")
                .withTier(shortfall(exe, t, size[t], net, false, Infeasible.TierSide.ALL));
          }
          if (net.mustBeFilled() && net.size() % size[t] != 0) {
            throw new Infeasible(Infeasible.Rule.NETWORK_TIER_FILL, "Network tier" + t + " isn't fully used")
                .withTier(shortfall(exe, t, size[t], net, true, Infeasible.TierSide.ALL));
          }
        }
      }
      return;
    }
    checkGroup(exe, hw, tierSizes(exe, n, false), "MoE", Infeasible.TierSide.EXPERT);
    checkGroup(exe, hw, tierSizes(exe, n, true), "non-MoE", Infeasible.TierSide.DENSE);
  }

  /**
   * What a tier rejection found, for the command line's line ({@code calculon.cli.InfeasibleLine}):
   * the groups of {@code side} on tier {@code t}, as {@link #tierSizes} multiplies them. Built only
   * when a check fails; searches apply the tier rules ahead ({@code calculon.search.TierCheck}).
   */
  private static Infeasible.TierShortfall shortfall(Execution exe, int t, long ranks, Network net, boolean fill,
                                                    Infeasible.TierSide side) {
    boolean denseSide = side != Infeasible.TierSide.EXPERT;
    List<ParallelDim> groups = new ArrayList<>();
    for (ParallelDim d : ParallelDim.all()) {
      if ((denseSide ? d.denseSide : d.expertSide) && d.degree(exe) > 1 && d.tier(exe) == t) {
        groups.add(d);
      }
    }
    return new Infeasible.TierShortfall(t, List.copyOf(groups), ranks, net.size(), fill, side);
  }

  /** Ranks each tier spans for one side of a block: the product of its groups' degrees (0: unused). */
  private static long[] tierSizes(Execution exe, int tiers, boolean denseSide) {
    long[] size = new long[tiers];
    for (ParallelDim d : ParallelDim.all()) {
      int degree = d.degree(exe);
      if ((denseSide ? d.denseSide : d.expertSide) && degree > 1) {
        int t = d.tier(exe);
        size[t] = (size[t] == 0 ? 1 : size[t]) * degree;
      }
    }
    return size;
  }

  private static void checkGroup(Execution exe, Hardware hw, long[] size, String group, Infeasible.TierSide side)
      throws Infeasible {
    for (int t = 0; t < size.length; t++) {
      if (size[t] > 0) {
        Network net = hw.network(t);
        if (size[t] > net.size()) {
          throw new Infeasible(Infeasible.Rule.NETWORK_TIER_SIZE, "Network tier" + t + ": " + size[t] + " isn't big enough, "
              + net.size() + " -- " + group).withTier(shortfall(exe, t, size[t], net, false, side));
        }
        if (net.mustBeFilled() && net.size() % size[t] != 0) {
          // the reference says "MoE" for both groups here (spec quirk 39)
          throw new Infeasible(Infeasible.Rule.NETWORK_TIER_FILL, "Network tier" + t + " isn't fully used MoE")
              .withTier(shortfall(exe, t, size[t], net, true, side));
        }
      }
    }
  }

  /** The evaluation of one execution; fields are the batch-level quantities of the reference. */
  private static final class Step {
    final Application app;
    final Execution exe;
    final Hardware hw;
    final ModelVersion version;
    final boolean corrected;
    Stats stats;
    final boolean training;
    final int nm;
    final PipelineSchedule schedule;
    int blocksPerProc, bubbleReductionBlocks, blocksPerChunk, chunksPerProc, baseBlocks, edgeBlocks;
    /** Blocks of each stage when the execution sets the first/last stage's; null when even. */
    int[] stageBlocks;
    long[][] chunkStarts;
    List<Layer> layers;
    BlockStats b;
    /** Each pipeline stage's average block when the stages differ ({@link #stagesDiffer}); null when they are all {@link #b}. */
    BlockStats[] stageAverages;
    /**
     * Each pipeline stage's chunks' share of its stored activations for one microbatch (the
     * stage's order, sum 1), when the stages differ; null when every chunk stores the same.
     */
    double[][] stageChunkShares;
    /** Where blocks come from; null: built here. */
    final BlockCache.Scope blocks;
    /**
     * The execution the blocks of a partial recompute that are not recomputed run
     * ({@link Execution#withoutRecompute}); null without partial recompute.
     */
    final Execution noRecompute;
    /** Each pipeline stage's partial recompute ({@link StageMemory.PartialRecompute}); null without one. */
    StageMemory.PartialRecompute[] stagePartials;

    /** Only the sample rate is wanted: no stats object, {@link #headlineSampleRate} holds it. */
    final boolean headline;
    double headlineSampleRate;

    Step(Application app, Execution exe, Hardware hw, ModelVersion version, BlockCache.Scope blocks,
         boolean headline) {
      this.blocks = blocks;
      this.headline = headline;
      this.version = version;
      this.corrected = version.corrected();
      this.app = app;
      // the model runs the execution as the corrected model reads it (asRun); the stats keep the
      // execution as given, which they echo
      this.exe = asRun(app, exe, version);
      this.hw = hw;
      this.stats = headline ? null : new Stats(app, exe, hw.spec());
      this.training = exe.training();
      this.nm = exe.numMicrobatches();
      this.schedule = PipelineSchedule.of(exe, corrected);
      this.noRecompute = this.exe.partialRecompute() ? this.exe.withoutRecompute() : null;
    }

    Stats run(boolean withLayers, boolean checkTiers) throws Infeasible {
      if (checkTiers) {
        checkNetworkTiers(exe, hw);
      }
      long blocks = app.numBlocks();
      int pp = exe.pipelinePar();
      int interleave = exe.pipelineInterleaving();
      if (!corrected && (exe.contextPar() > 1 || exe.parallel().unevenStages())) {
        throw new Infeasible("context_par and blocks_in_first/last_stage need the corrected model");
      }
      if (!corrected && app.architecture().mlp() == Architecture.MlpKind.SQUARED_RELU) {
        // Calculon-MoE has no squared ReLU; its GeLU would be a silent substitute
        throw new Infeasible("mlp \"squared_relu\" needs the corrected model");
      }
      if (!corrected && exe.partialRecompute()) {
        // Calculon-MoE recomputes every block from its own checkpoint; anything else would be a silent substitute
        throw new Infeasible("recompute_method \"block\" and recompute_num_layers > 1 need the corrected model");
      }
      if (exe.partialRecompute() && exe.activationsOffload()) {
        // a search's execution (files are refused by ExecutionReader.check and RunChecks.check);
        // block recompute of every block runs as plain full recompute (asRun) and passes
        throw new Infeasible("activations_offload with recompute_method \"block\" that leaves blocks of a pipeline "
            + "chunk without recompute, or recompute_num_layers > 1 under \"uniform\", is not modelled");
      }
      if (!corrected && exe.tensorParOverlap().correctedOnly()) {
        // Calculon-MoE has no such overlap; its ring or none would be a silent substitute
        throw new Infeasible("tensor_par_overlap \"" + exe.tensorParOverlap().jsonName + "\" needs the corrected model");
      }
      if (exe.parallel().unevenStages()) {
        unevenStages();
      } else {
        blocksPerProc = (int) (blocks / pp);
        if (blocks % pp != 0) {
          blocksPerProc += 1;
          bubbleReductionBlocks = (int) (pp - blocks % pp);
        }
      }
      if (interleave > blocksPerProc) {
        throw new Infeasible(Infeasible.Rule.INTERLEAVING, "Pipeline interleaving must be less than or equal to the number of blocks per processor")
            .withFigure(blocksPerProc);
      }
      if (blocksPerProc % interleave != 0 && stageBlocks == null) {
        int perProc = blocksPerProc;
        // formatted only when read: searches meet this rejection millions of times
        throw new Infeasible(Infeasible.Rule.INTERLEAVING, () -> "Pipeline interleaving must be a factor value of the number of blocks per processor, the blocks per proc: " + perProc)
            .withFigure(perProc);
      }
      if (exe.scheduleOptions().pipelineSchedule() != null) {
        // a search's schedule that cannot run this many microbatches (files are checked on reading)
        String why = exe.pipelineSchedule().violation(interleave, pp, nm);
        if (why != null) {
          throw new Infeasible(Infeasible.Rule.PIPELINE_SCHEDULE, why);
        }
      }
      if ((exe.weightOffload() || exe.activationsOffload() || exe.optimizerOffload())
          && blocksPerProc < MIN_BLOCKS_FOR_OFFLOAD) {
        throw new Infeasible(Infeasible.Rule.OFFLOAD_BLOCKS, "Offloading requires each processor to handle at least 3 blocks")
            .withFigure(blocksPerProc);
      }
      blocksPerChunk = blocksPerProc / interleave;
      chunksPerProc = blocksPerProc / blocksPerChunk;
      baseBlocks = blocksPerChunk - 1;
      edgeBlocks = 1;
      Architecture arch = app.architecture();
      if (arch.uniformBlocks() && !arch.modelsVocabulary() && stageBlocks == null && noRecompute == null) {
        b = block(exe.modelMoE() ? BlockBuilder.Kind.MOE : BlockBuilder.Kind.DENSE, false, false);
        // equal stages: the first holds the most microbatches in flight, so it bounds them all
        try {
          batch(0);
        } catch (Infeasible e) {
          throw largestStage(e);
        }
        if (headline) {
          return null;
        }
        stats.setTotalWeightParams(totalWeightParams());
      } else {
        try {
          stagesDiffer();
        } catch (Infeasible e) {
          throw largestStage(e);
        }
        // the corrected model counts the model the run evaluates: a model file without moe run as
        // MoE by its execution has the execution's experts (as lpc -e counts it), and the final
        // norm before the output layer (ParameterCount.finalNorm); calculon-moe keeps the file's
        // dense count without it
        stats.setTotalWeightParams((corrected ? ParameterCount.ofRun(app, exe) : ParameterCount.of(app)).total());
      }
      stats.setBlocksPerProc(blocksPerProc);
      if (withLayers) {
        stats.setLayers(LayerStatsWriter.of(layers));
      }
      return stats;
    }

    /**
     * A model whose pipeline stages differ (dense blocks among MoE ones, embedding on the first
     * stage, logits on the last): each distinct stage is evaluated with its average block, and the
     * step is the slowest stage's (the critical path of the pipeline); every stage must fit in
     * memory, and the reported requirements are the largest stage's (its weights, activations,
     * gradients and optimizer state with its tier-1 total; tier 2 the largest of any stage).
     */
    void stagesDiffer() throws Infeasible {
      int pp = exe.pipelinePar();
      Map<String, BlockStats> variants = new HashMap<>();
      Map<String, List<Layer>> variantLayers = new HashMap<>();
      Map<String, Stats> stages = new LinkedHashMap<>();
      Map<String, BlockStats> averages = new HashMap<>();
      Stats slowest = null;
      List<Layer> slowestLayers = null;
      StageMemory largest = null;
      double tier2 = 0;
      // every stage's average block first: a DualPipe rank's memory needs its mirror stage's
      String[] keys = new String[pp];
      BlockStats[] perStage = new BlockStats[pp];
      double[][] chunkShares = new double[pp][exe.pipelineInterleaving()];
      for (int stage = 0; stage < pp; stage++) {
        StringBuilder key = new StringBuilder();
        List<BlockStats> members = stageMembers(stage, variants, variantLayers, key, chunkShares[stage]);
        keys[stage] = key.toString();
        perStage[stage] = averages.computeIfAbsent(keys[stage], x -> BlockStats.stageAverage(members, blocksPerProc));
      }
      stageAverages = perStage;
      stageChunkShares = chunkShares;
      for (int stage = 0; stage < pp; stage++) {
        String k = keys[stage];
        List<Layer> firstLayers = k.isEmpty() ? null : variantLayers.get(k.substring(0, k.indexOf(',')));
        b = perStage[stage];
        Stats done = stages.get(k);
        if (done == null) {
          stats = new Stats(app, exe, hw.spec());
          batch(stage);
          done = stats;
          stages.put(k, done);
        }
        // every stage's memory is checked: the same blocks hold different in-flight microbatches
        StageMemory mem = memory(stage);
        mem.check(hw);
        if (largest == null || mem.tier1 > largest.tier1) {
          largest = mem;
        }
        tier2 = Math.max(tier2, mem.tier2);
        if (slowest == null || done.get(StatField.TOTAL_TIME) > slowest.get(StatField.TOTAL_TIME)) {
          slowest = done;
          slowestLayers = firstLayers;
        }
      }
      stats = slowest;
      // the memory lines (weights, activations, gradients, optimizer) are the stage's whose total
      // is reported, so that they add up to it; the times are the slowest stage's
      largest.write(stats, exe.tensorPar());
      stats.set(StatField.PROC_MEM_TIER2_CAP_REQ, tier2);
      layers = slowestLayers;
    }

    /**
     * The blocks of pipeline stage {@code stage} in order, each kind of block (dense or MoE, with
     * the embedding, with the logits) built once into {@code variants} and its layers into
     * {@code variantLayers}; each block's kind is appended to {@code key} ({@code "De,D,"}), so
     * stages of the same blocks share a key.
     */
    private List<BlockStats> stageMembers(int stage, Map<String, BlockStats> variants,
                                          Map<String, List<Layer>> variantLayers, StringBuilder key) {
      return stageMembers(stage, variants, variantLayers, key, null);
    }

    /**
     * {@link #stageMembers(int, Map, Map, StringBuilder)}, also writing into {@code chunkShares}
     * (when not null) each chunk's share of what the stage stores for one microbatch
     * ({@link #perMicrobatchBytes}), for {@link PipelineSchedule#inFlightMicrobatches(int, double[], double)}.
     */
    private List<BlockStats> stageMembers(int stage, Map<String, BlockStats> variants,
                                          Map<String, List<Layer>> variantLayers, StringBuilder key,
                                          double[] chunkShares) {
      long blocks = app.numBlocks();
      Architecture.Moe moe = app.architecture().moe();
      boolean vocab = app.architecture().modelsVocabulary();
      List<BlockStats> members = new ArrayList<>(blocksPerProc);
      // a partial recompute (Megatron-Core's checkpointed_forward, megatron/core/recompute.py): with
      // recompute_method block the first N blocks of each chunk are recomputed, each from its own
      // checkpoint, and the others run without recompute; with uniform each group of N consecutive
      // blocks of a chunk keeps its first block's input and is recomputed whole
      boolean partial = noRecompute != null;
      boolean blockMethod = partial && exe.layerOptions().recomputeMethod() == RecomputeMethod.BLOCK;
      int n = exe.layerOptions().recomputeNumLayers();
      double checkpoints = 0, stored = 0, leastStored = Double.POSITIVE_INFINITY, group = 0, largestGroup = 0;
      double working = 0;
      for (int chunk = 0; chunk < exe.pipelineInterleaving(); chunk++) {
        long first = chunkStart(stage, chunk);
        long end = Math.min(first + chunkBlocks(stage, chunk), blocks);
        for (long index = first; index < end; index++) {
          boolean expert = moe != null ? moe.isMoeBlock(index) : exe.modelMoE();
          boolean embedding = vocab && index == 0;
          boolean logits = vocab && index == blocks - 1;
          long position = index - first;
          boolean recomputed = !blockMethod || position < n;
          String variant = (expert ? "M" : "D") + (embedding ? "e" : "") + (logits ? "l" : "")
              + (recomputed ? "" : "n");
          key.append(variant).append(',');
          BlockStats bs = variant(variants, variantLayers, variant, recomputed ? exe : noRecompute, expert,
              embedding, logits);
          members.add(bs);
          working = Math.max(working, bs.actWorkingSpace);
          if (blockMethod) {
            if (recomputed) {
              checkpoints += bs.actCheckpointSize;
            } else {
              stored += bs.actStorageSpace;
              leastStored = Math.min(leastStored, bs.actStorageSpace);
            }
          } else if (partial) {
            if (position % n == 0) {
              checkpoints += bs.actCheckpointSize;
              group = 0;
            }
            long groupStart = position - position % n;
            if (Math.min(n, end - first - groupStart) > 1) {
              // a group of several blocks runs its forward again with autograd, as without
              // recompute, before its backward: its blocks work as unrecomputed blocks, and those
              // but its last keep their activations while the last is backpropagated
              BlockStats plain = variant(variants, variantLayers, variant + "n", noRecompute, expert, embedding,
                  logits);
              working = Math.max(working, plain.actWorkingSpace);
              if (position % n != n - 1 && index != end - 1) {
                group += plain.actStorageSpace;
                largestGroup = Math.max(largestGroup, group);
              }
            }
          }
          if (chunkShares != null) {
            chunkShares[chunk] += perMicrobatchBytes(bs);
          }
        }
      }
      if (chunkShares != null) {
        normalise(chunkShares);
      }
      if (partial) {
        if (stagePartials == null) {
          stagePartials = new StageMemory.PartialRecompute[exe.pipelinePar()];
        }
        stagePartials[stage] = new StageMemory.PartialRecompute(working, checkpoints, stored,
            blockMethod ? (stored > 0 ? -leastStored : 0) : largestGroup);
      }
      return members;
    }

    /** The block {@code variant} of {@link #stageMembers}, built once as {@code e} runs it. */
    private BlockStats variant(Map<String, BlockStats> variants, Map<String, List<Layer>> variantLayers,
                               String variant, Execution e, boolean expert, boolean embedding, boolean logits) {
      BlockStats bs = variants.get(variant);
      if (bs == null) {
        bs = block(e, expert ? BlockBuilder.Kind.MOE : BlockBuilder.Kind.DENSE, embedding, logits);
        variants.put(variant, bs);
        variantLayers.put(variant, layers);
      }
      return bs;
    }

    /**
     * A memory rejection of the corrected model told by the pipeline stage that needs the most of
     * the tier that did not fit, with its bytes against the capacity
     * ({@link StageMemory#largestStageMessage}): the stages are checked in order and the first
     * that does not fit throws, which need not be the one that needs the most (with few
     * microbatches in flight the last stage's logits can outweigh the first stage's
     * activations). The message and the stage's {@link Infeasible#memory()} (its parts, for the
     * command line's line) are built only when read, from one measurement of the stages; searches
     * count the rule only, which stays the first failure's. Other rejections, single-stage runs and
     * calculon-moe (the reference's message): {@code e} itself. No number of the model changes.
     */
    private Infeasible largestStage(Infeasible e) {
      boolean tier1 = e.rule() == Infeasible.Rule.MEMORY_TIER1;
      if (!corrected || exe.pipelinePar() == 1 || headline || !(tier1 || e.rule() == Infeasible.Rule.MEMORY_TIER2)) {
        return e;
      }
      int tier = tier1 ? 1 : 2;
      double capacity = (tier1 ? hw.mem1() : hw.mem2()).capacityBytes();
      // the stages are measured once, for the message or the shortfall, whichever is asked first
      Infeasible.MemoryShortfall[] measured = new Infeasible.MemoryShortfall[1];
      Supplier<Infeasible.MemoryShortfall> shortfall = () -> {
        if (measured[0] == null) {
          measured[0] = largestStageShortfall(tier1, capacity);
        }
        return measured[0];
      };
      return new Infeasible(e.rule(), () -> {
        try {
          Infeasible.MemoryShortfall m = shortfall.get();
          return StageMemory.largestStageMessage(tier, m.needBytes(), capacity, m.stage(), m.stages(),
              m.stagesOver());
        } catch (RuntimeException notExpected) {
          return e.getMessage();
        }
      }).withMemory(() -> {
        try {
          return shortfall.get();
        } catch (RuntimeException notExpected) {
          return e.memory();
        }
      });
    }

    /**
     * The pipeline stage that needs the most of memory tier 1 (or 2), its need against
     * {@code capacityBytes} and its parts ({@link StageMemory#shortfall}), with how many stages
     * do not fit.
     */
    private Infeasible.MemoryShortfall largestStageShortfall(boolean tier1, double capacityBytes) {
      StageMemory[] stages = stageMemories();
      double[] need = new double[stages.length];
      for (int stage = 0; stage < stages.length; stage++) {
        need[stage] = tier1 ? stages[stage].tier1 : stages[stage].tier2;
      }
      int largest = StageMemory.largestStage(need);
      return stages[largest].shortfall(tier1 ? 1 : 2, capacityBytes, largest, stages.length,
          StageMemory.stagesOver(need, capacityBytes));
    }

    /** Each pipeline stage's memory, as {@link #memory} counts it. */
    private StageMemory[] stageMemories() {
      int pp = exe.pipelinePar();
      boolean sameBlocks = app.architecture().uniformBlocks() && !app.architecture().modelsVocabulary()
          && stageBlocks == null && noRecompute == null;
      Map<String, BlockStats> variants = new HashMap<>();
      Map<String, List<Layer>> variantLayers = new HashMap<>();
      StageMemory[] memories = new StageMemory[pp];
      if (!sameBlocks) {
        stageChunkShares = new double[pp][exe.pipelineInterleaving()];
      }
      for (int stage = 0; stage < pp; stage++) {
        if (!sameBlocks) {
          b = BlockStats.stageAverage(stageMembers(stage, variants, variantLayers, new StringBuilder(),
              stageChunkShares[stage]), blocksPerProc);
        }
        memories[stage] = memory(stage);
      }
      return memories;
    }

    /**
     * Uneven pipeline stages (Megatron-Core's {@code num_layers_in_first_pipeline_stage} and
     * {@code num_layers_in_last_pipeline_stage}): the first and last stages hold the blocks the
     * execution gives them, the others share the rest evenly. With interleaving each stage's
     * blocks split into v chunks as evenly as they go (the first chunks take one more), so v need
     * not divide a stage's blocks. The batch model then runs each stage as a stage of
     * {@code v · ceil(most / v)} block slots, empty slots counting as nothing
     * ({@link BlockStats#stageAverage}): each stage's time and memory come from its own blocks,
     * and the step is the slowest stage's, bubble included.
     */
    void unevenStages() {
      int pp = exe.pipelinePar(), v = exe.pipelineInterleaving();
      stageBlocks = exe.parallel().stageBlocks(app.numBlocks(), pp);
      int most = 0;
      for (int n : stageBlocks) {
        most = Math.max(most, n);
      }
      // chunk-major block order: chunk 0 of every stage, then chunk 1, ... (Megatron's virtual stages)
      chunkStarts = new long[pp][v];
      long next = 0;
      for (int c = 0; c < v; c++) {
        for (int k = 0; k < pp; k++) {
          chunkStarts[k][c] = next;
          next += chunkBlocks(k, c);
        }
      }
      blocksPerProc = most % v == 0 ? most : (most / v + 1) * v;
      bubbleReductionBlocks = 0;
    }

    /** Blocks of chunk {@code chunk} of stage {@code stage}. */
    int chunkBlocks(int stage, int chunk) {
      if (stageBlocks == null) {
        return blocksPerChunk;
      }
      int v = exe.pipelineInterleaving(), n = stageBlocks[stage];
      return n / v + (chunk < n % v ? 1 : 0);
    }

    /** Model index of the first block of chunk {@code chunk} of stage {@code stage}. */
    long chunkStart(int stage, int chunk) {
      return stageBlocks == null ? ((long) chunk * exe.pipelinePar() + stage) * blocksPerChunk
          : chunkStarts[stage][chunk];
    }

    /**
     * One block's totals: from the cache when there is one (then {@code layers} is null), else
     * built here (then {@code layers} holds its layers).
     */
    BlockStats block(BlockBuilder.Kind kind, boolean embedding, boolean logits) {
      return block(exe, kind, embedding, logits);
    }

    /** {@link #block(BlockBuilder.Kind, boolean, boolean)} as execution {@code e} runs it. */
    BlockStats block(Execution e, BlockBuilder.Kind kind, boolean embedding, boolean logits) {
      if (blocks != null) {
        layers = null;
        return blocks.block(app, e, hw, version, kind, embedding, logits);
      }
      layers = BlockBuilder.buildWithVocabulary(app, e, hw, version, kind, embedding, logits);
      return BlockStats.of(layers, app, e, hw, version);
    }

    /** Per-microbatch total over a processor's chunks: NM · I · (base·x + edge·y). */
    double perStep(double base, double edge) {
      return nm * (double) chunksPerProc * (baseBlocks * base + edgeBlocks * edge);
    }

    /** Exposed time of one group's communication in one pass of a chunk: base·x + edge·y. */
    double chunkExposed(CommGroup g, int pass) {
      return baseBlocks * b.exposed(g, pass, BASE) + edgeBlocks * b.exposed(g, pass, EDGE);
    }

    double commStep(CommGroup g, int pass, boolean exposed) {
      return exposed ? perStep(b.exposed(g, pass, BASE), b.exposed(g, pass, EDGE))
                     : perStep(b.linkTime(g, pass, BASE), b.linkTime(g, pass, EDGE));
    }

    /** A group's forward and backward communication per step: link seconds, or exposed ones with {@code exposed}. */
    double passes(CommGroup g, boolean exposed) {
      return commStep(g, FWD, exposed) + commStep(g, BWD, exposed);
    }

    /**
     * A group's re-communication per step (recompute repeats the forward pass's traffic): link
     * seconds, or exposed ones with {@code exposed}; 0 when the execution does not train.
     */
    double recomm(CommGroup g, boolean exposed) {
      return training ? commStep(g, RECOMM, exposed) : 0;
    }

    /**
     * Stage {@code stage}'s exposed expert all-to-all seconds per step under Megatron-Core's
     * all-to-all overlap ({@code moe_a2a_overlap}, corrected model, schedules without DualPipe's
     * own overlap; {@link EpA2aOverlap}): of the stage's m v chunk forwards, the
     * {@link PipelineSchedule#a2aUnpairedForwards} warm-up ones and as many cool-down backwards run
     * alone and keep their share of {@code epExposedSeconds} (the step's forward and backward
     * all-to-all, all exposed); each of the others pairs with a backward, and each block of the
     * pair adds {@link BlockStats#a2aPairExtraSeconds}. The re-communication of a recomputed MoE
     * layer is not paired (it stays exposed, outside this).
     */
    double pairedA2aExposed(int stage, double epExposedSeconds) {
      long chunkForwards = (long) nm * chunksPerProc;
      long unpaired = Math.min(chunkForwards, schedule.a2aUnpairedForwards(stage));
      double pairedShare = (chunkForwards - unpaired) / (double) chunkForwards;
      return epExposedSeconds * (1 - pairedShare)
          + pairedShare * (double) blocksPerProc * nm * b.a2aPairExtraSeconds;
    }

    double totalWeightParams() {
      if (!exe.modelMoE()) {
        return b.weightParams * blocksPerProc * exe.tensorPar() * exe.pipelinePar();
      }
      double attn = b.dpWeightParams * blocksPerProc * exe.pipelinePar() * exe.tensorPar();
      double mlp = Math.floor(b.expertWeightParams * blocksPerProc * exe.pipelinePar() * exe.numExperts()
          * exe.expertSlice() / exe.expertsPerRank());
      return attn + mlp;
    }

    private void set(StatField f, double v) { stats.set(f, v); }

    /**
     * {@link #batch}'s working storage, one per thread, reused: a search evaluates millions of
     * executions ({@link Evaluator#sampleRate}), and its headline path allocates none of this.
     * Holds nothing between calls: {@link #batch} fills it before reading it.
     */
    private static final class BatchScratch {
      /** Each group's communication, by {@link CommGroup#ordinal()}. */
      final GroupSeconds[] comm = new GroupSeconds[GroupSeconds.GROUPS.length];
      final BlockTimes blocks = new BlockTimes();

      BatchScratch() {
        for (int i = 0; i < comm.length; i++) {
          comm[i] = new GroupSeconds();
        }
      }
    }

    private static final ThreadLocal<BatchScratch> SCRATCH = ThreadLocal.withInitial(BatchScratch::new);

    /** Fills {@code comm} with each group's communication per step (seconds), in {@link GroupSeconds#GROUPS} order. */
    void groupSeconds(GroupSeconds[] comm) {
      for (CommGroup g : GroupSeconds.GROUPS) {
        comm[g.ordinal()].set(passes(g, false), passes(g, true), recomm(g, false), recomm(g, true));
      }
    }

    /** The step's compute and overheads, in seconds per step, as the stats report them. */
    private record StepSeconds(double fw, double bw, double optim, double re, double fwOffload,
                               double bwOffload, double bubble, double ppLink, double ppExposed,
                               double total) {}

    /** The step as stage {@code stage} (0-based) with the current block {@link #b} sees it: times, then memory. */
    void batch(int stage) throws Infeasible {
      int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal(),
          op = Stage.OPTIM.ordinal();
      double mult = (double) blocksPerProc * nm;
      double fwTime = mult * b.time[fw];
      double reTime = mult * b.reTime;
      double agradTime = mult * b.time[ag];
      double wgradTime = mult * b.time[wg];
      double optimTime = blocksPerProc * b.time[op];
      int pp = exe.pipelinePar();

      // each group's communication per step; context parallelism's KV exchange is the corrected
      // model's only (zero otherwise)
      BatchScratch scratch = SCRATCH.get();
      GroupSeconds[] comm = scratch.comm;
      groupSeconds(comm);

      // pipeline point-to-point; Calculon-MoE pays the p2p latency even when PP = 1 (spec quirk 24)
      Network ppNet = hw.network(exe.pipelineParNet());
      boolean pipelined = pp > 1 || !corrected;
      double chunkFwPp = pipelined ? ppNet.time(Network.Op.P2P, b.fwPpSize, 2) : 0;
      double chunkBwPp = pipelined ? ppNet.time(Network.Op.P2P, b.bwPpSize, 2) : 0;
      int fwP2ps = pp > 1 ? chunksPerProc : 0;
      int bwP2ps = pp > 1 && training ? chunksPerProc : 0;
      double ppLink = (double) nm * fwP2ps * chunkFwPp + (double) nm * bwP2ps * chunkBwPp;

      // block times with exposed communication and offload overhead
      // Megatron-Core's overlap_p2p_comm (interleaved, corrected model): the transfers run beside
      // the compute (Interleaved.exposedP2pSeconds), so they are no time an offload can hide in
      boolean p2pOverlap = corrected && exe.overlapsPipelineTransfers();
      BlockTimes bt = scratch.blocks;
      bt.update(b, exe, hw, corrected, training, partial(stage), blocksPerProc, baseBlocks, edgeBlocks,
          chunkFwPp, chunkBwPp, p2pOverlap);

      // pipeline bubble, shortened by uneven block counts, lengthened by interleaving shortage
      double bubbleReduction = bt.bubbleReduction(bubbleReductionBlocks, baseBlocks);
      // what DualPipe overlaps: the chunk's expert all-to-all and pipeline transfers
      double chunkHideable = chunkFwPp + chunkBwPp + chunkExposed(CommGroup.EP, FWD)
          + chunkExposed(CommGroup.EP, BWD) + chunkExposed(CommGroup.EP, RECOMM);
      double bubble = schedule.bubbleSeconds(new PipelineSchedule.ChunkTimes(bt.chunkFw, bt.chunkBw,
          blocksPerChunk * b.time[wg], chunkHideable), bubbleReduction);

      // data-parallel gradient synchronisation: reduction, sharded-optimizer gather, ZeRO-3
      DataParallelSync sync = new DataParallelSync(exe, hw, corrected, schedule, b, blocksPerProc,
          blocksPerChunk, chunksPerProc, baseBlocks, edgeBlocks);
      DataParallelSync.Traffic dp = sync.step(bt.baseFw, bt.edgeFw, bt.baseBw, bt.edgeBw, bt.chunkBw,
          chunkFwPp, chunkBwPp);
      // PyTorch FSDP2's copies around its collectives, compute-stream kernels of the forward and
      // backward passes (fsdp_impl: pytorch; none otherwise)
      DataParallelSync.FsdpCopies fsdpCopies = sync.fsdpCopies();
      fwTime += fsdpCopies.forwardSeconds();

      StageMemory mem = memory(stage);
      mem.check(hw);

      // step time and efficiency
      double fwOffloadOverhead = perStep(bt.baseFwOvh, bt.edgeFwOvh);
      double bwOffloadOverhead = training ? perStep(bt.baseBwOvh, bt.edgeBwOvh) : 0;
      double bwTime = agradTime + wgradTime + fsdpCopies.backwardSeconds();
      double epExposedBefore = comm[CommGroup.EP.ordinal()].allExposed();
      double ppExposed = hideOverlapped(stage, comm, ppLink, fwTime + agradTime + wgradTime + reTime,
          bt, p2pOverlap);
      double recommExposed = GroupSeconds.recommExposedSum(comm);
      double total = fwTime;
      total += bwTime;
      total += optimTime;
      total += fwOffloadOverhead;
      total += bwOffloadOverhead;
      total += reTime;
      total += recommExposed;
      total += bubble;
      total = GroupSeconds.addExposed(total, comm);
      total += ppExposed;
      total += dp.exposedSeconds();
      if (headline) {
        headlineSampleRate = samplesPerSecond(exe, total);
        return;
      }
      writeStats(stage, new StepSeconds(fwTime, bwTime, optimTime, reTime, fwOffloadOverhead,
          bwOffloadOverhead, bubble, ppLink, ppExposed, total), comm, epExposedBefore, bt, dp, fsdpCopies, mem);
    }

    /**
     * What the step's compute hides of the expert all-to-all and the pipeline transfers: lowers
     * {@code comm}'s EP entry to the exposed seconds that stay, and returns the pipeline
     * point-to-point seconds that stay exposed (of {@code ppLink}, seconds per step).
     * {@code computeSeconds} is the step's forward, backward and recompute compute; {@code bt} the
     * stage's block times; {@code p2pOverlap} as for {@link BlockTimes}.
     * <ul>
     *   <li>DualPipe ({@link PipelineSchedule#overlapsForwardWithBackward}): one pass's all-to-all
     *       and pipeline transfers beside the other's compute ({@link CommOverlap#exposedFraction});
     *   <li>else Megatron-Core's paired all-to-all overlap ({@link EpA2aOverlap},
     *       {@link #pairedA2aExposed});
     *   <li>Megatron-Core's overlap_p2p_comm under interleaving: the steady state's transfers hide
     *       behind the other direction's chunk ({@link Interleaved#exposedP2pSeconds}).
     * </ul>
     */
    double hideOverlapped(int stage, GroupSeconds[] comm, double ppLink, double computeSeconds,
                          BlockTimes bt, boolean p2pOverlap) {
      int ep = CommGroup.EP.ordinal();
      GroupSeconds epComm = comm[ep];
      double epExposed = epComm.exposed, epRecommExposed = epComm.recommExposed;
      // the all-to-all (and under DualPipe the pipeline transfers) the step's compute hides
      double epBefore = epExposed + epRecommExposed, ppBefore = ppLink;
      double ppExposed = ppBefore;
      if (schedule.overlapsForwardWithBackward()) {
        double keep = CommOverlap.exposedFraction(epBefore + ppBefore, computeSeconds);
        epExposed *= keep;
        epRecommExposed *= keep;
        ppExposed = ppBefore * keep;
      } else if (EpA2aOverlap.pairs(exe, corrected)) {
        epExposed = pairedA2aExposed(stage, epExposed);
      }
      if (p2pOverlap && schedule instanceof Interleaved il) {
        // Megatron-Core's overlap_p2p_comm: the steady state's transfers hide behind the other
        // direction's chunk (Interleaved.exposedP2pSeconds); the chunk times carry the transfer
        // once, on their edge block
        ppExposed = il.exposedP2pSeconds(stage, bt.chunkFwPp, bt.chunkBwPp, bt.chunkFw - bt.chunkFwPp,
            bt.chunkBw - bt.chunkBwPp);
      }
      epComm.setExposed(epExposed, epRecommExposed);
      return ppExposed;
    }

    /**
     * Writes stage {@code stage}'s step into {@link #stats}: the block's stats, the step's times
     * ({@code t}), each group's communication ({@code comm}, after overlap; {@code epExposedBefore}
     * the expert group's exposed seconds, passes and re-communication, before it), the
     * data-parallel traffic, the offload bandwidth requirements, the memory and the efficiencies.
     */
    private void writeStats(int stage, StepSeconds t, GroupSeconds[] comm, double epExposedBefore,
                            BlockTimes bt, DataParallelSync.Traffic dp,
                            DataParallelSync.FsdpCopies fsdpCopies, StageMemory mem) {
      int op = Stage.OPTIM.ordinal();
      // Calculon-MoE counts the optimizer step once per microbatch (spec quirk 26); it runs once per step
      double usefulFlops = corrected ? b.usefulFlops - b.flops[op] + b.flops[op] / nm : b.usefulFlops;
      double perfect = blocksPerProc * (double) nm * usefulFlops / hw.matrix().peakFlopsPerSecond();
      double computeTime = t.fw() + t.bw() + t.optim();

      b.write(stats);
      StageMemory.PartialRecompute partial = partial(stage);
      if (partial != null && exe.layerOptions().recomputeMethod() == RecomputeMethod.UNIFORM) {
        // uniform groups of N > 1 blocks: the working space is the group's, not one block's
        // (PartialRecompute#groupWorkingBytes)
        set(StatField.BLOCK_ACT_WORKING_SPACE, partial.groupWorkingBytes());
      }
      set(StatField.BLOCK_DP_SIZE, dp.blockBytes());
      set(StatField.BLOCK_DP_EXP_SIZE, dp.blockExpertBytes());
      set(StatField.DP_BW_OVERLAP_REQ_CHUNK, dp.chunkBandwidthReq());
      set(StatField.DP_BW_OVERLAP_REQ_TAIL, dp.tailBandwidthReq());
      set(StatField.FW_TIME, t.fw());
      set(StatField.BW_TIME, t.bw());
      set(StatField.OPTIM_STEP_TIME, t.optim());
      set(StatField.RECOMPUTE_TIME, t.re());
      for (CommGroup g : GroupSeconds.GROUPS) {
        comm[g.ordinal()].write(stats, g);
      }
      set(StatField.RECOMM_LINK_TIME, GroupSeconds.recommLinkSum(comm));
      set(StatField.RECOMM_EXPOSED_TIME, GroupSeconds.recommExposedSum(comm));
      set(StatField.BUBBLE_TIME, t.bubble());
      set(StatField.PP_COMM_LINK_TIME, t.ppLink());
      set(StatField.DP_COMM_LINK_TIME, dp.linkSeconds());
      set(StatField.DP_EXP_COMM_LINK_TIME, dp.expertLinkSeconds());
      set(StatField.PP_COMM_EXPOSED_TIME, t.ppExposed());
      set(StatField.DP_COMM_EXPOSED_TIME, dp.exposedSeconds());
      set(StatField.DP_EXP_COMM_EXPOSED_TIME, 0);
      set(StatField.FW_OFFLOAD_EXPOSED_TIME, t.fwOffload());
      set(StatField.BW_OFFLOAD_EXPOSED_TIME, t.bwOffload());
      set(StatField.TOTAL_TIME, t.total());
      if (corrected) {
        // the expert all-to-all by tier, and what overlap hid (written when not zero)
        set(StatField.EP_A2A_TIER0_LINK_TIME, perStep(b.epTierTime[FWD][0], b.epTierTime[FWD][0])
            + perStep(b.epTierTime[BWD][0], b.epTierTime[BWD][0]));
        set(StatField.EP_A2A_UPPER_TIER_LINK_TIME, perStep(b.epTierTime[FWD][1], b.epTierTime[FWD][1])
            + perStep(b.epTierTime[BWD][1], b.epTierTime[BWD][1]));
        set(StatField.EP_COMM_OVERLAPPED_TIME, epExposedBefore - comm[CommGroup.EP.ordinal()].allExposed());
        set(StatField.PP_COMM_OVERLAPPED_TIME, t.ppLink() - t.ppExposed());
        set(StatField.FSDP_COPY_TIME, fsdpCopies.seconds());
      }
      Offload.writeBandwidthReqs(stats, corrected, exe, b, bt.actOffloadBytes, bt.fwOffloadBytes,
          bt.bwOffloadBytes, bt.fwWindow(), bt.bwWindow());
      mem.write(stats, exe.tensorPar());
      set(StatField.USEFUL_FLOPS, usefulFlops);
      set(StatField.COMPUTE_EFFICIENCY, perfect / computeTime);
      set(StatField.SYSTEM_EFFICIENCY, computeTime / t.total());
      set(StatField.TOTAL_EFFICIENCY, perfect / t.total());
      set(StatField.SAMPLE_RATE, samplesPerSecond(exe, t.total()));
    }

    /**
     * Memory of pipeline stage {@code stage} with the current (average) block: the in-flight
     * microbatches come from the schedule.
     */
    StageMemory memory(int stage) {
      if (corrected && schedule instanceof DualPipe dualPipe) {
        // rank `stage` also runs the mirror stage p - 1 - stage for the other direction: its
        // blocks (the embedding's, the logits') and its own share of the microbatches in flight
        int mirrorStage = exe.pipelinePar() - 1 - stage;
        BlockStats mirror = stageAverages == null ? b : stageAverages[mirrorStage];
        double own = dualPipe.heldMicrobatches(stage, stage);
        double other = dualPipe.heldMicrobatches(stage, mirrorStage);
        // the overlapped pair's extra forward (DualPipe's p + 1) on the stage that stores more
        if (perMicrobatchBytes(b) >= perMicrobatchBytes(mirror)) {
          own += 1;
        } else {
          other += 1;
        }
        return new StageMemory(b, own, mirror, other, blocksPerProc, 1, exe, true, partial(stage),
            partial(mirrorStage));
      }
      // Calculon-MoE charges every stage the first stage's in-flight count (Korthikanti's
      // approximation); the corrected model counts the stage's chunks as its schedule runs them
      double inFlight = corrected
          ? schedule.inFlightMicrobatches(stage, chunkShares(stage), wPendingShare())
          : schedule.referenceInFlightMicrobatches();
      return new StageMemory(b, blocksPerProc, inFlight, schedule.parameterCopies(), exe, corrected, partial(stage));
    }

    /** Stage {@code stage}'s partial recompute, or null without one. */
    private StageMemory.PartialRecompute partial(int stage) {
      return stagePartials == null ? null : stagePartials[stage];
    }

    /** Stage {@code stage}'s chunks' shares of its stored activations for one microbatch; null when its chunks store alike. */
    private double[] chunkShares(int stage) {
      return stageChunkShares != null ? stageChunkShares[stage] : null;
    }

    /**
     * The share of a chunk's stored activations a microbatch keeps while its weight-gradient
     * pass W is deferred (split-backward schedules): what W reads ({@link BlockStats#weightGradInputsSpace})
     * over the stored activations, of the stage's average block; 1 under full recompute (the
     * checkpoint stays until the microbatch's backward is done).
     */
    private double wPendingShare() {
      double stored = b.actStorageSpace;
      return exe.activationRecompute() == Recompute.FULL || stored <= 0 ? 1
          : Math.min(1, b.weightGradInputsSpace / stored);
    }

    /** Scales {@code shares} to sum to 1; equal shares when they sum to nothing. */
    private static void normalise(double[] shares) {
      double sum = 0;
      for (double x : shares) {
        sum += x;
      }
      for (int i = 0; i < shares.length; i++) {
        shares[i] = sum > 0 ? shares[i] / sum : 1.0 / shares.length;
      }
    }

    /**
     * What one microbatch in flight keeps of a block: its full-recompute checkpoint, else its stored
     * activations (a block keeps one of the two, the other is 0; under a partial recompute each
     * block as it runs, the checkpoint of a uniform group counted on each of its blocks); of a
     * stage's average block, the stage's per slot ({@link BlockStats#actCheckpointPerSlot}).
     */
    private double perMicrobatchBytes(BlockStats block) {
      return block.actStorageSpace + block.actCheckpointPerSlot;
    }
  }
}
