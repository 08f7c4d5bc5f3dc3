package calculon.parity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden parity with Calculon-MoE: every public case of the fork ({@code checkout: moe}) run
 * through the readers, the run checks and the model. Accepted cases: every stats value within
 * relative 1e-9 (absolute 1e-12 near zero) and every per-layer value where the golden has them.
 * Rejected cases: a ConfigError or Infeasible, never another exception. Cases listed in
 * docs/deviations.md must differ.
 */
class GoldenParityTest {
  static final Path CASES = Paths.get("src/test/resources/goldens/public/cases");
  static final double REL = 1e-9, ABS = 1e-12;
  static final ObjectMapper JSON = new ObjectMapper();

  /** What running one case gave: stats, or the reason it was refused. */
  record Outcome(Stats stats, String rejection) {}

  static Outcome run(JsonNode c) {
    try {
      Application app = ApplicationReader.read(c.get("model"), "model.json");
      Execution exe = ExecutionReader.read(c.get("execution"), "execution.json");
      SystemSpec sys = SystemReader.read(c.get("system"), "system.json");
      RunChecks.check(app, exe, sys, "model.json", "execution.json", "system.json", true);
      return new Outcome(Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CALCULON_MOE, true), null);
    } catch (ConfigError e) {
      return new Outcome(null, "config: " + e.getMessage());
    } catch (Infeasible e) {
      return new Outcome(null, "ERROR: " + e.getMessage());
    }
  }

  static Set<String> listedDeviations() throws IOException {
    Set<String> ids = new TreeSet<>();
    boolean inSection = false;
    for (String line : Files.readAllLines(Paths.get("docs/deviations.md"))) {
      if (line.startsWith("## ")) {
        inSection = line.startsWith("## Golden cases");
      } else if (inSection && line.startsWith("- `")) {
        ids.add(line.substring(3, line.indexOf('`', 3)));
      }
    }
    return ids;
  }

  /** The CLI parity run's deviations file lists exactly the deviations documented in docs/deviations.md. */
  @Test
  void parityDeviationsFileMatchesTheDocumentedDeviations() throws IOException {
    Set<String> file = new TreeSet<>();
    for (String line : Files.readAllLines(Paths.get("docs/parity-deviations.txt"))) {
      String id = line.split("#", 2)[0].strip();
      if (!id.isEmpty()) {
        file.add(id);
      }
    }
    assertThat(file).isNotEmpty().isEqualTo(listedDeviations());
  }

  static List<Path> moeCases() throws IOException {
    try (Stream<Path> s = Files.list(CASES)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".moe.json")).sorted().toList();
    }
  }

  static boolean close(double want, double got) {
    if (want == got) {
      return true;
    }
    return Math.abs(want - got) <= Math.max(ABS, REL * Math.max(Math.abs(want), Math.abs(got)));
  }

  static double number(JsonNode v) {
    return v.isTextual() ? Double.parseDouble(v.asText()) : v.asDouble();
  }

  static List<String> compare(JsonNode expected, Stats got) {
    List<String> bad = new ArrayList<>();
    JsonNode stats = expected.get("stats");
    for (StatField f : StatField.all()) {
      JsonNode v = stats.get(f.key);
      if (v == null) {
        bad.add(f.key + " missing from golden");
      } else if (v.isNull() != got.isNull(f)) {
        bad.add(f.key + ": null mismatch");
      } else if (!v.isNull() && !close(number(v), got.get(f))) {
        bad.add(f.key + ": got " + got.get(f) + ", want " + v);
      }
    }
    JsonNode layers = expected.get("layers");
    if (layers != null && !layers.isNull()) {
      if (layers.size() != got.layers().size()) {
        bad.add("layer count " + got.layers().size() + ", want " + layers.size());
        return bad;
      }
      for (int i = 0; i < layers.size(); i++) {
        JsonNode want = layers.get(i);
        Stats.LayerStats l = got.layers().get(i);
        if (!l.name().equals(want.get("name").asText())) {
          bad.add("layer " + i + " name " + l.name() + ", want " + want.get("name"));
        }
        for (LayerField f : LayerField.all()) {
          if (f != LayerField.NAME && !close(number(want.get(f.key)), l.get(f))) {
            bad.add(l.name() + "." + f.key + ": got " + l.get(f) + ", want " + want.get(f.key));
          }
        }
      }
    }
    return bad;
  }

  @TestFactory
  Stream<DynamicTest> everyMoeCaseMatchesTheReference() throws IOException {
    Set<String> deviations = listedDeviations();
    return moeCases().stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
      JsonNode c = JSON.readTree(p.toFile());
      String id = c.get("id").asText();
      JsonNode expected = c.get("expected");
      boolean wantOk = expected.get("status").asText().equals("ok");
      Outcome got = run(c);
      boolean listed = deviations.contains(id);
      if (wantOk) {
        assertThat(got.rejection()).as("%s rejected", id).isNull();
        List<String> bad = compare(expected, got.stats());
        if (listed) {
          assertThat(bad).as("%s is listed as a deviation but matches", id).isNotEmpty();
        } else if (!bad.isEmpty()) {
          fail(id + ": " + bad.size() + " values differ: " + String.join("; ", bad.subList(0, Math.min(5, bad.size()))));
        }
      } else if (listed) {
        assertThat(got.rejection()).as("%s is listed as a deviation but is rejected", id).isNull();
      } else {
        assertThat(got.rejection()).as("%s: reference rejects (%s)", id,
            expected.get("error").get("message").asText()).isNotNull();
      }
    }));
  }

  @Test
  void theCorpusIsComplete() throws IOException {
    // 634 accepted and 61 rejected fork cases (goldens README); a missing copy must not pass silently
    assertThat(moeCases()).hasSize(695);
  }
}
