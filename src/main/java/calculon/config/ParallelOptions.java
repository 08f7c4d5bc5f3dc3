package calculon.config;

/**
 * Optional execution keys for the ways of splitting training that Megatron-Core, NeMo and
 * TorchTitan use today and Calculon did not model. Absent keys keep Calculon's behaviour.
 *
 * @param zeroStage          ZeRO stage 0-3 (Rajbhandari et al. 2020, arXiv 1910.02054): 1 shards
 *                           the fp32 master weights and Adam moments over DP (Megatron's
 *                           distributed optimizer), 2 the gradients too, 3 the weights too
 *                           (FSDP, Zhao et al. 2023, arXiv 2304.11277). Without the key: 1 when
 *                           {@code optimizer_sharding} is true, else 0.
 * @param zeroStageGiven     whether the file gave {@code zero_stage}
 * @param contextPar         CP: ranks that split each sequence (1: none)
 * @param contextParNet      network tier of the CP group
 * @param contextParCommType how CP ranks exchange keys and values
 * @param blocksInFirstStage blocks on the first pipeline stage (0: an even split; Megatron's
 *                           {@code num_layers_in_first_pipeline_stage})
 * @param blocksInLastStage  blocks on the last pipeline stage (0: an even split; Megatron's
 *                           {@code num_layers_in_last_pipeline_stage})
 */
public record ParallelOptions(int zeroStage, boolean zeroStageGiven, int contextPar, int contextParNet,
                              CpCommType contextParCommType, int blocksInFirstStage, int blocksInLastStage) {

  /** Highest ZeRO stage (3: parameters sharded). */
  public static final int MAX_ZERO_STAGE = 3;

  /** Calculon's behaviour: no context parallelism, even stages, ZeRO as {@code optimizer_sharding} says. */
  public static ParallelOptions defaults(boolean optimizerSharding) {
    return new ParallelOptions(optimizerSharding ? 1 : 0, false, 1, 0, CpCommType.P2P, 0, 0);
  }

  /** The optional execution keys, in the order of the fields (less {@code zeroStageGiven}). */
  public static final String[] KEYS = {
      "zero_stage", "context_par", "context_par_net", "context_par_comm_type",
      "blocks_in_first_stage", "blocks_in_last_stage"};

  /**
   * The keys an execution file needs to say these options again, with their JSON values, in
   * {@link #KEYS} order: {@code zero_stage} when it was given, the CP keys when CP &gt; 1, the
   * stage block counts when set (for outputs that must run again as they ran).
   */
  public java.util.Map<String, Object> givenKeys() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    if (zeroStageGiven) {
      m.put(KEYS[0], zeroStage);
    }
    if (contextPar > 1) {
      m.put(KEYS[1], contextPar);
      m.put(KEYS[2], contextParNet);
      m.put(KEYS[3], contextParCommType.jsonName);
    }
    if (blocksInFirstStage > 0) {
      m.put(KEYS[4], blocksInFirstStage);
    }
    if (blocksInLastStage > 0) {
      m.put(KEYS[5], blocksInLastStage);
    }
    return m;
  }

  /** Whether the first or last pipeline stage holds a block count of its own. */
  public boolean unevenStages() { return blocksInFirstStage > 0 || blocksInLastStage > 0; }

  /**
   * Blocks of each of the {@code pipelinePar} stages of a model of {@code numBlocks} blocks under
   * uneven stages ({@link #unevenStages}): the first and last stage hold what the file gives them,
   * every other stage an equal share of the rest (Megatron-Core's
   * {@code num_layers_in_first_pipeline_stage} / {@code num_layers_in_last_pipeline_stage}). For a
   * split the execution reader accepted (the rest divides evenly).
   */
  public int[] stageBlocks(long numBlocks, int pipelinePar) {
    int others = pipelinePar - (blocksInFirstStage > 0 ? 1 : 0) - (blocksInLastStage > 0 ? 1 : 0);
    long rest = numBlocks - blocksInFirstStage - blocksInLastStage;
    int[] blocks = new int[pipelinePar];
    for (int k = 0; k < pipelinePar; k++) {
      blocks[k] = k == 0 && blocksInFirstStage > 0 ? blocksInFirstStage
          : k == pipelinePar - 1 && blocksInLastStage > 0 ? blocksInLastStage : (int) (rest / others);
    }
    return blocks;
  }
}
