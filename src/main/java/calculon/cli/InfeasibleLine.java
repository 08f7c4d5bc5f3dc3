package calculon.cli;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.ParallelDim;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import java.util.ArrayList;
import java.util.List;

/**
 * The line {@code llm} prints after {@code ERROR: } when the corrected model finds an execution
 * that cannot run: for the rules whose cause is a few execution keys (network tiers,
 * interleaving, offload) it names the execution file, the keys, their values and the rule, and
 * the system file where a tier's size decides, e.g. {@code calculon llm: exe.json: tensor_par 8 x
 * pipeline_par 4 = 32 GPUs on tier 0 (tensor_par_net 0, pipeline_par_net 0) but tier 0 of
 * sys.json holds 8}. Other rules (memory, pipeline schedule) keep the model's message, which
 * already names its sizes. calculon-moe keeps the reference's {@code Llm.Error} text (the golden
 * cases record it), so this class is used for the corrected model only.
 */
final class InfeasibleLine {
  private InfeasibleLine() {}

  /**
   * The message for {@code e}, or null when the model's own message stays (rules this class does
   * not rewrite, or a tier check it cannot reproduce).
   *
   * @param command the command's full name, as error lines start ({@code llm})
   */
  static String of(Infeasible e, String command, Application app, Execution exe, Hardware hw,
                   String executionFile, String systemFile) {
    String head = "calculon " + command + ": " + executionFile + ": ";
    return switch (e.rule()) {
      case NETWORK_TIER_SIZE, NETWORK_TIER_FILL -> {
        String why = tiers(exe, hw, systemFile);
        yield why == null ? null : head + why;
      }
      case INTERLEAVING -> e.figure() < 0 ? null : head + "pipeline_interleaving: " + exe.pipelineInterleaving()
          + (exe.pipelineInterleaving() > e.figure() ? " must be at most" : " must divide")
          + " the blocks per pipeline stage (" + e.figure() + stageBlocks(app, exe) + ")";
      case OFFLOAD_BLOCKS -> e.figure() < 0 ? null : head + offloadKeys(exe)
          + " needs at least 3 blocks per pipeline stage, got " + e.figure() + stageBlocks(app, exe);
      default -> null;
    };
  }

  /** How the blocks per stage come about, for the even split: {@code : 80 blocks / pipeline_par 2}. */
  private static String stageBlocks(Application app, Execution exe) {
    if (exe.parallel().unevenStages()) {
      return ": the most any stage holds, with blocks_in_first/last_stage";
    }
    return ": " + app.numBlocks() + " blocks / pipeline_par " + exe.pipelinePar()
        + (app.numBlocks() % exe.pipelinePar() == 0 ? "" : ", rounded up");
  }

  private static String offloadKeys(Execution exe) {
    List<String> on = new ArrayList<>();
    if (exe.weightOffload()) {
      on.add("weight_offload");
    }
    if (exe.activationsOffload()) {
      on.add("activations_offload");
    }
    if (exe.optimizerOffload()) {
      on.add("optimizer_offload");
    }
    return String.join(", ", on);
  }

  /**
   * The first tier check that fails, in the order the model checks them (Evaluator
   * checkNetworkTiers: a dense run's groups once; a MoE run's expert side, then its dense side).
   */
  private static String tiers(Execution exe, Hardware hw, String systemFile) {
    if (!exe.modelMoE()) {
      return side(exe, hw, systemFile, true, "");
    }
    String moe = side(exe, hw, systemFile, false, " (the expert side)");
    return moe != null ? moe : side(exe, hw, systemFile, true, " (the dense side)");
  }

  private static String side(Execution exe, Hardware hw, String systemFile, boolean denseSide, String label) {
    for (int t = 0; t < hw.numNetworks(); t++) {
      List<String> degrees = new ArrayList<>();
      List<String> nets = new ArrayList<>();
      long size = 1;
      for (ParallelDim d : ParallelDim.all()) {
        int degree = d.degree(exe);
        if ((denseSide ? d.denseSide : d.expertSide) && degree > 1 && d.tier(exe) == t) {
          degrees.add(d.executionKey() + " " + degree);
          nets.add(d.executionKey() + "_net " + t);
          size *= degree;
        }
      }
      if (degrees.isEmpty()) {
        continue;
      }
      long holds = hw.network(t).size();
      String group = String.join(" x ", degrees) + (degrees.size() > 1 ? " = " + size : "") + " GPUs on tier " + t
          + label + " (" + String.join(", ", nets) + ")";
      if (size > holds) {
        return group + " but tier " + t + " of " + systemFile + " holds " + holds;
      }
      if (hw.network(t).mustBeFilled() && holds % size != 0) {
        return group + " but tier " + t + " of " + systemFile + " holds " + holds
            + " and must be filled (must_be_filled): " + size + " does not divide " + holds;
      }
    }
    return null;
  }
}
