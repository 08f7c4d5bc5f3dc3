package calculon.report;

import calculon.util.AtomicFile;

import calculon.util.PyFormat;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A self-contained HTML page: inline style, inline SVG charts, and two tiny inline scripts (table
 * sorting, and a render check that a headless browser can read back from the DOM).
 *
 * <p>Every number the page shows from the stats is wrapped as
 * {@code <span class="num" data-key="KEY" data-value="REPR">shown</span>}: {@code data-value} is
 * the exact value (Python repr), so tests and scripts can check the page against the stats.
 */
final class Html {
  /** The page title prefix. */
  static final String GENERATOR = "calculon";

  private final StringBuilder b = new StringBuilder(1 << 16);

  Html(String title) {
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"generator\" content=\"").append(GENERATOR).append("\">\n")
        .append("<title>").append(esc(title)).append("</title>\n")
        // first of all, so that it sees errors of every later script
        .append("<script>").append(ERROR_TRAP).append("</script>\n")
        .append("<style>").append(STYLE).append("</style>\n</head>\n<body>\n")
        .append("<h1>").append(esc(title)).append("</h1>\n");
  }

  Html raw(String html) {
    b.append(html);
    return this;
  }

  Html h2(String text) {
    b.append("<h2>").append(esc(text)).append("</h2>\n");
    return this;
  }

  Html p(String cssClass, String html) {
    b.append("<p class=\"").append(cssClass).append("\">").append(html).append("</p>\n");
    return this;
  }

  /** A chart: a figure holding its inline SVG, with a caption. */
  Html chart(String id, String svg, String caption) {
    b.append("<figure class=\"chart\" id=\"").append(id).append("\">").append(svg)
        .append("<figcaption>").append(caption).append("</figcaption></figure>\n");
    return this;
  }

  /** The finished page (render-check and sorting scripts appended). */
  String finish() {
    b.append("<footer>Made by calculon. Self-contained: no network access needed. Click a table "
        + "heading to sort by it.</footer>\n");
    b.append("<script>").append(SCRIPT).append("</script>\n</body>\n</html>\n");
    return b.toString();
  }

  /** Writes the page to {@code out} through a temporary file, so a failure leaves nothing half-written. */
  static void write(String page, Path out) throws IOException {
    AtomicFile.writeText(out, page);
  }

  /** HTML-escaped text. */
  static String esc(String s) {
    StringBuilder o = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<': o.append("&lt;"); break;
        case '>': o.append("&gt;"); break;
        case '&': o.append("&amp;"); break;
        case '"': o.append("&quot;"); break;
        case '\'': o.append("&#39;"); break;
        default: o.append(c);
      }
    }
    return o.toString();
  }

  /** A number from the stats: {@code shown} on the page, the exact value in data-value. */
  static String num(String key, double value, String shown) {
    return "<span class=\"num\" data-key=\"" + esc(key) + "\" data-value=\"" + PyFormat.repr(value) + "\">"
        + esc(shown) + "</span>";
  }

  /** A sortable table cell holding a number: sorts by its exact value, shows {@code shown}. */
  static String numCell(String key, double value, String shown) {
    return "<td data-sort=\"" + PyFormat.repr(value) + "\">" + num(key, value, shown) + "</td>";
  }

  /** Seconds with 4 decimals, as the text summary prints them. */
  static String seconds(double s) {
    return PyFormat.fixed(s, 4) + " s";
  }

  /** A share as a percentage with 1 decimal. */
  static String percent(double fraction) {
    return PyFormat.fixed(fraction * 100, 1) + "%";
  }

  /**
   * Bytes with binary prefixes as the text summary prints them (human_format: {@code 9.702 GiB});
   * below 1 KiB in whole bytes ({@code 0 B}, {@code 512 B}) where human_format would print
   * {@code 0.000 iB}.
   */
  static String bytes(double v) {
    return PyFormat.bytes(v);
  }

  /** Relative distance from a whole number below which a byte count is the rounding noise of a float sum. */
  private static final double BYTE_NOISE = 1e-12;

  /**
   * An exact byte count as text: a whole number of bytes ({@code 20702869504}, not
   * {@code 20702869504.000004} or {@code 20702869504.0}) unless it really has a fraction (float4
   * tensors are half a byte per element).
   */
  static String byteCount(double v) {
    double whole = Math.rint(v);
    if (Double.isFinite(v) && Math.abs(v - whole) <= BYTE_NOISE * Math.abs(v) && Math.abs(whole) < 0x1p63) {
      return String.valueOf((long) whole);
    }
    return PyFormat.repr(v);
  }

  /** A byte count from the stats: {@link #bytes} on the page, the whole byte count in data-value. */
  static String numBytes(String key, double value) {
    return "<span class=\"num\" data-key=\"" + esc(key) + "\" data-value=\"" + byteCount(value) + "\">"
        + esc(bytes(value)) + "</span>";
  }

  /** A sortable table cell holding a byte count, shown in whole bytes. */
  static String byteCountCell(String key, double value) {
    String exact = byteCount(value);
    return "<td data-sort=\"" + exact + "\"><span class=\"num\" data-key=\"" + esc(key) + "\" data-value=\""
        + exact + "\">" + exact + "</span></td>";
  }

  /** A sortable table cell holding a byte count, shown with {@link #bytes}. */
  static String numBytesCell(String key, double value) {
    return "<td data-sort=\"" + byteCount(value) + "\">" + numBytes(key, value) + "</td>";
  }

  /** Sets data-js-errors on the root element for any uncaught error or console.error. */
  private static final String ERROR_TRAP =
      "(function(){var n=0;function mark(){n++;document.documentElement.setAttribute('data-js-errors',String(n));}"
      + "window.addEventListener('error',mark);window.addEventListener('unhandledrejection',mark);"
      + "var ce=console.error;console.error=function(){mark();return ce.apply(console,arguments);};})();";

  /**
   * Sorting: a click on a th of a table.sortable sorts its body by that column (numbers by
   * data-sort, else text), again to reverse. Render check: counts the charts whose SVG has a
   * visible box and drawn elements, and writes data-charts / data-charts-rendered on the body.
   */
  private static final String SCRIPT =
      "document.querySelectorAll('table.sortable').forEach(function(t){"
      + "t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){"
      + "var asc=th.getAttribute('data-dir')!=='asc';t.querySelectorAll('th').forEach(function(h){h.removeAttribute('data-dir');});"
      + "th.setAttribute('data-dir',asc?'asc':'desc');var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);"
      + "function key(r){var c=r.cells[i];var s=c.getAttribute('data-sort');return s===null?c.textContent:parseFloat(s);}"
      + "rows.sort(function(a,b){var x=key(a),y=key(b);var d=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?d:-d;});"
      + "rows.forEach(function(r){body.appendChild(r);});});});});"
      + "(function(){var figs=document.querySelectorAll('figure.chart');var ok=0;figs.forEach(function(f){"
      + "var s=f.querySelector('svg');if(!s)return;var r=s.getBoundingClientRect();"
      + "if(r.width>0&&r.height>0&&s.querySelectorAll('rect,path,text').length>0)ok++;});"
      + "document.body.setAttribute('data-charts',String(figs.length));"
      + "document.body.setAttribute('data-charts-rendered',String(ok));})();";

  private static final String STYLE =
      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}"
      + "h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}"
      + ".verdict{font-size:17px;background:#FFF6E0;border-left:5px solid #E69F00;padding:10px 14px;margin:12px 0}"
      + ".verdict.bad{background:#FDECEC;border-left-color:#C00000}"
      + ".note{color:#555;font-size:13px}"
      + ".grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure.chart{margin:0}"
      + "figcaption{font-size:12px;color:#555;max-width:900px}"
      + "table{border-collapse:collapse;font-size:12.5px;margin:6px 0}"
      + "th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}"
      + "th{background:#f3f3f3;cursor:pointer;user-select:none}td:first-child,th:first-child{text-align:left}"
      + "th[data-dir=asc]::after{content:' \\25B2'}th[data-dir=desc]::after{content:' \\25BC'}"
      + "table.kv td:first-child{color:#555}.scroll{overflow-x:auto;max-height:640px;overflow-y:auto}"
      + "footer{margin-top:32px;font-size:12px;color:#777}";
}
