package calculon.search;

import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.Recompute;
import calculon.config.RecomputeMethod;
import java.util.List;

/**
 * The note of a block recompute that recomputes every block: {@code recompute_method: block} with
 * {@code recompute_num_layers} N recomputes the first min(N, blocks in the chunk) blocks of each
 * pipeline chunk, each from its own checkpoint (Megatron-Core
 * megatron/core/transformer/transformer_block.py {@code TransformerBlock._checkpointed_forward}:
 * {@code for l in range(self.num_layers_per_pipeline_rank)}, {@code if l < recompute_num_layers}
 * checkpoint {@code custom(l, l + 1)}; docs/reference.md), so where N is at least the blocks of
 * every chunk each block is checkpointed alone, which is the {@code uniform} method with N = 1:
 * plain full recompute ({@code activation_recompute: full} without the two keys). Said as a note,
 * not refused: the run is valid, but the file's choice does nothing a plain full recompute would
 * not ({@code llm}, the searches and the sweeps say it). The chunk sizes are the evaluator's
 * ({@code Evaluator.Step.chunkBlocks}): even stages hold ceil(blocks / PP) blocks in
 * {@code pipeline_interleaving} equal chunks; uneven stages ({@code blocks_in_first_stage},
 * {@code blocks_in_last_stage}) split each stage's blocks into v chunks as evenly as they go, the
 * first ones taking one more.
 */
public final class BlockRecomputeNote {
  private BlockRecomputeNote() {}

  /**
   * The blocks of the largest pipeline chunk of {@code exe} on a model of {@code numBlocks}
   * blocks ({@link Execution#largestChunkBlocks}, the evaluator's split). For an execution the
   * evaluator ran (PP and interleaving valid for the model).
   */
  public static long largestChunkBlocks(long numBlocks, Execution exe) {
    return exe.largestChunkBlocks(numBlocks);
  }

  /**
   * {@code llm}'s note, without the {@code calculon llm: } prefix, or null when the execution does
   * not run {@code recompute_method: block} under full recompute or some chunk has more than N
   * blocks. E.g. {@code note: recompute_method block with recompute_num_layers 6 in exe.json
   * recomputes every block (no pipeline chunk has more than 6): the run is plain full recompute,
   * as activation_recompute full without recompute_method and recompute_num_layers}.
   */
  public static String forRun(long numBlocks, Execution exe, Object exeFile) {
    if (!blockMethod(exe.layerOptions()) || exe.activationRecompute() != Recompute.FULL) {
      return null;
    }
    long chunk = largestChunkBlocks(numBlocks, exe);
    int n = exe.layerOptions().recomputeNumLayers();
    if (n < chunk) {
      return null;
    }
    return "note: recompute_method block with recompute_num_layers " + n + " in " + exeFile
        + " recomputes every block (no pipeline chunk has more than " + chunk + "): the run is plain full "
        + "recompute, as activation_recompute full without recompute_method and recompute_num_layers";
  }

  /**
   * A search's note, without the {@code calculon COMMAND: } prefix, or null: when the template's
   * {@code recompute_method} is {@code block} and N is at least the blocks of the largest chunk of
   * every execution with full recompute the search tries (the partitions' PP and interleaving, even
   * stages: a search gives no stage its own blocks), those executions are plain full recompute. No
   * note where some of them recompute only part of a chunk, or none runs full recompute. E.g.
   * {@code note: recompute_method block with recompute_num_layers 12 in t.json recomputes every
   * block of this search's executions with full recompute (no pipeline chunk has more than 12):
   * they run as plain full recompute, as activation_recompute full without recompute_method and
   * recompute_num_layers}.
   */
  public static String forSearch(long numBlocks, LayerOptions template, List<Partition> partitions, Object templateFile) {
    if (!blockMethod(template)) {
      return null;
    }
    long chunk = 0;
    boolean anyFull = false;
    for (Partition p : partitions) {
      if (p.recompute() == Recompute.FULL) {
        anyFull = true;
        chunk = Math.max(chunk, ceilDiv(ceilDiv(numBlocks, p.pp()), p.ppint()));
      }
    }
    int n = template.recomputeNumLayers();
    if (!anyFull || n < chunk) {
      return null;
    }
    return "note: recompute_method block with recompute_num_layers " + n + " in " + templateFile
        + " recomputes every block of this search's executions with full recompute (no pipeline chunk has more than "
        + chunk + "): they run as plain full recompute, as activation_recompute full without recompute_method and "
        + "recompute_num_layers";
  }

  private static boolean blockMethod(LayerOptions o) {
    return o.givenRecomputeMethod() == RecomputeMethod.BLOCK;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
