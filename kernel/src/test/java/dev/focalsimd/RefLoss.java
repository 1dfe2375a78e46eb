package dev.focalsimd;

/**
 * An independent reference for the three forms, written from the formulas of issue 3 and the
 * golden README in double precision, sharing no code with the kernels. It gives row losses, the
 * reduction's denominator, and the gradient of the reduced loss by central finite differences
 * (Richardson-extrapolated) of the row loss in double.
 *
 * <p>Targets are passed as a dense row: a class index is turned into its one-hot row first (label
 * smoothing applied for the softmax form, all zeros for sigmoid background); an ignored row has
 * no loss and no gradient and is handled by the caller.
 */
final class RefLoss {

  enum Form { ONE_VS_ALL, ONE_VS_ALL_LOGITS, SOFTMAX, SIGMOID }

  final Form form;
  final double gamma;
  /** One-vs-all and softmax per-class weights; null for all 1. */
  final double[] alpha;
  /** Sigmoid: weight of positives; negative for no alpha weighting. */
  final double sigmoidAlpha;
  /** Sigmoid per-column weights; null for all 1. */
  final double[] classWeights;
  /** One-vs-all clip bounds, as floats. */
  final float lo;
  final float hi;

  RefLoss(Form form, double gamma, double[] alpha, double sigmoidAlpha, double[] classWeights,
      float epsilon) {
    this.form = form;
    this.gamma = gamma;
    this.alpha = alpha;
    this.sigmoidAlpha = sigmoidAlpha;
    this.classWeights = classWeights;
    this.lo = epsilon;
    this.hi = 1f - epsilon;
  }

  private double a(int c) {
    return alpha == null ? 1.0 : alpha[c];
  }

  /** q^gamma, with 0^0 = 1. */
  private double pow(double q) {
    return gamma == 0 ? 1.0 : Math.pow(q, gamma);
  }

  // ------------------------------------------------------------------ losses

  /** The loss of one row x[0, C) with dense targets y[0, C). */
  double rowLoss(double[] x, double[] y) {
    double s = 0;
    for (double t : rowTerms(x, y)) {
      s += t;
    }
    return s;
  }

  /** The row loss's terms, one per class (0 where a softmax target is 0); they sum to it. */
  double[] rowTerms(double[] x, double[] y) {
    return rowTerms(x, y, null);
  }

  /** The same, and where {@code pattern} is not null, {@link #clipPattern} into pattern[0]. */
  private double[] rowTerms(double[] x, double[] y, long[] pattern) {
    double[] t = new double[x.length];
    if (pattern != null) {
      pattern[0] = 0;
    }
    switch (form) {
      case ONE_VS_ALL:
        for (int c = 0; c < x.length; c++) {
          t[c] = ovaElement(x[c], y[c], a(c));
        }
        return t;
      case ONE_VS_ALL_LOGITS: {
        double[][] p = ovaProbabilities(x);
        for (int c = 0; c < x.length; c++) {
          t[c] = ovaElement(p[0][c], p[1][c], y[c], a(c));
        }
        if (pattern != null) {
          pattern[0] = patternOf(p[0]);
        }
        return t;
      }
      case SOFTMAX: {
        double[] lnp = logSoftmax(x);
        for (int c = 0; c < x.length; c++) {
          if (y[c] != 0) {
            double q = -Math.expm1(lnp[c]); // 1 - p_c without cancellation
            t[c] = -a(c) * y[c] * pow(q) * lnp[c];
          }
        }
        return t;
      }
      default:
        for (int c = 0; c < x.length; c++) {
          t[c] = sigmoidElement(x[c], y[c], c);
        }
        return t;
    }
  }

  /** The note's element loss: p clipped to [lo, hi], l = -a (1 - p_t)^gamma ln p_t. */
  double ovaElement(double p, double y, double a) {
    return ovaElement(p, 1 - p, y, a); // p a float (or a step from one): 1 - p is exact or near
  }

  /**
   * The same, given 1 - p as {@code omp} computed without cancellation (from logits, for the
   * largest class, see {@link #ovaProbabilities}). The clip is decided on p. q = 1 - p_t and p_t
   * are both sums of non-negative terms, so each keeps its relative accuracy where the other is
   * near 1; ln p_t is log1p(-q) where q < 1/2 and log(p_t) elsewhere, never log(1 - q) of a q near
   * 1 (a rounding of q of 1e-16 would be a relative error of 1e-16 / p_t in p_t).
   */
  double ovaElement(double p, double omp, double y, double a) {
    double pc = p < lo ? lo : p > hi ? hi : p;
    double ompc = p < lo ? 1 - (double) lo : p > hi ? 1 - (double) hi : omp;
    double q = y * ompc + (1 - y) * pc; // 1 - p_t
    double pt = y * pc + (1 - y) * ompc;
    double lnpt = q < 0.5 ? Math.log1p(-q) : Math.log(pt);
    return -a * pow(q) * lnpt;
  }

  /** torchvision's sigmoid_focal_loss element, from the logit. */
  double sigmoidElement(double x, double y, int c) {
    double ce = Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
    double p = sigmoid(x);
    double omp = sigmoid(-x);
    double q = p * (1 - y) + omp * y;
    double w = classWeights == null ? 1.0 : classWeights[c];
    if (sigmoidAlpha >= 0) {
      w *= sigmoidAlpha * y + (1 - sigmoidAlpha) * (1 - y);
    }
    return w * ce * pow(q);
  }

  static double sigmoid(double x) {
    if (x >= 0) {
      return 1 / (1 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1 + e);
  }

  /** ln softmax(x): x_c - max - ln(sum exp(x_k - max)), the sum's leading 1 taken by log1p. */
  static double[] logSoftmax(double[] x) {
    int m = 0;
    for (int c = 1; c < x.length; c++) {
      if (x[c] > x[m]) {
        m = c;
      }
    }
    double rest = 0;
    for (int c = 0; c < x.length; c++) {
      if (c != m) {
        rest += Math.exp(x[c] - x[m]);
      }
    }
    // (x_c - x_m) - log1p(rest), never x_c - (x_m + log1p(rest)): where |x_m| is large, x_m +
    // log1p(rest) rounds away log1p(rest) (at 1e30 all of it)
    double logSum = Math.log1p(rest);
    double[] out = new double[x.length];
    for (int c = 0; c < x.length; c++) {
      out[c] = (x[c] - x[m]) - logSum;
    }
    return out;
  }

  /**
   * One-vs-all from logits: {p, 1 - p} per class, p_c = e_c / (1 + rest) with e_c = exp(x_c - x_m)
   * and rest the sum of e_c over the classes other than the largest m. 1 - p_m is rest / (1 +
   * rest), not 1 - p_m: the latter cancels where p_m is near 1 and carries the rounding of the
   * log-sum-exp (an ulp of the largest logit, 1.4e-14 at 96) divided by 1 - p_m. That was a
   * relative error of 1.2e-8 in 1 - p_m = 4.2e-7 of the reproducer in PropertyTest, which the
   * difference quotient (step 1e-3) turned into a 2.4e-5 error of the derivative. Every other
   * class has p <= 1/2, so 1 - p has no cancellation.
   */
  static double[][] ovaProbabilities(double[] x) {
    int m = 0;
    for (int c = 1; c < x.length; c++) {
      if (x[c] > x[m]) {
        m = c;
      }
    }
    double[] e = new double[x.length];
    double rest = 0;
    for (int c = 0; c < x.length; c++) {
      e[c] = c == m ? 1 : Math.exp(x[c] - x[m]);
      rest += c == m ? 0 : e[c];
    }
    double sum = 1 + rest;
    double[] p = new double[x.length];
    double[] omp = new double[x.length];
    for (int c = 0; c < x.length; c++) {
      p[c] = e[c] / sum;
      omp[c] = c == m ? rest / sum : 1 - p[c];
    }
    return new double[][] {p, omp};
  }

  /** One-vs-all from logits: which elements of the row are clipped (to skip kinks in FD). */
  long clipPattern(double[] x) {
    if (form != Form.ONE_VS_ALL_LOGITS) {
      return 0;
    }
    return patternOf(ovaProbabilities(x)[0]);
  }

  /** The clip pattern of a row's probabilities p. */
  private long patternOf(double[] p) {
    long h = 1;
    for (int c = 0; c < p.length; c++) {
      int s = p[c] < lo ? 1 : p[c] > hi ? 2 : 0;
      h = h * 31 + s;
    }
    return h;
  }

  // ------------------------------------------------------------------ finite differences

  /**
   * d rowLoss / d x[j] by finite differences in double, or NaN where the row function has a kink
   * within the stencil (a one-vs-all clip bound crossed; those coordinates are not checked).
   */
  double derivative(double[] x, double[] y, int j) {
    switch (form) {
      case ONE_VS_ALL:
        return ovaDerivative(x[j], y[j], a(j));
      case SIGMOID: {
        double h = 1e-3;
        return richardsonCentral(v -> sigmoidElement(v, y[j], j), x[j], h);
      }
      default: {
        double h = 1e-3;
        double[] w = x.clone();
        long pattern = clipPattern(x);
        long[] at = new long[1];
        boolean[] kink = new boolean[1];
        java.util.function.DoubleFunction<double[]> terms = v -> {
          w[j] = v;
          double[] t = rowTerms(w, y, at); // and the clip pattern at this stencil point
          kink[0] |= at[0] != pattern;
          return t;
        };
        double d = (4 * centralByTerms(terms, x[j], h / 2) - centralByTerms(terms, x[j], h)) / 3;
        return kink[0] ? Double.NaN : d;
      }
    }
  }

  /**
   * d/dp of the note's element loss at a float probability p. Outside [lo, hi] the loss is
   * constant on a neighbourhood (derivative 0); inside, steps are scaled to min(p, 1 - p) and stay
   * on the side of a clip bound where p is (one-sided stencils at the bound itself).
   */
  private double ovaDerivative(double p, double y, double a) {
    if (p < lo || p > hi) {
      return 0;
    }
    java.util.function.DoubleUnaryOperator f = v -> ovaElement(v, y, a);
    double h = 1e-3 * Math.min(p, 1 - p);
    if (p - lo >= 2 * h && hi - p >= 2 * h) {
      return richardsonCentral(f, p, h);
    }
    double dir = p - lo < 2 * h ? 1 : -1;
    return richardsonOneSided(f, p, h, dir);
  }

  static double central(java.util.function.DoubleUnaryOperator f, double x, double h) {
    double xp = x + h;
    double xm = x - h;
    return (f.applyAsDouble(xp) - f.applyAsDouble(xm)) / (xp - xm);
  }

  /**
   * The central difference of a row loss as the sum of its terms' differences: a term that does
   * not move (a clipped class) cancels exactly, and the rounding left is that of the terms, not
   * an ulp of the whole row loss (up to 1e4 for 300 classes: 1.8e-12, over a step of 1e-3 as
   * large as the 2e-9 the golden measure allows a row set whose gradients are all below 1e-4).
   */
  static double centralByTerms(java.util.function.DoubleFunction<double[]> terms, double x,
      double h) {
    double xp = x + h;
    double xm = x - h;
    double[] fp = terms.apply(xp);
    double[] fm = terms.apply(xm);
    double d = 0;
    for (int c = 0; c < fp.length; c++) {
      d += fp[c] - fm[c];
    }
    return d / (xp - xm);
  }

  static double richardsonCentral(java.util.function.DoubleUnaryOperator f, double x, double h) {
    return (4 * central(f, x, h / 2) - central(f, x, h)) / 3;
  }

  /** Second-order one-sided difference in direction dir (+1 or -1), Richardson-extrapolated. */
  static double oneSided(java.util.function.DoubleUnaryOperator f, double x, double h,
      double dir) {
    double x1 = x + dir * h;
    double x2 = x + 2 * dir * h;
    double step = (x1 - x); // the step actually represented
    double f0 = f.applyAsDouble(x);
    return (-3 * f0 + 4 * f.applyAsDouble(x1) - f.applyAsDouble(x2)) / (2 * step);
  }

  static double richardsonOneSided(java.util.function.DoubleUnaryOperator f, double x, double h,
      double dir) {
    return (4 * oneSided(f, x, h / 2, dir) - oneSided(f, x, h, dir)) / 3;
  }
}
