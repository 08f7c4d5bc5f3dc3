package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README can be followed top to bottom: every {@code ./bin/calculon} command of its shell
 * blocks runs, in the README's order, with exit status 0 (or the one its comment announces,
 * {@code # exits 255: ...}, for an execution the README shows failing). Files of the checkout (models/,
 * examples/, systems/, validation/, src/test/resources/) are read where they are; every other file
 * name is put in one scratch folder, so a command that reads a file no earlier command wrote fails
 * here, and no README output replaces a file a user left in the checkout. A "Best sample rate" or
 * a {@code `Batch total time: T;`} the README quotes must be what the command before it printed.
 */
class ReadmeCommandsTest {
  private static final Pattern SH_BLOCK = Pattern.compile("(?s)```sh\\n(.*?)```");
  private static final Pattern QUOTED_BEST = Pattern.compile("Best sample rate: ([0-9.]+)");
  private static final Pattern QUOTED_TOTAL = Pattern.compile("`(Batch total time: [0-9.]+;)`");
  /** The checkout's folders of input files, read where they are. */
  private static final List<String> CHECKOUT_INPUTS =
      List.of("models/", "examples/", "systems/", "validation/", "src/test/resources/");

  /** The README's commands in order, each as its arguments after ./bin/calculon, with its position. */
  static List<Command> commands(String readme) {
    List<Command> out = new ArrayList<>();
    Matcher m = SH_BLOCK.matcher(readme);
    while (m.find()) {
      String block = m.group(1).replace("\\\n", " ");
      for (String line : block.split("\n")) {
        String l = line.strip();
        int hash = l.indexOf(" #");
        String comment = hash >= 0 ? l.substring(hash) : "";
        if (hash >= 0) {
          l = l.substring(0, hash).strip();
        }
        if (l.startsWith("./bin/calculon")) {
          List<String> args = new ArrayList<>(List.of(l.substring("./bin/calculon".length()).strip().split("\\s+")));
          args.removeIf(String::isEmpty);
          Matcher exits = EXITS.matcher(comment);
          out.add(new Command(args, m.end(), exits.find() ? Integer.parseInt(exits.group(1)) : 0));
        }
      }
    }
    return out;
  }

  /** A command the README shows failing says so in its comment: {@code # exits 255: ...}. */
  private static final Pattern EXITS = Pattern.compile("exits (\\d+)");

  record Command(List<String> args, int endOfBlock, int status) {}

  @Test
  void everyReadmeCommandRunsInOrder(@TempDir Path scratch) throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    List<Command> commands = commands(readme);
    assertThat(commands).hasSizeGreaterThanOrEqualTo(10);
    for (int i = 0; i < commands.size(); i++) {
      Command c = commands.get(i);
      List<String> args = new ArrayList<>();
      for (String a : c.args()) {
        args.add(localise(a, scratch));
      }
      CliRun.Run r = CliRun.run(args.toArray(String[]::new));
      String printed = r.out();
      assertThat(r.status()).as("README command %s (%s): %s", c.args(), r.err(), printed).isEqualTo(c.status());
      // Answers quoted after a block, before the next one, belong to the block's last command.
      boolean lastOfBlock = i + 1 == commands.size() || commands.get(i + 1).endOfBlock() != c.endOfBlock();
      if (lastOfBlock) {
        int nextBlock = readme.indexOf("```sh", c.endOfBlock());
        String after = readme.substring(c.endOfBlock(), nextBlock < 0 ? readme.length() : nextBlock);
        Matcher best = QUOTED_BEST.matcher(after);
        while (best.find()) {
          assertThat(printed).as("README quotes the answer of %s", c.args())
              .contains("Best sample rate: " + best.group(1));
        }
        Matcher total = QUOTED_TOTAL.matcher(after);
        while (total.find()) {
          assertThat(printed).as("README quotes the step time of %s", c.args()).contains(total.group(1));
        }
      }
    }
  }

  /**
   * "Reading a report" quotes the headline of the section-1 MoE run's report ("Limited by X: N%"):
   * the report that command writes says the same.
   */
  @Test
  void theQuotedReportHeadlineIsTheReports(@TempDir Path scratch) throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Matcher quote = Pattern.compile("\\(\"Limited by ([a-zA-Z /()]+): ([0-9.]+%)\"\\)").matcher(readme);
    assertThat(quote.find()).as("README quotes a report headline").isTrue();
    Command run = commands(readme).stream().filter(c -> c.args().contains("--report") && c.args().contains("run.html"))
        .findFirst().orElseThrow(() -> new AssertionError("README runs llm ... --report run.html"));
    List<String> args = new ArrayList<>();
    for (String a : run.args()) {
      args.add(localise(a, scratch));
    }
    CliRun.Run r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(Files.readString(scratch.resolve("run.html")))
        .contains("Limited by " + quote.group(1) + "</b>: " + quote.group(2) + " of the step");
  }

  /**
   * A file of the checkout's input folders stays as it is (made absolute); any other file name goes
   * to the scratch folder, whether or not a file of that name lies in the checkout.
   */
  private static String localise(String arg, Path scratch) {
    if (arg.startsWith("-") || !arg.matches(".*\\.(json|json\\.gz|csv|csv\\.gz|html)$")) {
      return arg;
    }
    if (CHECKOUT_INPUTS.stream().anyMatch(arg::startsWith)) {
      return Path.of(arg).toAbsolutePath().toString();
    }
    return scratch.resolve(arg).toString();
  }

  @Test
  void theParserFindsCommandsAndDropsComments() {
    String md = "x\n```sh\n./bin/calculon report a.json b.html   # note\n./bin/calculon v \\\n  --help\n"
        + "./bin/calculon llm m.json e.json s.json -    # exits 255: too big\n```\nBest sample rate: 1.5\n";
    List<Command> cs = commands(md);
    assertThat(cs).extracting(Command::args).containsExactly(List.of("report", "a.json", "b.html"),
        List.of("v", "--help"), List.of("llm", "m.json", "e.json", "s.json", "-"));
    assertThat(cs).extracting(Command::status).containsExactly(0, 0, 255);
  }
}
