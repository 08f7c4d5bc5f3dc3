package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The search and sweep commands write to the streams {@link Main#execute} is given (a library user
 * or a test that captures them sees the summary and the errors), not to the JVM's own.
 */
class SearchStreamsTest {
  static final String MODEL = "models/megatron-126M.json";
  static final String SYSTEM = "systems/a100_80g.json";

  @Test
  void aSearchsSummaryAndErrorsGoToTheGivenStreams(@TempDir Path dir) {
    Run ok = CliRun.run("llm-optimal-execution", MODEL, "4", "8", "float16", SYSTEM, dir.resolve("s.json").toString(),
        "--no-dp-overlap", "--no-tp-overlap", "--quiet");
    assertThat(ok.status()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("Best sample rate: ").contains("Output: " + dir.resolve("s.json"));
    Run bad = CliRun.run("llm-optimal-execution", MODEL, "4", "8", "float16", SYSTEM, dir.resolve("t.json").toString(),
        "--tp-overlaps", "ring,bogus", "--quiet");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err().strip()).startsWith("calculon llm-optimal-execution: --tp-overlaps: ").contains("\"bogus\"").doesNotContain("\n");
    assertThat(bad.out()).isEmpty();
  }

  @Test
  void aSweepsProgressNoteGoesToTheGivenErrorStream(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("q.csv");
    Run first = CliRun.run("sweep", "examples/sweeps/quick.json", out.toString(), "--quiet");
    assertThat(first.status()).as(first.err()).isZero();
    Run again = CliRun.run("sweep", "examples/sweeps/quick.json", out.toString(), "--quiet");
    assertThat(again.status()).isZero();
    assertThat(again.err()).contains(out + " already holds all 6 points: nothing to evaluate");
  }
}
