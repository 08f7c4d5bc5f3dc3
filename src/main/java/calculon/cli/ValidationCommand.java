package calculon.cli;

import calculon.config.ConfigError;
import calculon.model.Infeasible;
import calculon.validation.Validation;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code calculon llm-validation}: the model against Korthikanti et al. 2022 (reference validation.py, which the fork broke). */
@Command(name = "llm-validation", aliases = "lv",
    description = "Compare the model with measured runs and print the error tables: Korthikanti et al. 2022 "
        + "(Figure 1 memory, Figure 7 activation memory, Table 5 iteration time), 48 modern dense runs, 18 MoE "
        + "runs (validation/modern, validation/moe; docs/validation.md) and the memory per GPU of the 18 runs "
        + "that publish it (the allocator's peak reserved GiB). Delta is 1 - calculon/measured: negative means "
        + "calculon is faster on a throughput metric, slower on step_seconds, and needs more memory.")
public final class ValidationCommand implements Callable<Integer>, CommandFiles {
  @ParentCommand
  private Main main;

  @Option(names = {"-b", "--base_dir"}, paramLabel = "DIR",
      description = "Folder holding models/, systems/ and validation/. Default: the current "
          + "folder if it has validation/, else the calculon installation.")
  private Path baseDir;

  // long form only: -v is the global --verbosity LEVEL (the reference had -v here too)
  @Option(names = "--verbose", description = "Say which run is being analysed. Default: off.")
  private boolean verbose;

  @Mixin
  private ModelVersionOption modelVersion;


  @Override
  public void declareFiles(OutputGuard guard) {
    Path base = baseDir != null ? baseDir : defaultBaseDir();
    for (String folder : new String[] {"models", "systems", "validation"}) {
      guard.inputFolder("the folder of validation " + (folder.equals("validation") ? "runs" : folder), "--base_dir",
          base.resolve(folder));
    }
  }

  @Override
  public Integer call() throws ConfigError {
    try {
      new Validation(baseDir != null ? baseDir : defaultBaseDir(), modelVersion.version(), main.log().reports(),
          verbose).run();
    } catch (Infeasible e) {
      main.out().println("ERROR: " + e.getMessage());
      return Main.EXIT_INFEASIBLE;
    }
    main.log().reports().flush();
    return 0;
  }

  /** The current folder when it holds validation/, else the installation the jar runs from (root/target/calculon.jar). */
  static Path defaultBaseDir() {
    Path here = Path.of(".");
    if (Files.isDirectory(here.resolve("validation"))) {
      return here;
    }
    try {
      Path jar = Path.of(ValidationCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path root = jar.getParent() == null ? null : jar.getParent().getParent();
      if (root != null && Files.isDirectory(root.resolve("validation"))) {
        return root;
      }
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      // no usable code source: fall back to the current folder, whose missing files are reported by name
    }
    return here;
  }
}
