package calculon.config;

import static calculon.config.JsonFields.describe;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a model (application) file: the six keys of the original Calculon's {@code Application}
 * ({@link #APPLICATION_KEYS}, positive integers) and the optional architecture keys read by
 * {@link ModelArchitectureReader}. Unknown keys are refused with the closest known name. Every
 * failure is a {@link ConfigError} with the one-line message {@code <file>: <json path>: <rule>};
 * the rules are the reference's ({@code calculon/llm/llm.py} {@code Llm.Application}) made strict.
 */
public final class ApplicationReader {

  /** The six keys of a model file. */
  public static final List<String> APPLICATION_KEYS = List.of(
      "hidden", "feedforward", "seq_size", "attn_heads", "attn_size", "num_blocks");

  private ApplicationReader() {}

  /** Reads the model file {@code file} ({@link JsonFiles#read}, then {@link #read(JsonNode, String)}). */
  public static Application read(Path file) throws ConfigError {
    return read(JsonFiles.read(file), file.toString());
  }

  /**
   * A model: the six keys as positive integers, and the optional architecture keys
   * ({@link ModelArchitectureReader}). Unknown keys are rejected with the closest known name, as in
   * execution and system files (the reference ignores them; a misspelt key silently changing the
   * model is worse than a refusal). {@code name} is the base name of {@code file}.
   */
  public static Application read(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "a model file");
    FileKind.check(node, file, FileKind.MODEL);
    Set<String> known = new LinkedHashSet<>(APPLICATION_KEYS);
    known.addAll(ModelArchitectureReader.OPTIONAL_KEYS);
    j.noUnknownKeys(node, "", known, "a model file has " + String.join(", ", known));
    long[] v = new long[APPLICATION_KEYS.size()];
    for (int i = 0; i < v.length; i++) {
      String key = APPLICATION_KEYS.get(i);
      JsonNode x = j.member(node, "", key, "a model file needs " + String.join(", ", APPLICATION_KEYS));
      if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() <= 0) {
        throw j.error(key, "must be a positive integer, got " + describe(x));
      }
      v[i] = x.longValue();
    }
    if (v[5] > Integer.MAX_VALUE) {
      // blocks per processor and pipeline chunks are counted in ints
      throw j.error("num_blocks", "is too large (at most " + Integer.MAX_VALUE + "), got " + v[5]);
    }
    Architecture arch = ModelArchitectureReader.read(j, node, v[0], v[1], v[3], v[5]);
    return new Application(JsonFiles.baseName(file), v[0], v[1], v[2], v[3], v[4], v[5], arch);
  }
}
