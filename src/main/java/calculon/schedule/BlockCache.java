package calculon.schedule;

import calculon.config.Application;
import calculon.config.CpCommType;
import calculon.config.Execution;
import calculon.config.ParallelOptions;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.ExpertDispatch;
import calculon.model.ModelVersion;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reuse of built blocks across the executions of a search, and across the searches of a sweep.
 *
 * <p>A block's layers and their per-microbatch totals ({@link BlockStats}) depend on the model,
 * the system's compute, memory bandwidth and the networks TP / EP / ES run on, the model version,
 * and on the execution's TP, microbatch, recompute, TP comm type and overlap, datatype and the
 * like; not on the step-level choices a search varies most (DP and PP tiers, interleaving, batch,
 * offloads, DP overlap, the system size). Executions that differ only there share one block.
 *
 * <p>Exactness rule: the key is the execution with an explicit list of fields known not to affect
 * the block reset to a fixed value ({@link #blockKey}); every other field, including any field added
 * to {@link Execution} later, is part of the key. So a new execution key is safe by default: it can
 * only make the cache miss more, never return another execution's block. The model-level scope is
 * a deep value of the application, the system spec, the datatype and the model version, so two
 * searches share blocks only when those are equal field by field.
 *
 * <p>Thread-safe. Bounded: once it holds {@code maxEntries} blocks it is emptied (the contents only
 * affect speed, never results). A block with per-layer stats ({@code -l}) is never cached: its
 * layers keep per-call state (the overlapped layers' last exposure, quirk 23).
 */
public final class BlockCache {
  /** Default bound: about 1 KB per block, so about 200 MB at most. */
  public static final int DEFAULT_MAX_ENTRIES = 200_000;

  private final int maxEntries;
  private final Map<Object, Scope> scopes = new ConcurrentHashMap<>();
  private final AtomicInteger entries = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong builds = new java.util.concurrent.atomic.AtomicLong();

  public BlockCache() {
    this(DEFAULT_MAX_ENTRIES);
  }

  /** @param maxEntries blocks held before the cache is emptied (&gt; 0) */
  public BlockCache(int maxEntries) {
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("maxEntries must be > 0");
    }
    this.maxEntries = maxEntries;
  }

  /**
   * The blocks of one (model, system, datatype, model version). Looks the scope up by deep value,
   * so call it once per search, not once per execution.
   */
  public Scope scope(Application app, Hardware hw, ModelVersion version) {
    Object key = List.of(deepValue(app), deepValue(hw.spec()), hw.datatype(), version);
    return scopes.computeIfAbsent(key, k -> new Scope(this));
  }

  /** Blocks built so far (cache misses), over all scopes. */
  public long builds() {
    return builds.get();
  }

  /** Blocks currently held, over all scopes. */
  public int size() {
    return entries.get();
  }

  /** The blocks of one model on one system; see {@link BlockCache}. */
  public static final class Scope {
    private final BlockCache owner;
    private final ConcurrentHashMap<Key, BlockStats> blocks = new ConcurrentHashMap<>();
    /**
     * Each thread's last block (key, block): a search asks for the same block for consecutive tier
     * assignments; and its last execution with that execution's canonical key.
     */
    private final ThreadLocal<Object[]> last = ThreadLocal.withInitial(() -> new Object[4]);

    private Scope(BlockCache owner) {
      this.owner = owner;
    }

    /** The block of {@code kind} for {@code exe}: cached, or built, cached and returned. */
    BlockStats block(Application app, Execution exe, Hardware hw, ModelVersion version,
                     BlockBuilder.Kind kind, boolean embedding, boolean logits) {
      // the corrected model's expert exchange also depends on how many EP peers share a tier-0
      // domain, which the PP and DP_exp degrees and tiers decide (fields the block key resets)
      int domainPeers = version.corrected() && exe.modelMoE() ? ExpertDispatch.domainPeers(exe, hw) : 0;
      Object[] memo = last.get();
      // a step asks for its blocks with one execution object, a search's bound first with the same
      // one: its canonical key is built once
      Execution canonical;
      if (memo[2] == exe) {
        canonical = (Execution) memo[3];
      } else {
        canonical = blockKey(exe);
        memo[2] = exe;
        memo[3] = canonical;
      }
      Key key = new Key(canonical, kind, embedding, logits, domainPeers);
      if (key.equals(memo[0])) {
        return (BlockStats) memo[1];
      }
      BlockStats b = blocks.get(key);
      if (b != null) {
        memo[0] = key;
        memo[1] = b;
        return b;
      }
      owner.builds.incrementAndGet();
      b = BlockStats.of(BlockBuilder.buildWithVocabulary(app, exe, hw, version, kind, embedding, logits),
          app, exe, hw, version);
      if (blocks.putIfAbsent(key, b) == null && owner.entries.incrementAndGet() > owner.maxEntries) {
        owner.clear();
      }
      memo[0] = key;
      memo[1] = b;
      return b;
    }
  }

  private void clear() {
    for (Scope s : scopes.values()) {
      int n = s.blocks.size();
      s.blocks.clear();
      entries.addAndGet(-n);
    }
  }

  /**
   * A block key. Equality is the canonical execution's, all fields; the hash mixes only the fields
   * that vary most in a search (cheaper than the record's hash over every field; a field left out
   * of the hash can only cost collisions, never a wrong block).
   */
  private static final class Key {
    final Execution exe;
    final BlockBuilder.Kind kind;
    final boolean embedding;
    final boolean logits;
    /** EP peers in one tier-0 domain (corrected MoE; else 0). */
    final int domainPeers;
    final int hash;

    Key(Execution exe, BlockBuilder.Kind kind, boolean embedding, boolean logits, int domainPeers) {
      this.exe = exe;
      this.domainPeers = domainPeers;
      this.kind = kind;
      this.embedding = embedding;
      this.logits = logits;
      int h = exe.tensorPar();
      h = 31 * h + exe.microbatchSize();
      h = 31 * h + exe.pipelinePar();
      h = 31 * h + exe.dataPar();
      h = 31 * h + exe.tensorParNet();
      h = 31 * h + exe.expertPar();
      h = 31 * h + exe.expertSlice();
      h = 31 * h + exe.activationRecompute().ordinal();
      h = 31 * h + exe.tensorParCommType().ordinal();
      h = 31 * h + exe.tensorParOverlap().ordinal();
      h = 31 * h + (exe.seqParAgRedo() ? 1 : 0) + (exe.fusedActivation() ? 2 : 0)
          + (exe.optimizerSharding() ? 4 : 0) + (embedding ? 8 : 0) + (logits ? 16 : 0);
      h = 31 * h + domainPeers;
      h = 31 * h + exe.contextPar() * 8 + exe.contextParNet() * 2 + exe.parallel().contextParCommType().ordinal();
      this.hash = 31 * h + kind.ordinal();
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.hash == hash && k.kind == kind && k.embedding == embedding
          && k.logits == logits && k.domainPeers == domainPeers && k.exe.equals(exe);
    }
  }

  /**
   * The execution as a block key: the fields the block does not depend on are reset; everything
   * else is kept. Not used by {@link BlockBuilder} or {@link BlockStats} (checked by the search
   * shortcut test against uncached evaluation on many spaces):
   * <ul>
   *   <li>num_procs, batch_size, pipeline_interleaving (step level only);</li>
   *   <li>pipeline_par_net, data_par_net, data_par_exp_net (the block's comm runs on the TP, EP and
   *       ES tiers);</li>
   *   <li>data_par_overlap and the three offload flags (step level only);</li>
   *   <li>pipeline_par beyond whether it is 1 (the block only asks whether there is a pipeline:
   *       the pipeline transfer size and untied output embeddings);</li>
   *   <li>data_par and data_par_exp without optimizer sharding or a ZeRO stage (they only divide
   *       the sharded optimizer state);</li>
   *   <li>the ZeRO stage beyond whether it shards and whether the weight-gradient pass adds into
   *       a gradient buffer (stages 0 and 1, {@code Layer.accumulatesGradient}): stages 2 and 3
   *       build the same block (the stages differ in the step's memory and DP traffic,
   *       {@code StageMemory} and {@code Evaluator}), and the first / last stage block
   *       counts (step level only); CP's tier and comm type when CP is 1 (no CP layer).</li>
   * </ul>
   */
  // the canonical constructor: a field added to Execution must be added here (passed through)
  static Execution blockKey(Execution e) {
    boolean shard = e.optimizerSharding() || e.zeroStage() > 0;
    return new Execution(0, e.tensorPar(), Math.min(e.pipelinePar(), 2), shard ? e.dataPar() : 1,
        e.tensorParNet(), 0, 0, 0, e.microbatchSize(), e.numExperts(), e.topKExperts(),
        e.expertPar(), e.expertSlice(), shard ? e.dataParExp() : 1, 0, e.expertParNet(),
        e.expertSliceNet(), e.datatype(), e.fusedActivation(), e.attentionType(),
        e.activationRecompute(), 1, shard, e.tensorParCommType(), e.tensorParOverlap(),
        e.seqParAgRedo(), false, false, false, false, e.training(), e.modelMoE(),
        e.activationFunction(), e.precision(), blockParallel(e.parallel(), shard), e.layerOptions(),
        e.scheduleOptions());
  }

  /**
   * The parallel options as far as a block depends on them: sharding and gradient accumulation
   * (ZeRO 0, 1, or 2 for stages 2 and 3), CP, its tier and comm type.
   */
  private static ParallelOptions blockParallel(ParallelOptions p, boolean shard) {
    boolean cp = p.contextPar() > 1;
    // stage 1 stands for the stages that add into a gradient buffer, 2 for those that do not
    int zero = !shard ? 0 : BlockBuilder.addsIntoGradientBuffer(p.zeroStage()) ? 1 : 2;
    return new ParallelOptions(zero, false, p.contextPar(), cp ? p.contextParNet() : 0,
        cp ? p.contextParCommType() : CpCommType.P2P, 0, 0);
  }

  /**
   * A value with deep equality: records become the list of their components' deep values, arrays
   * and collections lists of their elements' (a record's array component compares by identity).
   */
  static Object deepValue(Object o) {
    if (o == null) {
      return null;
    }
    Class<?> c = o.getClass();
    if (c.isRecord()) {
      List<Object> out = new ArrayList<>();
      out.add(c);
      for (RecordComponent rc : c.getRecordComponents()) {
        try {
          rc.getAccessor().setAccessible(true);
          out.add(deepValue(rc.getAccessor().invoke(o)));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("cannot read " + c.getName() + "." + rc.getName(), e);
        }
      }
      return out;
    }
    if (c.isArray()) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < Array.getLength(o); i++) {
        out.add(deepValue(Array.get(o, i)));
      }
      return out;
    }
    if (o instanceof Map<?, ?> m) {
      List<Object> out = new ArrayList<>();
      for (Map.Entry<?, ?> en : m.entrySet()) {
        out.add(java.util.Arrays.asList(deepValue(en.getKey()), deepValue(en.getValue())));
      }
      out.sort((a, b) -> String.valueOf(((List<?>) a).get(0)).compareTo(String.valueOf(((List<?>) b).get(0))));
      return out;
    }
    if (o instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      for (Object x : it) {
        out.add(deepValue(x));
      }
      return out;
    }
    return o;
  }
}
