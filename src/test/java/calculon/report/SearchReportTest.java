package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.util.PyFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SearchReportTest {

  static String[] goldens() {
    return Reports.SEARCH_GOLDENS;
  }

  private static List<SearchRow> rows(String golden) throws Exception {
    return ((ReportFiles.SearchContent) ReportFiles.read(Reports.golden(golden))).rows();
  }

  @ParameterizedTest
  @MethodSource("goldens")
  void topTableShowsTheRankedRowsWithTheirStats(String golden) throws Exception {
    List<SearchRow> rows = rows(golden);
    assertThat(rows).hasSize(5);
    String html = SearchReport.html(rows, SearchReport.pointsOf(rows), SearchReport.Options.of(golden));
    List<List<String>> table = Reports.rows(html, "table-top");
    assertThat(table).hasSize(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      assertThat(table.get(i).get(0)).isEqualTo(String.valueOf(i));
      assertThat(table.get(i).get(1)).isEqualTo(PyFormat.fixed(rows.get(i).sampleRate(), 4));
    }
    for (Reports.Shown n : Reports.numbers(html)) {
      if (n.key().equals("sample_rate")) {
        assertThat(List.of(rows.stream().map(SearchRow::sampleRate).toArray())).contains(n.value());
      }
    }
    assertThat(Reports.numbers(html).get(0)).isEqualTo(new Reports.Shown("sample_rate", rows.get(0).sampleRate(),
        PyFormat.fixed(rows.get(0).sampleRate(), 2) + " /s"));
    // Calculon's results have no corrected-model keys: no empty columns for them
    assertThat(html).contains("<th>tensor_par</th><th>pipeline_par</th>")
        .doesNotContain("<th>zero_stage</th>", "<th>context_par</th>", "ZeRO stage");
  }

  @ParameterizedTest
  @MethodSource("goldens")
  void oneHeatmapPerExpertParallelismAndAScatter(String golden) throws Exception {
    List<SearchRow> rows = rows(golden);
    Set<Integer> eps = new TreeSet<>();
    rows.forEach(r -> eps.add(r.expertPar()));
    Map<String, Integer> charts = Reports.charts(SearchReport.html(rows, SearchReport.pointsOf(rows), SearchReport.Options.of(golden)));
    for (int ep : eps) {
      assertThat(charts).containsKey("chart-heatmap-ep" + ep);
    }
    assertThat(charts).hasSize(eps.size() + 1).containsKey("chart-scatter")
        .allSatisfy((id, shapes) -> assertThat(shapes).as(id).isGreaterThan(5));
  }

  @Test
  void heatmapCellsHoldTheBestSampleRatePerTpAndPp() throws Exception {
    List<SearchRow> rows = rows("loe-megatron-126M-4-b8-singletier");
    SearchPoints p = SearchReport.pointsOf(rows);
    for (SearchRow r : rows) {
      double best = rows.stream().filter(o -> o.tensorPar() == r.tensorPar() && o.pipelinePar() == r.pipelinePar())
          .mapToDouble(SearchRow::sampleRate).max().orElseThrow();
      assertThat(p.best().get(new SearchPoints.Cell(r.expertPar(), r.tensorPar(), r.pipelinePar()))).isEqualTo(best);
    }
  }

  @Test
  void theSampleStaysBoundedAndMergesKeepEveryCell() {
    SearchPoints a = new SearchPoints(100, 1);
    SearchPoints b = new SearchPoints(100, 2);
    for (int i = 0; i < 100_000; i++) {
      a.add(1, 1 << (i % 4), 1, i, i);
      b.add(2, 1, 1 << (i % 3), -i, i);
    }
    assertThat(a.sample()[0]).hasSize(100);
    a.merge(b);
    assertThat(a.count()).isEqualTo(200_000);
    assertThat(a.sample()[0]).hasSize(100);
    assertThat(a.best()).hasSize(4 + 3).containsEntry(new SearchPoints.Cell(1, 8, 1), 99_999.0)
        .containsEntry(new SearchPoints.Cell(2, 1, 4), -2.0);
    // a uniform sample of two equal halves takes from both
    long fromB = java.util.Arrays.stream(a.sample()[1]).filter(y -> y <= 0).count();
    assertThat(fromB).isBetween(25L, 75L);
  }

  @Test
  void anEmptyResultSaysSo() {
    String html = SearchReport.html(List.of(), new SearchPoints(), SearchReport.Options.of("nothing"));
    assertThat(html).contains("No good execution");
  }
}
