package calculon.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the command line in this JVM and captures what it printed (for tests in any package). */
public final class CliRun {
  private CliRun() {}

  /** The outcome of one command line. */
  public record Run(int status, String out, String err) {}

  public static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      status = Main.execute(args, o, e);
    }
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Runs {@code llm-optimal-execution} on {@code args} (the command's name left out), its own output captured. */
  public static Run runOptimalExecution(String... args) {
    return run(new OptimalExecutionCommand(), args);
  }

  /** Runs one search command object (its evaluator factory, say, set by the test) on {@code args}. */
  static Run run(SearchCommandBase cmd, String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    cmd.out = new PrintStream(o, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(e, true, StandardCharsets.UTF_8);
    int status = new picocli.CommandLine(cmd).execute(args);
    return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }
}
