package calculon.model;

import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.MoeDispatcher;
import calculon.config.ParallelDim;
import calculon.hardware.Hardware;
import calculon.hardware.Network;

/**
 * The corrected model's expert-parallel token exchange: where the bytes of one dispatch or combine
 * travel and how long they take. Calculon-MoE charges the whole all-to-all to the EP group's tier
 * as (EP - 1) pairwise transfers; a group that spans tiers really sends the part whose destination
 * shares the sender's tier-0 domain (its node) over tier 0 and only the rest over the EP tier, and
 * both run at once (DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.2: IB and NVLink traffic
 * fully overlapped; DeepEP's normal kernels).
 *
 * <p>Per rank, a dispatch of V bytes (all k copies of its tokens) with routing spread evenly over
 * the n EP ranks, d of them in the rank's tier-0 domain (D = n/d domains):
 * <ul>
 *   <li>tier 0: V (d - 1)/n, as d - 1 transfers; tier n: V (n - d)/n, as n - d transfers
 *       (the pairwise convention of the reference, each at its own tier's bandwidth and latency);
 *   <li>node-limited routing ({@code moe_max_domains_per_token} M, DeepSeek-V3 Section 3.2.2: at
 *       most 4 nodes per token) sends a token once to each remote domain it uses and fans it out
 *       there over tier 0: remote transfers per token min(k (n - d)/n, M, D - 1) instead of
 *       k (n - d)/n, the copies saved crossing tier 0 on the far side;
 *   <li>the dispatch datatype ({@code moe_dispatch_datatype}, FP8 in DeepSeek-V3 Section 3.3.2)
 *       sizes the forward dispatch; the combine stays in the activations' datatype;
 *   <li>time: max(tier 0, upper tier).
 * </ul>
 * The {@code flex} dispatcher (Megatron-Core's MoEFlexTokenDispatcher on DeepEP / HybridEP) sends a
 * token over the EP tier once per remote domain that holds at least one of its k experts and
 * forwards it to the experts' ranks over tier 0 there (DeepEP README, "Normal kernels with NVLink
 * and RDMA forwarding"; DeepSeek-V3 report Section 3.2.2). With the k experts of a token spread
 * evenly over the E routed experts (E d / n in each domain), a remote domain is used with
 * probability 1 - C(E - E d/n, k) / C(E, k), so the remote sends per token are
 * (D - 1)(1 - C(E - E d/n, k) / C(E, k)) instead of k (n - d)/n (and at most M under node-limited
 * routing).
 * The {@code allgather} dispatcher (Megatron-Core's MoEAllGatherTokenDispatcher) gathers the
 * group's tokens (n V / k bytes, no copies) with an all-gather on the EP tier and combines with a
 * reduce-scatter of the same size; a gather's backward is a reduce-scatter and the other way round.
 */
public final class ExpertDispatch {
  private final Network tier0, epTier;
  private final int peers, domainPeers, maxDomains, numExperts;
  private final double topK;
  private final MoeDispatcher dispatcher;
  private final Datatype dispatchDatatype;

  ExpertDispatch(Network tier0, Network epTier, int peers, int domainPeers, double topK,
                         int maxDomains, MoeDispatcher dispatcher, Datatype dispatchDatatype) {
    this(tier0, epTier, peers, domainPeers, topK, maxDomains, dispatcher, dispatchDatatype, 0);
  }

  /**
   * @param numExperts routed experts E (the {@code flex} dispatcher's per-domain deduplication
   *                   needs it; 0 elsewhere)
   */
  ExpertDispatch(Network tier0, Network epTier, int peers, int domainPeers, double topK,
                         int maxDomains, MoeDispatcher dispatcher, Datatype dispatchDatatype, int numExperts) {
    this.numExperts = numExperts;
    this.tier0 = tier0;
    this.epTier = epTier;
    this.peers = peers;
    this.domainPeers = domainPeers;
    this.topK = topK;
    this.maxDomains = maxDomains;
    this.dispatcher = dispatcher;
    this.dispatchDatatype = dispatchDatatype;
  }

  /** The exchange of an execution's EP group on {@code hw}, with {@code topK} copies of each token. */
  public static ExpertDispatch of(Execution exe, Hardware hw, long topK) {
    return new ExpertDispatch(hw.network(0), hw.network(exe.expertParNet()), exe.expertPar(),
        domainPeers(exe, hw), topK, exe.scheduleOptions().moeMaxDomainsPerToken(),
        exe.scheduleOptions().dispatcher(), exe.scheduleOptions().moeDispatchDatatype(), exe.numExperts());
  }

  /**
   * Expected remote domains a token's k experts fall in, of D - 1, when the k distinct experts are
   * drawn evenly from E with E d / n in each domain: (D - 1)(1 - C(E - E d/n, k) / C(E, k)).
   *
   * @param experts E, routed experts (a multiple of n)
   * @param topK    k, experts per token
   * @param n       EP ranks
   * @param d       EP ranks per domain
   */
  static double expectedRemoteDomains(int experts, double topK, int n, int d) {
    int domains = n / d;
    double perDomain = (double) experts * d / n;
    double miss = 1;
    for (int i = 0; i < (int) topK; i++) {
      miss *= Math.max(0, experts - perDomain - i) / (experts - i);
    }
    return (domains - 1) * (1 - miss);
  }

  /**
   * EP ranks that share a rank's tier-0 domain: all of them when the EP group is on tier 0; else
   * the tier-0 slots left by the expert-side groups placed on tier 0 (PP, ES, DP_exp, each of
   * degree &gt; 1), as a divisor of EP: gcd(EP, tier-0 size / their product), at least 1.
   */
  public static int domainPeers(Execution exe, Hardware hw) {
    int ep = exe.expertPar();
    if (exe.expertParNet() == 0) {
      return ep;
    }
    long inner = 1;
    for (ParallelDim d : ParallelDim.all()) {
      if (d.expertSide && d != ParallelDim.EP && d.degree(exe) > 1 && d.tier(exe) == 0) {
        inner *= d.degree(exe);
      }
    }
    long free = Math.max(1, hw.network(0).size() / inner);
    return (int) gcd(ep, free);
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** EP ranks in one tier-0 domain (1 when every peer is in another domain). */
  public int domainPeers() { return domainPeers; }

  /**
   * Seconds of one exchange of {@code bytes} per rank (all copies, in the activations' datatype of
   * {@code bytesPerElement} bytes), written as {@code out[0]} on tier 0 and {@code out[1]} on the
   * EP tier; the exchange takes the larger.
   *
   * @param dispatch        a dispatch (tokens to experts) rather than a combine
   * @param forward         the forward pass (else the backward, which runs the opposite exchange)
   */
  public void seconds(double bytes, double bytesPerElement, boolean dispatch, boolean forward, double[] out) {
    out[0] = 0;
    out[1] = 0;
    if (peers <= 1 || bytes == 0) {
      return;
    }
    int n = peers;
    int upper = epTier == tier0 ? 0 : 1;
    if (dispatcher == MoeDispatcher.ALLGATHER) {
      // gather forward for the dispatch, reduce-scatter for the combine; backward the opposite
      boolean gather = dispatch == forward;
      double gathered = n * bytes / topK;
      out[upper] = epTier.time(gather ? Network.Op.ALL_GATHER : Network.Op.REDUCE_SCATTER, gathered, n);
      return;
    }
    double v = bytes;
    if (dispatch && forward && dispatchDatatype != null) {
      v = bytes / bytesPerElement * dispatchDatatype.bytesPerElement;
    }
    int d = domainPeers;
    if (d >= n) {
      out[0] = (n - 1) * pairwise(tier0, v / n);
      return;
    }
    double perCopy = v / topK;
    double remoteCopies = topK * (n - d) / (double) n;
    double remote = remoteCopies;
    if (maxDomains > 0) {
      remote = Math.min(remote, Math.min(maxDomains, n / d - 1));
    }
    if (dispatcher == MoeDispatcher.FLEX && numExperts > 0) {
      remote = Math.min(remote, expectedRemoteDomains(numExperts, topK, n, d));
    }
    double local = topK * (d - 1) / (double) n + (d > 1 ? remoteCopies - remote : 0);
    if (d > 1) {
      out[0] = (d - 1) * pairwise(tier0, perCopy * local / (d - 1));
    }
    out[1] = (n - d) * pairwise(epTier, perCopy * remote / (n - d));
  }

  /** One pairwise transfer on a tier: its all_to_all op, or p2p where the tier has none. */
  private static double pairwise(Network net, double bytes) {
    return net.time(net.hasOp(Network.Op.ALL_TO_ALL) ? Network.Op.ALL_TO_ALL : Network.Op.P2P, bytes, 2);
  }
}
