package calculon.model;

/**
 * The execution is well formed but cannot run on this system (what the reference raises as
 * {@code Llm.Error}): memory over capacity, a network tier too small or not filled, interleaving
 * that does not divide the blocks, offload with fewer than 3 blocks per processor. The CLI prints
 * {@code ERROR: <message>}; searches count it as a bad execution. Stackless: searches throw many.
 */
public final class Infeasible extends Exception {
  private static final long serialVersionUID = 1L;

  public Infeasible(String message) {
    super(message, null, false, false);
  }
}
