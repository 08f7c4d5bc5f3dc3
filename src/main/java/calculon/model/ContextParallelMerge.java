package calculon.model;

import calculon.config.ContextParallelImpl;
import calculon.config.CpCommType;

/**
 * The element-wise work between the attention calls of context parallelism, per block and
 * microbatch (corrected model, {@code context_par} &gt; 1 with a fused attention kernel): merging
 * each CP step's partial output forward and accumulating each step's gradients backward. Both
 * frameworks run it on the compute stream between the steps' attention kernels, so no
 * communication hides it; it is memory-bound and charged by its HBM bytes. It stores nothing.
 *
 * <p>Notation, for the rank's own tokens (s / CP of them) of one microbatch: E the attention
 * output's elements (rows x value width), R its rows (microbatch x query heads on the rank x
 * s / CP: the logsumexp's elements), Q the queries' elements, K the keys' and values' elements as
 * the kernel sees them (the KV heads, or every query head under {@code repeat_kv}); a the
 * activation bytes, F = 4 (fp32), D = 8 (fp64); n = CP - 1 the steps after the first. Causal
 * load balancing (each rank holds chunks r and 2 CP - 1 - r) makes every step after the first
 * either a full-query step with half the keys (step i &le; rank r) or a half-query step with all
 * keys (i &gt; r): r of the n steps are the first kind, so over the ranks half of them, and a later
 * step touches 3/4 of the rows (or of K) on average. Counted per element read or written, each
 * tensor once per kernel.
 *
 * <p><b>PyTorch</b> ({@code context_par_impl: pytorch}; torch/distributed/tensor/experimental/
 * _attention.py as of torch 2.6, the torch of torchtitan's end-2024 benchmarks, commit 1963fc8):
 * <ul>
 *   <li>{@code _templated_ring_attention}: {@code key.contiguous()} and {@code value.contiguous()}
 *       (2aK: torchtitan hands SDPA transposed heads), and before each of the first n steps
 *       {@code torch.cat([key.flatten(), value.flatten()])} for the rotater (2aK each; the
 *       {@code _AllGatherRotater} gathers only the first, the ring's {@code _AllToAllRotater}
 *       permutes each).</li>
 *   <li>{@code _SDPAMerger.step} with {@code _cp_options.convert_to_f32} (default true): every
 *       step's output cast to fp32 ((a + F) E; the flash kernel's logsumexp is fp32 already);
 *       {@code _merge_one} for each later step: {@code out - sigmoid(block_lse - lse) * (out -
 *       block_out)} and {@code lse - logsigmoid(lse - block_lse)}, eight eager kernels: 8F E +
 *       14F R on a full-query step; on a half-query step the same on half the rows plus
 *       {@code _partial_update}'s {@code torch.cat} of both halves (2F E + 2F R), 6F E + 9F R;
 *       on average 7F E + 11.5F R. {@code results}: the cast back, (F + a) E.</li>
 *   <li>{@code _templated_ring_attention_backward}: the contiguous copies and the n K/V cats again
 *       (2aK + 2naK); {@code zeros_like} fp32 accumulators for dq, dk, dv (F (Q + K)); each step
 *       adds the kernel's 16-bit gradients into them ((2F + a) per element), a half-query step
 *       into half of dq and a half-key step into half of dk/dv, each followed by
 *       {@code _partial_update}'s cat (2F per element of the whole tensor): (2F + a)(Q + K)(1 +
 *       3n/4) + nF (Q + K); {@code torch.cat([grad_key.flatten(), grad_value.flatten()])} of the
 *       fp32 K/V gradients for the rotation every step (2F K each); the casts back to 16 bits
 *       ((F + a)(Q + K)).</li>
 * </ul>
 * That is eager PyTorch ({@code elementwise_kernels: eager}). Under torch.compile
 * ({@code elementwise_kernels: fused}: torchtitan compiles each block with
 * {@code fullgraph=True}, and the DTensor dispatch of the patched SDPA is traced into the graph)
 * each step's element-wise ops are one generated kernel that reads its inputs and writes its
 * outputs once: the first step's fp32 copy ((a + F) E), a later step (a + 2F) E + 3F R on a
 * full-query step, (a/2 + 2F) E + 2.5F R on a half-query one (the cat copies the untouched half),
 * the cast back ((F + a) E); backward each accumulator written by its first step ((a + F)(Q + K)),
 * a later step (3a/4 + 2F)(Q + K) on average (the rotation's cat is the add's output), the casts
 * back ((F + a)(Q + K)); the K/V cats stay (n of them for the ring, one for the all-gather, 2aK
 * each, both passes), the contiguous copies fuse into their producers.
 *
 * <p><b>Transformer Engine</b> ({@code transformer_engine}, the default; transformer_engine/
 * pytorch/attention.py, Megatron-Core's {@code cp_comm_type}, sbhd layout):
 * <ul>
 *   <li>{@code p2p}, {@code AttnFuncWithCPAndKVP2P.forward}: {@code out = torch.zeros_like(q)}
 *       (a E; the output is accumulated in the activation datatype);
 *       {@code flash_attn_fwd_out_correction} (a fused TorchScript kernel) for every step, the
 *       first included: reads the step's output, reads and writes {@code out}, reads two
 *       logsumexps: (3a E + 2F R) x (1 + 3n/4); {@code flash_attn_fwd_softmax_lse_correction} for
 *       each later step on the fp64 logsumexp ((2D + F) R x 3n/4), its fp64 clone and the cast
 *       back (2 (F + D) R). Backward: the K/V copy into the first communication buffer (2aK);
 *       {@code dq.add_(dq_)} and {@code dkv.add_(dkv_)} in the activation datatype (3a per
 *       element; the first step's copy is counted as an add) on the step's share: 3a (Q + K)(1 +
 *       3n/4).</li>
 *   <li>{@code all_gather}, {@code AttnFuncWithCPAndKVAllGather}: two attention calls (the rank's
 *       two chunks against the gathered keys), no merge; forward the reordering
 *       {@code index_select} of the gathered K and V (2a CP K) and each chunk's output copied into
 *       {@code out} (2a E); backward the reordering again (2a CP K), the zeroed gathered dk, dv
 *       (a CP K), each chunk's dk, dv added over its causal key range (the chunks reach (r + 1) and
 *       (2 CP - r) half-chunks of keys, CP + 1/2 local K together: 3a (CP + 1/2) K), the reordering
 *       before their reduce-scatter (2a CP K) and the chunks' dq copied into dq (2a Q).</li>
 *   <li>{@code a2a}, {@code AttnFuncWithCPAndQKVOA2A}: one attention call on the gathered
 *       sequence: nothing to merge (the all-to-alls' reorders are not counted here).</li>
 * </ul>
 * Flops: a merge step's subtraction, product and sum per merged output element (PyTorch) or its
 * product and sum (TE), one add per accumulated gradient element; they are overhead, not model
 * flops ({@link #usefulFlops} is 0).
 *
 * <p><b>Working memory</b> (PyTorch only; {@link #activation}): the buffers the ring holds while
 * its attention calls run, which the block's working space must hold beside the layers' inputs.
 * They are transient (nothing is kept for the backward pass), so they enter the block's working
 * space once and never its stored activations. Counted from the same code:
 * <ul>
 *   <li>the keys and values the steps read: with {@code all_gather}, {@code _AllGatherRotater}'s
 *       {@code _aggregated_buffer} ({@code ft_c.all_gather_tensor} of every rank's K/V cat), held
 *       by the rotater until the function returns: a CP K; with {@code p2p},
 *       {@code _AllToAllRotater}: the block in use, the cat being sent and the block arriving,
 *       3a K;</li>
 *   <li>forward, {@code _SDPAMerger}'s fp32 output and logsumexp: F (E + R);</li>
 *   <li>backward ({@code _templated_ring_attention_backward}, the pass that sets the peak), the
 *       fp32 accumulators {@code grad_query} (F Q) and {@code grad_key}, {@code grad_value}
 *       (F K), and the {@code dkv_rotater}'s fp32 cat in flight and the block arriving (2F K):
 *       F (Q + 3K).</li>
 * </ul>
 * Training takes the larger of the two passes' sets (the backward's), inference the forward's.
 * The kernels' own scratch (the flash backward's fp32 dq accumulator) and each step's 16-bit
 * gradients are not counted, as no fused-attention row counts its kernel's scratch. Transformer
 * Engine's buffers are not counted here (not audited for memory).
 */
public final class ContextParallelMerge extends Layer {
  /** Bytes of an fp32 element. */
  static final double F = 4;
  /** Bytes of an fp64 element (TE keeps the merged logsumexp in double). */
  static final double D = 8;
  /** Share of a later step's rows (or keys) a load-balanced causal step touches, averaged over the ranks. */
  static final double LATER_STEP_SHARE = 0.75;
  /**
   * PyTorch's eager merge per output element of a later step, averaged over full-query (8F) and
   * half-query (6F) steps.
   */
  static final double PT_EAGER_MERGE_E = 7 * F;
  /** PyTorch's eager merge per logsumexp element of a later step: full-query 14F, half-query 9F, averaged. */
  static final double PT_EAGER_MERGE_R = 11.5 * F;
  /** PyTorch's compiled merge per logsumexp element of a later step: full-query 3F, half-query 2.5F, averaged. */
  static final double PT_FUSED_MERGE_R = 2.75 * F;
  /** Flops per merged output element: PyTorch's subtraction, product, subtraction; TE's product and add. */
  static final double PT_MERGE_FLOPS = 3, TE_MERGE_FLOPS = 2;

  /** Forward and backward bytes: coefficient of the activation bytes a, and the fixed fp32/fp64 part. */
  private final double fwA, fwFixed, bwA, bwFixed;
  /** Working memory while the ring runs: coefficient of a, and the fixed fp32 bytes (PyTorch only). */
  private final double workA, workFixed;
  /**
   * Key/value blocks {@code _AllToAllRotater}'s ring holds at once (PyTorch, {@code p2p}): the one
   * the step reads, the cat being sent ({@code exchange_buffers}) and the one arriving
   * ({@code permute_tensor}'s output).
   */
  static final double PT_RING_KV_BLOCKS = 3;
  /**
   * fp32 key/value-gradient blocks PyTorch's backward holds at once: the accumulators, the cat
   * being sent and the block arriving ({@code _templated_ring_attention_backward}, {@code dkv_rotater}).
   */
  static final double PT_DKV_BLOCKS = 3;

  /**
   * @param impl       whose context parallelism runs
   * @param type       the CP comm type
   * @param eager      PyTorch's element-wise ops run eagerly (else one compiled kernel per step)
   * @param cp         CP degree (&gt; 1)
   * @param rows       R: rows of the rank's attention output (the logsumexp's elements)
   * @param outElems   E: elements of the rank's attention output
   * @param qElems     Q: elements of the rank's queries
   * @param kvElems    K: elements of the rank's keys and values as the kernel sees them
   * @param training   whether a backward pass runs (its buffers set the working memory)
   */
  ContextParallelMerge(String name, ContextParallelImpl impl, CpCommType type, boolean eager, int cp,
                       double rows, double outElems, double qElems, double kvElems, boolean training) {
    super(name, CommGroup.TP);
    // transient: in the block's working space, never in its stored activations
    activationStored = false;
    if (impl == ContextParallelImpl.PYTORCH && type != CpCommType.A2A) {
      workA = (type == CpCommType.ALL_GATHER ? cp : PT_RING_KV_BLOCKS) * kvElems;
      double fwWork = F * (outElems + rows);
      double bwWork = F * (qElems + PT_DKV_BLOCKS * kvElems);
      workFixed = training ? Math.max(fwWork, bwWork) : fwWork;
    } else {
      workA = workFixed = 0;
    }
    double n = cp - 1;
    double later = n * LATER_STEP_SHARE;
    double qk = qElems + kvElems;
    if (type == CpCommType.A2A) {
      fwA = fwFixed = bwA = bwFixed = 0;
    } else if (impl == ContextParallelImpl.PYTORCH) {
      // K/V cats for the rotation: n with the ring, one (the gathered one) with the all-gather when compiled
      double cats = eager || type == CpCommType.P2P ? n : 1;
      double contiguous = eager ? 1 : 0;
      if (eager) {
        fwA = 2 * (contiguous + cats) * kvElems + cp * outElems + outElems;
        fwFixed = cp * F * outElems + n * (PT_EAGER_MERGE_E * outElems + PT_EAGER_MERGE_R * rows) + F * outElems;
        bwA = 2 * (contiguous + cats) * kvElems + qk * (1 + later) + qk;
        bwFixed = F * qk + 2 * F * qk * (1 + later) + n * F * qk + 2 * F * cp * kvElems + F * qk;
      } else {
        fwA = 2 * cats * kvElems + outElems + later * outElems + outElems;
        fwFixed = F * outElems + n * (2 * F * outElems + PT_FUSED_MERGE_R * rows) + F * outElems;
        bwA = 2 * cats * kvElems + qk + later * qk + qk;
        bwFixed = F * qk + n * 2 * F * qk + F * qk;
      }
      fwFlops = PT_MERGE_FLOPS * outElems * later;
      agradFlops = qk * (1 + later);
    } else if (type == CpCommType.P2P) {
      fwA = outElems + 3 * outElems * (1 + later);
      fwFixed = 2 * F * rows * (1 + later) + (2 * D + F) * rows * later + 2 * (F + D) * rows;
      bwA = 2 * kvElems + 3 * qk * (1 + later);
      bwFixed = 0;
      fwFlops = TE_MERGE_FLOPS * outElems * (1 + later);
      agradFlops = qk * (1 + later);
    } else {
      fwA = 2 * cp * kvElems + 2 * outElems;
      fwFixed = 0;
      bwA = 2 * cp * kvElems + cp * kvElems + 3 * (cp + 0.5) * kvElems + 2 * cp * kvElems + 2 * qElems;
      bwFixed = 0;
      agradFlops = (cp + 0.5) * kvElems;
    }
  }

  @Override public double usefulFlops(Stage s) { return 0; }

  /** The ring's working buffers in bytes (see the class comment); 0 for Transformer Engine and Ulysses. */
  @Override public double activation() { return workA * bytesPerElement + workFixed; }

  @Override double fwMemAccessed() { return fwA * bytesPerElement + fwFixed; }

  @Override double agradMemAccessed() { return bwA * bytesPerElement + bwFixed; }

  @Override double wgradMemAccessed() { return 0; }
}
