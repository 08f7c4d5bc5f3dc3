package calculon.validation;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Architecture;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.JsonFiles;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The measured runs of llm-validation's "Modern runs" table, read from
 * {@code validation/modern/runs.json}, and of its "MoE runs" table, read from
 * {@code validation/moe/runs.json} (same format): for each run the model file (with an optional
 * sequence length and vocabulary size that replace the model's), the system file, the execution
 * file, what was measured (the metric and its value), the source (paper or report and its table)
 * and the mechanisms the run uses that the model does not describe. docs/validation.md gives, per
 * row, what the source states and what was chosen a priori.
 */
public final class ModernRuns {
  /** Where the index lives, relative to the base folder. */
  public static final String INDEX = "validation/modern/runs.json";

  /** Where the index of measured MoE runs lives, relative to the base folder. */
  public static final String MOE_INDEX = "validation/moe/runs.json";

  /** 1 TFLOP/s in flop/s. */
  static final double FLOPS_PER_TFLOPS = 1e12;

  private ModernRuns() {}

  /** What a source measured. */
  public enum Metric {
    /**
     * Global tokens per second divided by the number of GPUs: batch_size x seq_size / step seconds
     * / num_procs (TorchTitan's TPS/GPU, NeMo's tokens/s/GPU).
     */
    TOKENS_PER_SECOND_PER_GPU("tokens_per_second_per_gpu"),
    /**
     * Model flops per GPU per second, in TFLOP/s: the useful (non-recomputed) flops of the slowest
     * pipeline stage's blocks for all its microbatches, over the step time (Dubey et al. 2024,
     * Table 4's "TFLOPs/GPU").
     */
    MODEL_TFLOPS_PER_GPU("model_tflops_per_gpu"),
    /** The measured step (iteration) time in seconds. */
    STEP_SECONDS("step_seconds"),
    /**
     * Megatron-LM's reported TFLOP/s per GPU: its own flops count of the step
     * ({@link MegatronFlops}, the March 2025 formula) over the step time and the GPUs; the model's
     * value is the same count over the model's step time, so the error is the step time's.
     */
    MEGATRON_TFLOPS_PER_GPU("megatron_tflops_per_gpu"),
    /** As {@link #MEGATRON_TFLOPS_PER_GPU} with Megatron-LM's 2024 formula (full attention matrix). */
    MEGATRON_TFLOPS_PER_GPU_2024("megatron_tflops_per_gpu_2024");

    public final String jsonName;

    Metric(String jsonName) { this.jsonName = jsonName; }

    static Metric fromJson(String name) {
      for (Metric m : values()) {
        if (m.jsonName.equals(name)) {
          return m;
        }
      }
      return null;
    }

    /**
     * The metric computed from one evaluation.
     *
     * @param exe the run's execution (batch size, microbatches, number of GPUs)
     * @param app the run's model (sequence length)
     * @param s the model's statistics for the run (step seconds, useful flops per block)
     * @return tokens/s per GPU or TFLOP/s per GPU
     */
    public double of(Execution exe, Application app, Stats s) {
      double step = s.get(StatField.TOTAL_TIME);
      return switch (this) {
        case TOKENS_PER_SECOND_PER_GPU -> (double) exe.batchSize() * app.seqSize() / step / exe.numProcs();
        case MODEL_TFLOPS_PER_GPU -> s.get(StatField.USEFUL_FLOPS) * s.blocksPerProc() * exe.numMicrobatches()
            / step / FLOPS_PER_TFLOPS;
        case STEP_SECONDS -> step;
        case MEGATRON_TFLOPS_PER_GPU -> MegatronFlops.perStep(app, exe.batchSize(), MegatronFlops.Version.CAUSAL_2025)
            / step / exe.numProcs() / FLOPS_PER_TFLOPS;
        case MEGATRON_TFLOPS_PER_GPU_2024 -> MegatronFlops.perStep(app, exe.batchSize(), MegatronFlops.Version.FULL_2024)
            / step / exe.numProcs() / FLOPS_PER_TFLOPS;
      };
    }
  }

  /**
   * One measured run.
   *
   * @param label the name printed in the table
   * @param model model file path relative to the base folder
   * @param seqSize the sequence length of the run when it differs from the model file's, else 0
   * @param vocabSize the (padded) vocabulary of the run when it differs from the model file's, else 0
   * @param system system file path relative to the base folder
   * @param execution execution file path relative to the base folder
   * @param metric what was measured
   * @param measured the published value, in the metric's unit
   * @param source the publication and its table
   * @param notModelled mechanisms the run uses that the model does not describe ("" if none)
   * @param peakReservedGib the published peak memory per GPU in GiB as PyTorch's caching allocator
   *                  reserved it ({@code torch.cuda.memory_stats()["reserved_bytes.all.peak"]}, the
   *                  "memory" torchtitan's train.py logs), the largest over the GPUs; 0 when the
   *                  source gives none
   * @param framework the training framework that ran it ({@code "Megatron-Core"}, {@code "TorchTitan"},
   *                  ...), by which the table's error is also summarised; "" when the index does not say
   */
  public record Run(String label, String model, long seqSize, long vocabSize, String system, String execution,
                    Metric metric, double measured, String source, String notModelled, double peakReservedGib,
                    String framework) {

    /** The model file, with the run's sequence length and vocabulary when it sets them. */
    public Application application(Path baseDir) throws ConfigError {
      Application a = ApplicationReader.read(baseDir.resolve(model));
      Architecture r = a.architecture();
      Architecture arch = vocabSize == 0 ? r : new Architecture(r.numKvHeads(), r.mlp(), vocabSize,
          r.tiedEmbeddings(), r.learnedPositions(), r.linearBiases(), r.norm(), r.mla(), r.moe(), r.dropout(),
          r.slidingWindow(), r.mtpLayers());
      return new Application(a.name(), a.hidden(), a.feedforward(), seqSize == 0 ? a.seqSize() : seqSize,
          a.attnHeads(), a.attnSize(), a.numBlocks(), arch);
    }
  }

  /** Reads the modern runs' index ({@link #INDEX}); see {@link #read(Path, String)}. */
  public static List<Run> read(Path baseDir) throws ConfigError {
    return read(baseDir, INDEX);
  }

  /**
   * Reads an index of measured runs. Errors name the file, the run (by index) and the field: a
   * missing or mistyped field, an unknown metric, a non-positive measurement, sequence length or
   * vocabulary size, or a non-positive peak memory.
   *
   * @param index the index file, relative to {@code baseDir}
   */
  public static List<Run> read(Path baseDir, String index) throws ConfigError {
    Path file = baseDir.resolve(index);
    String name = file.toString();
    JsonNode root = JsonFiles.read(file);
    JsonNode runs = root.get("runs");
    if (runs == null || !runs.isArray()) {
      throw new ConfigError(name, "runs", "must be a list of measured runs");
    }
    List<Run> out = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      JsonNode r = runs.get(i);
      String at = "runs[" + i + "]";
      if (!r.isObject()) {
        throw new ConfigError(name, at, "must be an object");
      }
      String metricName = text(r, name, at, "metric");
      Metric metric = Metric.fromJson(metricName);
      if (metric == null) {
        throw new ConfigError(name, at + ".metric", "must be one of " + METRIC_NAMES + ", got '" + metricName + "'");
      }
      JsonNode measured = r.get("measured");
      if (measured == null || !measured.isNumber() || !(measured.doubleValue() > 0)) {
        throw new ConfigError(name, at + ".measured", "must be a positive number");
      }
      JsonNode memory = r.get(PEAK_RESERVED_KEY);
      if (memory != null && (!memory.isNumber() || !(memory.doubleValue() > 0))) {
        throw new ConfigError(name, at + "." + PEAK_RESERVED_KEY, "must be a positive number (GiB)");
      }
      long seq = positiveLong(r, name, at, "seq_size");
      long vocab = positiveLong(r, name, at, "vocab_size");
      String notModelled = optionalText(r, name, at, "not_modelled");
      String framework = optionalText(r, name, at, FRAMEWORK_KEY);
      out.add(new Run(text(r, name, at, "label"), text(r, name, at, "model"), seq, vocab, text(r, name, at, "system"),
          text(r, name, at, "execution"), metric, measured.doubleValue(), text(r, name, at, "source"),
          notModelled, memory == null ? 0 : memory.doubleValue(), framework));
    }
    return List.copyOf(out);
  }

  /** The optional field naming the framework that ran a run ({@link Run#framework}). */
  static final String FRAMEWORK_KEY = "framework";

  /** An optional string field; "" when absent. */
  private static String optionalText(JsonNode r, String file, String at, String key) throws ConfigError {
    JsonNode v = r.get(key);
    if (v == null) {
      return "";
    }
    if (!v.isTextual()) {
      throw new ConfigError(file, at + "." + key, "must be a string");
    }
    return v.asText();
  }

  /** The optional field of a run's published peak reserved memory per GPU, in GiB. */
  static final String PEAK_RESERVED_KEY = "measured_peak_reserved_gib";

  /** The metrics' names, for the reader's message. */
  static final String METRIC_NAMES = String.join(", ",
      java.util.Arrays.stream(Metric.values()).map(m -> m.jsonName).toList());

  /** An optional positive integer field; 0 when absent. */
  private static long positiveLong(JsonNode r, String file, String at, String key) throws ConfigError {
    JsonNode s = r.get(key);
    if (s == null) {
      return 0;
    }
    if (!s.isIntegralNumber() || !s.canConvertToLong() || s.longValue() <= 0) {
      throw new ConfigError(file, at + "." + key, "must be a positive integer");
    }
    return s.longValue();
  }

  private static String text(JsonNode r, String file, String at, String key) throws ConfigError {
    JsonNode v = r.get(key);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new ConfigError(file, at + "." + key, "must be a non-empty string");
    }
    return v.asText();
  }
}
