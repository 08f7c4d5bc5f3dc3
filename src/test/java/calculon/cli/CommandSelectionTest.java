package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which command a run builds picocli's model for ({@link Main#commandNamed}): the one its command
 * line names, past the global options and their values; none (the whole tree) when another option
 * comes first, for help, and for an unknown word, so that help and suggestions list every command.
 */
class CommandSelectionTest {
  @Test
  void theNamedCommandPastTheGlobalOptions() {
    assertThat(Main.commandNamed(new String[] {"llm", "a.json", "e.json", "s.json", "-"})).isEqualTo(LlmCommand.class);
    assertThat(Main.commandNamed(new String[] {"lae", "m", "8"})).isEqualTo(AllExecutionsCommand.class);
    assertThat(Main.commandNamed(new String[] {"llm-all-executions"})).isEqualTo(AllExecutionsCommand.class);
    assertThat(Main.commandNamed(new String[] {"-v", "DEBUG", "loe"})).isEqualTo(OptimalExecutionCommand.class);
    assertThat(Main.commandNamed(new String[] {"-vDEBUG", "v"})).isEqualTo(VersionCommand.class);
    assertThat(Main.commandNamed(new String[] {"--verbosity=ERROR", "sweep"})).isEqualTo(SweepCommand.class);
    // a log file named like a command is the option's value, not the command
    assertThat(Main.commandNamed(new String[] {"--log", "llm", "version"})).isEqualTo(VersionCommand.class);
    assertThat(Main.commandNamed(new String[] {"--log=llm", "lpc"})).isEqualTo(ParameterCalculatorCommand.class);
  }

  @Test
  void theWholeTreeOtherwise() {
    assertThat(Main.commandNamed(new String[] {})).isNull();
    assertThat(Main.commandNamed(new String[] {"-h", "llm"})).isNull();
    assertThat(Main.commandNamed(new String[] {"-V"})).isNull();
    assertThat(Main.commandNamed(new String[] {"help", "llm"})).isNull();
    assertThat(Main.commandNamed(new String[] {"lllm"})).isNull();
    assertThat(Main.commandNamed(new String[] {"--log"})).isNull();
  }

  @Test
  void everyCommandIsFoundByEachOfItsNames() {
    for (Class<?> c : Main.COMMANDS) {
      picocli.CommandLine.Command command = c.getAnnotation(picocli.CommandLine.Command.class);
      if (c == picocli.CommandLine.HelpCommand.class) {
        continue;
      }
      assertThat(Main.commandNamed(new String[] {command.name()})).as(command.name()).isEqualTo(c);
      for (String alias : command.aliases()) {
        assertThat(Main.commandNamed(new String[] {alias, "x"})).as(alias).isEqualTo(c);
      }
    }
  }

  @Test
  void trainingRunsEachCommandLine() {
    List<String[]> lines = ClassDataTraining.split(new String[] {"llm", "a", ";", ";", "loe", "b", "c", ";"});
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).containsExactly("llm", "a");
    assertThat(lines.get(1)).containsExactly("loe", "b", "c");
  }
}
