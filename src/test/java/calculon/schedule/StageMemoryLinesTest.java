package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When the pipeline stages differ (the logits on the last stage, uneven stages) the step is the
 * slowest stage's and the memory the largest stage's: the memory lines (weights, activations,
 * checkpoints, activation gradients, weight gradients, optimizer state) must be that same stage's,
 * so that without offload they add up to the tier-1 requirement reported beside them. They had
 * been the slowest stage's (Qwen3-235B on B200, TP4 PP8 EP8, stages 11/12.../11: "Act: 2.077 GiB"
 * beside a 34.692 GiB requirement whose stage holds 9.576 GiB of activations).
 */
class StageMemoryLinesTest {
  static Stats run(Consumer<ObjectNode> edit) throws Exception {
    return FaultCases.run("per-stage-inflight", "model-small-h-big-vocab.json", "exe-pp4_nm8.json",
        "system-ideal-net.json", ModelVersion.CORRECTED, edit);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1f1b", "uneven", "full"})
  // "uneven": stages of 13, 1, 1 and 1 blocks: the first is the slowest (13 blocks), the last,
  // with the 256k-vocabulary logits and their gradient, needs the most memory (12.161 GiB; the
  // first stage's lines added up to 11.8 GiB)
  void theMemoryLinesAddUpToTheRequirement(String variant) throws Exception {
    Stats s = run(n -> {
      if (variant.equals("uneven")) {
        n.put("blocks_in_first_stage", 13).put("blocks_in_last_stage", 1);
      } else if (variant.equals("full")) {
        n.put("activation_recompute", "full");
      }
    });
    double lines = s.get(StatField.WEIGHT_SPACE) + s.get(StatField.ACT_SPACE) + s.get(StatField.ACT_CHECKPOINT_SIZE)
        + s.get(StatField.ACT_GRAD_SPACE) + s.get(StatField.WEIGHT_GRAD_SPACE) + s.get(StatField.OPTIMIZER_SPACE);
    assertThat(lines).isCloseTo(s.get(StatField.PROC_MEM_TIER1_CAP_REQ), within(1e-6 * lines));
  }
}
