package calculon.search;

import calculon.config.SystemSpec.NetworkSpec;
import java.util.List;

/**
 * The network-tier rules the model checks first (reference {@code _check_network_assignments} and
 * {@code _check_network_assignment_MoE}, spec 2.4), applied by the search before it calls the
 * evaluator: the product of the group sizes placed on a tier must not exceed the tier's size and,
 * when the tier must be filled, must divide it. Dense runs form one group {TP, CP, PP, DP}; MoE runs
 * check {PP, DP_exp, EP, ES} and then {PP, TP, CP, DP} (CP spans the dense side only, as
 * {@code ParallelDim.CP} says). A degree of 1 uses no tier.
 */
public final class TierCheck {
  private final long[] size;
  private final boolean[] mustBeFilled;

  public TierCheck(List<NetworkSpec> networks) {
    size = new long[networks.size()];
    mustBeFilled = new boolean[networks.size()];
    for (int i = 0; i < size.length; i++) {
      size[i] = networks.get(i).size();
      mustBeFilled[i] = networks.get(i).mustBeFilled();
    }
  }

  public int numNetworks() { return size.length; }

  /**
   * @return null when the dense assignment fits, else the reference's error message
   */
  public String checkDense(int tp, int pp, int dp, int tn, int pn, int dn) {
    return checkDense(tp, 1, pp, dp, tn, 0, pn, dn);
  }

  /**
   * With context parallelism of degree {@code cp} on tier {@code cn}.
   *
   * @return null when the dense assignment fits, else the reference's error message
   */
  public String checkDense(int tp, int cp, int pp, int dp, int tn, int cn, int pn, int dn) {
    long[] used = new long[size.length];
    java.util.Arrays.fill(used, 1);
    boolean[] on = new boolean[size.length];
    place(on, used, tp, tn);
    place(on, used, cp, cn);
    place(on, used, pp, pn);
    place(on, used, dp, dn);
    for (int t = 0; t < size.length; t++) {
      if (on[t]) {
        if (used[t] > size[t]) {
          return "Network tier" + t + " isn't big enough";
        }
        if (mustBeFilled[t] && size[t] % used[t] != 0) {
          return "Network tier" + t + " isn't fully used";
        }
      }
    }
    return null;
  }

  /**
   * @return null when the MoE assignment fits, else the reference's error message
   */
  public String checkMoe(int tp, int pp, int dp, int dpe, int ep, int es,
                         int tn, int pn, int dn, int dne, int epn, int esn) {
    return checkMoe(tp, 1, pp, dp, dpe, ep, es, tn, 0, pn, dn, dne, epn, esn);
  }

  /**
   * With context parallelism of degree {@code cp} on tier {@code cn} (dense side only).
   *
   * @return null when the MoE assignment fits, else the reference's error message
   */
  public String checkMoe(int tp, int cp, int pp, int dp, int dpe, int ep, int es,
                         int tn, int cn, int pn, int dn, int dne, int epn, int esn) {
    long[] moe = new long[size.length];
    long[] non = new long[size.length];
    java.util.Arrays.fill(moe, 1);
    java.util.Arrays.fill(non, 1);
    boolean[] onMoe = new boolean[size.length];
    boolean[] onNon = new boolean[size.length];
    place(onNon, non, pp, pn);
    place(onMoe, moe, pp, pn);
    place(onNon, non, tp, tn);
    place(onNon, non, cp, cn);
    place(onMoe, moe, dpe, dne);
    place(onNon, non, dp, dn);
    place(onMoe, moe, ep, epn);
    place(onMoe, moe, es, esn);
    for (int t = 0; t < size.length; t++) {
      if (onMoe[t]) {
        if (moe[t] > size[t]) {
          return "Network tier" + t + ": " + moe[t] + " isn't big enough, " + size[t] + " -- MoE";
        }
        if (mustBeFilled[t] && size[t] % moe[t] != 0) {
          return "Network tier" + t + " isn't fully used MoE";
        }
      }
    }
    for (int t = 0; t < size.length; t++) {
      if (onNon[t]) {
        if (non[t] > size[t]) {
          return "Network tier" + t + ": " + non[t] + " isn't big enough, " + size[t] + " -- non-MoE";
        }
        if (mustBeFilled[t] && size[t] % non[t] != 0) {
          return "Network tier" + t + " isn't fully used MoE";
        }
      }
    }
    return null;
  }

  private static void place(boolean[] on, long[] used, int degree, int tier) {
    if (degree > 1) {
      on[tier] = true;
      used[tier] *= degree;
    }
  }
}
