package calculon.cli;

import calculon.config.ConfigError;
import calculon.report.ReportFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code calculon convert}: a stats file, search results or a sweep output between JSON, JSON.gz,
 * CSV and CSV.gz (a sweep output also JSON Lines, as {@code sweep} writes it).
 */
@Command(name = "convert", description = "Convert a stats file, search results or a sweep output between .json, "
    + ".json.gz, .csv and .csv.gz (a sweep output also .jsonl), keeping the key order (the reference's "
    + "scripts/json_to_csv.py), and say what was written (\"Converted: OUTPUT (...)\"). Per-layer stats have no "
    + "CSV form and stay in JSON (a stats file's or search results' from -l: a note on stderr says how many "
    + "were left out); a sweep output keeps its own columns (point, model, system, the grid fields, "
    + "rank, status) as the \"sweep\" group of its JSON entries.")
public final class ConvertCommand implements Callable<Integer>, CommandFiles {
  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "INPUT", description = "The file to read.")
  private Path in;

  @Parameters(index = "1", paramLabel = "OUTPUT", description = "The file to write; its extension picks the format.")
  private Path out;


  /** The error for an OUTPUT name that picks no format: every name convert writes. */
  static final String UNKNOWN_OUTPUT = "use a .json, .json.gz, .csv or .csv.gz file (or .jsonl for a sweep output)";

  /**
   * The line a conversion prints on standard output, e.g. {@code Converted: r.csv.gz (search
   * results, 5 executions; JSON -> gzipped CSV, from o.json)} or {@code Converted: quick.json
   * (sweep output, 6 records of 6 points; CSV -> JSON, from quick.csv)}.
   */
  static String convertedLine(Path in, Path out, ReportFiles.Content content) {
    return "Converted: " + out + " (" + ReportFiles.describe(content) + "; " + ReportFiles.formatName(in) + " -> "
        + ReportFiles.formatName(out) + ", from " + in + ")";
  }

  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the file to convert", "INPUT", in).output("the converted output", out);
  }

  @Override
  public Integer call() throws ConfigError {
    String name = out.getFileName().toString();
    if (!ReportFiles.isJsonLines(name) && !ReportFiles.isResultName(name)) {
      // .jsonl: a sweep output's, which write() checks once it is read
      throw new ConfigError(out.toString(), "", UNKNOWN_OUTPUT);
    }
    ReportFiles.Content content = ReportFiles.read(in);
    String note = ReportFiles.write(content, out);
    if (note != null) {
      spec.commandLine().getErr().println("calculon convert: " + note);
    }
    String inName = in.getFileName().toString();
    if (content instanceof ReportFiles.SearchContent && (inName.endsWith(".csv") || inName.endsWith(".csv.gz"))) {
      // a search's CSV with -l has its layers beside it (ResultWriter.layersSidecar), which convert does not read
      Path side = calculon.search.output.ResultWriter.layersSidecar(in);
      if (java.nio.file.Files.exists(side)) {
        spec.commandLine().getErr().println("calculon convert: the per-layer stats in " + side
            + " were not read: " + out + " has none (that file stays as it is)");
      }
    }
    // what was written, as llm --report's "Report: FILE" (OUTPUT is always a file: "-" is no
    // result name, so standard output carries this line only)
    Main.reports(spec).println(convertedLine(in, out, content));
    return 0;
  }
}
