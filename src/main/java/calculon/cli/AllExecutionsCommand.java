package calculon.cli;

import calculon.report.SearchReport;
import calculon.search.Search;
import calculon.search.SearchKind;
import calculon.search.SearchSpace;
import calculon.search.output.CsvRows;
import calculon.search.output.ResultFormat;
import calculon.search.output.ResultWriter;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llm-all-executions} / {@code lae}: every good execution of a space as CSV rows, streamed
 * in enumeration order. Dense by default; {@code -moe E} searches the legacy MoE space and
 * {@code -moe E --flexible} the flexible one.
 */
@Command(name = "llm-all-executions", aliases = "lae",
    description = "run all llm executions and write every good one to a CSV file")
public final class AllExecutionsCommand extends SearchCommandBase {
  @picocli.CommandLine.Parameters(index = "5", paramLabel = "OUTPUT",
      description = "Result file: .csv or .csv.gz, one row per good execution. Its folder must exist.")
  void setOutput(java.nio.file.Path p) {
    output = p;
  }

  @Override
  String outputFormats() {
    return ".csv or .csv.gz";
  }

  @Option(names = {"-moe", "--moe"}, paramLabel = "E",
      description = "Number of experts: search the MoE space. Default: none (the dense space).")
  Integer experts;

  @Option(names = "--flexible", description = "With -moe: the flexible MoE space (EP, ES, TP free). Default: off.")
  boolean flexible;

  @Override
  SearchKind kind() {
    if (experts == null) {
      return SearchKind.DENSE;
    }
    return flexible ? SearchKind.MOE_FLEX : SearchKind.MOE;
  }

  @Override
  int numExperts() { return experts == null ? 1 : experts; }

  /** -moe is this command's only source of experts for a model without them (no default). */
  @Override
  Integer requestedExperts() { return experts; }

  /** The report's top table (with {@code --report}); the CSV has every good execution anyway. */
  @Override
  int topN() { return report != null ? SearchReport.DEFAULT_TOP_SHOWN : 1; }

  @Override
  String dryRunWrites() {
    return "each good one as a row of " + output;
  }

  /** Every good execution is kept (and written). */
  @Override
  boolean collectsAll() {
    return true;
  }

  /** The CSV rows {@link CsvRows} would write for them. */
  @Override
  java.util.function.Function<java.util.List<calculon.search.SearchResult>, byte[]> dryRunRows(SearchSpace space) {
    boolean extended = !space.axes().isCalculon();
    java.util.List<String> template = ResultFormat.templateColumns(space.template(), extended);
    return results -> CsvRows.rowBytes(results, extended, template);
  }

  @Override
  long dryRunHeaderBytes(SearchSpace space) {
    boolean extended = !space.axes().isCalculon();
    return CsvRows.headerBytes(extended, ResultFormat.templateColumns(space.template(), extended)).length;
  }

  @Override
  String checkArguments() {
    if (flexible && experts == null) {
      return "--flexible needs -moe";
    }
    return super.checkArguments();
  }

  @Override
  int run() throws IOException, CommandError {
    SearchSpace space = space();
    if (debug) {
      return debugRun(space);
    }
    if (!isCsv(output)) {
      throw new CommandError(EXIT_BAD_INPUT, output + ": llm-all-executions writes .csv or .csv.gz");
    }
    int[] status = {0};
    boolean extended = !space.axes().isCalculon();
    // the template's keys are columns too, so a row runs again with llm as it was evaluated
    try (CsvRows rows = new CsvRows(output, extended, ResultFormat.templateColumns(space.template(), extended))) {
      Search.Outcome o = runSearch(space, rows, outcome -> {
        printCounts(outcome);
        if (outcome.counts().good == 0) {
          printNoneFound(space, outcome);
          if (!noneOk) {
            status[0] = -1;
          }
        }
        if (status[0] == 0) {
          // an interrupted search never replaces a result: its rows so far go beside OUTPUT
          java.nio.file.Path to = destination(output, outcome);
          rows.commitAs(to);
          out.println("Output: " + to + " (" + rows.rows() + " rows)");
          settlePartials(outcome, java.util.List.of(to));
          if (outcome.interrupted()) {
            warnings.println(fit("Interrupted: " + to + " holds the " + rows.rows() + " good executions found before "
                + "the stop (" + searchedSoFar(outcome) + "); " + untouched(output)));
          }
        } else if (outcome.interrupted()) {
          warnings.println(fit("Interrupted: nothing good found before the stop (" + searchedSoFar(outcome) + "); " + untouched(output)));
        }
        writeReport(space, outcome);
        out.flush();
        warnings.flush();
      });
      return o.interrupted() && status[0] == 0 ? EXIT_INTERRUPTED : status[0];
    }
  }

  /** Whether {@code p} names a CSV result (.csv, .csv.gz): the one format this command writes. */
  private static boolean isCsv(java.nio.file.Path p) {
    try {
      return ResultWriter.formatOf(p) == ResultWriter.Format.CSV;
    } catch (IllegalArgumentException unknown) {
      return false;
    }
  }
}
