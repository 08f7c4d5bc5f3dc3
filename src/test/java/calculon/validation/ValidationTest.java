package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.validation.Validation.TableError;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * llm-validation against Korthikanti et al. 2022: the corrected model is at least as close to the
 * measurements as the original Calculon (whose exact output is a golden), and the calculon-moe
 * version gives back the fork's errors.
 */
class ValidationTest {
  /** Original Calculon's errors per table, mean and max (its llm-validation output, golden). */
  static final double[][] ORIGINAL = {{8.49, 10.84}, {2.08, 8.74}, {6.69, 30.41}, {3.65, 8.87}};
  /** The fork's model on the same configs (issue "Trust", first table). */
  static final double[][] FORK = {{8.49, 10.84}, {93.5, 98.3}, {773, 6385}, {3.65, 8.87}};

  record Run(String text, List<TableError> errors) {}

  static Run run(ModelVersion v) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    List<TableError> e = new Validation(Paths.get("."), v, new PrintStream(buf, true, StandardCharsets.UTF_8), false).run();
    return new Run(buf.toString(StandardCharsets.UTF_8), e);
  }

  @Test
  void correctedModelIsAtLeastAsCloseToTheMeasurementsAsTheOriginalCalculon() throws Exception {
    List<TableError> errors = run(ModelVersion.CORRECTED).errors();
    assertThat(errors).hasSize(7);
    for (int i = 0; i < 4; i++) {
      // the original's figures are printed to two decimals
      assertThat(errors.get(i).meanPercent()).as(errors.get(i).name()).isLessThanOrEqualTo(ORIGINAL[i][0] + 0.005);
    }
  }

  @Test
  void calculonMoeVersionReproducesTheForksErrors() throws Exception {
    List<TableError> errors = run(ModelVersion.CALCULON_MOE).errors();
    for (int i = 0; i < 4; i++) {
      double tolerance = FORK[i][0] >= 100 ? 0.5 : FORK[i][0] >= 10 ? 0.05 : 0.005;
      assertThat(errors.get(i).meanPercent()).as(errors.get(i).name()).isCloseTo(FORK[i][0], within(tolerance));
      double maxTolerance = FORK[i][1] >= 100 ? 0.5 : FORK[i][1] >= 10 ? 0.05 : 0.005;
      assertThat(errors.get(i).maxPercent()).as(errors.get(i).name()).isCloseTo(FORK[i][1], within(maxTolerance));
    }
  }

  /**
   * The corrected tables are the original Calculon's, line for line, except Table 5's calculated
   * columns (the corrected model stores dropout gradients in the datatype, and its weight-gradient
   * GEMMs read and write Megatron's gradient buffer: 3.65% -> 3.16% mean error) and Fig. 7's
   * selective column, where the corrected model keeps the QKV input without SP (docs/deviations.md).
   */
  @Test
  void correctedTablesAreTheOriginalCalculonsOutput() throws Exception {
    String golden = new ObjectMapper().readTree(Path.of("src/test/resources/goldens/validation/llm_validation.json").toFile())
        .get("calc").get("stdout").asText();
    String[] want = golden.split("\n");
    String[] got = run(ModelVersion.CORRECTED).text().split("\n");
    boolean inTab5 = false, inFig7 = false;
    for (int i = 0; i < want.length; i++) {
      inTab5 |= want[i].startsWith("End-to-end");
      inFig7 = !inTab5 && (inFig7 || want[i].startsWith("Activations,|"));
      boolean modelRow = want[i].startsWith("m") || want[i].startsWith("gpt") || want[i].startsWith("turing");
      if (inTab5 && modelRow) {
        // the measured cells only: the calculated times follow Megatron's gradient-accumulation
        // fusion (Layer.accumulatesGradient), the memory the datatype of dropout gradients
        assertThat(measuredColumns(got[i])).isEqualTo(measuredColumns(want[i]));
      } else if (inTab5 && (want[i].startsWith("Ave") || want[i].startsWith("Max"))) {
        assertThat(got[i]).isEqualTo(want[i].startsWith("Ave") ? "Ave,,3.16%" : "Max,,7.30%");
      } else if (inFig7 && modelRow) {
        // the selective column follows Korthikanti Table 2 now (the QKV input is kept without
        // SP, case activations-table2): within 2.5% of the measurement where the original was 12-15% low
        assertThat(dropSelectiveColumn(got[i])).isEqualTo(dropSelectiveColumn(want[i]));
        assertThat(Math.abs(Double.parseDouble(got[i].split(",")[12].replace("%", "")))).isLessThan(2.5);
      } else if (inFig7 && want[i].startsWith("Ave")) {
        assertThat(got[i]).isEqualTo("Ave,,4.02%");
      } else {
        assertThat(got[i]).isEqualTo(want[i]);
      }
    }
    assertThat(got[want.length]).startsWith("Modern runs");
  }

  /** Fig. 7 rows without the selective (sel) column's measured, calculated and error cells. */
  static String dropSelectiveColumn(String row) {
    String[] c = row.split(",", -1);
    List<String> kept = new java.util.ArrayList<>(List.of(c));
    kept.subList(10, 13).clear();
    return String.join(",", kept);
  }

  /** Table 5 rows: model,|,profile,calc,delta,GiB,|,profile,calc,delta,GiB, -> model and the two measured times. */
  static String measuredColumns(String row) {
    String[] c = row.split(",", -1);
    return String.join(",", c[0], c[2], c[7]);
  }

  /**
   * Every run of the modern index gets a row, with its measured value first; the summary names
   * the table (ModernRunsTest holds the rows' values).
   */
  @Test
  void modernRowsArePrintedWithTheirMeasurement() throws Exception {
    Run r = run(ModelVersion.CORRECTED);
    List<ModernRuns.Run> runs = ModernRuns.read(Paths.get("."));
    for (ModernRuns.Run m : runs) {
      assertThat(r.text()).contains(m.label() + " [" + m.metric().jsonName + "],|," + calculon.util.PyFormat.repr(m.measured()) + ",");
    }
    assertThat(r.text()).contains(Validation.MODERN_TABLE + ": mean error");
    assertThat(r.errors().get(4).name()).isEqualTo(Validation.MODERN_TABLE);
    for (ModernRuns.Run m : ModernRuns.read(Paths.get("."), ModernRuns.MOE_INDEX)) {
      assertThat(r.text()).contains(m.label() + " [" + m.metric().jsonName + "],|," + calculon.util.PyFormat.repr(m.measured()) + ",");
    }
    assertThat(r.text()).contains("MoE runs,|,measured").contains(Validation.MOE_TABLE + ": mean error");
    assertThat(r.errors().get(5).name()).isEqualTo(Validation.MOE_TABLE);
  }

  /**
   * The modern table is also summarised per training framework, in the index's order: each
   * group's mean and maximum are those of its rows, the groups partition the table (their
   * run-weighted means give the table's), and each group has its line in the table and in the
   * summary. The MoE table's runs all ran Megatron-Core: no groups.
   */
  @Test
  void modernTableIsSummarisedPerFramework() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Validation v = new Validation(Paths.get("."), ModelVersion.CORRECTED, new PrintStream(buf, true, StandardCharsets.UTF_8), false);
    List<TableError> tables = v.run();
    TableError modern = tables.get(4);
    String text = buf.toString(StandardCharsets.UTF_8);
    assertThat(modern.byFramework()).extracting(TableError::name)
        .containsExactly("Meta's Llama 3 stack", "TorchTitan", "Megatron-Core");
    double weighted = 0;
    int runs = 0;
    for (TableError g : modern.byFramework()) {
      List<Double> errs = v.modernRows().stream().filter(r -> r.run().framework().equals(g.name()))
          .map(r -> Math.abs(r.errorPercent())).toList();
      assertThat(g.runs()).as(g.name()).isEqualTo(errs.size());
      assertThat(g.meanPercent()).as(g.name())
          .isCloseTo(errs.stream().mapToDouble(Double::doubleValue).average().orElseThrow(), within(1e-9));
      assertThat(g.maxPercent()).as(g.name()).isEqualTo(errs.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
      assertThat(text).contains("Ave " + g.name() + ",," + calculon.util.PyFormat.fixed(g.meanPercent(), 2) + "%,over "
          + g.runs() + " runs,max " + calculon.util.PyFormat.fixed(g.maxPercent(), 2) + "%");
      assertThat(text).contains("\n    " + g.name() + ": mean error " + calculon.util.PyFormat.fixed(g.meanPercent(), 2) + "%");
      weighted += g.meanPercent() * g.runs();
      runs += g.runs();
    }
    assertThat(runs).isEqualTo(modern.runs()).isEqualTo(48);
    assertThat(weighted / runs).isCloseTo(modern.meanPercent(), within(1e-9));
    assertThat(tables.get(5).byFramework()).isEmpty();
  }

  /**
   * Every run whose source publishes its peak memory gets a row of the memory table (the 18
   * TorchTitan rows of Tables 1-6). The published figure is the allocator's peak reserved memory,
   * which holds every allocated byte: a model that asks for more than it has over-counted what the
   * run stores (the kind of fault flash attention fixed), so no row may exceed it.
   */
  @Test
  void memoryTableHoldsEveryRunThatPublishesItsPeakAndNoneExceedsIt() throws Exception {
    Validation v = new Validation(Paths.get("."), ModelVersion.CORRECTED, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), false);
    List<TableError> errors = v.run();
    List<ModernRuns.Run> published = ModernRuns.read(Paths.get(".")).stream().filter(m -> m.peakReservedGib() > 0).toList();
    assertThat(published).hasSize(18);
    assertThat(v.memoryRows()).extracting(Validation.MemoryRow::run).containsExactlyElementsOf(published);
    for (Validation.MemoryRow m : v.memoryRows()) {
      assertThat(m.calculatedGib()).as(m.run().label()).isPositive().isLessThanOrEqualTo(m.run().peakReservedGib());
    }
    assertThat(errors.get(6).name()).isEqualTo(Validation.MEMORY_TABLE);
    assertThat(errors.get(6).runs()).isEqualTo(18);
  }
}
