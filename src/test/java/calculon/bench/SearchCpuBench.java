package calculon.bench;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.BlockCache;
import calculon.schedule.Evaluator;
import calculon.search.ExecutionEvaluator;
import calculon.search.Search;
import calculon.search.SearchKind;
import calculon.search.SearchOptions;
import calculon.search.SearchResult;
import calculon.search.SearchSpace;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Search time once warm (issue 12 item 7): the full megatron-1T {@code loe} on 4,096 A100s (no
 * {@code -m}, top 10), run repeatedly in one JVM. Per run it prints the wall seconds and the
 * process CPU seconds of the default search ({@code threads} workers, as {@code -c}), then the
 * median over the measured runs (after {@code warmup} unmeasured ones), and the same for the
 * exhaustive search as it was (every tier-valid execution evaluated, each block built per call),
 * the baseline; the ratio of the medians is the speed-up. The top 10 of every run must equal the
 * exhaustive search's, execution for execution and rate for rate: the harness says so and exits 1
 * if not. {@code sweep-cache} keeps one block cache across runs, as a sweep does across its points.
 *
 * <p>Run: {@code bin/bench-cpu [runs] [threads] [exhaustive-runs] [warmup] [procs]} (defaults
 * 9, 2, 1, 3, 4096). Prints the load average before and after (the machine is shared).
 */
public final class SearchCpuBench {
  private SearchCpuBench() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int exhaustiveRuns = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    int procs = args.length > 4 ? Integer.parseInt(args[4]) : 4096;
    Application app = ApplicationReader.read(Paths.get("models/megatron-1T.json"));
    SystemSpec sys = SystemReader.read(Paths.get("systems/a100_80g.json"));
    Hardware hw = new Hardware(sys, Datatype.FLOAT16);
    ModelVersion v = ModelVersion.CORRECTED;
    SearchSpace space = new SearchSpace(app, sys,
        SearchOptions.defaults(SearchKind.DENSE, procs, 2520, Datatype.FLOAT16, 1).withTopN(10));
    System.out.println("load average before: " + loadAverage());
    System.out.printf(Locale.ROOT, "megatron-1T loe, %d procs, batch 2520, top 10, %d threads%n", procs, threads);

    ExecutionEvaluator exhaustive = (exe, layers) -> Evaluator.evaluate(app, exe, hw, v, layers);
    List<SearchResult> reference = null;
    double[] exWall = new double[exhaustiveRuns];
    double[] exCpu = new double[exhaustiveRuns];
    for (int i = 0; i < exhaustiveRuns; i++) {
      Timed t = time(new Search(space, exhaustive).pruneByBound(false), threads);
      exWall[i] = t.wall;
      exCpu[i] = t.cpu;
      reference = t.outcome.best();
      print("exhaustive", i, t);
    }

    BlockCache sweep = new BlockCache();
    boolean same = true;
    for (String mode : new String[] {"default", "sweep-cache"}) {
      List<Double> wall = new ArrayList<>();
      List<Double> cpu = new ArrayList<>();
      for (int i = 0; i < warmup + runs; i++) {
        ExecutionEvaluator ev = mode.equals("default")
            ? ExecutionEvaluator.model(app, hw, v) : ExecutionEvaluator.model(app, hw, v, sweep);
        Timed t = time(new Search(space, ev), threads);
        if (reference != null && !sameTop(reference, t.outcome.best())) {
          System.out.println(mode + " run " + i + ": top 10 differs from the exhaustive search's");
          same = false;
        }
        if (i >= warmup) {
          wall.add(t.wall);
          cpu.add(t.cpu);
          print(mode, i - warmup, t);
        }
      }
      System.out.printf(Locale.ROOT, "%-11s median wall %.3f s, median CPU %.3f s over %d warm runs%n",
          mode, median(wall), median(cpu), runs);
      if (exhaustiveRuns > 0) {
        System.out.printf(Locale.ROOT, "%-11s exhaustive / %s: wall %.1fx, CPU %.1fx%n", "", mode,
            median(exWall) / median(wall), median(exCpu) / median(cpu));
      }
    }
    if (reference != null) {
      System.out.println("top 10 identical to the exhaustive search in every run: " + (same ? "yes" : "NO"));
    }
    System.out.println("load average after: " + loadAverage());
    if (!same) {
      System.exit(1);
    }
  }

  private record Timed(double wall, double cpu, Search.Outcome outcome) {}

  private static Timed time(Search s, int threads) throws Exception {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long c0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    Search.Outcome o = s.run(threads, null, null);
    long t1 = System.nanoTime();
    long c1 = os.getProcessCpuTime();
    return new Timed((t1 - t0) / 1e9, (c1 - c0) / 1e9, o);
  }

  private static void print(String mode, int i, Timed t) {
    System.out.printf(Locale.ROOT, "%-11s run %2d: wall %6.3f s  CPU %6.3f s  model calls %,d  good %,d  best %s%n",
        mode, i, t.wall, t.cpu, t.outcome.counts().evaluated, t.outcome.counts().good,
        t.outcome.best().get(0).sampleRate());
  }

  /** Same executions with the same sample rates, in the same order. */
  private static boolean sameTop(List<SearchResult> a, List<SearchResult> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).execution().equals(b.get(i).execution())
          || Double.compare(a.get(i).sampleRate(), b.get(i).sampleRate()) != 0) {
        return false;
      }
    }
    return true;
  }

  private static double median(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  private static double median(double[] xs) {
    return median(Arrays.stream(xs).boxed().toList());
  }

  private static String loadAverage() {
    try {
      return Files.readString(Paths.get("/proc/loadavg")).trim();
    } catch (Exception e) {
      return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }
}
