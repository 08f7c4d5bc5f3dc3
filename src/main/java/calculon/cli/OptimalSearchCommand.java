package calculon.cli;

import calculon.search.Search;
import calculon.search.SearchResult;
import calculon.search.SearchSpace;
import calculon.search.output.ResultWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The three optimal-execution searches: keep the best N, write them. */
abstract class OptimalSearchCommand extends SearchCommandBase {
  @Parameters(index = "5", paramLabel = "OUTPUT",
      description = "Result file, by extension: .json (indent 2), .json.gz, .csv or .csv.gz. Its folder must exist.")
  void setOutput(Path p) {
    output = p;
  }

  @Option(names = {"-t", "--top-n"}, paramLabel = "N", description = "How many of the best executions to write. Default: 1.")
  int topN = 1;

  @Option(names = {"-l", "--layers"}, description = "Add per-layer stats (in JSON, or beside a CSV as "
      + "NAME.layers.json[.gz]). Default: off.")
  boolean layers;

  @Override
  int topN() { return topN; }

  @Override
  boolean withLayers() { return layers; }

  @Override
  java.util.List<Path> outputFiles() {
    if (layers && !debug && (output.getFileName().toString().endsWith(".csv")
        || output.getFileName().toString().endsWith(".csv.gz"))) {
      return java.util.List.of(output, ResultWriter.layersSidecar(output));
    }
    return java.util.List.of(output);
  }

  /** The per-layer file of an interrupted CSV search is the sidecar of OUTPUT's partial name. */
  @Override
  java.util.List<Path> partialFiles() {
    Path partial = OutputGuard.partial(output);
    return outputFiles().size() == 2 ? java.util.List.of(partial, ResultWriter.layersSidecar(partial))
        : java.util.List.of(partial);
  }

  /** Lines printed before the search (the MoE commands print the task count). */
  void preamble(SearchSpace space) {}

  @Override
  int run() throws IOException, CommandError {
    SearchSpace space = space();
    if (!debug) {
      try {
        ResultWriter.formatOf(output);
      } catch (IllegalArgumentException e) {
        throw new CommandError(EXIT_BAD_INPUT, output + ": " + e.getMessage());
      }
    }
    preamble(space);
    if (debug) {
      return debugRun(space);
    }
    int[] status = {0};
    Search.Outcome o = runSearch(space, null, outcome -> status[0] = finish(space, outcome));
    return o.interrupted() && status[0] == 0 ? EXIT_INTERRUPTED : status[0];
  }

  private int finish(SearchSpace space, Search.Outcome o) throws IOException {
    printCounts(o);
    List<SearchResult> best = o.best();
    if (best.isEmpty()) {
      printNoneFound(space, o);
    } else {
      out.println("Best sample rate: " + rate(best.get(0).sampleRate()));
    }
    if (!best.isEmpty() || noneOk) {
      // an interrupted search never replaces a result: its best so far goes beside OUTPUT
      Path to = destination(output, o);
      boolean extended = !space.axes().isCalculon();
      // a CSV's rows carry the template's keys as columns, as JSON entries carry them
      List<Path> written = ResultWriter.writeBest(to, best, layers, space::equivalents, extended,
          calculon.search.output.ResultFormat.templateColumns(space.template(), extended));
      for (Path p : written) {
        out.println("Output: " + p);
      }
      settlePartials(o, written);
      if (o.interrupted()) {
        String holds = best.isEmpty() ? "nothing good found before the stop (" + searchedSoFar(o) + "), so " + to
            + " holds an empty result" : to + " holds the best " + (best.size() == 1 ? "execution" : best.size() + " executions")
            + " found before the stop (" + searchedSoFar(o) + ")";
        warnings.println(fit("Interrupted: " + holds + "; " + untouched(output)));
      }
    } else if (o.interrupted()) {
      warnings.println(fit("Interrupted: nothing good found before the stop (" + searchedSoFar(o) + "); " + untouched(output)));
    }
    writeReport(space, o);
    out.flush();
    warnings.flush();
    return best.isEmpty() && !noneOk ? -1 : 0;
  }
}
