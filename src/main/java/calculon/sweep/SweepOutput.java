package calculon.sweep;

import calculon.config.ConfigError;
import calculon.util.AtomicFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A sweep's output file, opened for appending point by point, and resumed when it exists.
 *
 * <p>Beside {@code OUTPUT} lies {@code OUTPUT.spec.json}: the SPEC with its input files inlined and
 * their fingerprint ({@link SweepSpec#fingerprint()}). A re-run resumes only when the fingerprint
 * matches (otherwise it refuses, and never touches the file). Records are appended one point at a
 * time in point order, so the file always holds points 0..k-1 complete, then possibly part of
 * point k (a crash mid-write). Resuming keeps every complete line up to the last point that has
 * a record, drops that last point's records and any half-written line, and recomputes from it:
 * the result is byte for byte the file an uninterrupted run writes. A run that evaluates every
 * point records the file's size then ({@code "complete_bytes"}, {@link #markComplete()}); a re-run
 * that finds the file at that size, holding every point, evaluates nothing ({@link #complete()}).
 */
public final class SweepOutput implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Path path;
  private final OutputStream out;
  private final long resumeFrom;
  private final Sweep.PointBest resumedBest;
  private final NotRun resumedNotRun;
  private final Sweep sweep;

  private SweepOutput(Path path, OutputStream out, long resumeFrom, Sweep.PointBest resumedBest,
                      NotRun resumedNotRun, Sweep sweep) {
    this.path = path;
    this.out = out;
    this.resumeFrom = resumeFrom;
    this.resumedBest = resumedBest;
    this.resumedNotRun = resumedNotRun;
    this.sweep = sweep;
  }

  /** Whether every point is already in the file (a re-run of a finished sweep): nothing to evaluate. */
  public boolean complete() { return resumeFrom == sweep.size(); }

  /**
   * The best of the points kept from a previous run (before {@link #resumeFrom()}): the first
   * point with the highest sample rate, named "point i: ..." as {@link SweepRunner} names it; NaN
   * and "" when none (a new file, or no good execution yet).
   */
  public Sweep.PointBest resumedBest() { return resumedBest; }

  /** The points kept from a previous run (before {@link #resumeFrom()}) that gave no result. */
  public NotRun resumedNotRun() { return resumedNotRun; }

  /**
   * The record file beside an output: {@code OUTPUT.spec.json}, named as {@code out} is (relative
   * or absolute), so a message can name it by a path the user can use.
   */
  public static Path specFile(Path out) {
    return out.resolveSibling(out.getFileName() + ".spec.json");
  }

  /** The first point still to evaluate (0 for a new file). */
  public long resumeFrom() { return resumeFrom; }

  public Path path() { return path; }

  /**
   * Opens {@code out} for {@code sweep}: a new file (with its header and spec record), or the
   * file a previous run of the same SPEC left, cut back to its last complete point.
   *
   * @throws ConfigError when OUTPUT exists but is not this SPEC's output (one line; nothing touched)
   */
  public static SweepOutput open(Path out, Sweep sweep) throws ConfigError, IOException {
    // the record named as OUTPUT was given (relative or absolute), so the path in a message is one the user can use
    Path rec = specFile(out);
    String header = sweep.format().header(sweep.columns());
    if (Files.exists(out)) {
      JsonNode record = readRecord(out, rec);
      if (!sweep.spec().fingerprint().equals(record.path("fingerprint").asText(""))) {
        throw new ConfigError(out.toString(), "", "exists and was written by a different SPEC (or its "
            + "inputs changed): " + rec + " records another fingerprint" + difference(record, sweep)
            + "; remove both files or choose another output name");
      }
      Sweep.PointBest[] best = {NONE};
      NotRun[] notRun = {NotRun.NONE};
      // the size a run that wrote the last point recorded (-1: none)
      long completeBytes = record.path("complete_bytes").asLong(-1);
      long[] cut = scan(out, sweep, header, best, notRun, completeBytes == Files.size(out), false);
      try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
        ch.truncate(cut[0]);
      }
      OutputStream os = new FileOutputStream(out.toFile(), true);
      if (cut[0] == 0 && header != null) {
        os.write(header.getBytes(StandardCharsets.UTF_8));
      }
      return new SweepOutput(out, os, cut[1], best[0], notRun[0], sweep);
    }
    AtomicFile.writeText(rec, record(sweep, -1) + "\n");
    OutputStream os = new FileOutputStream(out.toFile(), false);
    if (header != null) {
      os.write(header.getBytes(StandardCharsets.UTF_8));
    }
    return new SweepOutput(out, os, 0, NONE, NotRun.NONE, sweep);
  }

  /**
   * The spec record: fingerprint, format, the spec with its inputs inlined and, once every point
   * is written, the output's size in bytes then ({@code completeBytes} < 0: not complete).
   */
  private static String record(Sweep sweep, long completeBytes) throws IOException {
    ObjectNode n = MAPPER.createObjectNode().put("fingerprint", sweep.spec().fingerprint())
        .put("format", sweep.format().name());
    if (completeBytes >= 0) {
      n.put("complete_bytes", completeBytes);
    }
    return n.set("spec", MAPPER.readTree(sweep.spec().text())).toString();
  }

  /**
   * Records that every point of the sweep is in the file (called after the last point is written
   * and flushed; the record is replaced atomically), so that a re-run evaluates nothing.
   */
  public void markComplete() throws IOException {
    out.flush();
    // the record of this same sweep (written at the start, or by the run this one resumes, whose
    // SPEC fingerprint matched): updated without a backup, as OUTPUT itself is appended to
    AtomicFile.rewriteOwnText(specFile(path), record(sweep, Files.size(path)) + "\n");
  }

  /**
   * Where the recorded SPEC and this one first differ, for the refusal: " (first difference: the
   * SPEC's grid.mem1.GiB[1]: 120 -> 160)" or " (first difference: input ../x.json, at
   * networks[0].bandwidth: ...)"; "" when the record cannot say (written before it kept the spec).
   */
  private static String difference(JsonNode record, Sweep sweep) {
    try {
      JsonNode was = record.path("spec");
      JsonNode now = MAPPER.readTree(sweep.spec().text());
      String d = firstDifference(was.path("spec"), now.path("spec"), "");
      if (d != null) {
        return " (first difference: the SPEC's " + d + ")";
      }
      JsonNode wasInputs = was.path("inputs");
      JsonNode nowInputs = now.path("inputs");
      for (java.util.Iterator<String> it = nowInputs.fieldNames(); it.hasNext(); ) {
        String file = it.next();
        String at = firstDifference(wasInputs.path(file), nowInputs.get(file), "");
        if (at != null) {
          return " (first difference: input " + file + ", at " + at + ")";
        }
      }
      return "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Longest shown value in a difference, in characters. */
  private static final int SHOWN_VALUE_CHARS = 60;

  /**
   * The path of the first place {@code a} and {@code b} differ, depth first in {@code b}'s key
   * order, with both values when they are scalars ("grid.x[1]: 80 -> 120"); null when equal.
   */
  static String firstDifference(JsonNode a, JsonNode b, String path) {
    if (a.equals(b)) {
      return null;
    }
    if (a.isObject() && b.isObject()) {
      for (java.util.Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        String d = firstDifference(a.path(k), b.get(k), path.isEmpty() ? k : path + "." + k);
        if (d != null) {
          return d;
        }
      }
      for (java.util.Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!b.has(k)) {
          return (path.isEmpty() ? k : path + "." + k) + " removed";
        }
      }
      return null;
    }
    if (a.isArray() && b.isArray() && a.size() == b.size()) {
      for (int i = 0; i < b.size(); i++) {
        String d = firstDifference(a.get(i), b.get(i), path + "[" + i + "]");
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    String where = path.isEmpty() ? "the whole file" : path;
    return where + ": " + shown(a) + " -> " + shown(b);
  }

  private static String shown(JsonNode n) {
    String t = n.isMissingNode() ? "(absent)" : n.toString();
    return t.length() <= SHOWN_VALUE_CHARS ? t : t.substring(0, SHOWN_VALUE_CHARS) + "...";
  }

  /**
   * The spec record beside an existing output (fingerprint, format, complete_bytes, spec), read once.
   * A missing record is named by {@code rec} as {@link #specFile} builds it, so by the path OUTPUT was given.
   */
  private static JsonNode readRecord(Path out, Path rec) throws ConfigError {
    if (!Files.isRegularFile(rec)) {
      throw new ConfigError(out.toString(), "", "exists and is not a sweep output (no " + rec
          + " beside it); choose another output name");
    }
    try {
      return MAPPER.readTree(rec.toFile());
    } catch (IOException e) {
      throw new ConfigError(rec.toString(), "", "cannot be read: " + e.getMessage());
    }
  }

  /**
   * Scans an existing output: returns {offset to cut at, first point to evaluate}.
   *
   * @throws ConfigError when a complete line is not a record of this sweep in order
   */
  private static final Sweep.PointBest NONE = new Sweep.PointBest(Double.NaN, "");

  /**
   * {@code best} is set to the best of the kept points ({@link #resumedBest()}), {@code notRun} to
   * those of them that gave no result ({@link #resumedNotRun()}). With
   * {@code complete} (the file has the size it had when a run wrote its last point), a file that
   * holds the last point and ends with a whole line is kept whole: {its size, the sweep's size}.
   * With {@code probe} (a look at another output, {@link #heldPoints}), an earlier calculon's
   * columns are refused without the refusal's suggestion.
   */
  private static long[] scan(Path out, Sweep sweep, String header, Sweep.PointBest[] best, NotRun[] notRun,
                             boolean complete, boolean probe) throws IOException, ConfigError {
    Sweep.PointBest pending = NONE;
    // the status of the pending point's first record (null: none yet)
    String pendingStatus = null;
    long offset = 0;
    long lineNo = 0;
    long lastPoint = -1;
    long lastGroupStart = -1;
    long afterHeader = 0;
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try (InputStream in = new BufferedInputStream(Files.newInputStream(out), 1 << 16)) {
      int b;
      long lineStart = 0;
      while ((b = in.read()) >= 0) {
        offset++;
        if (b != '\n') {
          line.write(b);
          continue;
        }
        String text = line.toString(StandardCharsets.UTF_8) + "\n";
        line.reset();
        lineNo++;
        if (lineNo == 1 && header != null) {
          if (!text.equals(header)) {
            checkColumns(out, sweep, List.of(text.strip().split(",", -1)), probe);
            throw new ConfigError(out.toString(), "", "line 1 is not this sweep's CSV header; choose another output name");
          }
          afterHeader = offset;
          lineStart = offset;
          continue;
        }
        if (lineNo == 1 && header == null) {
          checkColumns(out, sweep, jsonKeys(text), probe);
        }
        long p = sweep.format().pointOf(text);
        if (p < 0 || p >= sweep.size() || (p != lastPoint && p != lastPoint + 1)) {
          throw new ConfigError(out.toString(), "", "line " + lineNo + " is not the next record of this sweep; "
              + "the file was changed by hand: choose another output name");
        }
        if (p != lastPoint) {
          // the previous point is complete and kept: it counts towards the best; this one may be
          // cut short (if it is the last), so it counts only once the next one starts
          best[0] = SweepRunner.better(best[0], pending);
          notRun[0] = notRun[0].plus(lastPoint, pendingStatus);
          java.util.Map<String, String> cells = sweep.format().cells(text.substring(0, text.length() - 1),
              sweep.columns());
          Sweep.PointBest first = Sweep.PointBest.of(cells);
          pending = new Sweep.PointBest(first.rate(), "point " + p + ": " + first.label());
          pendingStatus = cells == null ? null : cells.get("status");
          lastPoint = p;
          lastGroupStart = lineStart;
        }
        lineStart = offset;
      }
    }
    if (lastPoint < 0) {
      return new long[] {afterHeader, 0};
    }
    if (complete && lastPoint == sweep.size() - 1 && line.size() == 0) {
      best[0] = SweepRunner.better(best[0], pending);
      notRun[0] = notRun[0].plus(lastPoint, pendingStatus);
      return new long[] {offset, sweep.size()};
    }
    return new long[] {lastGroupStart, lastPoint};
  }

  /** The keys of a JSON Lines record in order (empty when the line is not a whole object). */
  private static List<String> jsonKeys(String line) {
    List<String> keys = new ArrayList<>();
    try {
      MAPPER.readTree(line).fieldNames().forEachRemaining(keys::add);
    } catch (IOException e) {
      return List.of();  // a half-written line: the record check that follows names it
    }
    return keys;
  }

  /**
   * Refuses an output whose records have other columns than this sweep writes: one written by an
   * earlier calculon (before the execution columns beyond the reference's 32 keys, when a sweep
   * searched Calculon's space only; before a search template's keys became columns; or with a
   * template key this sweep no longer writes, fp8_recipe where no point searches float8). Its rows
   * are kept as they are and it is not resumed: its records lack what this calculon's say (which
   * ZeRO stage or template key a row ran with), which cannot be filled in from them (the earlier
   * search may have searched another space), and appending would mix two record shapes in one
   * file. The one line names the columns that differ and a new output name no file holds yet, to
   * run the same SPEC into ({@link #freshName}); the old file stays readable by {@code report}
   * and {@code convert}. A file of this sweep's columns passes.
   *
   * @throws ConfigError {@code old.csv: written by an earlier calculon: its records lack
   *     gradient_datatype, fp8_recipe, which this sweep writes; it is kept as it is and not resumed; run
   *     calculon sweep SPEC old-2.csv to compute the SPEC's 4 points into a new output}, or, when a run
   *     of this SPEC already went into {@code old-2.csv}, what it holds and how to resume it
   *     ({@link #rerunHint})
   */
  private static void checkColumns(Path out, Sweep sweep, List<String> found, boolean probe) throws ConfigError {
    if (found.isEmpty() || found.equals(sweep.columns()) || !found.get(0).equals("point")) {
      return;
    }
    if (probe) {
      throw new ConfigError(out.toString(), "", "written by an earlier calculon");
    }
    List<String> missing = new ArrayList<>(sweep.columns());
    missing.removeAll(found);
    List<String> extra = new ArrayList<>(found);
    extra.removeAll(sweep.columns());
    String differ = !missing.isEmpty() && !extra.isEmpty()
        ? "its records lack " + String.join(", ", missing) + " and have " + String.join(", ", extra)
            + ", unlike this sweep's"
        : !missing.isEmpty() ? "its records lack " + String.join(", ", missing) + ", which this sweep writes"
        : !extra.isEmpty() ? "its records have " + String.join(", ", extra) + ", which this sweep does not write"
        : "its columns are in another order";
    throw new ConfigError(out.toString(), "", "written by an earlier calculon: " + differ
        + "; it is kept as it is and not resumed; " + rerunHint(out, sweep));
  }

  /**
   * What the refusal of an earlier calculon's {@code out} suggests. When an earlier refusal's
   * suggestion was taken, {@code NAME-2.EXT} (or a later N) already holds a run of this SPEC (its
   * record has this SPEC's fingerprint, and its records resume): the last such name, what it holds
   * and the command that resumes it, then the fresh name for a new output; e.g. {@code q-2.csv
   * already holds 3 of the SPEC's 6 points: run calculon sweep spec.json q-2.csv to resume it, or
   * calculon sweep spec.json q-3.csv to compute the SPEC's 6 points into a new output}. Otherwise the
   * fresh name ({@link #freshName}), and the names before it that are taken ({@code (q-2.csv is
   * taken: not a run of this SPEC to resume)}).
   */
  private static String rerunHint(Path out, Sweep sweep) {
    long n = sweep.size();
    String points = n + " point" + (n == 1 ? "" : "s");
    List<Path> taken = takenNames(out, sweep.format());
    String compute = "calculon sweep " + sweep.spec().name() + " " + freshName(out, sweep.format())
        + " to compute the SPEC's " + points + " into a new output";
    for (int i = taken.size() - 1; i >= 0; i--) {
      Path p = taken.get(i);
      long held = heldPoints(p, sweep);
      String resume = "run calculon sweep " + sweep.spec().name() + " " + p;
      if (held == n) {
        return p + " already holds " + (n == 1 ? "the SPEC's 1 point" : "all " + points + " of the SPEC")
            + ": " + resume + " to see its summary (nothing is evaluated again), or " + compute;
      } else if (held == 0) {
        return p + " is a run of this SPEC that finished no point yet: " + resume + " to compute the SPEC's "
            + points + " there";
      } else if (held > 0) {
        return p + " already holds " + held + " of the SPEC's " + points + ": " + resume + " to resume it, or "
            + compute;
      }
    }
    if (taken.isEmpty()) {
      return "run " + compute;
    }
    List<String> names = taken.stream().map(Path::toString).toList();
    String list = names.size() == 1 ? names.get(0)
        : String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
    return "run " + compute + " (" + list + (names.size() == 1 ? " is taken: not a run" : " are taken: not runs")
        + " of this SPEC to resume)";
  }

  /**
   * How many points a resume of {@code p} with {@code sweep} keeps ({@link #resumeFrom()} of
   * {@link #open}, all of them for a finished run), read without changing anything; -1 when
   * {@code p} is not an output of this SPEC that resumes (no record, another fingerprint, an
   * earlier calculon's columns, records out of order, unreadable).
   */
  private static long heldPoints(Path p, Sweep sweep) {
    Path rec = specFile(p);
    if (!Files.isRegularFile(p) || !Files.isRegularFile(rec)) {
      return -1;
    }
    try {
      JsonNode record = MAPPER.readTree(rec.toFile());
      if (!sweep.spec().fingerprint().equals(record.path("fingerprint").asText(""))) {
        return -1;
      }
      boolean complete = record.path("complete_bytes").asLong(-1) == Files.size(p);
      String header = sweep.format().header(sweep.columns());
      return scan(p, sweep, header, new Sweep.PointBest[] {NONE}, new NotRun[] {NotRun.NONE}, complete, true)[1];
    } catch (IOException | ConfigError | RuntimeException e) {
      return -1;
    }
  }

  /**
   * {@code NAME-2.EXT}, {@code NAME-3.EXT}, ... beside {@code out} that an output or its spec
   * record uses, in order, up to (without) the first that neither uses.
   */
  private static List<Path> takenNames(Path out, SweepFormat format) {
    List<Path> taken = new ArrayList<>();
    for (int i = 2; ; i++) {
      Path p = numbered(out, format, i);
      if (!Files.exists(p) && !Files.exists(specFile(p))) {
        return taken;
      }
      taken.add(p);
    }
  }

  /** {@code NAME-i.EXT} beside {@code out} (EXT the format's extension). */
  private static Path numbered(Path out, SweepFormat format, int i) {
    String n = out.getFileName().toString();
    String stem = n.endsWith(format.extension) ? n.substring(0, n.length() - format.extension.length()) : n;
    return out.resolveSibling(stem + "-" + i + format.extension);
  }

  /**
   * The first of {@code NAME-2.EXT}, {@code NAME-3.EXT}, ... beside {@code out} (EXT the format's
   * extension) that neither an output nor its spec record uses yet: where a refused run can go.
   */
  static Path freshName(Path out, SweepFormat format) {
    return numbered(out, format, takenNames(out, format).size() + 2);
  }

  /** Appends one point's records and flushes them to the operating system. */
  public void write(PointResult r) throws IOException {
    out.write(r.text().getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
