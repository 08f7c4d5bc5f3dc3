package calculon.model;

import java.util.function.Supplier;

/**
 * The execution is well formed but cannot run on this system (what the reference raises as
 * {@code Llm.Error}): memory over capacity, a network tier too small or not filled, interleaving
 * that does not divide the blocks, offload with fewer than 3 blocks per processor. The CLI prints
 * {@code ERROR: <message>}; searches count it as a bad execution. Stackless: searches throw many.
 */
public final class Infeasible extends Exception {
  private static final long serialVersionUID = 1L;

  /** Builds the message when first asked: searches reject thousands and never read most. */
  private transient Supplier<String> lazyMessage;
  private String message;

  public Infeasible(String message) {
    super(message, null, false, false);
    this.message = message;
  }

  /** A rejection whose message costs something to format (sizes in human units). */
  public Infeasible(Supplier<String> message) {
    super(null, null, false, false);
    this.lazyMessage = message;
  }

  @Override
  public String getMessage() {
    if (message == null && lazyMessage != null) {
      message = lazyMessage.get();
      lazyMessage = null;
    }
    return message;
  }
}
