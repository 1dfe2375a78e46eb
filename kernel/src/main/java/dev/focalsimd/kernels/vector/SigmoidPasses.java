package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.OneVsAllPasses.*;
import static dev.focalsimd.kernels.vector.Passes.*;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;

import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.Scratch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * The sigmoid (RetinaNet) passes of {@link VectorKernel}: exp(-|x|), ln(1 + exp(-|x|)), the focal
 * terms, then gradient and loss; class indices as runs of rows between ignored ones.
 */
final class SigmoidPasses {

  private SigmoidPasses() {}

  // Passes that call a loop with arguments from the chunk (the other passes are methods of their
  // own below).

  static void expNegAbsPass(Chunk c) {
    expNegAbsInto(c.x, c.xo, c.s, c.n);
  }

  static void sigmoidLog1pPass(Chunk c) {
    sigmoidLog1p(c.s, c.n);
  }

  static void sigmoidTermsGeneralGammaPass(Chunk c) {
    sigmoidTerms(c);
  }

  static final Pass[] SIGMOID = {
      pass("expNegAbsPass"),
      pass("sigmoidLog1pPass"),
      pass("sigmoidTermsGradLoss")};
  static final Pass[] SIGMOID_GENERAL_GAMMA = {
      SIGMOID[0], SIGMOID[1], pass("sigmoidTermsGeneralGammaPass"),
      OVA_GENERAL_GAMMA[2], // Passes.lnQPass
      pass("sigmoidLnQFixPass"),
      OVA_GENERAL_GAMMA[4], // Passes.qPowGammaPass
      pass("sigmoidGrad"), pass("sigmoidLoss")};

  static final Pass[] SIGMOID_TERMS = {
      SIGMOID[0], SIGMOID[1], SIGMOID_GENERAL_GAMMA[2], SIGMOID_GENERAL_GAMMA[6],
      SIGMOID_GENERAL_GAMMA[7]};

  /**
   * {@link Passes#lnQFix} for the sigmoid, whose scratch holds p and 1 - p (PT and E, from {@link
   * #sigmoidTerms}) rather than p_t: p_t = y p + (1 - y)(1 - p), each exact for hard targets, into
   * H1 (no sigmoid pass uses it) for lnQFix.
   */
  static void sigmoidLnQFixPass(Chunk c) {
    if (c.p.gamma <= LN_Q_FIX_GAMMA) {
      return;
    }
    float[] s = c.s;
    float[] y = c.y;
    int yo = c.yo;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < c.n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      yv.fma(FloatVector.fromArray(S, s, PT + i),
          ones.sub(yv).mul(FloatVector.fromArray(S, s, E + i))).intoArray(s, H1 + i);
    }
    lnQFix(s, Q, H1, QG, c.n);
  }

  /** {@link VectorKernel#sigmoid} with class indices of which none is the ignore index. */
  static double sigmoidIndices(LossParams p, float[] x, int xOff, int[] t, int tOff,
      int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    int len = rows * classes;
    if (len < L) {
      return sigmoidTiny(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    if (perSample == null) {
      return sigmoidSegment(p, x, xOff, null, 0, t, tOff, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(true, p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return sigmoidRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  /**
   * Class indices with ignored rows (loss 0, gradient 0): each run of rows between them as a call
   * of its own (a segment, a per-sample block), instead of every row as a segment of its own,
   * which paid every pass's call per row. Paired A/B against that, every tenth row ignored, checks
   * off, JDK 17: 3.5x at 4096 x 16, 1.47x at 4096 x 80. Runs shorter than a vector are gathered
   * ({@link ShortRuns}) and run through the vector passes together.
   */
  static double sigmoidRuns(LossParams p, float[] x, int xOff, int[] t, int tOff,
      int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    ShortRuns shortRuns = SHORT_RUNS.get();
    shortRuns.start(classes);
    double total = 0;
    int r = 0;
    while (r < rows) {
      if (t[tOff + r] == p.ignoreIndex) {
        if (grad != null) {
          java.util.Arrays.fill(grad, gOff + r * classes, gOff + (r + 1) * classes, 0f);
        }
        if (perSample != null) {
          perSample[psOff + r] = 0f;
        }
        r++;
        continue;
      }
      int end = r + 1;
      while (end < rows && t[tOff + end] != p.ignoreIndex) {
        end++;
      }
      if ((end - r) * classes < L) {
        if (!shortRuns.fits(end - r)) {
          total += shortRuns.flush(p, grad, gOff, gradScale, perSample, psOff);
        }
        shortRuns.add(x, xOff, null, 0, t, tOff, r, end - r);
      } else {
        total += sigmoidIndices(p, x, xOff + r * classes, t, tOff + r, end - r, classes, grad,
            gOff + r * classes, gradScale, perSample, perSample == null ? 0 : psOff + r);
      }
      r = end;
    }
    return total + shortRuns.flush(p, grad, gOff, gradScale, perSample, psOff);
  }

  private static final ThreadLocal<ShortRuns> SHORT_RUNS = Scratch.withInitial(ShortRuns::new);

  /**
   * A whole call of fewer elements than a vector (rows x classes < L), dense targets y or class
   * indices t: through {@link ShortRuns}, as a short run between ignored rows, so that its rows get
   * the bits they get in a longer call (a batch's last block can be this short); the scalar kernel
   * took such calls until the ninth stop of 2026-12-06.
   */
  static double sigmoidTiny(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    ShortRuns shortRuns = SHORT_RUNS.get();
    shortRuns.start(classes);
    shortRuns.add(x, xOff, y, yOff, t, tOff, 0, rows);
    return shortRuns.flush(p, grad, gOff, gradScale, perSample, psOff);
  }

  /** {@link #sigmoidTiny} for the gradient and Hessian, dense targets. */
  static void sigmoidHessianTiny(Pass[] passes, LossParams p, float[] x, int xOff, float[] y,
      int yOff, int rows, int classes, float[] grad, int gOff, float[] hess, int hOff) {
    ShortRuns shortRuns = SHORT_RUNS.get();
    shortRuns.start(classes);
    shortRuns.add(x, xOff, y, yOff, null, 0, 0, rows);
    shortRuns.flushHessian(passes, p, grad, gOff, hess, hOff);
  }

  /**
   * The sigmoid's gradient and Hessian ({@link VectorKernel}'s {@code gradientHessian}) with class
   * indices, ignored rows or not (theirs 0): each run of rows between ignored rows as a segment of
   * the Hessian passes; the runs shorter than a vector gathered as in {@link #sigmoidRuns}.
   */
  static void sigmoidHessianRuns(Pass[] passes, LossParams p, float[] x, int xOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float[] hess, int hOff) {
    ShortRuns shortRuns = SHORT_RUNS.get();
    shortRuns.start(classes);
    int r = 0;
    while (r < rows) {
      int e = r * classes;
      if (t[tOff + r] == p.ignoreIndex) {
        java.util.Arrays.fill(grad, gOff + e, gOff + e + classes, 0f);
        java.util.Arrays.fill(hess, hOff + e, hOff + e + classes, 0f);
        r++;
        continue;
      }
      int end = r + 1;
      while (end < rows && t[tOff + end] != p.ignoreIndex) {
        end++;
      }
      int len = (end - r) * classes;
      if (len < L) {
        if (!shortRuns.fits(end - r)) {
          shortRuns.flushHessian(passes, p, grad, gOff, hess, hOff);
        }
        shortRuns.add(x, xOff, null, 0, t, tOff, r, end - r);
      } else {
        segment(passes, p, x, xOff + e, null, 0, t, tOff + r, -1, len, classes, grad, gOff + e,
            1f, hess, hOff + e);
      }
      r = end;
    }
    shortRuns.flushHessian(passes, p, grad, gOff, hess, hOff);
  }

  /** A logit whose exp(-|x|) is 0 (the clamp at -104): loss exactly 0 at target 0. */
  private static final float PAD_LOGIT = -1000f;

  /**
   * The runs of a call's rows between ignored rows that are shorter than a vector (rows x classes <
   * L, so classes < L), or a whole call that short ({@link #sigmoidTiny}), copied one after the
   * other and run through the vector passes together, led by whole rows of {@link #PAD_LOGIT} with
   * no positive where they make fewer than L elements (their losses are exactly 0). Before, each
   * such run went to the scalar kernel, which rounds otherwise: a row's bits depended on its
   * distance to the ignored rows around it ({@code RowPositionTest}), and runs of a few elements
   * paid the scalar kernel's call per run.
   */
  private static final class ShortRuns {
    /** Elements gathered at most per run of the passes. */
    static final int CAPACITY = 1024;
    final float[] x = new float[2 * L + CAPACITY];
    final float[] y = new float[2 * L + CAPACITY];
    final float[] g = new float[2 * L + CAPACITY];
    final float[] perSample = new float[2 * L + CAPACITY];
    final float[] h = new float[2 * L + CAPACITY];
    /** Each gathered run's first row in the call, and its row count. */
    final int[] runRow = new int[CAPACITY];
    final int[] runRows = new int[CAPACITY];
    int runs;
    int classes;
    /** Where the gathered rows start: whole rows, with room before it for the padding. */
    int base;
    int len;

    void start(int classes) {
      this.classes = classes;
      base = (L + classes - 1) / classes * classes;
      runs = 0;
      len = 0;
    }

    boolean fits(int rows) {
      return len + rows * classes <= CAPACITY;
    }

    /**
     * Rows [r, r + rows) of the call: their logits and their targets, dense (ys) or one-hot from
     * class indices (t).
     */
    void add(float[] xs, int xOff, float[] ys, int yOff, int[] t, int tOff, int r, int rows) {
      int n = rows * classes;
      int at = base + len;
      System.arraycopy(xs, xOff + r * classes, x, at, n);
      if (ys != null) {
        System.arraycopy(ys, yOff + r * classes, y, at, n);
      } else {
        java.util.Arrays.fill(y, at, at + n, 0f);
        for (int i = 0; i < rows; i++) {
          int target = t[tOff + r + i];
          if (target >= 0 && target < classes) { // (the background index C has no positive)
            y[at + i * classes + target] = 1f;
          }
        }
      }
      runRow[runs] = r;
      runRows[runs] = rows;
      runs++;
      len += n;
    }

    /** Runs the passes over the gathered rows and writes their results back; their summed loss. */
    double flush(LossParams p, float[] grad, int gOff, float gradScale, float[] out, int psOff) {
      if (runs == 0) {
        return 0;
      }
      int padRows = pad();
      int from = base - padRows * classes;
      float[] cg = grad == null ? null : g;
      double total;
      if (out == null) {
        total = sigmoidSegment(p, x, from, y, from, null, 0, -1, base + len - from, classes, cg,
            from, gradScale);
      } else {
        total = perSampleBlock(true, p, x, from, y, from, null, 0, padRows + len / classes,
            classes, cg, from, gradScale, perSample, 0);
        copyBack(perSample, padRows, out, psOff, 1);
      }
      if (grad != null) {
        copyBack(g, base, grad, gOff, classes);
      }
      runs = 0;
      len = 0;
      return total;
    }

    /** As {@link #flush}, for the Hessian passes: gradient and Hessian written back. */
    void flushHessian(Pass[] passes, LossParams p, float[] grad, int gOff, float[] hess,
        int hOff) {
      if (runs == 0) {
        return;
      }
      int from = base - pad() * classes;
      segment(passes, p, x, from, y, from, null, 0, -1, base + len - from, classes, g, from, 1f,
          h, from);
      copyBack(g, base, grad, gOff, classes);
      copyBack(h, base, hess, hOff, classes);
      runs = 0;
      len = 0;
    }

    /**
     * Writes the padding rows before base (as many as make L elements with the gathered ones, or
     * none) and returns their count.
     */
    private int pad() {
      int padRows = len >= L ? 0 : (L - len + classes - 1) / classes;
      java.util.Arrays.fill(x, base - padRows * classes, base, PAD_LOGIT);
      java.util.Arrays.fill(y, base - padRows * classes, base, 0f);
      return padRows;
    }

    /**
     * Copies each gathered run's values back to the call's array: from src at from, width values
     * per row, to dst at dOff plus the run's first row times width.
     */
    private void copyBack(float[] src, int from, float[] dst, int dOff, int width) {
      for (int k = 0; k < runs; k++) {
        int n = runRows[k] * width;
        System.arraycopy(src, from, dst, dOff + runRow[k] * width, n);
        from += n;
      }
    }
  }

  /** Row by row: per-sample output, or class-index targets (y == null); classes >= L. */
  static double sigmoidRows(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    double total = 0;
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      double rowLoss = 0;
      if (t != null && target == p.ignoreIndex) {
        if (grad != null) {
          java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
        }
      } else {
        rowLoss = sigmoidSegment(p, x, row, y, yOff + r * classes, null, 0, target, classes,
            classes,
            grad, gRow, gradScale);
      }
      total += rowLoss;
      if (perSample != null) {
        perSample[psOff + r] = (float) rowLoss;
      }
    }
    return total;
  }

  /**
   * torchvision's sigmoid focal loss over {@code len} elements that start at column 0 of a row:
   * logits x, dense targets y, or (y == null, len == classes) the one-hot row of {@code target}
   * (index C: all negative); class weights from {@link LossParams#sigmoidPosTiled}. len >= L.
   */
  static double sigmoidSegment(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int target, int len, int classes, float[] grad, int gOff,
      float gradScale) {
    return segment(p.gammaKind == LossParams.GAMMA_GENERAL ? SIGMOID_GENERAL_GAMMA : SIGMOID, p,
        x, xOff, y, yOff, t, tOff, target, len, classes, grad, gOff, gradScale);
  }

  /** Pass 1: e = exp(-|x|). */
  private static void expNegAbsInto(float[] x, int xo, float[] s, int n) {
    for (int i = 0; i < n; i += L) {
      VectorMath.expNegAbs(FloatVector.fromArray(S, x, xo + i)).intoArray(s, E + i);
    }
  }

  /**
   * Pass 2: 1 / (1 + e) and log1p(e) = 2 atanh(e / (2 + e)) ({@link VectorMath#log1pQuotient}),
   * both from one division, d = 1 / ((1 + e)(2 + e)): 1 / (1 + e) = (2 + e) d and e / (2 + e) = e
   * (1 + e) d, each within a few roundings. (The logarithm of 1 + e this replaced made the whole
   * sigmoid loss 3% to 15% slower; a division per quotient gained nothing over it.)
   */
  private static void sigmoidLog1p(float[] s, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector e = FloatVector.fromArray(S, s, E + i);
      FloatVector w1 = e.add(1f);
      FloatVector w2 = e.add(2f);
      FloatVector d = w1.broadcast(1f).div(w1.mul(w2));
      w2.mul(d).intoArray(s, PT + i);
      VectorMath.log1pQuotient(e, e.mul(w1).mul(d)).intoArray(s, LN + i);
    }
  }

  /** Sigmoid scratch: the weight w = class weight x alpha_t of each element. */
  private static final int W = H0;

  /**
   * Pass 3 of {@link #SIGMOID_GENERAL_GAMMA} and of {@link #SIGMOID_TERMS} (per-sample losses over
   * many rows at once, every gamma): from e = exp(-|x|) (E), 1 / (1 + e) (PT) and log1p(e) (LN): p
   * = sigmoid(x) into PT, 1 - p into E, ce = max(x, 0) - x y + log1p(e) into LN, q = 1 - p_t into
   * Q, and the weight w = class weight x alpha_t into W, for the power passes, {@link #sigmoidGrad}
   * and {@link #sigmoidLoss}. {@link #sigmoidTermsGradLoss} computes the same terms in registers.
   */
  private static void sigmoidTerms(Chunk c) {
    LossParams p = c.p;
    float[] x = c.x;
    int xo = c.xo;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    float[] s = c.s;
    // w = class weight x alpha_t (LossParams.sigmoidPosTiled); without weights or alpha exactly 1
    float[] wPos = p.sigmoidPosTiled;
    float[] wNeg = p.sigmoidNegTiled;
    float[] wNegNeg = p.sigmoidNegNegTiled;
    FloatVector aPos = FloatVector.broadcast(S, p.sigmoidAlphaPos);
    FloatVector aNeg = FloatVector.broadcast(S, p.sigmoidAlphaNeg);
    FloatVector aNegNeg = FloatVector.broadcast(S, -p.sigmoidAlphaNeg);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector inv = FloatVector.fromArray(S, s, PT + i);
      FloatVector ei = FloatVector.fromArray(S, s, E + i).mul(inv);
      // sigmoid(x) and 1 - sigmoid(x): inv and ei, swapped where the sign bit of x is set;
      // selected with bit operations, not compare and blend (see Passes.selectBySign)
      IntVector neg = xv.reinterpretAsInts().lanewise(ASHR, 31);
      FloatVector prob = selectBySign(neg, inv, ei);
      FloatVector omp = selectBySign(neg, ei, inv);
      prob.intoArray(s, PT + i);
      omp.intoArray(s, E + i);
      // max(x, 0) as a max of the bits as ints: negative floats (-0 too) are negative ints
      FloatVector relu = xv.reinterpretAsInts().max(0).reinterpretAsFloats();
      yv.neg().fma(xv, relu).add(FloatVector.fromArray(S, s, LN + i)).intoArray(s, LN + i);
      yv.fma(omp, ones.sub(yv).mul(prob)).intoArray(s, Q + i);
      FloatVector wp = wPos == null ? aPos : FloatVector.fromArray(S, wPos, col);
      FloatVector wn = wPos == null ? aNeg : FloatVector.fromArray(S, wNeg, col);
      FloatVector wnn = wPos == null ? aNegNeg : FloatVector.fromArray(S, wNegNeg, col);
      yv.fma(wp, yv.fma(wnn, wn)).intoArray(s, W + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /**
   * Pass 3 for gamma 0 to 3, the last: from e = exp(-|x|) (E), 1 / (1 + e) (PT) and log1p(e) (LN),
   * p = sigmoid(x), 1 - p, ce = max(x, 0) - x y + log1p(e), q = 1 - p_t and the weight w = class
   * weight x alpha_t; then the gradient w ((p - y) q^gamma + ce gamma q^(gamma-1) p (1 - p) (1 -
   * 2y)) and the loss w ce q^gamma, summed in the loop with Kahan's compensation. One loop with no
   * elementary function (powers by multiplication), so it stays below C2's node cutoff
   * (VectorKernel's class comment); until the third stop of 2026-12-07 it was two passes (the terms
   * into the scratch, then the gradient and the loss from it). Its terms are {@link #sigmoidTerms}'
   * expressions, in the same order, written out again rather than shared (vectors do not cross a
   * method boundary, VectorKernel's class comment): a change to one belongs in the other, or the
   * per-sample losses ({@link #SIGMOID_TERMS}) and the reduced loss drift apart. Paired A/B against
   * the two passes, one JVM, two class loaders alternating 100 ms slices, checks off, medians of 31
   * slices' ratios, JDK 17 at 512 bits: 1.19x, 1.11x, 1.08x and 1.15x at 4096 x 16, 65536 x 16,
   * 16384 x 80 and 8192 x 1000; checks on 1.26x, 1.15x, 1.28x (4096 x 16, 65536 x 16, 8192 x 1000);
   * JDK 25 1.18x, 1.11x, 1.30x; 256 bits 1.29x, 1.15x, 1.15x; 128 bits 1.11x, 1.05x, 1.10x; the
   * same gradient bits and no allocation in each.
   */
  static void sigmoidTermsGradLoss(Chunk c) {
    LossParams p = c.p;
    float[] x = c.x;
    int xo = c.xo;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    float[] grad = c.grad;
    int go = c.go;
    float[] s = c.s;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector scale = FloatVector.broadcast(S, c.gradScale);
    FloatVector acc = zeros;
    FloatVector comp = zeros;
    int step = L % classes;
    int col = c.col0;
    float[] wPos = p.sigmoidPosTiled;
    float[] wNeg = p.sigmoidNegTiled;
    float[] wNegNeg = p.sigmoidNegNegTiled;
    FloatVector aPos = FloatVector.broadcast(S, p.sigmoidAlphaPos);
    FloatVector aNeg = FloatVector.broadcast(S, p.sigmoidAlphaNeg);
    FloatVector aNegNeg = FloatVector.broadcast(S, -p.sigmoidAlphaNeg);
    for (int i = 0; i < n; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector inv = FloatVector.fromArray(S, s, PT + i);
      FloatVector ei = FloatVector.fromArray(S, s, E + i).mul(inv);
      // sigmoid(x) and 1 - sigmoid(x): inv and ei, swapped where the sign bit of x is set;
      // selected with bit operations, not compare and blend (see Passes.selectBySign)
      IntVector neg = xv.reinterpretAsInts().lanewise(ASHR, 31);
      FloatVector prob = selectBySign(neg, inv, ei);
      FloatVector omp = selectBySign(neg, ei, inv);
      // max(x, 0) as a max of the bits as ints: negative floats (-0 too) are negative ints
      FloatVector relu = xv.reinterpretAsInts().max(0).reinterpretAsFloats();
      FloatVector ce = yv.neg().fma(xv, relu).add(FloatVector.fromArray(S, s, LN + i));
      FloatVector q = yv.fma(omp, ones.sub(yv).mul(prob));
      // (values chosen on two paths, wp, wn, wnn, qg, term and g, are only ever arguments: see
      // VectorKernel's class comment)
      FloatVector wp = wPos == null ? aPos : FloatVector.fromArray(S, wPos, col);
      FloatVector wn = wPos == null ? aNeg : FloatVector.fromArray(S, wNeg, col);
      FloatVector wnn = wPos == null ? aNegNeg : FloatVector.fromArray(S, wNegNeg, col);
      FloatVector w = yv.fma(wp, yv.fma(wnn, wn));
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q : q.mul(q).mul(q);
      if (grad != null) {
        // p - y = q - 2 y (1 - p): exact for hard targets (q is 1 - p or p there)
        FloatVector g = yv.mul(-2f).fma(omp, q).mul(qg); // (p - y) q^gamma
        if (kind != 0) {
          FloatVector pp = prob.mul(omp);
          FloatVector term = kind == 2 ? q.mul(pp) : kind == 1 ? pp : q.mul(q).mul(pp);
          g = ce.mul(term).fma(yv.fma(-2f * gamma, gamma), g); // gamma (1 - 2y)
        }
        w.mul(g).mul(scale).intoArray(grad, go + i);
      }
      FloatVector t = w.mul(ce).mul(qg).sub(comp);
      FloatVector next = t.add(acc);
      comp = next.sub(acc).sub(t);
      acc = next;
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
    ONE.mul(acc).sub(comp).intoArray(s, RED);
    zeroCounted(s, RED, c.done);
    c.sum = sumLanes(s, RED);
  }

  /**
   * Pass 4: the gradient w ((p - y) q^gamma + ce gamma q^(gamma-1) p (1 - p) (1 - 2y)); for general
   * gamma the factor q^(gamma-1) p (1 - p) is q^gamma (p (1 - p) / q), where p (1 - p) / q <= 1
   * for every y in [0, 1] and the term is 0 at q = 0. Separate from the loss sum for C2's sake, as
   * {@link OneVsAllPasses#ovaGrad}.
   */
  static void sigmoidGrad(Chunk c) {
    float[] grad = c.grad;
    if (grad == null) {
      return;
    }
    LossParams p = c.p;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    int go = c.go;
    float[] s = c.s;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    float gradScale = c.gradScale;
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector prob = FloatVector.fromArray(S, s, PT + i);
      FloatVector omp = FloatVector.fromArray(S, s, E + i);
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      FloatVector g = yv.neg().fma(omp, ones.sub(yv).mul(prob)).mul(qg); // (p - y) q^gamma
      if (kind != 0) {
        FloatVector pp = prob.mul(omp);
        FloatVector term = kind == 2 ? q.mul(pp) : kind == 1 ? pp : kind == 3 ? q.mul(q).mul(pp)
            : pp.div(q).blend(0f, q.compare(EQ, 0f)).mul(qg);
        g = FloatVector.fromArray(S, s, LN + i).mul(term).mul(gamma).fma(yv.fma(-2f, 1f), g);
      }
      FloatVector.fromArray(S, s, W + i).mul(g).mul(gradScale).intoArray(grad, go + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /**
   * Pass 5: the loss w ce q^gamma, summed with Kahan's compensation as in {@link
   * OneVsAllPasses#ovaLoss}.
   */
  static void sigmoidLoss(Chunk c) {
    int n = c.n;
    float[] s = c.s;
    int kind = c.p.gammaKind;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      FloatVector wce = FloatVector.fromArray(S, s, W + i).mul(FloatVector.fromArray(S, s, LN + i));
      wce.mul(qg).intoArray(s, TERMS + i);
    }
    zeroCounted(s, TERMS, c.done);
    c.sum = sumTerms(s, n);
  }
}
