package calculon.stats;

import calculon.util.PyJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stats JSON the reference writes for {@code llm ... out.json} (its get_stats_json): every
 * {@link StatField} in order as a float (or null), then {@code "layers"} when asked for.
 */
public final class StatsJson {
  private StatsJson() {}

  /** The key under which per-layer stats are listed. */
  public static final String LAYERS_KEY = "layers";

  /**
   * The stats as an ordered map, ready for {@link PyJson}: Double values (null where
   * {@link Stats#isNull}), and with {@code withLayers} a {@code "layers"} list of ordered maps whose
   * first key is {@code name}.
   */
  public static Map<String, Object> toMap(Stats stats, boolean withLayers) {
    StatField[] fields = StatField.all();
    Map<String, Object> m = new LinkedHashMap<>(fields.length * 2);
    for (StatField f : fields) {
      m.put(f.key, stats.isNull(f) ? null : (Object) stats.get(f));
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

  /**
   * Writes the stats to a {@code .json} (indent 2) or {@code .json.gz} (one line) file, atomically.
   *
   * @throws IllegalArgumentException when the name ends neither .json nor .json.gz
   */
  public static void write(Stats stats, boolean withLayers, Path path) throws IOException {
    PyJson.writeFile(path, toMap(stats, withLayers));
  }
}
