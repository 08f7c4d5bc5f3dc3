package calculon.schedule;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Runs the modelling-fault cases copied from {@code ../shared/cases/faults} into
 * {@code src/test/resources/faults} (their expected values are in that folder's README).
 */
final class FaultCases {
  static final Path ROOT = Path.of("src/test/resources/faults");
  static final ObjectMapper JSON = new ObjectMapper();

  private FaultCases() {}

  static Stats run(String kind, String model, String exe, String system, ModelVersion version,
                   Consumer<ObjectNode> edit) throws Exception {
    return run(kind, model, m -> { }, exe, system, version, edit);
  }

  static Stats run(String kind, String model, Consumer<ObjectNode> modelEdit, String exe, String system,
                   ModelVersion version, Consumer<ObjectNode> edit) throws Exception {
    Path dir = ROOT.resolve(kind);
    Path m = dir.resolve(model), e = dir.resolve(exe), s = dir.resolve(system);
    ObjectNode modelNode = (ObjectNode) JSON.readTree(m.toFile());
    modelEdit.accept(modelNode);
    Application app = ApplicationReader.read(modelNode, m.toString());
    ObjectNode node = (ObjectNode) JSON.readTree(e.toFile());
    edit.accept(node);
    Execution execution = ExecutionReader.read(node, e.toString());
    SystemSpec sys = SystemReader.read(s);
    RunChecks.check(app, execution, sys, m.toString(), e.toString(), s.toString());
    return Evaluator.evaluate(app, execution, new Hardware(sys, execution.datatype()), version, false);
  }

  static Stats run(String kind, String model, String exe, String system) throws Exception {
    return run(kind, model, exe, system, ModelVersion.CORRECTED, n -> { });
  }
}
