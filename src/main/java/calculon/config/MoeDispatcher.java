package calculon.config;

/**
 * How routed tokens reach their experts ({@code moe_dispatcher}), as Megatron-Core's token
 * dispatchers ({@code megatron/core/transformer/moe/token_dispatcher.py}): {@code alltoall}
 * (MoEAlltoAllTokenDispatcher: each token copy goes to its expert's rank) or {@code allgather}
 * (MoEAllGatherTokenDispatcher: every rank gathers all tokens of the EP group and keeps those of its
 * experts; the combine is a reduce-scatter) or {@code flex} (MoEFlexTokenDispatcher with DeepEP's
 * or HybridEP's kernels: an all-to-all whose cross-domain part sends each token once per remote
 * domain that holds one of its experts and forwards it there over tier 0; DeepEP README, "normal
 * kernels with NVLink and RDMA forwarding"; DeepSeek-V3 report, arXiv 2412.19437, Section 3.2.2).
 */
public enum MoeDispatcher {
  ALLTOALL("alltoall"), ALLGATHER("allgather"), FLEX("flex");

  public final String jsonName;

  MoeDispatcher(String jsonName) { this.jsonName = jsonName; }
}
