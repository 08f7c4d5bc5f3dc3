package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.validation.Validation.ModernRow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The modern table in the default (corrected) model: every run is evaluated (none out of memory
 * or rejected), and each keeps the value the model computed for it when the table was built
 * (docs/validation.md lists them with their errors). A change of the model that moves a value by
 * more than {@link #RELATIVE_TOLERANCE} fails here: update the table and the docs together, and
 * say why in the commit.
 */
class ModernRunsValuesTest {
  /** 0.1%: far below any modelling change worth noting, far above floating-point noise. */
  static final double RELATIVE_TOLERANCE = 1e-3;

  /** Label -> the model's value in the run's metric (tokens/s/GPU or TFLOP/s/GPU). */
  static final Map<String, Double> EXPECTED = Map.ofEntries(
      // GENERATED-EXPECTED-BEGIN
      Map.entry("Llama 3 405B 8192 H100 TP8 CP1 PP16 DP64 seq 8192", 441.12),
      Map.entry("Llama 3 405B 16384 H100 TP8 CP1 PP16 DP128 seq 8192", 369.64),
      Map.entry("NeMo GPT-3 175B FP8 128 H100 TP4 PP8 VP6", 703.35),
      Map.entry("NeMo GPT-3 175B FP8 512 H100 TP4 PP8 VP6", 800.08)
      // GENERATED-EXPECTED-END
  );

  static List<ModernRow> rows;

  @BeforeAll
  static void runTable() throws Exception {
    Validation v = new Validation(Paths.get("."), ModelVersion.CORRECTED,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    v.run();
    rows = v.modernRows();
  }

  @Test
  void everyRunIsEvaluated() {
    assertThat(rows).hasSize(EXPECTED.size());
    Map<String, String> rejected = rows.stream().filter(r -> !r.evaluated())
        .collect(Collectors.toMap(r -> r.run().label(), ModernRow::rejection));
    assertThat(rejected).as("runs the model rejects").isEmpty();
  }

  @Test
  void everyRunKeepsItsValue() {
    for (ModernRow r : rows) {
      Double want = EXPECTED.get(r.run().label());
      assertThat(want).as("expected value for " + r.run().label()).isNotNull();
      assertThat(r.calculated()).as(r.run().label()).isCloseTo(want, within(want * RELATIVE_TOLERANCE));
    }
  }
}
