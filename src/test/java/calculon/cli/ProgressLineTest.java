package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.search.Progress;
import calculon.util.FittedBarRenderer;
import calculon.util.ProgressBars;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13, item 5: progress through the progressbar library, plain lines for logs, a settled ETA. */
class ProgressLineTest {
  @TempDir
  Path dir;

  /** A bar line as {@code --progress} writes it: done/total, rate, best. */
  private static final Pattern BAR = Pattern.compile(
      "^search +(\\d+)% .* (\\d+)/(\\d+) \\(.*\\) (\\S+) exec/s, best (\\S+)$", Pattern.MULTILINE);

  /**
   * The walkthrough's complaint: a {@code -m} search whose bar ended at the space's size (521856)
   * with a stale best while the summary said "Total executions: 345200" and a higher best. The
   * microbatch loops a {@code -m} break leaves are not counted by the summary, so they come off the
   * bar's total instead of onto its count: the final line is "T/T" with T the summary's total, the
   * summary's best (to the bar's digits) and a rate above 0.
   */
  @Test
  void theFinalBarOfAMbsBreakSearchIsTheSummary() {
    CliRun.Run r = CliRun.run("llm-optimal-execution", "models/megatron-22B.json", "8", "64", "float16",
        "systems/a100_80g.json", dir.resolve("best.json").toString(), "-m", "--progress",
        "--context-par", "1", "--zero-stages", "1");
    assertThat(r.status()).as(r.err()).isZero();
    long total = Long.parseLong(group(r.out(), "(?m)^Total executions: (\\d+)$"));
    double best = Double.parseDouble(group(r.out(), "(?m)^Best sample rate: (\\S+)$"));
    // the space's size (a dry run without -m counts it all): -m breaks skip some of it here, where
    // the old bar ended (else this test shows nothing)
    CliRun.Run size = CliRun.run("llm-optimal-execution", "models/megatron-22B.json", "8", "64", "float16",
        "systems/a100_80g.json", dir.resolve("best.json").toString(), "-d", "--context-par", "1",
        "--zero-stages", "1");
    assertThat(Long.parseLong(group(size.out(), "(?m)^Total executions: (\\d+)$"))).isGreaterThan(total);
    Matcher fin = BAR.matcher(lastBarLine(r.err()));
    assertThat(fin.find()).isTrue();
    assertThat(fin.group(1)).isEqualTo("100");
    assertThat(Long.parseLong(fin.group(2))).isEqualTo(total);
    assertThat(Long.parseLong(fin.group(3))).isEqualTo(total);
    assertThat(Double.parseDouble(fin.group(5))).isEqualTo(Double.parseDouble(ProgressLine.bestShown(best)));
    assertThat(Double.parseDouble(fin.group(4).replace(",", ""))).isGreaterThan(0);
    // a finished bar has nothing left: its ETA is 0:00:00, not the "?" of a rate not yet settled
    // (this search is shorter than the settling window)
    assertThat(lastBarLine(r.err())).containsPattern(" \\(\\d+:\\d\\d:\\d\\d / 0:00:00\\) ");
  }

  /** Nothing remaining takes no time, settled rate or not; something remaining waits for the rate. */
  @Test
  void nothingRemainingIsAnEtaOfZeroBeforeTheRateSettles() {
    ProgressLine.SettledRate r = new ProgressLine.SettledRate();
    r.observe(0, 0);
    r.observe(1, 1_000);
    assertThat(r.settled()).isFalse();
    assertThat(r.eta(0)).contains(Duration.ZERO);
    assertThat(r.eta(1)).isEmpty();
  }

  private static String lastBarLine(String err) {
    String last = null;
    for (String line : err.split("\n")) {
      if (BAR.matcher(line).find()) {
        last = line;
      }
    }
    assertThat(last).as(err).isNotNull();
    return last;
  }

  private static String group(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in %s", regex, text).isTrue();
    return m.group(1);
  }

  /** A search shorter than the rate window shows its average rate, not 0; nothing done shows none. */
  @Test
  void theRateBeforeAFullWindowIsTheAverageSinceTheStart() {
    ProgressLine.SettledRate r = new ProgressLine.SettledRate();
    r.observe(0, 0);
    assertThat(r.displayRate(0, 0)).isNaN();
    r.observe(1.5, 300_000);
    assertThat(r.recentRate()).isNaN();
    assertThat(r.displayRate(1.5, 300_000)).isEqualTo(200_000.0);
    assertThat(ProgressLine.extra(Double.NaN, Double.NaN)).isEqualTo("- exec/s, best -");
    assertThat(ProgressLine.extra(200_000, 111.93299170784645)).isEqualTo("200,000 exec/s, best 111.933");
  }
  /**
   * The search's own fields at an 80-column terminal (the library renders 79 columns): a quarter
   * through the README's {@code --context-par} search (50.8 million executions at 4.1 million a
   * second), the rate and best whole, the ETA there, a bar of 14 cells; the plain 160-character
   * line keeps the whole counts and rate.
   */
  @Test
  void theSearchLineAt80ColumnsKeepsRateEtaAndBest() {
    FittedBarRenderer.Fields fields = (state, compact) -> ProgressLine.fields(4_102_589.12, 179.0277171828046, compact);
    assertThat(rendered(fields, 79)).isEqualTo(
        "search  26% [===           ] 13.2M/50.8M ETA 0:00:15 4.10M exec/s, best 179.028");
    assertThat(rendered(fields, ProgressBars.LINE_WIDTH_CHARS))
        .matches("search  26% \\[=+ +\\] 13218232/50834688 \\(\\d+:\\d\\d:\\d\\d / 0:00:15\\) 4,102,589 exec/s, "
            + "best 179.028");
    assertThat(ProgressLine.fields(Double.NaN, Double.NaN, true)).containsExactly("- exec/s", "best -");
  }

  /** The last line a plain consumer of {@code width} columns gets from a bar 13218232 of 50834688 through, 15 s left. */
  private static String rendered(FittedBarRenderer.Fields fields, int width) {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    ProgressBar bar = new ProgressBarBuilder()
        .setTaskName("search")
        .setInitialMax(50_834_688)
        .setRenderer(new FittedBarRenderer(FittedBarRenderer.Style.ASCII, "", s -> Optional.of(Duration.ofSeconds(15)), fields))
        .setConsumer(new DelegatingProgressBarConsumer(lines::add, width))
        .build();
    bar.stepTo(13_218_232);
    bar.close();
    return lines.get(lines.size() - 1);
  }

  /**
   * A 21-second search as the issue saw it: 3 s of JIT warm-up at 1,000 executions/s, then
   * 20,000/s. The average since the start gives a first ETA many times too long; the settled rate
   * gives none during the warm-up and then one within 25% of the truth.
   */
  @Test
  void noEtaWhileWarmingUpThenOneFromTheSettledRate() {
    long total = 3_000 + 18L * 20_000;
    ProgressLine.SettledRate r = new ProgressLine.SettledRate();
    Optional<Duration> first = Optional.empty();
    double firstAt = 0;
    for (int tenth = 1; tenth <= 210 && first.isEmpty(); tenth++) {
      double t = tenth / 10.0;
      long done = t <= 3 ? Math.round(1_000 * t) : 3_000 + Math.round(20_000 * (t - 3));
      r.observe(t, done);
      first = r.eta(total - done);
      firstAt = t;
      if (t <= 3) {
        assertThat(first).as("no ETA at %.1f s, during the warm-up", t).isEmpty();
      }
    }
    assertThat(first).isPresent();
    double truth = 21 - firstAt;
    assertThat(first.get().toMillis() / 1000.0).isBetween(0.75 * truth, 1.25 * truth);
    // the naive ETA (average since the start) at 3 s would have been 3*(total/3000) - 3 = 360 s
    assertThat(first.get()).isLessThan(Duration.ofSeconds(60));
  }

  /**
   * The report's 7-second search on an 80-column terminal (the library renders 79 columns): 1 s of
   * warm-up at 40,000 executions/s, then 80,000/s, 520,000 executions. At 4.5 s (320,000 done,
   * 61%) the rate has settled and the bar, in the terminal's colours, shows the time left,
   * 200,000 / 80,000/s = 2.5 s, as {@code ETA 0:00:02}; it read {@code ETA ?} to the end.
   */
  @Test
  void aSevenSecondSearchShowsItsEtaOnAnEightyColumnTerminal() {
    ProgressLine.SettledRate r = new ProgressLine.SettledRate();
    long done = 0;
    for (int quarter = 0; quarter <= 18; quarter++) {
      double t = quarter / 4.0;
      done = t <= 1 ? Math.round(40_000 * t) : 40_000 + Math.round(80_000 * (t - 1));
      r.observe(t, done);
    }
    assertThat(done).isEqualTo(320_000);
    assertThat(r.settled()).isTrue();
    assertThat(r.eta(520_000 - done)).contains(Duration.ofMillis(2_500));
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    ProgressBar bar = new ProgressBarBuilder()
        .setTaskName("search")
        .setInitialMax(520_000)
        .setRenderer(new FittedBarRenderer(FittedBarRenderer.Style.COLORFUL_UNICODE_BLOCK, "",
            s -> r.eta(s.getMax() - s.getCurrent()), (s, compact) -> ProgressLine.fields(80_000, 111.933, compact)))
        .setConsumer(new DelegatingProgressBarConsumer(lines::add, 79))
        .build();
    bar.stepTo(320_000);
    bar.close();
    String line = lines.get(lines.size() - 1);
    String plain = line.replaceAll("\u001b\\[[0-9;]*m", "");
    assertThat(plain).matches("search  61% │█+[ ▏▎▍▌▋▊▉]* +│ 320000/520000 ETA 0:00:02 80.0k exec/s, best 111\\.933");
    assertThat(plain.length()).isLessThanOrEqualTo(79);
  }

  @Test
  void aSteadyRateSettlesAndGivesTheExactRemainingTime() {
    ProgressLine.SettledRate r = new ProgressLine.SettledRate();
    for (int s = 0; s <= 8; s++) {
      r.observe(s, 500L * s);
    }
    assertThat(r.settled()).isTrue();
    assertThat(r.recentRate()).isEqualTo(500.0);
    assertThat(r.eta(5_000)).contains(Duration.ofSeconds(10));
  }

  @Test
  void linesModeWritesPlainLinesForLogs() {
    Progress p = new Progress();
    p.setTotal(1000);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (ProgressLine line = new ProgressLine(p, err, ProgressBars.Mode.LINES)) {
      p.add(600);
      p.skip(400);
      p.offerBest(12.5);
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    // skipped executions (-m) leave the total: the bar ends at what was counted, with the best
    assertThat(lastBarLine(text)).contains("search 100%").contains(" 600/600 ").endsWith("best 12.5");
    assertThat(text).doesNotContain("\r");
  }

  @Test
  void quietWinsAndOffWritesNothing() {
    assertThat(ProgressBars.mode(true, true)).isEqualTo(ProgressBars.Mode.OFF);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Progress p = new Progress();
    p.setTotal(10);
    try (ProgressLine line = new ProgressLine(p, new PrintStream(bytes), ProgressBars.Mode.OFF)) {
      p.add(10);
    }
    assertThat(bytes.size()).isZero();
  }
}
