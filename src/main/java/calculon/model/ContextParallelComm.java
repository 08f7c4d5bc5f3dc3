package calculon.model;

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
 *       exposed; the backward pass gathers them again the same way and passes the key/value
 *       gradients around the ring (PyTorch's backward always rotates them point to point),
 *       overlapped with the other CP - 1 blocks' backward. The causal mask is load-balanced as
 *       with the ring.</li>
 * </ul>
 * Recomputed attention (selective or full recompute) repeats the forward exchange.
 */
public final class ContextParallelComm extends Layer {
  /** All-to-alls per pass under Ulysses: Q, K, V in, the attention output back (Jacobs et al. 2023, Fig. 2). */
  static final int ULYSSES_ALL_TO_ALLS = 4;
  /** Ring-attention backward transfers per forward transfer: the KV block and its gradient (Liu et al. 2023). */
  static final int RING_BACKWARD_FACTOR = 2;

  private final CpCommType type;
  private final Network net;
  private final int cp;
  private final double kvElements, qElements, outElements;
  private final List<Layer> hiders;

  /**
   * @param kvElements  elements of the rank's keys and values for one microbatch (its s/CP tokens)
   * @param qElements   elements of the rank's queries
   * @param outElements elements of the rank's attention output (before the output projection)
   * @param hiders      the attention-core layers whose compute hides the ring transfers
   */
  ContextParallelComm(String name, CpCommType type, Network net, int cp, double kvElements,
                      double qElements, double outElements, List<Layer> hiders) {
    super(name, CommGroup.CP);
    this.type = type;
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

  private double factor(Stage s) {
    switch (s) {
      case FW: case WGRAD: return 1; // WGRAD: the recomputed forward's exchange
      // the ring's blocks and their gradients; the all-gather again and the gradients' ring
      case AGRAD: return type == CpCommType.A2A ? 1 : RING_BACKWARD_FACTOR;
      default: return 0;
    }
  }

  @Override public double commBytes(Stage s, boolean baseBlock) { return factor(s) * forwardBytes(); }

  @Override public double netTime(Stage s, boolean baseBlock) {
    if (type == CpCommType.ALL_GATHER && s == Stage.AGRAD) {
      return gatherSeconds() + ringSeconds();
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
    if (type == CpCommType.ALL_GATHER) {
      // the gather hides behind the own block's attention only (1/CP of it); backward, the
      // gradients' ring behind the other blocks'
      double gather = Math.max(0, gatherSeconds() - compute / cp);
      return s == Stage.AGRAD ? gather + Math.max(0, ringSeconds() - compute * (cp - 1) / cp) : gather;
    }
    return Math.max(0, link - compute);
  }

  @Override public double requiredBandwidth(Stage s, boolean baseBlock) { return 0; }
}
