package calculon.cli;

import calculon.config.ConfigError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one check that no output of a command destroys an input or another output (issue 13,
 * "nothing a user wrote, and no finished result, is ever overwritten or lost"). Every command
 * declares its files ({@link CommandFiles}); {@link Main} runs this check, with the global
 * {@code --log} file added, before the command does any work, so a clash costs nothing.
 *
 * <p>Rules, for every output:
 * <ul>
 *   <li>its name must not be empty, its folder must exist (outputs never create folders), and it must not be a folder;</li>
 *   <li>it must not be the same file as any input, nor lie inside an input folder, nor be the same
 *       file as another output. "Same" is decided on real paths: relative paths, {@code ..} and
 *       symbolic links (of the file or of any folder above it) are resolved, and two existing
 *       paths that are one file (hard links) count as the same too.</li>
 * </ul>
 * Before these, for every input: it must not be {@code -}, which names standard output where an
 * output takes it (llm's OUTPUT, {@code --log}) and is never read. Every such argument is named in
 * one line ({@link #standardOutputAsInput}). Nor may an output that is a file of results (a
 * search's or sweep's OUTPUT, {@link #resultFile}) be {@code -}.
 *
 * <p>A broken rule is one {@link ConfigError} in plain words, exit status 2, naming the output's path
 * and what it is, and the file it clashes with and the argument that gave it: {@code the stats
 * output models/x.json is the model file given as MODEL; give another output name}.
 *
 * <p>An output may replace a file that is not an input: {@link calculon.util.AtomicFile} keeps
 * that file first as a numbered backup ({@link calculon.util.Backups}, {@code out.json.~1~}).
 */
public final class OutputGuard {
  /**
   * A file a command reads or writes: what it is in words ({@code the model file}), the argument
   * that gives it as help names it ({@code MODEL}, {@code --report}; empty for an output,
   * whose words name it) and the path as the user gave it.
   */
  private record Entry(String what, String role, String given, Path path) {}

  private final List<Entry> inputs = new ArrayList<>();
  private final List<Entry> inputTrees = new ArrayList<>();
  private final List<Entry> outputs = new ArrayList<>();
  /** Arguments that name a file of results, never standard output ({@link #resultFile}); what is their words for what they take. */
  private final List<Entry> resultFiles = new ArrayList<>();
  /** The command's usage line and name, for the line on a {@code -} input ({@link #standardOutputAsInput}); null alone. */
  private final String usage;
  private final String command;

  /** A guard whose errors name no command (tests, tools). */
  public OutputGuard() {
    this(null, null);
  }

  /**
   * A guard for the command {@code command} ({@code calculon llm}) whose usage in one line is
   * {@code usage} ({@code calculon llm [OPTIONS] MODEL EXECUTION SYSTEM OUTPUT}): the line on a
   * {@code -} input ends with both, as a usage error does.
   */
  OutputGuard(String command, String usage) {
    this.command = command;
    this.usage = usage;
  }

  /** What standard output is called on the command line, where an output may take it. */
  static final String STANDARD_OUTPUT = "-";

  /**
   * Declares a file the command reads: {@code what} it is in words ({@code the execution file}) and
   * the argument that gives it as help names it ({@code role}: {@code EXECUTION}, {@code
   * --execution-template}). Null is ignored.
   */
  public OutputGuard input(String what, String role, Path file) {
    if (file != null) {
      inputs.add(new Entry(what, role, file.toString(), file));
    }
    return this;
  }

  /**
   * Declares a folder whose files the command reads ({@code what}: {@code the folder of validation
   * runs}; {@code role}: the argument it comes from): no output may lie inside it. Null is ignored.
   */
  public OutputGuard inputFolder(String what, String role, Path folder) {
    if (folder != null) {
      inputTrees.add(new Entry(what, role, folder.toString(), folder));
    }
    return this;
  }

  /**
   * Declares a file the command may write, named in words with its argument where that is an
   * option ({@code the stats output}, {@code the --peers output}). Null is ignored.
   */
  public OutputGuard output(String what, Path file) {
    if (file != null) {
      outputs.add(new Entry(what, "", file.toString(), file));
    }
    return this;
  }

  /**
   * Declares that the argument {@code role} ({@code OUTPUT}) names a file of results, which
   * standard output cannot take: {@code -} there is refused before any work, as {@code -} for an
   * input is ({@link #standardOutputAsInput}), with what the argument takes ({@code accepts}: {@code
   * .csv or .csv.gz}). Without it a search read its inputs, evaluated, and then failed on {@code -:
   * unknown file type}, or on an unrelated input first. Null is ignored; declare the file with
   * {@link #output} too.
   */
  public OutputGuard resultFile(String role, String accepts, Path file) {
    if (file != null) {
      resultFiles.add(new Entry(accepts, role, file.toString(), file));
    }
    return this;
  }

  /**
   * Applies the rules (see the class comment) to every declared output.
   *
   * @throws ConfigError naming the first output that breaks one, as the user gave it, and the
   *     input or output it clashes with, in words and by its argument: {@code the stats output
   *     models/x.json is the model file given as MODEL; give another output name}
   */
  public void check() throws ConfigError {
    ConfigError dash = standardOutputAsInput();
    if (dash != null) {
      throw dash;
    }
    for (Entry r : resultFiles) {
      if (STANDARD_OUTPUT.equals(r.given)) {
        // one line, as the input's: OUTPUT is '-', standard output, which takes no result file: give
        // a .csv or .csv.gz file (usage: ...); see '... --help'
        throw ConfigError.sentence(STANDARD_OUTPUT, withUsage(r.role + " is '-', standard output, which takes no result "
            + "file: give a " + r.what + " file"));
      }
    }
    List<Path> resolved = new ArrayList<>();
    for (Entry o : outputs) {
      resolved.add(resolveOutput(o));
    }
    for (int i = 0; i < outputs.size(); i++) {
      Entry o = outputs.get(i);
      Path real = resolved.get(i);
      for (Entry in : inputs) {
        if (same(real, o.path, resolveAny(in.path), in.path)) {
          throw refusal(o, named(o) + " is " + in.what + " given as " + in.role
              + (in.given.equals(o.given) ? "" : " (" + in.given + ")") + "; give another output name");
        }
      }
      for (Entry tree : inputTrees) {
        Path root = resolveAny(tree.path);
        if (real.startsWith(root)) {
          throw refusal(o, named(o) + " lies inside " + tree.given + ", " + tree.what + " given by " + tree.role
              + ", which the command reads; write it elsewhere");
        }
      }
      for (int k = 0; k < i; k++) {
        if (same(real, o.path, resolved.get(k), outputs.get(k).path)) {
          Entry other = outputs.get(k);
          throw refusal(o, named(o) + " is also " + other.what
              + (other.given.equals(o.given) ? "" : " " + other.given) + ": give each output its own name");
        }
      }
    }
  }

  /**
   * The error for inputs given as {@code -}, or null when there are none. {@code -} is standard
   * output where an output takes it, and no command reads from it: without this line a {@code -}
   * in SYSTEM's place (an argument left out, or OUTPUT given too early) got the reader's {@code -:
   * must be a .json or .json.gz file}, naming no argument and the first of several only. Every
   * argument given as {@code -} is named, once, in the order declared: {@code SYSTEM is '-',
   * standard output, which no command reads: give the system file (usage: calculon
   * llm-optimal-execution [OPTIONS] MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT); see
   * 'calculon llm-optimal-execution --help'}; {@code MODEL and EXECUTION are '-', standard output,
   * which no command reads: give the model file and the execution file (usage: ...)}.
   */
  private ConfigError standardOutputAsInput() {
    java.util.Map<String, String> dashed = new java.util.LinkedHashMap<>();
    for (List<Entry> kind : List.of(inputs, inputTrees)) {
      for (Entry in : kind) {
        if (STANDARD_OUTPUT.equals(in.given)) {
          dashed.putIfAbsent(in.role, in.what);
        }
      }
    }
    if (dashed.isEmpty()) {
      return null;
    }
    List<String> roles = new ArrayList<>(dashed.keySet());
    String sentence = Main.joinAnd(roles) + (roles.size() == 1 ? " is" : " are")
        + " '-', standard output, which no command reads: give " + Main.joinAnd(new ArrayList<>(dashed.values()));
    return ConfigError.sentence(STANDARD_OUTPUT, withUsage(sentence));
  }

  /** {@code sentence} ending with the command's usage and help pointer, as a usage error does (none alone). */
  private String withUsage(String sentence) {
    return usage == null ? sentence : sentence + " (usage: " + usage + "); see '" + command + " --help'";
  }

  /** How an error names an output: its words and the path as given, {@code the stats output out.json}. */
  private static String named(Entry o) {
    return o.what + " " + o.given;
  }

  /** The error for output {@code o}: the sentence alone (it names the file), exit status 2. */
  private static ConfigError refusal(Entry o, String sentence) {
    return ConfigError.sentence(o.given, sentence);
  }

  /** The real path an output will be written at; checks its folder exists and it is not a folder. */
  private static Path resolveOutput(Entry o) throws ConfigError {
    if (o.given.isEmpty()) {
      // Path.of("") is the current folder: the folder refusal would name an empty file
      throw refusal(o, o.what + " has an empty name: give a file name");
    }
    Path abs = o.path.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      throw refusal(o, named(o) + " is a folder: give a file name");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw refusal(o, "the folder " + (parent == null ? "" : parent + " ") + "of " + named(o)
          + " does not exist: outputs go into an existing folder");
    }
    return resolveAny(o.path);
  }

  /**
   * The real path of {@code p}: its own real path when it exists (symbolic links followed), else
   * the real path of its nearest existing ancestor with the rest appended. A dangling symbolic
   * link resolves to where it points, so writing through it is compared with the file it names.
   */
  static Path resolveAny(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    for (int hops = 0; hops < 40 && Files.isSymbolicLink(abs) && !Files.exists(abs); hops++) {
      try {
        abs = abs.resolveSibling(Files.readSymbolicLink(abs)).toAbsolutePath().normalize();
      } catch (IOException | UnsupportedOperationException e) {
        break;
      }
    }
    Path rest = abs.getFileSystem().getPath("");
    Path base = abs;
    while (base != null) {
      try {
        return base.toRealPath().resolve(rest).normalize();
      } catch (IOException e) {
        Path name = base.getFileName();
        rest = name == null ? rest : name.resolve(rest);
        base = base.getParent();
      }
    }
    return abs;
  }

  /** Same real path, or two existing paths that are one file (hard links, bind mounts). */
  private static boolean same(Path realA, Path givenA, Path realB, Path givenB) {
    if (realA.equals(realB)) {
      return true;
    }
    if (Files.exists(givenA, LinkOption.NOFOLLOW_LINKS) && Files.exists(givenB)) {
      try {
        return Files.exists(givenA) && Files.isSameFile(givenA, givenB);
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  /**
   * Where an interrupted command puts what it has, beside {@code out} and never over it: the
   * name with {@code .partial} before its extension ({@code best.json} → {@code best.partial.json},
   * {@code rows.csv.gz} → {@code rows.partial.csv.gz}, {@code run.html} → {@code run.partial.html}).
   */
  public static Path partial(Path out) {
    String n = out.getFileName().toString();
    String ext = "";
    for (String e : new String[] {".json.gz", ".csv.gz", ".json", ".csv", ".html", ".htm"}) {
      if (n.endsWith(e)) {
        ext = e;
        break;
      }
    }
    if (ext.isEmpty()) {
      int dot = n.lastIndexOf('.');
      ext = dot > 0 ? n.substring(dot) : "";
    }
    return out.resolveSibling(n.substring(0, n.length() - ext.length()) + ".partial" + ext);
  }

  /**
   * A failed write as the one-line configuration error the CLI prints (exit status 2): the file
   * as the user named it ({@code given}, or the one the failure names) and the reason.
   */
  public static ConfigError writeError(Path given, IOException e) {
    if (e instanceof calculon.util.OutputFailure f) {
      return new ConfigError(f.target().toString(), "", "cannot write: " + f.reason());
    }
    return new ConfigError(given.toString(), "", "cannot write: " + calculon.util.AtomicFile.reason(e));
  }
}
