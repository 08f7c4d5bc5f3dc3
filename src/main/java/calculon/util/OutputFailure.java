package calculon.util;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file the user asked for could not be written: names that file (never a temporary one) and
 * the reason in words. Message: {@code <target>: cannot write: <reason>}.
 */
public final class OutputFailure extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Path target;
  private final String reason;

  public OutputFailure(Path target, String reason) {
    super(target + ": cannot write: " + reason);
    this.target = target;
    this.reason = reason;
  }

  /** The file as the user named it. */
  public Path target() { return target; }

  /** Why, e.g. "permission denied", "no space left on device". */
  public String reason() { return reason; }
}
