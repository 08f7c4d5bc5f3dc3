package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A missing or broken CSV input of {@code convert} and {@code report} is named as a missing JSON
 * input is ({@code calculon convert: x.csv: file not found}), one line, exit status 2, nothing
 * written; before, a missing CSV read {@code x.csv: cannot read: x.csv}, the exception's bare path.
 */
class MissingCsvInputTest {

  @Test
  void aMissingCsvIsFileNotFoundAsAMissingJsonIs(@TempDir Path dir) throws Exception {
    for (String name : new String[] {"none.csv", "none.csv.gz", "none.json"}) {
      Path in = dir.resolve(name);
      Path out = dir.resolve("x.json");
      CliRun.Run c = MainTest.run("convert", in.toString(), out.toString());
      assertThat(c.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
      assertThat(c.err()).isEqualTo("calculon convert: " + in + ": file not found\n");
      assertThat(out).doesNotExist();
      Path html = dir.resolve("r.html");
      CliRun.Run r = MainTest.run("report", in.toString(), html.toString());
      assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
      assertThat(r.err()).isEqualTo("calculon report: " + in + ": file not found\n");
      assertThat(html).doesNotExist();
    }
  }

  @Test
  void aCsvGzThatIsNotGzipSaysSo(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("plain.csv.gz");
    Files.writeString(in, ",num_procs\n0,8\n");
    CliRun.Run c = MainTest.run("convert", in.toString(), dir.resolve("x.json").toString());
    assertThat(c.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(c.err()).startsWith("calculon convert: " + in + ": is not a valid gzip file (");
    assertThat(c.err()).doesNotContain("Exception").endsWith(")\n");
  }
}
