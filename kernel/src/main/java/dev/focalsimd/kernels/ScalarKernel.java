package dev.focalsimd.kernels;

/**
 * The plain-Java kernels: row-wise loops, {@link Math} functions, intermediate values in double.
 * This is the reference the vector kernels are compared with, and the fallback on JVMs without the
 * Vector API.
 *
 * <p>Numerics shared by every form, with q = 1 - p_t:
 *
 * <ul>
 *   <li>q is computed directly from the probability (or from the logits), never as 1 - p_t after
 *       p_t was rounded, and ln p_t as log1p(-q) where p_t is near 1.
 *   <li>The factor gamma * q^(gamma - 1) * ln p_t of the gradients is evaluated as gamma * q^gamma
 *       * (ln p_t / q), whose limit at q = 0 is 0 for every gamma >= 0: no infinity times zero.
 *   <li>One-vs-all from logits: dl/dp stays in double until the softmax Jacobian has subtracted
 *       its p-weighted mean, which cancels where the classes' dl/dp are close.
 * </ul>
 */
public final class ScalarKernel implements FocalKernel {

  public static final ScalarKernel INSTANCE = new ScalarKernel();

  private ScalarKernel() {}

  @Override
  public String name() {
    return "SCALAR";
  }

  /**
   * q^gamma = (1 - p_t)^gamma with the multiplication fast paths; pow(0, 0) = 1. For a general
   * gamma, where q > 1/2 it is exp(gamma ln q) with ln q = ln(1 - p_t) to double precision, not
   * pow(q, gamma): q = 1 - p_t rounded to double carries a relative error of up to 2^-53, which
   * moves q^gamma by a factor of up to exp(gamma 2^-53), and where p_t is below 2^-53 q is 1 and
   * q^gamma 1 instead of about exp(-gamma p_t) (softmax logits {0, 40}, class index 0, SUM: loss
   * 40.0 for 39.983 at gamma 1e14 and for 0.57 at gamma 1e18; an adversarial tester's find,
   * 2026-12-07). ln q = ln(q) + ((1 - q) - p_t) / q to first order in q's rounding error, 1 - q
   * exact for q in [1/2, 1] (Sterbenz); p_t must be accurate to a few ulps relative, as every
   * caller's is. Where q <= 1/2, p_t >= 1/2 and every caller's q comes from the other classes' or
   * the complement's terms, accurate relative to q. Only for gamma above {@link #LARGE_GAMMA}:
   * below, q's rounding moves pow(q, gamma) by a factor of at most exp(gamma 2^-53), 1 + 1.2e-10,
   * and the logarithm, exponential and division in place of Math.pow cost the scalar kernel's
   * sigmoid 10% and its one-vs-all 7% at gamma 2.5 (paired A/B, JDK 17, 4096 x 16).
   */
  static double powGamma(double q, double pt, LossParams p) {
    switch (p.gammaKind) {
      case 0:
        return 1.0;
      case 1:
        return q;
      case 2:
        return q * q;
      case 3:
        return q * q * q;
      default:
        return q > 0.5 && p.gamma > LARGE_GAMMA
            ? Math.exp(p.gamma * (Math.log(q) + ((1.0 - q) - pt) / q))
            : Math.pow(q, p.gamma);
    }
  }

  /** The gamma above which {@link #powGamma} corrects q's rounding: 2^20. */
  static final float LARGE_GAMMA = 0x1p20f;

  /** {@link #powGamma(double, double, LossParams)} with p_t = exp(ln p_t) (computed if needed). */
  private static double powGammaLn(double q, double lnpt, LossParams p) {
    return powGamma(q, p.gamma > LARGE_GAMMA && q > 0.5 ? Math.exp(lnpt) : 0.0, p);
  }

  /** q^(gamma - 1) for gamma 1, 2 and 3 (its factor gamma makes gamma 0's value irrelevant). */
  private static double powGammaMinusOne(double q, LossParams p) {
    switch (p.gammaKind) {
      case 2:
        return q;
      case 3:
        return q * q;
      default:
        return 1.0;
    }
  }

  // ---------------------------------------------------------------- one-vs-all

  /**
   * One element of the note's loss on a probability {@code prob} with its complement {@code omp}
   * = 1 - prob computed without cancellation (from logits, 1 - p of the largest class is the sum
   * of the others' exponentials over s): returns the loss and, where {@code grad} is not null,
   * writes {@code gradScale * dl/dprob} to {@code grad[gi]}, and where {@code dOut} is not null
   * the unscaled dl/dprob to {@code dOut[di]} in double (from logits: the softmax Jacobian
   * subtracts these); both 0 where the clip is active. {@link #ovaBlock} does the same over a
   * block of elements on probabilities, in loops C2 vectorizes.
   */
  private static double ovaElement(LossParams p, double prob, double omp, double y, double a,
      float[] grad, int gi, double gradScale, double[] dOut, int di) {
    boolean low = prob < p.lo;
    boolean high = prob > p.hi;
    double pc = low ? p.lo : high ? p.hi : prob;
    double ompc = low ? 1.0 - p.lo : high ? 1.0 - p.hi : omp;
    double q = y * ompc + (1.0 - y) * pc; // 1 - p_t, exact for hard targets
    double pt = y * pc + (1.0 - y) * ompc;
    // In double, pt is exact for hard targets and within 1e-16 otherwise, while q >= 1.19e-7:
    // log(pt) keeps ln p_t = log1p(-q) to about 1e-9 relative, without the slower log1p.
    double lnpt = Math.log(pt);
    double qg = powGamma(q, pt, p);
    if (grad != null || dOut != null) {
      // gamma q^(gamma - 1) ln p_t - q^gamma / p_t: q^(gamma - 1) by multiplication for gamma 0
      // to 3 (one division per element, not two); q >= min(pc, 1 - pc) > 0 after the clip, so
      // qg / q is finite.
      double qg1 = p.gammaKind == LossParams.GAMMA_GENERAL ? qg / q : powGammaMinusOne(q, p);
      double d = low || high ? 0.0 : a * (p.gamma * qg1 * lnpt - qg / pt) * (2.0 * y - 1.0);
      if (grad != null) {
        grad[gi] = (float) (gradScale * d);
      }
      if (dOut != null) {
        dOut[di] = d;
      }
    }
    return -a * qg * lnpt;
  }


  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    return p.fromLogits
        ? ovaLogits(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale, perSample,
            psOff)
        : ovaProbabilities(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
            perSample, psOff);
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    return p.fromLogits
        ? ovaLogits(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
            psOff)
        : ovaProbabilities(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
            perSample, psOff);
  }

  /** One-vs-all from logits, row by row (y == null: one-hot rows of the class indices t). */
  private static double ovaLogits(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    double total = 0;
    // from logits: dl/dp at [0, classes) (with a gradient), exp(z - max) at [classes, 2 classes)
    double[] scratch = dScratch(2 * classes);
    double[] d = grad != null ? scratch : null;
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      double rowLoss = 0;
      // p = softmax(z) in double; 1 - p of the largest class is the others' sum over s.
      int top = row;
      for (int c = 1; c < classes; c++) {
        if (x[row + c] > x[top]) {
          top = row + c;
        }
      }
      float m = x[top];
      // each exp(z_c - m) once, kept in double for the two loops below (1 at the top)
      double others = 0;
      for (int c = 0; c < classes; c++) {
        double e = Math.exp((double) x[row + c] - m);
        scratch[classes + c] = e;
        others += row + c == top ? 0.0 : e;
      }
      double sum = others + 1.0;
      // dl/dp_c in double (into d), and sum_{c != top} p_c dl/dp_c: where a class's dl/dp is
      // near the p-weighted mean s, p_j (d_j - s) cancels, and dl/dp rounded to float first
      // put the gradient 5.6e-5 of its largest element off (limit 2e-5; reproducer in
      // PropertyTest#oneVsAllFromLogitsNearlyBalancedRow).
      double sOthers = 0;
      for (int c = 0; c < classes; c++) {
        double yc = t == null ? y[yRow + c] : (c == target ? 1.0 : 0.0);
        double pc = scratch[classes + c] / sum;
        double omp = row + c == top ? others / sum : 1.0 - pc;
        rowLoss += ovaElement(p, pc, omp, yc, p.alphaOf(c), null, 0, 1.0, d, c);
        if (d != null && row + c != top) {
          sOthers += pc * d[c];
        }
      }
      if (grad != null) {
        // Softmax Jacobian: dL/dz_j = p_j * (dL/dp_j - sum_c p_c dL/dp_c); for the largest
        // class p_top (d_top (1 - p_top) - sum_{c != top} p_c d_c), as the vector kernel: its
        // d_top may be ~1e7 where p_top is near 1, and 1 - p_top is others / sum, without
        // cancellation.
        int tc = top - row;
        double pTop = 1.0 / sum;
        double s = sOthers + pTop * d[tc];
        for (int c = 0; c < classes; c++) {
          double pc = scratch[classes + c] / sum;
          grad[gRow + c] = (float) (gradScale * pc * (d[c] - s));
        }
        grad[gRow + tc] = (float) (gradScale * pTop * (d[tc] * (others / sum) - sOthers));
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  /**
   * Elements per {@link #ovaBlock} (whole rows, or a row's columns) and columns per {@link
   * #sigmoidBlock}.
   */
  static final int BLOCK = 256;

  /**
   * The fewest elements {@link #ovaBlock} runs through its loops over whole blocks; fewer go
   * element by element.
   */
  private static final int MIN_LOOP_BLOCK = 64;

  /**
   * Five regions of BLOCK doubles per thread: {@link #sigmoidBlock}'s logits, targets,
   * exp(-|x|), log1p of it and class weights.
   */
  private static final ThreadLocal<double[]> BLOCK_SCRATCH = Scratch.withInitial(() ->
      new double[5 * BLOCK]);

  /**
   * {@link #ovaBlock}'s per-thread scratch, one array of BLOCK doubles per quantity: its loops
   * are branch-free arithmetic over these arrays, which C2 compiles to vector instructions; the
   * conversions between float and double have loops of their own (JDK 17's superword does not
   * vectorize a loop that converts between the two).
   */
  private static final class OvaScratch {
    final double[] x = new double[BLOCK];
    final double[] y = new double[BLOCK];
    final double[] q = new double[BLOCK];
    final double[] pt = new double[BLOCK];
    final double[] lnpt = new double[BLOCK];
    final double[] sign = new double[BLOCK];
    final double[] keep = new double[BLOCK];
    final double[] alpha = new double[BLOCK];
    final double[] qg = new double[BLOCK];
    final double[] qg1 = new double[BLOCK];
    final double[] d = new double[BLOCK];
    final double[] loss = new double[BLOCK];
    final double[] ones = new double[BLOCK];

    OvaScratch() {
      java.util.Arrays.fill(ones, 1.0);
    }
  }

  private static final ThreadLocal<OvaScratch> OVA_SCRATCH = Scratch.withInitial(
      OvaScratch::new);

  /**
   * One-vs-all on probabilities (y == null: one-hot rows of the class indices t): {@link
   * #ovaElement}'s operations in the same order, over blocks of elements: whole rows, as many as
   * fit in {@link #BLOCK} elements, where a row has at most BLOCK classes, otherwise a row's
   * columns BLOCK at a time. Each row's loss adds its elements' terms in column order, as the
   * per-element loop did.
   */
  private static double ovaProbabilities(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    OvaScratch w = OVA_SCRATCH.get();
    double[] losses = w.loss;
    double[] ys = w.y;
    double total = 0;
    if (classes <= BLOCK) {
      int blockRows = Math.min(BLOCK / classes, rows);
      // every block starts at a row, so its per-element weights are the same in every block
      for (int r = 0; r < blockRows; r++) {
        weights(p, 0, w.alpha, r * classes, classes);
      }
      for (int r0 = 0; r0 < rows; r0 += blockRows) {
        int n = Math.min(blockRows, rows - r0);
        int len = n * classes;
        int e = r0 * classes;
        if (t != null) {
          oneHot(ys, 0, t, tOff + r0, n, classes, 0);
        } else {
          widen(y, yOff + e, ys, 0, len);
        }
        ovaBlock(p, x, xOff + e, len, grad, gOff + e, gradScale, w);
        for (int r = 0; r < n; r++) {
          double rowLoss = 0;
          for (int k = r * classes, end = k + classes; k < end; k++) {
            rowLoss += losses[k];
          }
          total += rowLoss;
          if (perSample != null) {
            perSample[psOff + r0 + r] = (float) rowLoss;
          }
        }
      }
    } else {
      for (int r = 0; r < rows; r++) {
        int e = r * classes;
        double rowLoss = 0;
        for (int c0 = 0; c0 < classes; c0 += BLOCK) {
          int len = Math.min(BLOCK, classes - c0);
          if (t != null) {
            oneHot(ys, 0, t, tOff + r, 1, len, c0);
          } else {
            widen(y, yOff + e + c0, ys, 0, len);
          }
          weights(p, c0, w.alpha, 0, len);
          ovaBlock(p, x, xOff + e + c0, len, grad, gOff + e + c0, gradScale, w);
          for (int k = 0; k < len; k++) {
            rowLoss += losses[k]; // column by column, as the per-element loop added them
          }
        }
        total += rowLoss;
        if (perSample != null) {
          perSample[psOff + r] = (float) rowLoss;
        }
      }
    }
    return total;
  }

  /** to[at..at+len) = the weights of classes c0..c0+len (alpha widened, or 1). */
  private static void weights(LossParams p, int c0, double[] to, int at, int len) {
    if (p.alpha != null) {
      widen(p.alpha, c0, to, at, len);
    } else {
      java.util.Arrays.fill(to, at, at + len, 1.0);
    }
  }

  /**
   * One-hot targets of {@code n} rows of {@code width} columns each (the columns from {@code c0}
   * of their rows) into {@code ys} from {@code at}: 1 at the row's class index, 0 elsewhere
   * (everywhere where the index is outside the columns).
   */
  private static void oneHot(double[] ys, int at, int[] t, int tOff, int n, int width, int c0) {
    java.util.Arrays.fill(ys, at, at + n * width, 0.0);
    for (int r = 0; r < n; r++) {
      int c = t[tOff + r] - c0;
      if (c >= 0 && c < width) {
        ys[at + r * width + c] = 1.0;
      }
    }
  }

  /**
   * {@link #ovaElement}'s operations over {@code len <= BLOCK} elements from {@code xo}, whose
   * targets and weights the caller has put into {@code w.y} and {@code w.alpha}: each element's
   * loss term into {@code w.loss}, its gradient (where {@code grad} is not null) into {@code
   * grad}. Loops: the probabilities widened to double; clip, q, p_t, the sign factor and the
   * clip's factor; ln p_t alone (Math.log is a call that clobbers every vector register: in one
   * loop with the rest it cost 7.5 ns per element on JDK 17 and 11 ns on JDK 25, against 5.5 and
   * 6.8 ns in a loop of its own); q^gamma and q^(gamma - 1) (by multiplication for gamma 0 to
   * 3); the gradient and the loss terms; the gradient narrowed to float. The arithmetic loops but the general gamma's (calls of
   * Math.pow) run over the whole block (a constant trip count: with {@code len} as their bound,
   * JDK 17's C2 left them scalar and not unrolled in most compilations; past {@code len} they
   * compute on stale values that nothing reads). A block of fewer than {@link #MIN_LOOP_BLOCK}
   * elements goes element by element.
   */
  private static void ovaBlock(LossParams p, float[] x, int xo, int len, float[] grad, int go,
      float gradScale, OvaScratch w) {
    if (len < MIN_LOOP_BLOCK) {
      for (int k = 0; k < len; k++) {
        double prob = x[xo + k];
        w.loss[k] = ovaElement(p, prob, 1.0 - prob, w.y[k], w.alpha[k], grad, go + k, gradScale,
            null, 0);
      }
      return;
    }
    widen(x, xo, w.x, 0, len);
    ovaClip(w.x, w.y, w.q, w.pt, w.sign, w.keep, p.lo, p.hi);
    logs(w.pt, w.lnpt, len);
    // q^gamma and q^(gamma - 1) (its factor gamma makes gamma 0's irrelevant), the fast paths
    // by multiplication, as powGamma and powGammaMinusOne
    double[] qg = w.qg;
    double[] qg1 = w.qg1;
    switch (p.gammaKind) {
      case 0:
        qg = w.ones;
        qg1 = w.ones;
        break;
      case 1:
        qg = w.q;
        qg1 = w.ones;
        break;
      case 2:
        squares(w.q, qg);
        qg1 = w.q;
        break;
      case 3:
        squares(w.q, qg1);
        products(qg1, w.q, qg);
        break;
      default:
        for (int k = 0; k < len; k++) {
          qg[k] = powGamma(w.q[k], w.pt[k], p);
          qg1[k] = qg[k] / w.q[k];
        }
        break;
    }
    ovaTerms(w.alpha, qg, qg1, w.pt, w.lnpt, w.sign, w.keep, w.d, w.loss, p.gamma);
    if (grad != null) {
      narrow(w.d, grad, go, gradScale, len);
    }
  }

  /**
   * The clip, q = 1 - p_t, p_t, the sign factor 2y - 1 and the clip's factor: 0 where the clip
   * moved prob, 1 where it did not, NaN for a NaN prob.
   */
  private static void ovaClip(double[] xs, double[] ys, double[] qs, double[] pts, double[] signs,
      double[] keeps, double lo, double hi) {
    for (int k = 0; k < BLOCK; k++) {
      double prob = xs[k];
      double yc = ys[k];
      // prob below lo becomes lo, above hi hi, NaN stays NaN (as the comparisons)
      double pc = Math.min(Math.max(prob, lo), hi);
      double ompc = 1.0 - pc;
      qs[k] = yc * ompc + (1.0 - yc) * pc; // q = 1 - p_t
      pts[k] = yc * pc + (1.0 - yc) * ompc; // p_t
      signs[k] = 2.0 * yc - 1.0;
      // |pc - prob| >= 2^-149 (the least float step) times 2^1000 is past 1: without a compare
      // and a select, which C2 does not vectorize
      keeps[k] = 1.0 - Math.min(1.0, Math.abs(pc - prob) * 0x1p1000);
    }
  }

  /** to[k] = ln(from[k]) for k < len. */
  private static void logs(double[] from, double[] to, int len) {
    for (int k = 0; k < len; k++) {
      to[k] = Math.log(from[k]);
    }
  }

  /** to[k] = from[k] * from[k] over the block. */
  private static void squares(double[] from, double[] to) {
    for (int k = 0; k < BLOCK; k++) {
      to[k] = from[k] * from[k];
    }
  }

  /** to[k] = a[k] * b[k] over the block. */
  private static void products(double[] a, double[] b, double[] to) {
    for (int k = 0; k < BLOCK; k++) {
      to[k] = a[k] * b[k];
    }
  }

  /**
   * The gradient's and the loss's terms from q^gamma and q^(gamma - 1): the gradient's d * keep +
   * 0 * (0.5 - keep) is d, bit for bit (-0 too: d + -0 = d), where the clip did not move prob, and
   * +0 where it did (as the per-element form's select).
   */
  private static void ovaTerms(double[] as, double[] qgs, double[] qg1s, double[] pts,
      double[] lnpts, double[] signs, double[] keeps, double[] ds, double[] losses, double gamma) {
    for (int k = 0; k < BLOCK; k++) {
      double a = as[k];
      double qg = qgs[k];
      double lnpt = lnpts[k];
      double keep = keeps[k];
      double d = a * (gamma * qg1s[k] * lnpt - qg / pts[k]) * signs[k];
      ds[k] = d * keep + 0.0 * (0.5 - keep);
      losses[k] = -a * qg * lnpt;
    }
  }

  /** to[at + k] = (float) (scale * from[k]) for k < len. */
  private static void narrow(double[] from, float[] to, int at, float scale, int len) {
    for (int k = 0; k < len; k++) {
      to[at + k] = (float) (scale * from[k]);
    }
  }

  /** to[at..at+len) = from[off..off+len) widened to double. */
  private static void widen(float[] from, int off, double[] to, int at, int len) {
    for (int k = 0; k < len; k++) {
      to[at + k] = from[off + k];
    }
  }

  private static final ThreadLocal<double[]> D_SCRATCH = Scratch.withInitial(() ->
      new double[0], Scratch.upTo(a -> a.length));

  /**
   * A per-thread double[classes] or longer (no allocation per call): one row's dl/dp and
   * exp(z - max) (one-vs-all from logits), or exp(z - max) (softmax with class indices; {@link
   * ScalarHessianKernel#softmax}). Its callers call nothing that takes it too.
   */
  static double[] dScratch(int classes) {
    double[] d = D_SCRATCH.get();
    if (d.length < classes) {
      d = new double[classes];
      D_SCRATCH.set(d);
    }
    return d;
  }

  /** The column of the row's first largest logit. */
  static int argMax(float[] z, int row, int classes) {
    int jm = 0;
    float m = z[row];
    for (int c = 1; c < classes; c++) {
      float v = z[row + c];
      if (v > m) {
        m = v;
        jm = c;
      }
    }
    return jm;
  }

  /**
   * ln(1 + rest), rest >= 0, to double precision: ln(s) + err / s with s = 1 + rest rounded and
   * err its rounding error (TwoSum), so a rest far below an ulp of 1 is kept. Math.log1p would do
   * as well, but on JDK 17 it is a native call (StrictMath's fdlibm through JNI), where Math.log is
   * a C2 intrinsic.
   */
  public static double log1pSum(double rest) {
    double s = 1.0 + rest;
    double restPart = s - 1.0;
    double err = (1.0 - (s - restPart)) + (rest - restPart);
    return Math.log(s) + err / s;
  }

  /**
   * The sum of exp(z_c - m) over the classes but the row's largest, c = jm (whose term is 1):
   * ln(sum) is log1pSum of it (where the largest class holds nearly all the mass, 1 + rest rounded
   * would lose rest), and ln p_c is (z_c - m) minus that, in double; never z_c - lse with lse = m +
   * ln(sum): where |m| is large, that sum rounds the logarithm away (at 1e30, all of it).
   */
  private static double restOfSum(float[] z, int row, int classes, int jm) {
    float m = z[row + jm];
    double rest = 0;
    for (int c = 0; c < classes; c++) {
      // at least -Float.MAX_VALUE: z - m overflows to -inf for finite logits beyond the float
      // range, and its rounding error below would be infinite (0 x Inf NaN; EdgeCaseTest)
      float d = Math.max(z[row + c] - m, -Float.MAX_VALUE);
      double e = Math.exp(d);
      // exp(z - m) = exp(d) (1 + (z - m - d)) to first order, z - m - d (d's rounding) exact in
      // double: without it, p moved by the rounding of d (1e-8 of a gradient near 1e-4 made of
      // terms near 1; EdgeCaseTest). (Math.exp of z - m in double measured 0.83x; a test for e ==
      // 0 instead of the clamp 0.87x.)
      rest += c == jm ? 0.0 : e + e * (((double) z[row + c] - m) - d);
    }
    return rest;
  }

  /**
   * 1 - p_c from ln p_c: the largest class's as rest / (1 + rest) (no cancellation however near 1
   * p is), every other's as 1 - p_c (p_c <= 1/2 there: exact to an ulp or two). Not
   * -Math.expm1(ln p), a JNI call on JDK 17, two per element.
   */
  private static double oneMinusP(double lnp, int c, int jm, double rest) {
    return c == jm ? rest / (1.0 + rest) : 1.0 - Math.exp(lnp);
  }

  // ---------------------------------------------------------------- softmax

  @Override
  public double softmax(LossParams p, float[] z, int zOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    double total = 0;
    for (int r = 0; r < rows; r++) {
      double rowLoss = softmaxRow(p, z, zOff + r * classes, y, yOff + r * classes, -1, 0f,
          classes, grad, gOff + r * classes, gradScale);
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  @Override
  public double softmax(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    double total = 0;
    float ls = p.labelSmoothing;
    double[] ex = ls == 0f ? dScratch(classes) : null;
    for (int r = 0; r < rows; r++) {
      int target = t[tOff + r];
      int row = zOff + r * classes;
      int gRow = gOff + r * classes;
      double rowLoss;
      if (target == p.ignoreIndex) {
        rowLoss = 0;
        if (grad != null) {
          java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
        }
      } else if (ls != 0f) {
        rowLoss = softmaxRow(p, z, row, null, 0, target, ls, classes, grad, gRow, gradScale);
      } else {
        int jm = argMax(z, row, classes);
        float m = z[row + jm];
        // e_c = exp(z_c - m), kept in double in a per-thread scratch for the last loop, not in
        // grad as floats: JDK 17's C2 widens a float loaded from memory with vcvtss2sd xmm, xmm,
        // [mem], which keeps the register's upper half and so waits for its last writer (there
        // the previous element's product: one dependency chain through the whole row; 1.05x to
        // 1.48x as fast without it, paired A/B). z_c - m is taken in float, as the
        // vector kernel does: in double, the whole kernel ran 0.53x to 0.62x as fast on JDK 17
        // (paired A/B at 4096 x 16 and 8192 x 1000; not that chain, which a loop of
        // Math.exp((double) z_c - m) alone does not show). rest leaves out the largest class (its
        // e is 1) and others the target, so that ln s = log1p(rest) and 1 - p_t = others / s
        // keep their precision when one class holds nearly all the mass. Math.exp in a loop of
        // its own, as one-vs-all's Math.log (a call that clobbers every vector register): the
        // kernel ran 1.09x to 1.14x as fast over 16 and 80 classes and 1.02x over 1000 on JDK 17,
        // 1.02x to 1.21x on JDK 25, than with it beside the sum (paired A/B).
        for (int c = 0; c < classes; c++) {
          ex[c] = z[row + c] - m;
        }
        for (int c = 0; c < classes; c++) {
          ex[c] = Math.exp(ex[c]);
        }
        double rest = 0;
        for (int c = 0; c < classes; c++) {
          rest += c == jm ? 0.0 : ex[c];
        }
        double et = ex[target];
        double s = 1.0 + rest;
        // for a target below the max, p_t <= 1/2: s - e_t loses no digits
        double others = target == jm ? rest : s - et;
        // (z_t - m) - ln s: z_t - (m + ln s) would round ln s away where |m| is large
        double lnp = ((double) z[row + target] - m) - log1pSum(rest);
        double pt = et / s;
        double q = others / s; // 1 - p_t
        double qg = powGamma(q, pt, p);
        double a = p.alphaOf(target);
        rowLoss = -a * qg * lnp;
        if (grad != null) {
          double ratio = q > 0 ? lnp / q : -1.0; // ln p_t / (1 - p_t), -> -1 as p_t -> 1
          double f = gradScale * a * (p.gamma * pt * qg * ratio - qg);
          double coef = -f / s;
          for (int c = 0; c < classes; c++) {
            grad[gRow + c] = (float) (coef * ex[c]);
          }
          grad[gRow + target] = (float) (f * q);
        }
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  /**
   * One row with a full target distribution: dense {@code y}, or (y == null) the one-hot row of
   * {@code target} smoothed by {@code ls}.
   */
  private static double softmaxRow(LossParams p, float[] z, int row, float[] y, int yRow,
      int target, float ls, int classes, float[] grad, int gRow, float gradScale) {
    int jm = argMax(z, row, classes);
    float m = z[row + jm];
    double rest = restOfSum(z, row, classes, jm);
    double logSum = log1pSum(rest);
    double off = ls / (double) classes;
    double on = 1.0 - ls + off;
    double loss = 0;
    double s = 0; // sum_c y_c F_c
    double yfTop = 0; // y F of the largest class, jm
    for (int c = 0; c < classes; c++) {
      double yc = y != null ? y[yRow + c] : (c == target ? on : off);
      double lnp = ((double) z[row + c] - m) - logSum;
      double q = oneMinusP(lnp, c, jm, rest);
      double qg = powGammaLn(q, lnp, p);
      loss += -p.alphaOf(c) * yc * qg * lnp;
      if (grad != null) {
        double yf = yF(p, yc, lnp, q, qg, c);
        s += yf;
        if (c == jm) {
          yfTop = yf;
        }
      }
    }
    if (grad != null) {
      // y_j F_j - p_j s, with y_j F_j recomputed in double rather than read back from the float
      // gradient: the two terms cancel when the gradient is near 0 (with one class, exactly).
      for (int c = 0; c < classes; c++) {
        double yc = y != null ? y[yRow + c] : (c == target ? on : off);
        double lnp = ((double) z[row + c] - m) - logSum;
        double q = oneMinusP(lnp, c, jm, rest);
        double yf = yF(p, yc, lnp, q, powGammaLn(q, lnp, p), c);
        grad[gRow + c] = (float) (gradScale * (yf - Math.exp(lnp) * s));
      }
      // jm's again as y F (1 - p) - p (s - y F), as the vector kernel: where p is near 1 the
      // plain form's terms cancel to an ulp of y F, 0 where 1 - p is below 1e-16 (EdgeCaseTest)
      double sum = 1.0 + rest;
      grad[gRow + jm] = (float) (gradScale * (yfTop * (rest / sum) - (s - yfTop) / sum));
    }
    return loss;
  }

  /** y_c F_c = y_c alpha_c (gamma p_c q_c^gamma (ln p_c / q_c) - q_c^gamma). */
  private static double yF(LossParams p, double yc, double lnp, double q, double qg, int c) {
    double ratio = q > 0 ? lnp / q : -1.0; // -> -1 as p_c -> 1
    return yc * p.alphaOf(c) * (p.gamma * Math.exp(lnp) * qg * ratio - qg);
  }


  // ---------------------------------------------------------------- sigmoid

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    double total = 0;
    double[] w = BLOCK_SCRATCH.get();
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      double rowLoss = 0;
      for (int c0 = 0; c0 < classes; c0 += BLOCK) {
        rowLoss = sigmoidBlock(rowLoss, p, x, row + c0, y, yRow + c0, -1, c0,
            Math.min(BLOCK, classes - c0), grad, gRow + c0, gradScale, w);
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    double total = 0;
    double[] w = BLOCK_SCRATCH.get();
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t[tOff + r];
      double rowLoss = 0;
      if (target == p.ignoreIndex) {
        if (grad != null) {
          java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
        }
      } else {
        for (int c0 = 0; c0 < classes; c0 += BLOCK) {
          rowLoss = sigmoidBlock(rowLoss, p, x, row + c0, null, 0, target - c0, c0,
              Math.min(BLOCK, classes - c0), grad, gRow + c0, gradScale, w);
        }
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  /**
   * torchvision's sigmoid_focal_loss for one element, from the logit x, given e = exp(-|x|), l1p
   * = log1p(e) and the class weight {@code cw}: ln p and ln(1 - p) come from softplus, so no value
   * is clamped. Returns the loss and, where {@code grad} is not null, writes {@code gradScale *
   * dl/dx} to {@code grad[gi]}.
   */
  private static double sigmoidTerms(LossParams p, double x, double y, double e, double l1p,
      double cw, float[] grad, int gi, float gradScale) {
    double inv = 1.0 / (1.0 + e);
    // sigmoid(x) = inv for x >= 0, e inv below; 1 - sigmoid(x) the other (no cancellation):
    // chosen by x's sign bit, without a branch (x's sign is as likely one way as the other, and
    // a mispredicted branch per element cost more than the bit operations). For x = -0, e = 1
    // and both are 0.5.
    long neg = Double.doubleToRawLongBits(x) >> 63;
    long a = Double.doubleToRawLongBits(inv);
    long b = Double.doubleToRawLongBits(e * inv);
    double prob = Double.longBitsToDouble((a & ~neg) | (b & neg)); // sigmoid(x)
    double omp = Double.longBitsToDouble((b & ~neg) | (a & neg)); // 1 - sigmoid(x)
    double ce = Math.max(x, 0.0) - x * y + l1p;
    double q = prob * (1.0 - y) + omp * y; // 1 - p_t
    double w = cw;
    if (p.sigmoidAlpha >= 0f) {
      w *= p.sigmoidAlpha * y + (1.0 - p.sigmoidAlpha) * (1.0 - y);
    }
    double qg = powGamma(q, prob * y + omp * (1.0 - y), p);
    if (grad != null) {
      // d ce/dx = p - y; d q/dx = p(1-p)(1-2y); gamma q^(gamma-1) p(1-p) = gamma q^gamma
      // (p(1-p)/q), and p(1-p)/q <= 1 for every y in [0, 1]; at q = 0 the term is 0.
      double ratio = q > 0 ? prob * omp / q : 0.0;
      double dce = prob * (1.0 - y) - omp * y;
      double d = w * (dce * qg + ce * p.gamma * qg * ratio * (1.0 - 2.0 * y));
      grad[gi] = (float) (gradScale * d);
    }
    return w * ce * qg;
  }

  /**
   * {@link #sigmoidTerms} over {@code len <= BLOCK} columns of a row from column {@code c0} (y ==
   * null: one-hot at {@code target}, relative to the block), each element's loss added to {@code
   * acc} in column order, in loops: the logits, targets and class weights widened to double;
   * exp(-|x|) in a loop of its own; log1p of it in another; the rest. Math.exp and Math.log are
   * calls that clobber every vector register, and in one loop with the rest each element waited
   * for the one before (a float widened from memory by vcvtss2sd keeps the upper half of a
   * register the call's result left there).
   */
  private static double sigmoidBlock(double acc, LossParams p, float[] x, int xo, float[] y,
      int yo, int target, int c0, int len, float[] grad, int go, float gradScale, double[] w) {
    widen(x, xo, w, 0, len);
    if (y != null) {
      widen(y, yo, w, BLOCK, len);
    }
    if (p.classWeights != null) {
      widen(p.classWeights, c0, w, 4 * BLOCK, len);
    }
    for (int k = 0; k < len; k++) {
      w[2 * BLOCK + k] = Math.exp(-Math.abs(w[k]));
    }
    for (int k = 0; k < len; k++) {
      // log1p(e) for e in (0, 1]: log(1 + e) in double is exact to 1e-16 absolute, which is 1e-8
      // relative or better once e >= 1e-8; below that log1p(e) = e to double precision.
      double e = w[2 * BLOCK + k];
      w[3 * BLOCK + k] = e < 1e-8 ? e : Math.log(1.0 + e);
    }
    double loss = acc;
    for (int k = 0; k < len; k++) {
      double x1 = w[k];
      double y1 = y != null ? w[BLOCK + k] : (k == target ? 1.0 : 0.0);
      double cw = p.classWeights == null ? 1.0 : w[4 * BLOCK + k];
      loss += sigmoidTerms(p, x1, y1, w[2 * BLOCK + k], w[3 * BLOCK + k], cw, grad, go + k,
          gradScale);
    }
    return loss;
  }

  // ---------------------------------------------------------------- validation scans

  @Override
  public int firstNonFinite(float[] a, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      if (!Float.isFinite(a[i])) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public int firstOutsideUnit(float[] a, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      float v = a[i];
      if (!(v >= 0f && v <= 1f)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public long countIndices(int[] t, int off, int rows, int classes, int upper, int ignoreIndex,
      boolean ignorable) {
    long counted = 0;
    long positives = 0;
    for (int r = 0; r < rows; r++) {
      int v = t[off + r];
      if (ignorable && v == ignoreIndex) {
        continue;
      }
      if (v < 0 || v > upper) {
        return -r - 1L;
      }
      counted++;
      if (v < classes) {
        positives++;
      }
    }
    return counted << 32 | positives;
  }
}
