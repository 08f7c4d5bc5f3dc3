package calculon.report;

import calculon.config.JsonFiles;
import calculon.util.AtomicFile;

import calculon.config.ConfigError;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.sweep.SweepFormat;
import calculon.util.Csv;
import calculon.util.PyFormat;
import calculon.util.PyJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Result files: a stats file ({@code llm ... out.json}), search results or a sweep's output, as
 * JSON, JSON.gz, CSV or CSV.gz (a sweep output also as JSON Lines, as {@code sweep} writes it),
 * read and written keeping their key (column) order.
 *
 * <ul>
 *   <li>Stats JSON: {@code {<122 stats keys>, "layers": [...]}} (layers optional). Stats CSV: a
 *       header of the stats keys and one row; per-layer data has no CSV form and stays in JSON.
 *   <li>Search JSON: {@code {"0": {"execution": {...}, "stats": {...}}, "1": ...}} best first (a
 *       golden file's {@code top_n} is read too). Search CSV: header {@code ,<execution keys>,<stats
 *       keys>}, each row {@code <index>,<values>} in Python {@code str()} form (True/False, repr floats);
 *       the original all-executions CSV (no index column) is read too. Per-layer stats (a search's
 *       {@code -l}) go beside a search CSV as {@code NAME.layers.json[.gz]} ({@link #write},
 *       {@link #withSidecarLayers}).
 *   <li>Sweep output ({@link SweepContent}): CSV and JSON Lines as {@code sweep} writes them
 *       (header {@code point,model,system,<grid fields>,rank,status,<execution>,<stats, metrics>},
 *       docs/sweeps.md); JSON {@code {"0": {"sweep": {point, model, system, <grid fields>, rank,
 *       status}, "execution": {...}, "stats": {...}}, "1": ...}}, one entry per record, every column
 *       kept (an empty cell as null), so CSV -> JSON -> CSV gives the file back byte for byte.
 * </ul>
 */
public final class ReportFiles {
  private ReportFiles() {}

  /** What a result file holds. */
  public sealed interface Content permits StatsContent, SearchContent, SweepContent {}

  /** A stats file; {@code layers} is null when it has none. */
  public record StatsContent(Map<String, Object> stats, List<Map<String, Object>> layers) implements Content {}

  /** Search results, in file order (best first for the search commands' files). */
  public record SearchContent(List<SearchRow> rows) implements Content {}

  /** A sweep output JSON entry's group of the sweep's own columns (point ... status). */
  public static final String SWEEP_GROUP = "sweep";
  /** A sweep output JSON entry's group of the execution columns, as search results name theirs. */
  public static final String EXECUTION_GROUP = "execution";
  /** A sweep output JSON entry's group of the stats and metrics columns, as search results name theirs. */
  public static final String STATS_GROUP = "stats";

  /**
   * A sweep's output ({@code sweep} writes it as .csv or .jsonl, docs/sweeps.md "Output"): its
   * records in file order, each its cells in column order (String, Integer or Long, Double,
   * Boolean, or null for an empty cell), its columns in three groups: the sweep's own
   * ({@code point}, {@code model}, {@code system}, the grid fields, {@code rank}, {@code status}),
   * the execution's (up to the first stats key), then the stats and the sweep's metrics.
   */
  public record SweepContent(List<String> sweep, List<String> execution, List<String> stats,
                             List<List<Object>> rows) implements Content {
    /** Every column, in file order: the three groups one after the other. */
    public List<String> columns() {
      List<String> c = new ArrayList<>(sweep);
      c.addAll(execution);
      c.addAll(stats);
      return c;
    }

    /** How many points the records are of (distinct {@code point} cells; a point has one record per rank). */
    public long points() {
      return rows.stream().map(r -> r.get(0)).map(String::valueOf).distinct().count();
    }
  }

  private static final Set<String> STAT_KEYS = new HashSet<>();

  static {
    for (StatField f : StatField.all()) {
      STAT_KEYS.add(f.key);
    }
  }

  /** Rejects a report name that is not {@code .html}/{@code .htm}. */
  public static void checkHtmlName(Path report) throws ConfigError {
    if (!isHtmlName(report)) {
      throw new ConfigError(report.toString(), "", "a report must be an .html file");
    }
  }

  /** Whether {@code file} is named as a report: {@code .html} or {@code .htm}. */
  public static boolean isHtmlName(Path file) {
    String n = file.getFileName().toString();
    return n.endsWith(".html") || n.endsWith(".htm");
  }

  /**
   * Whether {@code file} is named as something {@code report} reads: a stats file, search
   * results or a sweep output ({@link #read}'s names, numbered backups too).
   */
  public static boolean isResultName(Path file) {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    return PyJson.isJsonExtension(n) || isCsv(n) || n.endsWith(".jsonl");
  }

  /** Whether {@code name} (or the name a numbered backup was kept from) is a CSV, optionally gzipped. */
  public static boolean isCsv(String name) {
    String n = calculon.util.Backups.unnumbered(name);
    return n.endsWith(".csv") || n.endsWith(".csv.gz");
  }

  /**
   * The format a result file's name picks, as a user reads it: "JSON", "gzipped JSON", "CSV",
   * "gzipped CSV" (names {@link #checkResultName} accepts) or "JSON Lines" (a sweep output's).
   */
  public static String formatName(Path file) {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    if (isJsonLines(n)) {
      return "JSON Lines";
    }
    return (n.endsWith(".gz") ? "gzipped " : "") + (isCsv(n) ? "CSV" : "JSON");
  }

  /**
   * What a result file holds, as a user reads it: "stats" ("stats with 8 layers" when it has
   * per-layer stats), "search results, 5 executions" (one execution: "1 execution"), or "sweep
   * output, 12 records of 6 points".
   */
  public static String describe(Content content) {
    if (content instanceof StatsContent s) {
      return s.layers() == null ? "stats" : "stats with " + s.layers().size() + " layers";
    }
    if (content instanceof SweepContent w) {
      int r = w.rows().size();
      long p = w.points();
      return "sweep output, " + r + (r == 1 ? " record" : " records") + " of " + p + (p == 1 ? " point" : " points");
    }
    int n = ((SearchContent) content).rows().size();
    return "search results, " + n + (n == 1 ? " execution" : " executions");
  }

  /** Rejects a name to write that is neither JSON nor CSV (optionally gzipped). */
  public static void checkResultName(Path file) throws ConfigError {
    if (!isResultName(file.getFileName().toString())) {
      throw new ConfigError(file.toString(), "", "use a .json, .json.gz, .csv or .csv.gz file");
    }
  }

  /** Whether {@code name} is JSON or CSV, optionally gzipped: the names {@link #checkResultName} accepts. */
  public static boolean isResultName(String name) {
    return PyJson.isJsonExtension(name) || name.endsWith(".csv") || name.endsWith(".csv.gz");
  }

  /** Whether {@code name} is a JSON Lines file ({@code .jsonl}): a sweep output, as {@code sweep} writes it. */
  public static boolean isJsonLines(String name) {
    return calculon.util.Backups.unnumbered(name).endsWith(".jsonl");
  }

  /**
   * Reads a result file, telling stats, search results and a sweep output apart by content. Its
   * name must be JSON or CSV (optionally gzipped) or JSON Lines (a sweep output), or a numbered
   * backup of such a name ({@code out.json.~1~}, as the commands keep an earlier output), read by
   * the name it was kept from.
   */
  public static Content read(Path file) throws ConfigError {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    if (isJsonLines(n)) {
      return readJsonLines(file);
    }
    if (!PyJson.isJsonExtension(n) && !isCsv(n)) {
      throw new ConfigError(file.toString(), "", "use a .json, .json.gz, .csv, .csv.gz or .jsonl file, "
          + "or a numbered backup of one (NAME.~N~)");
    }
    return isCsv(file.getFileName().toString()) ? readCsv(file) : readJson(file);
  }

  private static Content readJson(Path file) throws ConfigError {
    String name = file.toString();
    JsonNode root = JsonFiles.read(file);
    if (!root.isObject()) {
      throw new ConfigError(name, "", "must be a JSON object (stats, search results or a sweep output)");
    }
    if (root.has("top_n") && root.get("top_n").isObject()) {
      root = root.get("top_n");
    }
    if (root.has(StatField.SAMPLE_RATE.key)) {
      Map<String, Object> stats = new LinkedHashMap<>();
      List<Map<String, Object>> layers = null;
      for (Map.Entry<String, JsonNode> e : root.properties()) {
        if (e.getKey().equals(calculon.stats.StatsJson.LAYERS_KEY)) {
          layers = new ArrayList<>();
          for (JsonNode l : e.getValue()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) toJava(l);
            layers.add(m);
          }
        } else {
          stats.put(e.getKey(), toJava(e.getValue()));
        }
      }
      return new StatsContent(stats, layers);
    }
    // a model, execution or system file given in the results' place: named as such, as llm does
    calculon.config.FileKind.checkNoInputFile(root, name, "a stats file, search results or a sweep output");
    if (root.path("0").has(SWEEP_GROUP)) {
      return readSweepJson(root, name);
    }
    List<SearchRow> rows = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      JsonNode r = e.getValue();
      if (!r.isObject()) {
        // a flat file (a model, execution or system file): no entry to name
        throw new ConfigError(name, null, "is neither a stats file (it has no " + StatField.SAMPLE_RATE.key
            + "), search results (entries with \"execution\" and \"stats\" objects) nor a sweep output "
            + "(entries with \"sweep\", \"execution\" and \"stats\" objects)");
      }
      if (!r.path("execution").isObject() || !r.path("stats").isObject()) {
        throw new ConfigError(name, e.getKey(), "is neither a stats file nor search results "
            + "(each entry needs \"execution\" and \"stats\" objects; a sweep output's also \"sweep\")");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> exe = (Map<String, Object>) toJava(r.get("execution"));
      @SuppressWarnings("unchecked")
      Map<String, Object> stats = (Map<String, Object>) toJava(r.get("stats"));
      rows.add(new SearchRow(exe, stats));
    }
    return new SearchContent(rows);
  }

  /**
   * A JSON value as plain Java, numbers keeping their form (the original Calculon wrote some stats
   * as ints): Integer or Long when integral, else Double.
   */
  private static Object toJava(JsonNode n) {
    switch (n.getNodeType()) {
      case OBJECT: {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
          m.put(e.getKey(), toJava(e.getValue()));
        }
        return m;
      }
      case ARRAY: {
        List<Object> l = new ArrayList<>();
        for (JsonNode c : n) {
          l.add(toJava(c));
        }
        return l;
      }
      case NUMBER:
        if (!n.isIntegralNumber()) {
          return n.doubleValue();
        }
        return n.canConvertToInt() ? (Object) n.intValue() : (Object) n.longValue();
      case BOOLEAN:
        return n.booleanValue();
      case STRING:
        return n.textValue();
      default:
        return null;
    }
  }

  private static BufferedReader open(Path file) throws IOException {
    InputStream in = Files.newInputStream(file);
    if (calculon.util.Backups.unnumbered(file.getFileName().toString()).endsWith(".gz")) {
      in = new GZIPInputStream(in);
    }
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  private static Content readCsv(Path file) throws ConfigError {
    List<SearchRow> rows = new ArrayList<>();
    try (BufferedReader r = open(file)) {
      Csv.RecordReader records = new Csv.RecordReader(r);
      List<String> header = records.next();
      if (header == null) {
        throw new ConfigError(file.toString(), "", "is empty (no CSV header)");
      }
      if (isSweepHeader(header)) {
        return readSweepCsv(file, header, records);
      }
      boolean indexed = header.get(0).isEmpty();
      boolean search = indexed || header.contains("tensor_par");
      if (!search) {
        List<String> values = records.next();
        if (values == null || values.size() != header.size()) {
          throw new ConfigError(file.toString(), "line 2", "a stats CSV needs one row of " + header.size() + " values");
        }
        Map<String, Object> stats = new LinkedHashMap<>();
        for (int i = 0; i < header.size(); i++) {
          stats.put(header.get(i), parseStat(values.get(i), file, header.get(i)));
        }
        return new StatsContent(stats, null);
      }
      int first = indexed ? 1 : 0;
      // execution keys come first, then the stats keys (whose set differs between Calculon and the fork)
      int firstStat = first;
      while (firstStat < header.size() && !STAT_KEYS.contains(header.get(firstStat))) {
        firstStat++;
      }
      List<String> values;
      while (true) {
        long line = records.line();
        values = records.next();
        if (values == null) {
          break;
        }
        if (values.size() == 1 && values.get(0).isEmpty()) {
          continue; // a blank line
        }
        if (values.size() != header.size()) {
          throw new ConfigError(file.toString(), "line " + line, "has " + values.size() + " cells, the header " + header.size());
        }
        Map<String, Object> exe = new LinkedHashMap<>();
        Map<String, Object> stats = new LinkedHashMap<>();
        for (int i = first; i < header.size(); i++) {
          String key = header.get(i);
          if (i >= firstStat) {
            stats.put(key, parseStat(values.get(i), file, key));
          } else if (!values.get(i).isEmpty()) {
            // an empty cell: the entry does not give this key (searchCsv)
            exe.put(key, parseExecutionValue(values.get(i)));
          }
        }
        rows.add(new SearchRow(exe, stats));
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // the same words as a JSON input's (JsonFiles.read), not the exception's bare path
      throw new ConfigError(file.toString(), null, "file not found");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new ConfigError(file.toString(), null, "cannot be read: permission denied");
    } catch (java.util.zip.ZipException e) {
      throw new ConfigError(file.toString(), null, "is not a valid gzip file (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new ConfigError(file.toString(), "", "cannot read: " + e.getMessage());
    }
    return new SearchContent(rows);
  }

  // ---------------------------------------------------------------------------------------------
  // Per-layer stats beside a search's CSV

  /**
   * Search results read from a CSV with the per-layer stats of the file beside it ({@code
   * NAME.layers.json[.gz]}, {@link calculon.search.output.ResultWriter#layersSidecar}, as a search
   * with {@code -l} writes it, or {@link #write} from results with layers): each row's list goes
   * into its stats as {@code "layers"}, after the stats keys, where the search's JSON has it, so the
   * results are what that search's JSON holds. A row the file gives {@code null} (written for a row
   * without layers) gets none.
   *
   * <p>The file matches the CSV when it is a JSON object whose keys are exactly the CSV's row
   * indices in order, {@code "0"} to {@code "N-1"} for N rows, each a list of layers (objects with
   * a {@code "name"}) or null. It holds no executions, so one written for other results with as
   * many rows cannot be told apart; the caller says which file it read.
   *
   * @param csv the CSV the rows were read from (named in errors)
   * @throws ConfigError naming the layers file and what does not match, e.g. {@code r.layers.json:
   *     holds the per-layer stats of 5 executions, r.csv has 3 rows: it is not r.csv's (...)}
   */
  public static SearchContent withSidecarLayers(SearchContent rows, Path sidecar, Path csv) throws ConfigError {
    String name = sidecar.toString();
    JsonNode root = JsonFiles.read(sidecar);
    int n = rows.rows().size();
    String notOurs = ": it is not " + csv + "'s (per-layer stats of other results, or a file changed by hand); "
        + "move it away to convert without them";
    if (!root.isObject()) {
      throw new ConfigError(name, "", "must be a JSON object of per-layer stats keyed by " + csv + "'s row indices"
          + notOurs);
    }
    if (root.size() != n) {
      throw new ConfigError(name, "", "holds the per-layer stats of " + root.size()
          + (root.size() == 1 ? " execution, " : " executions, ") + csv + " has " + n + (n == 1 ? " row" : " rows")
          + notOurs);
    }
    List<SearchRow> out = new ArrayList<>(n);
    int i = 0;
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (!e.getKey().equals(String.valueOf(i))) {
        throw new ConfigError(name, e.getKey(), "is not row " + i + " of " + csv + " (the keys are the rows' "
            + "indices, \"0\" to \"" + (n - 1) + "\", in order)" + notOurs);
      }
      JsonNode layers = e.getValue();
      SearchRow row = rows.rows().get(i);
      if (layers.isNull()) {
        out.add(row);
      } else {
        boolean isLayerList = layers.isArray();
        for (JsonNode l : layers) {
          isLayerList &= l.isObject() && l.path(LayerField.NAME.key).isTextual();
        }
        if (!isLayerList) {
          throw new ConfigError(name, e.getKey(), "must be a list of layers (objects with a \"name\"), or null"
              + notOurs);
        }
        Map<String, Object> stats = new LinkedHashMap<>(row.stats());
        stats.put(LAYERS, toJava(layers));
        out.add(new SearchRow(row.execution(), stats));
      }
      i++;
    }
    return new SearchContent(out);
  }

  /**
   * Where {@link #write} puts the per-layer stats of {@code content} written to {@code out}: beside
   * a search's CSV when a row has layers ({@link calculon.search.output.ResultWriter#layersSidecar}),
   * else null (JSON keeps them in the entries; a stats file's have no CSV form).
   */
  public static Path layersFile(Content content, Path out) {
    if (content instanceof SearchContent c && isCsv(out.getFileName().toString())
        && c.rows().stream().anyMatch(r -> r.stats().containsKey(LAYERS))) {
      return calculon.search.output.ResultWriter.layersSidecar(out);
    }
    return null;
  }

  /** How many rows of search results have per-layer stats. */
  public static long rowsWithLayers(SearchContent content) {
    return content.rows().stream().filter(r -> r.stats().containsKey(LAYERS)).count();
  }

  /**
   * The per-layer stats file of search results as a search writes it beside its CSV: {@code {"0":
   * [layers], "1": [...], ...}}, one key per row in order; a row without layers (results converted
   * from a JSON where only some entries have them) gets null, so the keys stay the rows' indices.
   */
  private static Map<String, Object> sidecarJson(SearchContent content) {
    Map<String, Object> m = new LinkedHashMap<>();
    List<SearchRow> rows = content.rows();
    for (int i = 0; i < rows.size(); i++) {
      m.put(String.valueOf(i), rows.get(i).stats().get(LAYERS));
    }
    return m;
  }

  // ---------------------------------------------------------------------------------------------
  // Sweep outputs

  /**
   * Whether a header (or a JSON Lines record's keys) is a sweep output's: {@code point},
   * {@code model}, {@code system}, then the grid fields, {@code rank} and {@code status}
   * (docs/sweeps.md; a grid key named as a record column is written {@code grid.<key>}, so the
   * first {@code rank} is the record's).
   */
  static boolean isSweepHeader(List<String> columns) {
    return columns.size() >= 5 && columns.subList(0, 3).equals(List.of("point", "model", "system"))
        && columns.indexOf("status") == columns.indexOf("rank") + 1 && columns.indexOf("rank") >= 3;
  }

  /** A sweep output's columns split into its three groups, with its records. */
  private static SweepContent sweepContent(List<String> columns, List<List<Object>> rows) {
    int firstExecution = columns.indexOf("status") + 1;
    int firstStat = firstExecution;
    while (firstStat < columns.size() && !STAT_KEYS.contains(columns.get(firstStat))) {
      firstStat++;
    }
    return new SweepContent(List.copyOf(columns.subList(0, firstExecution)),
        List.copyOf(columns.subList(firstExecution, firstStat)), List.copyOf(columns.subList(firstStat, columns.size())),
        rows);
  }

  /**
   * A sweep CSV cell read back as the value {@code sweep} wrote (SweepFormat): empty -> null,
   * {@code True}/{@code False}, an integer (Long), a float (Double: written as Python's repr, so
   * written back the same), else the text.
   */
  static Object sweepCell(String text) {
    if (text.isEmpty()) {
      return null;
    }
    if (text.equals("True") || text.equals("False")) {
      return text.equals("True");
    }
    try {
      if (text.matches("-?\\d+")) {
        return Long.parseLong(text);
      }
      if (text.matches("-?(\\d+\\.\\d*|\\d*\\.\\d+)([eE][-+]?\\d+)?|-?\\d+[eE][-+]?\\d+")) {
        double d = Double.parseDouble(text);
        // only where writing it back gives the same text (PyFormat.repr), as sweep writes floats
        return PyFormat.repr(d).equals(text) ? d : text;
      }
    } catch (NumberFormatException e) {
      return text;  // an integer beyond a long: kept as written
    }
    return text;
  }

  private static SweepContent readSweepCsv(Path file, List<String> header, Csv.RecordReader records)
      throws IOException, ConfigError {
    List<List<Object>> rows = new ArrayList<>();
    while (true) {
      long line = records.line();
      List<String> values = records.next();
      if (values == null) {
        break;
      }
      if (values.size() == 1 && values.get(0).isEmpty()) {
        continue; // a blank line
      }
      if (values.size() != header.size()) {
        throw new ConfigError(file.toString(), "line " + line, "has " + values.size() + " cells, the header "
            + header.size() + " (a sweep's record cut short, or a file changed by hand)");
      }
      List<Object> cells = new ArrayList<>(values.size());
      values.forEach(v -> cells.add(sweepCell(v)));
      rows.add(cells);
    }
    return sweepContent(header, rows);
  }

  /** A sweep output's cell from JSON: a scalar (numbers keeping their form), or a ConfigError naming it. */
  private static Object sweepCell(JsonNode v, String file, String where) throws ConfigError {
    if (v.isContainerNode()) {
      throw new ConfigError(file, where, "must be a number, a string, true, false or null (one cell of a sweep output)");
    }
    return toJava(v);
  }

  /** A sweep output as {@code sweep} writes JSON Lines: one object per line, keys in column order. */
  private static SweepContent readJsonLines(Path file) throws ConfigError {
    List<String> columns = null;
    List<List<Object>> rows = new ArrayList<>();
    try (BufferedReader r = open(file)) {
      long lineNo = 0;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          n = null;
        }
        if (n == null || !n.isObject()) {
          throw new ConfigError(file.toString(), "line " + lineNo, "is not a JSON object (a sweep's record cut "
              + "short, or a file changed by hand)");
        }
        List<String> keys = new ArrayList<>();
        n.fieldNames().forEachRemaining(keys::add);
        if (columns == null) {
          if (!isSweepHeader(keys)) {
            throw new ConfigError(file.toString(), "", "is not a sweep output (its records' keys start point, "
                + "model, system and hold rank, status)");
          }
          columns = keys;
        } else if (!keys.equals(columns)) {
          throw new ConfigError(file.toString(), "line " + lineNo, "has other keys than line 1");
        }
        List<Object> cells = new ArrayList<>(columns.size());
        for (String c : columns) {
          cells.add(sweepCell(n.get(c), file.toString(), "line " + lineNo + ": " + c));
        }
        rows.add(cells);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigError(file.toString(), null, "file not found");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new ConfigError(file.toString(), null, "cannot be read: permission denied");
    } catch (IOException e) {
      throw new ConfigError(file.toString(), "", "cannot read: " + e.getMessage());
    }
    if (columns == null) {
      throw new ConfigError(file.toString(), "", "is empty (no sweep record)");
    }
    return sweepContent(columns, rows);
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * A sweep output as {@link #toJsonValue} writes it: entries {@code {"sweep": {...}, "execution":
   * {...}, "stats": {...}}}; each group's keys in first-seen order over the entries (a key an entry
   * lacks is an empty cell).
   */
  private static SweepContent readSweepJson(JsonNode root, String name) throws ConfigError {
    List<String> groups = List.of(SWEEP_GROUP, EXECUTION_GROUP, STATS_GROUP);
    List<java.util.LinkedHashSet<String>> keys = new ArrayList<>();
    groups.forEach(g -> keys.add(new java.util.LinkedHashSet<>()));
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      for (int g = 0; g < groups.size(); g++) {
        JsonNode group = e.getValue().path(groups.get(g));
        if (!group.isObject()) {
          throw new ConfigError(name, e.getKey(), "is not a sweep output's entry (it needs \"sweep\", "
              + "\"execution\" and \"stats\" objects)");
        }
        group.fieldNames().forEachRemaining(keys.get(g)::add);
      }
    }
    List<String> columns = new ArrayList<>();
    keys.forEach(columns::addAll);
    if (!isSweepHeader(new ArrayList<>(keys.get(0)))) {
      throw new ConfigError(name, "0." + SWEEP_GROUP, "is not a sweep output's (its keys start point, model, "
          + "system and end rank, status)");
    }
    List<List<Object>> rows = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      List<Object> cells = new ArrayList<>(columns.size());
      for (int g = 0; g < groups.size(); g++) {
        JsonNode group = e.getValue().get(groups.get(g));
        for (String k : keys.get(g)) {
          JsonNode v = group.get(k);
          cells.add(v == null ? null : sweepCell(v, name, e.getKey() + "." + groups.get(g) + "." + k));
        }
      }
      rows.add(cells);
    }
    return new SweepContent(List.copyOf(keys.get(0)), List.copyOf(keys.get(1)), List.copyOf(keys.get(2)), rows);
  }

  /**
   * A sweep output written exactly as {@code sweep} writes it in {@code format}
   * ({@link SweepFormat#header}, {@link SweepFormat#record}): the one writer of the format, so a
   * converted file round-trips byte for byte.
   */
  private static void sweepText(StringBuilder b, SweepContent w, SweepFormat format) {
    String header = format.header(w.columns());
    if (header != null) {
      b.append(header);
    }
    for (List<Object> row : w.rows()) {
      b.append(format.record(w.columns(), row));
    }
  }

  /** A sweep output as JSON: one entry per record, its cells in the three groups. */
  private static Map<String, Object> sweepJson(SweepContent w) {
    Map<String, Object> m = new LinkedHashMap<>();
    int n0 = w.sweep().size();
    int n1 = n0 + w.execution().size();
    List<String> columns = w.columns();
    for (int r = 0; r < w.rows().size(); r++) {
      List<Object> row = w.rows().get(r);
      Map<String, Object> sweep = new LinkedHashMap<>();
      Map<String, Object> exe = new LinkedHashMap<>();
      Map<String, Object> stats = new LinkedHashMap<>();
      for (int i = 0; i < columns.size(); i++) {
        (i < n0 ? sweep : i < n1 ? exe : stats).put(columns.get(i), row.get(i));
      }
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put(SWEEP_GROUP, sweep);
      entry.put(EXECUTION_GROUP, exe);
      entry.put(STATS_GROUP, stats);
      m.put(String.valueOf(r), entry);
    }
    return m;
  }

  private static Object parseStat(String text, Path file, String key) throws ConfigError {
    if (key.equals(calculon.stats.StatsJson.CALCULON_VERSION_KEY) || key.equals(calculon.stats.StatsJson.MODEL_VERSION_KEY)) {
      return text;  // a stats file's provenance
    }
    if (text.matches("-?\\d+")) {
      return parseExecutionValue(text);
    }
    switch (text) {
      case "None": case "": return null;
      case "inf": return Double.POSITIVE_INFINITY;
      case "-inf": return Double.NEGATIVE_INFINITY;
      case "nan": return Double.NaN;
      default:
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw new ConfigError(file.toString(), key, "'" + text + "' is not a number");
        }
    }
  }

  /** A Python list of strings as its {@code str} writes it: {@code ['core_attn', 'mlp']}. */
  private static final java.util.regex.Pattern PY_STRING_LIST =
      java.util.regex.Pattern.compile("\\[\\s*('[^',]*'(\\s*,\\s*'[^',]*')*)?\\s*\\]");

  /**
   * Python str() of an execution value read back: True/False, int, float, a list of strings (a
   * search template's {@code recompute_modules}, {@code ['core_attn', 'mlp']}) as the list, else
   * the text.
   */
  static Object parseExecutionValue(String text) {
    if (PY_STRING_LIST.matcher(text).matches()) {
      List<String> items = new ArrayList<>();
      for (String item : text.substring(1, text.length() - 1).split(",")) {
        String t = item.strip();
        if (!t.isEmpty()) {
          items.add(t.substring(1, t.length() - 1));
        }
      }
      return items;
    }
    if (text.equals("True")) {
      return Boolean.TRUE;
    }
    if (text.equals("False")) {
      return Boolean.FALSE;
    }
    if (text.matches("-?\\d+")) {
      long v = Long.parseLong(text);
      return v == (int) v ? (Object) (int) v : (Object) v;
    }
    if (text.matches("-?(\\d+\\.\\d*|\\d*\\.\\d+)([eE][-+]?\\d+)?|-?\\d+[eE][-+]?\\d+")) {
      return Double.parseDouble(text);
    }
    return text;
  }

  /** Python str() of a value (a list as Python writes a list of strings, {@link calculon.search.output.ResultFormat#pyStr}). */
  static String pyStr(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof List<?>) {
      return calculon.search.output.ResultFormat.pyStr(v);
    }
    if (v instanceof Boolean) {
      return (Boolean) v ? "True" : "False";
    }
    if (v instanceof Double || v instanceof Float) {
      return PyFormat.repr(((Number) v).doubleValue());
    }
    return String.valueOf(v);
  }

  /**
   * Writes {@code content} in the format the name asks for; returns a note for the user when
   * something could not be written (a stats file's per-layer stats into CSV) or a file was moved,
   * else null. Search results with per-layer stats written as CSV get them beside it, as a search
   * with {@code -l} writes them ({@link #layersFile}: {@code r.csv} -> {@code r.layers.json}, an
   * earlier file there kept as its numbered backup); search results without them written as CSV
   * move a per-layer file found beside it to its next backup name (the note says so), so that it is
   * not read back as theirs ({@link #withSidecarLayers}).
   */
  public static String write(Content content, Path out) throws ConfigError {
    String name = out.getFileName().toString();
    if (isJsonLines(name)) {
      if (!(content instanceof SweepContent)) {
        throw new ConfigError(out.toString(), "", "a .jsonl file holds a sweep output, not "
            + (content instanceof StatsContent ? "a stats file" : "search results") + ": use a .json, .json.gz, .csv or .csv.gz file");
      }
    } else {
      checkResultName(out);
    }
    String note = null;
    try {
      if (content instanceof SweepContent w && !PyJson.isJsonExtension(name)) {
        StringBuilder b = new StringBuilder(1 << 16);
        sweepText(b, w, isJsonLines(name) ? SweepFormat.JSONL : SweepFormat.CSV);
        writeText(out, b);
      } else if (PyJson.isJsonExtension(name)) {
        PyJson.writeFile(out, toJsonValue(content));
      } else {
        StringBuilder b = new StringBuilder(1 << 16);
        if (content instanceof StatsContent s) {
          Csv.appendRecord(b, new ArrayList<>(s.stats().keySet()));
          b.append("\r\n");
          List<String> cells = new ArrayList<>();
          s.stats().values().forEach(v -> cells.add(pyStr(v)));
          Csv.appendRecord(b, cells);
          b.append("\r\n");
          if (s.layers() != null) {
            note = "per-layer stats stay in JSON: the " + s.layers().size()
                + " layers were not written to " + out + " (convert to .json to keep them)";
          }
        } else {
          SearchContent search = (SearchContent) content;
          searchCsv(b, search.rows());
          writeText(out, b);
          // a search run with -l puts "layers" into each entry's stats: no CSV cell holds them, so
          // they go beside the CSV as the search's own CSV has them (ResultWriter.layersSidecar)
          Path side = calculon.search.output.ResultWriter.layersSidecar(out);
          if (layersFile(content, out) != null) {
            PyJson.writeFile(side, sidecarJson(search));
          } else {
            // a per-layer file left beside OUTPUT by earlier results would be read as these
            // results' (they have none): kept under its backup name, as a replaced file is
            note = calculon.search.output.ResultWriter.moveStaleLayers(out, "");
          }
          return note;
        }
        writeText(out, b);
      }
    } catch (IOException e) {
      throw new ConfigError(out.toString(), "", "cannot write: " + calculon.util.AtomicFile.reason(e));
    }
    return note;
  }

  private static void searchCsv(StringBuilder b, List<SearchRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    // every execution key any entry gives, in first-seen order: a search's entries need not all
    // say the same optional keys (recompute_modules applies to executions without full recompute,
    // recompute_method to those with it), and an entry without a key gets an empty cell
    java.util.Set<String> executionKeys = new java.util.LinkedHashSet<>();
    rows.forEach(r -> executionKeys.addAll(r.execution().keySet()));
    List<String> header = new ArrayList<>();
    header.add("");
    header.addAll(executionKeys);
    rows.get(0).stats().keySet().stream().filter(k -> !k.equals(LAYERS)).forEach(header::add);
    Csv.appendRecord(b, header);
    b.append(SEARCH_CSV_LINE_END);
    for (int i = 0; i < rows.size(); i++) {
      SearchRow r = rows.get(i);
      List<String> cells = new ArrayList<>(header.size());
      cells.add(String.valueOf(i));
      executionKeys.forEach(k -> cells.add(r.execution().containsKey(k) ? pyStr(r.execution().get(k)) : ""));
      r.stats().forEach((k, v) -> {
        if (!k.equals(LAYERS)) {
          cells.add(pyStr(v));
        }
      });
      Csv.appendRecord(b, cells);
      b.append(SEARCH_CSV_LINE_END);
    }
  }

  /**
   * The line end of search results' CSV: LF, as a search writes its CSV (ResultFormat.csvHeader,
   * after pandas' {@code to_csv}, which the reference's search calls), so that a search's JSON
   * converted to CSV is that search's CSV byte for byte (a stats CSV, which only {@code convert}
   * writes, keeps RFC 4180's CRLF).
   */
  static final String SEARCH_CSV_LINE_END = "\n";

  /** The stats key of per-layer stats (a stats file's, or a search entry's with {@code -l}). */
  private static final String LAYERS = calculon.stats.StatsJson.LAYERS_KEY;

  private static Object toJsonValue(Content content) {
    if (content instanceof SweepContent w) {
      return sweepJson(w);
    }
    if (content instanceof StatsContent s) {
      Map<String, Object> m = new LinkedHashMap<>(s.stats());
      if (s.layers() != null) {
        m.put(calculon.stats.StatsJson.LAYERS_KEY, s.layers());
      }
      return m;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    List<SearchRow> rows = ((SearchContent) content).rows();
    for (int i = 0; i < rows.size(); i++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("execution", rows.get(i).execution());
      r.put("stats", rows.get(i).stats());
      m.put(String.valueOf(i), r);
    }
    return m;
  }

  private static void writeText(Path out, CharSequence text) throws IOException {
    AtomicFile.writeText(out, text);
  }

  /** The model version a stats file records ({@code model_version}), or null when it records none. */
  public static calculon.model.ModelVersion modelVersion(StatsContent c) {
    Object v = c.stats().get(calculon.stats.StatsJson.MODEL_VERSION_KEY);
    return v instanceof String s ? calculon.model.ModelVersion.fromCli(s) : null;
  }

  /**
   * The stats of a stats file as a {@link Stats} (without inputs), for the run report: the
   * reference's fields, which must all be there, and the corrected model's extension fields
   * ({@link StatField#extensions()}: the expert all-to-all by tier, overlapped EP/PP time, CP
   * exchange), 0 when absent as the stats file leaves out those that are 0.
   *
   * @throws ConfigError naming the first missing or non-numeric stats key
   */
  public static Stats toStats(StatsContent c, String file) throws ConfigError {
    Stats s = new Stats(null, null, null);
    for (StatField f : StatField.all()) {
      if (!c.stats().containsKey(f.key)) {
        throw new ConfigError(file, f.key, "is missing: not a calculon stats file");
      }
      Object v = c.stats().get(f.key);
      if (v == null) {
        s.setNull(f);
      } else if (v instanceof Number) {
        s.set(f, ((Number) v).doubleValue());
      } else {
        throw new ConfigError(file, f.key, "must be a number");
      }
    }
    // the corrected model's fields beyond the reference's (StatsJson writes those not zero): an
    // absent one is 0, as in the run that wrote the file, so the report shows what the run's did
    for (StatField f : StatField.extensions()) {
      Object v = c.stats().get(f.key);
      if (v == null) {
        continue;
      }
      if (!(v instanceof Number)) {
        throw new ConfigError(file, f.key, "must be a number");
      }
      s.set(f, ((Number) v).doubleValue());
    }
    if (c.layers() != null) {
      List<Stats.LayerStats> layers = new ArrayList<>();
      int i = 0;
      for (Map<String, Object> m : c.layers()) {
        double[] values = new double[LayerField.all().length];
        for (LayerField f : LayerField.all()) {
          if (f == LayerField.NAME) {
            continue;
          }
          Object v = m.get(f.key);
          values[f.ordinal()] = v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
        }
        layers.add(new Stats.LayerStats(String.valueOf(m.getOrDefault("name", "layer " + i)), values));
        i++;
      }
      s.setLayers(layers);
    }
    return s;
  }
}
