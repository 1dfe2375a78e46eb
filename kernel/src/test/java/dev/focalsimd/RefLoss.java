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
    switch (form) {
      case ONE_VS_ALL: {
        double s = 0;
        for (int c = 0; c < x.length; c++) {
          s += ovaElement(x[c], y[c], a(c));
        }
        return s;
      }
      case ONE_VS_ALL_LOGITS: {
        double[] p = softmax(x);
        double s = 0;
        for (int c = 0; c < x.length; c++) {
          s += ovaElement(p[c], y[c], a(c));
        }
        return s;
      }
      case SOFTMAX: {
        double[] lnp = logSoftmax(x);
        double s = 0;
        for (int c = 0; c < x.length; c++) {
          if (y[c] != 0) {
            double q = -Math.expm1(lnp[c]); // 1 - p_c without cancellation
            s += -a(c) * y[c] * pow(q) * lnp[c];
          }
        }
        return s;
      }
      default: {
        double s = 0;
        for (int c = 0; c < x.length; c++) {
          s += sigmoidElement(x[c], y[c], c);
        }
        return s;
      }
    }
  }

  /** The note's element loss: p clipped to [lo, hi], l = -a (1 - p_t)^gamma ln p_t. */
  double ovaElement(double p, double y, double a) {
    double pc = Math.min(Math.max(p, lo), hi);
    double q = y * (1 - pc) + (1 - y) * pc; // 1 - p_t
    double lnpt = q < 0.5 ? Math.log1p(-q) : Math.log(1 - q);
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
    double lse = x[m] + Math.log1p(rest);
    double[] out = new double[x.length];
    for (int c = 0; c < x.length; c++) {
      out[c] = x[c] - lse;
    }
    return out;
  }

  static double[] softmax(double[] x) {
    double[] l = logSoftmax(x);
    for (int c = 0; c < l.length; c++) {
      l[c] = Math.exp(l[c]);
    }
    return l;
  }

  /** One-vs-all from logits: which elements of the row are clipped (to skip kinks in FD). */
  long clipPattern(double[] x) {
    if (form != Form.ONE_VS_ALL_LOGITS) {
      return 0;
    }
    double[] p = softmax(x);
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
        for (double d : new double[] {-h, -h / 2, h / 2, h}) {
          w[j] = x[j] + d;
          if (clipPattern(w) != pattern) {
            return Double.NaN;
          }
        }
        return richardsonCentral(v -> {
          w[j] = v;
          return rowLoss(w, y);
        }, x[j], h);
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
