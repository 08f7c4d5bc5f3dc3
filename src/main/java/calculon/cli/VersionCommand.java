package calculon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code calculon version}: logs the version (reference version.py:20-36) as {@link #text()}, the
 * same line {@code calculon --version} prints, so both say {@code calculon X.Y.Z} with the number of
 * {@link #VERSION}.
 */
@Command(name = "version", aliases = "v", description = "Show the version of calculon.")
public final class VersionCommand implements Callable<Integer> {
  /** The resource Maven writes the project version into (pom.xml's build/resources filters it). */
  static final String VERSION_RESOURCE = "/calculon/version.properties";

  /**
   * This implementation's version: pom.xml's {@code <version>}, the one place it is written, read
   * from {@link #VERSION_RESOURCE} (the reference is 0.1.0). What {@code calculon version},
   * {@code --version} and a stats file's {@code calculon_version} say.
   */
  public static final String VERSION = readVersion();

  /**
   * The {@code version} of {@link #VERSION_RESOURCE}.
   *
   * @throws IllegalStateException when the resource is missing or was not filtered: a build
   *         defect (the classes were not built by Maven), never a user's error
   */
  static String readVersion() {
    java.util.Properties p = new java.util.Properties();
    try (java.io.InputStream in = VersionCommand.class.getResourceAsStream(VERSION_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(VERSION_RESOURCE + " is missing: build calculon with Maven");
      }
      p.load(in);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(VERSION_RESOURCE + " cannot be read: " + e.getMessage(), e);
    }
    String v = p.getProperty("version", "");
    if (v.isEmpty() || v.contains("${")) {
      throw new IllegalStateException(VERSION_RESOURCE + " was not filled in from pom.xml: build calculon with Maven");
    }
    return v;
  }

  @ParentCommand
  private Main main;

  /** The one version line, of {@code calculon version} and of {@code -V} / {@code --version}: "calculon " and {@link #VERSION}. */
  public static String text() {
    return "calculon " + VERSION;
  }


  @Override
  public Integer call() {
    main.log().info(text());
    return 0;
  }
}
