package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sweep with SPEC and OUTPUT swapped names the swap, as llm, report and convert do, in one line
 * (exit 2), and touches neither file: the spec a user wrote is never taken for an output.
 */
class SweepSwappedArgumentsTest {
  private static final String SPEC = "examples/sweeps/quick.json";

  @Test
  void anOutputNameWhereTheSpecGoesIsNamed(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("quick.csv");
    byte[] before = Files.readAllBytes(Path.of(SPEC));
    CliRun.Run r = MainTest.run("sweep", out.toString(), SPEC);
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon sweep: " + out + ": this looks like a sweep output (.csv), not a sweep "
        + "spec (.json): check which file goes where (SPEC first, then OUTPUT: calculon sweep " + SPEC + " " + out + ")\n");
    assertThat(Files.readAllBytes(Path.of(SPEC))).isEqualTo(before);
    assertThat(Path.of(SPEC + ".~1~")).doesNotExist();
    assertThat(out).doesNotExist();
  }

  @Test
  void aJsonOutputIsTakenForASpec(@TempDir Path dir) throws Exception {
    Path spec = dir.resolve("spec.json");
    Files.copy(Path.of(SPEC), spec);
    Path other = dir.resolve("other.json");
    Files.copy(Path.of(SPEC), other);
    CliRun.Run r = MainTest.run("sweep", spec.toString(), other.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).isEqualTo("calculon sweep: " + other + ": this looks like a sweep spec (.json), not a sweep "
        + "output (.csv or .jsonl): check which file goes where (SPEC first, then OUTPUT)\n");
    assertThat(Files.readString(other)).isEqualTo(Files.readString(Path.of(SPEC)));
  }
}
