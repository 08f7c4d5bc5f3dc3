package calculon.config;

/**
 * How the model is run: parallel split, network tiers, batch, precision and optimisations. Field
 * order and meaning follow the Calculon-MoE execution file (33 keys); an original Calculon file
 * (23 keys) reads as a dense run with one expert and EP = ES = DP_exp = 1.
 *
 * <p>Values here are as the user wrote them, already checked by {@link ExecutionReader}. What the
 * reference derives or silently overrides (MoE forcing rs_ag when TP &gt; 1) is derived in
 * {@link #effectiveTpCommType()} and friends, never stored.
 */
public record Execution(
    int numProcs,
    int tensorPar,
    int pipelinePar,
    int dataPar,
    int tensorParNet,
    int pipelineParNet,
    int dataParNet,
    int batchSize,
    int microbatchSize,
    int numExperts,
    int topKExperts,
    int expertPar,
    int expertSlice,
    int dataParExp,
    int dataParExpNet,
    int expertParNet,
    int expertSliceNet,
    Datatype datatype,
    boolean fusedActivation,
    AttentionType attentionType,
    Recompute activationRecompute,
    int pipelineInterleaving,
    boolean optimizerSharding,
    TpCommType tensorParCommType,
    TpOverlap tensorParOverlap,
    boolean seqParAgRedo,
    boolean dataParOverlap,
    boolean weightOffload,
    boolean activationsOffload,
    boolean optimizerOffload,
    boolean training,
    boolean modelMoE,
    ActivationFunction activationFunction,
    Precision precision,
    ParallelOptions parallel,
    LayerOptions layerOptions,
    ScheduleOptions scheduleOptions) {

  /**
   * An execution of the original 33 keys: the model version's storage datatypes, Calculon's
   * parallel options, the default layer options and Calculon's schedule (no optional keys).
   */
  public Execution(int numProcs, int tensorPar, int pipelinePar, int dataPar, int tensorParNet,
                   int pipelineParNet, int dataParNet, int batchSize, int microbatchSize, int numExperts,
                   int topKExperts, int expertPar, int expertSlice, int dataParExp, int dataParExpNet,
                   int expertParNet, int expertSliceNet, Datatype datatype, boolean fusedActivation,
                   AttentionType attentionType, Recompute activationRecompute, int pipelineInterleaving,
                   boolean optimizerSharding, TpCommType tensorParCommType, TpOverlap tensorParOverlap,
                   boolean seqParAgRedo, boolean dataParOverlap, boolean weightOffload,
                   boolean activationsOffload, boolean optimizerOffload, boolean training, boolean modelMoE,
                   ActivationFunction activationFunction) {
    this(numProcs, tensorPar, pipelinePar, dataPar, tensorParNet, pipelineParNet, dataParNet, batchSize,
        microbatchSize, numExperts, topKExperts, expertPar, expertSlice, dataParExp, dataParExpNet,
        expertParNet, expertSliceNet, datatype, fusedActivation, attentionType, activationRecompute,
        pipelineInterleaving, optimizerSharding, tensorParCommType, tensorParOverlap, seqParAgRedo,
        dataParOverlap, weightOffload, activationsOffload, optimizerOffload, training, modelMoE,
        activationFunction, Precision.DEFAULTS, ParallelOptions.defaults(optimizerSharding),
        LayerOptions.DEFAULTS, ScheduleOptions.DEFAULTS);
  }

  /** JSON keys of the Calculon-MoE execution format, in its order. */
  public static final String[] FIELDS = {
      "num_procs", "tensor_par", "pipeline_par", "data_par", "tensor_par_net",
      "pipeline_par_net", "data_par_net", "batch_size", "microbatch_size", "num_experts",
      "top_k_experts", "expert_par", "expert_slice", "data_par_exp", "data_par_exp_net",
      "expert_par_net", "expert_slice_net", "datatype", "fused_activation", "attention_type",
      "activation_recompute", "pipeline_interleaving", "optimizer_sharding",
      "tensor_par_comm_type", "tensor_par_overlap", "seq_par_ag_redo", "data_par_overlap",
      "weight_offload", "activations_offload", "optimizer_offload", "training", "model_MoE",
      "activation_function"};

  /** Samples each data-parallel replica processes per step. */
  public int localBatchSize() { return batchSize / dataPar; }

  /** Microbatches each pipeline runs per step (NM). */
  public int numMicrobatches() { return localBatchSize() / microbatchSize; }

  /** The TP comm type the model runs: Calculon-MoE forces rs_ag for MoE runs with TP &gt; 1. */
  public TpCommType effectiveTpCommType() {
    return modelMoE && tensorPar > 1 ? TpCommType.RS_AG : tensorParCommType;
  }

  /** Sequence parallelism: on with rs_ag (and so for every MoE run with TP &gt; 1). */
  public boolean sequenceParallel() { return effectiveTpCommType() == TpCommType.RS_AG; }

  /** Whether pipeline point-to-point transfers carry the sequence-parallel (1/TP) activation. */
  public boolean pipelineParRsAg() { return effectiveTpCommType() != TpCommType.AR; }

  /** Experts each expert-parallel rank holds. */
  public int expertsPerRank() { return numExperts / expertPar; }

  /** A copy with the given comm type (the search uses it to run distinct executions only). */
  public Execution withTensorParCommType(TpCommType t) {
    return copy(activationRecompute, t, precision, parallel, layerOptions, scheduleOptions);
  }

  /** A copy with other parallel options (the search enumerates ZeRO stages and CP with it). */
  public Execution withParallel(ParallelOptions p) {
    return copy(activationRecompute, tensorParCommType, precision, p, layerOptions, scheduleOptions);
  }

  /** A copy with the given layer options (the searches set {@code flash_attention} this way). */
  public Execution withLayerOptions(LayerOptions o) {
    return copy(activationRecompute, tensorParCommType, precision, parallel, o, scheduleOptions);
  }

  /** A copy with other schedule options (the searches enumerate pipeline schedules with it). */
  public Execution withScheduleOptions(ScheduleOptions o) {
    return copy(activationRecompute, tensorParCommType, precision, parallel, layerOptions, o);
  }

  /** A copy with other precision keys (the reader drops an {@code fp8_recipe} a run that is not float8 ignores). */
  public Execution withPrecision(Precision p) {
    return copy(activationRecompute, tensorParCommType, p, parallel, layerOptions, scheduleOptions);
  }

  /**
   * This execution as the blocks of a partial full recompute that are not recomputed run it
   * ({@code recompute_method: block}): {@code activation_recompute} none, without
   * {@code recompute_method} and {@code recompute_num_layers}; Megatron-Core runs such a layer as
   * plain forward (no selective recompute: that is the {@code selective} granularity's, and
   * {@code recompute_modules} is empty under full recompute).
   */
  public Execution withoutRecompute() {
    return copy(Recompute.NONE, tensorParCommType, precision, parallel, layerOptions.withoutRecomputeMethod(),
        scheduleOptions);
  }

  /**
   * Whether the run recomputes only part of its blocks, or whole groups of blocks from one
   * checkpoint: {@code activation_recompute} full with {@code recompute_method} block or
   * {@code recompute_num_layers} above 1 ({@link LayerOptions#partialRecompute}).
   */
  public boolean partialRecompute() {
    return activationRecompute == Recompute.FULL && layerOptions.partialRecompute();
  }

  /**
   * The blocks of the largest pipeline chunk of this execution on a model of {@code numBlocks}
   * blocks, as the evaluator splits them ({@code Evaluator.Step}): even stages hold
   * ceil(blocks / PP) blocks in {@code pipeline_interleaving} equal chunks; uneven stages
   * ({@link ParallelOptions#stageBlocks}) split each stage's blocks into v chunks as evenly as they
   * go, the first ones taking one more, so the largest chunk is ceil(most blocks on a stage / v).
   * For PP and interleaving the model accepts (PP at most {@code numBlocks}, the uneven split one
   * {@code RunChecks} accepted).
   */
  public long largestChunkBlocks(long numBlocks) {
    int v = pipelineInterleaving;
    if (!parallel.unevenStages()) {
      return ceilDiv(ceilDiv(numBlocks, pipelinePar), v);
    }
    long most = 0;
    for (int n : parallel.stageBlocks(numBlocks, pipelinePar)) {
      most = Math.max(most, n);
    }
    return ceilDiv(most, v);
  }

  /**
   * Whether {@code recompute_method: block} with {@code recompute_num_layers} N under full
   * recompute recomputes every block of a model of {@code numBlocks} blocks: Megatron-Core
   * recomputes the first min(N, chunk) blocks of each pipeline chunk, each from its own checkpoint
   * (megatron/core/transformer/transformer_block.py, {@code TransformerBlock._checkpointed_forward}:
   * {@code if l < recompute_num_layers} checkpoint {@code custom(l, l + 1)}), so with N at least
   * {@link #largestChunkBlocks} the run is plain full recompute.
   */
  public boolean blockRecomputesEveryBlock(long numBlocks) {
    return activationRecompute == Recompute.FULL && layerOptions.givenRecomputeMethod() == RecomputeMethod.BLOCK
        && layerOptions.recomputeNumLayers() >= largestChunkBlocks(numBlocks);
  }

  /**
   * This execution as the corrected model runs it on a model of {@code numBlocks} blocks: where
   * {@code recompute_method: block} recomputes every block ({@link #blockRecomputesEveryBlock}),
   * plain full recompute (without {@code recompute_method} and {@code recompute_num_layers}), so
   * that its numbers, activation offload included, are exactly plain full recompute's; else this
   * execution.
   */
  public Execution asRun(long numBlocks) {
    return blockRecomputesEveryBlock(numBlocks) ? withLayerOptions(layerOptions.withoutRecomputeMethod()) : this;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** ZeRO stage 0-3 as the corrected model runs it ({@code optimizer_sharding} alone means 1). */
  public int zeroStage() { return parallel.zeroStage(); }

  /** CP: ranks that split each sequence. */
  public int contextPar() { return parallel.contextPar(); }

  /** Network tier of the CP group. */
  public int contextParNet() { return parallel.contextParNet(); }

  /** This execution with the parts the searches and the reader vary replaced (the with* copies above). */
  private Execution copy(Recompute recompute, TpCommType commType, Precision precisionKeys,
                         ParallelOptions parallelOptions, LayerOptions layers, ScheduleOptions schedule) {
    return new Execution(numProcs, tensorPar, pipelinePar, dataPar, tensorParNet, pipelineParNet,
        dataParNet, batchSize, microbatchSize, numExperts, topKExperts, expertPar, expertSlice,
        dataParExp, dataParExpNet, expertParNet, expertSliceNet, datatype, fusedActivation,
        attentionType, recompute, pipelineInterleaving, optimizerSharding, commType,
        tensorParOverlap, seqParAgRedo, dataParOverlap, weightOffload, activationsOffload,
        optimizerOffload, training, modelMoE, activationFunction, precisionKeys, parallelOptions, layers,
        schedule);
  }

  /** The pipeline schedule the step runs ({@code pipeline_schedule}, else Calculon's choice). */
  public PipelineScheduleKind pipelineSchedule() {
    return scheduleOptions.schedule(pipelineInterleaving);
  }

  /**
   * Whether the step overlaps its pipeline transfers with compute as Megatron-Core's
   * {@code overlap_p2p_comm} does ({@code pipeline_p2p_overlap}, on unless the file turns it off):
   * a training run of the interleaved schedule with PP &gt; 1, the only schedule that has it.
   */
  public boolean overlapsPipelineTransfers() {
    return training && pipelinePar > 1 && pipelineSchedule() == PipelineScheduleKind.INTERLEAVED
        && scheduleOptions.p2pOverlap();
  }
}
