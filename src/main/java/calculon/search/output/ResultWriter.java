package calculon.search.output;

import calculon.util.AtomicFile;

import calculon.util.PyJson;

import calculon.search.SearchResult;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the best executions of a search in the reference's layouts, atomically (see
 * {@link AtomicFile}):
 * <ul>
 *   <li>{@code .json}: {@code {"0": {"execution": {...}, "stats": {...}}, ...}}, indent 2;
 *       {@code .json.gz}: the same without indent, gzip-compressed;</li>
 *   <li>{@code .csv} / {@code .csv.gz}: header {@code ,<execution keys>,<stats keys>}, then one
 *       row per result starting with its index. Per-layer stats never go into a cell: with layers,
 *       they are written beside the CSV as {@code <name>.layers.json[.gz]}, keyed by the same index.</li>
 * </ul>
 */
public final class ResultWriter {
  private ResultWriter() {}

  public enum Format { JSON, CSV }

  /** @throws IllegalArgumentException for an unknown extension */
  public static Format formatOf(Path p) {
    String n = p.getFileName().toString();
    if (n.endsWith(".json") || n.endsWith(".json.gz")) {
      return Format.JSON;
    }
    if (n.endsWith(".csv") || n.endsWith(".csv.gz")) {
      return Format.CSV;
    }
    throw new IllegalArgumentException("unknown file type: use .json, .json.gz, .csv or .csv.gz");
  }

  /**
   * Where per-layer stats go for a CSV output: {@code r.csv} -> {@code r.layers.json},
   * {@code r.csv.gz} -> {@code r.layers.json.gz}. For a numbered backup of such a CSV
   * ({@code r.csv.~2~}, {@link calculon.util.Backups}) it is the sidecar's backup of the same number
   * ({@code r.layers.json.~2~}): a search with {@code -l} that replaces both files keeps each
   * earlier one under its own next number, so files always written together keep equal numbers.
   */
  public static Path layersSidecar(Path csv) {
    String kept = csv.getFileName().toString();
    String n = calculon.util.Backups.unnumbered(kept);
    String number = kept.substring(n.length());  // ".~2~", or "" for a name that is no backup
    boolean gz = n.endsWith(".gz");
    String base = n.substring(0, n.length() - (gz ? ".csv.gz".length() : ".csv".length()));
    return csv.resolveSibling(base + ".layers.json" + (gz ? ".gz" : "") + number);
  }

  /** Writes the results (best first) to {@code out}; returns the files written. */
  public static List<Path> writeBest(Path out, List<SearchResult> best, boolean withLayers)
      throws IOException {
    return writeBest(out, best, withLayers, e -> List.of());
  }

  /**
   * As {@link #writeBest(Path, List, boolean)}; in JSON, an entry whose {@code equivalents} are
   * not empty also gets {@code "equivalent"}: the executions merged into it as no-op duplicates,
   * each as the execution keys in which it differs ({@code SearchSpace.equivalents}).
   */
  public static List<Path> writeBest(Path out, List<SearchResult> best, boolean withLayers,
                                     java.util.function.Function<calculon.config.Execution, List<Map<String, Object>>> equivalents)
      throws IOException {
    return writeBest(out, best, withLayers, equivalents, false);
  }

  /**
   * As above; with {@code extended} (a search beyond Calculon's space) a CSV gets
   * {@link ResultFormat#EXTRA_EXECUTION_KEYS} after the reference's execution columns and each JSON
   * entry those keys' values ({@link ResultFormat#executionJson(calculon.config.Execution, boolean)}).
   */
  public static List<Path> writeBest(Path out, List<SearchResult> best, boolean withLayers,
                                     java.util.function.Function<calculon.config.Execution, List<Map<String, Object>>> equivalents,
                                     boolean extended)
      throws IOException {
    return writeBest(out, best, withLayers, equivalents, extended, List.of());
  }

  /**
   * As above; a CSV also gets the search template's columns ({@link ResultFormat#templateColumns})
   * after the execution columns, so that a row says every key its execution ran with (a JSON
   * entry says them already: {@link ResultFormat#executionJson(calculon.config.Execution, boolean)}).
   */
  public static List<Path> writeBest(Path out, List<SearchResult> best, boolean withLayers,
                                     java.util.function.Function<calculon.config.Execution, List<Map<String, Object>>> equivalents,
                                     boolean extended, List<String> template)
      throws IOException {
    if (formatOf(out) == Format.JSON) {
      Map<String, Object> doc = new LinkedHashMap<>();
      for (int i = 0; i < best.size(); i++) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("execution", ResultFormat.executionJson(best.get(i).execution(), extended));
        entry.put("stats", ResultFormat.statsJson(best.get(i).stats(), withLayers));
        List<Map<String, Object>> same = equivalents.apply(best.get(i).execution());
        if (!same.isEmpty()) {
          entry.put("equivalent", same);
        }
        doc.put(Integer.toString(i), entry);
      }
      writeJson(out, doc);
      return List.of(out);
    }
    try (AtomicFile f = new AtomicFile(out)) {
      Writer w = writer(f);
      w.write(ResultFormat.csvHeader(extended, true, template));
      for (int i = 0; i < best.size(); i++) {
        w.write(Integer.toString(i));
        CsvRows.writeValues(w, best.get(i), extended, template);
        w.write('\n');
      }
      w.flush();
      f.commit();
    }
    if (!withLayers) {
      String moved = moveStaleLayers(out, " (-l)");
      if (moved != null) {
        calculon.util.Backups.say(moved);
      }
      return List.of(out);
    }
    Map<String, Object> layers = new LinkedHashMap<>();
    for (int i = 0; i < best.size(); i++) {
      layers.put(Integer.toString(i), ResultFormat.layersJson(best.get(i).stats()));
    }
    Path side = layersSidecar(out);
    writeJson(side, layers);
    return List.of(out, side);
  }

  /**
   * Moves a per-layer file left beside the CSV {@code out} by earlier results to its next backup
   * name, for results without per-layer stats written there: {@code convert}
   * (ReportFiles.withSidecarLayers) would read it as theirs, since it holds no executions and one
   * with as many rows passes its check. Returns the line that says so (without the command's
   * name; {@code flag} follows "per-layer stats", e.g. {@code " (-l)"}), or null when none lay there.
   */
  public static String moveStaleLayers(Path out, String flag) throws IOException {
    Path stale = layersSidecar(out);
    Path kept = calculon.util.Backups.keep(stale, true);
    return kept == null ? null : "moved " + stale + " to " + kept + ": the results written to " + out
        + " have no per-layer stats" + flag + ", and that file beside it would be read as theirs";
  }

  static void writeJson(Path out, Object doc) throws IOException {
    boolean gz = out.getFileName().toString().endsWith(".gz");
    try (AtomicFile f = new AtomicFile(out)) {
      Writer w = writer(f);
      PyJson.write(w, doc, gz ? PyJson.NO_INDENT : PyJson.FILE_INDENT);
      w.flush();
      f.commit();
    }
  }

  static Writer writer(AtomicFile f) {
    return new OutputStreamWriter(f.stream(), StandardCharsets.UTF_8);
  }
}
