package calculon.util;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

/**
 * A progress line that fits the width the me.tongfei progressbar library gives it (the terminal's
 * width less one column, or {@link ProgressBars#LINE_WIDTH_CHARS} for plain lines) with a bar of
 * at least {@link #MIN_BAR_CELLS} cells, by giving up detail rather than bar or fields.
 *
 * <p>The library's own renderer ({@code DefaultProgressBarRenderer} 0.10.1) keeps every field and
 * shrinks the bar to one cell, then cuts the line's end: at 80 columns a search's line had a bar of
 * one or two cells and its rate and best cut off. This renderer draws the same line when it fits
 * (task, percentage, bar, {@code done/total unit (elapsed / ETA)}, then the caller's fields joined
 * by ", ") and otherwise takes the first of these layouts whose bar gets {@link #MIN_BAR_CELLS}:
 * <ol>
 *   <li>the caller's fields in their short form ({@code 2.51M exec/s} for {@code 2,507,331 exec/s});</li>
 *   <li>{@code ETA h:mm:ss} instead of {@code (elapsed / ETA)};</li>
 *   <li>counts of 10,000 and more to 3 significant digits with k, M, G ({@code 13.2M/50.8M});</li>
 *   <li>no task name;</li>
 *   <li>no counts (the percentage stays);</li>
 *   <li>the caller's fields dropped from the last one on (the ETA stays).</li>
 * </ol>
 * When even the last leaves fewer cells, the bar has what is left, at least one cell, and a line
 * still too long is cut at its end, as the library does. The bar's characters are those of the
 * library's styles {@code COLORFUL_UNICODE_BLOCK} (terminal) and {@code ASCII} (plain lines), whose
 * fields the library keeps package-private ({@link Style}). Thread-safe: the library renders from
 * its own thread, and the fields function must be safe to call from there.
 */
public final class FittedBarRenderer implements ProgressBarRenderer {
  /**
   * The fewest bar cells a layout must leave to be taken: at 8 fractional steps a cell, 80 steps
   * over the bar, finer than the percentage beside it.
   */
  public static final int MIN_BAR_CELLS = 10;
  /** Counts below this are always shown whole (a sweep's points, a small search). */
  static final long COMPACT_FROM = 10_000;
  /** Significant digits of a short-form count or rate. */
  static final int COMPACT_SIGNIFICANT_DIGITS = 3;

  /** ANSI "all attributes off", as the colourful style's right bracket ends. */
  static final String RESET = "\u001b[0m";

  /** The fields after the counts and times: a rate, a best value, in display order. */
  @FunctionalInterface
  public interface Fields {
    /**
     * The fields to show for {@code state}, most important first (a narrow line drops the last
     * first); {@code compact}: their short forms. Never null; no field null.
     */
    List<String> of(ProgressState state, boolean compact);
  }

  /**
   * A bar's characters, as the library's {@link me.tongfei.progressbar.ProgressBarStyle} of the same
   * name has them (0.10.1, {@code ProgressBarStyle.java}): brackets, a full cell, an empty cell and
   * the partial cells, the first of which (a space) also follows a bar that is not full.
   */
  public record Style(String left, String right, char block, char space, String fractions) {
    /** {@code ProgressBarStyle.COLORFUL_UNICODE_BLOCK}: a yellow bar of Unicode blocks. */
    public static final Style COLORFUL_UNICODE_BLOCK =
        new Style("\u001b[33m│", "│\u001b[0m", '█', ' ', " ▏▎▍▌▋▊▉");
    /** {@code ProgressBarStyle.ASCII}. */
    public static final Style ASCII = new Style("[", "]", '=', ' ', ">");
  }

  private final Style style;
  private final String unit;
  private final Function<ProgressState, Optional<Duration>> eta;
  private final Fields fields;

  /**
   * @param style  the bar's characters
   * @param unit   appended to the counts ({@code " points"}), or ""
   * @param eta    the time left (empty: "?")
   * @param fields the caller's fields
   */
  public FittedBarRenderer(Style style, String unit, Function<ProgressState, Optional<Duration>> eta, Fields fields) {
    this.style = style;
    this.unit = unit;
    this.eta = eta;
    this.fields = fields;
  }

  @Override
  public String render(ProgressState state, int maxLength) {
    long max = state.getMax();
    long current = state.getCurrent();
    boolean indefinite = state.isIndefinite() || max <= 0;
    String left = eta.apply(state).map(FittedBarRenderer::duration).orElse("?");
    Parts p = new Parts(state.getTaskName(), percentage(current, max, indefinite),
        ratio(current, max, indefinite, false), ratio(current, max, indefinite, true),
        duration(state.getTotalElapsed()), left, fields.of(state, false), fields.of(state, true));
    return line(style, p, indefinite ? 0 : state.getNormalizedProgress(), !indefinite && current >= max, maxLength);
  }

  /** What a line shows besides the bar, each field in its long and short form. */
  record Parts(String task, String percent, String ratio, String ratioCompact, String elapsed,
               String eta, List<String> fields, List<String> fieldsCompact) {}

  /**
   * The line for {@code p} at {@code maxLength} display columns, with {@code progress} (0 to 1) of
   * the bar full ({@code finished}: no trailing partial cell); the layouts of the class comment.
   */
  static String line(Style style, Parts p, double progress, boolean finished, int maxLength) {
    if (maxLength <= 0) {
      return "";
    }
    List<String[]> layouts = new ArrayList<>();
    String withTask = p.task().isEmpty() ? "" : p.task() + " ";
    String times = "(" + p.elapsed() + " / " + p.eta() + ")";
    String etaOnly = "ETA " + p.eta();
    layouts.add(new String[] {withTask, p.ratio(), times, String.join(", ", p.fields())});
    String compactFields = String.join(", ", p.fieldsCompact());
    layouts.add(new String[] {withTask, p.ratio(), times, compactFields});
    layouts.add(new String[] {withTask, p.ratio(), etaOnly, compactFields});
    layouts.add(new String[] {withTask, p.ratioCompact(), etaOnly, compactFields});
    layouts.add(new String[] {"", p.ratioCompact(), etaOnly, compactFields});
    layouts.add(new String[] {"", "", etaOnly, compactFields});
    for (int keep = p.fieldsCompact().size() - 1; keep >= 0; keep--) {
      layouts.add(new String[] {"", "", etaOnly, String.join(", ", p.fieldsCompact().subList(0, keep))});
    }
    String prefix = "";
    String suffix = "";
    for (String[] l : layouts) {
      prefix = l[0] + p.percent() + " " + style.left();
      StringBuilder s = new StringBuilder(style.right());
      for (int i = 1; i < l.length; i++) {
        if (!l[i].isEmpty()) {
          s.append(' ').append(l[i]);
        }
      }
      suffix = s.toString();
      if (maxLength - displayLength(prefix) - displayLength(suffix) >= MIN_BAR_CELLS) {
        break;
      }
    }
    int cells = Math.max(maxLength - displayLength(prefix) - displayLength(suffix), 1);
    String whole = prefix + bar(style, progress, finished, cells) + suffix;
    String cut = trim(whole, maxLength);
    // a line cut before the closing bracket would leave the terminal coloured
    return cut.length() < whole.length() && cut.indexOf('\u001b') >= 0 ? cut + RESET : cut;
  }

  /** {@code cells} cells of bar, {@code progress} of them full, as the library draws a definite bar. */
  static String bar(Style style, double progress, boolean finished, int cells) {
    double p = Math.max(0, Math.min(1, progress)) * cells;
    int full = Math.min((int) p, cells);
    StringBuilder b = new StringBuilder(cells);
    b.append(String.valueOf(style.block()).repeat(full));
    if (!finished && full < cells) {
      int fraction = (int) Math.floor((p - Math.floor(p)) * style.fractions().length());
      // the library's right-side fraction symbol is a space in both styles
      b.append(fraction != 0 ? style.fractions().charAt(fraction) : style.space());
      b.append(String.valueOf(style.space()).repeat(cells - full - 1));
    } else {
      b.append(String.valueOf(style.space()).repeat(cells - full));
    }
    return b.toString();
  }

  /** The percentage done, right-aligned in 4 columns as the library shows it ({@code " 26%"}, {@code "? %"}). */
  static String percentage(long current, long max, boolean indefinite) {
    String s = indefinite ? "? %" : (int) Math.floor(100.0 * current / max) + "%";
    return " ".repeat(Math.max(4 - s.length(), 0)) + s;
  }

  /** {@code current/max unit}, whole (current padded to max's width) or short ({@link #compact}). */
  String ratio(long current, long max, boolean indefinite, boolean compact) {
    String m = indefinite ? "?" : compact ? compact(max) : String.valueOf(max);
    String c = compact ? compact(current) : String.valueOf(current);
    return " ".repeat(Math.max(m.length() - c.length(), 0)) + c + "/" + m + unit;
  }

  /**
   * A count or rate in short form: whole below {@link #COMPACT_FROM} ({@code 3072}), else to
   * {@link #COMPACT_SIGNIFICANT_DIGITS} significant digits with k, M, G, T for thousands, millions,
   * billions, trillions ({@code 345k}, {@code 2.51M}, {@code 13.2M}). Negative or non-finite values
   * as {@link String#valueOf(double)} would, rounded to a whole number.
   */
  public static String compact(double value) {
    if (!Double.isFinite(value) || Math.abs(value) < COMPACT_FROM) {
      return Double.isFinite(value) ? String.valueOf(Math.round(value)) : String.valueOf(value);
    }
    String[] suffixes = {"", "k", "M", "G", "T"};
    double v = value;
    int g = 0;
    while (Math.abs(v) >= 999.5 && g < suffixes.length - 1) {
      v /= 1000;
      g++;
    }
    int decimals = Math.abs(v) >= 99.95 ? 0 : Math.abs(v) >= 9.995 ? 1 : 2;
    decimals = Math.max(0, Math.min(decimals, COMPACT_SIGNIFICANT_DIGITS - 1));
    return String.format(Locale.ROOT, "%." + decimals + "f", v) + suffixes[g];
  }

  /** {@code h:mm:ss}, as the library writes durations. */
  static String duration(Duration d) {
    long s = Math.max(d.getSeconds(), 0);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
  }

  /** Display columns of {@code s}: ANSI colour sequences ({@code ESC [ ... m}) take none, every other char one. */
  static int displayLength(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '\u001b') {
        while (i < s.length() && s.charAt(i) != 'm') {
          i++;
        }
      } else {
        n++;
      }
    }
    return n;
  }

  /** {@code s} cut to {@code max} display columns (colour sequences kept whole). */
  static String trim(String s, int max) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '\u001b') {
        while (i < s.length() && s.charAt(i) != 'm') {
          i++;
        }
      } else if (++n > max) {
        return s.substring(0, i);
      }
    }
    return s;
  }
}
