package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * calculon's version is written once, in pom.xml's {@code <version>}: the build filters it into
 * calculon/version.properties, and {@code calculon version}, {@code --version} and a stats file's
 * {@code calculon_version} all say that number.
 */
class VersionSourceTest {
  /** pom.xml's own version (the project's, right after its artifactId). */
  static String pomVersion() throws Exception {
    Matcher m = Pattern.compile("<artifactId>calculon</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  @Test
  void theVersionIsThePomsFilledIntoTheResource() throws Exception {
    String pom = pomVersion();
    assertThat(pom).matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(VersionCommand.readVersion()).isEqualTo(pom);
    assertThat(VersionCommand.VERSION).isEqualTo(pom);
    assertThat(CliRun.run("--version").out()).isEqualTo("calculon " + pom + "\n");
    assertThat(CliRun.run("version").out()).isEqualTo("calculon " + pom + "\n");
  }

  @Test
  void aStatsFileRecordsTheSameVersion(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("stats.json");
    CliRun.Run r = CliRun.run("llm", "models/llama3-8B.json", "examples/llama3-8B_64xH100.json",
        "systems/H100_SXM_80g_dense.json", stats.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode written = new ObjectMapper().readTree(stats.toFile());
    assertThat(written.get("calculon_version").asText()).isEqualTo(pomVersion());
    String line = CliRun.run("--version").out().trim();
    assertThat(line).isEqualTo("calculon " + written.get("calculon_version").asText());
  }

  /** The spark/ module (its own pom) builds against the calculon artifact of this version. */
  @Test
  void theSparkModuleNamesTheSameCalculon() throws Exception {
    Matcher m = Pattern.compile("<calculon.version>([^<]+)</calculon.version>")
        .matcher(Files.readString(Path.of("spark/pom.xml")));
    assertThat(m.find()).isTrue();
    assertThat(m.group(1)).isEqualTo(pomVersion());
  }
}
