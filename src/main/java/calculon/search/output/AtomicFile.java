package calculon.search.output;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
    OutputStream o = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16);
    this.out = target.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(o, 1 << 16) : o;
  }

  public Path target() { return target; }

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
