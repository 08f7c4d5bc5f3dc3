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

  /** The processor id of data rank {@code di}, pipeline stage {@code pi}, tensor rank {@code ti}. */
  public static int nodeId(int di, int pi, int ti, int tp, int pp) {
    return di * tp * pp + pi * tp + ti;
  }
}
