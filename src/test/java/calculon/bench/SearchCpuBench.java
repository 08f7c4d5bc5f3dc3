package calculon.bench;

import calculon.config.Application;
import calculon.config.ConfigReader;
import calculon.config.Datatype;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.BlockCache;
import calculon.schedule.Evaluator;
import calculon.search.ExecutionEvaluator;
import calculon.search.Search;
import calculon.search.SearchKind;
import calculon.search.SearchOptions;
import calculon.search.SearchSpace;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Paths;

/**
 * The full megatron-1T {@code loe} on 4,096 A100s (no {@code -m}, top 10) on one thread, warm,
 * timed in CPU seconds of the searching thread: the steady figure on a shared machine, where
 * {@link SearchBench}'s wall time mostly measures the wait for a core. Prints, per repetition, the
 * CPU and wall seconds of the exhaustive search as it was (every tier-valid execution evaluated,
 * each block built per call) and of the default one, and the counts; the answers must agree.
 * Run: {@code bin/bench-cpu [repetitions]}.
 */
public final class SearchCpuBench {
  private SearchCpuBench() {}

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Application app = ConfigReader.readApplication(Paths.get("models/megatron-1T.json"));
    SystemSpec sys = ConfigReader.readSystem(Paths.get("systems/a100_80g.json"));
    Hardware hw = new Hardware(sys, Datatype.FLOAT16);
    ModelVersion v = ModelVersion.CORRECTED;
    SearchSpace space = new SearchSpace(app, sys,
        SearchOptions.defaults(SearchKind.DENSE, 4096, 2520, Datatype.FLOAT16, 1).withTopN(10));
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    BlockCache sweep = new BlockCache();
    for (int i = 0; i < reps; i++) {
      for (String mode : new String[] {"exhaustive", "default", "sweep-cache"}) {
        ExecutionEvaluator ev = switch (mode) {
          case "exhaustive" -> (exe, layers) -> Evaluator.evaluate(app, exe, hw, v, layers);
          case "sweep-cache" -> ExecutionEvaluator.model(app, hw, v, sweep);
          default -> ExecutionEvaluator.model(app, hw, v);
        };
        Search s = new Search(space, ev);
        if (mode.equals("exhaustive")) {
          s.pruneByBound(false);
        }
        long c0 = bean.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        Search.Outcome o = s.run(1, null, null);
        long c1 = bean.getCurrentThreadCpuTime();
        long t1 = System.nanoTime();
        System.out.printf("%-11s cpu %6.3f s  wall %6.3f s  model calls %,d  good %,d  best %s%n", mode,
            (c1 - c0) / 1e9, (t1 - t0) / 1e9, o.counts().evaluated, o.counts().good,
            o.best().get(0).sampleRate());
      }
    }
  }
}
