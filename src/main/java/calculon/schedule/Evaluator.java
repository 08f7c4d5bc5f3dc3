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
import calculon.config.TpOverlap;
import calculon.hardware.Hardware;
import calculon.hardware.Network;
import calculon.model.BlockBuilder;
import calculon.model.CommGroup;
import calculon.model.Infeasible;
import calculon.model.Layer;
import calculon.model.ModelVersion;
import calculon.model.ParameterCount;
import calculon.model.Stage;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One training (or inference) step of a model under one execution on one system, as
 * Calculon-MoE computes it: network-tier checks, block construction, per-block totals, then the
 * batch: pipeline chunks and bubble, offload overheads, data-parallel communication and its
 * overlap, memory per tier, and the step's time, efficiency and sample rate.
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
    if (!arch.uniformBlocks() || arch.modelsVocabulary()) {
      return evaluate(app, exe, hw, version, false, blocks, tiersChecked).get(StatField.SAMPLE_RATE);
    }
    Step step = new Step(app, exe, hw, version, blocks, true);
    step.run(false, !tiersChecked);
    return step.headlineSampleRate;
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
            throw new Infeasible(Infeasible.Rule.NETWORK_TIER_SIZE, "Network tier" + t + " isn't big enough");
          }
          if (net.mustBeFilled() && net.size() % size[t] != 0) {
            throw new Infeasible(Infeasible.Rule.NETWORK_TIER_FILL, "Network tier" + t + " isn't fully used");
          }
        }
      }
      return;
    }
    checkGroup(hw, tierSizes(exe, n, false), "MoE");
    checkGroup(hw, tierSizes(exe, n, true), "non-MoE");
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

  private static void checkGroup(Hardware hw, long[] size, String group) throws Infeasible {
    for (int t = 0; t < size.length; t++) {
      if (size[t] > 0) {
        Network net = hw.network(t);
        if (size[t] > net.size()) {
          throw new Infeasible(Infeasible.Rule.NETWORK_TIER_SIZE, "Network tier" + t + ": " + size[t] + " isn't big enough, "
              + net.size() + " -- " + group);
        }
        if (net.mustBeFilled() && net.size() % size[t] != 0) {
          // the reference says "MoE" for both groups here (spec quirk 39)
          throw new Infeasible(Infeasible.Rule.NETWORK_TIER_FILL, "Network tier" + t + " isn't fully used MoE");
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
    final boolean full;
    final int nm;
    final PipelineSchedule schedule;
    int blocksPerProc, bubbleReductionBlocks, blocksPerChunk, chunksPerProc, baseBlocks, edgeBlocks;
    /** Blocks of each stage when the execution sets the first/last stage's; null when even. */
    int[] stageBlocks;
    long[][] chunkStarts;
    List<Layer> layers;
    BlockStats b;
    /** Where blocks come from; null: built here. */
    final BlockCache.Scope blocks;

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
      this.exe = exe;
      this.hw = hw;
      this.stats = headline ? null : new Stats(app, exe, hw.spec());
      this.training = exe.training();
      this.full = exe.activationRecompute() == Recompute.FULL;
      this.nm = exe.numMicrobatches();
      this.schedule = PipelineSchedule.of(exe);
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
        throw new Infeasible(Infeasible.Rule.INTERLEAVING, "Pipeline interleaving must be less than or equal to the number of blocks per processor");
      }
      if (blocksPerProc % interleave != 0 && stageBlocks == null) {
        int perProc = blocksPerProc;
        // formatted only when read: searches meet this rejection millions of times
        throw new Infeasible(Infeasible.Rule.INTERLEAVING, () -> "Pipeline interleaving must be a factor value of the number of blocks per processor, the blocks per proc: " + perProc);
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
        throw new Infeasible(Infeasible.Rule.OFFLOAD_BLOCKS, "Offloading requires each processor to handle at least 3 blocks");
      }
      blocksPerChunk = blocksPerProc / interleave;
      chunksPerProc = blocksPerProc / blocksPerChunk;
      baseBlocks = blocksPerChunk - 1;
      edgeBlocks = 1;
      Architecture arch = app.architecture();
      if (arch.uniformBlocks() && !arch.modelsVocabulary() && stageBlocks == null) {
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
        stats.setTotalWeightParams(ParameterCount.of(app).total());
      }
      stats.setBlocksPerProc(blocksPerProc);
      if (withLayers) {
        stats.setLayers(layerStats());
      }
      return stats;
    }

    /**
     * A model whose pipeline stages differ (dense blocks among MoE ones, embedding on the first
     * stage, logits on the last): each distinct stage is evaluated with its average block, and the
     * step is the slowest stage's (the critical path of the pipeline); every stage must fit in
     * memory, and the reported requirements are the largest stage's.
     */
    void stagesDiffer() throws Infeasible {
      int pp = exe.pipelinePar();
      Map<String, BlockStats> variants = new HashMap<>();
      Map<String, List<Layer>> variantLayers = new HashMap<>();
      Map<String, Stats> stages = new LinkedHashMap<>();
      Map<String, BlockStats> averages = new HashMap<>();
      Stats slowest = null;
      List<Layer> slowestLayers = null;
      double tier1 = 0, tier2 = 0;
      for (int stage = 0; stage < pp; stage++) {
        StringBuilder key = new StringBuilder();
        List<BlockStats> members = stageMembers(stage, variants, variantLayers, key);
        String k = key.toString();
        List<Layer> firstLayers = k.isEmpty() ? null : variantLayers.get(k.substring(0, k.indexOf(',')));
        Stats done = stages.get(k);
        if (done == null) {
          stats = new Stats(app, exe, hw.spec());
          b = BlockStats.stageAverage(members, blocksPerProc);
          batch(stage);
          done = stats;
          stages.put(k, done);
          averages.put(k, b);
        }
        // every stage's memory is checked: the same blocks hold different in-flight microbatches
        b = averages.get(k);
        StageMemory mem = memory(stage);
        mem.check(hw);
        tier1 = Math.max(tier1, mem.tier1);
        tier2 = Math.max(tier2, mem.tier2);
        if (slowest == null || done.get(StatField.TOTAL_TIME) > slowest.get(StatField.TOTAL_TIME)) {
          slowest = done;
          slowestLayers = firstLayers;
        }
      }
      stats = slowest;
      stats.set(StatField.PROC_MEM_TIER1_CAP_REQ, tier1);
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
      long blocks = app.numBlocks();
      Architecture.Moe moe = app.architecture().moe();
      boolean vocab = app.architecture().modelsVocabulary();
      List<BlockStats> members = new ArrayList<>(blocksPerProc);
      for (int chunk = 0; chunk < exe.pipelineInterleaving(); chunk++) {
        long first = chunkStart(stage, chunk);
        long end = Math.min(first + chunkBlocks(stage, chunk), blocks);
        for (long index = first; index < end; index++) {
          boolean expert = moe != null ? moe.isMoeBlock(index) : exe.modelMoE();
          boolean embedding = vocab && index == 0;
          boolean logits = vocab && index == blocks - 1;
          String variant = (expert ? "M" : "D") + (embedding ? "e" : "") + (logits ? "l" : "");
          key.append(variant).append(',');
          BlockStats bs = variants.get(variant);
          if (bs == null) {
            bs = block(expert ? BlockBuilder.Kind.MOE : BlockBuilder.Kind.DENSE, embedding, logits);
            variants.put(variant, bs);
            variantLayers.put(variant, layers);
          }
          members.add(bs);
        }
      }
      return members;
    }

    /**
     * A memory rejection of the corrected model told by the pipeline stage that needs the most of
     * the tier that did not fit, with its bytes against the capacity
     * ({@link StageMemory#largestStageMessage}): the stages are checked in order and the first
     * that does not fit throws, which need not be the one that needs the most (with few
     * microbatches in flight the last stage's logits can outweigh the first stage's
     * activations). The message is formatted only when read (the command line); searches count
     * the rule only, which stays the first failure's. Other rejections, single-stage runs and
     * calculon-moe (the reference's message): {@code e} itself. No number of the model changes.
     */
    private Infeasible largestStage(Infeasible e) {
      boolean tier1 = e.rule() == Infeasible.Rule.MEMORY_TIER1;
      if (!corrected || exe.pipelinePar() == 1 || headline || !(tier1 || e.rule() == Infeasible.Rule.MEMORY_TIER2)) {
        return e;
      }
      return new Infeasible(e.rule(), () -> {
        try {
          return StageMemory.largestStageMessage(tier1 ? 1 : 2, stageNeeds(tier1),
              (tier1 ? hw.mem1() : hw.mem2()).capacityBytes());
        } catch (RuntimeException notExpected) {
          return e.getMessage();
        }
      });
    }

    /** Bytes each pipeline stage needs in memory tier 1 (or tier 2), as {@link #memory} counts them. */
    private double[] stageNeeds(boolean tier1) {
      int pp = exe.pipelinePar();
      boolean sameBlocks = app.architecture().uniformBlocks() && !app.architecture().modelsVocabulary()
          && stageBlocks == null;
      Map<String, BlockStats> variants = new HashMap<>();
      Map<String, List<Layer>> variantLayers = new HashMap<>();
      double[] need = new double[pp];
      for (int stage = 0; stage < pp; stage++) {
        if (!sameBlocks) {
          b = BlockStats.stageAverage(stageMembers(stage, variants, variantLayers, new StringBuilder()), blocksPerProc);
        }
        StageMemory m = memory(stage);
        need[stage] = tier1 ? m.tier1 : m.tier2;
      }
      return need;
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
      int first = exe.parallel().blocksInFirstStage(), last = exe.parallel().blocksInLastStage();
      long blocks = app.numBlocks();
      int others = pp - (first > 0 ? 1 : 0) - (last > 0 ? 1 : 0);
      long rest = blocks - first - last;
      stageBlocks = new int[pp];
      int most = 0;
      for (int k = 0; k < pp; k++) {
        stageBlocks[k] = k == 0 && first > 0 ? first : k == pp - 1 && last > 0 ? last : (int) (rest / others);
        most = Math.max(most, stageBlocks[k]);
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
      if (blocks != null) {
        layers = null;
        return blocks.block(app, exe, hw, version, kind, embedding, logits);
      }
      layers = BlockBuilder.buildWithVocabulary(app, exe, hw, version, kind, embedding, logits);
      return BlockStats.of(layers, app, exe, version);
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

    /**
     * The offload overhead of a block (reference llm.py): the seconds its offload stream and its
     * own HBM traffic ({@code hbmSeconds}) need beyond its time. Without offload ({@code
     * offloadBytes} 0) the corrected model charges none: a fused kernel priced at its measured rate
     * ({@code attention_kernels}) or a collective's buffer traffic may exceed the block's time, which
     * is no overhead of an offload that does not run; Calculon-MoE charges any positive excess.
     */
    double offloadOverhead(double offloadBytes, double hbmSeconds, double blockSeconds) {
      return offloadBytes > 0 || !corrected ? Math.max(0, hbmSeconds - blockSeconds) : 0;
    }

    double fwOffloadSize() {
      double weight = exe.weightOffload() ? b.weightSpace : 0;
      double act = 0;
      if (exe.activationsOffload()) {
        act = full ? b.actCheckpointSize : b.actStorageSpace;
      }
      return Math.max(weight, act);
    }

    double bwOffloadSize() {
      double size = 0;
      if (training) {
        if (exe.weightOffload()) {
          size += b.weightSpace;
        }
        if (exe.activationsOffload()) {
          size += full ? b.actCheckpointSize : b.actStorageSpace;
        }
        if (exe.optimizerOffload()) {
          size += b.optimizerSpace;
        }
      }
      return size;
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

    /** Five consecutive fields: flops, flops time, bytes, bytes time, processing time. */
    private void setPass(StatField first, double flops, double flopsTime, double mem, double memTime, double time) {
      StatField[] all = StatField.all();
      int i = first.ordinal();
      set(all[i], flops);
      set(all[i + 1], flopsTime);
      set(all[i + 2], mem);
      set(all[i + 3], memTime);
      set(all[i + 4], time);
    }

    /** Four consecutive fields: TP link time of base and edge blocks, then their exposed times. */
    private void setTpComm(StatField first, int pass) {
      StatField[] all = StatField.all();
      int i = first.ordinal();
      set(all[i], b.linkTime(CommGroup.TP, pass, BASE));
      set(all[i + 1], b.linkTime(CommGroup.TP, pass, EDGE));
      set(all[i + 2], b.exposed(CommGroup.TP, pass, BASE));
      set(all[i + 3], b.exposed(CommGroup.TP, pass, EDGE));
    }

    /** Two consecutive fields: the comm bytes of base and edge blocks. */
    private void setSizes(StatField first, CommGroup g, int pass) {
      StatField[] all = StatField.all();
      set(all[first.ordinal()], b.size(g, pass, BASE));
      set(all[first.ordinal() + 1], b.size(g, pass, EDGE));
    }

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
      int interleave = exe.pipelineInterleaving();

      double tpLink = commStep(CommGroup.TP, FWD, false) + commStep(CommGroup.TP, BWD, false);
      double tpExposed = commStep(CommGroup.TP, FWD, true) + commStep(CommGroup.TP, BWD, true);
      double epLink = commStep(CommGroup.EP, FWD, false) + commStep(CommGroup.EP, BWD, false);
      double epExposed = commStep(CommGroup.EP, FWD, true) + commStep(CommGroup.EP, BWD, true);
      double esLink = commStep(CommGroup.ES, FWD, false) + commStep(CommGroup.ES, BWD, false);
      double esExposed = commStep(CommGroup.ES, FWD, true) + commStep(CommGroup.ES, BWD, true);
      double tpRecommLink = commStep(CommGroup.TP, RECOMM, false);
      double tpRecommExposed = commStep(CommGroup.TP, RECOMM, true);
      double epRecommLink = commStep(CommGroup.EP, RECOMM, false);
      double epRecommExposed = commStep(CommGroup.EP, RECOMM, true);
      double esRecommLink = commStep(CommGroup.ES, RECOMM, false);
      double esRecommExposed = commStep(CommGroup.ES, RECOMM, true);
      if (!training) {
        tpRecommLink = tpRecommExposed = epRecommLink = epRecommExposed = esRecommLink = esRecommExposed = 0;
      }
      // context parallelism's KV exchange (corrected model only; zero otherwise)
      double cpLink = commStep(CommGroup.CP, FWD, false) + commStep(CommGroup.CP, BWD, false);
      double cpExposed = commStep(CommGroup.CP, FWD, true) + commStep(CommGroup.CP, BWD, true);
      double cpRecommLink = training ? commStep(CommGroup.CP, RECOMM, false) : 0;
      double cpRecommExposed = training ? commStep(CommGroup.CP, RECOMM, true) : 0;
      double recommLink = tpRecommLink + epRecommLink + esRecommLink + cpRecommLink;
      double recommExposed = tpRecommExposed + epRecommExposed + esRecommExposed + cpRecommExposed;

      // pipeline point-to-point; Calculon-MoE pays the p2p latency even when PP = 1 (spec quirk 24)
      Network ppNet = hw.network(exe.pipelineParNet());
      boolean pipelined = pp > 1 || !corrected;
      double chunkFwPp = pipelined ? ppNet.time(Network.Op.P2P, b.fwPpSize, 2) : 0;
      double chunkBwPp = pipelined ? ppNet.time(Network.Op.P2P, b.bwPpSize, 2) : 0;
      int fwP2ps = pp > 1 ? chunksPerProc : 0;
      int bwP2ps = pp > 1 && training ? chunksPerProc : 0;
      double ppLink = (double) nm * fwP2ps * chunkFwPp + (double) nm * bwP2ps * chunkBwPp;

      // block times with exposed communication and offload overhead
      double baseFw0 = b.addExposed(b.time[fw], FWD, BASE);
      double edgeFw0 = b.addExposed(b.time[fw], FWD, EDGE) + chunkFwPp;
      double fwOffloadBytes = fwOffloadSize();
      double fwOffloadTime = hw.offloadTime(fwOffloadBytes);
      double baseFwOvh = offloadOverhead(fwOffloadBytes, fwOffloadTime + b.memTime[fw], baseFw0);
      double edgeFwOvh = offloadOverhead(fwOffloadBytes, fwOffloadTime + b.memTime[fw], edgeFw0);
      double baseFw = baseFw0 + baseFwOvh;
      double edgeFw = edgeFw0 + edgeFwOvh;
      double baseBw0 = b.addExposed(b.addExposed(b.reTime, RECOMM, BASE) + b.time[ag] + b.time[wg], BWD, BASE);
      double edgeBw0 = b.addExposed(b.addExposed(b.reTime, RECOMM, EDGE) + b.time[ag] + b.time[wg], BWD, EDGE)
          + chunkBwPp;
      double bwOffloadBytes = bwOffloadSize();
      double bwOffloadTime = training ? hw.offloadTime(bwOffloadBytes) : 0;
      double gradMemTime = b.memTime[ag] + b.memTime[wg];
      double baseBwOvh = offloadOverhead(bwOffloadBytes, bwOffloadTime + gradMemTime, baseBw0);
      double edgeBwOvh = offloadOverhead(bwOffloadBytes, bwOffloadTime + gradMemTime, edgeBw0);
      double baseBw = baseBw0 + baseBwOvh;
      double edgeBw = edgeBw0 + edgeBwOvh;
      double chunkFw = baseBlocks * baseFw + edgeBlocks * edgeFw;
      double chunkBw = baseBlocks * baseBw + edgeBlocks * edgeBw;

      // data-parallel overlap windows: backward compute of a block hides its gradient traffic
      double baseDpWindow = baseBw - (gradMemTime + b.reMemTime);
      double edgeDpWindow = edgeBw - (gradMemTime + b.reMemTime);
      double blockDpCompute = b.flopsTime[ag] + b.flopsTime[wg] + b.reFlopsTime;
      if (!exe.optimizerSharding()) {
        baseDpWindow += b.time[op] - b.memTime[op];
        edgeDpWindow += b.time[op] - b.memTime[op];
        blockDpCompute += b.flopsTime[op];
      }
      boolean dpOnTpNet = exe.dataParNet() == exe.tensorParNet();
      boolean dpOnPpNet = exe.dataParNet() == exe.pipelineParNet();
      if (dpOnTpNet) {
        baseDpWindow -= b.linkTime(CommGroup.TP, RECOMM, BASE) + b.linkTime(CommGroup.TP, BWD, BASE);
        edgeDpWindow -= b.linkTime(CommGroup.TP, RECOMM, EDGE) + b.linkTime(CommGroup.TP, BWD, EDGE);
      }
      double chunkDpWindow = baseBlocks * baseDpWindow + edgeBlocks * edgeDpWindow;
      double chunkDpCompute = blocksPerChunk * blockDpCompute;
      double chunkTime = chunkFw + chunkBw;

      // pipeline bubble, shortened by uneven block counts, lengthened by interleaving shortage
      double bubbleReduction = baseBlocks > 0
          ? bubbleReductionBlocks * (baseFw + edgeFw + baseBw + edgeBw) / 2
          : bubbleReductionBlocks * (edgeFw + edgeBw);
      int overlappableChunks = schedule.chunksOverlappingGradientSync();
      // what DualPipe overlaps: the chunk's expert all-to-all and pipeline transfers
      double chunkHideable = chunkFwPp + chunkBwPp + chunkExposed(CommGroup.EP, FWD)
          + chunkExposed(CommGroup.EP, BWD) + chunkExposed(CommGroup.EP, RECOMM);
      double bubble = schedule.bubbleSeconds(new PipelineSchedule.ChunkTimes(chunkFw, chunkBw,
          blocksPerChunk * b.time[wg], chunkHideable), bubbleReduction);

      // data-parallel gradient communication, per block (MoE: attention over DP, experts over DP_exp)
      // gradients are reduced over every rank holding the same weights: DP x CP (CP ranks hold
      // the same weights and see different tokens; Megatron-Core's dp_cp group), on DP's tier
      // unless DP is 1
      int dpPeers = exe.dataPar() * exe.contextPar();
      Network dpNet = hw.network(exe.dataPar() > 1 || exe.contextPar() == 1 ? exe.dataParNet() : exe.contextParNet());
      boolean zero3 = corrected && exe.zeroStage() >= 3;
      double blockDpSize = 0, blockDpTime = 0, blockDpExpSize = 0, blockDpExpTime = 0;
      // the weights' all-gather of a sharded optimizer, counted in blockDpTime too
      double blockParamGather = 0;
      if (dpPeers > 1 && training && !zero3) {
        blockDpSize = exe.modelMoE() ? b.dpWeightSpace : b.weightSpace;
        int rails = ringRails(dpNet.index(), dpPeers, denseInnerDegree(dpNet.index()));
        double gather = paramGather(dpNet, blockDpSize, dpPeers, rails);
        blockDpTime = gradientReduction(dpNet, blockDpSize, b.dpGradBuffer, dpPeers, rails) + gather;
        blockParamGather += gather;
      }
      if (exe.modelMoE() && exe.dataParExp() > 1 && training && !zero3) {
        blockDpExpSize = b.expertWeightSpace;
        Network expNet = hw.network(exe.dataParExpNet());
        int rails = ringRails(expNet.index(), exe.dataParExp(), expertInnerDegree(expNet.index()));
        double gather = paramGather(expNet, blockDpExpSize, exe.dataParExp(), rails);
        blockDpExpTime = gradientReduction(expNet, blockDpExpSize, b.expertGradBuffer, exe.dataParExp(), rails) + gather;
        blockParamGather += gather;
      }
      blockDpSize += blockDpExpSize;
      blockDpTime += blockDpExpTime;
      // Corrected: the all-gather runs beside the next step's first forward pass (Megatron-Core's
      // overlap_param_gather), not in the backward window; the reduction alone goes there.
      boolean gatherInForward = corrected && exe.dataParOverlap() && blockParamGather > 0;
      double blockDpLinkTime = blockDpTime;
      if (gatherInForward) {
        blockDpTime -= blockParamGather;  // what stays in the backward window: the reduction
      }

      double dpExposed = 0, dpLink = 0, dpReqChunk = 0, dpReqTail = 0;
      // Calculon-MoE drops all gradient traffic when DP = 1, even with DP_exp > 1 (spec quirk 16)
      boolean dpTraffic = dpPeers > 1 || (corrected && blockDpExpTime > 0);
      if (zero3 && training) {
        Zero3 z = zero3(dpNet, dpPeers);
        blockDpSize = z.bytesPerBlock;
        dpLink = z.linkSeconds;
        dpExposed = z.exposedSeconds;
      } else if (dpTraffic && training) {
        if (exe.dataParOverlap()) {
          double pu = dpNet.processorUsage();
          int lastChunkOverlapSize = blocksPerChunk - 1;
          double window = pp * chunkDpWindow;
          double compute = pp * chunkDpCompute;
          if (corrected && !exe.optimizerSharding()) {
            // the window spans pp microbatches' backward passes but only one optimizer step:
            // Calculon-MoE counts the step once per microbatch
            window -= (pp - 1) * blocksPerChunk * (b.time[op] - b.memTime[op]);
            compute -= (pp - 1) * blocksPerChunk * b.flopsTime[op];
          }
          double chunkDpTime = blocksPerChunk * blockDpTime;
          double overlappedPp = 0;
          if (dpOnPpNet) {
            int bound = nm % pp != 0 ? nm % pp : pp;
            overlappedPp = Math.min(Math.floor(chunkDpTime / chunkBw), bound);
          }
          double inflection = chunkDpTime - (window - overlappedPp * chunkBwPp) + compute * pu;
          // Calculon-MoE exposes the overflow past the window, or, when it fits, the compute the
          // traffic steals (processor usage); so a slightly faster network that makes it fit
          // exposes more. Corrected: the larger of the two, continuous in every input.
          double chunksExposed = corrected ? overlappableChunks * Math.max(inflection, chunkDpTime * pu)
              : inflection > 0 ? overlappableChunks * inflection
              : overlappableChunks * chunkDpTime * pu;
          double chunkOverlapTime = window + compute * pu;
          if (dpOnPpNet) {
            chunkOverlapTime -= chunkBwPp;
          }
          chunkOverlapTime *= overlappableChunks;
          double scalar = exe.optimizerSharding()
              ? dpNet.scalar(Network.Op.REDUCE_SCATTER) + dpNet.scalar(Network.Op.ALL_GATHER)
              : dpNet.scalar(Network.Op.ALL_REDUCE);
          if (chunkOverlapTime > 0) {
            dpReqChunk = blocksPerChunk * blockDpSize / chunkOverlapTime * scalar;
          }
          double lastWindow = 0;
          if (baseBlocks > 0) {
            lastWindow = chunkDpWindow - chunkBwPp - (baseBw + edgeBw) / 2;
            // the chunk's window already holds each block's optimizer step: Calculon-MoE adds one more
            if (!exe.optimizerSharding() && !corrected) {
              lastWindow += b.time[op] - b.memTime[op];
            }
          }
          double lastInflection = lastChunkOverlapSize * blockDpTime + (blockDpCompute * pu - lastWindow);
          double lastExposed = corrected ? Math.max(lastInflection, lastChunkOverlapSize * blockDpTime * pu)
              : lastInflection > 0 ? lastInflection
              : lastChunkOverlapSize * blockDpTime * pu;
          double tailOverlap = lastWindow + lastChunkOverlapSize * blockDpTime * pu;
          if (tailOverlap > 0) {
            dpReqTail = blocksPerChunk * blockDpSize / tailOverlap * scalar;
          }
          dpExposed = blockDpTime + (chunksExposed + lastExposed);
          dpLink = blocksPerProc * blockDpLinkTime;
          if (gatherInForward) {
            dpExposed += paramGatherExposed(blockParamGather, baseFw, edgeFw, dpOnTpNet, pu);
          }
        } else {
          dpExposed = blocksPerProc * blockDpTime;
          dpLink = dpExposed;
        }
      }
      double dpExpLink = training ? blocksPerProc * blockDpExpTime : 0;

      StageMemory mem = memory(stage);
      mem.check(hw);

      // step time and efficiency
      double fwOffloadOverhead = perStep(baseFwOvh, edgeFwOvh);
      double bwOffloadOverhead = training ? perStep(baseBwOvh, edgeBwOvh) : 0;
      double bwTime = agradTime + wgradTime;
      double ppExposed = ppLink;
      // DualPipe runs each microbatch's all-to-all and pipeline transfers beside the other
      // direction's compute; Megatron-Core's EP all-to-all overlap (moe_a2a_overlap) hides one
      // microbatch's dispatch and combine behind another's compute. Only what the step's compute
      // cannot cover stays exposed.
      boolean hidePp = schedule.overlapsForwardWithBackward();
      boolean hideEp = hidePp || (corrected && exe.scheduleOptions().a2aOverlap());
      double epOverlapped = 0, ppOverlapped = 0;
      if (hideEp) {
        double epBefore = epExposed + epRecommExposed, ppBefore = ppExposed;
        double keep = CommOverlap.exposedFraction(epBefore + (hidePp ? ppBefore : 0),
            fwTime + agradTime + wgradTime + reTime);
        epExposed *= keep;
        epRecommExposed *= keep;
        recommExposed = tpRecommExposed + epRecommExposed + esRecommExposed + cpRecommExposed;
        if (hidePp) {
          ppExposed *= keep;
        }
        epOverlapped = epBefore - (epExposed + epRecommExposed);
        ppOverlapped = ppBefore - ppExposed;
      }
      double total = fwTime;
      total += bwTime;
      total += optimTime;
      total += fwOffloadOverhead;
      total += bwOffloadOverhead;
      total += reTime;
      total += recommExposed;
      total += bubble;
      total += tpExposed;
      total += epExposed;
      total += esExposed;
      total += cpExposed;
      total += ppExposed;
      total += dpExposed;
      if (headline) {
        headlineSampleRate = samplesPerSecond(exe, total);
        return;
      }
      // Calculon-MoE counts the optimizer step once per microbatch (spec quirk 26); it runs once per step
      double usefulFlops = corrected ? b.usefulFlops - b.flops[op] + b.flops[op] / nm : b.usefulFlops;
      double perfect = blocksPerProc * (double) nm * usefulFlops / hw.matrix().peakFlopsPerSecond();
      double computeTime = fwTime + bwTime + optimTime;

      double fwWindow = Math.min(baseFw0 - b.memTime[fw], edgeFw0 - b.memTime[fw]);
      double bwWindow = Math.min(baseBw0 - gradMemTime, edgeBw0 - gradMemTime);
      double actOffloadSize = full ? b.actCheckpointSize : b.actStorageSpace;
      double offloadBwReq = training
          ? Math.max(perWindow(fwOffloadBytes, fwWindow), perWindow(bwOffloadBytes, bwWindow))
          : perWindow(fwOffloadBytes, fwWindow);

      // the reference's key order groups each pass's five compute figures, then its four TP comm
      // times (base/edge, link/exposed), and the comm sizes as base/edge pairs
      setPass(StatField.BLOCK_FW_FLOPS, b.flops[fw], b.flopsTime[fw], b.memAccessed[fw], b.memTime[fw], b.time[fw]);
      setTpComm(StatField.BASEBLOCK_FW_TP_TIME, FWD);
      setPass(StatField.BLOCK_RE_FLOPS, b.reFlops, b.reFlopsTime, b.reMemAccessed, b.reMemTime, b.reTime);
      setTpComm(StatField.BASEBLOCK_TP_RECOMM_TIME, RECOMM);
      setPass(StatField.BLOCK_AGRAD_FLOPS, b.flops[ag], b.flopsTime[ag], b.memAccessed[ag], b.memTime[ag], b.time[ag]);
      setTpComm(StatField.BASEBLOCK_AGRAD_TP_TIME, BWD);
      setPass(StatField.BLOCK_WGRAD_FLOPS, b.flops[wg], b.flopsTime[wg], b.memAccessed[wg], b.memTime[wg], b.time[wg]);
      setPass(StatField.BLOCK_OPTIM_FLOPS, b.flops[op], b.flopsTime[op], b.memAccessed[op], b.memTime[op], b.time[op]);
      setSizes(StatField.BASEBLOCK_FW_TP_SIZE, CommGroup.TP, FWD);
      setSizes(StatField.BASEBLOCK_FW_EP_SIZE, CommGroup.EP, FWD);
      setSizes(StatField.BASEBLOCK_FW_ES_SIZE, CommGroup.ES, FWD);
      setSizes(StatField.BASEBLOCK_BW_TP_SIZE, CommGroup.TP, BWD);
      setSizes(StatField.BASEBLOCK_BW_EP_SIZE, CommGroup.EP, BWD);
      setSizes(StatField.BASEBLOCK_BW_ES_SIZE, CommGroup.ES, BWD);
      setSizes(StatField.BASEBLOCK_TP_RECOMM_SIZE, CommGroup.TP, RECOMM);
      setSizes(StatField.BASEBLOCK_ES_RECOMM_SIZE, CommGroup.ES, RECOMM);
      setSizes(StatField.BASEBLOCK_EP_RECOMM_SIZE, CommGroup.EP, RECOMM);
      set(StatField.BLOCK_FW_PP_SIZE, b.fwPpSize);
      set(StatField.BLOCK_BW_PP_SIZE, b.bwPpSize);
      set(StatField.BLOCK_DP_SIZE, blockDpSize);
      set(StatField.BLOCK_DP_EXP_SIZE, blockDpExpSize);
      set(StatField.TP_BW_OVERLAP_REQ, b.tpBwOverlapReq);
      set(StatField.DP_BW_OVERLAP_REQ_CHUNK, dpReqChunk);
      set(StatField.DP_BW_OVERLAP_REQ_TAIL, dpReqTail);
      set(StatField.BLOCK_WEIGHT_SPACE, b.weightSpace);
      set(StatField.BLOCK_ACT_WORKING_SPACE, b.actWorkingSpace);
      set(StatField.BLOCK_ACT_STORAGE_SPACE, b.actStorageSpace);
      set(StatField.BLOCK_ACT_CHECKPOINT_SIZE, b.actCheckpointSize);
      set(StatField.BLOCK_WEIGHT_GRAD_SPACE, b.weightGradSpace);
      set(StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING, b.weightGradSpaceNoSharding);
      set(StatField.BLOCK_ACT_GRAD_SPACE, b.actGradSpace);
      set(StatField.BLOCK_OPTIMIZER_SPACE, b.optimizerSpace);
      set(StatField.FW_TIME, fwTime);
      set(StatField.BW_TIME, bwTime);
      set(StatField.OPTIM_STEP_TIME, optimTime);
      set(StatField.RECOMPUTE_TIME, reTime);
      set(StatField.TP_RECOMM_LINK_TIME, tpRecommLink);
      set(StatField.TP_RECOMM_EXPOSED_TIME, tpRecommExposed);
      set(StatField.EP_RECOMM_LINK_TIME, epRecommLink);
      set(StatField.EP_RECOMM_EXPOSED_TIME, epRecommExposed);
      set(StatField.ES_RECOMM_LINK_TIME, esRecommLink);
      set(StatField.ES_RECOMM_EXPOSED_TIME, esRecommExposed);
      set(StatField.RECOMM_LINK_TIME, recommLink);
      set(StatField.RECOMM_EXPOSED_TIME, recommExposed);
      set(StatField.BUBBLE_TIME, bubble);
      set(StatField.TP_COMM_LINK_TIME, tpLink);
      set(StatField.EP_COMM_LINK_TIME, epLink);
      set(StatField.ES_COMM_LINK_TIME, esLink);
      set(StatField.PP_COMM_LINK_TIME, ppLink);
      set(StatField.DP_COMM_LINK_TIME, dpLink);
      set(StatField.DP_EXP_COMM_LINK_TIME, dpExpLink);
      set(StatField.TP_COMM_EXPOSED_TIME, tpExposed);
      set(StatField.EP_COMM_EXPOSED_TIME, epExposed);
      set(StatField.ES_COMM_EXPOSED_TIME, esExposed);
      set(StatField.CP_COMM_LINK_TIME, cpLink);
      set(StatField.CP_COMM_EXPOSED_TIME, cpExposed);
      set(StatField.PP_COMM_EXPOSED_TIME, ppExposed);
      set(StatField.DP_COMM_EXPOSED_TIME, dpExposed);
      set(StatField.DP_EXP_COMM_EXPOSED_TIME, 0);
      set(StatField.FW_OFFLOAD_EXPOSED_TIME, fwOffloadOverhead);
      set(StatField.BW_OFFLOAD_EXPOSED_TIME, bwOffloadOverhead);
      set(StatField.TOTAL_TIME, total);
      if (corrected) {
        // the expert all-to-all by tier, and what overlap hid (written when not zero)
        set(StatField.EP_A2A_TIER0_LINK_TIME, perStep(b.epTierTime[FWD][0], b.epTierTime[FWD][0])
            + perStep(b.epTierTime[BWD][0], b.epTierTime[BWD][0]));
        set(StatField.EP_A2A_UPPER_TIER_LINK_TIME, perStep(b.epTierTime[FWD][1], b.epTierTime[FWD][1])
            + perStep(b.epTierTime[BWD][1], b.epTierTime[BWD][1]));
        set(StatField.EP_COMM_OVERLAPPED_TIME, epOverlapped);
        set(StatField.PP_COMM_OVERLAPPED_TIME, ppOverlapped);
      }
      set(StatField.ACT_OFFLOAD_BW_REQ, perWindow(actOffloadSize, fwWindow));
      set(StatField.WEIGHT_OFFLOAD_BW_REQ, perWindow(b.weightSpace, fwWindow));
      set(StatField.OPTIM_OFFLOAD_BW_REQ, training ? perWindow(b.weightGradSpace + b.optimizerSpace, bwWindow) : 0);
      set(StatField.OFFLOAD_MEM_BW_REQ, offloadBwReq);
      mem.write(stats, exe.tensorPar());
      set(StatField.USEFUL_FLOPS, usefulFlops);
      set(StatField.COMPUTE_EFFICIENCY, perfect / computeTime);
      set(StatField.SYSTEM_EFFICIENCY, computeTime / total);
      set(StatField.TOTAL_EFFICIENCY, perfect / total);
      set(StatField.SAMPLE_RATE, samplesPerSecond(exe, total));
    }

    /**
     * Memory of pipeline stage {@code stage} with the current (average) block: the in-flight
     * microbatches come from the schedule.
     */
    StageMemory memory(int stage) {
      // Calculon-MoE charges every stage the first stage's in-flight count (Korthikanti's approximation)
      double inFlight = corrected ? schedule.inFlightMicrobatches(stage) : schedule.referenceInFlightMicrobatches();
      return new StageMemory(b, blocksPerProc, inFlight, schedule.parameterCopies(), exe, corrected);
    }

    /**
     * ZeRO-3 traffic of a step: bytes per block and microbatch (per block and step when a pipeline
     * stage holds its blocks gathered), link and exposed seconds.
     */
    record Zero3(double bytesPerBlock, double linkSeconds, double exposedSeconds) {}

    /**
     * ZeRO-3 / FSDP communication (Rajbhandari et al. 2020, arXiv 1910.02054, Section 7.2.2: 1.5x
     * the data-parallel volume; Zhao et al. 2023, arXiv 2304.11277, Section 3.3): every
     * microbatch all-gathers each block's weights before its forward pass and again before its
     * backward pass, and reduce-scatters its gradients after the backward pass. With
     * {@code data_par_overlap} the gathers are prefetched during the previous block's compute
     * and the reduce-scatter runs during the next block's backward: a block exposes what its
     * compute cannot hide, or at least the compute the traffic steals (the network's processor
     * usage), as the data-parallel overlap does. Experts gather over DP_exp on their own tier.
     *
     * <p>A pipeline stage ({@link StageMemory#zero3HoldsStage}) gathers each block once, in its
     * first microbatch's forward pass (prefetched as above), keeps it for the step, and
     * reduce-scatters each block's gradients once, after its last backward pass, when no compute
     * is left to hide them ({@code torch.distributed.pipelining}'s {@code run_post_backward}):
     * that reduction is exposed whole.
     */
    Zero3 zero3(Network dpNet, int dpPeers) {
      int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal();
      double gather = 0, scatter = 0, weightBytes = 0, gradientBytes = 0, pu = dpNet.processorUsage();
      if (dpPeers > 1) {
        int rails = ringRails(dpNet.index(), dpPeers, denseInnerDegree(dpNet.index()));
        gather += dpCollective(dpNet, Network.Op.ALL_GATHER, b.dpWeightSpace, dpPeers, rails);
        scatter += dpCollective(dpNet, Network.Op.REDUCE_SCATTER, b.dpGradBuffer, dpPeers, rails);
        weightBytes += b.dpWeightSpace;
        gradientBytes += b.dpGradBuffer;
      }
      if (exe.modelMoE() && exe.dataParExp() > 1) {
        Network expNet = hw.network(exe.dataParExpNet());
        int rails = ringRails(expNet.index(), exe.dataParExp(), expertInnerDegree(expNet.index()));
        gather += dpCollective(expNet, Network.Op.ALL_GATHER, b.expertWeightSpace, exe.dataParExp(), rails);
        scatter += dpCollective(expNet, Network.Op.REDUCE_SCATTER, b.expertGradBuffer, exe.dataParExp(), rails);
        weightBytes += b.expertWeightSpace;
        gradientBytes += b.expertGradBuffer;
      }
      if (StageMemory.zero3HoldsStage(exe.zeroStage(), exe.pipelinePar())) {
        double exposedGather = exe.dataParOverlap() ? Math.max(gather - b.flopsTime[fw], gather * pu) : gather;
        return new Zero3(weightBytes + gradientBytes, blocksPerProc * (gather + scatter),
            blocksPerProc * (exposedGather + scatter));
      }
      double perBlock = 2 * gather + scatter;
      double exposedPerBlock = perBlock;
      if (exe.dataParOverlap()) {
        double fwCompute = b.flopsTime[fw];
        double bwCompute = b.flopsTime[ag] + b.flopsTime[wg] + b.reFlopsTime;
        exposedPerBlock = Math.max(gather - fwCompute, gather * pu)
            + Math.max(gather + scatter - bwCompute, (gather + scatter) * pu);
      }
      double blockVisits = (double) nm * blocksPerProc;
      return new Zero3(2 * weightBytes + gradientBytes, blockVisits * perBlock, blockVisits * exposedPerBlock);
    }

    /**
     * How many ring channels of a data-parallel group cross its network tier side by side: the
     * group's members that share one domain of the tier below (a node, in a two-tier system), each
     * with its own link to {@code tier} (a system file's bandwidth is per processor). NCCL builds
     * its ring channels so that each enters and leaves a node through a different network
     * interface, so a ring reduce-scatter, all-gather or all-reduce of {@code S} bytes among
     * {@code n} members, {@code k} of them per node, puts {@code S (n-1)/n/k} bytes on each link
     * (Hu et al. 2025, "Demystifying NCCL", arXiv 2507.04786). The members per domain follow
     * Megatron-Core's rank order ({@code tp-cp-ep-dp-pp}, {@code parallel_state.RankGenerator}):
     * the groups nested inside the data-parallel group fill the domain first ({@code innerDegree}
     * ranks), its own members next. Calculon-MoE and the lowest tier: 1.
     *
     * @param tier the tier the group's collectives cross
     * @param groupDegree members of the group
     * @param innerDegree ranks of the groups nested inside it within one domain
     * @return between 1 and {@code groupDegree}
     */
    int ringRails(int tier, int groupDegree, long innerDegree) {
      if (!corrected || tier == 0) {
        return 1;
      }
      long domain = hw.network(tier - 1).size();
      if (innerDegree >= domain) {
        return 1;
      }
      return (int) Math.max(1, Math.min(groupDegree, domain / innerDegree));
    }

    /**
     * Ranks nested inside the dense data-parallel (DP x CP) group within one domain below
     * {@code tier}: TP, and PP when it runs on a lower tier (CP is part of the group).
     */
    long denseInnerDegree(int tier) {
      long inner = exe.tensorPar();
      if (exe.pipelineParNet() < tier) {
        inner *= exe.pipelinePar();
      }
      return inner;
    }

    /** Ranks nested inside the expert data-parallel group: ES and EP, and PP on a lower tier. */
    long expertInnerDegree(int tier) {
      long inner = (long) exe.expertSlice() * exe.expertPar();
      if (exe.pipelineParNet() < tier) {
        inner *= exe.pipelinePar();
      }
      return inner;
    }

    /** Seconds of one block's weight all-gather after a sharded optimizer step; 0 without sharding. */
    double paramGather(Network net, double weightBytes, int peers, int rails) {
      return exe.optimizerSharding() ? dpCollective(net, Network.Op.ALL_GATHER, weightBytes, peers, rails) : 0;
    }

    /**
     * Exposed seconds of the stage's weight all-gathers when they run ahead of the next step's
     * forward pass (Megatron-Core {@code overlap_param_gather}, {@link CommOverlap#prefetchedExposed}):
     * each block's window is its forward time without its HBM-bound time and, when DP shares TP's
     * tier, TP's forward traffic, as the backward window is; under interleaved 1F1B a stage runs
     * min(PP, microbatches) microbatches through a chunk before it needs the next chunk's weights.
     */
    double paramGatherExposed(double blockGather, double baseFw, double edgeFw, boolean dpOnTpNet,
        double processorUsage) {
      int fw = Stage.FW.ordinal();
      double baseWindow = baseFw - b.memTime[fw];
      double edgeWindow = edgeFw - b.memTime[fw];
      if (dpOnTpNet) {
        baseWindow -= b.linkTime(CommGroup.TP, FWD, BASE);
        edgeWindow -= b.linkTime(CommGroup.TP, FWD, EDGE);
      }
      double blockWindow = (baseBlocks * baseWindow + edgeBlocks * edgeWindow) / blocksPerChunk;
      int perChunk = schedule instanceof Interleaved ? Math.min(exe.pipelinePar(), nm) : 1;
      return CommOverlap.prefetchedExposed(blockGather, chunksPerProc, blocksPerChunk, perChunk,
          blockWindow, blocksPerProc * b.flopsTime[fw], processorUsage);
    }

    /**
     * Gradient reduction of one block, in seconds: a reduce-scatter under optimizer sharding, else
     * an all-reduce; the sharded optimizer's weight all-gather that completes the synchronisation
     * is {@link #paramGather}. The corrected model reduces the gradients in their own datatype
     * ({@code gradientBytes}, the block's gradient buffer in {@code gradient_datatype}):
     * Megatron-Core's DDP reduces its gradient buffer as it is stored
     * ({@code DistributedDataParallelConfig.grad_reduce_in_fp32}, which Megatron-LM turns on for
     * bf16 training, {@code megatron/training/arguments.py}), while the distributed optimizer
     * all-gathers the bf16 parameters ({@code megatron/core/distributed/param_and_grad_buffer.py}).
     * Calculon-MoE moves the weight bytes both ways.
     */
    double gradientReduction(Network net, double weightBytes, double gradientBytes, int peers, int rails) {
      double reduced = corrected ? gradientBytes : weightBytes;
      Network.Op op = exe.optimizerSharding() ? Network.Op.REDUCE_SCATTER : Network.Op.ALL_REDUCE;
      return dpCollective(net, op, reduced, peers, rails);
    }

    /**
     * Seconds of one data-parallel ring collective of {@code bytes} among {@code peers} on
     * {@code net} whose members sit {@code rails} to a domain of the tier below
     * ({@link #ringRails}): each of the {@code rails} channels puts 1/rails of the bytes on its
     * member's own link, and the hops between a domain's members carry the other
     * {@code (rails-1)/rails} on the tier below. NCCL pipelines a ring's chunks through both, so
     * the slower of the two sets the time. One rail: {@code net.time(op, bytes, peers)}.
     */
    double dpCollective(Network net, Network.Op op, double bytes, int peers, int rails) {
      if (rails <= 1) {
        return net.time(op, bytes, peers);
      }
      Network lower = hw.network(net.index() - 1);
      return Math.max(net.time(op, bytes / rails, peers), lower.time(op, bytes * (rails - 1) / rails, peers));
    }

    /** Per-layer stats in the reference's key order; the order of calls reproduces its overlap-exposure state. */
    List<Stats.LayerStats> layerStats() {
      List<Stats.LayerStats> out = new ArrayList<>(layers.size());
      for (Layer l : layers) {
        double[] v = new double[LayerField.all().length];
        v[LayerField.INPUTS_SIZE.ordinal()] = l.inputsSize();
        v[LayerField.OUTPUTS_SIZE.ordinal()] = l.outputSize();
        passStats(l, Stage.FW, v, LayerField.FW_FLOPS, LayerField.FW_MEM_ACCESSED,
            LayerField.FW_ARITHMETIC_INTENSITY, LayerField.FW_PROCESSING_TIME);
        commStats(l, Stage.FW, v, LayerField.BASEBLOCK_FW_TP_COMM_TILE);
        passStats(l, Stage.AGRAD, v, LayerField.AGRAD_FLOPS, LayerField.AGRAD_MEM_ACCESSED,
            LayerField.AGRAD_ARITHMETIC_INTENSITY, LayerField.AGRAD_PROCESSING_TIME);
        commStats(l, Stage.AGRAD, v, LayerField.BASEBLOCK_BW_TP_COMM_TILE);
        passStats(l, Stage.WGRAD, v, LayerField.WGRAD_FLOPS, LayerField.WGRAD_MEM_ACCESSED,
            LayerField.WGRAD_ARITHMETIC_INTENSITY, LayerField.WGRAD_PROCESSING_TIME);
        commStats(l, Stage.WGRAD, v, LayerField.BASEBLOCK_RECOMM_TILE);
        passStats(l, Stage.OPTIM, v, LayerField.OPTIM_FLOPS, LayerField.OPTIM_MEM_ACCESSED,
            LayerField.OPTIM_ARITHMETIC_INTENSITY, LayerField.OPTIM_PROCESSING_TIME);
        v[LayerField.WEIGHT.ordinal()] = l.weight();
        v[LayerField.ACTIVATION.ordinal()] = l.activation();
        v[LayerField.WEIGHT_GRAD.ordinal()] = l.weightGrad(true);
        v[LayerField.ACTIVATION_GRAD.ordinal()] = l.activationGrad();
        v[LayerField.OPTIMIZER.ordinal()] = l.optimizer();
        out.add(new Stats.LayerStats(l.name(), v));
      }
      return out;
    }

    private void passStats(Layer l, Stage s, double[] v, LayerField flops, LayerField mem,
                           LayerField intensity, LayerField time) {
      v[flops.ordinal()] = l.flops(s);
      v[mem.ordinal()] = l.memAccessed(s);
      v[intensity.ordinal()] = l.arithmeticIntensity(s);
      v[time.ordinal()] = l.processingTime(s);
    }

    /** Eight consecutive fields starting at {@code first}: tile, size, time and exposed time, base then edge. */
    private void commStats(Layer l, Stage s, double[] v, LayerField first) {
      int i = first.ordinal();
      v[i] = l.commTile(s, true);
      v[i + 1] = l.commTile(s, false);
      v[i + 2] = l.commBytes(s, true);
      v[i + 3] = l.commBytes(s, false);
      v[i + 4] = l.netTime(s, true);
      v[i + 5] = l.netTime(s, false);
      v[i + 6] = l.exposedNetTime(s, true);
      v[i + 7] = l.exposedNetTime(s, false);
    }
  }
}
