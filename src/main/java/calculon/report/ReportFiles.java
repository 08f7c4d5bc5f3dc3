package calculon.report;

import calculon.config.JsonFiles;
import calculon.util.AtomicFile;

import calculon.config.ConfigError;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
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
 * Result files: a stats file ({@code llm ... out.json}) or search results, as JSON, JSON.gz, CSV
 * or CSV.gz, read and written keeping their key (column) order.
 *
 * <ul>
 *   <li>Stats JSON: {@code {<122 stats keys>, "layers": [...]}} (layers optional). Stats CSV: a
 *       header of the stats keys and one row; per-layer data has no CSV form and stays in JSON.
 *   <li>Search JSON: {@code {"0": {"execution": {...}, "stats": {...}}, "1": ...}} best first (a
 *       golden file's {@code top_n} is read too). Search CSV: header {@code ,<execution keys>,<stats
 *       keys>}, each row {@code <index>,<values>} in Python {@code str()} form (True/False, repr floats);
 *       the original all-executions CSV (no index column) is read too.
 * </ul>
 */
public final class ReportFiles {
  private ReportFiles() {}

  /** What a result file holds. */
  public sealed interface Content permits StatsContent, SearchContent {}

  /** A stats file; {@code layers} is null when it has none. */
  public record StatsContent(Map<String, Object> stats, List<Map<String, Object>> layers) implements Content {}

  /** Search results, in file order (best first for the search commands' files). */
  public record SearchContent(List<SearchRow> rows) implements Content {}

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
   * Whether {@code file} is named as something {@code report} reads: a stats file or search
   * results ({@link #read}'s names, numbered backups too) or a sweep output ({@code .jsonl}).
   */
  public static boolean isResultName(Path file) {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    return PyJson.isJsonExtension(n) || isCsv(n) || n.endsWith(".jsonl");
  }

  static boolean isCsv(String name) {
    String n = calculon.util.Backups.unnumbered(name);
    return n.endsWith(".csv") || n.endsWith(".csv.gz");
  }

  /**
   * The format a result file's name picks, as a user reads it: "JSON", "gzipped JSON", "CSV" or
   * "gzipped CSV" (names {@link #checkResultName} accepts).
   */
  public static String formatName(Path file) {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    return (n.endsWith(".gz") ? "gzipped " : "") + (isCsv(n) ? "CSV" : "JSON");
  }

  /**
   * What a result file holds, as a user reads it: "stats" ("stats with 8 layers" when it has
   * per-layer stats), or "search results, 5 executions" (one execution: "1 execution").
   */
  public static String describe(Content content) {
    if (content instanceof StatsContent s) {
      return s.layers() == null ? "stats" : "stats with " + s.layers().size() + " layers";
    }
    int n = ((SearchContent) content).rows().size();
    return "search results, " + n + (n == 1 ? " execution" : " executions");
  }

  /** Rejects a name to write that is neither JSON nor CSV (optionally gzipped). */
  public static void checkResultName(Path file) throws ConfigError {
    String n = file.getFileName().toString();
    if (!PyJson.isJsonExtension(n) && !n.endsWith(".csv") && !n.endsWith(".csv.gz")) {
      throw new ConfigError(file.toString(), "", "use a .json, .json.gz, .csv or .csv.gz file");
    }
  }

  /**
   * Reads a result file, telling stats from search results by content. Its name must be JSON or
   * CSV (optionally gzipped), or a numbered backup of such a name ({@code out.json.~1~}, as the
   * commands keep an earlier output), read by the name it was kept from.
   */
  public static Content read(Path file) throws ConfigError {
    String n = calculon.util.Backups.unnumbered(file.getFileName().toString());
    if (!PyJson.isJsonExtension(n) && !isCsv(n)) {
      throw new ConfigError(file.toString(), "", "use a .json, .json.gz, .csv or .csv.gz file, "
          + "or a numbered backup of one (NAME.~N~)");
    }
    return isCsv(file.getFileName().toString()) ? readCsv(file) : readJson(file);
  }

  private static Content readJson(Path file) throws ConfigError {
    String name = file.toString();
    JsonNode root = JsonFiles.read(file);
    if (!root.isObject()) {
      throw new ConfigError(name, "", "must be a JSON object (stats or search results)");
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
    calculon.config.FileKind.checkNoInputFile(root, name, "a stats file or search results");
    List<SearchRow> rows = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      JsonNode r = e.getValue();
      if (!r.isObject()) {
        // a flat file (a model, execution or system file): no entry to name
        throw new ConfigError(name, null, "is neither a stats file (it has no " + StatField.SAMPLE_RATE.key
            + ") nor search results (entries with \"execution\" and \"stats\" objects)");
      }
      if (!r.path("execution").isObject() || !r.path("stats").isObject()) {
        throw new ConfigError(name, e.getKey(), "is neither a stats file nor search results "
            + "(each entry needs \"execution\" and \"stats\" objects)");
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
   * something could not be written (per-layer stats into CSV), else null.
   */
  public static String write(Content content, Path out) throws ConfigError {
    checkResultName(out);
    String name = out.getFileName().toString();
    String note = null;
    try {
      if (PyJson.isJsonExtension(name)) {
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
          searchCsv(b, ((SearchContent) content).rows());
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
    header.addAll(rows.get(0).stats().keySet());
    Csv.appendRecord(b, header);
    b.append("\r\n");
    for (int i = 0; i < rows.size(); i++) {
      SearchRow r = rows.get(i);
      List<String> cells = new ArrayList<>(header.size());
      cells.add(String.valueOf(i));
      executionKeys.forEach(k -> cells.add(r.execution().containsKey(k) ? pyStr(r.execution().get(k)) : ""));
      r.stats().values().forEach(v -> cells.add(pyStr(v)));
      Csv.appendRecord(b, cells);
      b.append("\r\n");
    }
  }

  private static Object toJsonValue(Content content) {
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
