package calculon.report;

import calculon.stats.ExecutionDict;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import java.util.Map;

/**
 * One result of a search as the reference writes it: {@code {"execution": {...}, "stats": {...}}}.
 * Both maps keep their key order; values are Integer/Long, Double, Boolean, String or null (stats
 * are numbers or null: Double as Calculon-MoE writes them, some integral in original Calculon files).
 */
public record SearchRow(Map<String, Object> execution, Map<String, Object> stats) {
  /** The row of an evaluated execution (the stats must carry their execution). */
  public static SearchRow of(Stats s) {
    return new SearchRow(ExecutionDict.of(s.execution()), StatsJson.toMap(s, false));
  }

  public int tensorPar() { return intExec("tensor_par", 1); }

  public int pipelinePar() { return intExec("pipeline_par", 1); }

  public int dataPar() { return intExec("data_par", 1); }

  /** Expert parallelism; 1 for dense runs and for files without MoE keys. */
  public int expertPar() { return intExec("expert_par", 1); }

  public double sampleRate() { return stat(StatField.SAMPLE_RATE.key); }

  public double tier1Bytes() { return stat(StatField.PROC_MEM_TIER1_CAP_REQ.key); }

  /** A stats value, NaN when absent or null. */
  public double stat(String key) {
    Object v = stats.get(key);
    return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
  }

  /** An integer execution value, {@code missing} when absent. */
  public int intExec(String key, int missing) {
    Object v = execution.get(key);
    return v instanceof Number ? ((Number) v).intValue() : missing;
  }
}
