package calculon.search;

/** The model failed on an execution in a way other than {@code Infeasible}: the search stops. */
public final class SearchFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SearchFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
