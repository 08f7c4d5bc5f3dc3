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
import calculon.search.SearchSpace;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full search, warm (issue 12 item 7): the megatron-1T {@code loe} on 4,096 A100s without
 * {@code -m} (6.1 M distinct executions), top 10. {@code mode}: {@code exhaustive} is the search as
 * it was (every tier-valid execution evaluated, each block built per call, the model repeating the
 * tier check), {@code fast} the default (block cache, bound pruning, no repeated tier check);
 * {@code sweep} keeps one block cache across iterations, as a sweep does across its points. Run
 * with {@code bin/bench SearchBench}; the ratio of the two scores is the speed-up.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgs = {"-XX:+UseParallelGC", "-Xmx4g"})
@State(Scope.Benchmark)
public class SearchBench {
  @Param({"fast", "exhaustive", "sweep"})
  public String mode;

  @Param({"4096"})
  public int procs;

  @Param({"2"})
  public int threads;

  @Param({"corrected"})
  public String version;

  private SearchSpace space;
  private Application app;
  private Hardware hw;
  private ModelVersion modelVersion;
  private BlockCache sweepCache;

  @Setup(Level.Trial)
  public void load() throws Exception {
    app = ApplicationReader.read(Paths.get("models/megatron-1T.json"));
    SystemSpec sys = SystemReader.read(Paths.get("systems/a100_80g.json"));
    hw = new Hardware(sys, Datatype.FLOAT16);
    modelVersion = ModelVersion.fromCli(version);
    space = new SearchSpace(app, sys,
        SearchOptions.defaults(SearchKind.DENSE, procs, 2520, Datatype.FLOAT16, 1).withTopN(10));
    sweepCache = new BlockCache();
  }

  @Benchmark
  public Search.Outcome search() throws Exception {
    switch (mode) {
      case "exhaustive": {
        ExecutionEvaluator old = (exe, layers) -> Evaluator.evaluate(app, exe, hw, modelVersion, layers);
        return new Search(space, old).pruneByBound(false).run(threads, null, null);
      }
      case "sweep":
        return new Search(space, ExecutionEvaluator.model(app, hw, modelVersion, sweepCache)).run(threads, null, null);
      default:
        return new Search(space, ExecutionEvaluator.model(app, hw, modelVersion)).run(threads, null, null);
    }
  }
}
