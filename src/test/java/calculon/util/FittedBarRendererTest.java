package calculon.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.junit.jupiter.api.Test;

/**
 * The progress line fits its width: at an 80-column terminal (79 columns rendered, the library
 * keeps one free) a search's bar had one or two cells and its rate was cut off.
 */
class FittedBarRendererTest {
  /** Columns the library renders into at an 80-column terminal (ConsoleProgressBarConsumer's right margin of 1). */
  static final int WIDTH_AT_80_COLUMNS = 79;

  /** A search's fields as the bar shows them: a rate and the best sample rate. */
  private static final FittedBarRenderer.Fields SEARCH_FIELDS = (state, compact) -> compact
      ? List.of("2.51M exec/s", "best 179.028") : List.of("2,507,331 exec/s", "best 179.028");

  /**
   * The line the library draws through this renderer, for {@code done} of {@code total} with 15 s
   * left, at {@code width} columns: the last line a plain consumer of that width received (the
   * one {@link ProgressBar#close} draws).
   */
  private static String rendered(FittedBarRenderer.Style style, long done, long total, int width) {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    ProgressBar bar = new ProgressBarBuilder()
        .setTaskName("search")
        .setInitialMax(total)
        .setRenderer(new FittedBarRenderer(style, "", s -> Optional.of(Duration.ofSeconds(15)), SEARCH_FIELDS))
        .setConsumer(new DelegatingProgressBarConsumer(lines::add, width))
        .build();
    bar.stepTo(done);
    bar.close();
    return lines.get(lines.size() - 1);
  }

  /**
   * The README's CP search as a quarter done at 80 columns: every field is there in full (rate,
   * best, ETA), the counts in short form, and the bar has its cells; the line is exactly the
   * width. 13218232 of 50834688 is 26.0%: 3.64 of 14 cells, 3 full, the partial cell of the ASCII
   * style a space (of the coloured style 5/8 of a block).
   */
  @Test
  void aLargeSearchAt80ColumnsKeepsItsRateEtaAndBestAndABar() {
    String line = rendered(FittedBarRenderer.Style.ASCII, 13_218_232, 50_834_688, WIDTH_AT_80_COLUMNS);
    assertThat(line).isEqualTo("search  26% [===           ] 13.2M/50.8M ETA 0:00:15 2.51M exec/s, best 179.028");
    assertThat(line).hasSize(WIDTH_AT_80_COLUMNS);
  }

  /** On the terminal's coloured style the colour sequences take no columns and the bar's cells are the same. */
  @Test
  void theColouredBarAt80ColumnsHasTheSameLayout() {
    String line = rendered(FittedBarRenderer.Style.COLORFUL_UNICODE_BLOCK, 13_218_232, 50_834_688, WIDTH_AT_80_COLUMNS);
    assertThat(FittedBarRenderer.displayLength(line)).isEqualTo(WIDTH_AT_80_COLUMNS);
    assertThat(line).isEqualTo("search  26% \u001b[33m│███▋          │\u001b[0m 13.2M/50.8M ETA 0:00:15 2.51M exec/s, "
        + "best 179.028");
  }

  /**
   * The README's dense {@code -m} search finished, at 80 columns: its counts stay whole (the
   * summary's "Total executions"), the elapsed time gives way to the ETA; at 160 columns (plain
   * lines) the whole line as before.
   */
  @Test
  void aFinishedSearchKeepsItsWholeCountsAt80Columns() {
    String line = rendered(FittedBarRenderer.Style.ASCII, 345_200, 345_200, WIDTH_AT_80_COLUMNS);
    assertThat(line).isEqualTo("search 100% [============] 345200/345200 ETA 0:00:15 2.51M exec/s, best 179.028");
    String wide = rendered(FittedBarRenderer.Style.ASCII, 345_200, 345_200, ProgressBars.LINE_WIDTH_CHARS);
    assertThat(wide).matches("search 100% \\[=+\\] 345200/345200 \\(\\d+:\\d\\d:\\d\\d / 0:00:15\\) 2,507,331 exec/s, "
        + "best 179.028").hasSize(ProgressBars.LINE_WIDTH_CHARS);
  }

  /**
   * Where the whole line fits, it is the library's own line ({@code DefaultProgressBarRenderer}):
   * same task, percentage, bar, counts, times and message (the elapsed time is that of each bar).
   */
  @Test
  void aWideLineIsTheLibrarysLine() {
    for (ProgressBarStyle libraryStyle : List.of(ProgressBarStyle.ASCII, ProgressBarStyle.COLORFUL_UNICODE_BLOCK)) {
      FittedBarRenderer.Style style = libraryStyle == ProgressBarStyle.ASCII ? FittedBarRenderer.Style.ASCII
          : FittedBarRenderer.Style.COLORFUL_UNICODE_BLOCK;
      for (long done : new long[] {0, 1, 12_345, 1_000_000}) {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        ProgressBar bar = new ProgressBarBuilder()
            .setTaskName("search")
            .setInitialMax(1_000_000)
            .setStyle(libraryStyle)
            .setEtaFunction(s -> Optional.of(Duration.ofSeconds(15)))
            .setConsumer(new DelegatingProgressBarConsumer(lines::add, 140))
            .build();
        bar.stepTo(done);
        bar.setExtraMessage("2,507,331 exec/s, best 179.028");
        bar.close();
        String ours = rendered(style, done, 1_000_000, 140);
        String elapsed = "\\(\\d+:\\d\\d:\\d\\d /";
        assertThat(ours.replaceAll(elapsed, "(T /")).as("%s at %d", libraryStyle, done)
            .isEqualTo(lines.get(lines.size() - 1).replaceAll(elapsed, "(T /"));
      }
    }
  }

  /** Narrower than 80 columns the task name, then the counts, then the last fields give way; the ETA stays. */
  @Test
  void narrowerLinesDropWholeFieldsNotTheirEnds() {
    assertThat(rendered(FittedBarRenderer.Style.ASCII, 13_218_232, 50_834_688, 59))
        .isEqualTo(" 26% [===          ] ETA 0:00:15 2.51M exec/s, best 179.028");
    assertThat(rendered(FittedBarRenderer.Style.ASCII, 13_218_232, 50_834_688, 44))
        .isEqualTo(" 26% [===         ] ETA 0:00:15 2.51M exec/s");
    assertThat(rendered(FittedBarRenderer.Style.ASCII, 13_218_232, 50_834_688, 29))
        .isEqualTo(" 26% [==        ] ETA 0:00:15");
    // below the shortest layout: the bar keeps one cell and the end is cut, as the library does
    assertThat(rendered(FittedBarRenderer.Style.ASCII, 13_218_232, 50_834_688, 12)).isEqualTo(" 26% [ ] ETA");
    // a coloured line cut before its closing bracket still ends the colour
    assertThat(rendered(FittedBarRenderer.Style.COLORFUL_UNICODE_BLOCK, 13_218_232, 50_834_688, 6))
        .isEqualTo(" 26% \u001b[33m│" + FittedBarRenderer.RESET);
    assertThat(rendered(FittedBarRenderer.Style.ASCII, 1, 2, 0)).isEmpty();
  }

  /** Short forms: whole below 10,000, else 3 significant digits with k, M, G, T (rounding up a prefix at 999.5). */
  @Test
  void compactNumbers() {
    assertThat(FittedBarRenderer.compact(0)).isEqualTo("0");
    assertThat(FittedBarRenderer.compact(9_999)).isEqualTo("9999");
    assertThat(FittedBarRenderer.compact(10_000)).isEqualTo("10.0k");
    assertThat(FittedBarRenderer.compact(345_200)).isEqualTo("345k");
    assertThat(FittedBarRenderer.compact(999_499)).isEqualTo("999k");
    assertThat(FittedBarRenderer.compact(999_500)).isEqualTo("1.00M");
    assertThat(FittedBarRenderer.compact(2_507_331.4)).isEqualTo("2.51M");
    assertThat(FittedBarRenderer.compact(13_218_232)).isEqualTo("13.2M");
    assertThat(FittedBarRenderer.compact(50_834_688)).isEqualTo("50.8M");
    assertThat(FittedBarRenderer.compact(1.5e12)).isEqualTo("1.50T");
    assertThat(FittedBarRenderer.compact(Double.NaN)).isEqualTo("NaN");
  }
}
