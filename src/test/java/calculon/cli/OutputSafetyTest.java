package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, item 1: no output ever destroys an input or another output. Every command and every
 * output option, given an input's name (directly, through a symbolic link, a hard link or a
 * relative path), a partial name that is an input, or a folder that does not exist, stops before
 * any work with one line on stderr and exit status 2, and every input is byte-identical after
 * (checked by SHA-256).
 */
class OutputSafetyTest {
  @TempDir Path dir;
  private Path model;
  private Path exe;
  private Path sys;
  private Path stats;

  @BeforeEach
  void copyInputs() throws IOException {
    model = copy("models/megatron-126M.json", "model.json");
    exe = copy("src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json", "execution.json");
    sys = copy("systems/H100_80g_sxm.json", "system.json");
    stats = copy("src/test/resources/cli/dense-126M-tp2-pp2-dp2-H100_80g_sxm-stats.json", "stats.json");
  }

  private Path copy(String from, String name) throws IOException {
    return Files.copy(Path.of(from), dir.resolve(name));
  }

  private String s(Path p) {
    return p.toString();
  }

  /** Runs the command line and asserts: exit 2, one line naming {@code named}, every file in the folder unchanged. */
  private Run refused(String named, String... args) throws IOException {
    Map<Path, String> before = hashes();
    Run r = CliRun.run(args);
    assertThat(r.status()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(2);
    assertThat(r.err().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).contains(named).doesNotContain("ERROR").doesNotContain(".tmp");
    assertThat(r.out()).as("nothing done before the check").isEmpty();
    assertThat(hashes()).as("every input byte-identical").isEqualTo(before);
    return r;
  }

  /** SHA-256 of every regular file under the temporary folder (links followed). */
  private Map<Path, String> hashes() throws IOException {
    Map<Path, String> m = new LinkedHashMap<>();
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted().toList()) {
        if (Files.isRegularFile(p)) {
          m.put(p, sha256(Files.readAllBytes(p)));
        }
      }
    }
    return m;
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private String[] llm(String statsOut, String... more) {
    List<String> a = new ArrayList<>(List.of("llm", s(model), s(exe), s(sys), statsOut));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private String[] loe(String out, String... more) {
    List<String> a = new ArrayList<>(List.of("loe", s(model), "8", "8", "float16", s(sys), out, "--quiet"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void llmStatsOverTheExecutionIsRefused() throws IOException {
    // the first case: llm M E S E replaced the execution with the stats
    Run r = refused(s(exe), llm(s(exe)));
    assertThat(r.err()).isEqualTo("calculon llm: the stats output " + exe + " is the execution file given as "
        + "EXECUTION; give another output name\n");
    refused("the stats output " + model + " is the model file given as MODEL;", llm(s(model)));
    refused("the stats output " + sys + " is the system file given as SYSTEM;", llm(s(sys)));
  }

  @Test
  void sameFileThroughARelativePathASymbolicLinkOrAHardLinkCounts() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("sub"));
    // the line names both paths when they differ
    refused("the stats output " + sub + "/../execution.json is the execution file given as EXECUTION (" + exe
        + "); give another output name", llm(sub + "/../execution.json"));
    Path link = Files.createSymbolicLink(dir.resolve("link.json"), exe);
    refused("EXECUTION", llm(s(link)));
    Path linkedFolder = Files.createSymbolicLink(dir.resolve("same"), dir);
    refused("EXECUTION", llm(linkedFolder + "/execution.json"));
    Path hard = Files.createLink(dir.resolve("hard.json"), exe);
    refused("EXECUTION", llm(s(hard)));
    // a dangling link that points at an input-to-be is resolved too
    Files.createSymbolicLink(dir.resolve("dangling.json"), dir.resolve("model.json"));
    refused("MODEL", llm(s(dir.resolve("dangling.json"))));
  }

  @Test
  void everyOutputOptionOfLlmIsChecked() throws IOException {
    refused("the --peers output " + model + " is the model file given as MODEL", llm("-", "-p", s(model)));
    Path reportLink = Files.createSymbolicLink(dir.resolve("r.html"), sys);
    refused("the --report page " + reportLink + " is the system file given as SYSTEM (" + sys + ")",
        llm("-", "--report", s(reportLink)));
    // two outputs with one name
    refused("the --peers output " + dir.resolve("o.json") + " is also the stats output: give each output its own name",
        llm(s(dir.resolve("o.json")), "-p", s(dir.resolve("o.json"))));
  }

  @Test
  void theLogOptionNeverEmptiesAnInput() throws IOException {
    List<String> a = new ArrayList<>(List.of("--log", s(model)));
    a.addAll(List.of(llm("-")));
    refused("the --log file ", a.toArray(String[]::new));
    refused("the --log file ", "--log", s(model), "lpc", s(model));
    refused("the --log file ", "--log", s(exe), "lpc", s(model), "-e", s(exe));
    refused("the --log file ", "--log", s(stats), "report", s(stats), s(dir.resolve("r.html")));
    refused("the --log file ", "--log", s(model), "loe", s(model), "8", "8", "float16", s(sys), s(dir.resolve("o.json")));
    // the log and an output
    refused("the --log file ", "--log", s(dir.resolve("o.json")), "llm", s(model), s(exe), s(sys), s(dir.resolve("o.json")));
  }

  @Test
  void everySearchCommandAndOutputIsChecked() throws IOException {
    refused("the result file " + model + " is the model file given as MODEL; give another output name",
        loe(s(model)));
    refused("the result file " + sys + " is the system file given as SYSTEM", "loe-moe", s(model), "8", "8",
        "float16", s(sys), s(sys), "-moe", "8");
    refused("is the system file given as SYSTEM", "loe-moe-flex", s(model), "8", "8", "float16", s(sys), s(sys),
        "-moe", "8");
    Path csvLink = Files.createSymbolicLink(dir.resolve("all.csv"), model);
    refused("the result file " + csvLink + " is the model file given as MODEL (" + model + ")", "lae",
        s(model), "8", "8", "float16", s(sys), s(csvLink));
    refused("the --report page " + dir.resolve("x.html") + " is the system file given as SYSTEM",
        loe(s(dir.resolve("o.json")), "--report", s(Files.createSymbolicLink(dir.resolve("x.html"), sys))));
    // the per-layer file beside a CSV result
    Path layersNamedLikeModel = Files.copy(model, dir.resolve("best.layers.json"));
    refused("the per-layer file beside the result " + layersNamedLikeModel + " is the model file given as MODEL",
        "loe", s(layersNamedLikeModel), "8", "8", "float16", s(sys), s(dir.resolve("best.csv")), "-l");
    // the name an interrupted search would write its partial result under
    Path partialInput = Files.copy(model, dir.resolve("best.partial.json"));
    refused("the partial result file an interrupted search writes " + partialInput + " is the model file given as "
        + "MODEL", "loe", s(partialInput), "8", "8", "float16", s(sys), s(dir.resolve("best.json")));
  }

  @Test
  void reportAndConvertAreChecked() throws IOException {
    Path html = Files.createSymbolicLink(dir.resolve("s.html"), stats);
    refused("the report " + html + " is the results file given as RESULTS (" + stats + ")", "report", s(stats), s(html));
    refused("the report " + dir.resolve("m.html") + " is the model file given as --model (" + model + ")", "report",
        s(dir.resolve("run.json")), s(Files.createSymbolicLink(dir.resolve("m.html"), model)), "--model", s(model));
    Files.createDirectory(dir.resolve("sub"));
    refused("the converted output " + dir + "/sub/../stats.json is the file to convert given as INPUT", "convert", s(stats),
        dir + "/sub/../stats.json");
    refused("the converted output " + stats + " is the file to convert given as INPUT;", "convert", s(stats), s(stats));
  }

  @Test
  void validationWritesNothingIntoItsInputFolders() throws IOException {
    for (String f : new String[] {"models", "systems", "validation"}) {
      Files.createDirectories(dir.resolve("base").resolve(f));
    }
    refused("the --log file " + dir.resolve("base/validation/log.txt") + " lies inside " + dir.resolve("base/validation")
        + ", the folder of validation runs given by --base_dir, which the command reads; write it elsewhere",
        "--log", s(dir.resolve("base/validation/log.txt")), "lv", "-b", s(dir.resolve("base")));
  }

  @Test
  void outputFoldersMustExistAndAreCheckedBeforeAnySearch() throws IOException {
    Path missing = dir.resolve("no-such-folder/best.json");
    Run r = refused("does not exist", loe(s(missing)));
    assertThat(r.err()).isEqualTo("calculon llm-optimal-execution: the folder " + missing.getParent() + " of the "
        + "result file " + missing + " does not exist: outputs go into an existing folder\n");
    refused("does not exist", llm(s(missing)));
    refused("does not exist", llm("-", "--report", s(dir.resolve("no/r.html"))));
    refused("does not exist", "convert", s(stats), s(missing));
    refused("does not exist", "report", s(stats), s(dir.resolve("no/r.html")));
    refused("is a folder", llm(s(Files.createDirectory(dir.resolve("d.json")))));
    assertThat(dir.resolve("no-such-folder")).doesNotExist();
    assertThat(dir.resolve("no")).doesNotExist();
  }

  @Test
  void aWriteErrorNamesTheUsersFileNotATemporaryOne() throws IOException {
    // /proc accepts no new files, not even from root
    Path target = Path.of("/proc/calculon-stats.json");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(target.getParent()));
    Run r = CliRun.run(llm(s(target)));
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).startsWith("calculon llm: " + target + ": cannot write: ").doesNotContain(".tmp");
  }

  @Test
  void partialNamesKeepTheExtension() {
    assertThat(OutputGuard.partial(Path.of("a/best.json"))).isEqualTo(Path.of("a/best.partial.json"));
    assertThat(OutputGuard.partial(Path.of("best.json.gz"))).isEqualTo(Path.of("best.partial.json.gz"));
    assertThat(OutputGuard.partial(Path.of("rows.csv.gz"))).isEqualTo(Path.of("rows.partial.csv.gz"));
    assertThat(OutputGuard.partial(Path.of("run.html"))).isEqualTo(Path.of("run.partial.html"));
  }

  @Test
  void distinctOutputsPass() throws IOException {
    Run r = CliRun.run(llm(s(dir.resolve("o.json")), "-p", s(dir.resolve("peers.json"))));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(dir.resolve("o.json")).exists();
  }
}
