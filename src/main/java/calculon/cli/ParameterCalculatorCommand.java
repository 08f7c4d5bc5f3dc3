package calculon.cli;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.model.ParameterCount;
import calculon.util.PyFormat;
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
        + "model file's moe key, or by a MoE execution with --execution) gets its total and its "
        + "active (per-token) count.")
public final class ParameterCalculatorCommand implements Callable<Integer>, CommandFiles {
  /** Calculon's default width of the name column. */
  static final int DEFAULT_ALIGNMENT = 13;

  @ParentCommand
  private Main main;

  @Parameters(index = "0", paramLabel = "MODEL", description = "Model (application) file, .json or .json.gz.")
  private Path application;

  @Option(names = {"-a", "--alignment"}, paramLabel = "N", defaultValue = "" + DEFAULT_ALIGNMENT,
      description = "Width of the model-name column. Default: ${DEFAULT-VALUE}.")
  private int alignment;

  @Option(names = {"-e", "--execution"}, paramLabel = "EXECUTION",
      description = "An execution file: also print the parameters one GPU holds under its "
          + "tensor_par, pipeline_par, expert_par and expert_slice (the largest pipeline stage); "
          + "its MoE fields (model_MoE, num_experts, top_k_experts, activation_function) describe "
          + "the experts of a Calculon model file without a moe key. Default: none.")
  private Path execution;


  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the model file", "MODEL", application).input("the execution file", "--execution", execution);
  }

  @Override
  public Integer call() throws ConfigError {
    Application app;
    try {
      app = ApplicationReader.read(application);
    } catch (ConfigError e) {
      // MODEL is positional
      throw calculon.config.FileKind.where(e, calculon.config.FileKind.ARGUMENT_ORDER);
    }
    ParameterCount p = ParameterCount.corrected(app);
    String experts = "";
    if (app.architecture().moe() != null) {
      experts = " (" + app.architecture().moe().numExperts() + " experts, top-" + app.architecture().moe().topK() + ")";
    }
    Execution exe = null;
    if (execution != null) {
      try {
        exe = ExecutionReader.read(execution);
      } catch (ConfigError e) {
        throw calculon.config.FileKind.where(e, "--execution takes an execution file");
      }
      RunChecks.checkModelAndExecution(app, exe, application.toString(), execution.toString());
      if (exe.modelMoE() && app.architecture().moe() == null) {
        if (exe.topKExperts() > exe.numExperts()) {
          throw new ConfigError(execution.toString(), "top_k_experts",
              "must not exceed num_experts=" + exe.numExperts() + ", got " + exe.topKExperts());
        }
        p = ParameterCount.ofRun(app, exe);
        experts = " (" + exe.numExperts() + " experts, top-" + exe.topKExperts() + ")";
      }
    }
    String name = app.name();
    String padded = name + " ".repeat(Math.max(0, alignment - name.length()));
    if (!experts.isEmpty()) {
      main.log().info(padded + " -> " + PyFormat.humanFormat(p.total(), "base10") + " total, "
          + PyFormat.humanFormat(p.active(), "base10") + " active" + experts + "; "
          + PyFormat.humanFormat(p.active() - ParameterCount.inputEmbedding(app), "base10")
          + " active without the input embedding");
    } else {
      main.log().info(padded + " -> " + PyFormat.humanFormat(p.total(), "base10"));
    }
    if (exe != null) {
      long perGpu = ParameterCount.perGpu(app, exe, exe.activationFunction() == ActivationFunction.SILU);
      main.log().info(" ".repeat(padded.length()) + " -> " + PyFormat.humanFormat(perGpu, "base10")
          + " per GPU (largest pipeline stage; TP " + exe.tensorPar() + ", PP " + exe.pipelinePar()
          + (exe.modelMoE() ? ", EP " + exe.expertPar() + ", ES " + exe.expertSlice() : "") + ")");
    }
    return 0;
  }

}
