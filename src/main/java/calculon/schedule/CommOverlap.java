package calculon.schedule;

/**
 * Communication that runs beside independent compute (on its own links and copy engines, as
 * DualPipe's overlapped forward/backward pairs and Megatron-Core's all-to-all overlap run it):
 * only the part that outlasts the compute stays exposed.
 */
final class CommOverlap {
  private CommOverlap() {}

  /**
   * The fraction of {@code commSeconds} still exposed when it overlaps {@code computeSeconds} of
   * compute that does not wait for it: max(0, comm - compute) / comm (1 when there is no comm).
   */
  static double exposedFraction(double commSeconds, double computeSeconds) {
    return commSeconds > 0 ? Math.max(0, commSeconds - computeSeconds) / commSeconds : 1;
  }

  /**
   * Exposed seconds of a stage's per-block weight all-gathers issued one after another ahead of
   * the forward pass that needs them (Megatron-Core's {@code overlap_param_gather}: a bucket's
   * forward pre-hook waits for its all-gather and starts the next one,
   * {@code megatron/core/distributed/distributed_data_parallel.py}). The stage holds
   * {@code chunks} model chunks of {@code blocksPerChunk} blocks; it runs
   * {@code microbatchesPerChunk} microbatches through a chunk before it first needs the next one
   * (interleaved 1F1B's warm-up runs PP microbatches per chunk; otherwise 1). Block {@code i} of
   * chunk {@code v} is needed after {@code (v m B + i) w} of forward compute and its gather ends at
   * {@code (v B + i + 1) t}; the stall is the largest difference, at least the first gather
   * ({@code t}), which has nothing to hide behind. The gathers after the first ({@code hidden}
   * seconds) also steal {@code processorUsage} of the compute they run beside (the network's
   * {@code processor_usage}, as Calculon's data-parallel overlap charges):
   * {@code stall + usage * min(hidden, compute)}.
   *
   * @param blockSeconds one block's all-gather, seconds (&gt;= 0)
   * @param chunks model chunks on the stage, &gt;= 1
   * @param blocksPerChunk blocks per chunk, &gt;= 1
   * @param microbatchesPerChunk forward microbatches through a chunk before the next chunk's first, &gt;= 1
   * @param blockWindowSeconds one block's forward time the gathers can hide behind, seconds
   * @param computeSeconds compute seconds of the first microbatch's forward pass through the stage
   * @param processorUsage fraction of compute the transfers take, in [0, 1]
   * @return exposed seconds, at least {@code blockSeconds}
   */
  static double prefetchedExposed(double blockSeconds, int chunks, int blocksPerChunk,
      int microbatchesPerChunk, double blockWindowSeconds, double computeSeconds, double processorUsage) {
    double t = blockSeconds, w = blockWindowSeconds;
    int last = chunks - 1, lastBlock = blocksPerChunk - 1;
    double chunkStart = (double) microbatchesPerChunk * blocksPerChunk * w;
    // the stall is linear in the block index and the chunk index: its largest value is at a corner
    double stall = Math.max(
        Math.max(t, (lastBlock + 1) * t - lastBlock * w),
        Math.max(((double) last * blocksPerChunk + 1) * t - last * chunkStart,
            ((double) last * blocksPerChunk + lastBlock + 1) * t - last * chunkStart - lastBlock * w));
    double hidden = ((double) chunks * blocksPerChunk - 1) * t;
    return stall + processorUsage * Math.min(hidden, computeSeconds);
  }
}
