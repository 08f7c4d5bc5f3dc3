package calculon.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** PLACEHOLDER (replaced on merge): registers the search commands only. */
@Command(name = "calculon", mixinStandardHelpOptions = true,
    subcommands = {OptimalExecutionCommand.class, OptimalExecutionMoeCommand.class,
        OptimalExecutionMoeFlexCommand.class, AllExecutionsCommand.class})
public final class Main implements Runnable {
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
