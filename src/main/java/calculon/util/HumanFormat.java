package calculon.util;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Human-readable magnitudes as the reference prints them: {@code 9.702 GiB}, {@code 24.566 GB/s}. */
public final class HumanFormat {
  private HumanFormat() {}

  /** A unit: the step between prefixes and the suffix after the prefix. */
  public enum Unit {
    BASE10(1000, ""), BASE2(1024, ""), BYTES(1024, "iB"), BANDWIDTH(1000, "B/s"),
    FLOPS(1000, "Ops"), THROUGHPUT(1000, "Op/s");

    final double step;
    final String suffix;

    Unit(double step, String suffix) {
      this.step = step;
      this.suffix = suffix;
    }
  }

  private static final String[] PREFIXES = {"", "k", "M", "G", "T", "P", "E"};

  /** Three decimals and a prefix, e.g. {@code format(10418e6, BYTES)} gives {@code "9.702 GiB"}. */
  public static String format(double value, Unit unit) {
    double abs = Math.abs(value);
    int index = 0;
    while (index < PREFIXES.length - 1 && abs >= unit.step) {
      abs /= unit.step;
      index++;
    }
    double signed = value >= 0 ? abs : -abs;
    return fixed(signed, 3) + " " + PREFIXES[index] + unit.suffix;
  }

  /** Python's {@code f"{x:.Nf}"}: the exact binary value rounded half-even. */
  public static String fixed(double value, int decimals) {
    if (Double.isNaN(value)) {
      return "nan";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    String s = new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    if (value < 0 || (value == 0 && 1 / value < 0)) {
      // Python keeps the sign of negative values that round to zero: -0.000
      if (!s.startsWith("-")) {
        s = "-" + s;
      }
    }
    return s;
  }
}
