package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.ConfigError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index of measured modern runs (validation/modern/runs.json): complete, sourced, and read strictly. */
class ModernRunsTest {
  static final Path BASE = Paths.get(".");

  /** Every run cites its publication and table, and its files exist. */
  @Test
  void everyRunCitesItsTableAndItsFilesExist() throws Exception {
    List<ModernRuns.Run> runs = ModernRuns.read(BASE);
    for (ModernRuns.Run r : runs) {
      assertThat(r.source()).as(r.label()).containsIgnoringCase("table");
      assertThat(BASE.resolve(r.model())).as(r.label()).isRegularFile();
      assertThat(BASE.resolve(r.system())).as(r.label()).isRegularFile();
      assertThat(BASE.resolve(r.execution())).as(r.label()).isRegularFile();
    }
    Set<String> labels = runs.stream().map(ModernRuns.Run::label).collect(Collectors.toSet());
    assertThat(labels).as("labels are unique").hasSize(runs.size());
  }

  @Test
  void aBadFieldIsOneLineNamingTheFileTheRunAndTheField(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("validation/modern"));
    Files.writeString(dir.resolve(ModernRuns.INDEX), "{\"runs\": [{\"label\": \"x\", \"model\": \"m.json\", "
        + "\"system\": \"s.json\", \"execution\": \"e.json\", \"metric\": \"mfu\", \"measured\": 1, \"source\": \"T 1\"}]}");
    assertThatThrownBy(() -> ModernRuns.read(dir)).isInstanceOf(ConfigError.class)
        .hasMessageContaining("runs.json: runs[0].metric: must be one of tokens_per_second_per_gpu, model_tflops_per_gpu, "
            + "step_seconds, megatron_tflops_per_gpu, megatron_tflops_per_gpu_2024, got 'mfu'")
        .hasMessageNotContaining("\n");
    Files.writeString(dir.resolve(ModernRuns.INDEX), "{\"runs\": [{\"label\": \"x\", \"model\": \"m.json\", "
        + "\"system\": \"s.json\", \"execution\": \"e.json\", \"metric\": \"tokens_per_second_per_gpu\", \"measured\": -3, "
        + "\"source\": \"T 1\"}]}");
    assertThatThrownBy(() -> ModernRuns.read(dir)).hasMessageContaining("runs[0].measured: must be a positive number");
    Files.writeString(dir.resolve(ModernRuns.INDEX), "{\"runs\": [{\"label\": \"x\", \"model\": \"m.json\", "
        + "\"system\": \"s.json\", \"execution\": \"e.json\", \"metric\": \"tokens_per_second_per_gpu\", \"measured\": 3, "
        + "\"measured_peak_reserved_gib\": \"80\", \"source\": \"T 1\"}]}");
    assertThatThrownBy(() -> ModernRuns.read(dir)).hasMessageEndingWith(
        "runs.json: runs[0].measured_peak_reserved_gib: must be a positive number (GiB)").hasMessageNotContaining("\n");
    Files.writeString(dir.resolve(ModernRuns.INDEX), "{\"runs\": [{\"label\": \"x\", \"model\": \"m.json\", "
        + "\"system\": \"s.json\", \"execution\": \"e.json\", \"metric\": \"tokens_per_second_per_gpu\", \"measured\": 3, "
        + "\"framework\": 7, \"source\": \"T 1\"}]}");
    assertThatThrownBy(() -> ModernRuns.read(dir)).hasMessageEndingWith("runs.json: runs[0].framework: must be a string")
        .hasMessageNotContaining("\n");
    Files.writeString(dir.resolve(ModernRuns.INDEX), "{\"runs\": [{\"model\": \"m.json\"}]}");
    assertThatThrownBy(() -> ModernRuns.read(dir)).hasMessageContaining("runs[0].");
  }

  /** A run's seq_size replaces the model file's sequence length and nothing else. */
  @Test
  void seqSizeReplacesOnlyTheModelsSequenceLength() throws Exception {
    ModernRuns.Run r = new ModernRuns.Run("x", "models/llama3-8B.json", 262144, 0, "s.json", "e.json",
        ModernRuns.Metric.TOKENS_PER_SECOND_PER_GPU, 1, "T 1", "", 0, "");
    var base = calculon.config.ApplicationReader.read(BASE.resolve(r.model()));
    var app = r.application(BASE);
    assertThat(base.seqSize()).isEqualTo(8192);
    assertThat(app).isEqualTo(new calculon.config.Application(base.name(), base.hidden(), base.feedforward(), 262144,
        base.attnHeads(), base.attnSize(), base.numBlocks(), base.architecture()));
  }
}
