package calculon.config;

/**
 * How routed tokens reach their experts ({@code moe_dispatcher}), as Megatron-Core's token
 * dispatchers ({@code megatron/core/transformer/moe/token_dispatcher.py}): {@code alltoall}
 * (MoEAlltoAllTokenDispatcher: each token copy goes to its expert's rank) or {@code allgather}
 * (MoEAllGatherTokenDispatcher: every rank gathers all tokens of the EP group and keeps those of its
 * experts; the combine is a reduce-scatter).
 */
public enum MoeDispatcher {
  ALLTOALL("alltoall"), ALLGATHER("allgather");

  public final String jsonName;

  MoeDispatcher(String jsonName) { this.jsonName = jsonName; }

  public static MoeDispatcher fromJson(String name) {
    for (MoeDispatcher d : values()) {
      if (d.jsonName.equals(name)) {
        return d;
      }
    }
    return null;
  }
}
