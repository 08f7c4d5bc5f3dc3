package calculon.model;

import calculon.config.Architecture;
import calculon.model.Layers.LayerNorm;
import calculon.model.Layers.Rotary;
import calculon.model.Layers.SwiGLU;

/**
 * The HBM traffic of element-wise layers run as PyTorch eager tensor ops (execution key
 * {@code elementwise_kernels: eager}; corrected model): every op of the layer's code is a kernel
 * of its own that reads its inputs and writes its output, in fp32 where the code upcasts; the
 * backward pass runs each op's autograd formula the same way. Counted per element of the layer's
 * tensor, with {@code a} the activation bytes and {@code F} = 4 (fp32), from the code of
 * torchtitan's Llama (commit 9dec370, the end-2024 benchmark's):
 *
 * <ul>
 *   <li>RMSNorm ({@code torchtitan/models/norms.py} {@code RMSNorm}: {@code _norm(x.float()).type_as(x) *
 *       weight}, {@code _norm = x * rsqrt(x.pow(2).mean(-1) + eps)}): forward {@code x.float()}
 *       (a + F), {@code pow} (2F), {@code mean} (F), {@code x * rsqrt} (2F), {@code type_as} (F + a),
 *       {@code * weight} (2a): 4a + 7F; input-gradient pass: {@code * weight} (2a), {@code type_as}
 *       (a + F), {@code * rsqrt} and its row sum (2F + 3F + F), {@code mean} (F), {@code pow}
 *       (2F + 3F), the two gradients' sum (3F), {@code float()} (F + a): 4a + 17F (the weight's
 *       gradient stays in the weight-gradient pass). LayerNorm is one ATen kernel either way.</li>
 *   <li>Rotary embedding ({@code apply_rotary_emb}: {@code view_as_complex(x.float())},
 *       a complex multiply, {@code view_as_real(...).type_as(x)}): (a + F) + 2F + (F + a) = 2a + 4F
 *       in each pass.</li>
 *   <li>SwiGLU ({@code F.silu(w1(x)) * w3(x)}), per element of the product: forward {@code silu}
 *       (2a) and the product (3a): 5a; backward the product's two gradients (3a each) and
 *       {@code silu_backward} (3a): 9a.</li>
 * </ul>
 * The loss ({@code train.py} {@code loss_fn}: {@code cross_entropy(pred.float(), labels)}) is the
 * {@link calculon.config.LossKernel#EAGER} kernel, which {@code elementwise_kernels: eager} implies
 * unless {@code loss_kernel} says otherwise. Residual additions, dropout and copies are one op either way; the fused attention kernel is one
 * kernel. Kernel launch latency is not charged.
 */
final class EagerElementwise {
  /** Bytes of an fp32 intermediate. */
  static final double F = 4;

  private EagerElementwise() { }

  /** Sets {@code l}'s eager traffic if it is an element-wise layer eager PyTorch splits into ops. */
  static void apply(Layer l, Architecture.Norm norm) {
    double a = l.bytesPerElement;
    double n = l.inputsSize;
    if (l instanceof LayerNorm && norm == Architecture.Norm.RMSNORM) {
      set(l, n * (4 * a + 7 * F), n * (4 * a + 17 * F));
    } else if (l instanceof Rotary) {
      set(l, n * (2 * a + 4 * F), n * (2 * a + 4 * F));
    } else if (l instanceof SwiGLU) {
      set(l, n * 5 * a, n * 9 * a);
    }
  }

  private static void set(Layer l, double fw, double agrad) {
    l.eagerFwBytes = fw;
    l.eagerAgradBytes = agrad;
  }
}
