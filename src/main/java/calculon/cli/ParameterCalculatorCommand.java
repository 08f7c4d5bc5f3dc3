package calculon.cli;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.ConfigReader;
import calculon.config.Execution;
import calculon.model.ParameterCount;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code calculon llm-parameter-calculator}: the model's parameter count, as Calculon prints it for
 * dense models, and total and active counts for MoE models (which Calculon counts as dense).
 */
@Command(name = "llm-parameter-calculator", aliases = "lpc",
    description = "Print the number of parameters of a model. A MoE model (experts given by the "
        + "model file's num_experts/top_k_experts keys, or by --execution) gets its total and its "
        + "active (per-token) count.")
public final class ParameterCalculatorCommand implements Callable<Integer> {
  /** Calculon's default width of the name column. */
  static final int DEFAULT_ALIGNMENT = 13;

  @ParentCommand
  private Main main;

  @Parameters(index = "0", paramLabel = "APPLICATION", description = "Model (application) file, .json or .json.gz.")
  private Path application;

  @Option(names = {"-a", "--alignment"}, paramLabel = "N", defaultValue = "" + DEFAULT_ALIGNMENT,
      description = "Width of the model-name column. Default: ${DEFAULT-VALUE}.")
  private int alignment;

  @Option(names = {"-e", "--execution"}, paramLabel = "EXE",
      description = "An execution file whose MoE fields (model_MoE, num_experts, top_k_experts, "
          + "activation_function) describe the experts. Default: none (the model file's keys, if any).")
  private Path execution;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  private boolean help;

  @Override
  public Integer call() throws ConfigError {
    Application app = ConfigReader.readApplication(application);
    int experts = 1, topK = 1;
    boolean gated = false;
    if (execution != null) {
      Execution exe = ConfigReader.readExecution(execution);
      if (exe.modelMoE()) {
        experts = exe.numExperts();
        topK = exe.topKExperts();
        gated = exe.activationFunction() == ActivationFunction.SILU;
      }
    } else {
      JsonNode raw = ConfigReader.readJson(application);
      if (raw.has("num_experts")) {
        experts = positiveInt(raw, "num_experts");
        topK = raw.has("top_k_experts") ? positiveInt(raw, "top_k_experts") : 1;
        gated = raw.has("activation_function") && "silu".equals(raw.get("activation_function").asText());
      }
    }
    if (topK > experts) {
      throw new ConfigError(String.valueOf(execution != null ? execution : application), "top_k_experts",
          "must not exceed num_experts=" + experts + ", got " + topK);
    }
    String name = app.name();
    String padded = name + " ".repeat(Math.max(0, alignment - name.length()));
    if (experts > 1) {
      ParameterCount p = ParameterCount.moe(app, experts, topK, gated);
      main.log().info(padded + " -> " + PyFormat.humanFormat(p.total(), "base10") + " total, "
          + PyFormat.humanFormat(p.active(), "base10") + " active (" + experts + " experts, top-" + topK + ")");
    } else {
      main.log().info(padded + " -> " + PyFormat.humanFormat(ParameterCount.dense(app).total(), "base10"));
    }
    return 0;
  }

  private int positiveInt(JsonNode raw, String key) throws ConfigError {
    JsonNode v = raw.get(key);
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
      throw new ConfigError(application.toString(), key, "must be a positive integer, got " + v);
    }
    return v.asInt();
  }
}
