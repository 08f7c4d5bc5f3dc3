package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Help wraps at spaces only (HelpLayout): every word of a description that has a dot or a slash
 * in it (a file name such as docs/validation.md, an extension list, Qwen2/2.5/3, a key such as
 * moe.num_experts) is printed whole on one line, in every command's help and in the command list
 * of {@code calculon --help}, and no line is wider than the 80 columns picocli lays help out in.
 * picocli's own wrapping cut after such a dot ({@code docs/validation.} / {@code md}).
 */
class HelpWrappingTest {
  private static final int WIDTH = 80;

  /** The words with a dot or slash inside them ("docs/sweeps.md.", not "exit."). */
  private static Set<String> dottedWords(List<String> texts) {
    Set<String> words = new LinkedHashSet<>();
    for (String t : texts) {
      for (String w : t.split("\\s+")) {
        String inner = w.replaceAll("[.,;:)]+$", "");
        if (!w.contains("${") && !w.contains("%") && inner.matches(".*\\S[./]\\S.*")) {
          words.add(w);
        }
      }
    }
    return words;
  }

  private static List<String> texts(CommandSpec spec) {
    List<String> texts = new ArrayList<>(List.of(spec.usageMessage().description()));
    for (ArgSpec a : spec.args()) {
      texts.addAll(List.of(a.description()));
    }
    return texts;
  }

  private static void wholeAndNarrow(String help, Set<String> words, String who) {
    for (String line : help.split("\n")) {
      assertThat(line.length()).as(who + ": " + line).isLessThanOrEqualTo(WIDTH);
    }
    List<String> printed = List.of(help.split("\\s+"));
    for (String w : words) {
      assertThat(printed).as(who + " prints " + w + " whole").contains(w);
    }
  }

  @Test
  void everyCommandsHelpKeepsFileNamesWhole() {
    Map<String, CommandLine> commands = Main.commandLine(new Main()).getSubcommands();
    Set<String> seen = new LinkedHashSet<>();
    for (CommandLine c : commands.values()) {
      CommandSpec spec = c.getCommandSpec();
      if (!seen.add(spec.name()) || spec.name().equals("help")) {
        continue;
      }
      Run r = CliRun.run(spec.name(), "--help");
      assertThat(r.status()).as(spec.name()).isZero();
      wholeAndNarrow(r.out(), dottedWords(texts(spec)), spec.name());
    }
    assertThat(seen).contains("llm-validation", "sweep", "convert", "llm-optimal-execution-moe");
  }

  @Test
  void theCommandListKeepsFileNamesWhole() {
    List<String> firstLines = new ArrayList<>();
    for (CommandLine c : Main.commandLine(new Main()).getSubcommands().values()) {
      firstLines.add(c.getCommandSpec().usageMessage().description()[0]);
    }
    Set<String> words = dottedWords(firstLines);
    // the ones picocli's wrapping cut at 80 columns
    assertThat(words).contains("docs/validation.md)", "docs/sweeps.md.", "Qwen2/2.5/3", ".csv.gz)");
    Run r = CliRun.run("--help");
    assertThat(r.status()).isZero();
    wholeAndNarrow(r.out(), words, "calculon --help");
  }

  @Test
  void aLineIsCutAtItsLastSpaceThatFits() {
    // 10 columns: a cut line keeps its last column free (picocli counts a word with its space),
    // the last line may fill all 10; a longer word is a line of its own
    List<int[]> lines = HelpLayout.SpaceWrappedTable.lines("see docs/sweeps.md and docs/a.md x", 10, 8);
    List<String> text = new ArrayList<>();
    String s = "see docs/sweeps.md and docs/a.md x";
    lines.forEach(l -> text.add(s.substring(l[0], l[1])));
    assertThat(text).containsExactly("see", "docs/sweeps.md", "and", "docs/a.md", "x");
    List<int[]> fill = HelpLayout.SpaceWrappedTable.lines("aaaa bbbb cccc", 10, 10);
    List<String> filled = new ArrayList<>();
    fill.forEach(l -> filled.add("aaaa bbbb cccc".substring(l[0], l[1])));
    assertThat(filled).containsExactly("aaaa bbbb", "cccc");
    List<int[]> last = HelpLayout.SpaceWrappedTable.lines("aaaa bbbbb", 10, 10);
    assertThat(last).hasSize(1);
  }
}
