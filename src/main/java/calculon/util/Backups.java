package calculon.util;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Numbered backups of the files an output replaces ("nothing a user wrote, and no finished result,
 * is ever overwritten or lost"): before a command puts a new file at a path where a file already
 * lies, that file is kept as {@code NAME.~N~}, N one more than the highest number already kept for
 * that name (1 for the first). This is GNU coreutils' numbered backup convention ({@code cp
 * --backup=numbered}, {@code mv --backup=numbered}; coreutils manual, "2.2 Backup options").
 *
 * <p>{@link AtomicFile} keeps the backup right before it renames the finished file into place:
 * the earlier file gets its backup name as a hard link first, then the new file replaces the
 * name in one atomic rename, so the name never disappears and a run that fails before that
 * point leaves the earlier file untouched and no backup (a backup made for a rename that then
 * fails is removed again). A backup name is never reused: creating the link fails when the name
 * exists, and the next number is tried. Where the file system has no hard links, the earlier
 * file is renamed to its backup name instead.
 *
 * <p>Each backup is said in one line through {@link #notices}: {@code kept the earlier
 * out.json as out.json.~1~} (the CLI prefixes the command's name: {@code calculon llm: ...}).
 * Only regular files and symbolic links (the link itself, not what it points to) are kept;
 * standard output ({@code -}) is never a file here.
 */
public final class Backups {
  private Backups() {}

  /** Most numbers tried for one backup when other processes take the same names meanwhile. */
  private static final int MAX_TRIES = 1000;

  private static final Consumer<String> STDERR = System.err::println;

  /** Where the one-line notices go (set by the CLI per command); standard error by default. */
  private static volatile Consumer<String> notices = STDERR;

  /**
   * Sends the notices of backups made from now on to {@code sink} (one line each, without the
   * command's name); null restores standard error. The CLI sets it for each command it runs.
   */
  public static void noticesTo(Consumer<String> sink) {
    notices = sink == null ? STDERR : sink;
  }

  /** The notice for {@code earlier} kept as {@code backup}: {@code kept the earlier out.json as out.json.~1~}. */
  public static String notice(Path earlier, Path backup) {
    return "kept the earlier " + earlier + " as " + backup;
  }

  /** Whether something lies at {@code p} that a new output would replace and we keep: a regular file or a link. */
  public static boolean needed(Path p) {
    return Files.isSymbolicLink(p) || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
  }

  /** A numbered backup's suffix, as {@link #nextName} writes it: {@code .~N~}. */
  private static final Pattern BACKUP_SUFFIX = Pattern.compile("\\.~[1-9][0-9]{0,9}~$");

  /**
   * The name a numbered backup was kept from: {@code out.json.~2~} gives {@code out.json}; any
   * other name is returned as it is. Readers pick a backup's format by this name, so that a
   * backup reads as the file it was.
   */
  public static String unnumbered(String fileName) {
    return BACKUP_SUFFIX.matcher(fileName).replaceFirst("");
  }

  /**
   * The next backup name of {@code p} in its folder: {@code NAME.~N~} with N one more than the
   * highest N of an existing {@code NAME.~N~} (1 when there is none).
   */
  public static Path nextName(Path p) throws IOException {
    String name = p.getFileName().toString();
    Pattern numbered = Pattern.compile(Pattern.quote(name) + "\\.~([1-9][0-9]{0,9})~");
    long highest = 0;
    Path dir = p.toAbsolutePath().getParent();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        Matcher m = numbered.matcher(f.getFileName().toString());
        if (m.matches()) {
          highest = Math.max(highest, Long.parseLong(m.group(1)));
        }
      }
    }
    return p.resolveSibling(name + ".~" + (highest + 1) + "~");
  }

  /**
   * Gives the file at {@code p} a backup name ({@link #nextName}) while it stays at {@code p}
   * (a hard link), for a caller that renames a new file over {@code p} next; returns the backup,
   * or null when nothing lies at {@code p} to keep. With {@code move} the name {@code p} is then
   * removed (link, then unlink: a move that never replaces an existing backup), so {@code p} is
   * free afterwards; where hard links are not supported the file is renamed to the backup name.
   * Says nothing: {@link #say} once the replacement is done.
   *
   * @throws IOException when no backup can be made (the caller must then not replace {@code p})
   */
  public static Path keep(Path p, boolean move) throws IOException {
    if (!needed(p)) {
      return null;
    }
    for (int i = 0; i < MAX_TRIES; i++) {
      Path backup = nextName(p);
      boolean linked;
      try {
        // link(2) fails when the name exists, so a backup never replaces another
        Files.createLink(backup, p);
        linked = true;
      } catch (FileAlreadyExistsException taken) {
        continue;  // another process took this number meanwhile: the next one
      } catch (UnsupportedOperationException | java.nio.file.FileSystemException noLinks) {
        linked = false;  // no hard links here (or not for this file): move it instead
      }
      if (linked) {
        if (move) {
          Files.delete(p);
        }
        return backup;
      }
      if (Files.exists(backup, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      Files.move(p, backup, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return backup;
    }
    throw new IOException("no free backup name for " + p.getFileName());
  }

  /** Says that {@code earlier} was kept as {@code backup} (one line, {@link #notice}). */
  public static void say(Path earlier, Path backup) {
    notices.accept(notice(earlier, backup));
  }

  /** Says {@code line} (one line, without the command's name) where the backups' notices go. */
  public static void say(String line) {
    notices.accept(line);
  }

  /**
   * Moves the file at {@code p} to its next backup name now and says so, so that a writer that
   * opens {@code p} afresh (the {@code --log} file) does not empty it; nothing when there is none.
   *
   * @return the backup, or null
   */
  public static Path moveAside(Path p) throws IOException {
    Path backup = keep(p, true);
    if (backup != null) {
      say(p, backup);
    }
    return backup;
  }
}
