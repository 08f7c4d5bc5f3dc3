package calculon.bench;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.BlockCache;
import calculon.schedule.Evaluator;
import calculon.stats.Stats;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full evaluation (build the block's layers, block and batch statistics, memory checks) of
 * the seed README's two single runs, on one thread. Run with {@code bin/bench}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// The serial collector, as bin/calculon runs every command (-XX:+UseSerialGC). Under JMH's
// default collector (G1 on this 2-core machine) the forks of one run split between about 8 and
// 12-13 us per gpt-1.8T evaluation (6 and 9 us for megatron-1T), on this commit and on the
// session's start commit alike, which no pinned heap removed; under the serial collector 12 of 12
// forks gave 7.7-8.1 us and 4 of 4 megatron-1T forks 6.6-6.9 us (2026-12-06, docs/performance.md).
@Fork(value = 1, jvmArgsAppend = "-XX:+UseSerialGC")
@Threads(1)
@State(Scope.Thread)
public class EvaluationBench {
  @Param({"megatron-1T", "gpt-1.8T"})
  public String model;

  /** The model version (command-line name): the corrected default against the fork's. */
  @Param({"corrected", "calculon-moe"})
  public String version;

  private ModelVersion modelVersion;

  private Application app;
  private Execution exe;
  private Hardware hw;
  private BlockCache.Scope blocks;

  @Setup
  public void load() throws Exception {
    String[] files = model.equals("megatron-1T")
        ? new String[] {"models/megatron-1T.json", "examples/megatron_1T_training_4096_original.json", "systems/a100_80g.json"}
        : new String[] {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json"};
    app = ApplicationReader.read(Paths.get(files[0]));
    exe = ExecutionReader.read(Paths.get(files[1]));
    SystemSpec sys = SystemReader.read(Paths.get(files[2]));
    hw = new Hardware(sys, exe.datatype());
    modelVersion = ModelVersion.fromCli(version);
    blocks = new BlockCache().scope(app, hw, modelVersion);
  }

  @Benchmark
  public Stats evaluate() throws Exception {
    return Evaluator.evaluate(app, exe, hw, modelVersion, false);
  }

  /**
   * A search's headline figure ({@link Evaluator#sampleRate}): blocks from a warm cache, no stats
   * object; what a search calls once per execution.
   */
  @Benchmark
  public double headline() throws Exception {
    return Evaluator.sampleRate(app, exe, hw, modelVersion, blocks, true);
  }
}
