package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The positional arguments carry one set of names in every command's help and in the README's
 * command table: upper case, the field's words (MODEL, EXECUTION, SYSTEM, NUM_PROCS,
 * MAX_BATCH_SIZE, DATATYPE, OUTPUT), the same name wherever the same kind of argument appears. llm
 * said APPLICATION and STATS, the searches application ... output in lower case, and the README MODEL
 * EXE SYS OUT.
 */
class PositionalLabelsTest {

  /** Every command's positional labels, in order, by command name. */
  private static Map<String, List<String>> labels() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Map.Entry<String, CommandLine> e : Main.commandLine(new Main()).getSubcommands().entrySet()) {
      if (!e.getKey().equals(e.getValue().getCommandName())) {
        continue; // an alias
      }
      List<String> l = new ArrayList<>();
      for (PositionalParamSpec p : e.getValue().getCommandSpec().positionalParameters()) {
        l.add(p.paramLabel());
      }
      out.put(e.getKey(), l);
    }
    return out;
  }

  @Test
  void theSameArgumentHasTheSameUpperCaseNameInEveryCommand() {
    Map<String, List<String>> labels = labels();
    List<String> search = List.of("MODEL", "NUM_PROCS", "MAX_BATCH_SIZE", "DATATYPE", "SYSTEM", "OUTPUT");
    assertThat(labels.get("llm")).containsExactly("MODEL", "EXECUTION", "SYSTEM", "OUTPUT");
    for (String s : List.of("llm-optimal-execution", "llm-optimal-execution-moe", "llm-optimal-execution-moe-flexible",
        "llm-all-executions")) {
      assertThat(labels.get(s)).as(s).isEqualTo(search);
    }
    assertThat(labels.get("llm-parameter-calculator")).containsExactly("MODEL");
    assertThat(labels.get("import-hf")).containsExactly("CONFIG", "OUTPUT");
    assertThat(labels.get("sweep")).containsExactly("SPEC", "OUTPUT");
    assertThat(labels.get("convert")).containsExactly("INPUT", "OUTPUT");
    assertThat(labels.get("report")).containsExactly("RESULTS", "REPORT");
    labels.forEach((command, l) -> assertThat(l).as(command).allMatch(s -> s.matches("[A-Z][A-Z_]*")));
  }

  @Test
  void theReadmeCommandTableUsesTheHelpsNames() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Map<String, List<String>> labels = labels();
    for (String c : List.of("llm", "llm-optimal-execution", "llm-parameter-calculator", "import-hf", "sweep", "convert",
        "report")) {
      assertThat(readme).as(c).contains("`" + c + " " + String.join(" ", labels.get(c)) + "`");
    }
  }
}
