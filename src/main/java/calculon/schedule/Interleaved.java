package calculon.schedule;

/**
 * Interleaved 1F1B (Narayanan et al. 2021, arXiv 2104.04473, Section 2.2.2): each stage holds
 * v model chunks and visits them in turn, so the fill and drain take chunk times that are 1/v of
 * a stage's: bubble (p - 1) chunk times, a fraction (p - 1)/(v m). When m is not a multiple of p
 * Calculon charges (v - 1)(p - m mod p) more chunk times (the rounds left short).
 *
 * <p>In flight: Megatron-Core's interleaved schedule
 * ({@code forward_backward_pipelining_with_interleaving}) runs 2(p - k - 1) + (v - 1)p warm-up
 * chunk forwards on stage k (at most m v), and holds one more in steady state; a chunk is 1/v of
 * the stage's activations. Stage 0 with m &ge; p holds p + (p - 1)/v microbatches, Korthikanti et
 * al. 2022's p(1 + (p - 1)/(p v)).
 *
 * <p>Which chunks those are ({@link #order}): Megatron-Core runs the forwards in groups of
 * {@code microbatch_group_size_per_vp_stage} microbatches (default p, Megatron-LM
 * {@code validate_args}) per chunk ({@code get_schedule_table}: chunk 0 for microbatches 0..p-1,
 * chunk 1 for the same, ...), and the backwards in the same table with the chunks reversed
 * ({@code get_model_chunk_id}, {@code forward=False}). So the last stage warms up with p
 * microbatches of each chunk but its last, then runs each microbatch's last-chunk forward (the
 * logits and loss) right before that chunk's backward: it holds one microbatch of logits, not
 * ((v - 1)p + 1)/v; the first stage holds up to 2p microbatches of its first chunk (the
 * embedding's output), one group past its warm-up.
 *
 * <p>{@code extraWarmupChunks}: Megatron-Core runs one more warm-up forward on every stage when
 * it pairs forwards with backwards for its expert all-to-all overlap ({@code
 * get_pp_rank_microbatches}: {@code num_warmup_microbatches += 1} under {@code
 * overlap_moe_expert_parallel_comm}; {@link EpA2aOverlap}), so every stage holds one more chunk
 * and exposes one more warm-up and cool-down transfer; 0 otherwise.
 */
public record Interleaved(int stages, int microbatches, int chunksPerStage, int extraWarmupChunks)
    implements PipelineSchedule {

  /** Without the expert all-to-all overlap's extra warm-up forward. */
  public Interleaved(int stages, int microbatches, int chunksPerStage) {
    this(stages, microbatches, chunksPerStage, 0);
  }

  @Override
  public double bubbleSeconds(double chunkSeconds, double reductionSeconds) {
    int p = stages, v = chunksPerStage;
    int extraChunks = microbatches % p != 0 ? (v - 1) * (p - microbatches % p) : 0;
    return (p - 1) * chunkSeconds + (extraChunks * chunkSeconds - reductionSeconds);
  }

  @Override
  public double bubbleFraction() {
    return (stages - 1) / ((double) chunksPerStage * microbatches);
  }

  @Override
  public double inFlightMicrobatches(int stage) {
    int p = stages, v = chunksPerStage;
    long chunks = Math.min((long) microbatches * v, warmupChunks(stage, microbatches) + 1L);
    return chunks / (double) v;
  }

  /**
   * Stage {@code stage}'s passes in Megatron-Core's order ({@code
   * forward_backward_pipelining_with_interleaving}): the warm-up forwards, then one forward and
   * one backward per step of the steady state, then the cool-down backwards; chunks in the
   * stage's own order (chunk c of stage k is the model's virtual stage c p + k).
   */
  PassOrder order(int stage) {
    return order(stage, replayedMicrobatches(microbatches));
  }

  /**
   * Microbatches whose replay gives the same peak as {@code m}'s: the schedule table repeats
   * every group of p microbatches (v p chunks), the warm-up spans under two groups, so the states
   * after the first groups recur until the last group, which ends every replay alike; m itself up
   * to {@link #REPLAYED_GROUPS} + 1 groups, else that many full groups plus m's last group.
   */
  int replayedMicrobatches(int m) {
    int p = stages;
    if (m <= (REPLAYED_GROUPS + 1) * p) {
      return m;
    }
    int last = m % p == 0 ? p : m % p;
    return REPLAYED_GROUPS * p + last;
  }

  /** Full groups of p microbatches replayed before the last group ({@link #replayedMicrobatches}). */
  static final int REPLAYED_GROUPS = 5;

  /** Stage {@code stage}'s passes for {@code m} microbatches ({@link #order(int)}). */
  PassOrder order(int stage, int m) {
    int p = stages, v = chunksPerStage;
    int total = m * v;
    int[] chunkOf = new int[total];
    int next = 0;
    for (int first = 0; first < m; first += p) {
      int end = first + p >= m ? m : first + p;
      for (int chunk = 0; chunk < v; chunk++) {
        for (int mb = first; mb < end; mb++) {
          chunkOf[next++] = chunk;
        }
      }
    }
    int warmup = warmupChunks(stage, m);
    PassOrder order = new PassOrder();
    for (int k = 0; k < warmup; k++) {
      order.forward(chunkOf[k]);
    }
    for (int k = 0; k < total - warmup; k++) {
      order.forward(chunkOf[warmup + k]);
      order.backward(v - 1 - chunkOf[k]);
    }
    for (int k = total - warmup; k < total; k++) {
      order.backward(v - 1 - chunkOf[k]);
    }
    return order;
  }

  @Override
  public double inFlightMicrobatches(int stage, double[] chunkShare, double wPendingShare) {
    for (int c = 0; chunkShare != null && c < chunkShare.length; c++) {
      if (chunkShare[c] != chunkShare[0]) {
        // the replay's peak (order(stage).peak): no W is deferred here, so it is the largest
        // weighted count of chunks held, over the counts after each forward
        double peak = 0;
        for (int[] held : peakCandidates(stage)) {
          double sum = 0;
          for (int chunk = 0; chunk < held.length; chunk++) {
            sum += held[chunk] * chunkShare[chunk];
          }
          peak = Math.max(peak, sum);
        }
        return peak;
      }
    }
    // equal chunks: the closed form (the replay gives the same, PipelineScheduleTest)
    return inFlightMicrobatches(stage);
  }

  /**
   * The per-chunk counts of microbatches held after each forward of stage {@code stage}'s replay
   * ({@link #order}) that no other such count dominates: the only points where a peak can lie,
   * whatever the chunks' shares. They depend on p, v, the stage and the replayed microbatches
   * only, so a search computes them once per such split ({@link #PEAK_CANDIDATES}) instead of
   * replaying every evaluation's schedule.
   */
  int[][] peakCandidates(int stage) {
    int m = replayedMicrobatches(microbatches);
    // one key of the extra warm-up (1 bit), p (15 bits), v (12), the stage (16) and m (20: at
    // most (REPLAYED_GROUPS + 1) p)
    if (stages >= 1 << 15 || chunksPerStage >= 1 << 12 || m >= 1 << 20 || extraWarmupChunks > 1) {
      return candidates(stage, m);  // beyond the key's bits: not cached
    }
    long key = ((long) extraWarmupChunks << 63) | ((long) stages << 48) | ((long) chunksPerStage << 36)
        | ((long) stage << 20) | m;
    return PEAK_CANDIDATES.computeIfAbsent(key, k -> candidates(stage, m));
  }

  /** {@link #peakCandidates}, by split; bounded by the splits a process evaluates. */
  private static final java.util.concurrent.ConcurrentHashMap<Long, int[][]> PEAK_CANDIDATES =
      new java.util.concurrent.ConcurrentHashMap<>();

  private int[][] candidates(int stage, int m) {
    int v = chunksPerStage;
    java.util.List<int[]> after = order(stage, m).heldAfterForwards(v);
    java.util.List<int[]> kept = new java.util.ArrayList<>();
    for (int[] a : after) {
      boolean dominated = false;
      for (int[] b : after) {
        if (b != a && dominates(b, a)) {
          dominated = true;
          break;
        }
      }
      if (!dominated && kept.stream().noneMatch(k -> java.util.Arrays.equals(k, a))) {
        kept.add(a);
      }
    }
    return kept.toArray(int[][]::new);
  }

  /** Whether {@code b} holds at least {@code a}'s count of every chunk and more of one. */
  private static boolean dominates(int[] b, int[] a) {
    boolean more = false;
    for (int c = 0; c < a.length; c++) {
      if (b[c] < a[c]) {
        return false;
      }
      more |= b[c] > a[c];
    }
    return more;
  }

  /**
   * Stage {@code stage}'s warm-up forwards in Megatron-Core ({@code get_pp_rank_microbatches})
   * for {@code m} microbatches: 2(p - k - 1) + (v - 1)p with the default
   * {@code microbatch_group_size_per_vp_stage} = p, at most m v; the cool-down runs as many
   * backwards; one more with {@code extraWarmupChunks}.
   */
  int warmupChunks(int stage, int m) {
    return (int) Math.min((long) m * chunksPerStage,
        2L * (stages - stage - 1) + (long) (chunksPerStage - 1) * stages + extraWarmupChunks);
  }

  /** The warm-up forwards ({@link #warmupChunks}, the pairing's extra one included). */
  @Override
  public int a2aUnpairedForwards(int stage) {
    return warmupChunks(stage, microbatches);
  }

  /**
   * Seconds of one step's pipeline transfers that stage {@code stage} waits for when Megatron-Core
   * overlaps them ({@code overlap_p2p_comm}, on by default: Megatron-LM's
   * {@code --no-overlap-p2p-communication} is {@code store_false}). In
   * {@code forward_backward_pipelining_with_interleaving} the warm-up forwards' sends and receives
   * and the cool-down backwards' are blocking ({@code send_forward_recv_forward} and
   * {@code send_backward_recv_backward} without {@code overlap_p2p_comm}, since
   * {@code overlap_p2p_comm_warmup_flush} is off by default); in the steady state each forward's
   * send and the next forward's receive are posted after the forward ({@code pp_post_forward})
   * and waited for before the next forward ({@code pp_pre_forward}), with this step's backward in
   * between, and each backward's transfers likewise behind the next forward. So the
   * {@link #warmupChunks} warm-up and as many cool-down chunks expose their transfers, and each of
   * the m v - warm-up steady-state chunks exposes only what its transfer outlasts the other
   * direction's chunk.
   *
   * @param forwardP2p      one chunk's forward send/receive, seconds
   * @param backwardP2p     one chunk's backward send/receive, seconds
   * @param forwardCompute  one chunk's forward without its transfer, seconds
   * @param backwardCompute one chunk's backward without its transfer, seconds
   */
  public double exposedP2pSeconds(int stage, double forwardP2p, double backwardP2p, double forwardCompute,
                                  double backwardCompute) {
    int warmup = warmupChunks(stage, microbatches);
    long steady = (long) microbatches * chunksPerStage - warmup;
    return warmup * (forwardP2p + backwardP2p) + steady * (Math.max(0, forwardP2p - backwardCompute)
        + Math.max(0, backwardP2p - forwardCompute));
  }

  @Override
  public double referenceInFlightMicrobatches() {
    int p = stages, v = chunksPerStage;
    return Math.min(microbatches, p) * (1 + (p - 1) / (double) (v * p));
  }
}
