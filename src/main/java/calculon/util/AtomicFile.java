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
 * previous result. Gzip-compressed when the target ends in {@code .gz}.
 */
public final class AtomicFile implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final OutputStream out;
  private boolean done;

  public AtomicFile(Path target) throws IOException {
    this.target = target.toAbsolutePath();
    Path dir = this.target.getParent();
    this.temp = Files.createTempFile(dir, "." + this.target.getFileName() + ".", ".tmp");
    try {
      // a result is for reading and sharing, as any file the user writes (temp files start 0600)
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: keep its default
    }
    OutputStream o = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16);
    this.out = target.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(o, 1 << 16) : o;
  }

  public Path target() { return target; }

  /** Writes {@code text} as UTF-8 (gzipped for a .gz target) and renames it over {@code target}. */
  public static void writeText(Path target, CharSequence text) throws IOException {
    try (AtomicFile f = new AtomicFile(target)) {
      Writer w = new OutputStreamWriter(f.stream(), StandardCharsets.UTF_8);
      w.append(text);
      w.flush();
      f.commit();
    }
  }

  /** Where the bytes go (already compressed as needed). */
  public OutputStream stream() { return out; }

  /** Finishes the file and renames it over the target. */
  public void commit() throws IOException {
    if (done) {
      return;
    }
    done = true;
    try {
      out.close();
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
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
