package calculon.sweep;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SPEC's input files (models, systems, execution, search template) as a user can name them
 * from the folder the command runs in. A SPEC names its files relative to its own folder, and so
 * do the statuses in OUTPUT (the same for every run of the SPEC, wherever it starts); the summary's
 * {@code Not run:} line says them as the SPEC's folder, as the command line named it, joined with
 * the SPEC's name: {@code examples/sweeps/quick.json}'s {@code ../3072_t4_p64_d12_mbs4_full.json}
 * is {@code examples/3072_t4_p64_d12_mbs4_full.json} from the checkout's folder, and absolute where
 * the SPEC was named by an absolute path. A SPEC in the working folder and an absolute name keep
 * the SPEC's name.
 */
public final class InputPaths {
  /** Before a name: the start of the text, a space, or an opening quote or bracket. */
  private static final String BEFORE = "(?<=^|[\\s(\\[\"'=])";
  /** After a name: the end, a space, a separator or closing mark, or a full stop that ends a sentence. */
  private static final String AFTER = "(?=$|[\\s:,;)\\]\"']|\\.(?:\\s|$))";

  /** The SPEC's name of each file whose name from here differs, to that name. */
  private final Map<String, String> fromHere;
  /** Any of {@link #fromHere}'s keys as a whole name; null when there is none. */
  private final Pattern names;

  private InputPaths(Map<String, String> fromHere) {
    this.fromHere = fromHere;
    if (fromHere.isEmpty()) {
      names = null;
      return;
    }
    // the longest first, so that no name matches as the start of a longer one
    List<String> keys = new ArrayList<>(fromHere.keySet());
    keys.sort(Comparator.comparingInt(String::length).reversed());
    List<String> quoted = keys.stream().map(Pattern::quote).toList();
    names = Pattern.compile(BEFORE + "(" + String.join("|", quoted) + ")" + AFTER);
  }

  /** The input files of {@code spec}, read from {@code specFile} (as the command line names it). */
  public static InputPaths of(Path specFile, SweepSpec spec) {
    List<String> files = new ArrayList<>();
    spec.models().forEach(in -> files.add(in.file()));
    spec.systems().forEach(in -> files.add(in.file()));
    if (spec.execution() != null) {
      files.add(spec.execution().file());
    }
    if (spec.search() != null && spec.search().template() != null) {
      files.add(spec.search().template().file());
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (String f : files) {
      String here = fromHere(specFile, f);
      if (!here.equals(f)) {
        map.put(f, here);
      }
    }
    return new InputPaths(map);
  }

  /**
   * The file {@code name} of the SPEC {@code specFile} as named from the working folder: the SPEC's
   * folder joined with it, {@code ..} taken out where that names the same file (a symbolic link on
   * the way may not); {@code name} itself when it is absolute or the SPEC is in the working folder.
   */
  static String fromHere(Path specFile, String name) {
    Path file;
    try {
      file = Path.of(name);
    } catch (InvalidPathException e) {
      return name;
    }
    Path dir = specFile.getParent();
    if (file.isAbsolute() || dir == null) {
      return name;
    }
    Path joined = dir.resolve(file);
    Path normal = joined.normalize();
    try {
      return Files.isSameFile(joined, normal) ? normal.toString() : joined.toString();
    } catch (IOException e) {
      // gone since the SPEC was read: the joined name is the one the SPEC meant
      return joined.toString();
    }
  }

  /** {@code text} (a point's status) with each input file the SPEC names as named from here. */
  public String rewrite(String text) {
    if (names == null || text == null) {
      return text;
    }
    return names.matcher(text).replaceAll(m -> Matcher.quoteReplacement(fromHere.get(m.group(1))));
  }
}
