package calculon.stats;

import calculon.config.Execution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The peer map the original Calculon writes with {@code llm -p FILE} (its Execution.get_peers_json,
 * ORIG llm.py:160-196): for each processor, the processors it talks to. Processor ids are
 * {@code nid = di*TP*PP + pi*TP + ti}. Expert parallelism is not represented, as in the reference.
 */
public final class Peers {
  private Peers() {}

  /**
   * Ordered map from the processor id (as a JSON string key) to its peers: {@code "tensor"} (every
   * processor of its TP group, itself included; only when TP &gt; 1), {@code "pipeline"} (the id
   * of the next stage, wrapping around; only when PP &gt; 1), {@code "data"} (every processor of
   * its DP group; only when DP &gt; 1).
   */
  public static Map<String, Map<String, Object>> of(Execution exe) {
    int tp = exe.tensorPar();
    int pp = exe.pipelinePar();
    int dp = exe.dataPar();
    Map<String, Map<String, Object>> peers = new LinkedHashMap<>();
    for (int di = 0; di < dp; di++) {
      for (int pi = 0; pi < pp; pi++) {
        for (int ti = 0; ti < tp; ti++) {
          Map<String, Object> entry = new LinkedHashMap<>();
          if (tp > 1) {
            List<Integer> tensor = new ArrayList<>(tp);
            for (int t2 = 0; t2 < tp; t2++) {
              tensor.add(nodeId(di, pi, t2, tp, pp));
            }
            entry.put("tensor", tensor);
          }
          if (pp > 1) {
            entry.put("pipeline", nodeId(di, (pi + 1) % pp, ti, tp, pp));
          }
          if (dp > 1) {
            List<Integer> data = new ArrayList<>(dp);
            for (int d2 = 0; d2 < dp; d2++) {
              data.add(nodeId(d2, pi, ti, tp, pp));
            }
            entry.put("data", data);
          }
          peers.put(Integer.toString(nodeId(di, pi, ti, tp, pp)), entry);
        }
      }
    }
    return peers;
  }

  /**
   * The note {@code llm -p} prints under the corrected model when this file and the model place
   * the data-parallel ranks differently, or null when they agree. The file numbers processors in
   * Calculon's order (TP fastest, then PP, then DP: a DP group's members TP x PP ids apart); the
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
    long fileStride = (long) exe.tensorPar() * exe.pipelinePar();
    long modelStride = (long) exe.tensorPar() * exe.contextPar();
    return "note: " + peersFile + " numbers the processors in Calculon's order (tensor_par fastest, then "
        + "pipeline_par, then data_par: data-parallel peers " + fileStride + " ids apart); the model times the "
        + "data-parallel rings in Megatron-Core's order (tp-cp-ep-dp-pp: peers " + modelStride + " ranks apart, as "
        + "pipeline_par_net " + exe.pipelineParNet() + " is not below data_par_net " + exe.dataParNet()
        + "), which decides how many share a domain of the tier below (docs/deviations.md, data-parallel rings "
        + "across nodes)";
  }

  /** The processor id of data rank {@code di}, pipeline stage {@code pi}, tensor rank {@code ti}. */
  public static int nodeId(int di, int pi, int ti, int tp, int pp) {
    return di * tp * pp + pi * tp + ti;
  }
}
