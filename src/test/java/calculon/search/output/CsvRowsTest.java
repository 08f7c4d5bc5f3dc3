package calculon.search.output;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.search.ExecutionEvaluator;
import calculon.search.Partition;
import calculon.search.ResultSink;
import calculon.search.Search;
import calculon.search.SearchKind;
import calculon.search.SearchOptions;
import calculon.search.SearchResult;
import calculon.search.SearchSpace;
import calculon.stats.StatField;
import calculon.util.PyFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code llm-all-executions} CSV (issue 12 item 8): rows formatted in the search workers, with
 * the memoised shortest-digits path, are byte for byte the rows of the plain formatter they
 * replaced: every value through {@link ResultFormat#pyStr} and {@link ResultFormat#csvField}, and
 * every float through the exact {@code BigDecimal} path ({@link PyFormat#reprExact}).
 */
class CsvRowsTest {
  @TempDir Path dir;

  @Test
  void rowsAreThePlainFormattersText() throws Exception {
    Application app = ApplicationReader.read(Paths.get("models/megatron-126M.json"));
    SystemSpec sys = SystemReader.read(Paths.get("systems/a100_80g.json"));
    for (ModelVersion version : ModelVersion.values()) {
      SearchSpace space = new SearchSpace(app, sys,
          SearchOptions.defaults(SearchKind.DENSE, 2, 4, Datatype.FLOAT16, 1));
      ExecutionEvaluator ev = ExecutionEvaluator.model(app, new Hardware(sys, Datatype.FLOAT16), version);
      Path out = dir.resolve(version + ".csv");
      List<SearchResult> all = new ArrayList<>();
      try (CsvRows rows = new CsvRows(out)) {
        // the rows are formatted in the 2 workers (prepare) and written in partition order
        ResultSink both = new ResultSink() {
          @Override
          public void accept(Partition p, List<SearchResult> results, boolean partial) {
            throw new AssertionError("the search hands over prepared rows");
          }

          @Override
          public Object prepare(Partition p, List<SearchResult> results) {
            return rows.prepare(p, results);
          }

          @Override
          public void accept(Partition p, List<SearchResult> results, boolean partial, Object prepared)
              throws IOException {
            all.addAll(results);
            rows.accept(p, results, partial, prepared);
          }
        };
        new Search(space, ev).run(2, both, null);
        rows.commit();
        assertThat(rows.rows()).isEqualTo(all.size());
      }
      assertThat(all).as(version.toString()).hasSizeGreaterThan(1000);
      assertThat(Files.readString(out, StandardCharsets.UTF_8)).as(version.toString()).isEqualTo(plain(all));
    }
  }

  /** The rows as the previous formatter wrote them, one value at a time. */
  private static String plain(List<SearchResult> results) {
    // rows repeat most values; the exact path is slow, so each distinct value is formatted once
    Map<Double, String> exact = new HashMap<>();
    StringBuilder sb = new StringBuilder();
    sb.append(String.join(",", ResultFormat.EXECUTION_KEYS)).append(',')
        .append(String.join(",", ResultFormat.STATS_KEYS)).append('\n');
    for (SearchResult r : results) {
      List<String> cells = new ArrayList<>();
      for (Object v : ResultFormat.executionValues(r.execution())) {
        cells.add(ResultFormat.csvField(ResultFormat.pyStr(v)));
      }
      for (StatField f : StatField.all()) {
        Object v = ResultFormat.statValue(r.stats(), f);
        cells.add(ResultFormat.csvField(v == null ? "None" : exact.computeIfAbsent((Double) v, PyFormat::reprExact)));
      }
      sb.append(String.join(",", cells)).append('\n');
    }
    return sb.toString();
  }
}
