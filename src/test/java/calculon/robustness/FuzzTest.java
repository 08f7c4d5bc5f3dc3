package calculon.robustness;

import calculon.cli.CliRun;
import calculon.cli.CliRun.Run;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.Main;
import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of model, execution and system files, starting from the golden cases and the
 * shipped files ({@link Seeds}) and changing them with {@link Mutator}. Whatever the input, reading
 * it gives a valid configuration or a one-line {@link ConfigError}, and the model gives stats or
 * {@link Infeasible}: never another exception (assertions are on under surefire). The stats of
 * every feasible configuration pass {@link StatsChecks} under both model versions.
 *
 * <p>Reproduce a failure with the seed and case it prints:
 * {@code -Dcalculon.fuzz.seed=S -Dcalculon.fuzz.case=I}; {@code -Dcalculon.fuzz.configs=N} and
 * {@code -Dcalculon.fuzz.cli=N} change how many configurations each test tries.
 */
class FuzzTest {
  static final long SEED = Long.getLong("calculon.fuzz.seed", 0x5EED_CA1C_0001L);
  static final int CONFIGS = Integer.getInteger("calculon.fuzz.configs", 100_000);
  static final int CLI_CONFIGS = Integer.getInteger("calculon.fuzz.cli", 300);
  /** Run this case only (-1: all). */
  static final int ONLY_CASE = Integer.getInteger("calculon.fuzz.case", -1);
  /** Failures shown in full; more are counted. */
  static final int MAX_REPORTED = 8;

  /** Case {@code i} of a run draws from its own generator, so one case can be replayed alone. */
  static SplittableRandom caseRandom(long seed, int i) {
    return new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L));
  }

  /** The mutated inputs of one case and what was done to them. */
  record Case(int index, ObjectNode[] docs, boolean[] changed, List<String> mutations, SplittableRandom random) {
    static Case make(Seeds seeds, long seed, int i) {
      SplittableRandom r = caseRandom(seed, i);
      Seeds.Triple t = seeds.triples.get(r.nextInt(seeds.triples.size()));
      ObjectNode[] docs = {t.model(), t.execution(), t.system()};
      Mutator m = new Mutator(r, seeds);
      m.log.add("seed case " + t.id());
      m.mutate(docs);
      boolean[] changed = {m.changed(0), m.changed(1), m.changed(2)};
      return new Case(i, docs, changed, m.log, r);
    }

    String describe(long seed) {
      StringBuilder sb = new StringBuilder();
      sb.append("seed ").append(seed).append(", case ").append(index)
          .append(" (replay: -Dcalculon.fuzz.seed=").append(seed).append(" -Dcalculon.fuzz.case=").append(index)
          .append(")\n  mutations: ").append(String.join("; ", mutations)).append('\n');
      for (int d = 0; d < 3; d++) {
        sb.append("  ").append(Mutator.DOC_NAMES[d]).append(": ").append(docs[d]).append('\n');
      }
      return sb.toString();
    }
  }

  /** Failures grouped by kind (exception type and place, or broken rule), the first few in full. */
  static final class Failures {
    final Map<String, Integer> byKind = new LinkedHashMap<>();
    final List<String> reports = new ArrayList<>();

    void add(String kind, String detail, Case c, long seed) {
      int n = byKind.merge(kind, 1, Integer::sum);
      if (n == 1 && reports.size() < MAX_REPORTED) {
        reports.add(kind + "\n  " + detail.replace("\n", "\n  ") + "\n" + c.describe(seed));
      }
    }

    boolean isEmpty() { return byKind.isEmpty(); }

    @Override
    public String toString() {
      return byKind.size() + " kind(s) of failure " + byKind + "\n\n" + String.join("\n", reports);
    }
  }

  /** Where an unexpected throwable comes from: its type and its first frame in our code. */
  static String kindOf(Throwable e) {
    String where = "";
    for (StackTraceElement f : e.getStackTrace()) {
      if (f.getClassName().startsWith("calculon.")) {
        where = " at " + f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber();
        break;
      }
    }
    return e.getClass().getName() + where;
  }

  /** The throwable and its frames down to the first one of this test. */
  static String stackTrace(Throwable e) {
    StringBuilder sb = new StringBuilder(e.toString());
    for (StackTraceElement f : e.getStackTrace()) {
      sb.append("\n\tat ").append(f);
      if (f.getClassName().startsWith("calculon.robustness.")) {
        break;
      }
    }
    return sb.toString();
  }

  /** A document read by {@code reader}: the result, or the ConfigError, of unchanged seed documents is kept. */
  interface Reader<T> {
    T read(ObjectNode node, String name) throws ConfigError;
  }

  private final Map<ObjectNode, Object> seedReads = new IdentityHashMap<>();

  @SuppressWarnings("unchecked")
  <T> T read(Case c, int d, String name, Reader<T> reader) throws ConfigError {
    ObjectNode node = c.docs()[d];
    if (c.changed()[d]) {
      return reader.read(node, name);
    }
    Object known = seedReads.get(node);
    if (known == null) {
      try {
        known = reader.read(node, name);
      } catch (ConfigError e) {
        known = e;
      }
      seedReads.put(node, known);
    }
    if (known instanceof ConfigError e) {
      throw e;
    }
    return (T) known;
  }

  @Test
  void mutatedConfigsGiveConfigErrorInfeasibleOrPhysicalStats() {
    Seeds seeds = Seeds.get();
    long start = System.nanoTime();
    long startCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    Failures failures = new Failures();
    int rejected = 0, accepted = 0;
    int[] feasible = new int[ModelVersion.values().length];
    int[] infeasible = new int[ModelVersion.values().length];
    Map<String, Integer> rejectedBy = new LinkedHashMap<>();
    Map<String, Integer> exempted = new java.util.TreeMap<>();
    int from = ONLY_CASE >= 0 ? ONLY_CASE : 0;
    int to = ONLY_CASE >= 0 ? ONLY_CASE + 1 : CONFIGS;
    long mutateNanos = 0, readNanos = 0, modelNanos = 0;
    for (int i = from; i < to; i++) {
      long t0 = System.nanoTime();
      Case c = Case.make(seeds, SEED, i);
      boolean withLayers = c.random().nextInt(16) == 0;
      long t1 = System.nanoTime();
      mutateNanos += t1 - t0;
      Application app;
      Execution exe;
      SystemSpec sys;
      Hardware hw;
      try {
        // unchanged seed documents are read once (reading them again would test nothing new)
        app = read(c, Mutator.MODEL, "model.json", ApplicationReader::read);
        exe = read(c, Mutator.EXECUTION, "execution.json", ExecutionReader::read);
        sys = read(c, Mutator.SYSTEM, "system.json", SystemReader::read);
        RunChecks.check(app, exe, sys, "model.json", "execution.json", "system.json");
        hw = new Hardware(sys, exe.datatype());
      } catch (ConfigError e) {
        readNanos += System.nanoTime() - t1;
        rejected++;
        rejectedBy.merge(e.file(), 1, Integer::sum);
        String msg = e.getMessage();
        if (msg.contains("\n") || msg.contains("\r") || !msg.startsWith(e.file() + ": ")) {
          failures.add("ConfigError message not one line naming the file", msg, c, SEED);
        }
        continue;
      } catch (Throwable e) {
        failures.add("reading: " + kindOf(e), stackTrace(e), c, SEED);
        continue;
      }
      long t2 = System.nanoTime();
      readNanos += t2 - t1;
      accepted++;
      for (ModelVersion v : ModelVersion.values()) {
        try {
          Stats s = Evaluator.evaluate(app, exe, hw, v, withLayers);
          feasible[v.ordinal()]++;
          List<String> bad = StatsChecks.violations(s, v, exempted);
          if (!bad.isEmpty()) {
            failures.add(v.cliName + ": " + bad.get(0).replaceAll(":.*| is .*", ""), String.join("\n", bad), c, SEED);
          }
        } catch (Infeasible e) {
          infeasible[v.ordinal()]++;
        } catch (Throwable e) {
          failures.add(v.cliName + ": " + kindOf(e), stackTrace(e), c, SEED);
        }
      }
      modelNanos += System.nanoTime() - t2;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuSeconds = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - startCpu) / 1e9;
    System.out.printf("FuzzTest: seed %d, %d mutated configurations in %.1f s (%.1f s CPU): %d rejected by ConfigError %s, "
            + "%d accepted; calculon-moe %d feasible / %d infeasible; corrected %d feasible / %d infeasible; "
            + "%d failure kind(s); seconds mutating %.1f, reading %.1f, evaluating %.1f%n",
        SEED, to - from, seconds, cpuSeconds, rejected, rejectedBy, accepted,
        feasible[ModelVersion.CALCULON_MOE.ordinal()], infeasible[ModelVersion.CALCULON_MOE.ordinal()],
        feasible[ModelVersion.CORRECTED.ordinal()], infeasible[ModelVersion.CORRECTED.ordinal()],
        failures.byKind.size(), mutateNanos / 1e9, readNanos / 1e9, modelNanos / 1e9);
    System.out.println("FuzzTest: documented exceptions used (stats, both versions): " + exempted);
    assertThat(failures.isEmpty()).as("%s", failures).isTrue();
    if (ONLY_CASE < 0) {
      // the mutations must keep reaching the model, or the fuzzing tests only the reader
      assertThat(feasible[ModelVersion.CORRECTED.ordinal()]).as("feasible configurations").isGreaterThan(CONFIGS / 20);
    }
  }

  /**
   * A slice of the mutated configurations, some with their text broken too, through the command
   * line: exit 0 with a report, or exit 2 with exactly one line on stderr, or exit 255 with one
   * {@code ERROR:} line; never exit 1 (an internal error) and never a stack trace.
   */
  @Test
  void mutatedFilesOnTheCommandLinePrintOneLineAndNeverAStackTrace(@TempDir Path dir) throws Exception {
    Seeds seeds = Seeds.get();
    long seed = SEED + 1;
    long start = System.nanoTime();
    Failures failures = new Failures();
    Map<Integer, Integer> byStatus = new LinkedHashMap<>();
    for (int i = 0; i < CLI_CONFIGS; i++) {
      Case c = Case.make(seeds, seed, i);
      SplittableRandom r = c.random();
      String[] names = {"model.json", "execution.json", "system.json"};
      Path[] paths = new Path[3];
      for (int d = 0; d < 3; d++) {
        String text = Seeds.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c.docs()[d]);
        if (r.nextInt(12) == 0) {
          // broken text: cut short, or a stray character somewhere
          int at = r.nextInt(text.length());
          text = r.nextBoolean() ? text.substring(0, at)
              : text.substring(0, at) + "{}[],:\"x0-".charAt(r.nextInt(10)) + text.substring(at);
          c.mutations().add(names[d] + " text broken at " + at);
        }
        paths[d] = dir.resolve(names[d]);
        Files.writeString(paths[d], text);
      }
      String stats = r.nextBoolean() ? "-" : dir.resolve("stats.json").toString();
      // each run writes a fresh file: a replaced one would be kept as a backup, said on stderr
      Files.deleteIfExists(dir.resolve("stats.json"));
      String version = r.nextBoolean() ? "corrected" : "calculon-moe";
      Run run = CliRun.run("llm", "--model-version", version, paths[0].toString(), paths[1].toString(),
          paths[2].toString(), stats);
      byStatus.merge(run.status(), 1, Integer::sum);
      String all = run.out() + run.err();
      if (all.contains("\tat ") || all.contains("Exception") || all.contains("Error:") && !all.contains("ERROR:")
          && run.status() != Main.EXIT_CONFIG_ERROR) {
        failures.add("stack trace or exception name printed", all, c, seed);
      }
      switch (run.status()) {
        case 0 -> {
          // the notes a successful run may print: the calculon-moe run's ignored corrected-model
          // keys, a corrected run's experts taken from the execution (a model file without moe),
          // a corrected run's moe_a2a_overlap where Megatron-Core would not run it
          String err = run.err().replaceFirst("^calculon llm: note: --model-version calculon-moe ignores [^\n]*\n", "")
              .replaceFirst("^calculon llm: note: [^\n]* has no moe object; [^\n]*\n", "")
              .replaceFirst("^calculon llm: note: moe_a2a_overlap in [^\n]*\n", "");
          if (!err.isEmpty()) {
            failures.add("exit 0 with stderr", run.err(), c, seed);
          }
        }
        case Main.EXIT_CONFIG_ERROR -> {
          if (!run.out().isEmpty() || !run.err().endsWith("\n") || run.err().strip().contains("\n")) {
            failures.add("exit 2 without exactly one stderr line", "out: " + run.out() + "\nerr: " + run.err(), c, seed);
          }
        }
        case Main.EXIT_INFEASIBLE -> {
          if (!run.err().isEmpty() || !run.out().startsWith("ERROR: ") || run.out().strip().contains("\n")) {
            failures.add("exit 255 without exactly one ERROR line", "out: " + run.out() + "\nerr: " + run.err(), c, seed);
          }
        }
        default -> failures.add("exit " + run.status(), "out: " + run.out() + "\nerr: " + run.err(), c, seed);
      }
    }
    System.out.printf("FuzzTest (command line): seed %d, %d runs in %.1f s, by exit status %s%n",
        seed, CLI_CONFIGS, (System.nanoTime() - start) / 1e9, byStatus);
    assertThat(failures.isEmpty()).as("%s", failures).isTrue();
    assertThat(byStatus.keySet()).as("exit statuses seen").contains(0, Main.EXIT_CONFIG_ERROR, Main.EXIT_INFEASIBLE);
  }
}
