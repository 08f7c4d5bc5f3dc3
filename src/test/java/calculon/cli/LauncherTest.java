package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, item 3: {@code bin/calculon} called through a symbolic link (the usual way onto PATH)
 * from another folder runs the checkout it belongs to, and writes nothing outside it.
 *
 * <p>The test puts the real launcher into a checkout in a temporary folder whose
 * {@code target/calculon.jar} is a manifest-only jar pointing at this test run's classes (the
 * launcher finds it fresh, as there are no sources to be newer, so nothing is built), links it
 * from a third folder, and runs it from a fourth.
 */
class LauncherTest {
  @TempDir Path dir;

  @Test
  void worksThroughASymbolicLinkFromAnyFolderAndWritesNothingOutsideItsCheckout() throws Exception {
    Path checkout = Files.createDirectories(dir.resolve("checkout"));
    Files.createDirectories(checkout.resolve("bin"));
    Path launcher = Files.copy(Path.of("bin/calculon"), checkout.resolve("bin/calculon"));
    launcher.toFile().setExecutable(true);
    Files.createDirectories(checkout.resolve("target"));
    writeLauncherJar(checkout.resolve("target/calculon.jar"));
    Path onPath = Files.createDirectories(dir.resolve("on-path"));
    Path link = Files.createSymbolicLink(onPath.resolve("calculon"), launcher);
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));

    ProcessBuilder pb = new ProcessBuilder(link.toString(), "--version").directory(elsewhere.toFile())
        .redirectErrorStream(true);
    // set, so the launcher runs java directly (no background class-data archive job)
    pb.environment().put("CALCULON_JAVA_OPTS", "-XX:+UseSerialGC");
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator
        + System.getenv("PATH"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).isEqualTo("calculon " + VersionCommand.VERSION + "\n");
    try (var s = Files.list(elsewhere)) {
      assertThat(s.toList()).as("nothing written in the working folder").isEmpty();
    }
    try (var s = Files.list(onPath)) {
      assertThat(s.toList()).as("nothing written beside the link").containsExactly(link);
    }
    try (var s = Files.list(dir)) {
      assertThat(s.map(x -> x.getFileName().toString()).sorted().toList())
          .containsExactly("checkout", "elsewhere", "on-path");
    }
  }

  /** A jar with only a manifest: Main-Class calculon.cli.Main, Class-Path this test run's class path. */
  static void writeLauncherJar(Path jar) throws IOException {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "calculon.cli.Main");
    List<String> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.isEmpty()) {
        urls.add(Path.of(entry).toAbsolutePath().toUri().toString());
      }
    }
    m.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
    try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
      j.flush();
    }
  }
}
