package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report refuses --model/--execution/--system that are not the stats file's inputs: a stats file
 * of Llama 3 70B (hidden 8192, TP 4) given GPT 1.8T's files (hidden 12288, another TP) has another
 * block forward flops count, and the page would have been titled "gpt-1.8T on H100_80g_sxm".
 * With only some of the files nothing can be checked, and a note says so.
 */
class ReportInputsBelongTest {
  private static final String[] LLAMA = {"models/llama3-70B.json", "examples/llama3-70B_256xH100.json",
      "systems/H100_SXM_80g_dense.json"};
  private static final String[] GPT = {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
      "systems/H100_80g_sxm.json"};

  @TempDir
  Path dir;

  private Path llamaStats() {
    Path stats = dir.resolve("llama.json");
    assertThat(MainTest.run("llm", LLAMA[0], LLAMA[1], LLAMA[2], stats.toString()).status()).isZero();
    return stats;
  }

  @Test
  void refusesAnotherRunsFilesNamingBothAndTheField() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", GPT[0], "--execution", GPT[1],
        "--system", GPT[2]);
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("calculon report: " + stats + ": block_fw_flops ")
        .contains(GPT[0], GPT[1], GPT[2], "do not belong").doesNotContain("\n" + "calculon");
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(Files.exists(html)).isFalse();
  }

  @Test
  void acceptsItsOwnFiles() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", LLAMA[0], "--execution",
        LLAMA[1], "--system", LLAMA[2]);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(Files.readString(html)).contains("llama3-70B");
  }

  @Test
  void warnsWhenOnlySomeFilesAreGiven() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", GPT[0]);
    assertThat(r.status()).isZero();
    assertThat(r.err()).startsWith("calculon report: note: " + stats + " records no names of its inputs");
  }
}
