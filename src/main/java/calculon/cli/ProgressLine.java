package calculon.cli;

import calculon.search.Progress;
import calculon.util.PyFormat;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display on stderr for a running search: done/total, configurations per
 * second, ETA and the best sample rate so far, redrawn about once a second. Silent unless enabled
 * (the commands enable it when stderr is a terminal and {@code --quiet} is not given).
 */
final class ProgressLine implements AutoCloseable {
  private final Progress progress;
  private final PrintStream err;
  private final Thread thread;
  private final long start = System.nanoTime();
  private volatile boolean stop;
  private int lastWidth;

  ProgressLine(Progress progress, PrintStream err, boolean enabled) {
    this.progress = progress;
    this.err = err;
    if (enabled) {
      thread = new Thread(this::loop, "search-progress");
      thread.setDaemon(true);
      thread.start();
    } else {
      thread = null;
    }
  }

  /** Whether a progress line belongs on this process's stderr. */
  static boolean wanted(boolean quiet) {
    return !quiet && System.console() != null;
  }

  private void loop() {
    while (!stop) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
      if (!stop) {
        draw();
      }
    }
  }

  static String line(long done, long total, double seconds, double best) {
    double rate = seconds > 0 ? done / seconds : 0;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "search: %,d/%,d", done, total));
    if (total > 0) {
      sb.append(String.format(Locale.ROOT, " (%.1f%%)", 100.0 * done / total));
    }
    sb.append(String.format(Locale.ROOT, "  %,.0f cfg/s", rate));
    if (rate > 0 && total >= done) {
      long eta = Math.round((total - done) / rate);
      sb.append(String.format(Locale.ROOT, "  ETA %d:%02d:%02d", eta / 3600, (eta / 60) % 60, eta % 60));
    }
    sb.append("  best ").append(Double.isNaN(best) ? "-" : PyFormat.repr(best));
    return sb.toString();
  }

  private synchronized void draw() {
    String s = line(progress.done(), progress.total(), (System.nanoTime() - start) / 1e9,
        progress.best());
    StringBuilder sb = new StringBuilder("\r").append(s);
    for (int i = s.length(); i < lastWidth; i++) {
      sb.append(' ');
    }
    lastWidth = s.length();
    err.print(sb);
    err.flush();
  }

  @Override
  public synchronized void close() {
    stop = true;
    if (thread != null) {
      thread.interrupt();
      if (lastWidth > 0) {
        err.print("\r" + " ".repeat(lastWidth) + "\r");
        err.flush();
      }
    }
  }
}
