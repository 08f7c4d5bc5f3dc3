package calculon.util;

import com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Number and value formatting exactly as Python 3 prints it, so that our outputs are byte for byte
 * those of the reference: {@code repr(float)}, {@code f"{x:.Nf}"}, Calculon's {@code human_format}
 * and {@code repr()} of a parsed JSON value (a dict printed in the text summary).
 */
public final class PyFormat {
  private PyFormat() {}

  /** Integers below this are exact doubles with unit spacing at most (IEEE 754 binary64: 53-bit significand). */
  private static final double TWO_TO_53 = 9007199254740992.0;

  /** Python's repr switches to exponent form when the decimal exponent is below this... */
  private static final int REPR_MIN_FIXED_EXPONENT = -4;
  /** ...or at least this (CPython float_repr_style 'short', pystrtod.c format_float_short). */
  private static final int REPR_MAX_FIXED_EXPONENT = 16;
  /** 17 significant digits always identify a double (IEEE 754 binary64). */
  private static final int MAX_DOUBLE_DIGITS = 17;

  /** {@code human_format} prints three decimals (reference util.py:21, precision=3). */
  private static final int HUMAN_PRECISION = 3;
  private static final String[] HUMAN_LABELS = {"", "k", "M", "G", "T", "P", "E"};

  /**
   * Python 3 {@code repr(x)} of a float: the shortest digits that read back as {@code x} (the
   * closest of them on a tie), fixed notation with at least one fractional digit when the decimal
   * exponent is in [-4, 16), else {@code d.ddde+XX}; {@code inf}, {@code -inf}, {@code nan}.
   *
   * <p>The digits come from Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020;
   * the copy inside jackson-core, {@code com.fasterxml.jackson.core.io.schubfach}): the shortest
   * decimal that rounds to {@code x}, the closest to it among those, even digit on a tie, which is
   * CPython's {@code repr} (David Gay's shortest mode) with one exception: when a one-digit
   * decimal rounds to {@code x}, Schubfach may answer with a closer two-digit one (Java's
   * {@code Double.toString} rule, e.g. {@code 4.9E-324} where Python prints {@code 5e-324}).
   * Two-digit answers whose one-digit neighbours round to {@code x} go the exact way
   * ({@link #reprExact}).
   */
  public static String repr(double x) {
    return REPR_MEMO.get().repr(x);
  }

  /**
   * This thread's memo of recent {@link #repr} results: a caller that formats many values in a row
   * (a CSV writer) fetches it once and calls {@link ReprMemo#repr} on it, saving the thread-local
   * lookup per value. Confined to the calling thread.
   */
  public static ReprMemo threadMemo() {
    return REPR_MEMO.get();
  }

  private static final ThreadLocal<ReprMemo> REPR_MEMO = ThreadLocal.withInitial(ReprMemo::new);

  /**
   * A thread's recent {@link #repr} results. Rows of a search repeat many values (the block-level
   * stats of executions sharing a block), so each thread remembers the text of recent values,
   * direct-mapped by their bits.
   */
  public static final class ReprMemo {
    static final int SLOTS = 4096;
    private final long[] bits = new long[SLOTS];
    private final String[] text = new String[SLOTS];

    ReprMemo() {}

    /** {@link PyFormat#repr}{@code (x)}, from the memo when this thread formatted {@code x} recently. */
    public String repr(double x) {
      long b = Double.doubleToRawLongBits(x);
      if (b == 0L) {
        return "0.0"; // the commonest value of a stats row
      }
      int slot = (int) (b ^ (b >>> 23) ^ (b >>> 47)) & (SLOTS - 1);
      String t = text[slot];
      if (t != null && bits[slot] == b) {
        return t;
      }
      t = reprUncached(x);
      bits[slot] = b;
      text[slot] = t;
      return t;
    }
  }

  /** Python's repr of a NaN, an infinity or a zero; null for any other value. */
  private static String reprSpecial(double x) {
    if (Double.isNaN(x)) {
      return "nan";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    if (x == 0) {
      return (Double.doubleToRawLongBits(x) < 0) ? "-0.0" : "0.0";
    }
    return null;
  }

  private static String reprUncached(double x) {
    String special = reprSpecial(x);
    if (special != null) {
      return special;
    }
    double abs = Math.abs(x);
    if (abs < TWO_TO_53 && abs == Math.rint(abs)) {
      // an integer below 2^53: its own digits are the shortest (every integer near it is a double,
      // and dropping a digit moves the value by at least 1, beyond the half-ulp <= 0.5 that rounds
      // back), and below 2^53 < 10^16 Python writes it in fixed notation, with ".0"; byte counts
      // and integral stats take this path
      return Long.toString((long) x).concat(".0");
    }
    String java = DoubleToDecimal.toString(x);
    if (java.indexOf('E') < 0 && plainSignificantDigits(java) != 2) {
      // Java writes [-]I.F, no exponent, for 10^-3 <= |x| < 10^7 (Double.toString's rule, which
      // Schubfach follows), where Python's decimal exponent (-3..6) also means fixed notation: the
      // same shortest digits, the same single fractional 0 for an integer, the same text
      return java;
    }
    // Java's format: [-]I.F or [-]I.FE[-]N, I.F holding the digits, N the exponent
    String j = java;
    int len = j.length();
    int start = j.charAt(0) == '-' ? 1 : 0;
    int e = j.indexOf('E', start);
    int mantissaEnd = e < 0 ? len : e;
    int exp = e < 0 ? 0 : Integer.parseInt(j, e + 1, len, 10);
    char[] digits = new char[mantissaEnd - start];
    int n = 0;
    int intDigits = -1;
    for (int i = start; i < mantissaEnd; i++) {
      char c = j.charAt(i);
      if (c == '.') {
        intDigits = n;
      } else if (c != '0' || n > 0) {
        digits[n++] = c;
      } else if (intDigits >= 0) {
        exp--; // a leading zero after the point: 0.00ddd
      }
    }
    if (intDigits < 0) {
      intDigits = n;
    }
    while (n > 1 && digits[n - 1] == '0') {
      n--;
    }
    int decpt = intDigits + exp;
    if (n == 2 && oneDigitReadsBack(abs, digits[0], decpt)) {
      return reprExact(x);
    }
    return format(x < 0, new String(digits, 0, n), decpt);
  }

  /** Significant digits of a Java decimal without exponent, {@code [-]I.F}: {@code 120.0} has 2. */
  private static int plainSignificantDigits(String java) {
    int first = -1;
    int last = -1;
    int digits = 0;
    for (int i = 0; i < java.length(); i++) {
      char c = java.charAt(i);
      if (c >= '0' && c <= '9') {
        if (c != '0') {
          if (first < 0) {
            first = digits;
          }
          last = digits;
        }
        digits++;
      }
    }
    return first < 0 ? 0 : last - first + 1;
  }

  /** Whether a one-digit decimal next to {@code d0.d1 x 10^(decpt-1)} reads back as {@code abs}. */
  private static boolean oneDigitReadsBack(double abs, char d0, int decpt) {
    int d = d0 - '0';
    return Double.parseDouble(d + "E" + (decpt - 1)) == abs
        || Double.parseDouble((d + 1) + "E" + (decpt - 1)) == abs;
  }

  /** {@link #repr} through exact decimal arithmetic ({@link BigDecimal}): slow, the reference for the fast path. */
  public static String reprExact(double x) {
    String special = reprSpecial(x);
    if (special != null) {
      return special;
    }
    BigDecimal abs = shortestRoundTrip(x).abs().stripTrailingZeros();
    String digits = abs.unscaledValue().toString();
    return format(x < 0, digits, digits.length() - abs.scale());
  }

  /** Python's layout of {@code 0.digits x 10^decpt} (digits without leading or trailing zeros). */
  private static String format(boolean negative, String digits, int decpt) {
    int exponent = decpt - 1;
    StringBuilder sb = new StringBuilder(24);
    if (negative) {
      sb.append('-');
    }
    if (exponent < REPR_MIN_FIXED_EXPONENT || exponent >= REPR_MAX_FIXED_EXPONENT) {
      sb.append(digits.charAt(0));
      if (digits.length() > 1) {
        sb.append('.').append(digits, 1, digits.length());
      }
      sb.append('e').append(exponent < 0 ? '-' : '+');
      int e = Math.abs(exponent);
      if (e < 10) {
        sb.append('0');
      }
      sb.append(e);
    } else if (decpt <= 0) {
      sb.append("0.");
      for (int i = decpt; i < 0; i++) {
        sb.append('0');
      }
      sb.append(digits);
    } else if (decpt >= digits.length()) {
      sb.append(digits);
      for (int i = digits.length(); i < decpt; i++) {
        sb.append('0');
      }
      sb.append(".0");
    } else {
      sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
    }
    return sb.toString();
  }

  /**
   * The shortest decimal that reads back as {@code x}. At each length the nearest candidate is
   * preferred; the neighbour on the other side is also tried because the round-trip interval of a
   * power of two is narrower below than above (the case Java 17's Double.toString gets wrong).
   */
  private static BigDecimal shortestRoundTrip(double x) {
    BigDecimal exact = new BigDecimal(x);
    // Java 17's Double.toString always reads back as x but is sometimes one digit too long, so its
    // length bounds the search. Whether some p-digit decimal reads back is monotone in p (append a
    // zero), so step down from there while a shorter one still does.
    int p = Math.min(significantDigits(Double.toString(x)), MAX_DOUBLE_DIGITS);
    BigDecimal best = roundTripAt(exact, x, p);
    while (best == null && p < MAX_DOUBLE_DIGITS) {
      best = roundTripAt(exact, x, ++p);
    }
    if (best == null) {
      throw new AssertionError("no 17-digit decimal reads back as " + x);
    }
    while (p > 1) {
      BigDecimal shorter = roundTripAt(exact, x, p - 1);
      if (shorter == null) {
        break;
      }
      best = shorter;
      p--;
    }
    return best;
  }

  /** The p-digit decimal that reads back as x, the nearest one if both neighbours do; else null. */
  private static BigDecimal roundTripAt(BigDecimal exact, double x, int p) {
    BigDecimal nearest = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
    if (nearest.doubleValue() == x) {
      return nearest;
    }
    RoundingMode other = nearest.abs().compareTo(exact.abs()) < 0 ? RoundingMode.UP : RoundingMode.DOWN;
    BigDecimal alternative = exact.round(new MathContext(p, other));
    return alternative.doubleValue() == x ? alternative : null;
  }

  /** Significant digits of a Double.toString result such as {@code 1.2345E-5} or {@code 100.0}. */
  private static int significantDigits(String javaRepr) {
    int end = javaRepr.indexOf('E');
    String mantissa = (end < 0 ? javaRepr : javaRepr.substring(0, end)).replace("-", "").replace(".", "");
    int first = 0;
    while (first < mantissa.length() - 1 && mantissa.charAt(first) == '0') {
      first++;
    }
    int last = mantissa.length();
    while (last > first + 1 && mantissa.charAt(last - 1) == '0') {
      last--;
    }
    return last - first;
  }

  /**
   * Python {@code f"{x:.{decimals}f}"}: the exact binary value rounded half-even to {@code decimals}
   * places; a negative value that rounds to zero keeps its sign ({@code -0.0000}).
   */
  public static String fixed(double x, int decimals) {
    if (Double.isNaN(x)) {
      return "nan";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    boolean negative = Double.doubleToRawLongBits(x) < 0;
    String body = new BigDecimal(Math.abs(x)).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    return negative ? "-" + body : body;
  }

  /**
   * Bytes as {@link #humanFormat} prints them with type bytes ({@code 9.702 GiB}), except below
   * 1 KiB, where human_format's {@code 0.000 iB} becomes whole bytes ({@code 0 B}, {@code 512 B};
   * one decimal for a fractional count), and from 1 KiB to below 1 MiB, where human_format's
   * lower-case {@code kiB} becomes the IEC 80000-13 kibibyte symbol {@code KiB}
   * ({@code 104.858 KiB}). For what calculon prints itself (reports, the corrected model's
   * summary); the calculon-moe summary keeps human_format's text byte for byte.
   */
  public static String bytes(double v) {
    if (Math.abs(v) < BYTES_PER_KIB) {
      return (v == Math.rint(v) ? String.valueOf((long) v) : fixed(v, 1)) + " B";
    }
    String text = humanFormat(v, "bytes");
    return text.endsWith(HUMAN_KIB) ? text.substring(0, text.length() - HUMAN_KIB.length()) + " KiB" : text;
  }

  /** human_format's kibibyte suffix: its decimal label {@code k} before the bytes suffix {@code iB}. */
  private static final String HUMAN_KIB = " kiB";

  private static final double BYTES_PER_KIB = 1024;

  /**
   * Calculon's {@code human_format(value, type)} (reference util.py:21-63): divide by 1000 or 1024
   * while the magnitude is at least that, then print three decimals, a space, the unit prefix and
   * the type's suffix, e.g. {@code 9.702 GiB}, {@code 24.566 GB/s}, {@code 0.000 iB}.
   *
   * @param type one of base10, base2, bytes, bandwidth, flops, throughput
   */
  public static String humanFormat(double value, String type) {
    int step;
    String suffix;
    switch (type) {
      case "base10": step = 1000; suffix = ""; break;
      case "base2": step = 1024; suffix = ""; break;
      case "bytes": step = 1024; suffix = "iB"; break;
      case "bandwidth": step = 1000; suffix = "B/s"; break;
      case "flops": step = 1000; suffix = "Ops"; break;
      case "throughput": step = 1000; suffix = "Op/s"; break;
      default:
        throw new IllegalArgumentException("human_format type must be base10, base2, bytes, flops,"
            + " bandwidth or throughput, not " + type);
    }
    double abs = Math.abs(value);
    int index = 0;
    // The reference may divide once more than it has labels (and then fails); we stop at 'E'.
    while (index < HUMAN_LABELS.length - 1 && abs >= step) {
      abs /= step;
      index++;
    }
    double signed = value >= 0 ? abs : -abs;
    return fixed(signed, HUMAN_PRECISION) + " " + HUMAN_LABELS[index] + suffix;
  }

  /**
   * Python {@code repr()} of a JSON-like value as Python holds it after {@code json.load} or in a
   * dict it built: {@code {'a': 1, 'b': [1.0, None], 'c': True}}. Accepts Jackson {@link JsonNode}
   * trees and plain Java values ({@link Map}, {@link List}, String, Boolean, integral numbers
   * printed as ints, Double/Float printed with {@link #repr(double)}, null as None).
   */
  public static String reprValue(Object value) {
    StringBuilder sb = new StringBuilder();
    appendRepr(sb, value);
    return sb.toString();
  }

  private static void appendRepr(StringBuilder sb, Object value) {
    if (value instanceof JsonNode) {
      appendReprNode(sb, (JsonNode) value);
    } else if (value == null) {
      sb.append("None");
    } else if (value instanceof Boolean) {
      sb.append((Boolean) value ? "True" : "False");
    } else if (value instanceof Double || value instanceof Float) {
      sb.append(repr(((Number) value).doubleValue()));
    } else if (value instanceof BigDecimal) {
      sb.append(repr(((BigDecimal) value).doubleValue()));
    } else if (value instanceof Number) {
      sb.append(value);
    } else if (value instanceof CharSequence) {
      sb.append(reprString(value.toString()));
    } else if (value instanceof Enum<?>) {
      sb.append(reprString(((Enum<?>) value).name()));
    } else if (value instanceof Map<?, ?>) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        appendRepr(sb, e.getKey());
        sb.append(": ");
        appendRepr(sb, e.getValue());
      }
      sb.append('}');
    } else if (value instanceof Iterable<?>) {
      sb.append('[');
      boolean first = true;
      for (Object item : (Iterable<?>) value) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        appendRepr(sb, item);
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("no Python repr for " + value.getClass().getName());
    }
  }

  private static void appendReprNode(StringBuilder sb, JsonNode node) {
    switch (node.getNodeType()) {
      case OBJECT: {
        sb.append('{');
        Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
        boolean first = true;
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          if (!first) {
            sb.append(", ");
          }
          first = false;
          sb.append(reprString(e.getKey())).append(": ");
          appendReprNode(sb, e.getValue());
        }
        sb.append('}');
        break;
      }
      case ARRAY: {
        sb.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            sb.append(", ");
          }
          appendReprNode(sb, node.get(i));
        }
        sb.append(']');
        break;
      }
      case NUMBER:
        if (node.isIntegralNumber()) {
          sb.append(node.bigIntegerValue());
        } else {
          sb.append(repr(node.doubleValue()));
        }
        break;
      case STRING:
        sb.append(reprString(node.textValue()));
        break;
      case BOOLEAN:
        sb.append(node.booleanValue() ? "True" : "False");
        break;
      case NULL:
      case MISSING:
        sb.append("None");
        break;
      default:
        throw new IllegalArgumentException("no Python repr for JSON node " + node.getNodeType());
    }
  }

  /**
   * Python {@code repr(str)}: single quotes unless the text holds a single quote and no double
   * quote; backslash escapes for the quote, backslash, \t \n \r and other control characters.
   */
  public static String reprString(String s) {
    char quote = (s.indexOf('\'') >= 0 && s.indexOf('"') < 0) ? '"' : '\'';
    StringBuilder sb = new StringBuilder(s.length() + 2).append(quote);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == quote || c == '\\') {
        sb.append('\\').append(c);
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append(quote).toString();
  }
}
