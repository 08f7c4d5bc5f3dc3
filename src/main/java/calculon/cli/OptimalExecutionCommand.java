package calculon.cli;

import calculon.search.SearchKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llm-optimal-execution} / {@code loe}: the dense search. */
@Command(name = "llm-optimal-execution", aliases = "loe",
    description = "run a search to find the optimal llm execution")
public final class OptimalExecutionCommand extends OptimalSearchCommand {
  @Option(names = {"-m", "--mbs-break"},
      description = "Stop the microbatch-size loop of a split after a size with no good execution (as Calculon). Default: off.")
  boolean mbsBreak;

  @Override
  SearchKind kind() { return SearchKind.DENSE; }

  @Override
  boolean mbsBreak() { return mbsBreak; }
}
