package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import calculon.util.PyFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RunReportTest {

  private static Stats run(int i) throws Exception {
    return Reports.evaluate(Reports.README_RUNS[i]);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void everyNumberShownIsTheStatsValue(int i) throws Exception {
    Stats s = run(i);
    String html = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    List<Reports.Shown> shown = Reports.numbers(html);
    assertThat(shown).hasSizeGreaterThan(30);
    int checked = 0;
    for (Reports.Shown n : shown) {
      for (StatField f : StatField.all()) {
        if (f.key.equals(n.key())) {
          assertThat(n.value()).as(n.key()).isEqualTo(s.get(f));
          checked++;
        }
      }
    }
    assertThat(checked).isGreaterThan(20);
    assertThat(html).contains(Reports.numbers(html).stream()
        .filter(n -> n.key().equals("total_time")).findFirst().orElseThrow().text())
        .contains(PyFormat.fixed(s.get(StatField.TOTAL_TIME), 4) + " s");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void stepPartsAddUpToTheStepTime(int i) throws Exception {
    Stats s = run(i);
    double sum = StepBreakdown.of(s).stream().mapToDouble(StepBreakdown.Part::seconds).sum();
    assertThat(sum).isCloseTo(s.get(StatField.TOTAL_TIME), within(1e-12 * s.get(StatField.TOTAL_TIME)));
    List<List<String>> table = Reports.rows(RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE)), "table-step-time");
    assertThat(table).hasSize(StepBreakdown.of(s).size());
    assertThat(table.get(0)).startsWith("forward", PyFormat.fixed(s.get(StatField.FW_TIME), 4));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void memoryKindsAddUpToEachTiersRequirement(int i) throws Exception {
    Stats s = run(i);
    List<MemoryBreakdown.Part> t2 = MemoryBreakdown.tier2(s, s.execution());
    assertThat(t2.stream().mapToDouble(MemoryBreakdown.Part::bytes).sum())
        .isCloseTo(s.get(StatField.PROC_MEM_TIER2_CAP_REQ), within(1.0));
    List<MemoryBreakdown.Part> t1 = MemoryBreakdown.tier1(s, s.execution());
    assertThat(t1).extracting(MemoryBreakdown.Part::label).doesNotContain(MemoryBreakdown.OTHER);
    assertThat(t1.stream().mapToDouble(MemoryBreakdown.Part::bytes).sum())
        .isCloseTo(s.get(StatField.PROC_MEM_TIER1_CAP_REQ), within(1.0));
  }

  @Test
  void theVerdictNamesTheLargestPartAndTheMemoryHeadroom() throws Exception {
    Stats s = run(1); // gpt-1.8T: the pipeline bubble dominates
    String html = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    assertThat(StepBreakdown.largest(StepBreakdown.of(s)).label()).isEqualTo("pipeline bubble");
    assertThat(html).contains("<b>Limited by pipeline bubble</b>", "of 80.000 GiB (28.6%)");
  }

  @Test
  void inputsAreShownWhenKnown() throws Exception {
    Stats s = run(0);
    String html = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    assertThat(html).contains("Model: megatron-1T", "System: a100_80g", "calculon-moe", "<td>tensor_par</td><td>8</td>");
    assertThat(Reports.charts(html)).containsKeys("chart-step-time", "chart-memory-tier1", "chart-efficiency")
        .allSatisfy((id, shapes) -> assertThat(shapes).as(id).isGreaterThan(5));
  }

  @Test
  void layerTableListsEveryLayerWithItsStats() throws Exception {
    Stats s = run(1);
    String html = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    List<List<String>> rows = Reports.rows(html, "table-layers");
    assertThat(rows).hasSize(s.layers().size());
    Stats.LayerStats first = s.layers().get(0);
    assertThat(rows.get(0).get(1)).isEqualTo(first.name());
    // a fork layer has no flops: "0", not human_format's "0.000 Ops"
    assertThat(first.get(LayerField.FW_FLOPS)).isZero();
    assertThat(rows.get(0).get(2)).isEqualTo("0");
    assertThat(rows.get(1).get(2)).isEqualTo(PyFormat.humanFormat(s.layers().get(1).get(LayerField.FW_FLOPS), "flops"));
    assertThat(html).contains("data-key=\"fw_arithmetic_intensity\" data-value=\""
        + PyFormat.repr(first.get(LayerField.FW_ARITHMETIC_INTENSITY)) + "\"");
  }

  @Test
  void aStatsFileAloneGivesTheChartsAndSaysTheInputsAreUnknown(@TempDir Path dir) throws Exception {
    Stats s = run(1);
    Path json = dir.resolve("stats.json");
    StatsJson.write(s, true, json);
    ReportFiles.Content c = ReportFiles.read(json);
    assertThat(c).isInstanceOf(ReportFiles.StatsContent.class);
    Stats back = ReportFiles.toStats((ReportFiles.StatsContent) c, json.toString());
    for (StatField f : StatField.all()) {
      assertThat(back.get(f)).as(f.key).isEqualTo(s.get(f));
    }
    String html = RunReport.html(back, RunReport.Inputs.unknown());
    assertThat(html).contains("Inputs unknown", "Capacity unknown");
    assertThat(Reports.rows(html, "table-layers")).hasSize(s.layers().size());
    assertThat(Reports.charts(html)).containsKeys("chart-step-time", "chart-memory-tier1", "chart-efficiency");
  }

  @Test
  void writeLeavesAReadableFile(@TempDir Path dir) throws Exception {
    Stats s = run(0);
    Path out = dir.resolve("run.html");
    RunReport.write(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE), out);
    String html = Files.readString(out);
    // self-contained: nothing is fetched (the only URLs are SVG namespace names)
    assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg")
        .doesNotContainPattern("(src|href)\\s*=\\s*['\"]?(https?:|//)").doesNotContain("<link", "@import", "url(http");
    assertThat(Files.list(dir).map(p -> p.getFileName().toString())).containsExactly("run.html");
  }

  @Test
  void offloadedWeightsAreSplitOverTheTiers() throws Exception {
    Stats s = run(0); // megatron-1T offloads its weights
    assertThat(s.execution().weightOffload()).isTrue();
    assertThat(MemoryBreakdown.tier1(s, s.execution())).first()
        .isEqualTo(new MemoryBreakdown.Part(MemoryBreakdown.WEIGHTS, s.get(StatField.WEIGHT_SPACE_WITH_OFFLOAD)));
    assertThat(MemoryBreakdown.tier2(s, s.execution()))
        .containsExactly(new MemoryBreakdown.Part(MemoryBreakdown.WEIGHTS, s.get(StatField.PROC_MEM_TIER2_CAP_REQ)));
    assertThat(s.get(StatField.WEIGHT_SPACE)).isEqualTo(s.get(StatField.PROC_MEM_TIER2_CAP_REQ));
    String html = RunReport.html(s, RunReport.Inputs.of(s, ModelVersion.CALCULON_MOE));
    assertThat(Reports.charts(html)).containsKey("chart-memory-tier2");
    // without the execution the split is unknown, and the page says so
    assertThat(MemoryBreakdown.tier2(s, null)).extracting(MemoryBreakdown.Part::label).containsExactly(MemoryBreakdown.UNSPLIT);
  }
}
