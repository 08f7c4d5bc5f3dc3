package calculon.cli;

import calculon.search.SearchKind;
import picocli.CommandLine.Command;

/** {@code llm-optimal-execution-moe-flexible} / {@code loe-moe-flex}: EP, ES and TP all searched. */
@Command(name = "llm-optimal-execution-moe-flexible", aliases = "loe-moe-flex",
   
    description = "run a search to find the optimal MoE llm execution, EP, ES and TP free")
public final class OptimalExecutionMoeFlexCommand extends OptimalExecutionMoeCommand {
  @Override
  SearchKind kind() { return SearchKind.MOE_FLEX; }
}
