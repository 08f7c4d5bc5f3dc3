package calculon.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The run that {@code bin/calculon} records its class-data (AppCDS) archive from: several command
 * lines in one JVM, so that the archive holds the classes (and the lambda classes) of each of them.
 * A JDK 17 dynamic archive ({@code -XX:ArchiveClassesAtExit}) holds only what its one JVM loaded;
 * recorded from a search alone it missed the execution-file reader and the stats output a single
 * {@code llm} run needs, which then loaded and verified them on every start (issue 12 item 8,
 * docs/performance.md).
 *
 * <p>Usage: {@code java -XX:ArchiveClassesAtExit=A -cp calculon.jar calculon.cli.ClassDataTraining
 * CMD1 ARGS... ';' CMD2 ARGS...}: each command line as {@code calculon} takes it, separated by a
 * lone {@code ;}. Their output is discarded; the exit status is the first non-zero one (the
 * launcher then keeps no archive).
 */
public final class ClassDataTraining {
  private ClassDataTraining() {}

  /** Separates the command lines. */
  static final String SEPARATOR = ";";

  public static void main(String[] args) {
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
    int status = 0;
    for (String[] line : split(args)) {
      int s = Main.execute(line, discard, discard);
      if (status == 0) {
        status = s;
      }
    }
    System.exit(status);
  }

  /** The command lines of {@code args}, split at each lone {@value #SEPARATOR}; empty ones dropped. */
  static List<String[]> split(String[] args) {
    List<String[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= args.length; i++) {
      if (i == args.length || args[i].equals(SEPARATOR)) {
        if (i > start) {
          lines.add(Arrays.copyOfRange(args, start, i));
        }
        start = i + 1;
      }
    }
    return lines;
  }
}
