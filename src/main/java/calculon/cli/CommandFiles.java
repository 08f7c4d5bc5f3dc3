package calculon.cli;

/**
 * A command that reads or writes files declares them here, so {@link Main} can check, before the
 * command runs, that no output overwrites an input or another output ({@link OutputGuard}). A new
 * command (a sweep, say) implements this and gets the same rule for free.
 */
public interface CommandFiles {
  /** Adds every input and every output this command line may read or write (null paths are skipped). */
  void declareFiles(OutputGuard guard);
}
