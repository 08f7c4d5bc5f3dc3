package calculon.stats;

import calculon.config.Execution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The peer map the original Calculon writes with {@code llm -p FILE} (its Execution.get_peers_json,
 * ORIG llm.py:160-196): for each processor, the processors it talks to. Calculon numbers the
 * processors {@code nid = di*TP*PP + pi*TP + ti} and has no context parallelism; with CP &gt; 1 the
 * CP rank goes where Megatron-Core puts it, next to the TP rank ({@code order="tp-cp-ep-dp-pp"},
 * megatron/core/parallel_state.py {@code initialize_model_parallel} / {@code RankGenerator}, ranks
 * laid out by {@code generate_masked_orthogonal_rank_groups}: TP fastest, then CP): {@code nid =
 * ((di*PP + pi)*CP + ci)*TP + ti}, so that every one of the TP x CP x PP x DP processors is listed and
 * CP = 1 gives Calculon's file byte for byte. With CP &gt; 1 each processor also lists its
 * {@code data_context} group, DP x CP: the group the model reduces the gradients over and shards
 * the ZeRO state over (DataParallelSync, StageMemory), Megatron-Core's {@code dp-cp} group
 * ({@code RankGenerator.get_ranks("dp-cp")}, {@code get_data_parallel_group(with_context_parallel=True)};
 * TorchTitan's {@code dp_shard_cp} mesh), which its {@code data} list (one CP rank's DP members)
 * is not. Expert parallelism is not represented, as in the reference.
 */
public final class Peers {
  private Peers() {}

  /**
   * Ordered map from the processor id (as a JSON string key, ids ascending) to its peers:
   * {@code "tensor"} (every processor of its TP group, itself included; only when TP &gt; 1),
   * {@code "context"} (every processor of its CP group, itself included; only when CP &gt; 1),
   * {@code "pipeline"} (the id of the next stage, wrapping around; only when PP &gt; 1),
   * {@code "data"} (every processor of its DP group, same CP rank, itself included; only when
   * DP &gt; 1), {@code "data_context"} (every processor of its DP x CP group: same TP rank and
   * stage, every CP and DP rank, itself included, ids ascending; only when CP &gt; 1, so a file
   * without CP is Calculon's). E.g. TP 2, CP 2, PP 1, DP 2: processor 1 (TP rank 1, CP rank 0, DP
   * rank 0) has tensor [0, 1], context [1, 3], data [1, 5], data_context [1, 3, 5, 7], the groups
   * Megatron-Core's {@code RankGenerator} forms for tp2-cp2-dp2 ({@code "tp"}, {@code "cp"},
   * {@code "dp"}, {@code "dp-cp"}).
   */
  public static Map<String, Map<String, Object>> of(Execution exe) {
    int tp = exe.tensorPar();
    int cp = exe.contextPar();
    int pp = exe.pipelinePar();
    int dp = exe.dataPar();
    Map<String, Map<String, Object>> peers = new LinkedHashMap<>();
    for (int di = 0; di < dp; di++) {
      for (int pi = 0; pi < pp; pi++) {
        for (int ci = 0; ci < cp; ci++) {
          for (int ti = 0; ti < tp; ti++) {
            Map<String, Object> entry = new LinkedHashMap<>();
            if (tp > 1) {
              List<Integer> tensor = new ArrayList<>(tp);
              for (int t2 = 0; t2 < tp; t2++) {
                tensor.add(nodeId(di, pi, ci, t2, tp, cp, pp));
              }
              entry.put("tensor", tensor);
            }
            if (cp > 1) {
              List<Integer> context = new ArrayList<>(cp);
              for (int c2 = 0; c2 < cp; c2++) {
                context.add(nodeId(di, pi, c2, ti, tp, cp, pp));
              }
              entry.put("context", context);
            }
            if (pp > 1) {
              entry.put("pipeline", nodeId(di, (pi + 1) % pp, ci, ti, tp, cp, pp));
            }
            if (dp > 1) {
              List<Integer> data = new ArrayList<>(dp);
              for (int d2 = 0; d2 < dp; d2++) {
                data.add(nodeId(d2, pi, ci, ti, tp, cp, pp));
              }
              entry.put("data", data);
            }
            if (cp > 1) {
              // the group the gradients are reduced and the ZeRO state sharded over: DP x CP
              List<Integer> dataContext = new ArrayList<>(dp * cp);
              for (int d2 = 0; d2 < dp; d2++) {
                for (int c2 = 0; c2 < cp; c2++) {
                  dataContext.add(nodeId(d2, pi, c2, ti, tp, cp, pp));
                }
              }
              entry.put("data_context", dataContext);
            }
            peers.put(Integer.toString(nodeId(di, pi, ci, ti, tp, cp, pp)), entry);
          }
        }
      }
    }
    return peers;
  }

  /**
   * The note {@code llm -p} prints under the corrected model when this file and the model place
   * the data-parallel ranks differently, or null when they agree. The file numbers processors in
   * Calculon's order (TP fastest, then CP where CP &gt; 1, then PP, then DP: a DP group's members
   * TP x CP x PP ids apart; the note names context_par only where CP &gt; 1); the
   * corrected model times the data-parallel rings in Megatron-Core's rank order
   * ({@code tp-cp-ep-dp-pp}, {@code parallel_state.RankGenerator}: members TP x CP apart), nesting
   * PP inside DP only when {@code pipeline_par_net} is below {@code data_par_net}
   * ({@code DataParallelSync.denseInnerDegree}); the members that share a domain of the tier below
   * set the ring's bandwidth (docs/deviations.md, "data-parallel rings across nodes"). The two
   * differ when PP &gt; 1, DP &gt; 1 and PP is not on a lower tier than DP. E.g. {@code note:
   * peers.json numbers the processors in Calculon's order (tensor_par fastest, then pipeline_par,
   * then data_par: data-parallel peers 4 ids apart); the model times the data-parallel rings in
   * Megatron-Core's order (tp-cp-ep-dp-pp: peers 2 ranks apart, as pipeline_par_net 1 is not below
   * data_par_net 1), which decides how many share a domain of the tier below (docs/deviations.md,
   * data-parallel rings across nodes)}. calculon-moe places no ring (its DP time does not depend on
   * placement) and gets no note.
   *
   * @param exe       the execution the file is written for
   * @param peersFile the peers file as the user named it
   */
  public static String rankOrderNote(Execution exe, Object peersFile) {
    if (exe.pipelinePar() <= 1 || exe.dataPar() <= 1 || exe.pipelineParNet() < exe.dataParNet()) {
      return null;
    }
    long fileStride = (long) exe.tensorPar() * exe.contextPar() * exe.pipelinePar();
    long modelStride = (long) exe.tensorPar() * exe.contextPar();
    String cp = exe.contextPar() > 1 ? "context_par, then " : "";
    return "note: " + peersFile + " numbers the processors in Calculon's order (tensor_par fastest, then " + cp
        + "pipeline_par, then data_par: data-parallel peers " + fileStride + " ids apart); the model times the "
        + "data-parallel rings in Megatron-Core's order (tp-cp-ep-dp-pp: peers " + modelStride + " ranks apart, as "
        + "pipeline_par_net " + exe.pipelineParNet() + " is not below data_par_net " + exe.dataParNet()
        + "), which decides how many share a domain of the tier below (docs/deviations.md, data-parallel rings "
        + "across nodes)";
  }

  /**
   * The note {@code llm -p} prints when the file's numbering does not follow the execution's network
   * tiers, or null when it does: the file numbers processors TP fastest, then CP, then PP, then DP
   * ({@link #nodeId}), so a group numbered later sits further apart in ids; when the execution puts
   * such a group on a lower (faster) tier than one numbered before it, ids that are near in the
   * file are not the ones the execution places near. E.g. TP 4, CP 2 on {@code context_par_net 1},
   * PP 2 on {@code pipeline_par_net 0}: {@code note: peers.json numbers context peers 4 ids apart and
   * pipeline peers 8 apart (tensor_par fastest, then context_par, then pipeline_par, then data_par),
   * but the execution puts pipeline_par on tier 0, below context_par on tier 1: the ids do not
   * follow the tiers (the model times each group on the tier the execution gives it)}. Groups of
   * degree 1 are left out; PP before DP is {@link #rankOrderNote}'s case and is not repeated here.
   *
   * @param exe       the execution the file is written for
   * @param peersFile the peers file as the user named it
   */
  public static String tierOrderNote(Execution exe, Object peersFile) {
    String[] names = {"tensor_par", "context_par", "pipeline_par", "data_par"};
    String[] kinds = {"tensor", "context", "pipeline", "data"};
    int[] degree = {exe.tensorPar(), exe.contextPar(), exe.pipelinePar(), exe.dataPar()};
    int[] net = {exe.tensorParNet(), exe.contextParNet(), exe.pipelineParNet(), exe.dataParNet()};
    long[] stride = {1, exe.tensorPar(), (long) exe.tensorPar() * exe.contextPar(),
        (long) exe.tensorPar() * exe.contextPar() * exe.pipelinePar()};
    for (int later = 1; later < names.length; later++) {
      for (int earlier = 0; earlier < later; earlier++) {
        if (degree[earlier] <= 1 || degree[later] <= 1 || net[later] >= net[earlier] || (earlier == 2 && later == 3)) {
          continue;
        }
        StringBuilder order = new StringBuilder("tensor_par fastest");
        for (int g = 1; g < names.length; g++) {
          if (degree[g] > 1 || g == 3) {
            order.append(", then ").append(names[g]);
          }
        }
        return "note: " + peersFile + " numbers " + kinds[earlier] + " peers " + stride[earlier] + " ids apart and "
            + kinds[later] + " peers " + stride[later] + " apart (" + order + "), but the execution puts "
            + names[later] + " on tier " + net[later] + ", below " + names[earlier] + " on tier " + net[earlier]
            + ": the ids do not follow the tiers (the model times each group on the tier the execution gives it)";
      }
    }
    return null;
  }

  /**
   * The processor id of data rank {@code di}, pipeline stage {@code pi}, tensor rank {@code ti}
   * without context parallelism (CP 1): Calculon's {@code di*TP*PP + pi*TP + ti}.
   */
  public static int nodeId(int di, int pi, int ti, int tp, int pp) {
    return nodeId(di, pi, 0, ti, tp, 1, pp);
  }

  /**
   * The processor id of data rank {@code di}, pipeline stage {@code pi}, context rank {@code ci},
   * tensor rank {@code ti} of TP {@code tp}, CP {@code cp}, PP {@code pp}: TP fastest, then CP
   * (Megatron-Core's tp-cp adjacency), then PP, then DP (Calculon's), {@code ((di*PP + pi)*CP + ci)*TP + ti}.
   */
  public static int nodeId(int di, int pi, int ci, int ti, int tp, int cp, int pp) {
    return ((di * pp + pi) * cp + ci) * tp + ti;
  }
}
