package calculon.util;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPOutputStream;

/**
 * An output file written beside its target under a temporary name and renamed over it when
 * complete, so an interrupted or failed write never leaves half a file and never destroys the
 * previous result; a file the rename replaces is kept first as a numbered backup ({@link Backups},
 * {@code out.json.~1~}). Gzip-compressed when the target ends in {@code .gz}.
 *
 * <p>Every {@link IOException} this class throws has a message for the user that names the
 * target (never the temporary file) and the reason: {@code <target>: cannot write: <reason>}.
 * The target's folder is never created: outputs go into existing folders.
 */
public final class AtomicFile implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final OutputStream out;
  private boolean done;

  private final Path given;

  public AtomicFile(Path target) throws IOException {
    this.given = target;
    this.target = target.toAbsolutePath();
    Path dir = this.target.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw failure(target, "its folder does not exist");
    }
    try {
      this.temp = Files.createTempFile(dir, "." + this.target.getFileName() + ".", ".tmp");
    } catch (IOException e) {
      throw failure(target, reason(e));
    }
    try {
      // a result is for reading and sharing, as any file the user writes (temp files start 0600)
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: keep its default
    }
    try {
      OutputStream o = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16);
      this.out = new Guarded(target.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(o, 1 << 16) : o);
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw failure(target, reason(e));
    }
  }

  /** The user's message for a failed write of {@code target}. */
  static OutputFailure failure(Path target, String reason) {
    return new OutputFailure(target, reason);
  }

  /**
   * Why an I/O operation failed, in words and without file names (which may be temporary ones):
   * "permission denied", "no space left on device", "the folder does not exist", ...
   */
  public static String reason(IOException e) {
    if (e instanceof OutputFailure f) {
      return f.reason();
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "the folder does not exist";
    }
    if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      return fse.getReason().toLowerCase(java.util.Locale.ROOT);
    }
    if (e instanceof java.io.FileNotFoundException && e.getMessage() != null) {
      // "<name> (Permission denied)": keep the reason in brackets
      String m = e.getMessage();
      int open = m.lastIndexOf(" (");
      if (open >= 0 && m.endsWith(")")) {
        return m.substring(open + 2, m.length() - 1).toLowerCase(java.util.Locale.ROOT);
      }
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replaceAll("[\\r\\n]+", " ");
  }

  /** The stream the caller writes to: failures are reported against the target, not the temporary file. */
  private final class Guarded extends java.io.FilterOutputStream {
    Guarded(OutputStream o) {
      super(o);
    }

    @Override
    public void write(int b) throws IOException {
      try {
        out.write(b);
      } catch (IOException e) {
        throw failure(given, reason(e));
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw failure(given, reason(e));
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        throw failure(given, reason(e));
      }
    }

    @Override
    public void close() throws IOException {
      try {
        out.close();
      } catch (IOException e) {
        throw failure(given, reason(e));
      }
    }
  }

  public Path target() { return target; }

  /**
   * Writes {@code text} as UTF-8 (gzipped for a .gz target) and renames it over {@code target},
   * keeping a file already there as a numbered backup ({@link #commit()}).
   */
  public static void writeText(Path target, CharSequence text) throws IOException {
    writeText(target, text, true);
  }

  /** As {@link #writeText}, without a backup: for a file this run wrote before ({@link #commitOwn()}). */
  public static void rewriteOwnText(Path target, CharSequence text) throws IOException {
    writeText(target, text, false);
  }

  private static void writeText(Path target, CharSequence text, boolean keepEarlier) throws IOException {
    try (AtomicFile f = new AtomicFile(target)) {
      Writer w = new OutputStreamWriter(f.stream(), StandardCharsets.UTF_8);
      w.append(text);
      w.flush();
      if (keepEarlier) {
        f.commit();
      } else {
        f.commitOwn();
      }
    }
  }

  /** Where the bytes go (already compressed as needed). */
  public OutputStream stream() { return out; }

  /**
   * Finishes the file and renames it over the target; a file already there is kept first as a
   * numbered backup ({@link Backups}: {@code out.json.~1~}), and that is said in one line.
   */
  public void commit() throws IOException {
    commitAs(given);
  }

  /**
   * Finishes the file and renames it to {@code other}, a name in the target's folder, leaving the
   * target untouched (an interrupted search puts its partial result beside the complete one). A
   * file already at {@code other} is kept as a numbered backup, as by {@link #commit()}.
   */
  public void commitAs(Path other) throws IOException {
    commitAs(other, true);
  }

  /**
   * Finishes the file and renames it over the target without a backup of the file there: only
   * for a file this same run wrote before (a sweep's record, rewritten when its last point is in),
   * never for one a user or an earlier run left.
   */
  public void commitOwn() throws IOException {
    commitAs(given, false);
  }

  private void commitAs(Path other, boolean keepEarlier) throws IOException {
    if (done) {
      return;
    }
    done = true;
    try {
      out.close();
      Path backup = null;
      try {
        backup = keepEarlier ? Backups.keep(other, false) : null;
      } catch (IOException e) {
        throw failure(other, "cannot keep the earlier file as a backup: " + reason(e));
      }
      try {
        try {
          Files.move(temp, other.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temp, other.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (IOException e) {
        if (backup != null) {
          undoBackup(other, backup);
        }
        throw failure(other, reason(e));
      }
      if (backup != null) {
        Backups.say(other, backup);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * After a failed rename: the earlier file is still at {@code other} (its backup link is not
   * needed), or, where the backup was made by moving it, it goes back. Best effort: the backup
   * stays if this fails, so nothing is lost.
   */
  private static void undoBackup(Path other, Path backup) {
    try {
      if (Files.exists(other, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.deleteIfExists(backup);
      } else {
        Files.move(backup, other.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException ignored) {
      // the earlier file is kept under its backup name
    }
  }

  /** Drops the temporary file; the target is untouched. */
  public void abort() {
    if (done) {
      return;
    }
    done = true;
    try {
      out.close();
    } catch (IOException ignored) {
      // the file is deleted anyway
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException ignored) {
      // nothing more to do
    }
  }

  /** Aborts unless committed. */
  @Override
  public void close() {
    abort();
  }
}
