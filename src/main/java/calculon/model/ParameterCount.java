package calculon.model;

import calculon.config.Application;

/**
 * Parameters of a model: all of them, and those one token passes through (for MoE, the top-k
 * experts). Dense counts follow Narayanan et al. 2021 eq. 2 as Calculon does (biases, layer norms,
 * Calculon's 51,200-entry vocabulary and learned position embeddings); Calculon ignores experts.
 *
 * @param total  every parameter
 * @param active parameters used for one token
 */
public record ParameterCount(long total, long active) {

  /** Attention weights and biases of one block, with both layer norms: 4·H·A·d + 3·A·d + H + 2·2·H. */
  static long attentionPerBlock(Application app) {
    long h = app.hidden(), a = app.attnHeads(), d = app.attnSize();
    return 4 * h * a * d + 3 * a * d + h + 2 * 2 * h;
  }

  /** One MLP (or expert) with biases: two matrices (GeLU), or three with a gate (SwiGLU). */
  static long mlp(Application app, boolean gated) {
    long h = app.hidden(), f = app.feedforward();
    return gated ? 3 * h * f + 2 * f + h : 2 * h * f + f + h;
  }

  static long embeddings(Application app) {
    return (Application.CALCULON_VOCAB_SIZE + app.seqSize()) * app.hidden();
  }

  /** A dense model: Calculon's count. */
  public static ParameterCount dense(Application app) {
    long p = app.numParametersDense();
    return new ParameterCount(p, p);
  }

  /** A MoE model: every block has a router (H·E weights) and E experts, of which k serve each token. */
  public static ParameterCount moe(Application app, int experts, int topK, boolean gated) {
    long perBlockShared = attentionPerBlock(app) + app.hidden() * experts;
    long expert = mlp(app, gated);
    long total = app.numBlocks() * (perBlockShared + experts * expert) + embeddings(app);
    long active = app.numBlocks() * (perBlockShared + (long) topK * expert) + embeddings(app);
    return new ParameterCount(total, active);
  }
}
