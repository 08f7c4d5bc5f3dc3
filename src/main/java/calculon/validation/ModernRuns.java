package calculon.validation;

import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.ConfigReader;
import calculon.config.Execution;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The measured runs of llm-validation's "Modern runs" table, read from
 * {@code validation/modern/runs.json}: for each run the model file (with an optional sequence
 * length that replaces the model's), the system file, the execution file, what was measured (the
 * metric and its value), the source (paper or report and its table) and the mechanisms the run
 * uses that the model does not describe. docs/validation.md gives, per row, what the source states
 * and what was chosen a priori.
 */
public final class ModernRuns {
  /** Where the index lives, relative to the base folder. */
  public static final String INDEX = "validation/modern/runs.json";

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
    MODEL_TFLOPS_PER_GPU("model_tflops_per_gpu");

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
      };
    }
  }

  /**
   * One measured run.
   *
   * @param label the name printed in the table
   * @param model model file path relative to the base folder
   * @param seqSize the sequence length of the run when it differs from the model file's, else 0
   * @param system system file path relative to the base folder
   * @param execution execution file path relative to the base folder
   * @param metric what was measured
   * @param measured the published value, in the metric's unit
   * @param source the publication and its table
   * @param notModelled mechanisms the run uses that the model does not describe ("" if none)
   */
  public record Run(String label, String model, long seqSize, String system, String execution, Metric metric,
                    double measured, String source, String notModelled) {

    /** The model file, with the run's sequence length when it sets one. */
    public Application application(Path baseDir) throws ConfigError {
      Application a = ConfigReader.readApplication(baseDir.resolve(model));
      return seqSize == 0 ? a : new Application(a.name(), a.hidden(), a.feedforward(), seqSize, a.attnHeads(),
          a.attnSize(), a.numBlocks(), a.architecture());
    }
  }

  /**
   * Reads the index. Errors name the file, the run (by index) and the field: a missing or
   * mistyped field, an unknown metric, a non-positive measurement or sequence length.
   */
  public static List<Run> read(Path baseDir) throws ConfigError {
    Path file = baseDir.resolve(INDEX);
    String name = file.toString();
    JsonNode root = ConfigReader.readJson(file);
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
        throw new ConfigError(name, at + ".metric", "must be tokens_per_second_per_gpu or model_tflops_per_gpu, got '"
            + metricName + "'");
      }
      JsonNode measured = r.get("measured");
      if (measured == null || !measured.isNumber() || !(measured.doubleValue() > 0)) {
        throw new ConfigError(name, at + ".measured", "must be a positive number");
      }
      long seq = 0;
      JsonNode s = r.get("seq_size");
      if (s != null) {
        if (!s.isIntegralNumber() || !s.canConvertToLong() || s.longValue() <= 0) {
          throw new ConfigError(name, at + ".seq_size", "must be a positive integer");
        }
        seq = s.longValue();
      }
      JsonNode nm = r.get("not_modelled");
      if (nm != null && !nm.isTextual()) {
        throw new ConfigError(name, at + ".not_modelled", "must be a string");
      }
      out.add(new Run(text(r, name, at, "label"), text(r, name, at, "model"), seq, text(r, name, at, "system"),
          text(r, name, at, "execution"), metric, measured.doubleValue(), text(r, name, at, "source"),
          nm == null ? "" : nm.asText()));
    }
    return List.copyOf(out);
  }

  private static String text(JsonNode r, String file, String at, String key) throws ConfigError {
    JsonNode v = r.get(key);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new ConfigError(file, at + "." + key, "must be a non-empty string");
    }
    return v.asText();
  }
}
