package calculon.report;

import calculon.stats.StatField;
import calculon.stats.Stats;
import java.awt.Color;
import java.util.ArrayList;
import java.util.List;

/**
 * Where one training step's time goes: the parts that add up to {@code total_time}, in the order
 * the model adds them (schedule/Evaluator), each with the stats keys it sums.
 */
public final class StepBreakdown {
  private StepBreakdown() {}

  /** What a part of the step is spent on, for the verdict: computing, waiting, or moving data. */
  public enum Kind { COMPUTE, BUBBLE, COMMUNICATION, OFFLOAD }

  /** One part of the step. */
  public record Part(String label, Kind kind, double seconds, List<StatField> fields) {}

  private record Def(String label, Kind kind, Color color, StatField... fields) {}

  private static final List<Def> DEFS = List.of(
      new Def("forward", Kind.COMPUTE, Charts.PALETTE[0], StatField.FW_TIME),
      new Def("backward", Kind.COMPUTE, Charts.PALETTE[1], StatField.BW_TIME),
      new Def("optimizer", Kind.COMPUTE, Charts.PALETTE[2], StatField.OPTIM_STEP_TIME),
      new Def("recompute", Kind.COMPUTE, Charts.PALETTE[3], StatField.RECOMPUTE_TIME),
      new Def("recompute comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[4], StatField.RECOMM_EXPOSED_TIME),
      new Def("pipeline bubble", Kind.BUBBLE, Charts.PALETTE[5], StatField.BUBBLE_TIME),
      new Def("TP comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[6], StatField.TP_COMM_EXPOSED_TIME),
      new Def("EP comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[7], StatField.EP_COMM_EXPOSED_TIME),
      new Def("ES comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[8], StatField.ES_COMM_EXPOSED_TIME),
      new Def("PP comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[9], StatField.PP_COMM_EXPOSED_TIME),
      new Def("DP comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[10], StatField.DP_COMM_EXPOSED_TIME),
      new Def("offload (exposed)", Kind.OFFLOAD, Charts.PALETTE[11],
          StatField.FW_OFFLOAD_EXPOSED_TIME, StatField.BW_OFFLOAD_EXPOSED_TIME),
      // context parallelism's K/V exchange (corrected model; zero otherwise), in total_time
      new Def("CP comm (exposed)", Kind.COMMUNICATION, Charts.PALETTE[12], StatField.CP_COMM_EXPOSED_TIME));

  /** All parts, zero ones included, in the model's order; their seconds add up to total_time. */
  public static List<Part> of(Stats s) {
    List<Part> parts = new ArrayList<>(DEFS.size());
    for (Def d : DEFS) {
      double sum = 0;
      for (StatField f : d.fields()) {
        sum += s.get(f);
      }
      parts.add(new Part(d.label(), d.kind(), sum, List.of(d.fields())));
    }
    return parts;
  }

  static Color color(Part p) {
    for (Def d : DEFS) {
      if (d.label().equals(p.label())) {
        return d.color();
      }
    }
    throw new AssertionError(p.label());
  }

  /** The seconds of the parts of one kind. */
  public static double seconds(List<Part> parts, Kind kind) {
    return parts.stream().filter(p -> p.kind() == kind).mapToDouble(Part::seconds).sum();
  }

  /** The longest part. */
  public static Part largest(List<Part> parts) {
    Part best = parts.get(0);
    for (Part p : parts) {
      if (p.seconds() > best.seconds()) {
        best = p;
      }
    }
    return best;
  }

  /** The longest part of one kind, or null when none of that kind takes time. */
  public static Part largest(List<Part> parts, Kind kind) {
    Part best = null;
    for (Part p : parts) {
      if (p.kind() == kind && p.seconds() > 0 && (best == null || p.seconds() > best.seconds())) {
        best = p;
      }
    }
    return best;
  }
}
