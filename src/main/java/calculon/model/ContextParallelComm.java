package calculon.model;

import calculon.config.ContextParallelImpl;
import calculon.config.CpCommType;
import calculon.hardware.Network;
import java.util.List;

/**
 * The keys and values a context-parallel rank lacks, per block and microbatch. With context
 * parallelism (CP ranks each holding s/CP tokens of every sequence) attention still needs every
 * key and value; everything else is token-wise and runs on the rank's tokens alone.
 *
 * <ul>
 *   <li>{@code p2p}, ring attention (Liu et al. 2023, arXiv 2310.01889, Section 3; Megatron-Core
 *       {@code cp_comm_type="p2p"}): the ranks pass their KV block around the ring, CP - 1
 *       point-to-point transfers per layer in the forward pass, each overlapped with the attention
 *       of the block received before; the backward pass passes the KV blocks and their gradients,
 *       twice as many transfers, overlapped with the attention's backward. What the attention
 *       compute cannot hide is exposed. The causal mask is load-balanced (each rank holds two
 *       chunks, one from each end), so every rank does 1/CP of the attention flops.</li>
 *   <li>{@code a2a}, DeepSpeed-Ulysses (Jacobs et al. 2023, arXiv 2309.14509, Section 3.1): four
 *       all-to-alls per layer forward (Q, K, V to a head split, the output back to the sequence
 *       split) and four backward, on the critical path; each moves the rank's tokens of that
 *       tensor.</li>
 *   <li>{@code all_gather} (Llama 3 paper, arXiv 2407.21783, Section 3.3.2; Megatron-Core
 *       {@code cp_comm_type="all_gather"}; PyTorch's {@code _AllGatherRotater} in
 *       torch/distributed/tensor/experimental/_attention.py, torchtitan's default): one all-gather of
 *       every rank's keys and values per layer, which only the attention of the rank's own block
 *       can hide (PyTorch issues it before that block and waits for it after; the Llama 3 paper:
 *       "exposed in the critical path"), so everything beyond 1/CP of the attention compute is
 *       exposed; the backward pass gathers them again the same way. The causal mask is
 *       load-balanced as with the ring.</li>
 * </ul>
 * The key/value gradients go back by {@code context_par_impl}:
 * <ul>
 *   <li>{@code transformer_engine}, {@code p2p} ({@code AttnFuncWithCPAndKVP2P.backward}): CP - 1
 *       transfers of the gradient block in the activation datatype, beside the KV ring's, both
 *       hidden behind the attention's backward.</li>
 *   <li>{@code transformer_engine}, {@code all_gather} ({@code AttnFuncWithCPAndKVAllGather.backward},
 *       transformer_engine/pytorch/attention.py): the gathered dK and dV (CP blocks, activation
 *       datatype) are {@code reduce_scatter_along_first_dim}-ed over the CP group on the current
 *       stream after both chunks' attention backward: one reduce-scatter, exposed in full.</li>
 *   <li>{@code pytorch}, either rotate method ({@code _templated_ring_attention_backward}, torch
 *       2.6): the gradients always travel the ring ({@code dkv_rotater}, {@code _RotateMethod.ALL_TO_ALL})
 *       in the fp32 accumulators ({@code _cp_options.convert_to_f32}, default true: 4 bytes per
 *       element), one {@code exchange_buffers} at the end of each of the CP steps, the last
 *       bringing them home ({@code dkv_rotater.next_buffer()} after the loop): CP transfers, the
 *       first CP - 1 hidden behind the steps after the first (the whole backward with the ring,
 *       whose KV transfers share it; (CP - 1)/CP of it with the all-gather), the last exposed.</li>
 * </ul>
 * Recomputed attention (selective or full recompute) repeats the forward exchange.
 */
public final class ContextParallelComm extends Layer {
  /** All-to-alls per pass under Ulysses: Q, K, V in, the attention output back (Jacobs et al. 2023, Fig. 2). */
  static final int ULYSSES_ALL_TO_ALLS = 4;
  /** Ring-attention backward transfers per forward transfer: the KV block and its gradient (Liu et al. 2023). */
  static final int RING_BACKWARD_FACTOR = 2;
  /**
   * Bytes per key/value-gradient element PyTorch's ring passes: fp32, its accumulators' datatype
   * ({@code _templated_ring_attention_backward}, {@code _cp_options.convert_to_f32} default true).
   */
  static final double PYTORCH_GRAD_BYTES = 4;

  private final CpCommType type;
  /** Whose CP backward sends the key/value gradients: PyTorch's fp32 ring or Transformer Engine's. */
  private final ContextParallelImpl impl;
  private final Network net;
  private final int cp;
  private final double kvElements, qElements, outElements;
  private final List<Layer> hiders;

  /**
   * @param kvElements  elements of the rank's keys and values for one microbatch (its s/CP tokens)
   * @param qElements   elements of the rank's queries
   * @param outElements elements of the rank's attention output (before the output projection)
   * @param hiders      the attention-core layers whose compute hides the ring transfers
   * @param impl       whose context parallelism runs ({@code context_par_impl}): how the key/value
   *                   gradients go back
   */
  ContextParallelComm(String name, CpCommType type, Network net, int cp, double kvElements,
                      double qElements, double outElements, List<Layer> hiders, ContextParallelImpl impl) {
    super(name, CommGroup.CP);
    this.type = type;
    this.impl = type == CpCommType.A2A ? ContextParallelImpl.TRANSFORMER_ENGINE : impl;
    this.net = net;
    this.cp = cp;
    this.kvElements = kvElements;
    this.qElements = qElements;
    this.outElements = outElements;
    this.hiders = List.copyOf(hiders);
  }

  /** Forward bytes: CP - 1 KV blocks around the ring, or the four Ulysses all-to-alls. */
  private double forwardBytes() {
    if (type != CpCommType.A2A) {
      // the ring's CP - 1 blocks, or what the all-gather brings in: the same bytes per rank
      return (cp - 1) * kvElements * bytesPerElement;
    }
    return (qElements + kvElements + outElements) * bytesPerElement;
  }

  private double forwardSeconds() {
    if (type == CpCommType.P2P) {
      return ringSeconds();
    }
    if (type == CpCommType.ALL_GATHER) {
      return gatherSeconds();
    }
    double kvHalf = kvElements / 2 * bytesPerElement;
    return net.time(Network.Op.ALL_TO_ALL, qElements * bytesPerElement, cp)
        + 2 * net.time(Network.Op.ALL_TO_ALL, kvHalf, cp)
        + net.time(Network.Op.ALL_TO_ALL, outElements * bytesPerElement, cp);
  }

  /** CP - 1 point-to-point transfers of one KV block. */
  private double ringSeconds() {
    return (cp - 1) * net.time(Network.Op.P2P, kvElements * bytesPerElement, 2);
  }

  /** One all-gather of CP ranks' KV blocks (the gathered size: CP blocks). */
  private double gatherSeconds() {
    return net.time(Network.Op.ALL_GATHER, cp * kvElements * bytesPerElement, cp);
  }

  /** One reduce-scatter of the gathered K/V gradients (the full size: CP blocks; TE all_gather). */
  private double reduceScatterSeconds() {
    return net.time(Network.Op.REDUCE_SCATTER, cp * kvElements * bytesPerElement, cp);
  }

  /** One point-to-point transfer of PyTorch's fp32 K/V-gradient block. */
  private double pytorchGradSeconds() {
    return net.time(Network.Op.P2P, kvElements * PYTORCH_GRAD_BYTES, 2);
  }

  private boolean pytorch() { return impl == ContextParallelImpl.PYTORCH; }

  private double factor(Stage s) {
    switch (s) {
      case FW: case WGRAD: return 1; // WGRAD: the recomputed forward's exchange
      // the ring's blocks and their gradients; the all-gather again and the gradients' reduce-scatter
      case AGRAD: return type == CpCommType.A2A ? 1 : RING_BACKWARD_FACTOR;
      default: return 0;
    }
  }

  @Override public double commBytes(Stage s, boolean baseBlock) {
    if (s == Stage.AGRAD && pytorch()) {
      // the KV exchange again, then CP fp32 gradient blocks around the ring
      return forwardBytes() + cp * kvElements * PYTORCH_GRAD_BYTES;
    }
    // TE: the ring's CP - 1 gradient blocks, or what each rank sends in the reduce-scatter: the same bytes
    return factor(s) * forwardBytes();
  }

  @Override public double netTime(Stage s, boolean baseBlock) {
    if (s == Stage.AGRAD && pytorch()) {
      return forwardSeconds() + cp * pytorchGradSeconds();
    }
    if (type == CpCommType.ALL_GATHER && s == Stage.AGRAD) {
      return gatherSeconds() + reduceScatterSeconds();
    }
    return factor(s) * forwardSeconds();
  }

  @Override public double exposedNetTime(Stage s, boolean baseBlock) {
    double link = netTime(s, baseBlock);
    if (type == CpCommType.A2A || link == 0) {
      return link;
    }
    double compute = 0;
    for (Layer l : hiders) {
      compute += s == Stage.AGRAD ? l.processingTime(Stage.AGRAD) + l.processingTime(Stage.WGRAD)
          : l.processingTime(Stage.FW);
    }
    if (s == Stage.AGRAD && pytorch()) {
      // CP gradient transfers: the first CP - 1 behind the later steps, the last (home) after them
      double grad = pytorchGradSeconds();
      if (type == CpCommType.ALL_GATHER) {
        return Math.max(0, gatherSeconds() - compute / cp)
            + Math.max(0, (cp - 1) * grad - compute * (cp - 1) / cp) + grad;
      }
      return Math.max(0, ringSeconds() + (cp - 1) * grad - compute) + grad;
    }
    if (type == CpCommType.ALL_GATHER) {
      // the gather hides behind the own block's attention only (1/CP of it); backward, TE's
      // reduce-scatter of the gradients follows all the attention: exposed
      double gather = Math.max(0, gatherSeconds() - compute / cp);
      return s == Stage.AGRAD ? gather + reduceScatterSeconds() : gather;
    }
    return Math.max(0, link - compute);
  }

  @Override public double requiredBandwidth(Stage s, boolean baseBlock) { return 0; }
}
