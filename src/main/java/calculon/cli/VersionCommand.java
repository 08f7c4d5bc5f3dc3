package calculon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code calculon version}: logs the version (reference version.py:20-36) as {@link #text()}, the
 * same line {@code calculon --version} prints, so both say {@code calculon 0.2.0}.
 */
@Command(name = "version", aliases = "v", description = "Show the version of calculon.")
public final class VersionCommand implements Callable<Integer> {
  /** This implementation's version (the project version in pom.xml; the reference is 0.1.0). */
  public static final String VERSION = "0.2.0";

  @ParentCommand
  private Main main;

  /** The one version line, of {@code calculon version} and of {@code -V} / {@code --version}: "calculon 0.2.0". */
  public static String text() {
    return "calculon " + VERSION;
  }


  @Override
  public Integer call() {
    main.log().info(text());
    return 0;
  }
}
