package calculon.cli;

import calculon.config.ConfigError;
import calculon.config.HuggingFaceImport;
import calculon.config.JsonFiles;
import calculon.util.PyJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code calculon import-hf}: a Hugging Face config.json into a calculon model file (see {@link HuggingFaceImport}). */
@Command(name = "import-hf", description = "Write a calculon model file from a Hugging Face config.json "
    + "(Llama 2/3, Mistral, Mixtral, Qwen2/2.5/3 dense and MoE, DeepSeek-V2/V3, gpt-oss, Gemma 2/3, Nemotron-4). "
    + "What the model file cannot say is listed on standard error and in its source key. "
    + "OUTPUT must not exist (unless --force), is never the input, and its folder must exist.")
public final class ImportHfCommand implements Callable<Integer>, CommandFiles {
  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "The config.json to read.")
  private Path config;

  @Parameters(index = "1", paramLabel = "OUTPUT", description = "The model file to write, .json.")
  private Path out;

  @Option(names = "--seq-size", paramLabel = "TOKENS", description = "Training sequence length to write as "
      + "seq_size. Default: the config's pre-training context (rope_scaling.original_max_position_embeddings, "
      + "initial_context_length), else max_position_embeddings.")
  private Long seqSize;

  @Option(names = "--force", description = "Replace OUTPUT if it exists (never the input); the earlier file is kept "
      + "as OUTPUT.~N~, as every command keeps a file it replaces. Default: off.")
  private boolean force;

  /** Main's output guard refuses an OUTPUT that is the input (through links too) before any work. */
  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the Hugging Face config", "CONFIG", config).output("the model file to write", out)
        .resultFile("OUTPUT", ".json", out);
  }

  @Override
  public Integer call() throws ConfigError {
    String outName = out.toString();
    if (!outName.endsWith(".json")) {
      throw new ConfigError(outName, null, "a model file must end .json");
    }
    if (seqSize != null && seqSize < 1) {
      throw new ConfigError("--seq-size", null, "must be a positive integer, got " + seqSize);
    }
    if (Files.exists(out) && !force) {
      throw new ConfigError(outName, null, "exists: give another name, or --force to replace it");
    }
    HuggingFaceImport.Result r = HuggingFaceImport.convert(JsonFiles.read(config), config.toString(), seqSize);
    try {
      PyJson.writeFile(out, r.model());
    } catch (IOException e) {
      throw OutputGuard.writeError(out, e);
    }
    PrintWriter err = spec.commandLine().getErr();
    for (String note : r.notMapped()) {
      err.println("calculon import-hf: " + note);
    }
    err.flush();
    Main.reports(spec).println("Wrote " + out);
    return 0;
  }

}
