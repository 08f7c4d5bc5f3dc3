package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Megatron-Core's partial full recompute ({@code recompute_method}, {@code recompute_num_layers};
 * {@code checkpointed_forward} in megatron/core/recompute.py) by hand: 16 equal dense blocks
 * without vocabulary layers on PP 4, 4 blocks per stage (one chunk), 8 microbatches under 1F1B,
 * so stage 0 holds 4 microbatches in flight and needs the most memory. With the per-block figures
 * of the same run without recompute (working space W, stored activations s) and with full
 * recompute (checkpoint c, recompute seconds r per block and microbatch), a stage of b blocks
 * holding m microbatches keeps W + s (b m - 1) without recompute and W plus b m checkpoints with it.
 */
class PartialRecomputeTest {
  static final String KIND = "per-stage-inflight", MODEL = "model-small-h-no-vocab.json",
      EXE = "exe-pp4_nm8.json", SYSTEM = "system-ideal-net.json";
  static final int IN_FLIGHT_STAGE0 = 4, BLOCKS_PER_STAGE = 4, MICROBATCHES = 8;

  static Stats run(Consumer<ObjectNode> exe) throws Exception {
    return FaultCases.run(KIND, MODEL, m -> { }, EXE, SYSTEM, ModelVersion.CORRECTED, exe);
  }

  static Consumer<ObjectNode> recompute(String kind) {
    return e -> e.put("activation_recompute", kind);
  }

  static Consumer<ObjectNode> full(String method, int n) {
    return recompute("full").andThen(e -> e.put("recompute_method", method).put("recompute_num_layers", n));
  }

  @Test
  void uniformWithOneLayerIsFullRecomputeExactly() throws Exception {
    Stats full = run(recompute("full"));
    Stats uniform1 = run(full("uniform", 1));
    for (StatField f : StatField.values()) {
      assertThat(uniform1.isNull(f)).as(f.name()).isEqualTo(full.isNull(f));
      assertThat(uniform1.get(f)).as(f.name()).isEqualTo(full.get(f));
    }
  }

  @Test
  void blockTwoOfFourMixesTheNoneAndFullBlocks() throws Exception {
    Stats none = run(recompute("none"));
    Stats full = run(recompute("full"));
    Stats block2 = run(full("block", 2));
    double w = none.get(StatField.BLOCK_ACT_WORKING_SPACE), s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    // the per-block figures the mix is made of; the stage's working block is the larger, the unrecomputed one's
    assertThat(full.get(StatField.BLOCK_ACT_WORKING_SPACE)).isLessThanOrEqualTo(w);
    assertThat(none.get(StatField.ACT_SPACE)).isCloseTo(w + s * (BLOCKS_PER_STAGE * IN_FLIGHT_STAGE0 - 1),
        within(1e-9 * s));
    assertThat(full.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * BLOCKS_PER_STAGE * IN_FLIGHT_STAGE0,
        within(1e-9 * c));
    // block 2: 2 blocks store s for each of the 4 microbatches (less the working block's own),
    // 2 blocks keep a checkpoint for each
    assertThat(block2.get(StatField.ACT_SPACE)).isCloseTo(w + s * (2 * IN_FLIGHT_STAGE0 - 1), within(1e-9 * s));
    assertThat(block2.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * 2 * IN_FLIGHT_STAGE0, within(1e-9 * c));
    assertThat(block2.get(StatField.PROC_MEM_TIER1_CAP_REQ) - none.get(StatField.PROC_MEM_TIER1_CAP_REQ))
        .isCloseTo(-s * 2 * IN_FLIGHT_STAGE0 + c * 2 * IN_FLIGHT_STAGE0, within(1e-9 * s));
    // only the recomputed half pays recompute: 2 of 4 blocks, each microbatch
    double r = full.get(StatField.RECOMPUTE_TIME) / (BLOCKS_PER_STAGE * MICROBATCHES);
    assertThat(r).isPositive();
    assertThat(block2.get(StatField.RECOMPUTE_TIME)).isCloseTo(2 * MICROBATCHES * r, within(1e-12 * r));
    assertThat(none.get(StatField.RECOMPUTE_TIME)).isZero();
    // and the step lies between: it differs from the run without recompute by half the full run's extra time
    double noneTime = none.get(StatField.TOTAL_TIME), fullTime = full.get(StatField.TOTAL_TIME);
    assertThat(block2.get(StatField.TOTAL_TIME)).isGreaterThan(noneTime).isLessThan(fullTime);
  }

  @Test
  void theActivationOffloadRequirementIsWhatEachMethodStores() throws Exception {
    // the stage's forward streams what it keeps of a microbatch over its 4 blocks' forward windows
    // (the same in every run: recompute changes no forward pass). Without recompute 4 s, with
    // full recompute 4 c; block 2 keeps 2 c + 2 s, half of each; uniform 2 keeps 2 c (one per
    // group of 2). Requirement = bytes per block / window, window = s / none's = c / full's
    Stats none = run(recompute("none"));
    Stats full = run(recompute("full"));
    double s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE), c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    double window = s / none.get(StatField.ACT_OFFLOAD_BW_REQ);
    assertThat(c / full.get(StatField.ACT_OFFLOAD_BW_REQ)).isCloseTo(window, within(1e-12 * window));
    Stats block2 = run(full("block", 2));
    assertThat(block2.get(StatField.ACT_OFFLOAD_BW_REQ)).isCloseTo((2 * c + 2 * s) / BLOCKS_PER_STAGE / window,
        within(1e-9 * s / window));
    Stats uniform2 = run(full("uniform", 2));
    assertThat(uniform2.get(StatField.ACT_OFFLOAD_BW_REQ)).isCloseTo(2 * c / BLOCKS_PER_STAGE / window,
        within(1e-9 * c / window));
  }

  @Test
  void uniformGroupsWorkWithTheirRecomputedBlocksActivations() throws Exception {
    // a uniform group of N blocks runs its forward again with autograd before its backward
    // (Megatron-Core's TransformerBlock._checkpointed_forward, checkpoint_handler(custom(l, l + N))),
    // so its working space is an unrecomputed block's W plus the other N - 1 blocks' stored s
    Stats none = run(recompute("none"));
    Stats full = run(recompute("full"));
    double w = none.get(StatField.BLOCK_ACT_WORKING_SPACE), s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    assertThat(run(full("uniform", 2)).get(StatField.BLOCK_ACT_WORKING_SPACE)).isCloseTo(w + s, within(1e-9 * s));
    // N 3: groups {0,1,2} {3}: the larger group's
    assertThat(run(full("uniform", 3)).get(StatField.BLOCK_ACT_WORKING_SPACE)).isCloseTo(w + 2 * s,
        within(1e-9 * s));
    // N 1 recomputes each block from its own checkpoint: full recompute's block, as before
    assertThat(run(full("uniform", 1)).get(StatField.BLOCK_ACT_WORKING_SPACE))
        .isEqualTo(full.get(StatField.BLOCK_ACT_WORKING_SPACE));
  }

  @Test
  void blockWithAtLeastAChunksBlocksRecomputesThemAll() throws Exception {
    Stats full = run(recompute("full"));
    Stats block9 = run(full("block", 9));
    assertThat(block9.get(StatField.ACT_SPACE)).isEqualTo(full.get(StatField.ACT_SPACE));
    assertThat(block9.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(full.get(StatField.ACT_CHECKPOINT_SIZE),
        within(1e-9 * full.get(StatField.ACT_CHECKPOINT_SIZE)));
    assertThat(block9.get(StatField.RECOMPUTE_TIME)).isCloseTo(full.get(StatField.RECOMPUTE_TIME),
        within(1e-12 * full.get(StatField.RECOMPUTE_TIME)));
  }

  /** Every stat of {@code actual} is {@code expected}'s, null where it is null. */
  static void assertSameStats(Stats actual, Stats expected) {
    for (StatField f : StatField.values()) {
      assertThat(actual.isNull(f)).as(f.name()).isEqualTo(expected.isNull(f));
      assertThat(actual.get(f)).as(f.name()).isEqualTo(expected.get(f));
    }
  }

  static final Consumer<ObjectNode> OFFLOAD = e -> e.put("activations_offload", true);

  @Test
  void blockOfEveryBlockIsFullRecomputeFieldForField() throws Exception {
    // N at least the chunk's 4 blocks recomputes every block from its own checkpoint
    // (Megatron-Core's TransformerBlock._checkpointed_forward): plain full recompute, every stat
    // equal, act_checkpoint_size_with_offload included: the checkpoints of the 2 blocks
    // StageMemory keeps resident when activations are offloaded, not 0
    Stats full = run(recompute("full"));
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    assertThat(c).isPositive();
    assertThat(full.get(StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD))
        .isEqualTo(c * StageMemory.RESIDENT_BLOCKS_WHEN_OFFLOADED);
    for (int n : new int[] {BLOCKS_PER_STAGE, 9}) {
      assertSameStats(run(full("block", n)), full);
    }
  }

  @Test
  void blockOfEveryBlockOffloadsItsCheckpointsAsFullRecompute() throws Exception {
    Stats full = run(recompute("full"));
    Stats fullOffload = run(recompute("full").andThen(OFFLOAD));
    Stats block4Offload = run(full("block", BLOCKS_PER_STAGE).andThen(OFFLOAD));
    assertSameStats(block4Offload, fullOffload);
    // by hand: stage 0's checkpoints, 4 blocks x 4 microbatches in flight, go to tier 2 and 2 of
    // them stay resident in tier 1
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    int kept = BLOCKS_PER_STAGE * IN_FLIGHT_STAGE0;
    assertThat(block4Offload.get(StatField.PROC_MEM_TIER2_CAP_REQ)).isCloseTo(c * kept, within(1e-9 * c));
    assertThat(full.get(StatField.PROC_MEM_TIER1_CAP_REQ) - block4Offload.get(StatField.PROC_MEM_TIER1_CAP_REQ))
        .isCloseTo(c * (kept - StageMemory.RESIDENT_BLOCKS_WHEN_OFFLOADED), within(1e-9 * c));
    assertThat(block4Offload.get(StatField.ACT_OFFLOAD_BW_REQ)).isPositive();
  }

  @Test
  void blockOffloadCountsTheLargestChunkOfUnevenStages() throws Exception {
    // uneven stages 2/6/6/2: the largest chunk has 6 blocks, so block 6 recomputes every block
    // and offloads as plain full recompute; block 5 leaves a block of each six-block stage
    // unrecomputed and is refused
    Consumer<ObjectNode> uneven = e -> e.put("blocks_in_first_stage", 2).put("blocks_in_last_stage", 2);
    assertSameStats(run(uneven.andThen(full("block", 6)).andThen(OFFLOAD)),
        run(uneven.andThen(recompute("full")).andThen(OFFLOAD)));
    assertThatThrownBy(() -> run(uneven.andThen(full("block", 5)).andThen(OFFLOAD)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_method")
        .hasMessageContaining("recompute_num_layers 5").hasMessageContaining("largest pipeline chunk (6 blocks")
        .hasMessageContaining("at least 6").hasMessageNotContaining("\n");
  }

  @Test
  void blockOffloadCountsTheBlocksOfAnInterleavedChunk() throws Exception {
    // 32 blocks on PP 4 with 2 virtual stages: chunks of 4 blocks; block 4 covers them (the
    // stage's 8 blocks need not be), block 3 does not
    Consumer<ObjectNode> interleaved = e -> e.put("pipeline_interleaving", 2);
    Consumer<ObjectNode> model = m -> m.put("num_blocks", 32);
    Stats fullOffload = FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(recompute("full")).andThen(OFFLOAD));
    assertSameStats(FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(full("block", 4)).andThen(OFFLOAD)), fullOffload);
    assertThatThrownBy(() -> FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(full("block", 3)).andThen(OFFLOAD)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("largest pipeline chunk (4 blocks");
  }

  @Test
  void theEvaluatorRefusesOffloadOfAMixedChunkThatSkippedTheFileChecks() throws Exception {
    // a search's execution reaches the evaluator without RunChecks: block 2 of 4 with activation
    // offload is infeasible there; block 4 runs as plain full recompute
    Path dir = FaultCases.ROOT.resolve(KIND);
    Application app = ApplicationReader.read(dir.resolve(MODEL));
    SystemSpec sys = SystemReader.read(dir.resolve(SYSTEM));
    Execution block2 = execution(dir, full("block", 2).andThen(OFFLOAD));
    Hardware hw = new Hardware(sys, block2.datatype());
    assertThatThrownBy(() -> Evaluator.evaluate(app, block2, hw, ModelVersion.CORRECTED, false))
        .isInstanceOf(Infeasible.class).hasMessageContaining("activations_offload");
    Execution block4 = execution(dir, full("block", BLOCKS_PER_STAGE).andThen(OFFLOAD));
    assertSameStats(Evaluator.evaluate(app, block4, hw, ModelVersion.CORRECTED, false),
        run(recompute("full").andThen(OFFLOAD)));
  }

  private static Execution execution(Path dir, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(dir.resolve(EXE).toFile());
    edit.accept(node);
    return ExecutionReader.read(node, dir.resolve(EXE).toString());
  }

  @Test
  void uniformGroupsKeepOneCheckpointEachAndRecomputeAGroupWhole() throws Exception {
    Stats none = run(recompute("none"));
    Stats full = run(recompute("full"));
    double w = none.get(StatField.BLOCK_ACT_WORKING_SPACE), s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    // N 2: groups {0,1} {2,3}: 2 checkpoints per microbatch; the group runs its forward again as
    // without recompute, so its first block's activations live while its second, working as an
    // unrecomputed block (W), is backpropagated
    Stats u2 = run(full("uniform", 2));
    assertThat(u2.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * 2 * IN_FLIGHT_STAGE0, within(1e-9 * c));
    assertThat(u2.get(StatField.ACT_SPACE)).isCloseTo(w + s, within(1e-9 * s));
    // N 3: groups {0,1,2} {3}, the last one shorter (Megatron's min(layer_idx + N, layers))
    Stats u3 = run(full("uniform", 3));
    assertThat(u3.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * 2 * IN_FLIGHT_STAGE0, within(1e-9 * c));
    assertThat(u3.get(StatField.ACT_SPACE)).isCloseTo(w + 2 * s, within(1e-9 * s));
    // every block is still recomputed once
    for (Stats u : new Stats[] {u2, u3}) {
      assertThat(u.get(StatField.RECOMPUTE_TIME)).isCloseTo(full.get(StatField.RECOMPUTE_TIME),
          within(1e-12 * full.get(StatField.RECOMPUTE_TIME)));
    }
  }

  @Test
  void blockCountsItsBlocksInEveryInterleavedChunk() throws Exception {
    // 32 blocks on PP 4 with 2 virtual stages: 8 blocks per stage in 2 chunks of 4; block 2
    // recomputes 2 blocks of each chunk, 4 of the stage's 8 (not the stage's first 2 only)
    Consumer<ObjectNode> interleaved = e -> e.put("pipeline_interleaving", 2);
    Consumer<ObjectNode> model = m -> m.put("num_blocks", 32);
    Stats none = FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(recompute("none")));
    Stats full = FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(recompute("full")));
    Stats block2 = FaultCases.run(KIND, MODEL, model, EXE, SYSTEM, ModelVersion.CORRECTED,
        interleaved.andThen(full("block", 2)));
    double w = none.get(StatField.BLOCK_ACT_WORKING_SPACE), s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    int blocks = 8;
    // both chunks keep alike (2 checkpoints and 2 stored blocks each), so the microbatches in flight are full recompute's
    double inFlight = full.get(StatField.ACT_CHECKPOINT_SIZE) / (blocks * c);
    assertThat(inFlight).isGreaterThan(1);
    assertThat(block2.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * 4 * inFlight, within(1e-9 * c));
    assertThat(block2.get(StatField.ACT_SPACE)).isCloseTo(w + s * (4 * inFlight - 1), within(1e-9 * s));
    assertThat(block2.get(StatField.RECOMPUTE_TIME)).isCloseTo(full.get(StatField.RECOMPUTE_TIME) / 2,
        within(1e-12 * full.get(StatField.RECOMPUTE_TIME)));
  }

  @Test
  void eachStageCountsItsOwnBlocks() throws Exception {
    // uneven stages 2/6/6/2 (stage k holds 4 - k microbatches) with block 3: stage 0 recomputes
    // both its blocks (2 x 4 checkpoints), stage 1 three of six (3 x 3 checkpoints, 3 x 3 stored
    // blocks less the working one); stage 1 needs the most (six blocks' weights) and is reported
    Consumer<ObjectNode> uneven = e -> e.put("blocks_in_first_stage", 2).put("blocks_in_last_stage", 2);
    Stats none = run(recompute("none"));
    Stats full = run(recompute("full"));
    double w = none.get(StatField.BLOCK_ACT_WORKING_SPACE), s = none.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double c = full.get(StatField.BLOCK_ACT_CHECKPOINT_SIZE);
    Stats block3 = run(uneven.andThen(full("block", 3)));
    assertThat(block3.get(StatField.ACT_SPACE)).isCloseTo(w + s * (3 * 3 - 1), within(1e-9 * s));
    assertThat(block3.get(StatField.ACT_CHECKPOINT_SIZE)).isCloseTo(c * 3 * 3, within(1e-9 * c));
    // the slowest stage is a six-block one: it recomputes 3 blocks of each of 8 microbatches
    double r = full.get(StatField.RECOMPUTE_TIME) / (BLOCKS_PER_STAGE * MICROBATCHES);
    assertThat(block3.get(StatField.RECOMPUTE_TIME)).isCloseTo(3 * MICROBATCHES * r, within(1e-12 * r));
  }

  @Test
  void theKeysNeedFullRecomputeAndAreOneLineConfigErrorsOtherwise() {
    assertThatThrownBy(() -> run(recompute("none").andThen(e -> e.put("recompute_method", "block"))))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("exe-pp4_nm8.json").hasMessageContaining("recompute_method")
        .hasMessageContaining("needs activation_recompute \"full\"").hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run(e -> e.put("recompute_num_layers", 2)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_num_layers")
        .hasMessageContaining("got \"attn_only\"").hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run(full("block", 0)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_num_layers")
        .hasMessageContaining("positive").hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run(recompute("full").andThen(e -> e.put("recompute_method", "selective"))))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_method")
        .hasMessageContaining("uniform").hasMessageNotContaining("\n");
    // block 2 of a 4-block chunk offloads a mix of checkpoints and stored activations: refused,
    // saying why and the N that would recompute every block
    assertThatThrownBy(() -> run(full("block", 2).andThen(OFFLOAD)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_method")
        .hasMessageContaining("leaves blocks without recompute in the largest pipeline chunk (4 blocks")
        .hasMessageContaining("activations_offload").hasMessageContaining("at least 4")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> run(full("uniform", 2).andThen(OFFLOAD)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("recompute_num_layers")
        .hasMessageContaining("activations_offload").hasMessageNotContaining("\n");
  }

  @Test
  void calculonMoeHasNoPartialRecompute() {
    assertThatThrownBy(() -> FaultCases.run(KIND, MODEL, m -> { }, EXE, SYSTEM, ModelVersion.CALCULON_MOE,
        full("block", 2))).isInstanceOf(Infeasible.class).hasMessageContaining("corrected model");
  }
}
