package calculon.cli;

import calculon.config.ConfigError;
import calculon.report.ReportFiles;
import calculon.search.output.ResultWriter;
import calculon.util.Backups;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
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
    + "scripts/json_to_csv.py), and say what was written (\"Converted: OUTPUT (...)\"). A stats file's per-layer "
    + "stats have no CSV form and stay in JSON (a note on stderr says how many were left out); search results' "
    + "(from -l) go beside a CSV as NAME.layers.json[.gz], as the search writes them, and are read back from "
    + "there (for a backup NAME.csv.~N~ from NAME.layers.json.~N~; stderr names the file read); a sweep output "
    + "keeps its own columns (point, model, system, the grid fields, rank, status) as the \"sweep\" group of its "
    + "JSON entries.")
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

  /**
   * The line for the per-layer stats file written beside a CSV of search results, e.g. {@code
   * Converted: r.layers.json (per-layer stats of 5 executions, beside r.csv)}.
   */
  static String layersLine(Path layers, long executions, Path csv) {
    return "Converted: " + layers + " (per-layer stats of " + executions
        + (executions == 1 ? " execution" : " executions") + ", beside " + csv + ")";
  }

  /** Whether {@code file} is named as a CSV (optionally gzipped, or a numbered backup of one). */
  private static boolean csvName(Path file) {
    return ReportFiles.isCsv(file.getFileName().toString());
  }

  /**
   * INPUT and OUTPUT, and the per-layer stats files beside a CSV (ResultWriter.layersSidecar): the
   * one beside a CSV INPUT is read, so OUTPUT may not be it; the one beside a CSV OUTPUT may be
   * written (search results with layers) or moved to its backup name (without), so it may not be
   * INPUT.
   */
  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the file to convert", "INPUT", in);
    if (csvName(in)) {
      guard.input("the per-layer stats file of the CSV", "INPUT", ResultWriter.layersSidecar(in));
    }
    guard.output("the converted output", out).resultFile("OUTPUT", ".json, .json.gz, .csv, .csv.gz or .jsonl", out);
    if (csvName(out)) {
      guard.output("the per-layer stats file beside the converted output", ResultWriter.layersSidecar(out));
    }
  }

  @Override
  public Integer call() throws ConfigError {
    String name = out.getFileName().toString();
    if (!ReportFiles.isJsonLines(name) && !ReportFiles.isResultName(name)) {
      // .jsonl: a sweep output's, which write() checks once it is read
      throw new ConfigError(out.toString(), "", UNKNOWN_OUTPUT);
    }
    PrintWriter err = spec.commandLine().getErr();
    ReportFiles.Content content = ReportFiles.read(in);
    if (content instanceof ReportFiles.SearchContent rows && csvName(in)) {
      // a search's CSV with -l has its layers beside it (ResultWriter.layersSidecar); a numbered
      // backup's are the sidecar's backup of the same number
      Path side = ResultWriter.layersSidecar(in);
      boolean backup = !Backups.unnumbered(in.getFileName().toString()).equals(in.getFileName().toString());
      if (Files.exists(side)) {
        ReportFiles.SearchContent withLayers = ReportFiles.withSidecarLayers(rows, side, in);
        content = withLayers;
        long n = ReportFiles.rowsWithLayers(withLayers);
        err.println("calculon convert: read the per-layer stats of " + n + (n == 1 ? " execution" : " executions")
            + " from " + side + " (beside " + in + ")");
      } else if (backup) {
        err.println("calculon convert: no per-layer stats beside the backup " + in + " (looked for " + side
            + ", the per-layer file a search with -l kept with it): " + out + " has none");
      }
    }
    String note = ReportFiles.write(content, out);
    if (note != null) {
      err.println("calculon convert: " + note);
    }
    // what was written, as llm --report's "Report: FILE" (OUTPUT is always a file: "-" is no
    // result name, so standard output carries this line only)
    PrintStream report = Main.reports(spec);
    report.println(convertedLine(in, out, content));
    Path layers = ReportFiles.layersFile(content, out);
    if (layers != null) {
      report.println(layersLine(layers, ReportFiles.rowsWithLayers((ReportFiles.SearchContent) content), out));
    }
    return 0;
  }
}
