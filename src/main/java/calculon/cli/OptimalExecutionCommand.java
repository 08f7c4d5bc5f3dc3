package calculon.cli;

import calculon.search.SearchKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llm-optimal-execution} / {@code loe}: the dense search. */
@Command(name = "llm-optimal-execution", aliases = "loe",
    description = "run a search to find the optimal llm execution")
public final class OptimalExecutionCommand extends OptimalSearchCommand {
  @Option(names = {"-m", "--mbs-break"},
      description = "Search across MBS and break earlier when possible")
  boolean mbsBreak;

  @Override
  SearchKind kind() { return SearchKind.DENSE; }

  @Override
  boolean mbsBreak() { return mbsBreak; }
}
