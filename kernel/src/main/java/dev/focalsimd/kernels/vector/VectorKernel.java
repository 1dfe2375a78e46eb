package dev.focalsimd.kernels.vector;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;

import dev.focalsimd.kernels.FocalKernel;
import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.ScalarKernel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD kernels, on the preferred float species. The numerics are those of {@link ScalarKernel}
 * (see there), in float, with the elementary functions of {@link VectorMath}.
 *
 * <p>Loops run over {@code loopBound} and finish with a scalar tail, or, where recomputing an
 * element is harmless, with one last vector that ends at the row's (or block's) end and overlaps
 * the previous one; its already-counted lanes are left out of the sums. No masked loads or stores.
 * Losses are summed in float lanes for at most {@link #FLUSH} vectors, then in double.
 */
public final class VectorKernel implements FocalKernel {

  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  /** Vectors summed in float lanes before the partial sum is added to a double. */
  static final int FLUSH = 32;
  private static final float[] IOTA = iota();

  private VectorKernel() {}

  /** Called reflectively by {@code KernelProvider}. */
  public static FocalKernel create() {
    return new VectorKernel();
  }

  /** The preferred species' size in bits; called reflectively by {@code KernelProvider}. */
  public static int preferredBitSize() {
    return S.vectorBitSize();
  }

  private static float[] iota() {
    float[] a = new float[L];
    for (int i = 0; i < L; i++) {
      a[i] = i;
    }
    return a;
  }

  @Override
  public String name() {
    return "VECTOR";
  }

  // ================================================================== shared pieces

  /** q^gamma: 1, q, q^2, q^3 by multiplication, else exp(gamma ln q) (0 at q = 0 for gamma > 0). */
  private static FloatVector powGamma(FloatVector q, LossParams p) {
    switch (p.gammaKind) {
      case 0:
        return q.broadcast(1f);
      case 1:
        return q;
      case 2:
        return q.mul(q);
      case 3:
        return q.mul(q).mul(q);
      default:
        return VectorMath.exp(VectorMath.log(q).mul(p.gamma));
    }
  }

  /** Lanes of the overlapping last vector at {@code start} that lie below {@code done}. */
  private static VectorMask<Float> alreadyDone(int start, int done) {
    return S.indexInRange(start, done);
  }

  /** The one-hot row of class index t, lanes c .. c + L. */
  private static VectorMask<Float> isTarget(FloatVector iota, int c, int t) {
    return iota.add((float) c).compare(EQ, (float) t);
  }

  private static double sumLanes(FloatVector v) {
    return v.reduceLanes(ADD);
  }

  /** A row's maximum. */
  private static float rowMax(float[] z, int row, int classes) {
    int bound = S.loopBound(classes);
    float m = Float.NEGATIVE_INFINITY;
    int c = 0;
    if (bound > 0) {
      FloatVector mv = FloatVector.fromArray(S, z, row);
      for (c = L; c < bound; c += L) {
        mv = mv.max(FloatVector.fromArray(S, z, row + c));
      }
      if (bound < classes) { // the overlapping last vector: max is idempotent
        mv = mv.max(FloatVector.fromArray(S, z, row + classes - L));
      }
      return mv.reduceLanes(MAX);
    }
    for (; c < classes; c++) {
      m = Math.max(m, z[row + c]);
    }
    return m;
  }

  /** sum_c exp(z_c - m) over a row. */
  private static double rowSumExp(float[] z, int row, int classes, float m) {
    int bound = S.loopBound(classes);
    FloatVector acc = FloatVector.zero(S);
    int c = 0;
    for (; c < bound; c += L) {
      acc = acc.add(VectorMath.exp(FloatVector.fromArray(S, z, row + c).sub(m)));
    }
    double s = sumLanes(acc);
    for (; c < classes; c++) {
      s += Math.exp(z[row + c] - m);
    }
    return s;
  }

  // ================================================================== one-vs-all

  /**
   * The note's loss on probabilities x with targets y and weights a, lane-wise. Writes {@code
   * gradScale * dl/dp} (0 where the clip is active) when grad is not null; returns the losses.
   */
  private static FloatVector ovaVec(LossParams p, FloatVector x, FloatVector y, FloatVector a,
      float[] grad, int gi, float gradScale) {
    FloatVector pc = x.max(p.lo).min(p.hi);
    FloatVector omy = y.neg().add(1f);
    FloatVector ompc = pc.neg().add(1f);
    FloatVector q = y.fma(ompc, omy.mul(pc)); // 1 - p_t, exact for hard targets
    FloatVector pt = y.fma(pc, omy.mul(ompc));
    // ln p_t; where p_t > 1/2 it is log1p(-q): correct ln(pt) by ln((1 - q) / pt) ~ d (1 + q).
    FloatVector d = q.neg().sub(pt.sub(1f));
    FloatVector lnpt = VectorMath.log(pt).add(d.fma(q, d).blend(0f, q.compare(GE, 0.5f)));
    FloatVector qg = powGamma(q, p);
    if (grad != null) {
      // dl/dp = a (2y - 1) (gamma q^(gamma-1) ln p_t - q^gamma / p_t); q >= 1 - hi > 0.
      FloatVector inner;
      switch (p.gammaKind) {
        case 0:
          inner = pt.broadcast(-1f).div(pt);
          break;
        case 1:
          inner = lnpt.sub(q.div(pt));
          break;
        case 2:
          inner = q.mul(lnpt.mul(2f).sub(q.div(pt)));
          break;
        case 3:
          inner = q.mul(q).mul(lnpt.mul(3f).sub(q.div(pt)));
          break;
        default:
          inner = qg.mul(lnpt.mul(pt).mul(p.gamma).sub(q)).div(q.mul(pt));
      }
      FloatVector g = inner.mul(a).mul(y.add(y).sub(1f)).mul(gradScale);
      VectorMask<Float> clipped = x.compare(LT, p.lo).or(x.compare(GT, p.hi));
      g.blend(0f, clipped).intoArray(grad, gi);
    }
    return qg.mul(lnpt).mul(a).neg();
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (p.fromLogits) {
      return ovaLogits(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    if (perSample == null) {
      return ovaFlat(p, x, xOff, y, yOff, rows * classes, classes, grad, gOff, gradScale);
    }
    return ovaRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (p.fromLogits) {
      return ovaLogits(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    return ovaRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  /** Dense targets, no per-sample output: one pass over the block's elements. */
  private static double ovaFlat(LossParams p, float[] x, int xOff, float[] y, int yOff, int len,
      int classes, float[] grad, int gOff, float gradScale) {
    float[] alpha = p.alphaTiled;
    int step = L % classes;
    int bound = S.loopBound(len);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector acc = FloatVector.zero(S);
    double total = 0;
    int col = 0;
    int k = 0;
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, col);
      FloatVector l = ovaVec(p, FloatVector.fromArray(S, x, xOff + i),
          FloatVector.fromArray(S, y, yOff + i), a, grad, gOff + i, gradScale);
      acc = acc.add(l);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
      if (++k == FLUSH) {
        total += sumLanes(acc);
        acc = FloatVector.zero(S);
        k = 0;
      }
    }
    total += sumLanes(acc);
    if (i < len) {
      if (len >= L) {
        int start = len - L;
        FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, start % classes);
        FloatVector l = ovaVec(p, FloatVector.fromArray(S, x, xOff + start),
            FloatVector.fromArray(S, y, yOff + start), a, grad, gOff + start, gradScale);
        total += sumLanes(l.blend(0f, alreadyDone(start, i)));
      } else {
        for (; i < len; i++) {
          total += ScalarKernel.ovaElement(p, x[xOff + i], y[yOff + i], p.alphaOf(i % classes),
              grad, gOff + i, gradScale);
        }
      }
    }
    return total;
  }

  /** Row by row: per-sample output, or class-index targets (y == null). */
  private static double ovaRows(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    int bound = S.loopBound(classes);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    float[] alpha = p.alpha;
    double total = 0;
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      FloatVector acc = zeros;
      int c = 0;
      for (; c < bound; c += L) {
        FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, c);
        FloatVector yv = t == null ? FloatVector.fromArray(S, y, yRow + c)
            : zeros.blend(ones, isTarget(iota, c, target));
        acc = acc.add(ovaVec(p, FloatVector.fromArray(S, x, row + c), yv, a, grad, gRow + c,
            gradScale));
      }
      double rowLoss;
      if (c < classes && bound > 0) {
        int start = classes - L;
        FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, start);
        FloatVector yv = t == null ? FloatVector.fromArray(S, y, yRow + start)
            : zeros.blend(ones, isTarget(iota, start, target));
        FloatVector l = ovaVec(p, FloatVector.fromArray(S, x, row + start), yv, a, grad,
            gRow + start, gradScale);
        rowLoss = sumLanes(acc.add(l.blend(0f, alreadyDone(start, c))));
      } else {
        rowLoss = sumLanes(acc);
        for (; c < classes; c++) {
          double yc = t == null ? y[yRow + c] : (c == target ? 1.0 : 0.0);
          rowLoss += ScalarKernel.ovaElement(p, x[row + c], yc, p.alphaOf(c), grad, gRow + c,
              gradScale);
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
   * From logits: p = softmax(z) per row, the note's loss on p, and the gradient through the
   * softmax Jacobian, dL/dz_j = p_j (dL/dp_j - sum_c p_c dL/dp_c).
   */
  private static double ovaLogits(LossParams p, float[] z, int zOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    int bound = S.loopBound(classes);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    float[] alpha = p.alpha;
    double total = 0;
    for (int r = 0; r < rows; r++) {
      int row = zOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      float m = rowMax(z, row, classes);
      float lse = (float) (m + Math.log(rowSumExp(z, row, classes, m)));
      FloatVector acc = zeros;
      FloatVector sAcc = zeros; // sum_c p_c dL/dp_c
      int c = 0;
      for (; c < bound; c += L) {
        FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, c);
        FloatVector yv = t == null ? FloatVector.fromArray(S, y, yRow + c)
            : zeros.blend(ones, isTarget(iota, c, target));
        FloatVector pc = VectorMath.exp(FloatVector.fromArray(S, z, row + c).sub(lse));
        acc = acc.add(ovaVec(p, pc, yv, a, grad, gRow + c, 1f));
        if (grad != null) {
          sAcc = FloatVector.fromArray(S, grad, gRow + c).fma(pc, sAcc);
        }
      }
      double rowLoss = sumLanes(acc);
      double s = sumLanes(sAcc);
      for (; c < classes; c++) {
        double yc = t == null ? y[yRow + c] : (c == target ? 1.0 : 0.0);
        double pc = Math.exp(z[row + c] - lse);
        rowLoss += ScalarKernel.ovaElement(p, (float) pc, yc, p.alphaOf(c), grad, gRow + c, 1f);
        if (grad != null) {
          s += pc * grad[gRow + c];
        }
      }
      if (grad != null) {
        float sf = (float) s;
        for (c = 0; c < bound; c += L) {
          FloatVector pc = VectorMath.exp(FloatVector.fromArray(S, z, row + c).sub(lse));
          FloatVector g = FloatVector.fromArray(S, grad, gRow + c);
          pc.mul(g.sub(sf)).mul(gradScale).intoArray(grad, gRow + c);
        }
        for (; c < classes; c++) {
          double pc = Math.exp(z[row + c] - lse);
          grad[gRow + c] = (float) (gradScale * pc * (grad[gRow + c] - s));
        }
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  // ================================================================== softmax

  @Override
  public double softmax(LossParams p, float[] z, int zOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    double total = 0;
    for (int r = 0; r < rows; r++) {
      double rowLoss = softmaxDistRow(p, z, zOff + r * classes, y, yOff + r * classes, -1, 0f,
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
    int bound = S.loopBound(classes);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    double total = 0;
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
      } else if (p.labelSmoothing != 0f) {
        rowLoss = softmaxDistRow(p, z, row, null, 0, target, p.labelSmoothing, classes, grad,
            gRow, gradScale);
      } else {
        float m = rowMax(z, row, classes);
        // e_c = exp(z_c - m), kept in grad for the last pass; the sum leaves out the target so
        // that 1 - p_t = (sum of the others) / s keeps its precision when p_t is near 1.
        FloatVector acc = zeros;
        int c = 0;
        for (; c < bound; c += L) {
          FloatVector e = VectorMath.exp(FloatVector.fromArray(S, z, row + c).sub(m));
          if (grad != null) {
            e.intoArray(grad, gRow + c);
          }
          acc = acc.add(e.blend(0f, isTarget(iota, c, target)));
        }
        double others = sumLanes(acc);
        for (; c < classes; c++) {
          float e = (float) Math.exp(z[row + c] - m);
          if (grad != null) {
            grad[gRow + c] = e;
          }
          if (c != target) {
            others += e;
          }
        }
        double et = grad != null ? grad[gRow + target] : (float) Math.exp(z[row + target] - m);
        double s = others + et;
        double lnp = z[row + target] - (m + Math.log(s));
        double q = others / s; // 1 - p_t
        double pt = et / s;
        double qg = powGamma(q, p);
        double a = p.alphaOf(target);
        rowLoss = -a * qg * lnp;
        if (grad != null) {
          double ratio = q > 0 ? lnp / q : -1.0;
          double f = gradScale * a * (p.gamma * pt * qg * ratio - qg);
          float coef = (float) (-f / s);
          for (c = 0; c < bound; c += L) {
            FloatVector.fromArray(S, grad, gRow + c).mul(coef).intoArray(grad, gRow + c);
          }
          for (; c < classes; c++) {
            grad[gRow + c] *= coef;
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

  private static double powGamma(double q, LossParams p) {
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
        return Math.pow(q, p.gamma);
    }
  }

  /**
   * One row with a full target distribution: dense y, or (y == null) the one-hot row of target
   * smoothed by ls. F_c = alpha_c (gamma p_c q_c^gamma (ln p_c / q_c) - q_c^gamma), and dl/dz_j =
   * y_j F_j - p_j sum_c y_c F_c.
   */
  private static double softmaxDistRow(LossParams p, float[] z, int row, float[] y, int yRow,
      int target, float ls, int classes, float[] grad, int gRow, float gradScale) {
    int bound = S.loopBound(classes);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    float[] alpha = p.alpha;
    float off = ls / classes;
    float on = 1f - ls + off;
    float m = rowMax(z, row, classes);
    float lse = (float) (m + Math.log(rowSumExp(z, row, classes, m)));
    FloatVector lossAcc = zeros;
    FloatVector sAcc = zeros;
    int c = 0;
    for (; c < bound; c += L) {
      FloatVector yv = y != null ? FloatVector.fromArray(S, y, yRow + c)
          : FloatVector.broadcast(S, off).blend(on, isTarget(iota, c, target));
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, c);
      FloatVector lnp = FloatVector.fromArray(S, z, row + c).sub(lse);
      FloatVector pc = VectorMath.exp(lnp);
      FloatVector q = VectorMath.expm1(lnp).neg();
      FloatVector qg = powGamma(q, p);
      FloatVector ay = a.mul(yv);
      lossAcc = lossAcc.sub(ay.mul(qg).mul(lnp));
      if (grad != null) {
        FloatVector ratio = lnp.div(q).blend(-1f, q.compare(EQ, 0f));
        FloatVector yf = ay.mul(pc.mul(qg).mul(ratio).mul(p.gamma).sub(qg));
        sAcc = sAcc.add(yf);
        yf.intoArray(grad, gRow + c);
      }
    }
    double loss = sumLanes(lossAcc);
    double s = sumLanes(sAcc);
    for (; c < classes; c++) {
      double yc = y != null ? y[yRow + c] : (c == target ? on : off);
      double lnp = z[row + c] - (double) lse;
      double pc = Math.exp(lnp);
      double q = -Math.expm1(lnp);
      double qg = powGamma(q, p);
      double a = p.alphaOf(c);
      loss += -a * yc * qg * lnp;
      if (grad != null) {
        double ratio = q > 0 ? lnp / q : -1.0;
        double yf = yc * a * (p.gamma * pc * qg * ratio - qg);
        s += yf;
        grad[gRow + c] = (float) yf;
      }
    }
    if (grad != null) {
      float sf = (float) s;
      for (c = 0; c < bound; c += L) {
        FloatVector pc = VectorMath.exp(FloatVector.fromArray(S, z, row + c).sub(lse));
        FloatVector yf = FloatVector.fromArray(S, grad, gRow + c);
        pc.mul(-sf).add(yf).mul(gradScale).intoArray(grad, gRow + c);
      }
      for (; c < classes; c++) {
        double pc = Math.exp(z[row + c] - (double) lse);
        grad[gRow + c] = (float) (gradScale * (grad[gRow + c] - pc * s));
      }
    }
    return loss;
  }

  // ================================================================== sigmoid

  /**
   * torchvision's sigmoid focal loss, lane-wise, from logits x, targets y and weights w (class
   * weight times alpha_t). ln(1 + e^-|x|) is log(1 + e) corrected for the rounding of 1 + e, with
   * the reciprocal the sigmoid needs anyway, so there is one division.
   */
  private static FloatVector sigmoidVec(LossParams p, FloatVector x, FloatVector y,
      FloatVector cw, float[] grad, int gi, float gradScale) {
    FloatVector e = VectorMath.exp(x.abs().neg());
    FloatVector w1 = e.add(1f);
    FloatVector inv = w1.broadcast(1f).div(w1);
    FloatVector ei = e.mul(inv);
    VectorMask<Float> pos = x.compare(GE, 0f);
    FloatVector prob = ei.blend(inv, pos); // sigmoid(x)
    FloatVector omp = inv.blend(ei, pos); // 1 - sigmoid(x)
    FloatVector l1p = VectorMath.log(w1).add(e.sub(w1.sub(1f)).mul(inv)); // log1p(e)
    FloatVector ce = y.neg().fma(x, x.max(0f)).add(l1p);
    FloatVector omy = y.neg().add(1f);
    FloatVector q = y.fma(omp, omy.mul(prob)); // 1 - p_t
    FloatVector w = cw;
    if (p.sigmoidAlpha >= 0f) {
      float al = p.sigmoidAlpha;
      w = w.mul(y.fma(2f * al - 1f, 1f - al));
    }
    FloatVector qg;
    FloatVector term; // gamma q^(gamma-1) p (1 - p)
    switch (p.gammaKind) {
      case 0:
        qg = x.broadcast(1f);
        term = null;
        break;
      case 1:
        qg = q;
        term = prob.mul(omp);
        break;
      case 2:
        qg = q.mul(q);
        term = q.mul(2f).mul(prob).mul(omp);
        break;
      case 3:
        FloatVector q2 = q.mul(q);
        qg = q2.mul(q);
        term = q2.mul(3f).mul(prob).mul(omp);
        break;
      default:
        qg = powGamma(q, p);
        // p (1 - p) / q <= 1 for every y in [0, 1]; where q = 0 the term is 0.
        FloatVector ratio = prob.mul(omp).div(q).blend(0f, q.compare(EQ, 0f));
        term = qg.mul(ratio).mul(p.gamma);
    }
    if (grad != null) {
      FloatVector dce = y.neg().fma(omp, omy.mul(prob)); // p - y
      FloatVector g = dce.mul(qg);
      if (term != null) {
        g = ce.mul(term).fma(y.mul(-2f).add(1f), g);
      }
      g.mul(w).mul(gradScale).intoArray(grad, gi);
    }
    return w.mul(ce).mul(qg);
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (perSample == null) {
      return sigmoidFlat(p, x, xOff, y, yOff, rows * classes, classes, grad, gOff, gradScale);
    }
    return sigmoidRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    return sigmoidRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  private static double sigmoidFlat(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int len, int classes, float[] grad, int gOff, float gradScale) {
    float[] cw = p.classWeightsTiled;
    int step = L % classes;
    int bound = S.loopBound(len);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector acc = FloatVector.zero(S);
    double total = 0;
    int col = 0;
    int k = 0;
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector w = cw == null ? ones : FloatVector.fromArray(S, cw, col);
      acc = acc.add(sigmoidVec(p, FloatVector.fromArray(S, x, xOff + i),
          FloatVector.fromArray(S, y, yOff + i), w, grad, gOff + i, gradScale));
      col += step;
      if (col >= classes) {
        col -= classes;
      }
      if (++k == FLUSH) {
        total += sumLanes(acc);
        acc = FloatVector.zero(S);
        k = 0;
      }
    }
    total += sumLanes(acc);
    if (i < len) {
      if (len >= L) {
        int start = len - L;
        FloatVector w = cw == null ? ones : FloatVector.fromArray(S, cw, start % classes);
        FloatVector l = sigmoidVec(p, FloatVector.fromArray(S, x, xOff + start),
            FloatVector.fromArray(S, y, yOff + start), w, grad, gOff + start, gradScale);
        total += sumLanes(l.blend(0f, alreadyDone(start, i)));
      } else {
        for (; i < len; i++) {
          total += ScalarKernel.sigmoidElement(p, x[xOff + i], y[yOff + i], i % classes, grad,
              gOff + i, gradScale);
        }
      }
    }
    return total;
  }

  /** Row by row: per-sample output, or class-index targets (y == null). */
  private static double sigmoidRows(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    int bound = S.loopBound(classes);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    float[] cw = p.classWeights;
    double total = 0;
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      double rowLoss = 0;
      if (t != null && target == p.ignoreIndex) {
        if (grad != null) {
          java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
        }
      } else {
        FloatVector acc = zeros;
        int c = 0;
        for (; c < bound; c += L) {
          FloatVector w = cw == null ? ones : FloatVector.fromArray(S, cw, c);
          FloatVector yv = t == null ? FloatVector.fromArray(S, y, yRow + c)
              : zeros.blend(ones, isTarget(iota, c, target));
          acc = acc.add(sigmoidVec(p, FloatVector.fromArray(S, x, row + c), yv, w, grad,
              gRow + c, gradScale));
        }
        if (c < classes && bound > 0) {
          int start = classes - L;
          FloatVector w = cw == null ? ones : FloatVector.fromArray(S, cw, start);
          FloatVector yv = t == null ? FloatVector.fromArray(S, y, yRow + start)
              : zeros.blend(ones, isTarget(iota, start, target));
          FloatVector l = sigmoidVec(p, FloatVector.fromArray(S, x, row + start), yv, w, grad,
              gRow + start, gradScale);
          rowLoss = sumLanes(acc.add(l.blend(0f, alreadyDone(start, c))));
        } else {
          rowLoss = sumLanes(acc);
          for (; c < classes; c++) {
            float yc = t == null ? y[yRow + c] : (c == target ? 1f : 0f);
            rowLoss += ScalarKernel.sigmoidElement(p, x[row + c], yc, c, grad, gRow + c,
                gradScale);
          }
        }
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  // ================================================================== validation scans

  @Override
  public int firstNonFinite(float[] a, int off, int len) {
    int bound = S.loopBound(len);
    FloatVector acc = FloatVector.zero(S);
    for (int i = 0; i < bound; i += L) {
      acc = acc.add(FloatVector.fromArray(S, a, off + i).mul(0f)); // NaN for NaN and infinity
    }
    if (acc.compare(EQ, 0f).allTrue()) {
      for (int i = off + bound, end = off + len; i < end; i++) {
        if (!Float.isFinite(a[i])) {
          return i;
        }
      }
      return -1;
    }
    return ScalarKernel.INSTANCE.firstNonFinite(a, off, len);
  }

  @Override
  public int firstOutsideUnit(float[] a, int off, int len) {
    int bound = S.loopBound(len);
    FloatVector lo = FloatVector.zero(S);
    FloatVector hi = FloatVector.zero(S);
    for (int i = 0; i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(S, a, off + i);
      lo = lo.min(v); // NaN propagates
      hi = hi.max(v);
    }
    if (lo.compare(GE, 0f).allTrue() && hi.compare(LE, 1f).allTrue()) {
      for (int i = off + bound, end = off + len; i < end; i++) {
        float v = a[i];
        if (!(v >= 0f && v <= 1f)) {
          return i;
        }
      }
      return -1;
    }
    return ScalarKernel.INSTANCE.firstOutsideUnit(a, off, len);
  }
}
