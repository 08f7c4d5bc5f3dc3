package calculon.stats;

import calculon.model.ModelVersion;
import calculon.util.PyJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The stats JSON the reference writes for {@code llm ... out.json} (its get_stats_json): every
 * {@link StatField} in order (null where the reference has None), then, in a stats file, where it
 * came from ({@link #CALCULON_VERSION_KEY}, {@link #MODEL_VERSION_KEY}), then {@code "layers"}
 * when asked for. Numbers are written as the reference holds them ({@link PyNumberType}: an int
 * where Python has an int); with the corrected model, byte counts are whole numbers of bytes.
 */
public final class StatsJson {
  private StatsJson() {}

  /** The key under which per-layer stats are listed. */
  public static final String LAYERS_KEY = "layers";
  /** The calculon version that wrote a stats file. */
  public static final String CALCULON_VERSION_KEY = "calculon_version";
  /** The model version ({@code corrected} or {@code calculon-moe}) that computed a stats file. */
  public static final String MODEL_VERSION_KEY = "model_version";

  /** The stats keys that are byte counts (memory and transfer sizes). */
  static final Set<StatField> BYTE_COUNTS;

  static {
    Set<StatField> b = EnumSet.noneOf(StatField.class);
    b.addAll(PyNumberType.BYTES);
    b.addAll(PyNumberType.ACTIVATIONS);
    b.addAll(EnumSet.of(StatField.BLOCK_OPTIM_MEM_ACCESSED, StatField.BLOCK_WEIGHT_GRAD_SPACE,
        StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING, StatField.BLOCK_OPTIMIZER_SPACE,
        StatField.WEIGHT_GRAD_SPACE_WITH_OFFLOAD, StatField.OPTIMIZER_SPACE_WITH_OFFLOAD,
        StatField.WEIGHT_GRAD_SPACE, StatField.OPTIMIZER_SPACE, StatField.PROC_MEM_TIER1_CAP_REQ,
        StatField.PROC_MEM_TIER2_CAP_REQ));
    BYTE_COUNTS = Collections.unmodifiableSet(b);
  }

  /** Relative distance from a whole number below which a byte count is rounding noise of a sum. */
  static final double BYTE_NOISE = 1e-12;

  /**
   * Where a stats file came from: the calculon version and the model version that computed it.
   * Stats values are written as the reference holds them in {@code calculon-moe}; with
   * {@code corrected}, byte counts a float sum left a rounding error away from a whole number
   * are written as that whole number.
   */
  public record Provenance(String calculonVersion, ModelVersion modelVersion) {}

  /**
   * The stats as an ordered map, ready for {@link PyJson}: Double values (null where
   * {@link Stats#isNull}), and with {@code withLayers} a {@code "layers"} list of ordered maps whose
   * first key is {@code name}.
   */
  public static Map<String, Object> toMap(Stats stats, boolean withLayers) {
    return toMap(stats, withLayers, null);
  }

  /**
   * The stats file's content: as {@link #toMap(Stats, boolean)}, with the numbers typed as
   * {@link Provenance} says and its two keys after the stats. Without provenance (search results,
   * whose file records neither) every value is a Double.
   */
  public static Map<String, Object> toMap(Stats stats, boolean withLayers, Provenance provenance) {
    StatField[] fields = StatField.all();
    Map<String, Object> m = new LinkedHashMap<>(fields.length * 2);
    for (StatField f : fields) {
      m.put(f.key, stats.isNull(f) ? null : provenance == null ? (Object) stats.get(f) : typed(f, stats, provenance));
    }
    if (provenance != null) {
      m.put(CALCULON_VERSION_KEY, provenance.calculonVersion());
      m.put(MODEL_VERSION_KEY, provenance.modelVersion().cliName);
    }
    for (StatField f : StatField.extensions()) {
      if (stats.get(f) != 0) {
        m.put(f.key, stats.get(f));
      }
    }
    if (withLayers) {
      List<Map<String, Object>> layers = new ArrayList<>();
      if (stats.layers() != null) {
        for (Stats.LayerStats layer : stats.layers()) {
          layers.add(layerMap(layer));
        }
      }
      m.put(LAYERS_KEY, layers);
    }
    return m;
  }

  /** A value as the reference would hold it: Long for a Python int, else Double. */
  private static Object typed(StatField f, Stats stats, Provenance p) {
    double v = stats.get(f);
    if (p.modelVersion().corrected() && BYTE_COUNTS.contains(f) && Double.isFinite(v)) {
      double whole = Math.rint(v);
      if (Math.abs(v - whole) <= BYTE_NOISE * Math.abs(v) && Math.abs(whole) < 0x1p63) {
        return (long) whole;
      }
    }
    if (stats.execution() != null && PyNumberType.isInt(f, v, stats.execution())) {
      return (long) v;
    }
    return v;
  }

  private static Map<String, Object> layerMap(Stats.LayerStats layer) {
    LayerField[] fields = LayerField.all();
    Map<String, Object> m = new LinkedHashMap<>(fields.length * 2);
    for (LayerField f : fields) {
      m.put(f.key, f == LayerField.NAME ? layer.name() : (Object) layer.get(f));
    }
    return m;
  }

  /** The stats JSON text: indent 2 as for a .json file, or {@link PyJson#NO_INDENT}. */
  public static String toJson(Stats stats, boolean withLayers, int indent) {
    return PyJson.dumps(toMap(stats, withLayers), indent);
  }

  /** The stats file's text (see {@link #toMap(Stats, boolean, Provenance)}). */
  public static String toJson(Stats stats, boolean withLayers, Provenance provenance, int indent) {
    return PyJson.dumps(toMap(stats, withLayers, provenance), indent);
  }

  /**
   * Writes the stats to a {@code .json} (indent 2) or {@code .json.gz} (one line) file, atomically.
   *
   * @throws IllegalArgumentException when the name ends neither .json nor .json.gz
   */
  public static void write(Stats stats, boolean withLayers, Path path) throws IOException {
    PyJson.writeFile(path, toMap(stats, withLayers));
  }

  /** Writes a stats file with its provenance (what {@code calculon llm MODEL EXECUTION SYSTEM OUTPUT.json} writes). */
  public static void write(Stats stats, boolean withLayers, Provenance provenance, Path path) throws IOException {
    PyJson.writeFile(path, toMap(stats, withLayers, provenance));
  }
}
