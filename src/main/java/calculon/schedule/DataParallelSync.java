package calculon.schedule;

import static calculon.schedule.BlockStats.BASE;
import static calculon.schedule.BlockStats.BWD;
import static calculon.schedule.BlockStats.EDGE;
import static calculon.schedule.BlockStats.FWD;
import static calculon.schedule.BlockStats.RECOMM;

import calculon.config.Execution;
import calculon.config.FsdpImpl;
import calculon.hardware.Hardware;
import calculon.hardware.Memory;
import calculon.hardware.Network;
import calculon.model.CommGroup;
import calculon.model.Stage;

/**
 * Data-parallel synchronisation of one pipeline stage's weights in one step: the gradient
 * reduction over DP x CP (and, for routed experts, DP_exp), the sharded optimizer's weight
 * all-gather, or ZeRO-3 / FSDP's per-block gathers and reduce-scatters, and how much of that
 * traffic the backward (and, for the all-gather, the forward) compute hides (Calculon's
 * data-parallel overlap: reference {@code _compute_batch_stats}, FORK llm.py:2738-2772 for the
 * windows, :2846-2885 for the traffic; spec section 3.7). Built for one block of the stage
 * ({@link BlockStats}, the stage's average block when its blocks differ) and the stage's layout;
 * {@link #step} gives the step's {@link Traffic}.
 *
 * @param exe           the execution
 * @param hw            the system
 * @param corrected     the corrected model version; false: Calculon-MoE's
 * @param schedule      the execution's pipeline schedule
 * @param b             the stage's (average) block
 * @param blocksPerProc blocks (slots) of the stage
 * @param blocksPerChunk blocks of one model chunk
 * @param chunksPerProc model chunks on the stage (pipeline interleaving)
 * @param baseBlocks    blocks of a chunk without its pipeline transfer ({@code blocksPerChunk - 1})
 * @param edgeBlocks    blocks of a chunk with it (1)
 */
record DataParallelSync(Execution exe, Hardware hw, boolean corrected, PipelineSchedule schedule, BlockStats b,
                        int blocksPerProc, int blocksPerChunk, int chunksPerProc, int baseBlocks, int edgeBlocks) {
  /**
   * One step's data-parallel traffic as the step and its stats count it.
   *
   * @param blockBytes bytes one block synchronises per step (dense and expert together; under
   *                   ZeRO-3 what {@link Zero3#bytesPerBlock} counts), the stats' {@code block_dp_size}
   * @param blockExpertBytes bytes of the routed experts' weights one block synchronises over DP_exp
   *                   (0 without MoE, with DP_exp = 1 and under ZeRO-3, whose {@code blockBytes}
   *                   hold them), {@code block_dp_exp_size}
   * @param linkSeconds seconds the stage's data-parallel collectives occupy their links,
   *                   {@code dp_comm_link_time}
   * @param expertLinkSeconds seconds of the expert (DP_exp) part, {@code dp_exp_comm_link_time}
   * @param exposedSeconds seconds of the traffic the step's compute does not hide (added to the
   *                   step time), {@code dp_comm_exposed_time}
   * @param chunkBandwidthReq bytes per second a chunk's traffic needs to fit in its overlap
   *                   window (0 without overlap; under ZeRO-3 a block's, {@link Zero3}),
   *                   {@code dp_bw_overlap_req_chunk}:
   *                   in the corrected model the bytes the time puts on one link of the DP tier
   *                   (reduction in the gradient datatype, the rail's share, the ring factor; the
   *                   sharded optimizer's gather runs in the forward pass), in Calculon-MoE the
   *                   weight bytes times the DP tier's op scalars
   * @param tailBandwidthReq bytes per second the last chunk's traffic needs to fit in what is
   *                   left of the step (0 without overlap), {@code dp_bw_overlap_req_tail}, the
   *                   same bytes
   */
  record Traffic(double blockBytes, double blockExpertBytes, double linkSeconds, double expertLinkSeconds,
                 double exposedSeconds, double chunkBandwidthReq, double tailBandwidthReq) {}

  /**
   * The step's data-parallel traffic, from the times of the stage's blocks with their exposed
   * communication and offload overhead, in seconds per microbatch: {@code baseFw}/{@code baseBw}
   * a block's forward/backward pass, {@code edgeFw}/{@code edgeBw} the chunk's last block's
   * (its pipeline transfer included), {@code chunkBw} a chunk's backward pass, {@code chunkFwPp}
   * and {@code chunkBwPp} its forward and backward pipeline transfers. Nothing when the
   * execution does not train.
   */
  Traffic step(double baseFw, double edgeFw, double baseBw, double edgeBw, double chunkBw, double chunkFwPp,
      double chunkBwPp) {
    int ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal(), op = Stage.OPTIM.ordinal();
    int pp = exe.pipelinePar(), nm = exe.numMicrobatches();
    boolean training = exe.training();
    double gradMemTime = b.memTime[ag] + b.memTime[wg];
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
    int overlappableChunks = schedule.chunksOverlappingGradientSync();

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
    // corrected model: bytes the reduction and the gather put on one link of their tier (what
    // dpCollective charges it), for the dp_bw_overlap_req statistics
    double blockReduceLinkBytes = 0, blockGatherLinkBytes = 0;
    if (dpPeers > 1 && training && !zero3) {
      blockDpSize = exe.modelMoE() ? b.dpWeightSpace : b.weightSpace;
      int rails = ringRails(dpNet.index(), dpPeers, denseInnerDegree(dpNet.index()));
      double gather = paramGather(dpNet, blockDpSize, dpPeers, rails);
      blockDpTime = gradientReduction(dpNet, blockDpSize, b.dpGradBuffer, dpPeers, rails) + gather;
      blockParamGather += gather;
      if (corrected) {
        blockReduceLinkBytes += reductionLinkBytes(dpNet, blockDpSize, b.dpGradBuffer, dpPeers, rails);
        blockGatherLinkBytes += paramGatherLinkBytes(dpNet, blockDpSize, dpPeers, rails);
      }
    }
    if (exe.modelMoE() && exe.dataParExp() > 1 && training && !zero3) {
      blockDpExpSize = b.expertWeightSpace;
      Network expNet = hw.network(exe.dataParExpNet());
      int rails = ringRails(expNet.index(), exe.dataParExp(), expertInnerDegree(expNet.index()));
      double gather = paramGather(expNet, blockDpExpSize, exe.dataParExp(), rails);
      blockDpExpTime = gradientReduction(expNet, blockDpExpSize, b.expertGradBuffer, exe.dataParExp(), rails) + gather;
      blockParamGather += gather;
      if (corrected) {
        blockReduceLinkBytes += reductionLinkBytes(expNet, blockDpExpSize, b.expertGradBuffer, exe.dataParExp(), rails);
        blockGatherLinkBytes += paramGatherLinkBytes(expNet, blockDpExpSize, exe.dataParExp(), rails);
      }
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
      Zero3 z = zero3(dpNet, dpPeers, zero3Window(baseFw, edgeFw, chunkFwPp, true),
          zero3Window(baseBw, edgeBw, chunkBwPp, false));
      blockDpSize = z.bytesPerBlock;
      dpLink = z.linkSeconds;
      dpExposed = z.exposedSeconds;
      dpReqChunk = z.chunkBandwidthReq;
      dpReqTail = z.tailBandwidthReq;
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
        // Required bandwidth of the window's traffic. Calculon-MoE: the weight bytes (dense and
        // expert) times the DP tier's op scalars. Corrected: the bytes the time charges one link
        // of the DP (and DP_exp) tier: the reduction in the gradient datatype, split over the
        // group's rails, with the ring factor; the gather only when it runs in this window
        double scalar = exe.optimizerSharding()
            ? dpNet.scalar(Network.Op.REDUCE_SCATTER) + dpNet.scalar(Network.Op.ALL_GATHER)
            : dpNet.scalar(Network.Op.ALL_REDUCE);
        double windowLinkBytes = blockReduceLinkBytes + (gatherInForward ? 0 : blockGatherLinkBytes);
        if (chunkOverlapTime > 0) {
          dpReqChunk = corrected ? blocksPerChunk * windowLinkBytes / chunkOverlapTime
              : blocksPerChunk * blockDpSize / chunkOverlapTime * scalar;
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
          dpReqTail = corrected ? blocksPerChunk * windowLinkBytes / tailOverlap
              : blocksPerChunk * blockDpSize / tailOverlap * scalar;
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

    return new Traffic(blockDpSize, blockDpExpSize, dpLink, dpExpLink, dpExposed, dpReqChunk, dpReqTail);
  }

  /**
   * ZeRO-3 traffic of a step: bytes per block and microbatch (per block and step when a pipeline
   * stage holds its blocks gathered), link and exposed seconds, and the bandwidth one link of the
   * DP tier (and of the DP_exp tier, added) needs for a block's traffic to fit in the compute
   * that hides it, in bytes per second ({@code dp_bw_overlap_req_chunk}; the same for
   * {@code dp_bw_overlap_req_tail}, since every block has the same windows; 0 without
   * {@code data_par_overlap}, and for the tail where a pipeline stage reduces its gradients after
   * its last backward pass, which no compute follows).
   */
  record Zero3(double bytesPerBlock, double linkSeconds, double exposedSeconds,
               double chunkBandwidthReq, double tailBandwidthReq) {}

  /**
   * ZeRO-3 / FSDP communication (Rajbhandari et al. 2020, arXiv 1910.02054, Section 7.2.2: 1.5x
   * the data-parallel volume; Zhao et al. 2023, arXiv 2304.11277, Section 3.3): every
   * microbatch all-gathers each block's weights before its forward pass and again before its
   * backward pass, and reduce-scatters its gradients after the backward pass. With
   * {@code data_par_overlap} the gathers are prefetched during the previous block's pass
   * and the reduce-scatter runs during the next block's backward: a block exposes what its
   * window ({@link #zero3Window}) cannot hide, or at least the compute the traffic steals (the
   * network's processor usage), as the data-parallel overlap does. Experts gather over DP_exp on
   * their own tier.
   *
   * <p>Under full recompute the recomputed forward and the backward pass share one gather
   * (Megatron-FSDP, Megatron-LM 1e057005 {@code megatron/core/distributed/custom_fsdp/
   * fully_sharded_data_parallel.py}: {@code _pre_forward_param_unshard} gathers without prefetch
   * when the unit is in {@code PRE_BACKWARD}, {@code _post_forward} keeps it, {@code _pre_backward}
   * finds it gathered), so a block is gathered twice per microbatch with or without recompute.
   * {@code optim_grads_params} reduce-scatters every microbatch ({@code _post_backward}:
   * {@code grad_reduce_every_bprop}), in {@code gradient_datatype} (its {@code main_grad_buffer}
   * is fp32 under {@code grad_reduce_in_fp32}).
   *
   * <p>A pipeline stage ({@link StageMemory#zero3HoldsStage}) gathers each block once, in its
   * first microbatch's forward pass (prefetched as above), keeps it for the step, and
   * reduce-scatters each block's gradients once, after its last backward pass, when no compute
   * is left to hide them ({@code torch.distributed.pipelining}'s {@code run_post_backward}):
   * that reduction is exposed whole.
   *
   * <p>Required bandwidth: the bytes a block's gathers and reduce-scatter put on one link
   * ({@link #linkBytes}: the rail's share, the op's scalar and ring factor) over the window
   * that hides them: the forward gather over a block's forward window, the backward gather
   * and the reduce-scatter over its backward window (recompute included); the larger of the
   * two. Below it the traffic is exposed ({@code dp_comm_exposed_time} grows).
   */
  Zero3 zero3(Network dpNet, int dpPeers, double fwWindow, double bwWindow) {
    double gather = 0, scatter = 0, weightBytes = 0, gradientBytes = 0, pu = dpNet.processorUsage();
    double gatherLinkBytes = 0, scatterLinkBytes = 0;
    if (dpPeers > 1) {
      int rails = ringRails(dpNet.index(), dpPeers, denseInnerDegree(dpNet.index()));
      gather += dpCollective(dpNet, Network.Op.ALL_GATHER, b.dpWeightSpace, dpPeers, rails);
      scatter += dpCollective(dpNet, Network.Op.REDUCE_SCATTER, b.dpGradBuffer, dpPeers, rails);
      gatherLinkBytes += linkBytes(dpNet, Network.Op.ALL_GATHER, b.dpWeightSpace, dpPeers, rails);
      scatterLinkBytes += linkBytes(dpNet, Network.Op.REDUCE_SCATTER, b.dpGradBuffer, dpPeers, rails);
      weightBytes += b.dpWeightSpace;
      gradientBytes += b.dpGradBuffer;
    }
    if (exe.modelMoE() && exe.dataParExp() > 1) {
      Network expNet = hw.network(exe.dataParExpNet());
      int rails = ringRails(expNet.index(), exe.dataParExp(), expertInnerDegree(expNet.index()));
      gather += dpCollective(expNet, Network.Op.ALL_GATHER, b.expertWeightSpace, exe.dataParExp(), rails);
      scatter += dpCollective(expNet, Network.Op.REDUCE_SCATTER, b.expertGradBuffer, exe.dataParExp(), rails);
      gatherLinkBytes += linkBytes(expNet, Network.Op.ALL_GATHER, b.expertWeightSpace, exe.dataParExp(), rails);
      scatterLinkBytes += linkBytes(expNet, Network.Op.REDUCE_SCATTER, b.expertGradBuffer, exe.dataParExp(), rails);
      weightBytes += b.expertWeightSpace;
      gradientBytes += b.expertGradBuffer;
    }
    boolean overlap = exe.dataParOverlap();
    // the forward pass's gather, prefetched behind the previous block's forward pass
    double exposedGather = overlap ? Math.max(gather - fwWindow, gather * pu) : gather;
    double gatherReq = overlap ? requiredBandwidth(gatherLinkBytes, fwWindow) : 0;
    if (StageMemory.zero3HoldsStage(exe.zeroStage(), exe.pipelinePar())) {
      return new Zero3(weightBytes + gradientBytes, blocksPerProc * (gather + scatter),
          blocksPerProc * (exposedGather + scatter), gatherReq, 0);
    }
    double perBlock = 2 * gather + scatter;
    double exposedPerBlock = perBlock;
    double req = 0;
    if (overlap) {
      exposedPerBlock = exposedGather + Math.max(gather + scatter - bwWindow, (gather + scatter) * pu);
      req = Math.max(gatherReq, requiredBandwidth(gatherLinkBytes + scatterLinkBytes, bwWindow));
    }
    double blockVisits = (double) exe.numMicrobatches() * blocksPerProc;
    return new Zero3(2 * weightBytes + gradientBytes, blockVisits * perBlock, blockVisits * exposedPerBlock,
        req, req);
  }

  /**
   * Seconds of one block's pass (the stage's average block: base and edge blocks weighted by
   * their counts) that hide its ZeRO-3 collectives: the block's time with its exposed
   * communication ({@code base}/{@code edge}, the pipeline transfer {@code edgePp} in the edge
   * block's), less its HBM-bound time and less whatever else the pass puts on a tier the
   * gathers and reduce-scatters cross (TP, EP, ES and CP link times, the pipeline transfer);
   * never below 0. The forward window ({@code forward} true) is the forward pass, the backward
   * window the recomputation and the backward pass.
   *
   * <p>These are the windows of the model's other data-parallel overlap (Calculon's backward
   * window, FORK llm.py:2738-2772, and the forward one of {@link #paramGatherExposed}), because
   * FSDP's collectives run beside everything on the compute stream, not only its matrix
   * products: Megatron-FSDP (Megatron-LM 1e057005, {@code megatron/core/distributed/custom_fsdp/
   * param_and_grad_buffer.py}) issues each gather asynchronously on the DP group's NCCL stream
   * ({@code AllGatherPipeline.all_gather_params} with {@code async_op=True}, one FSDP unit ahead:
   * {@code suggested_communication_unit_size} is twice a unit's elements) and each
   * reduce-scatter on a side stream ({@code GradReducePipeline._mark_bucket_ready}); the compute
   * stream waits for a gather only in {@code wait_bucket_ready}, before the unit that needs it.
   * So the expert dispatch and combine and the TP collectives of the pass, on NVLink when the
   * collectives cross nodes, hide them as much as the GEMMs do. PyTorch's FSDP2 does the same on
   * its own streams ({@code FSDPParamGroup.unshard} on {@code all_gather_stream},
   * {@code wait_for_unshard}).
   */
  double zero3Window(double base, double edge, double edgePp, boolean forward) {
    int fw = Stage.FW.ordinal(), ag = Stage.AGRAD.ordinal(), wg = Stage.WGRAD.ordinal();
    double memTime = forward ? b.memTime[fw] : b.memTime[ag] + b.memTime[wg] + b.reMemTime;
    double baseWindow = base - memTime, edgeWindow = edge - memTime;
    int[] tiers = {exe.tensorParNet(), exe.expertParNet(), exe.expertSliceNet(), exe.contextParNet()};
    for (int i = 0; i < ZERO3_WINDOW_GROUPS.length; i++) {
      if (!carriesZero3Traffic(tiers[i])) {
        continue;
      }
      CommGroup group = ZERO3_WINDOW_GROUPS[i];
      for (int pass : forward ? FORWARD_PASSES : BACKWARD_PASSES) {
        baseWindow -= b.linkTime(group, pass, BASE);
        edgeWindow -= b.linkTime(group, pass, EDGE);
      }
    }
    if (carriesZero3Traffic(exe.pipelineParNet())) {
      edgeWindow -= edgePp;
    }
    return Math.max(0, (baseBlocks * baseWindow + edgeBlocks * edgeWindow) / blocksPerChunk);
  }

  /** The groups whose traffic {@link #zero3Window} takes out of a window, in the order of its tiers. */
  private static final CommGroup[] ZERO3_WINDOW_GROUPS = {CommGroup.TP, CommGroup.EP, CommGroup.ES, CommGroup.CP};
  /** The passes of the forward and the backward windows ({@link BlockStats#linkTime}'s pass indices). */
  private static final int[] FORWARD_PASSES = {FWD}, BACKWARD_PASSES = {RECOMM, BWD};

  /** Whether ZeRO-3's gathers or reduce-scatters cross network tier {@code tier}: DP x CP's, or DP_exp's with MoE. */
  private boolean carriesZero3Traffic(int tier) {
    boolean dense = exe.dataPar() * exe.contextPar() > 1
        && tier == (exe.dataPar() > 1 || exe.contextPar() == 1 ? exe.dataParNet() : exe.contextParNet());
    boolean experts = exe.modelMoE() && exe.dataParExp() > 1 && tier == exe.dataParExpNet();
    return dense || experts;
  }

  /**
   * What PyTorch's FSDP2 copies around its collectives on the compute stream in one step of the
   * stage, by pass: HBM bytes and the seconds they take at the first memory tier's rate, each
   * copy one memory-bound kernel that the compute stream runs (or waits for) between the blocks'
   * compute, so nothing hides it.
   *
   * @param forwardBytes    bytes the forward passes' copies move
   * @param backwardBytes   bytes the backward passes' copies move
   * @param forwardSeconds  their seconds, added to the step's forward time
   * @param backwardSeconds their seconds, added to the step's backward time
   */
  record FsdpCopies(double forwardBytes, double backwardBytes, double forwardSeconds, double backwardSeconds) {
    static final FsdpCopies NONE = new FsdpCopies(0, 0, 0, 0);

    /** Seconds of both passes: {@code fsdp_copy_time}. */
    double seconds() { return forwardSeconds + backwardSeconds; }
  }

  /**
   * The copies of PyTorch's FSDP2 ({@code fsdp_impl: pytorch}, ZeRO stage 3, corrected model)
   * that run on the compute stream or hold it, in the torch versions of the torchtitan
   * benchmarks (torch 1963fc8, 2024-12, and 38410cf, 2025-06; torch/distributed/fsdp/_fully_shard/,
   * earlier torch/distributed/_composable/fsdp/). W is a block's weights in their stored datatype
   * (what the all-gather moves), g its weight gradients in the compute datatype (what autograd
   * writes for the 16-bit unsharded parameters) and G in {@code gradient_datatype} (FSDP2's
   * {@code reduce_dtype}):
   * <ul>
   *   <li>each all-gather's copy-out, 2W: {@code FSDPParamGroup.wait_for_unshard} calls
   *       {@code foreach_all_gather_copy_out} on the current (compute) stream after it waits for
   *       the gather, and {@code torch.split_with_sizes_copy} reads the flat output and writes
   *       every parameter;</li>
   *   <li>each reduce-scatter's copy-in, g + G: {@code foreach_reduce} runs
   *       {@code foreach_reduce_scatter_copy_in} ({@code torch._chunk_cat} into the
   *       reduce-datatype input) on the compute stream (since pytorch/pytorch#129721, 2024-06;
   *       before it ran on the reduce-scatter stream, which the compute stream then waited for);
   *       the model's weight-gradient pass already writes G per parameter, the GEMM's own output,
   *       so this counts the kernel after it;</li>
   *   <li>with a pipeline stage ({@link StageMemory#zero3HoldsStage}: one gather per step, the
   *       reduction after the last microbatch, {@code set_requires_gradient_sync(False)} before),
   *       {@code FSDPParamGroup.post_backward} keeps the unsharded gradients in the reduce
   *       datatype: the first microbatch casts g to G ({@code FSDPParam.to_accumulated_grad_if_needed},
   *       g + G; nothing when g and G are one datatype, where autograd adds into the gradient
   *       itself), every later one adds its g into it ({@code accumulate_unsharded_grad_if_needed},
   *       G + g + G), and the copy-in then reads G and writes G.</li>
   * </ul>
   * Not charged, because they run beside the compute on FSDP2's side streams on this rank's
   * shard (1/(DP x CP) of these bytes) or once a step on it: the all-gather copy-in
   * ({@code foreach_all_gather} on {@code all_gather_copy_in_stream}: the fp32 shard cast to bf16
   * and copied into the gather's input; torchao's float8 {@code fsdp_pre_all_gather} cast of the
   * shard is the same kernel's input), the reduce-scatter output's accumulation into the sharded
   * gradient (on the reduce-scatter stream), the post-reduce division (none for fp32 and bf16
   * reductions: {@code _get_gradient_divide_factors} lets NCCL average) and torchao's
   * {@code precompute_float8_dynamic_scale_for_fsdp} (one amax read of the fp32 shard per step).
   * torchao's {@code fsdp_post_all_gather} wraps the gathered float8 data without copying it.
   *
   * <p>The counts follow {@link #zero3}'s: two gathers and one reduce-scatter per block and
   * microbatch (torchtitan keeps the last block and the root module gathered after forward, which
   * both count as the others).
   *
   * @return the step's copies; {@link FsdpCopies#NONE} for another ZeRO stage, another FSDP,
   *         the calculon-moe model, a run that does not train, or a DP x CP group of one rank
   */
  FsdpCopies fsdpCopies() {
    int dpPeers = exe.dataPar() * exe.contextPar();
    boolean expertShards = exe.modelMoE() && exe.dataParExp() > 1;
    if (!corrected || !exe.training() || exe.zeroStage() < 3 || (dpPeers < 2 && !expertShards)
        || exe.layerOptions().fsdpImpl() != FsdpImpl.PYTORCH) {
      return FsdpCopies.NONE;
    }
    Memory hbm = hw.mem1();
    double w = b.weightSpace;                              // the gathered weights, stored datatype
    double g = b.computeDtypeGradBytes;                    // autograd's gradients, compute datatype
    double bigG = b.dpGradBuffer + b.expertGradBuffer;     // the reduce datatype's
    double copyOut = COPY_PASSES * w;                      // split_with_sizes_copy: read and write
    double nm = exe.numMicrobatches();
    if (StageMemory.zero3HoldsStage(exe.zeroStage(), exe.pipelinePar())) {
      // one gather and one reduction per block and step; over several microbatches the
      // gradients accumulate in the reduce datatype in between
      boolean accumulates = nm > 1;
      double first = accumulates && g != bigG ? g + bigG : 0;
      double later = bigG + g + bigG;
      double copyIn = accumulates ? COPY_PASSES * bigG : g + bigG;
      double fwBytes = blocksPerProc * copyOut;
      double bwBytes = blocksPerProc * (first + (nm - 1) * later + copyIn);
      double bwSeconds = blocksPerProc * (seconds(hbm, first) + (nm - 1) * seconds(hbm, later)
          + seconds(hbm, copyIn));
      return new FsdpCopies(fwBytes, bwBytes, blocksPerProc * seconds(hbm, copyOut), bwSeconds);
    }
    double visits = nm * blocksPerProc;
    double copyIn = g + bigG;
    return new FsdpCopies(visits * copyOut, visits * (copyOut + copyIn), visits * seconds(hbm, copyOut),
        visits * (seconds(hbm, copyOut) + seconds(hbm, copyIn)));
  }

  /** Passes of a plain copy over its bytes: one read, one write. */
  static final double COPY_PASSES = 2;

  /** Seconds one memory-bound kernel moving {@code bytes} takes; 0 for none. */
  private static double seconds(Memory hbm, double bytes) {
    return bytes > 0 ? hbm.time(bytes) : 0;
  }

  /** Bytes per second that move {@code linkBytes} in {@code windowSeconds}; 0 when either is 0. */
  static double requiredBandwidth(double linkBytes, double windowSeconds) {
    return linkBytes > 0 && windowSeconds > 0 ? linkBytes / windowSeconds : 0;
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
    int perChunk = schedule instanceof Interleaved ? Math.min(exe.pipelinePar(), exe.numMicrobatches()) : 1;
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
    return dpCollective(net, reductionOp(), reducedBytes(weightBytes, gradientBytes), peers, rails);
  }

  /** The gradient reduction's collective: a reduce-scatter under optimizer sharding, else an all-reduce. */
  Network.Op reductionOp() {
    return exe.optimizerSharding() ? Network.Op.REDUCE_SCATTER : Network.Op.ALL_REDUCE;
  }

  /** Bytes the gradient reduction moves: the gradient buffer (corrected), the weights (Calculon-MoE). */
  double reducedBytes(double weightBytes, double gradientBytes) {
    return corrected ? gradientBytes : weightBytes;
  }

  /** Bytes {@link #gradientReduction} puts on one link of {@code net} ({@link #linkBytes}). */
  double reductionLinkBytes(Network net, double weightBytes, double gradientBytes, int peers, int rails) {
    return linkBytes(net, reductionOp(), reducedBytes(weightBytes, gradientBytes), peers, rails);
  }

  /** Bytes {@link #paramGather} puts on one link of {@code net}; 0 without sharding. */
  double paramGatherLinkBytes(Network net, double weightBytes, int peers, int rails) {
    return exe.optimizerSharding() ? linkBytes(net, Network.Op.ALL_GATHER, weightBytes, peers, rails) : 0;
  }

  /**
   * Bytes a {@link #dpCollective} of {@code bytes} puts on each member's link of {@code net}: its
   * rail's share {@code bytes/rails}, times the op's scalar and ring factor
   * ({@link Network#wireBytes}); the hops inside a domain carry the rest on the tier below.
   */
  double linkBytes(Network net, Network.Op op, double bytes, int peers, int rails) {
    return net.wireBytes(op, bytes / rails, peers);
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
}
