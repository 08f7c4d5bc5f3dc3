package calculon.cli;

import calculon.search.SearchKind;
import calculon.search.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llm-optimal-execution-moe-flexible} / {@code loe-moe-flex}: EP, ES and TP all searched. */
@Command(name = "llm-optimal-execution-moe-flexible", aliases = "loe-moe-flex",
    mixinStandardHelpOptions = true,
    description = "run a search to find the optimal MoE llm execution, EP, ES and TP free")
public final class OptimalExecutionMoeFlexCommand extends OptimalSearchCommand {
  @Option(names = {"-moe", "--moe"}, paramLabel = "E",
      description = "Number of experts. Default: the model file's moe.num_experts, else 16.")
  Integer experts;

  @Override
  SearchKind kind() { return SearchKind.MOE_FLEX; }

  @Override
  int numExperts() { return experts != null ? experts : DEFAULT_EXPERTS; }

  @Override
  Integer requestedExperts() { return experts; }

  @Override
  void preamble(SearchSpace space) {
    out.println("number of param combinations: " + space.referenceTaskCount());
  }
}
