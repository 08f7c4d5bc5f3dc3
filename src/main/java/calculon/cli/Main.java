package calculon.cli;

import calculon.config.ConfigError;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The {@code calculon} command line: global options as the reference's driver, then one command.
 * Exit status: the command's (0, or 255 for an infeasible execution), 2 for bad usage or a
 * configuration error (one line on stderr), 1 for an internal error.
 */
@Command(
    name = "calculon",
    description = "Calculon: co-design for large scale parallel applications (a Java "
        + "reimplementation of Calculon-MoE).",
    synopsisSubcommandLabel = "COMMAND",
    // -h/--help and -V/--version on every command (picocli copies INHERIT attributes to subcommands)
    scope = CommandLine.ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    footerHeading = "%nFiles:%n",
    footer = {Main.FILES_FOOTER, Main.EXIT_STATUS_FOOTER},
    commandListHeading = "%nCommands:%n")
public final class Main implements Callable<Integer> {
  /** The help's paragraph on output files: for calculon itself and the commands that write files. */
  static final String FILES_FOOTER = "Every output goes into a folder that must already exist; no output may be an input "
      + "(through links or relative paths) or another output. Both are checked before any work, "
      + "with one line and exit status 2. Files are written complete or not at all. A file an output "
      + "replaces is kept first as a numbered backup, NAME.~N~ (N one more than the highest kept, as "
      + "cp --backup=numbered), said in one line on standard error, right before the new file takes its name: "
      + "a run that fails first makes no backup (the --log file, written as the command goes, is moved aside "
      + "and created with the first report line: a run that reports nothing leaves it as it was).";

  /**
   * The sweep's help paragraph on files: OUTPUT is appended to point by point and resumed, not
   * written complete (docs/sweeps.md, "Resume"); only the other outputs follow {@link #FILES_FOOTER}.
   */
  static final String SWEEP_FILES_FOOTER = "Every output goes into a folder that must already exist; no output may be an "
      + "input or another output (checked before any work, one line, exit status 2). OUTPUT is appended to point "
      + "by point, with the SPEC and its inputs' fingerprints in OUTPUT.spec.json beside it: running the same SPEC "
      + "and OUTPUT again resumes it (the last point written is redone, a half-written line dropped) and updates "
      + "both in place; a different SPEC for an existing OUTPUT is refused. The --report page is written complete, "
      + "a page it replaces kept first as a numbered backup, NAME.~N~.";

  /** calculon's own help's exit statuses: every command's together, in {@link #footerOf}'s words. */
  static final String EXIT_STATUS_FOOTER = "Exit status: 0 done, 2 a configuration or usage error, "
      + "255 an infeasible execution (llm, llm-validation), no good execution (a search) or no point that gave a "
      + "result, each invalid or infeasible (sweep), where a search's or sweep's -n, --noneok exits 0 instead, "
      + "130 an interrupted search or sweep (143 when stopped by kill, SIGTERM, which keeps the same results), "
      + "1 an internal error.";

  /** Commands that write no file of their own (only the global --log may): their help has no Files section. */
  static final Set<Class<?>> WRITE_NO_FILES = Set.of(VersionCommand.class, ParameterCalculatorCommand.class,
      ValidationCommand.class, CommandLine.HelpCommand.class);

  /** Commands that exit 255 for an infeasible execution (llm, llm-validation) or no good one (the searches). */
  static final Set<Class<?>> MAY_BE_INFEASIBLE = Set.of(LlmCommand.class, ValidationCommand.class,
      OptimalExecutionCommand.class, OptimalExecutionMoeCommand.class, OptimalExecutionMoeFlexCommand.class,
      AllExecutionsCommand.class);

  /** The searches, which Ctrl-C (130) or SIGTERM (143) stop with the results found so far. */
  static final Set<Class<?>> SEARCHES = Set.of(OptimalExecutionCommand.class, OptimalExecutionMoeCommand.class,
      OptimalExecutionMoeFlexCommand.class, AllExecutionsCommand.class);

  /**
   * The help footer of one command: the Files paragraph where it writes files, and the exit
   * statuses it can give (255 only where an execution can be infeasible or no point of a sweep gives a result,
   * 130/143 only for the searches, 130 for an interrupted sweep).
   */
  static String[] footerOf(Class<?> c) {
    StringBuilder exit = new StringBuilder("Exit status: 0 done, 2 a configuration or usage error, ");
    if (c == LlmCommand.class || c == ValidationCommand.class) {
      exit.append("255 an infeasible execution, ");
    } else if (MAY_BE_INFEASIBLE.contains(c)) {
      exit.append("255 no good execution (without --noneok), ");
    } else if (c == SweepCommand.class) {
      exit.append("255 no point gave a result, each invalid or infeasible (without --noneok), ");
    }
    if (SEARCHES.contains(c)) {
      exit.append("130 an interrupted search (143 when stopped by kill, SIGTERM, which keeps the same results), ");
    } else if (c == SweepCommand.class) {
      exit.append("130 an interrupted sweep (143 when stopped by kill, SIGTERM, which keeps the same points), ");
    }
    exit.append("1 an internal error.");
    if (WRITE_NO_FILES.contains(c)) {
      return new String[] {exit.toString()};
    }
    return new String[] {c == SweepCommand.class ? SWEEP_FILES_FOOTER : FILES_FOOTER, exit.toString()};
  }

  /** Exit status for a configuration the user must fix (and for bad usage, as picocli's). */
  public static final int EXIT_CONFIG_ERROR = 2;
  /** Exit status for a bug of ours. */
  public static final int EXIT_INTERNAL_ERROR = 1;
  /** Exit status of an infeasible execution: the reference returns -1, which the shell sees as 255. */
  public static final int EXIT_INFEASIBLE = 255;
  /** Set this environment variable to see stack traces of internal errors. */
  public static final String DEBUG_ENV = "CALCULON_DEBUG";

  private static final String STDOUT_NAME = "-";

  /**
   * The commands, in the order the help lists them (one line per command; the search commands
   * join here). They are registered by {@link #commandLine} rather than in the {@code @Command}
   * annotation so that a run builds picocli's model of its own command only: reflecting over all
   * of them cost a short command like {@code llm} about a third of its start-up (issue 12 item 8,
   * docs/performance.md).
   */
  static final List<Class<?>> COMMANDS = List.of(
      VersionCommand.class,
      LlmCommand.class,
      OptimalExecutionCommand.class,
      OptimalExecutionMoeCommand.class,
      OptimalExecutionMoeFlexCommand.class,
      AllExecutionsCommand.class,
      ValidationCommand.class,
      ParameterCalculatorCommand.class,
      ReportCommand.class,
      ConvertCommand.class,
      ImportHfCommand.class,
      SweepCommand.class,
      CommandLine.HelpCommand.class);

  @Spec
  private CommandSpec spec;

  // Long form only: -l is llm's and the searches' --layers (the reference's driver had -l too).
  @Option(names = "--log", paramLabel = "FILE", defaultValue = STDOUT_NAME,
      description = "Where the command's report goes (what it prints on standard output when all goes "
          + "well: llm's summary, the tables, counts and Output/Report lines of the others): a file (an earlier "
          + "file of that name is kept as FILE.~N~ when the first report line is written, so a run that reports "
          + "nothing leaves it as it was; its folder must exist, and it must not be an input or "
          + "another output), or - for standard output. Errors stay where they are. "
          + "Default: ${DEFAULT-VALUE}.")
  private String logFile;

  @Option(names = {"-v", "--verbosity"}, paramLabel = "LEVEL", defaultValue = "INFO",
      converter = LevelConverter.class,
      description = "Logging level, a Python logging level name: DEBUG, INFO, WARNING, ERROR or CRITICAL "
          + "(also WARN, FATAL and NOTSET, Python's aliases of WARNING, CRITICAL and everything; any case; no "
          + "numbers). WARNING or higher silences the reports, which are logged at INFO, but for an interrupted "
          + "search's or sweep's Interrupted: line, a warning (ERROR or higher silences it too); never the errors. "
          + "Default: ${DEFAULT-VALUE}.")
  private int verbosity;


  private final PrintStream out;
  private final PrintStream err;
  private PrintStream logStream;
  private Log log;

  private Main(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** For tools that inspect the command tree (tests, documentation). */
  Main() {
    this(System.out, System.err);
  }

  public static void main(String[] args) {
    System.exit(execute(args, System.out, System.err));
  }

  /** Runs the command line {@code args}, writing to {@code out} and {@code err}; returns the exit status. */
  public static int execute(String[] args, PrintStream out, PrintStream err) {
    Main main = new Main(out, err);
    CommandLine cmd = commandLine(main, commandNamed(args));
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    cmd.setExecutionStrategy(main::runWithLog);
    cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> reportFailure(ex, err, commandName(parseResult)));
    cmd.setParameterExceptionHandler(Main::reportUsageError);
    try {
      return cmd.execute(args);
    } finally {
      main.closeLog();
    }
  }

  /** The whole command tree: every command of {@link #COMMANDS} under {@code main}. */
  static CommandLine commandLine(Main main) {
    return commandLine(main, null);
  }

  /**
   * The command tree for one run: with {@code only} (a class of {@link #COMMANDS}) just that
   * command under {@code main}, else all of them. Parsing, help and errors are the same either way
   * for a command line that names {@code only}; without one (no command, an unknown one, {@code
   * help}) the run gets the whole tree, so the command list and the "Did you mean" suggestions
   * are complete.
   */
  static CommandLine commandLine(Main main, Class<?> only) {
    CommandLine cmd = new CommandLine(main);
    for (Class<?> c : COMMANDS) {
      if (only == null || c == only) {
        cmd.addSubcommand(c);
        // the inherited footer, cut to what applies to this command (no Files section where it
        // writes none, no 130/143 where it does not search)
        CommandSpec sub = cmd.getSubcommands().get(c.getAnnotation(Command.class).name()).getCommandSpec();
        String[] footer = footerOf(c);
        sub.usageMessage().footer(footer);
        sub.usageMessage().footerHeading(footer.length == 2 ? "%nFiles:%n" : "%n");
      }
    }
    // descriptions wrapped at spaces only, so no file name is split at its dot (set after the
    // subcommands: picocli gives the factory to the commands present)
    cmd.setHelpFactory(HelpLayout.FACTORY);
    return cmd;
  }

  /**
   * The command {@code args} runs, found without picocli: the first word that is not a global
   * option ({@code --log FILE}, {@code -v LEVEL}, their {@code =} and attached forms) nor the
   * value of one, if it is a name or alias of a command other than {@code help}; else null (also
   * when another option comes first: {@code -h}, {@code -V}).
   */
  static Class<?> commandNamed(String[] args) {
    int i = commandIndex(args);
    if (i < 0) {
      return null;
    }
    for (Class<?> c : COMMANDS) {
      Command command = c.getAnnotation(Command.class);
      if (c != CommandLine.HelpCommand.class
          && (command.name().equals(args[i]) || List.of(command.aliases()).contains(args[i]))) {
        return c;
      }
    }
    return null;
  }

  /**
   * Where the command word of {@code args} is: the index of the first word that is not a global
   * option ({@code --log FILE}, {@code -v LEVEL}, their {@code =} and attached forms) nor the value
   * of one; -1 when there is none or another option comes first ({@code -h}, {@code -V}).
   */
  private static int commandIndex(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--log") || a.equals("-v") || a.equals("--verbosity")) {
        i++; // its value
        continue;
      }
      if (a.startsWith("--log=") || a.startsWith("--verbosity=") || (a.startsWith("-v") && !a.startsWith("--"))) {
        continue; // -vDEBUG, -v=DEBUG: the value is attached
      }
      return a.startsWith("-") ? -1 : i; // -h, -V, a mistake: whatever picocli makes of it
    }
    return -1;
  }

  /** Without a command: a usage error, as the reference's required subcommand. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required command");
  }

  /**
   * The command's standard output, for what bypasses the log as the reference's {@code print()}
   * did: the {@code ERROR:} line of an infeasible run, a search's "No acceptable configurations
   * found" without {@code --noneok}. Reports go to {@link #log} ({@link Log#reports}).
   */
  PrintStream out() { return out; }

  /** The stream {@link #execute} was given for errors and progress (standard error from the shell). */
  PrintStream err() { return err; }

  /** The log the commands report through. */
  Log log() { return log; }

  /**
   * The report stream ({@link Log#reports}) of the command {@code command} (a command of {@link
   * #COMMANDS}, run under Main): for commands that reach Main through their {@code @Spec}.
   */
  static PrintStream reports(CommandSpec command) {
    return ((Main) command.root().userObject()).log().reports();
  }

  /**
   * Checks the outputs and the log's path and sets up the log before any command runs, as the
   * reference's driver does (the log file itself is created with its first report line: {@link
   * LogFile}), then runs the command.
   */
  private int runWithLog(ParseResult parseResult) {
    String command = commandName(parseResult);
    // a file an output replaces is kept as a numbered backup, said on stderr after the command's name,
    // on a line of its own also while a progress bar is drawn there (the --log file's, with the
    // first report line)
    calculon.util.Backups.noticesTo(line -> calculon.util.ProgressBars.println(err, errorLine(command, line)));
    try {
      if (!helpRequested(parseResult)) {
        try {
          checkFiles(parseResult);
        } catch (ConfigError e) {
          throw new CommandLine.ExecutionException(spec.commandLine(), e.getMessage(), e);
        }
        openLog();
      }
      return new CommandLine.RunLast().execute(parseResult);
    } finally {
      calculon.util.Backups.noticesTo(null);
    }
  }

  private static boolean helpRequested(ParseResult parseResult) {
    for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Before any work: the command's outputs and the log against its inputs and each other
   * ({@link OutputGuard}), so that no output can overwrite an input or a finished result.
   */
  private void checkFiles(ParseResult parseResult) throws ConfigError {
    ParseResult leaf = parseResult;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    OutputGuard guard = new OutputGuard(leaf.commandSpec().qualifiedName(), usage(leaf.commandSpec()));
    if (leaf.commandSpec().userObject() instanceof CommandFiles files) {
      files.declareFiles(guard);
    }
    if (!STDOUT_NAME.equals(logFile)) {
      guard.output("the --log file", Path.of(logFile));
    }
    guard.check();
    if (!STDOUT_NAME.equals(logFile)) {
      // the log file is created with the first report line (LogFile), possibly after a long run:
      // that its folder takes new files (an earlier file is renamed there, the new one created) is
      // checked now, before any work
      Path folder = Path.of(logFile).toAbsolutePath().normalize().getParent();
      if (folder != null && !java.nio.file.Files.isWritable(folder)) {
        throw new ConfigError(logFile, "", "cannot open the log file: its folder " + folder + " is not writable");
      }
    }
  }

  /**
   * Sets up the log. A {@code --log} file is opened lazily ({@link LogFile}): the earlier file of
   * that name is moved aside and the new one created when the first report line is written, so a
   * run that fails before any report (a missing input, a bad value, no command) leaves the earlier
   * file as it was and creates nothing. Its path was checked before any work ({@link #checkFiles}).
   */
  private void openLog() {
    if (STDOUT_NAME.equals(logFile)) {
      log = new Log(out, verbosity);
      return;
    }
    logStream = new PrintStream(new LogFile(Path.of(logFile)), false, StandardCharsets.UTF_8);
    log = new Log(logStream, verbosity);
  }

  private void closeLog() {
    if (logStream != null) {
      logStream.close();
    }
  }

  /**
   * The {@code --log} file, opened on the first byte written: the earlier file of that name is
   * then moved to its numbered backup ({@link calculon.util.Backups#moveAside}, said on standard
   * error) and the new one created; the log is written as the command goes, not renamed into
   * place, so the earlier file is moved, never emptied. Until then flush and close do nothing, and
   * nothing is created. A failure to open it is a {@link LogFileFailure} (its {@link ConfigError}:
   * one line, exit 2).
   */
  static final class LogFile extends java.io.OutputStream {
    private final Path path;
    private java.io.OutputStream file;

    LogFile(Path path) {
      this.path = path;
    }

    private java.io.OutputStream file() {
      if (file == null) {
        try {
          calculon.util.Backups.moveAside(path);
          file = new java.io.BufferedOutputStream(new FileOutputStream(path.toFile()));
        } catch (IOException e) {
          throw new LogFileFailure(new ConfigError(path.toString(), "",
              "cannot open the log file: " + calculon.util.AtomicFile.reason(e)));
        }
      }
      return file;
    }

    @Override
    public void write(int b) throws IOException {
      file().write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > 0) {
        file().write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      if (file != null) {
        file.flush();
      }
    }

    @Override
    public void close() throws IOException {
      if (file != null) {
        file.close();
      }
    }
  }

  /** The {@code --log} file could not be opened at its first report line: carries the one-line error. */
  static final class LogFileFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LogFileFailure(ConfigError cause) {
      super(cause.getMessage(), cause);
    }
  }

  /**
   * The command a parse result runs, as every error line names it: {@code calculon llm} (the
   * command's name, also when an alias was typed, as picocli's usage errors name it), or {@code
   * calculon} when there is none.
   */
  static String commandName(ParseResult parseResult) {
    ParseResult leaf = parseResult;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    return leaf.commandSpec().qualifiedName();
  }

  /**
   * The name of {@code command} (a command object of {@link #COMMANDS}) as the error lines give it,
   * {@code calculon llm-optimal-execution}: what {@link #commandName} gives when it runs under Main,
   * also when a test runs the object alone.
   */
  static String commandName(Object command) {
    Command c = command.getClass().getAnnotation(Command.class);
    return c == null ? "calculon" : "calculon " + c.name();
  }

  /**
   * The one line of a failure of {@code command} ({@link #commandName}): {@code calculon llm:
   * exe.json: tensor_par: must be at least 1}. Every error line of the command line has this
   * shape, usage errors ({@link #usageErrorLine}) included.
   */
  static String errorLine(String command, String message) {
    return command + ": " + message;
  }

  /**
   * What a command's exception becomes: a {@link ConfigError} its one-line message after the
   * command's name ({@link #errorLine}) and exit 2; anything else is our bug: one line naming it
   * ({@code calculon llm: internal error: ...}) and exit 1 (the stack trace too when
   * {@value #DEBUG_ENV} is set).
   */
  static int reportFailure(Exception ex, PrintStream err, String command) {
    if (ex instanceof LogFileFailure f) {
      ex = (ConfigError) f.getCause();
    }
    if (ex instanceof ConfigError) {
      err.println(errorLine(command, ex.getMessage()));
      return EXIT_CONFIG_ERROR;
    }
    if (System.getenv(DEBUG_ENV) != null) {
      ex.printStackTrace(err);
    }
    err.println(internalErrorLine(command, ex.getClass().getName() + ": " + ex.getMessage()));
    return EXIT_INTERNAL_ERROR;
  }

  /** The line of an internal error (our bug) of {@code command}: {@code calculon llm: internal error: WHAT}. */
  static String internalErrorLine(String command, String what) {
    return errorLine(command, "internal error: " + what);
  }

  /**
   * A usage error (unknown option or command, missing or malformed argument): one line on stderr
   * naming the problem, picocli's near-miss suggestions when it has some, and where the full help
   * is, e.g. {@code calculon llm: Unknown option: '--layer' (did you mean --layers?); see 'calculon
   * llm --help'}; exit status 2. The usage itself is printed by {@code --help} only (the project's
   * rule for errors: one line, no wall of text hiding it).
   */
  static int reportUsageError(ParameterException ex, String[] args) {
    CommandLine c = ex.getCommandLine();
    c.getErr().println(usageErrorLine(ex, args));
    return c.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * The one line of {@link #reportUsageError}: command, problem, suggestions, help hint. A global
   * option given after the command ({@link #misplacedGlobalOption}) is the problem, whatever
   * picocli made of the words after it (an unknown option, the option's value taken for a
   * positional, the positionals shifted so that the last is left over or one fails to convert):
   * {@code calculon llm: Misplaced option: '--log' (--log is an option of calculon itself, before
   * the command: calculon --log FILE llm ...); see 'calculon llm --help'}. An option of other
   * commands only ({@link #otherCommandsOption}) is named as such, unless the command has its own
   * hint for it ({@link UnknownOptionHint}). An unknown option comes before what picocli found
   * after setting it aside (missing arguments, a word it could not convert, extra words): {@code
   * calculon llm --layer x} is {@code calculon llm: Unknown option: '--layer' (did you mean
   * --layers?)}, not "Missing required parameters: 'EXECUTION', 'SYSTEM', 'OUTPUT'". Words after
   * all of the arguments, with no option among them, are {@link #extraArgumentsLine}.
   */
  static String usageErrorLine(ParameterException ex, String[] args) {
    String command = ex.getCommandLine().getCommandSpec().qualifiedName();
    String[] misplaced = ex.getCommandLine().getParent() == null ? null
        : misplacedGlobalOption(args, ex.getCommandLine().getCommandSpec().name());
    if (misplaced != null) {
      return command + ": Misplaced option: '" + misplaced[0] + "' (" + misplaced[1] + "); see '" + command
          + " --help'";
    }
    if (ex.getCommandLine().getParent() != null) {
      // an unknown option is the problem to name first: picocli sets it aside and goes on, so
      // that what it then finds (the arguments still missing, as for "llm --layer x"; a word it
      // cannot convert; an extra argument beside it) would hide the mistake that caused it
      List<String> unmatched = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched()
          : ex.getCommandLine().getUnmatchedArguments();
      List<String> unknown = unmatched.stream().filter(Main::looksLikeOption).toList();
      if (!unknown.isEmpty() && (!(ex instanceof CommandLine.UnmatchedArgumentException)
          || unknown.size() < unmatched.size())) {
        return usageErrorLine(new CommandLine.UnmatchedArgumentException(ex.getCommandLine(), unknown), args);
      }
      if (ex instanceof CommandLine.UnmatchedArgumentException && unknown.isEmpty() && !unmatched.isEmpty()) {
        return extraArgumentsLine(ex.getCommandLine().getCommandSpec(), unmatched);
      }
    }
    String hint = ex instanceof CommandLine.UnmatchedArgumentException u
        && u.getCommandLine().getCommandSpec().userObject() instanceof UnknownOptionHint h
        ? h.hintFor(u.getUnmatched()) : null;
    // the command's own hint says more than that another command has the option
    String[] foreign = hint == null && ex instanceof CommandLine.UnmatchedArgumentException
        && ex.getCommandLine().getParent() != null ? otherCommandsOption(args, ex.getCommandLine().getCommandSpec()) : null;
    if (foreign != null) {
      return command + ": Unknown option: '" + foreign[0] + "' (" + foreign[1] + "); see '" + command + " --help'";
    }
    if (ex instanceof CommandLine.UnmatchedArgumentException u && ex.getCommandLine().getParent() == null) {
      String line = unknownGlobalOptionLine(u);
      if (line != null) {
        return line;
      }
    }
    String problem = String.valueOf(ex.getMessage()).strip().replaceAll("\\s*\\R\\s*", " ");
    if (ex instanceof CommandLine.UnmatchedArgumentException u && ex.getCommandLine().getParent() == null
        && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
      // picocli says "Unmatched argument at index 0: 'lmm'" for a mistyped command
      problem = "Unknown command: '" + u.getUnmatched().get(0) + "'";
    }
    // picocli's help command says "Unknown subcommand 'nope'." for "calculon help nope"
    java.util.regex.Matcher sub = java.util.regex.Pattern.compile("Unknown subcommand '(.*)'\\.").matcher(problem);
    if (sub.matches()) {
      problem = "Unknown command: '" + sub.group(1) + "'";
    }
    problem = problem.replaceAll("\\.$", "");
    StringBuilder line = new StringBuilder(command).append(": ").append(problem);
    if (hint != null) {
      line.append(" (").append(hint).append(")");
    } else if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
      line.append(" (did you mean ").append(String.join(" or ", u.getSuggestions())).append("?)");
    }
    return line.append("; see '").append(command).append(" --help'").toString();
  }

  /**
   * An unknown option before the command ({@code calculon -l f.txt version}), named alone, not with
   * the words picocli set aside after it ("Unknown options: '-l', 'f.txt'"): {@code calculon:
   * Unknown option: '-l' (not a global option; did you mean --log? -l is --layers of llm, ..., given
   * after the command); see 'calculon --help'}. The commands that have it are named (their long
   * name for it), and picocli's suggestions kept ({@code calculon: Unknown option: '--bogus'; see 'calculon --help'} when
   * there is neither); null when no word looks like an option.
   */
  static String unknownGlobalOptionLine(CommandLine.UnmatchedArgumentException u) {
    String word = u.getUnmatched().stream().filter(Main::looksLikeOption).findFirst().orElse(null);
    if (word == null) {
      return null;
    }
    String option = word.contains("=") ? word.substring(0, word.indexOf('=')) : word;
    StringBuilder hint = new StringBuilder("not a global option");
    if (!u.getSuggestions().isEmpty()) {
      hint.append("; did you mean ").append(String.join(" or ", u.getSuggestions())).append("?");
    }
    // which commands have it, under which long name: "--layers of llm, loe and lae"
    java.util.Map<String, List<String>> byName = new java.util.LinkedHashMap<>();
    for (CommandLine c : commandLine(new Main()).getSubcommands().values()) {
      CommandLine.Model.OptionSpec o = c.getCommandSpec().optionsMap().get(option);
      if (o != null && !o.inherited()) {
        List<String> commands = byName.computeIfAbsent(o.longestName(), k -> new java.util.ArrayList<>());
        if (!commands.contains(c.getCommandSpec().name())) {
          commands.add(c.getCommandSpec().name());
        }
      }
    }
    if (!byName.isEmpty()) {
      List<String> parts = new java.util.ArrayList<>();
      byName.forEach((name, commands) -> parts.add((name.equals(option) ? "" : name + " ") + "of " + joinAnd(commands)));
      hint.append(u.getSuggestions().isEmpty() ? "; " : " ").append(option).append(" is ").append(option.startsWith("--") ? "an option " : "")
          .append(String.join(", ", parts)).append(", given after the command");
    }
    if (byName.isEmpty() && u.getSuggestions().isEmpty()) {
      return "calculon: Unknown option: '" + option + "'; see 'calculon --help'";
    }
    return "calculon: Unknown option: '" + option + "' (" + hint + "); see 'calculon --help'";
  }

  /** {@code a}, {@code a and b}, {@code a, b and c}. */
  static String joinAnd(List<String> words) {
    return words.size() == 1 ? words.get(0)
        : String.join(", ", words.subList(0, words.size() - 1)) + " and " + words.get(words.size() - 1);
  }

  /** Whether a word the command did not match is an option (picocli's reading: a leading dash, not "-" alone). */
  private static boolean looksLikeOption(String word) {
    return word.length() > 1 && word.startsWith("-");
  }

  /**
   * The line for words after all of a command's arguments ({@code calculon llm a b c d e}): {@code
   * calculon llm: extra argument 'e' (usage: calculon llm [OPTIONS] MODEL EXECUTION SYSTEM
   * OUTPUT); see 'calculon llm --help'}, where picocli said "Unmatched argument at index 5: 'e'"
   * (an index counted from the command's name, not the user's words). A command with its own hint
   * for such words ({@link UnknownOptionHint}: report's) gives it in place of the usage.
   */
  static String extraArgumentsLine(CommandSpec spec, List<String> extra) {
    String command = spec.qualifiedName();
    String words = "'" + String.join("', '", extra) + "'";
    String hint = spec.userObject() instanceof UnknownOptionHint h ? h.hintFor(extra) : null;
    return command + ": extra argument" + (extra.size() == 1 ? " " : "s ") + words + " ("
        + (hint != null ? hint : "usage: " + usage(spec)) + "); see '" + command + " --help'";
  }

  /**
   * A command's usage in one line, its arguments by their labels: {@code calculon llm [OPTIONS]
   * MODEL EXECUTION SYSTEM OUTPUT}; an optional argument in brackets, a repeatable one with "...".
   */
  static String usage(CommandSpec spec) {
    StringBuilder b = new StringBuilder(spec.qualifiedName()).append(" [OPTIONS]");
    for (CommandLine.Model.PositionalParamSpec p : spec.positionalParameters()) {
      if (p.hidden()) {
        continue;
      }
      String label = p.paramLabel() + (p.arity().isVariable() || p.arity().max() > 1 ? "..." : "");
      b.append(' ').append(p.arity().min() == 0 ? "[" + label + "]" : label);
    }
    return b.toString();
  }

  /**
   * An option of other commands that {@code command} does not have, among the words after the
   * command in {@code args} (the first, as given without an {@code =value}): {option, which commands
   * have it}, e.g. {"-moe", "-moe is an option of llm-optimal-execution-moe,
   * llm-optimal-execution-moe-flexible and llm-all-executions, not of this command"}; null when
   * there is none. picocli reads such a word by its own rules and names something else: {@code
   * -moe} on llm-optimal-execution, whose {@code -m} takes no value, became "Unknown options: '-oe'
   * (while processing option: '-moe')". Builds the other commands' models, on this error path only.
   */
  static String[] otherCommandsOption(String[] args, CommandSpec command) {
    int at = commandIndex(args);
    if (at < 0) {
      return null;
    }
    CommandLine all = null;
    for (int i = at + 1; i < args.length && !args[i].equals("--"); i++) {
      String a = args[i];
      String option = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      if (!option.startsWith("-") || option.equals("-") || command.optionsMap().containsKey(option)) {
        continue;
      }
      if (all == null) {
        all = commandLine(new Main());
      }
      List<String> having = new java.util.ArrayList<>();
      for (CommandLine c : all.getSubcommands().values()) {
        CommandSpec other = c.getCommandSpec();
        if (!other.name().equals(command.name()) && !having.contains(other.name())
            && other.optionsMap().containsKey(option)) {
          having.add(other.name());
        }
      }
      if (!having.isEmpty()) {
        String names = having.size() == 1 ? having.get(0)
            : String.join(", ", having.subList(0, having.size() - 1)) + " and " + having.get(having.size() - 1);
        return new String[] {option, option + " is an option of " + names + ", not of this command"};
      }
    }
    return null;
  }

  /**
   * A global option ({@code --log FILE}, {@code -v LEVEL}, {@code --verbosity LEVEL}, their
   * {@code =} and attached forms) among the words after the command {@code name} in {@code args}:
   * {option as given without its value, where it goes}, e.g. {"--log", "--log is an option of
   * calculon itself, before the command: calculon --log FILE llm ..."}; null when there is none.
   * No command has options of these names, so such a word is always this mistake.
   */
  static String[] misplacedGlobalOption(String[] args, String name) {
    int at = commandIndex(args);
    if (at < 0) {
      return null;
    }
    for (int i = at + 1; i < args.length && !args[i].equals("--"); i++) {
      String a = args[i];
      String option = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      if (option.equals("--log")) {
        return new String[] {"--log", "--log is an option of calculon itself, before the command: calculon --log FILE "
            + name + " ..."};
      }
      if (option.equals("-v") || option.equals("--verbosity") || (a.startsWith("-v") && isLevel(a.substring(2)))) {
        String given = option.equals("--verbosity") ? "--verbosity" : "-v";
        return new String[] {given, given + " is an option of calculon itself, before the command: calculon " + given
            + " LEVEL " + name + " ..."};
      }
    }
    return null;
  }

  private static boolean isLevel(String s) {
    try {
      Log.parseLevel(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** What {@code -V} / {@code --version} prints, on every command. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {VersionCommand.text()};
    }
  }

  /** Reads a logging level name for {@code -v}. */
  static final class LevelConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Log.parseLevel(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
