package calculon.config;

/**
 * Optional execution keys of how a step is scheduled and how MoE tokens travel: the pipeline
 * schedule ({@code pipeline_schedule}), the MoE token dispatcher ({@code moe_dispatcher}), the
 * overlap of the expert all-to-all with another microbatch's compute ({@code moe_a2a_overlap}),
 * node-limited routing ({@code moe_max_domains_per_token}), the dispatch datatype
 * ({@code moe_dispatch_datatype}) and whether interleaved 1F1B overlaps its pipeline transfers
 * with compute ({@code pipeline_p2p_overlap}). A null (or 0) field means the key was absent:
 * Calculon's behaviour, except {@code pipeline_p2p_overlap}, whose absence is Megatron-Core's
 * default (on; corrected model).
 *
 * @param pipelineSchedule       null: {@link PipelineScheduleKind#defaultFor}
 * @param moeDispatcher          null: {@code alltoall}
 * @param moeA2aOverlap          null: no overlap
 * @param moeMaxDomainsPerToken  tier-0 domains (nodes) a token may be sent to; 0: no limit
 * @param moeDispatchDatatype    datatype of the dispatch all-to-all; null: the activations'
 * @param pipelineP2pOverlap     whether interleaved 1F1B overlaps its steady-state pipeline
 *                               transfers with compute; null: Megatron-Core's default, on
 */
public record ScheduleOptions(PipelineScheduleKind pipelineSchedule, MoeDispatcher moeDispatcher,
                              Boolean moeA2aOverlap, int moeMaxDomainsPerToken, Datatype moeDispatchDatatype,
                              Boolean pipelineP2pOverlap) {

  /** Nothing given: Calculon's behaviour. */
  public static final ScheduleOptions DEFAULTS = new ScheduleOptions(null, null, null, 0, null, null);

  /** The optional execution keys, in the order of the fields. */
  public static final String[] KEYS = {"pipeline_schedule", "moe_dispatcher", "moe_a2a_overlap",
      "moe_max_domains_per_token", "moe_dispatch_datatype", "pipeline_p2p_overlap"};

  /** Only the pipeline schedule given. */
  public ScheduleOptions(PipelineScheduleKind pipelineSchedule) {
    this(pipelineSchedule, null, null, 0, null, null);
  }

  /** The MoE keys and the pipeline schedule, {@code pipeline_p2p_overlap} absent. */
  public ScheduleOptions(PipelineScheduleKind pipelineSchedule, MoeDispatcher moeDispatcher,
                         Boolean moeA2aOverlap, int moeMaxDomainsPerToken, Datatype moeDispatchDatatype) {
    this(pipelineSchedule, moeDispatcher, moeA2aOverlap, moeMaxDomainsPerToken, moeDispatchDatatype, null);
  }

  /**
   * Whether interleaved 1F1B overlaps its steady-state pipeline sends and receives with the next
   * pass's compute: Megatron-Core's {@code overlap_p2p_comm}, on by default (Megatron-LM
   * {@code --no-overlap-p2p-communication}, {@code action='store_false'}); off for runtimes that
   * wait for each transfer ({@code torch.distributed.pipelining}, TorchTitan's PP).
   */
  public boolean p2pOverlap() {
    return pipelineP2pOverlap == null || pipelineP2pOverlap;
  }

  /** The schedule the step runs. */
  public PipelineScheduleKind schedule(int pipelineInterleaving) {
    return pipelineSchedule != null ? pipelineSchedule : PipelineScheduleKind.defaultFor(pipelineInterleaving);
  }

  /** The dispatcher the step runs. */
  public MoeDispatcher dispatcher() {
    return moeDispatcher != null ? moeDispatcher : MoeDispatcher.ALLTOALL;
  }

  /** Whether the expert all-to-all of one microbatch hides behind another's compute. */
  public boolean a2aOverlap() {
    return moeA2aOverlap != null && moeA2aOverlap;
  }

  /** Whether any MoE communication key was given. */
  public boolean anyMoeKey() {
    return moeDispatcher != null || moeA2aOverlap != null || moeMaxDomainsPerToken != 0 || moeDispatchDatatype != null;
  }

  /** The {@code moe_*} keys given, in {@link #KEYS} order: the MoE communication choices, which a dense run has no experts for. */
  public java.util.List<String> moeKeysGiven() {
    return givenKeys().keySet().stream().filter(k -> k.startsWith("moe_")).toList();
  }

  /** A copy without the {@code moe_*} keys (what a dense run or search keeps of them: nothing). */
  public ScheduleOptions withoutMoeKeys() {
    return anyMoeKey() ? new ScheduleOptions(pipelineSchedule, null, null, 0, null, pipelineP2pOverlap) : this;
  }

  /** The keys the execution gave, with their JSON values, in {@link #KEYS} order (for outputs that must run again as they ran). */
  public java.util.Map<String, Object> givenKeys() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    if (pipelineSchedule != null) {
      m.put(KEYS[0], pipelineSchedule.jsonName);
    }
    if (moeDispatcher != null) {
      m.put(KEYS[1], moeDispatcher.jsonName);
    }
    if (moeA2aOverlap != null) {
      m.put(KEYS[2], moeA2aOverlap);
    }
    if (moeMaxDomainsPerToken != 0) {
      m.put(KEYS[3], moeMaxDomainsPerToken);
    }
    if (moeDispatchDatatype != null) {
      m.put(KEYS[4], moeDispatchDatatype.jsonName);
    }
    if (pipelineP2pOverlap != null) {
      m.put(KEYS[5], pipelineP2pOverlap);
    }
    return m;
  }
}
