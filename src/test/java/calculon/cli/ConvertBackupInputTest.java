package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * convert reads a numbered backup (out.json.~1~, as every command keeps an earlier output) by the
 * name it was kept from, and still refuses such a name to write.
 */
class ConvertBackupInputTest {
  private static final String[] DENSE = {"models/megatron-126M.json",
      "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json", "systems/H100_80g_sxm.json"};

  @Test
  void aBackupReadsAsTheFileItWasKeptFrom(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out.json");
    assertThat(MainTest.run("llm", DENSE[0], DENSE[1], DENSE[2], out.toString()).status()).isZero();
    // a second run keeps the first stats as out.json.~1~
    assertThat(MainTest.run("llm", DENSE[0], DENSE[1], DENSE[2], out.toString()).status()).isZero();
    Path backup = dir.resolve("out.json.~1~");
    assertThat(backup).exists();

    Path csv = dir.resolve("x.csv");
    CliRun.Run r = MainTest.run("convert", backup.toString(), csv.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Converted: " + csv + " (stats; JSON -> CSV, from " + backup + ")\n");
    Path direct = dir.resolve("y.csv");
    assertThat(MainTest.run("convert", out.toString(), direct.toString()).status()).isZero();
    // both runs computed the same stats: the backup's CSV is the file's, byte for byte
    assertThat(Files.readString(csv)).isEqualTo(Files.readString(direct));

    // a gzipped CSV's backup is read as gzipped CSV
    Path gz = dir.resolve("x.csv.gz");
    assertThat(MainTest.run("convert", out.toString(), gz.toString()).status()).isZero();
    Path gzBackup = dir.resolve("x.csv.gz.~7~");
    Files.move(gz, gzBackup);
    Path back = dir.resolve("back.json");
    CliRun.Run g = MainTest.run("convert", gzBackup.toString(), back.toString());
    assertThat(g.status()).as(g.err()).isZero();
    assertThat(g.out()).contains("gzipped CSV -> JSON");
  }

  @Test
  void aBackupNameIsNoOutputAndOtherNamesStayRefused(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out.json");
    assertThat(MainTest.run("llm", DENSE[0], DENSE[1], DENSE[2], out.toString()).status()).isZero();
    Path target = dir.resolve("x.csv.~1~");
    CliRun.Run r = MainTest.run("convert", out.toString(), target.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).isEqualTo("calculon convert: " + target + ": " + ConvertCommand.UNKNOWN_OUTPUT + "\n");
    Path odd = dir.resolve("out.txt.~1~");
    Files.copy(out, odd);
    CliRun.Run t = MainTest.run("convert", odd.toString(), dir.resolve("y.csv").toString());
    assertThat(t.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(t.err()).contains(odd + ": use a .json, .json.gz, .csv, .csv.gz or .jsonl file, or a numbered backup");
  }
}
