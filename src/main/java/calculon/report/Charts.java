package calculon.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.Rectangle;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The report's charts: drawn by JFreeChart, turned into inline SVG by JFreeSVG. Every chart has a
 * white background and the same palette, so the two report kinds look alike.
 */
final class Charts {
  private Charts() {}

  static {
    // JFreeChart uses AWT font metrics; no display is needed or wanted.
    System.setProperty("java.awt.headless", "true");
  }

  /**
   * The categorical palette: the eight colours of Okabe and Ito (2008, "Color Universal Design"),
   * then five of Paul Tol's "muted" scheme (indigo, wine, olive, pale grey, green; Tol 2021, "Colour
   * Schemes", SRON/EPS/TN/09-002) that stay apart from them. Every pair is at least 26 CIELAB
   * units apart for normal vision and 13 under simulated protanopia and deuteranopia (Machado et
   * al. 2009); ChartsPaletteTest checks it. Its order is the step bar's parts: forward,
   * backward, optimizer, recompute, recompute comm, bubble, TP, EP, ES, PP, DP, offload, CP.
   */
  static final Color[] PALETTE = {
      new Color(0x0072B2), new Color(0x56B4E9), new Color(0x009E73), new Color(0xCC79A7),
      new Color(0x882255), new Color(0xDDDDDD), new Color(0xE69F00), new Color(0xD55E00),
      new Color(0xF0E442), new Color(0x999933), new Color(0x332288), new Color(0x000000), new Color(0x117733)};
  private static final Color GRID = new Color(0xDDDDDD);
  private static final Color LIMIT = new Color(0xC00000);
  private static final Font TITLE_FONT = new Font("SansSerif", Font.BOLD, 14);
  private static final Font LABEL_FONT = new Font("SansSerif", Font.PLAIN, 11);
  /** Distinct SVG ids across the charts of one page (clip paths live in each SVG's defs). */
  private static final AtomicInteger NEXT_ID = new AtomicInteger();

  /** One stacked segment: its label, value and colour. */
  record Segment(String label, double value, Color color) {}

  /** The chart as an {@code <svg>} element of the given size in pixels. */
  static String svg(JFreeChart chart, int width, int height) {
    SVGGraphics2D g = new SVGGraphics2D(width, height);
    g.setDefsKeyPrefix("c" + NEXT_ID.incrementAndGet() + "_");
    chart.draw(g, new Rectangle(0, 0, width, height));
    return g.getSVGElement();
  }

  /**
   * One horizontal bar stacked from {@code segments} (each its own legend entry), on an axis
   * labelled {@code unit}; a red line with its label at {@code limit} when that is not NaN.
   */
  static JFreeChart stackedBar(String title, String category, List<Segment> segments, String unit,
                               double limit, String limitLabel) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Segment s : segments) {
      data.addValue(s.value(), s.label(), category);
    }
    JFreeChart chart = ChartFactory.createStackedBarChart(title, null, unit, data,
        PlotOrientation.HORIZONTAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    styleCategoryPlot(chart, plot);
    BarRenderer r = (BarRenderer) plot.getRenderer();
    for (int i = 0; i < segments.size(); i++) {
      r.setSeriesPaint(i, segments.get(i).color());
    }
    r.setMaximumBarWidth(0.6);
    plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
    double total = segments.stream().mapToDouble(Segment::value).sum();
    if (!Double.isNaN(limit)) {
      ValueMarker m = new ValueMarker(limit, LIMIT, new BasicStroke(2.5f, BasicStroke.CAP_BUTT,
          BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
      m.setLabel(limitLabel);
      m.setLabelFont(LABEL_FONT);
      m.setLabelPaint(LIMIT);
      m.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
      m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
      m.setLabelOffset(new RectangleInsets(2, 2, 4, 4));
      plot.addRangeMarker(m);
      plot.getRangeAxis().setUpperBound(Math.max(limit, total) * 1.08);
      plot.getRangeAxis().setLowerBound(0);
    }
    return chart;
  }

  /** Vertical bars, one per label, with their values printed on top; {@code max} fixes the axis. */
  static JFreeChart bars(String title, List<String> labels, double[] values, String unit, double max) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (int i = 0; i < labels.size(); i++) {
      data.addValue(values[i], unit, labels.get(i));
    }
    JFreeChart chart = ChartFactory.createBarChart(title, null, unit, data,
        PlotOrientation.VERTICAL, false, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    styleCategoryPlot(chart, plot);
    BarRenderer r = (BarRenderer) plot.getRenderer();
    r.setSeriesPaint(0, PALETTE[0]);
    r.setMaximumBarWidth(0.2);
    r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new java.text.DecimalFormat("0.0")));
    r.setDefaultItemLabelsVisible(true);
    r.setDefaultItemLabelFont(LABEL_FONT);
    plot.getRangeAxis().setRange(0, max);
    return chart;
  }

  /**
   * A grid of cells at (x index, y index), coloured by value from {@code low} to {@code high},
   * each printed with its value; cells with NaN are left empty.
   */
  static JFreeChart heatmap(String title, String xLabel, String[] xTicks, String yLabel, String[] yTicks,
                            double[][] values, double low, double high, String valueLabel) {
    int n = 0;
    for (double[] row : values) {
      for (double v : row) {
        if (!Double.isNaN(v)) {
          n++;
        }
      }
    }
    double[][] xyz = new double[3][n];
    int k = 0;
    for (int x = 0; x < values.length; x++) {
      for (int y = 0; y < values[x].length; y++) {
        if (!Double.isNaN(values[x][y])) {
          xyz[0][k] = x;
          xyz[1][k] = y;
          xyz[2][k] = values[x][y];
          k++;
        }
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries(valueLabel, xyz);
    SymbolAxis xAxis = new SymbolAxis(xLabel, xTicks);
    SymbolAxis yAxis = new SymbolAxis(yLabel, yTicks);
    xAxis.setGridBandsVisible(false);
    yAxis.setGridBandsVisible(false);
    XYBlockRenderer r = new XYBlockRenderer();
    // One value (or all equal): a colour bar around it, so that it shows the value it colours
    double lo = low, hi = high;
    if (!(hi > lo)) {
      double pad = lo == 0 ? 1 : Math.abs(lo) * SINGLE_VALUE_PAD;
      lo -= pad;
      hi += pad;
    }
    Viridis scale = new Viridis(lo, hi);
    r.setPaintScale(scale);
    XYPlot plot = new XYPlot(data, xAxis, yAxis, r);
    plot.setBackgroundPaint(new Color(0xF4F4F4));
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    for (int i = 0; i < n; i++) {
      double v = xyz[2][i];
      XYTextAnnotation a = new XYTextAnnotation(String.format(java.util.Locale.ROOT, "%.3g", v), xyz[0][i], xyz[1][i]);
      a.setFont(LABEL_FONT);
      a.setPaint(scale.fraction(v) > 0.6 ? Color.BLACK : Color.WHITE);
      plot.addAnnotation(a);
    }
    JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    NumberAxis legendAxis = new NumberAxis(valueLabel);
    legendAxis.setRange(lo, hi);
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    legend.setAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
    legend.setMargin(new RectangleInsets(4, 8, 4, 4));
    legend.setStripWidth(12);
    chart.addSubtitle(legend);
    return chart;
  }

  /** Half the colour bar's span around a heatmap's only value, relative to it. */
  static final double SINGLE_VALUE_PAD = 0.05;
  /** Room above the highest point of a scatter plot, as a fraction of the axis, so no label can cover it. */
  private static final double SCATTER_TOP_MARGIN = 0.12;
  /** Scatter series colours: all points, the top N, the best one (Okabe-Ito sky blue, vermillion, black). */
  private static final Color[] SCATTER_COLORS = {new Color(0x56B4E9), new Color(0xD55E00), new Color(0x000000)};

  /**
   * A scatter plot of points (x, y) in the named series, in order (later series on top; the
   * third, if any, drawn larger). A vertical red line at {@code xLimit} when that is not NaN,
   * named in the legend below the plot (a label inside the plot could cover the points).
   */
  static JFreeChart scatter(String title, String xLabel, String yLabel, List<String> series,
                            List<double[][]> points, double xLimit, String xLimitLabel) {
    JFreeChart chart = ChartFactory.createScatterPlot(title, xLabel, yLabel, xyData(series, points),
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = styleXy(chart);
    XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) plot.getRenderer();
    for (int s = 0; s < series.size(); s++) {
      r.setSeriesPaint(s, SCATTER_COLORS[s % SCATTER_COLORS.length]);
      double d = s == 2 ? 9 : 5;
      r.setSeriesShape(s, s == 2 ? new java.awt.geom.Rectangle2D.Double(-d / 2, -d / 2, d, d)
          : new java.awt.geom.Ellipse2D.Double(-d / 2, -d / 2, d, d));
    }
    plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD);
    ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(true);
    ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(true);
    plot.getRangeAxis().setUpperMargin(SCATTER_TOP_MARGIN);
    if (!Double.isNaN(xLimit)) {
      plot.addDomainMarker(new ValueMarker(xLimit, LIMIT, new BasicStroke(2f)));
      LegendItemCollection items = plot.getLegendItems();
      LegendItem line = new LegendItem(xLimitLabel, null, null, null, new java.awt.geom.Line2D.Double(-7, 0, 7, 0),
          new BasicStroke(2f), LIMIT);
      items.add(line);
      plot.setFixedLegendItems(items);
      // the line stays inside the plot even when every point is far below it
      double upper = Math.max(plot.getDomainAxis().getUpperBound(), xLimit * 1.05);
      plot.getDomainAxis().setUpperBound(upper);
    }
    return chart;
  }

  /** The named series of points ({@code points.get(s)[0]} the x, {@code [1]} the y values), in order. */
  private static XYSeriesCollection xyData(List<String> series, List<double[][]> points) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (int s = 0; s < series.size(); s++) {
      XYSeries xy = new XYSeries(series.get(s), false, true);
      double[][] p = points.get(s);
      for (int i = 0; i < p[0].length; i++) {
        xy.add(p[0][i], p[1][i], false);
      }
      data.addSeries(xy);
    }
    return data;
  }

  /** The look the scatter and line charts share (white, title font, light grid); returns the plot. */
  private static XYPlot styleXy(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getTitle().setFont(TITLE_FONT);
    chart.getLegend().setFrame(BlockBorder.NONE);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(GRID);
    plot.setRangeGridlinePaint(GRID);
    return plot;
  }

  /**
   * Lines through points (x, y), one per named series in palette order, each point marked;
   * {@code shapesOnly} series (by index) are drawn as marks without a line.
   */
  static JFreeChart lines(String title, String xLabel, String yLabel, List<String> series,
                          List<double[][]> points, java.util.Set<Integer> shapesOnly) {
    JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, xyData(series, points),
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = styleXy(chart);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    for (int s = 0; s < series.size(); s++) {
      r.setSeriesPaint(s, PALETTE[s % PALETTE.length]);
      r.setSeriesStroke(s, new BasicStroke(2f));
      r.setSeriesShape(s, new java.awt.geom.Ellipse2D.Double(-2.5, -2.5, 5, 5));
      if (shapesOnly.contains(s)) {
        r.setSeriesLinesVisible(s, false);
      }
    }
    plot.setRenderer(r);
    ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(true);
    ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(false);
    return chart;
  }

  private static void styleCategoryPlot(JFreeChart chart, CategoryPlot plot) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getTitle().setFont(TITLE_FONT);
    if (chart.getLegend() != null) {
      chart.getLegend().setFrame(BlockBorder.NONE);
      chart.getLegend().setItemFont(LABEL_FONT);
    }
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(GRID);
    plot.setOutlineVisible(false);
    BarRenderer r = (BarRenderer) plot.getRenderer();
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    r.setDrawBarOutline(false);
  }

  /** Viridis (matplotlib's default colour map), by linear interpolation of five of its stops. */
  static final class Viridis implements PaintScale {
    private static final int[] STOPS = {0x440154, 0x3B528B, 0x21918C, 0x5EC962, 0xFDE725};
    private final double low;
    private final double high;

    Viridis(double low, double high) {
      this.low = low;
      this.high = high;
    }

    @Override public double getLowerBound() { return low; }

    @Override public double getUpperBound() { return high == low ? low + 1 : high; }

    double fraction(double v) {
      return high == low ? 1 : Math.max(0, Math.min(1, (v - low) / (high - low)));
    }

    @Override
    public Paint getPaint(double v) {
      double f = fraction(v) * (STOPS.length - 1);
      int i = Math.min((int) f, STOPS.length - 2);
      double t = f - i;
      Color a = new Color(STOPS[i]);
      Color b = new Color(STOPS[i + 1]);
      return new Color(mix(a.getRed(), b.getRed(), t), mix(a.getGreen(), b.getGreen(), t), mix(a.getBlue(), b.getBlue(), t));
    }

    private static int mix(int a, int b, double t) {
      return (int) Math.round(a + (b - a) * t);
    }
  }
}
