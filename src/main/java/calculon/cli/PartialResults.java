package calculon.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;

/**
 * The partial results an interrupted search writes beside its outputs ({@link OutputGuard#partial}:
 * {@code best.json} → {@code best.partial.json}), and how they are set aside, under a numbered
 * backup name, once a later complete search to the same output makes them stale (a user could take
 * the stale file for the result).
 *
 * <p>A partial file is recognised as ours by a mark, not by its name or content (a user may have
 * asked a search to write its complete result as {@code best.partial.json}): when an interrupted
 * search has written it, the file gets the user extended attribute {@value #MARK} (Linux
 * {@code user.calculon.partial-of}, {@link UserDefinedFileAttributeView}) holding the output it
 * stands in for, its size and its modification time. A complete search moves the partial name
 * of its output aside only when the mark is there and still matches: the file is the one an interrupted
 * search wrote for this output, unchanged since. Anything else under that name (no mark, a file
 * system without user attributes, a file edited since, a symbolic link) is kept, and the search
 * says so, so that it is not taken for the result either.
 */
final class PartialResults {
  private PartialResults() {}

  /** The attribute's name (the file system adds the {@code user.} namespace). */
  static final String MARK = "calculon.partial-of";

  /**
   * Marks {@code partial}, just written by an interrupted search, as the stand-in for
   * {@code target}. Best effort: on a file system without user attributes it is not marked, and a
   * later complete search keeps it.
   */
  static void mark(Path partial, Path target) {
    try {
      UserDefinedFileAttributeView v = view(partial);
      if (v != null) {
        v.write(MARK, StandardCharsets.UTF_8.encode(markValue(partial, target)));
      }
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // unmarked: kept later, and said
    }
  }

  /**
   * Whether {@code partial} is a regular file that an interrupted search wrote as the stand-in for
   * {@code target} and nobody has changed since.
   */
  static boolean isOursUnchanged(Path partial, Path target) {
    try {
      if (!Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      UserDefinedFileAttributeView v = view(partial);
      if (v == null || !v.list().contains(MARK)) {
        return false;
      }
      ByteBuffer b = ByteBuffer.allocate(v.size(MARK));
      v.read(MARK, b);
      b.flip();
      return StandardCharsets.UTF_8.decode(b).toString().equals(markValue(partial, target));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  /**
   * After a complete search wrote {@code target}: moves {@code partial} (its partial name) to its
   * numbered backup name ({@link calculon.util.Backups}: {@code best.partial.json.~1~}) when
   * {@link #isOursUnchanged}, saying so on {@code err} in one line, so that it is not taken for
   * the result and is not lost either (the interrupted search may have had other inputs); keeps any
   * other file there and says that, so it is not taken for the result. Nothing there: nothing said.
   * Each line starts {@code calculon COMMAND: }, as every line the CLI writes on standard error.
   */
  static void setAsideStale(Path partial, Path target, PrintStream err, String command) {
    if (!Files.exists(partial, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (isOursUnchanged(partial, target)) {
      try {
        Path backup = calculon.util.Backups.keep(partial, true);
        err.println("calculon " + command + ": moved " + partial + " to " + backup + ": an interrupted earlier search's partial result, "
            + "stale now that " + target + " is complete");
        return;
      } catch (IOException e) {
        err.println("calculon " + command + ": kept " + partial + ": an interrupted earlier search's partial result, stale now that "
            + target + " is complete, but it cannot be moved to a backup name: " + calculon.util.AtomicFile.reason(e));
        return;
      }
    }
    err.println("calculon " + command + ": kept " + partial + ": not marked as an interrupted search's unchanged partial result of "
        + target + " (the complete result is " + target + ")");
  }

  private static String markValue(Path partial, Path target) throws IOException {
    return target.getFileName() + "\n" + Files.size(partial) + "\n"
        + Files.getLastModifiedTime(partial, LinkOption.NOFOLLOW_LINKS).toMillis();
  }

  private static UserDefinedFileAttributeView view(Path p) {
    return Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
  }
}
