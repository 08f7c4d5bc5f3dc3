package calculon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code calculon version}: logs the version (reference version.py:20-36). */
@Command(name = "version", aliases = "v", description = "Show the version of calculon.")
public final class VersionCommand implements Callable<Integer> {
  /** This implementation's version (the project version in pom.xml; the reference is 0.1.0). */
  public static final String VERSION = "0.2.0";

  @ParentCommand
  private Main main;


  @Override
  public Integer call() {
    main.log().info(VERSION);
    return 0;
  }
}
