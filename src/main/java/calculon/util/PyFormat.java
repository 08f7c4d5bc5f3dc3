package calculon.util;

import java.util.Locale;

/**
 * PLACEHOLDER (replaced on merge): Python's float {@code repr}, the shortest decimal that reads
 * back as the same double, in fixed notation for 1e-4 &lt;= |x| &lt; 1e16 and exponent notation
 * otherwise ({@code 5.43e-05}, {@code 1e+16}); integral values keep a {@code .0}.
 */
public final class PyFormat {
  private PyFormat() {}

  public static String repr(double x) {
    if (Double.isNaN(x)) {
      return "nan";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    if (x == 0) {
      return (1 / x < 0) ? "-0.0" : "0.0";
    }
    // Java's Double.toString round-trips but may carry one digit too many: start from its digit
    // count and shorten while the value still reads back
    String js = Double.toString(Math.abs(x));
    int ePos = js.indexOf('E');
    String mantissa = ePos < 0 ? js : js.substring(0, ePos);
    String jd = mantissa.replace(".", "").replaceFirst("^0+", "");
    int end0 = jd.length();
    while (end0 > 1 && jd.charAt(end0 - 1) == '0') {
      end0--;
    }
    int p = Math.max(1, Math.min(17, end0));
    String sci = String.format(Locale.ROOT, "%." + (p - 1) + "e", x);
    while (p > 1) {
      String shorter = String.format(Locale.ROOT, "%." + (p - 2) + "e", x);
      if (Double.parseDouble(shorter) != x) {
        break;
      }
      sci = shorter;
      p--;
    }
    if (Double.parseDouble(sci) != x) {
      for (p = 1; p <= 17; p++) {
        sci = String.format(Locale.ROOT, "%." + (p - 1) + "e", x);
        if (Double.parseDouble(sci) == x) {
          break;
        }
      }
    }
    // sci = [-]d.ddde[+-]XX
    int e = sci.indexOf('e');
    String mant = sci.substring(0, e);
    int exp = Integer.parseInt(sci.substring(e + 1));
    boolean neg = mant.startsWith("-");
    String digits = mant.replace("-", "").replace(".", "");
    // strip trailing zeros of the digit string
    int end = digits.length();
    while (end > 1 && digits.charAt(end - 1) == '0') {
      end--;
    }
    digits = digits.substring(0, end);
    int decpt = exp + 1; // x = 0.d1d2... * 10^decpt
    StringBuilder sb = new StringBuilder();
    if (neg) {
      sb.append('-');
    }
    if (decpt > -4 && decpt <= 16) {
      if (decpt <= 0) {
        sb.append("0.");
        for (int i = 0; i < -decpt; i++) {
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
    } else {
      sb.append(digits.charAt(0));
      if (digits.length() > 1) {
        sb.append('.').append(digits, 1, digits.length());
      }
      int ex = decpt - 1;
      sb.append('e').append(ex < 0 ? '-' : '+');
      int a = Math.abs(ex);
      if (a < 10) {
        sb.append('0');
      }
      sb.append(a);
    }
    return sb.toString();
  }
}
