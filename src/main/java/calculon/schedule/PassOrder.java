package calculon.schedule;

import java.util.Arrays;

/**
 * One pipeline stage's passes in the order its schedule runs them, and the stored activations
 * they keep alive: the stage's peak, with each of its chunks weighed by what it stores (the
 * first chunk of stage 0 holds the embedding, the last chunk of the last stage the logits) and a
 * microbatch whose weight-gradient pass W is deferred keeping only what W reads.
 *
 * <p>Passes: F (a chunk's forward: the microbatch's activations of that chunk are stored), BW (a
 * full backward: freed), B (the input-gradient pass of a split backward: the microbatch now keeps
 * only what its deferred W reads, the linear layers' inputs and output gradients; Qi et al. 2024,
 * arXiv 2401.10241, Section 2 and Table 1) and W (freed). Chunks are numbered in the stage's own
 * order, 0 to v - 1.
 */
final class PassOrder {
  private static final int F = 0, BW = 1, B = 2, W = 3, KINDS = 4;

  private int[] passes = new int[16];
  private int size;

  PassOrder forward(int chunk) { return add(F, chunk); }

  PassOrder backward(int chunk) { return add(BW, chunk); }

  PassOrder inputGrad(int chunk) { return add(B, chunk); }

  PassOrder weightGrad(int chunk) { return add(W, chunk); }

  private PassOrder add(int kind, int chunk) {
    if (size == passes.length) {
      passes = Arrays.copyOf(passes, size * 2);
    }
    passes[size++] = chunk * KINDS + kind;
    return this;
  }

  /**
   * The microbatches held of each of {@code chunks} chunks after every forward (F) of an order
   * of F and full backward (BW) passes, in order.
   */
  java.util.List<int[]> heldAfterForwards(int chunks) {
    int[] held = new int[chunks];
    java.util.List<int[]> out = new java.util.ArrayList<>();
    for (int i = 0; i < size; i++) {
      int chunk = passes[i] / KINDS;
      switch (passes[i] % KINDS) {
        case F -> {
          held[chunk]++;
          out.add(held.clone());
        }
        case BW -> held[chunk]--;
        default -> throw new IllegalStateException("a split backward's B or W in an order of F and BW passes");
      }
    }
    return out;
  }

  /**
   * The stage's peak stored activations over the order, in units of the stage's stored
   * activations for one microbatch.
   *
   * @param chunkShare     each chunk's share of the stage's stored activations for one
   *                       microbatch (they sum to 1)
   * @param wPendingShare  the share of a chunk's stored activations that a microbatch whose W is
   *                       deferred still keeps after its B (unused without B passes)
   */
  double peak(double[] chunkShare, double wPendingShare) {
    double held = 0, peak = 0;
    for (int i = 0; i < size; i++) {
      int chunk = passes[i] / KINDS;
      double share = chunkShare[chunk];
      switch (passes[i] % KINDS) {
        case F -> held += share;
        case BW -> held -= share;
        case B -> held += share * (wPendingShare - 1);
        default -> held -= share * wPendingShare;
      }
      peak = Math.max(peak, held);
    }
    return peak;
  }
}
