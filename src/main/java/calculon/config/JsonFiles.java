package calculon.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the JSON of a configuration file ({@code .json} or gzipped {@code .json.gz}): strict
 * JSON (no duplicate keys, no trailing tokens, no NaN), one document per file. Every failure
 * (missing or unreadable file, directory, wrong extension, broken gzip, invalid JSON with its
 * line and column) is a {@link ConfigError} with the one-line message {@code <file>: <rule>}; no
 * Jackson or Java exception escapes. The readers of each file kind ({@link ApplicationReader},
 * {@link ExecutionReader}, {@link SystemReader}) start here.
 */
public final class JsonFiles {

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  private JsonFiles() {}

  /**
   * Parses a {@code .json} or {@code .json.gz} file, or a numbered backup of one ({@code
   * x.json.~1~}, read by the name before {@code .~N~}). Missing or unreadable files, directories,
   * broken gzip and invalid JSON (with line and column) are all {@link ConfigError}s.
   */
  public static JsonNode read(Path file) throws ConfigError {
    String name = file.toString();
    // a numbered backup (out.json.~1~) reads as the file it was kept from
    String fileName = calculon.util.Backups.unnumbered(file.getFileName() == null ? name : file.getFileName().toString());
    boolean gz = fileName.endsWith(".json.gz");
    if (Files.isDirectory(file)) {
      throw new ConfigError(name, null, "is a directory, not a file");
    }
    if (!gz && !fileName.endsWith(".json")) {
      throw new ConfigError(name, null, "must be a .json or .json.gz file");
    }
    if (!Files.exists(file)) {
      throw new ConfigError(name, null, "file not found");
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigError(name, null, "is not a regular file");
    }
    try (InputStream raw = Files.newInputStream(file);
         InputStream in = gz ? new GZIPInputStream(raw) : raw) {
      JsonNode node = MAPPER.readTree(in);
      if (node == null || node.isMissingNode()) {
        throw new ConfigError(name, null, "is empty (expected a JSON object)");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw parseError(name, e);
    } catch (NoSuchFileException e) {
      throw new ConfigError(name, null, "file not found");
    } catch (AccessDeniedException e) {
      throw new ConfigError(name, null, "cannot be read: permission denied");
    } catch (ZipException e) {
      throw new ConfigError(name, null, "is not a valid gzip file (" + JsonFields.oneLine(String.valueOf(e.getMessage())) + ")");
    } catch (EOFException e) {
      throw new ConfigError(name, null, gz ? "is a truncated gzip file" : "ends unexpectedly");
    } catch (IOException | RuntimeException e) {
      throw new ConfigError(name, null, "cannot be read: " + JsonFields.oneLine(String.valueOf(e.getMessage())));
    }
  }

  private static ConfigError parseError(String name, JsonProcessingException e) {
    String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
    msg = JsonFields.oneLine(msg);
    // Jackson appends "(start marker at [Source: ...; line: 1, column: 1])"; keep it short.
    msg = msg.replaceAll("\\[Source: [^;\\]]*; ", "[");
    // Drop Jackson's advice on enabling parser features: the format is plain JSON.
    msg = msg.replaceAll(":? ?enable `[^`]*` to allow", "");
    // A second value after the first: say it in the format's words, not the binding's
    if (msg.startsWith("Trailing token")) {
      msg = "more than one JSON value (a file holds one object)";
    }
    if (msg.length() > 200) {
      msg = msg.substring(0, 197) + "...";
    }
    JsonLocation loc = e.getLocation();
    String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return new ConfigError(name, null, "invalid JSON" + where + ": " + msg);
  }

  /** Base name without {@code .json}/{@code .json.gz} and without directories. */
  static String baseName(String displayName) {
    String n = displayName;
    int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
    if (slash >= 0) {
      n = n.substring(slash + 1);
    }
    if (n.endsWith(".json.gz")) {
      n = n.substring(0, n.length() - ".json.gz".length());
    } else if (n.endsWith(".json")) {
      n = n.substring(0, n.length() - ".json".length());
    }
    return n;
  }
}
