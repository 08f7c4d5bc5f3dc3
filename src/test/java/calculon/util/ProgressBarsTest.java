package calculon.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import me.tongfei.progressbar.ProgressBar;
import org.junit.jupiter.api.Test;

/**
 * A line said on standard error while a bar is redrawn in place there (a terminal) stands on a
 * line of its own: the bar's line is erased first and the bar drawn again below it. The --log
 * file's "kept the earlier" line comes with the first report line, whenever that is, and used to
 * be printed after whatever the bar had drawn on its unfinished line.
 */
class ProgressBarsTest {
  private static final String NOTE = "calculon llm-optimal-execution: kept the earlier run.log as run.log.~1~";

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private ProgressBar bar(ProgressBars.Mode mode) {
    return ProgressBars.builder("search", mode, err, 60_000, "", s -> Optional.empty(),
        (state, compact) -> List.of("best -")).setInitialMax(100).build();
  }

  private String written() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** What the bar has drawn so far: its first draw comes from the library's thread. */
  private String drawn() throws InterruptedException {
    for (int i = 0; i < 2_000 && written().isEmpty(); i++) {
      Thread.sleep(5);
    }
    return written();
  }

  @Test
  void aLineSaidWhileATerminalBarIsDrawnErasesTheBarsLineAndTheBarFollowsIt() throws Exception {
    ProgressBar bar = bar(ProgressBars.Mode.TERMINAL);
    String first = drawn();
    assertThat(first).startsWith("\rsearch").doesNotContain("\n");
    ProgressBars.println(err, NOTE);
    // the bar's line erased, the note on it, then the bar drawn again, its line still open
    assertThat(written()).isEqualTo(first + "\r" + ProgressBars.ERASE_LINE + NOTE + "\n" + first);
    bar.close();
    int closed = written().length();
    ProgressBars.println(err, NOTE);
    // a closed bar ended its line: the note is printed as it is
    assertThat(written().substring(closed)).isEqualTo(NOTE + "\n");
    assertThat(written().charAt(closed - 1)).isEqualTo('\n');
  }

  @Test
  void withoutABarOrWithPlainLinesTheLineIsPrintedAsItIs() throws Exception {
    ProgressBars.println(err, NOTE);
    assertThat(written()).isEqualTo(NOTE + "\n");
    bytes.reset();
    ProgressBar bar = bar(ProgressBars.Mode.LINES);
    String first = drawn();
    assertThat(first).endsWith("\n");
    ProgressBars.println(err, NOTE);
    assertThat(written()).isEqualTo(first + NOTE + "\n");
    bar.close();
  }

  /** A bar on another stream is not this one's: nothing of it is erased or drawn here. */
  @Test
  void aBarOnAnotherStreamIsLeftAlone() throws Exception {
    ProgressBar bar = bar(ProgressBars.Mode.TERMINAL);
    drawn();
    ByteArrayOutputStream other = new ByteArrayOutputStream();
    ProgressBars.println(new PrintStream(other, true, StandardCharsets.UTF_8), NOTE);
    assertThat(other.toString(StandardCharsets.UTF_8)).isEqualTo(NOTE + "\n");
    bar.close();
  }
}
