package calculon.config;

/**
 * How the optimizer step (AdamW) and its gradient clipping run (execution key
 * {@code optimizer_kernel}; corrected model). It decides the HBM traffic of the step, charged on
 * the optimizer pass of each layer over this processor's shard of its parameters (the DP x CP
 * shard under a sharded optimizer, ZeRO stage 1 and up); the flops are Calculon's 11 per
 * parameter for every kernel. calculon-moe keeps Calculon's count, the optimizer state read once.
 *
 * <p>Counted per parameter of the shard ({@link #bytesPerParameter}), with {@code w} the stored
 * weight's bytes, {@code g} the gradient's as kept until the step ({@code gradient_datatype}),
 * {@code p} the bytes of the copy the update runs on (the fp32 master when the weights are
 * narrower, else the weight itself), {@code s} the bytes of each Adam moment and {@code F} = 4
 * (fp32). Each element a kernel reads or writes is counted once, whatever the number of its
 * arguments that name it; the few scalar kernels (step counters, the norm's reduction) are left out.
 * Both frameworks clip every step ({@code max_norm} 1.0 by default: Megatron-LM's
 * {@code --clip-grad}, torchtitan's {@code training.max_norm}).
 */
public enum OptimizerKernel {
  /**
   * Calculon's count, the default: the master weights (when narrower weights have one) and both
   * moments read once, p + 2s with no gradient and no writes (Calculon's layers.py, the
   * optimizer's memory accessed = its state), which no kernel moves. It stays the default because
   * {@link #FUSED} on the files that do not say moves Korthikanti et al.'s Table 5 past the
   * original Calculon's error (docs/validation.md, "The optimizer step's traffic").
   */
  CALCULON("calculon"),
  /**
   * Megatron-Core's step (megatron/core/optimizer/, core_r0.8.0, which builds Transformer
   * Engine's or Apex's {@code FusedAdam} whenever either is installed, __init__.py): the gradient
   * shard copied into an fp32 main gradient when it is narrower
   * ({@code DistributedOptimizer._copy_model_grads_to_main_grads}: {@code shard_model_grad.float()},
   * g + F, nothing when it is fp32); the gradient norm over the main gradients
   * ({@code clip_grads.get_grad_norm_fp32}, {@code multi_tensor_l2norm}: F); one fused Adam pass
   * (Transformer Engine's or Apex's {@code FusedAdam}, {@code multi_tensor_adam}: reads the main
   * gradient, the parameter and both moments, writes the last three: F + 2p + 4s); and, with a
   * narrower model copy, the copy of the updated fp32 shard into it
   * ({@code _copy_main_params_to_model_params}: {@code copy_}, p + w). The clipping scale
   * ({@code clip_grad_by_total_norm_fp32}, {@code multi_tensor_scale}) runs only when the norm
   * exceeds {@code max_norm} ({@code if clip_coeff < 1.0}, core_r0.8.0 to core_v0.17); it is not
   * charged: a step past the warm-up of a converging run stays under the bound.
   */
  FUSED("fused"),
  /**
   * PyTorch's fused AdamW ({@code torch.optim.AdamW(fused=True)}, {@code _fused_adamw}:
   * {@code torch._fused_adamw_}; torchtitan's {@code optimizer.implementation} default "fused"
   * from 2025, torchtitan/components/optimizer.py {@code build_optimizers} at 820504e and e7c0cae):
   * one pass that reads the gradient, the parameter and both moments and writes the last three
   * (g + 2p + 4s), on the parameter itself (FSDP2 keeps the sharded parameter in fp32, its
   * 16-bit copy is made at the all-gather); then torch's clipping
   * ({@code torch.nn.utils.clip_grad_norm_} through torchtitan's {@code clip_grad_norm_}): the
   * norm's {@code _foreach_norm} (g) and an unconditional {@code _foreach_mul_} by the clamped
   * coefficient ({@code clip_grads_with_norm_}: "avoids a {@code if clip_coef < 1:} conditional
   * which can require a CPU &lt;=&gt; device synchronization": 2g).
   */
  TORCH_FUSED("torch_fused"),
  /**
   * PyTorch's multi-tensor AdamW ({@code foreach=True}, {@code _multi_tensor_adamw} in
   * torch/optim/adamw.py, non-capturable path, torch 2.2 to 2.6; torchtitan at 9dec370,
   * torchtitan/optimizer.py {@code build_optimizers}: {@code "fused": fused, "foreach": not fused}
   * with {@code optimizer.fused} false by default), one kernel per {@code _foreach_*} op, each a
   * full pass: the weight decay {@code _foreach_mul_(params)} (2p), {@code _foreach_lerp_(exp_avgs, grads)}
   * (2s + g), {@code _foreach_mul_(exp_avg_sqs)} (2s), {@code _foreach_addcmul_(exp_avg_sqs, grads, grads)}
   * (2s + g), {@code _foreach_sqrt(exp_avg_sqs)} into a new tensor (2s), its {@code _foreach_div_}
   * and {@code _foreach_add_} (2s each) and {@code _foreach_addcdiv_(params, exp_avgs, denom)}
   * (2p + 2s): 4p + 14s + 2g; then torch's clipping as {@link #TORCH_FUSED} (3g).
   */
  FOREACH("foreach");

  /** Bytes of an fp32 element: Megatron-Core's main gradients and main parameters. */
  public static final double F = Datatype.FLOAT32.bytesPerElement;

  public final String jsonName;

  OptimizerKernel(String jsonName) { this.jsonName = jsonName; }

  /**
   * HBM bytes the optimizer step and the gradient clipping move per parameter of the
   * optimizer's shard.
   *
   * @param weight   bytes of a stored weight ({@code weight_datatype})
   * @param gradient bytes of a gradient as kept until the step ({@code gradient_datatype})
   * @param master   bytes of a master weight ({@code master_weight_datatype}); a master copy
   *                 exists only when it is wider than the weight
   * @param moment   bytes of each of Adam's two moments ({@code optimizer_datatype})
   * @return bytes per parameter
   */
  public double bytesPerParameter(double weight, double gradient, double master, double moment) {
    boolean hasMaster = weight < master;
    double p = hasMaster ? master : weight;
    switch (this) {
      case CALCULON:
        return (hasMaster ? master : 0) + 2 * moment;
      case TORCH_FUSED:
        return (gradient + 2 * p + 4 * moment) + 3 * gradient;
      case FOREACH:
        return (4 * p + 14 * moment + 2 * gradient) + 3 * gradient;
      default:  // FUSED
        double toMainGrad = gradient < F ? gradient + F : 0;
        double copyToModel = hasMaster ? p + weight : 0;
        return toMainGrad + F + (F + 2 * p + 4 * moment) + copyToModel;
    }
  }
}
