package calculon.sweep;

import java.io.Serializable;

/**
 * What one sweep point produced: its output records, already formatted (so every engine writes
 * the same bytes), and its best sample rate for the progress line.
 *
 * @param index      the point's index in the sweep
 * @param text       the point's records, each ending in a line end
 * @param bestRate   the best sample rate found, NaN when none
 * @param bestLabel  a short description of the best execution, or the point's status
 */
public record PointResult(long index, String text, double bestRate, String bestLabel) implements Serializable {}
