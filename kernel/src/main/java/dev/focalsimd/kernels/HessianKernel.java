package dev.focalsimd.kernels;

/**
 * Gradient and diagonal Hessian of the unreduced focal loss w.r.t. the logits, for gradient
 * boosting (XGBoost, LightGBM custom objectives). Internal, like {@link FocalKernel}: callers have
 * validated every argument, so implementations check nothing.
 *
 * <p>Every method works on {@code rows} rows of a row-major {@code rows x classes} block that
 * starts at the given offsets and overwrites {@code rows * classes} values of {@code grad} and of
 * {@code hess}: {@code grad[i] = dl/dx_i} and {@code hess[i] = max(d2l/dx_i^2, hessianFloor)},
 * where l is the element's loss (sigmoid) or the row's loss (softmax). No reduction, no scaling.
 * Rows whose class index is {@link LossParams#ignoreIndex} get gradient 0 and Hessian 0 (the
 * floor does not apply to them: they are not part of the objective). The closed forms are derived
 * in docs/hessian.md.
 */
public interface HessianKernel {

  /** The kernel's name as the public {@code Kernel} enum spells it: SCALAR or VECTOR. */
  String name();

  /** Sigmoid form, dense targets in [0, 1]: one independent logit per element. */
  void sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows, int classes,
      float[] grad, int gOff, float[] hess, int hOff);

  /** Sigmoid form, class indices; index {@code classes} means background (all negatives). */
  void sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows, int classes,
      float[] grad, int gOff, float[] hess, int hOff);

  /**
   * Softmax form, class indices, without label smoothing: the diagonal of the Hessian of the row
   * loss {@code -alpha_t (1 - p_t)^gamma ln p_t} w.r.t. each of the row's logits.
   */
  void softmax(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows, int classes,
      float[] grad, int gOff, float[] hess, int hOff);
}
