package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.search.Progress;
import calculon.util.ProgressBars;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Issue 13, item 5: progress through the progressbar library, plain lines for logs, a settled ETA. */
class ProgressLineTest {
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
      p.add(1000);
      p.offerBest(12.5);
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("search").contains("1000/1000").doesNotContain("\r");
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
