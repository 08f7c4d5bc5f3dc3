package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code llm -l} (per-layer stats) writes them to a .json stats file and to a {@code --report}
 * page; the text summary has no per-layer table, so with OUTPUT {@code -} and no {@code --report} it
 * adds nothing, and one note line on standard error says so instead of passing for done.
 */
class LayersOptionTest {
  private static final String[] DENSE = {"models/megatron-126M.json",
      "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json", "systems/H100_80g_sxm.json"};

  @TempDir
  Path dir;

  @Test
  void layersWithTheTextSummarySaysItPrintsNothingMore() {
    CliRun.Run plain = CliRun.run("llm", DENSE[0], DENSE[1], DENSE[2], "-");
    CliRun.Run layers = CliRun.run("llm", DENSE[0], DENSE[1], DENSE[2], "-", "-l");
    assertThat(plain.status()).as(plain.err()).isZero();
    assertThat(layers.status()).as(layers.err()).isZero();
    // the summary is the same, byte for byte, and the note is the only other output
    assertThat(layers.out()).isEqualTo(plain.out());
    assertThat(plain.err()).isEmpty();
    assertThat(layers.err()).isEqualTo("calculon llm: note: --layers adds per-layer stats to a .json stats file "
        + "or a --report page; with OUTPUT - it prints nothing more\n");
  }

  @Test
  void layersWithAStatsFileOrAReportWriteThemWithoutTheNote() throws Exception {
    Path stats = dir.resolve("s.json");
    CliRun.Run toFile = CliRun.run("llm", DENSE[0], DENSE[1], DENSE[2], stats.toString(), "-l");
    assertThat(toFile).isEqualTo(new CliRun.Run(0, "", ""));
    assertThat(new ObjectMapper().readTree(stats.toFile()).get("layers").size()).isPositive();
    // OUTPUT - with --report: the page gets the layer table, so -l is not idle
    Path html = dir.resolve("run.html");
    CliRun.Run report = CliRun.run("llm", DENSE[0], DENSE[1], DENSE[2], "-", "-l", "--report", html.toString());
    assertThat(report.status()).as(report.err()).isZero();
    assertThat(report.err()).isEqualTo("Report: " + html + "\n");
    assertThat(Files.readString(html)).contains("table-layers");
  }
}
