package calculon.cli;

import calculon.config.ConfigError;
import calculon.report.ReportFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code calculon convert}: stats or search results between JSON, JSON.gz, CSV and CSV.gz. */
@Command(name = "convert", description = "Convert a stats file or search results between .json, "
    + ".json.gz, .csv and .csv.gz, keeping the key order (the reference's scripts/json_to_csv.py). "
    + "Per-layer stats have no CSV form and stay in JSON.")
public final class ConvertCommand implements Callable<Integer>, CommandFiles {
  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN", description = "The file to read.")
  private Path in;

  @Parameters(index = "1", paramLabel = "OUT", description = "The file to write; its extension picks the format.")
  private Path out;


  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("IN", in).output("OUT", out);
  }

  @Override
  public Integer call() throws ConfigError {
    ReportFiles.checkResultName(out);
    String note = ReportFiles.write(ReportFiles.read(in), out);
    if (note != null) {
      spec.commandLine().getErr().println("calculon convert: " + note);
    }
    return 0;
  }
}
