package dev.focalsimd.kernels;

import java.util.Arrays;

/**
 * The plain-Java gradient and diagonal Hessian: {@link Math} functions, intermediates in double.
 * The reference for any vector implementation. Derivations: docs/hessian.md.
 *
 * <p>Numerics, with q = 1 - p_t: the Hessians hold q^(gamma - 1) and q^(gamma - 2), infinite at q
 * = 0 for gamma below 1 or 2, multiplied by factors that vanish there. Each such product is
 * rewritten as q^gamma times bounded ratios (p(1 - p) / q for the sigmoid, (delta_jt - p_j) / q
 * and ln p_t / q for the softmax, all in [-1, 1]), so no infinity times zero arises for any gamma
 * >= 0 and any finite logit. The softmax row is normalised with log1p of the sum of the non-max
 * terms, so 1 - p_t keeps its digits when p_t is near 1.
 */
public final class ScalarHessianKernel implements HessianKernel {

  public static final ScalarHessianKernel INSTANCE = new ScalarHessianKernel();

  private ScalarHessianKernel() {}

  @Override
  public String name() {
    return "SCALAR";
  }

  // ---------------------------------------------------------------- sigmoid

  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    for (int r = 0; r < rows; r++) {
      int e = r * classes;
      for (int c = 0; c < classes; c++) {
        sigmoidElement(p, x[xOff + e + c], y[yOff + e + c], c, grad, gOff + e + c, hess,
            hOff + e + c);
      }
    }
  }

  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    for (int r = 0; r < rows; r++) {
      int e = r * classes;
      int target = t[tOff + r];
      if (target == p.ignoreIndex) {
        Arrays.fill(grad, gOff + e, gOff + e + classes, 0f);
        Arrays.fill(hess, hOff + e, hOff + e + classes, 0f);
        continue;
      }
      for (int c = 0; c < classes; c++) {
        sigmoidElement(p, x[xOff + e + c], c == target ? 1.0 : 0.0, c, grad, gOff + e + c,
            hess, hOff + e + c);
      }
    }
  }

  /**
   * l = w ce q^gamma with ce = softplus(x) - x y, q = p + y - 2 p y, s = p (1 - p), r = s / q (in
   * [0, 1] for every y in [0, 1]; 0 where q = 0, the limit of every term it multiplies):
   * dl/dx = w q^gamma [(p - y) + gamma (1 - 2y) ce r];
   * d2l/dx2 = w q^gamma [s + gamma r (1 - 2y) (2 (p - y) + (1 - 2p) ce + (gamma - 1)(1 - 2y) ce r)].
   */
  private static void sigmoidElement(LossParams p, float xf, double y, int c, float[] grad,
      int gi, float[] hess, int hi) {
    double x = xf;
    double e = Math.exp(-Math.abs(x));
    double inv = 1.0 / (1.0 + e);
    double prob = x >= 0 ? inv : e * inv; // sigmoid(x)
    double omp = x >= 0 ? e * inv : inv; // 1 - sigmoid(x), without cancellation
    // log1p(e) as ScalarKernel.sigmoidBlock takes it (there: why it is exact enough), not
    // Math.log1p, a JNI call on JDK 17
    double ce = Math.max(x, 0.0) - x * y + (e < 1e-8 ? e : Math.log(1.0 + e));
    double q = prob * (1.0 - y) + omp * y; // 1 - p_t
    double w = p.classWeightOf(c);
    if (p.sigmoidAlpha >= 0f) {
      w *= p.sigmoidAlpha * y + (1.0 - p.sigmoidAlpha) * (1.0 - y);
    }
    double qg = ScalarKernel.powGamma(q, prob * y + omp * (1.0 - y), p);
    double s = prob * omp;
    double ratio = q > 0 ? s / q : 0.0;
    double dce = prob * (1.0 - y) - omp * y; // p - y
    double sy = 1.0 - 2.0 * y;
    double g = p.gamma;
    // The expression of ScalarKernel.sigmoidTerms, so the gradients agree bit for bit.
    grad[gi] = (float) (w * (dce * qg + ce * g * qg * ratio * sy));
    double h = w * qg * (s + g * ratio * sy
        * (2.0 * dce + (omp - prob) * ce + (g - 1.0) * sy * ce * ratio));
    hess[hi] = (float) Math.max(h, p.hessianFloor);
  }

  // ---------------------------------------------------------------- softmax

  /**
   * With u = ln p_t, q = 1 - p_t, d_j = delta_jt - p_j (|d_j| <= q) and f(u) = -(1 - e^u)^gamma u:
   * f'(u) = gamma p_t q^gamma (u / q) - q^gamma; dl/dz_j = alpha_t f'(u) d_j;
   * d2l/dz_j2 = alpha_t [f''(u) d_j^2 - f'(u) p_j (1 - p_j)] with
   * f''(u) d_j^2 = gamma q^gamma (d_j / q)^2 p_t [q (u + 2) - (gamma - 1) p_t u].
   */
  @Override
  public void softmax(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    double g = p.gamma;
    double floor = p.hessianFloor;
    // exp(z_c - max) of the current row, in [0, classes): the scalar kernel's per-thread scratch
    // (a new array per block of rows was 2 MB per call at 4096 x 1000, HotLoopTest's hessian suite)
    double[] e = ScalarKernel.dScratch(classes);
    for (int r = 0; r < rows; r++) {
      int row = zOff + r * classes;
      int gRow = gOff + r * classes;
      int hRow = hOff + r * classes;
      int target = t[tOff + r];
      if (target == p.ignoreIndex) {
        Arrays.fill(grad, gRow, gRow + classes, 0f);
        Arrays.fill(hess, hRow, hRow + classes, 0f);
        continue;
      }
      int jm = ScalarKernel.argMax(z, row, classes);
      float m = z[row + jm];
      for (int c = 0; c < classes; c++) {
        e[c] = Math.exp((double) z[row + c] - m);
      }
      double rest = 0; // sum of exp(z_c - m) over c != jm, without the 1 of the max
      for (int c = 0; c < jm; c++) {
        rest += e[c];
      }
      for (int c = jm + 1; c < classes; c++) {
        rest += e[c];
      }
      double sum = 1.0 + rest;
      double et = e[target];
      // Sum over c != target: for t != jm, p_t <= 1/2, so 1 + rest - e_t loses no digits.
      double others = target == jm ? rest : sum - et;
      double u = ((double) z[row + target] - m) - ScalarKernel.log1pSum(rest); // ln p_t
      double inv = 1.0 / sum;
      double pt = et * inv;
      double q = others * inv; // 1 - p_t, from the other classes' terms
      double ratio = q > 0 ? u / q : -1.0; // ln p_t / (1 - p_t), -> -1 as p_t -> 1
      double qg = ScalarKernel.powGamma(q, pt, p);
      double a = p.alphaOf(target);
      double fp = g * pt * qg * ratio - qg; // f'(u)
      double curv = g * qg * pt * (q * (u + 2.0) - (g - 1.0) * pt * u); // f''(u) q^2
      double invOthers = others > 0 ? 1.0 / others : 0.0;
      // others below 1 / Double.MAX_VALUE (subnormal: the target the largest logit by about 710
      // or more) makes invOthers infinite and e_c invOthers Inf or NaN: divide instead
      boolean tiny = invOthers == Double.POSITIVE_INFINITY;
      double afp = a * fp;
      for (int c = 0; c < classes; c++) {
        double ec = e[c];
        double pc = ec * inv;
        double dq = tiny ? ec / others : ec * invOthers; // -d_c / q, in [0, 1]
        grad[gRow + c] = (float) (-afp * pc);
        hess[hRow + c] = (float) Math.max(a * (curv * dq * dq - fp * pc * (1.0 - pc)), floor);
      }
      // The arg-max class: 1 - p_c from the other terms, without cancellation.
      if (jm != target) {
        double pc = inv; // e_jm = 1
        double dq = invOthers;
        hess[hRow + jm] = (float) Math.max(a * (curv * dq * dq - fp * pc * (rest * inv)), floor);
      }
      // The target class: d_t / q = 1, 1 - p_t = q.
      grad[gRow + target] = (float) (afp * q);
      hess[hRow + target] = (float) Math.max(a * (curv - fp * pt * q), floor);
    }
  }
}
