package calculon.cli;

import calculon.search.SearchKind;
import calculon.search.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llm-optimal-execution-moe} / {@code loe-moe}: the legacy MoE search (EP = E, ES = TP). */
@Command(name = "llm-optimal-execution-moe", aliases = "loe-moe",
    description = "run a search to find the optimal MoE llm execution (EP = number of experts, ES = TP)")
public class OptimalExecutionMoeCommand extends OptimalSearchCommand {
  @Option(names = {"-moe", "--moe"}, paramLabel = "E",
      description = "Number of experts. Default: the model file's moe.num_experts, else 16.")
  Integer experts;

  @Override
  SearchKind kind() { return SearchKind.MOE; }

  @Override
  int numExperts() { return experts != null ? experts : DEFAULT_EXPERTS; }

  @Override
  Integer requestedExperts() { return experts; }

  @Override
  void preamble(SearchSpace space) {
    out.println("number of param combinations: " + space.referenceTaskCount());
  }
}
