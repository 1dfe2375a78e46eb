package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.OneVsAllPasses.*;
import static dev.focalsimd.kernels.vector.Passes.*;
import static dev.focalsimd.kernels.vector.SigmoidPasses.*;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.NE;

import dev.focalsimd.kernels.LossParams;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * The gradient-and-Hessian passes of {@link VectorKernel} ({@code gradientHessian}): the sigmoid
 * form (dense targets, and class indices as runs of rows between ignored ones) and the softmax form
 * with class indices (chunks of rows, class-major), and the logarithm split into two passes that
 * both use (closed forms: docs/hessian.md).
 */
final class HessianPasses {

  private HessianPasses() {}

  // The gradient-and-Hessian passes keep every compilation well below C2's inlining cutoff (see
  // VectorKernel's class comment): a pass that reaches it has its last Vector API calls inlined
  // late, and a store whose value is still such a call when its intrinsic is tried is not
  // intrinsified (the vector is boxed on every iteration). So each pass below holds one elementary
  // function or a couple of dozen lane-wise operations, and hands its results over in scratch.

  // Per-row slots of the chunk scratch for the softmax Hessian (SM_ROWS rows at most); q and
  // q^gamma use Q and QG, so the general-gamma passes logInto and expScaledInto apply unchanged.
  private static final int SM_ROWS = 128;
  private static final int SM_M = REGION; // row max
  private static final int SM_JM = REGION + SM_ROWS; // its class (the first one), as a float
  private static final int SM_T = REGION + 2 * SM_ROWS; // target class as a float; -1: ignored
  private static final int SM_ZT = REGION + 3 * SM_ROWS; // z_t - max
  private static final int SM_REST = 2 * REGION; // sum of exp(z_c - max) over c != arg max
  private static final int SM_ET = 2 * REGION + SM_ROWS; // exp(z_t - max)
  private static final int SM_U = 2 * REGION + 2 * SM_ROWS; // ln p_t
  private static final int SM_A = 2 * REGION + 3 * SM_ROWS; // alpha_t; 0: ignored
  private static final int SM_L1P = H0; // ln(1 + rest), 1 + rest rounded
  private static final int SM_INV = H0 + SM_ROWS; // 1 / (1 + rest)
  private static final int SM_PT = H0 + 2 * SM_ROWS; // p_t
  private static final int SM_FP = H0 + 3 * SM_ROWS; // f'(u)
  private static final int SM_CURV = H1; // f''(u) q^2
  private static final int SM_SC = H1 + SM_ROWS; // 1, or 2^64 where the others' sum is tiny
  private static final int SM_INVO = H1 + 2 * SM_ROWS; // 1 / (sc * others), 0 where others = 0
  private static final int SM_GT = H1 + 3 * SM_ROWS; // gradient of the target logit
  private static final int SM_HT = H2; // Hessian of the target logit
  private static final int SM_HJM = H2 + SM_ROWS; // Hessian of the arg max logit (if not t)
  private static final int SM_NAFP = H2 + 2 * SM_ROWS; // -alpha_t f'(u)
  /** Floats per class-major region of the softmax Hessian's chunk of rows. */
  private static final int SM_BUDGET = 4096;
  /** Above this many classes the softmax Hessian runs on {@link ScalarHessianKernel}. */
  static final int SM_MAX_CLASSES = 2048;

  static final Pass[] SIGMOID_HESS = {
      SIGMOID[0], // E = exp(-|x|)
      pass("ln1pEReducePass"), // ln(1 + E), in two passes
      pass("ln1pEFinishPass"),
      pass("sigmoidHessProbs"),
      pass("sigmoidHessGrad"),
      pass("sigmoidHessHess")};
  /** QG = q^gamma = exp(gamma ln q), the logarithm in two passes. */
  private static final Pass[] Q_POW_GAMMA = {
      pass("lnQReducePass"),
      pass("lnQFinishPass"),
      OVA_GENERAL_GAMMA[4]}; // Passes.qPowGammaPass
  static final Pass[] SIGMOID_HESS_GENERAL_GAMMA = {
      SIGMOID_HESS[0], SIGMOID_HESS[1], SIGMOID_HESS[2], SIGMOID_HESS[3],
      Q_POW_GAMMA[0], Q_POW_GAMMA[1], pass("sigmoidHessLnQFix"), Q_POW_GAMMA[2],
      SIGMOID_HESS[4], SIGMOID_HESS[5]};
  private static final Pass[] SOFTMAX_HESS = {
      pass("softmaxHessIn"), pass("softmaxHessExp"), pass("softmaxHessSums"),
      pass("ln1pRestReducePass"), // ln(1 + rest), in two passes
      pass("ln1pRestFinishPass"),
      pass("softmaxHessLnPt"),
      pass("softmaxHessCoef1"), pass("softmaxHessCoef2"),
      pass("softmaxHessCoef3"), pass("softmaxHessGrad"),
      pass("softmaxHessHess"), pass("softmaxHessOut")};
  private static final Pass[] SOFTMAX_HESS_GENERAL_GAMMA = {
      SOFTMAX_HESS[0], SOFTMAX_HESS[1], SOFTMAX_HESS[2], SOFTMAX_HESS[3], SOFTMAX_HESS[4],
      SOFTMAX_HESS[5], Q_POW_GAMMA[0], Q_POW_GAMMA[1], pass("softmaxHessLnQFix"), Q_POW_GAMMA[2],
      SOFTMAX_HESS[6], SOFTMAX_HESS[7], SOFTMAX_HESS[8], SOFTMAX_HESS[9], SOFTMAX_HESS[10],
      SOFTMAX_HESS[11]};

  // The natural logarithm of VectorMath.log (same algorithm, its constants), split in two passes:
  // VectorMath.log alone is about as large as a compilation can get before C2's inlining cutoff
  // (see the note above), so a pass that holds it is not reliably intrinsified.

  // The split logarithm as passes, on the slots each of the passes above reads.

  static void ln1pEReducePass(Chunk c) {
    lnReduce(c.s, E, 1f, c.n);
  }

  static void ln1pEFinishPass(Chunk c) {
    lnFinish(c.s, E, 1f, LN, c.n);
  }

  static void lnQReducePass(Chunk c) {
    lnReduce(c.s, Q, 0f, c.n);
  }

  static void lnQFinishPass(Chunk c) {
    lnFinish(c.s, Q, 0f, QG, c.n);
  }

  /**
   * {@link Passes#lnQFix} for the sigmoid Hessian (above {@link Passes#LN_Q_FIX_GAMMA}), whose
   * scratch keeps q but neither p nor p_t: p and 1 - p again from x and e = exp(-|x|) (E), as
   * {@link #sigmoidHessProbs} takes them, then p_t = y p + (1 - y)(1 - p) into PT (free until
   * {@link #sigmoidHessGrad} writes r there) for lnQFix.
   */
  static void sigmoidHessLnQFix(Chunk c) {
    if (c.p.gamma <= LN_Q_FIX_GAMMA) {
      return;
    }
    float[] x = c.x;
    int xo = c.xo;
    float[] y = c.y;
    int yo = c.yo;
    float[] s = c.s;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < c.n; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector e = FloatVector.fromArray(S, s, E + i);
      FloatVector inv = ones.div(e.add(1f));
      FloatVector ei = e.mul(inv);
      IntVector neg = xv.reinterpretAsInts().lanewise(ASHR, 31);
      yv.fma(selectBySign(neg, inv, ei), ones.sub(yv).mul(selectBySign(neg, ei, inv)))
          .intoArray(s, PT + i);
    }
    lnQFix(s, Q, PT, QG, c.n);
  }

  /**
   * {@link Passes#lnQFix} for the softmax Hessian (above {@link Passes#LN_Q_FIX_GAMMA}): per row,
   * p_t = e_t / (1 + rest) from SM_ET and SM_INV into SM_PT ({@link #softmaxHessCoef1} writes the
   * same values there again) for lnQFix.
   */
  static void softmaxHessLnQFix(Chunk c) {
    if (c.p.gamma <= LN_Q_FIX_GAMMA) {
      return;
    }
    float[] s = c.s;
    for (int i = 0; i < c.n; i += L) {
      FloatVector.fromArray(S, s, SM_ET + i).mul(FloatVector.fromArray(S, s, SM_INV + i))
          .intoArray(s, SM_PT + i);
    }
    lnQFix(s, Q, SM_PT, QG, c.n);
  }

  static void ln1pRestReducePass(Chunk c) {
    lnReduce(c.s, SM_REST, 1f, c.n);
  }

  static void ln1pRestFinishPass(Chunk c) {
    lnFinish(c.s, SM_REST, 1f, SM_L1P, c.n);
  }

  /**
   * First half of ln(v), v = s[from + i] + plus >= 0 (no infinities or NaN here): v = 2^k m with
   * m in [sqrt(1/2), sqrt(2)) (subnormals scaled by 2^23 first); k into LK, f = m - 1 into LF.
   */
  private static void lnReduce(float[] s, int from, float plus, int n) {
    FloatVector zeros = FloatVector.zero(S);
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, s, from + i).add(plus);
      VectorMask<Float> sub = v.compare(LT, Float.MIN_NORMAL);
      // bits - bits(sqrt(1/2)): k in the high bits (signed), m's mantissa in the low ones
      IntVector ix = v.blend(v.mul(0x1p23f), sub).reinterpretAsInts()
          .sub(VectorMath.SQRT_HALF_BITS);
      ((FloatVector) ix.lanewise(ASHR, 23).convert(I2F, 0))
          .add(zeros.blend(-23f, sub)).intoArray(s, LK + i);
      ix.and(VectorMath.MANT_MASK).add(VectorMath.SQRT_HALF_BITS).reinterpretAsFloats().sub(1f)
          .intoArray(s, LF + i);
    }
  }

  /**
   * Second half: s[to + i] = k ln2 + ln(1 + f), ln(1 + f) = f - q (f - R(q^2)) with q = f / (2 +
   * f) (fdlibm, as VectorMath.log); -infinity where v = 0. Within VectorMath.log's error bound (1
   * ulp).
   */
  private static void lnFinish(float[] s, int from, float plus, int to, int n) {
    FloatVector lg1 = FloatVector.broadcast(S, VectorMath.LG1);
    FloatVector lg2 = FloatVector.broadcast(S, VectorMath.LG2);
    FloatVector ln2Hi = FloatVector.broadcast(S, VectorMath.LN2_HI);
    FloatVector ln2Lo = FloatVector.broadcast(S, VectorMath.LN2_LO);
    for (int i = 0; i < n; i += L) {
      FloatVector k = FloatVector.fromArray(S, s, LK + i);
      FloatVector f = FloatVector.fromArray(S, s, LF + i);
      FloatVector q = f.div(f.add(2f));
      FloatVector z = q.mul(q);
      FloatVector r = z.fma(VectorMath.LG4, VectorMath.LG3).fma(z, lg2).fma(z, lg1).mul(z);
      FloatVector y = q.neg().fma(f.sub(r), k.fma(ln2Lo, f));
      VectorMask<Float> zero = FloatVector.fromArray(S, s, from + i).add(plus).compare(EQ, 0f);
      k.fma(ln2Hi, y).blend(Float.NEGATIVE_INFINITY, zero).intoArray(s, to + i);
    }
  }

  /**
   * Sigmoid pass: from e = exp(-|x|) and ln(1 + e) (1 + e rounded; corrected here to first order
   * with the reciprocal of 1 + e): q = 1 - p_t into Q, and ce =
   * softplus(x) - x y, p - y, s = p (1 - p) and 1 - 2p into H0..H3.
   */
  static void sigmoidHessProbs(Chunk c) {
    float[] x = c.x;
    int xo = c.xo;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    float[] s = c.s;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector e = FloatVector.fromArray(S, s, E + i);
      FloatVector w1 = e.add(1f);
      FloatVector inv = ones.div(w1);
      FloatVector ln = e.sub(w1.sub(1f)).fma(inv, FloatVector.fromArray(S, s, LN + i));
      FloatVector ei = e.mul(inv);
      // sigmoid(x) and 1 - sigmoid(x): inv and ei, swapped where the sign bit of x is set;
      // selected with bit operations, not compare and blend (see Passes.selectBySign)
      IntVector neg = xv.reinterpretAsInts().lanewise(ASHR, 31);
      FloatVector prob = selectBySign(neg, inv, ei);
      FloatVector omp = selectBySign(neg, ei, inv);
      FloatVector omyp = ones.sub(yv).mul(prob);
      yv.fma(omp, omyp).intoArray(s, Q + i); // 1 - p_t
      yv.neg().fma(xv, xv.blend(0f, xv.compare(LT, 0f))).add(ln).intoArray(s, H0 + i); // ce
      yv.neg().fma(omp, omyp).intoArray(s, H1 + i); // p - y
      prob.mul(omp).intoArray(s, H2 + i); // p (1 - p)
      omp.sub(prob).intoArray(s, H3 + i); // 1 - 2p
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /**
   * Sigmoid pass: the gradient w q^g ((p - y) + g (1 - 2y) ce r) with r = p (1 - p) / q (in [0,
   * 1]; 0 where q = 0, the limit of every term it multiplies), and r, w q^g and ce r into PT, E
   * and LN for the Hessian pass. See {@link ScalarHessianKernel} and docs/hessian.md.
   */
  static void sigmoidHessGrad(Chunk c) {
    LossParams p = c.p;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    float[] grad = c.grad;
    int go = c.go;
    float[] s = c.s;
    int kind = p.gammaKind;
    // w = class weight x alpha_t (LossParams.sigmoidPosTiled); without weights or alpha exactly 1
    float[] wPos = p.sigmoidPosTiled;
    float[] wNeg = p.sigmoidNegTiled;
    float[] wNegNeg = p.sigmoidNegNegTiled;
    FloatVector aPos = FloatVector.broadcast(S, p.sigmoidAlphaPos);
    FloatVector aNeg = FloatVector.broadcast(S, p.sigmoidAlphaNeg);
    FloatVector aNegNeg = FloatVector.broadcast(S, -p.sigmoidAlphaNeg);
    float g = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector wp = wPos == null ? aPos : FloatVector.fromArray(S, wPos, col);
      FloatVector wn = wPos == null ? aNeg : FloatVector.fromArray(S, wNeg, col);
      FloatVector wnn = wPos == null ? aNegNeg : FloatVector.fromArray(S, wNegNeg, col);
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      FloatVector r = FloatVector.fromArray(S, s, H2 + i).div(q).blend(0f, q.compare(EQ, 0f));
      FloatVector cer = FloatVector.fromArray(S, s, H0 + i).mul(r);
      FloatVector wqg = yv.fma(wp, yv.fma(wnn, wn)).mul(qg);
      cer.mul(g).fma(yv.mul(-2f).add(1f), FloatVector.fromArray(S, s, H1 + i)).mul(wqg)
          .intoArray(grad, go + i);
      r.intoArray(s, PT + i);
      wqg.intoArray(s, E + i);
      cer.intoArray(s, LN + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /**
   * Sigmoid pass: the Hessian max(w q^g (s + g r (1 - 2y) (2 (p - y) + (1 - 2p) ce + (g - 1)(1 -
   * 2y) ce r)), floor); with gamma 0 it is w p (1 - p) exactly; 0 where w q^g is 0 (for gamma
   * above about 2e19, g r (g - 1) overflows float, and its product with q^g = 0 was NaN, found by
   * an adversarial test session; HessianTest).
   */
  static void sigmoidHessHess(Chunk c) {
    LossParams p = c.p;
    float[] y = c.y;
    int yo = c.yo;
    int n = c.n;
    int classes = c.classes;
    float[] hess = c.hess;
    int ho = c.ho;
    float[] s = c.s;
    float g = p.gamma;
    float gm1 = g - 1f;
    FloatVector floor = FloatVector.broadcast(S, p.hessianFloor);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector sy = yv.mul(-2f).add(1f); // 1 - 2y
      FloatVector dce = FloatVector.fromArray(S, s, H1 + i);
      FloatVector inner = FloatVector.fromArray(S, s, H3 + i)
          .fma(FloatVector.fromArray(S, s, H0 + i), dce.add(dce))
          .add(FloatVector.fromArray(S, s, LN + i).mul(sy).mul(gm1));
      FloatVector wqg = FloatVector.fromArray(S, s, E + i);
      FloatVector.fromArray(S, s, PT + i).mul(g).mul(sy)
          .fma(inner, FloatVector.fromArray(S, s, H2 + i))
          .mul(wqg).blend(0f, wqg.compare(EQ, 0f)).max(floor).intoArray(hess, ho + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
    c.sum = 0;
  }

  /** The chunk loop of the softmax Hessian; rows >= L. */
  static void softmaxHessRows(LossParams p, float[] z, int zOff, int[] t, int tOff,
      int rows, int classes, float[] grad, int gOff, float[] hess, int hOff) {
    Pass[] passes = p.gammaKind == LossParams.GAMMA_GENERAL ? SOFTMAX_HESS_GENERAL_GAMMA
        : SOFTMAX_HESS;
    int perChunk = Math.max(L, Math.min(SM_ROWS, SM_BUDGET / classes / L * L));
    Chunk c = CHUNK_ARGS.get();
    if (c.km.length < 3 * classes * perChunk) {
      c.km = new float[3 * classes * perChunk];
    }
    c.p = p;
    c.x = z;
    c.tArr = t;
    c.classes = classes;
    c.grad = grad;
    c.hess = hess;
    int r0 = 0;
    while (r0 < rows) {
      int n = Math.min(perChunk, rows - r0);
      n -= n % L;
      if (n == 0) { // fewer than L rows left: one group of L rows ending at the last row
        r0 = rows - L;
        n = L;
      }
      c.xo = zOff + r0 * classes;
      c.to = tOff + r0;
      c.go = gOff + r0 * classes;
      c.ho = hOff + r0 * classes;
      c.n = n;
      for (Pass pass : passes) {
        run(pass, c);
      }
      r0 += n;
    }
    c.x = null; // hold no caller array past the call
    c.tArr = null;
    c.grad = null;
    c.hess = null;
  }

  /**
   * Softmax pass: the chunk's logits class-major into km (km[j n + r] = z of row r, class j),
   * target, alpha_t and z_t per row, then row max and its first class, L rows at a time.
   */
  static void softmaxHessIn(Chunk c) {
    LossParams p = c.p;
    float[] z = c.x;
    int zo = c.xo;
    int[] t = c.tArr;
    int to = c.to;
    int k = c.classes;
    int n = c.n;
    float[] km = c.km;
    float[] s = c.s;
    int ignore = p.ignoreIndex;
    for (int r = 0; r < n; r++) {
      int row = zo + r * k;
      for (int j = 0; j < k; j++) {
        km[j * n + r] = z[row + j];
      }
      int tr = t[to + r];
      boolean ignored = tr == ignore;
      s[SM_T + r] = ignored ? -1f : tr;
      s[SM_A + r] = ignored ? 0f : p.alphaOf(tr);
      s[SM_ZT + r] = ignored ? 0f : z[row + tr];
    }
    for (int i = 0; i < n; i += L) {
      FloatVector m = FloatVector.fromArray(S, km, i);
      FloatVector jm = FloatVector.zero(S);
      for (int j = 1; j < k; j++) {
        FloatVector v = FloatVector.fromArray(S, km, j * n + i);
        VectorMask<Float> le = v.compare(LE, m);
        m = v.blend(m, le);
        jm = FloatVector.broadcast(S, (float) j).blend(jm, le);
      }
      ONE.mul(m).intoArray(s, SM_M + i);
      ONE.mul(jm).intoArray(s, SM_JM + i);
      // z_t - max can overflow to -infinity (z near +-MAX_VALUE); below -104 p_t is 0 and u
      // only meets factors of p_t, so any finite stand-in gives the same outputs.
      FloatVector.fromArray(S, s, SM_ZT + i).sub(m).max(-1e30f).intoArray(s, SM_ZT + i);
    }
  }

  /** Softmax pass: e_j = exp(z_j - max), in place in km. */
  static void softmaxHessExp(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    int n = c.n;
    for (int i = 0; i < n; i += L) {
      FloatVector m = FloatVector.fromArray(S, s, SM_M + i);
      for (int j = 0; j < k; j++) {
        int at = j * n + i;
        VectorMath.expNonPositive(FloatVector.fromArray(S, km, at).sub(m)).intoArray(km, at);
      }
    }
  }

  /**
   * Softmax pass: the sum of e_j over the classes other than the arg max (without its 1, so 1 -
   * p_t keeps its digits when p_t is near 1), with Kahan's compensation, and e_t. A plain float
   * sum's rounding errors add up with the class count where many logits are equal (a boosting
   * round's untouched margins): every Hessian element was off by up to 1.7e-4 of the largest at
   * 2048 classes (2e-5 is the golden tolerance), found by an adversarial test session
   * (HessianTest). The compensation goes to Q (free until softmaxHessLnPt) and is added in
   * a second loop: vectors combined after the loop that made them were boxed on JDK 17 (see
   * OneVsAllPasses.OVL_ACC).
   */
  static void softmaxHessSums(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    int n = c.n;
    for (int i = 0; i < n; i += L) {
      FloatVector jm = FloatVector.fromArray(S, s, SM_JM + i);
      FloatVector tv = FloatVector.fromArray(S, s, SM_T + i);
      FloatVector rest = FloatVector.zero(S);
      FloatVector comp = rest;
      FloatVector et = rest;
      for (int j = 0; j < k; j++) {
        FloatVector e = FloatVector.fromArray(S, km, j * n + i);
        FloatVector term = e.blend(0f, jm.compare(EQ, (float) j)).sub(comp);
        FloatVector next = term.add(rest);
        comp = next.sub(rest).sub(term);
        rest = next;
        et = e.blend(et, tv.compare(NE, (float) j));
      }
      ONE.mul(rest).intoArray(s, SM_REST + i);
      ONE.mul(comp).intoArray(s, Q + i);
      ONE.mul(et).intoArray(s, SM_ET + i);
    }
    for (int i = 0; i < n; i += L) {
      FloatVector.fromArray(S, s, SM_REST + i).sub(FloatVector.fromArray(S, s, Q + i))
          .intoArray(s, SM_REST + i);
    }
  }

  /**
   * Softmax pass: log1p(rest) = ln(w) + (rest - (w - 1)) / w with w = 1 + rest rounded (the
   * first-order correction for that rounding), ln p_t = (z_t - max) - log1p(rest), 1 / w, and q
   * = 1 - p_t = (sum of the other classes' terms) / w.
   */
  static void softmaxHessLnPt(Chunk c) {
    float[] s = c.s;
    int n = c.n;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector rest = FloatVector.fromArray(S, s, SM_REST + i);
      FloatVector sum = rest.add(1f);
      FloatVector inv = ones.div(sum);
      inv.intoArray(s, SM_INV + i);
      FloatVector l1p = rest.sub(sum.sub(1f)).fma(inv, FloatVector.fromArray(S, s, SM_L1P + i));
      FloatVector.fromArray(S, s, SM_ZT + i).sub(l1p).intoArray(s, SM_U + i);
      VectorMask<Float> tIsMax = FloatVector.fromArray(S, s, SM_T + i)
          .compare(EQ, FloatVector.fromArray(S, s, SM_JM + i));
      sum.sub(FloatVector.fromArray(S, s, SM_ET + i)).blend(rest, tIsMax).div(sum)
          .intoArray(s, Q + i);
    }
  }

  /**
   * Softmax pass, per row: p_t, f'(u) = g p_t q^g (u / q) - q^g and f''(u) q^2 =
   * g q^g p_t (q (u + 2) - (g - 1) p_t u), with u / q -> -1 where q = 0 (formulas:
   * {@link ScalarHessianKernel#softmax}).
   */
  static void softmaxHessCoef1(Chunk c) {
    LossParams p = c.p;
    float[] s = c.s;
    int n = c.n;
    int kind = p.gammaKind;
    float g = p.gamma;
    float gm1 = g - 1f;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector minusOnes = FloatVector.broadcast(S, -1f);
    for (int i = 0; i < n; i += L) {
      FloatVector u = FloatVector.fromArray(S, s, SM_U + i);
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      FloatVector pt = FloatVector.fromArray(S, s, SM_ET + i)
          .mul(FloatVector.fromArray(S, s, SM_INV + i));
      FloatVector ratio = u.div(q).blend(-1f, q.compare(EQ, 0f));
      pt.intoArray(s, SM_PT + i);
      pt.mul(qg).mul(g).fma(ratio, minusOnes.mul(qg)).intoArray(s, SM_FP + i);
      q.mul(u.add(2f)).sub(pt.mul(u).mul(gm1)).mul(pt).mul(qg).mul(g).intoArray(s, SM_CURV + i);
    }
  }

  /**
   * Softmax pass, per row: the target logit's gradient alpha_t f'(u) q and Hessian alpha_t
   * (f''(u) q^2 - f'(u) p_t q), and -alpha_t f'(u).
   */
  static void softmaxHessCoef2(Chunk c) {
    float[] s = c.s;
    int n = c.n;
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector a = FloatVector.fromArray(S, s, SM_A + i);
      FloatVector fp = FloatVector.fromArray(S, s, SM_FP + i);
      FloatVector afp = a.mul(fp);
      afp.mul(q).intoArray(s, SM_GT + i);
      afp.neg().intoArray(s, SM_NAFP + i);
      fp.mul(FloatVector.fromArray(S, s, SM_PT + i)).mul(q).neg()
          .add(FloatVector.fromArray(S, s, SM_CURV + i)).mul(a).intoArray(s, SM_HT + i);
    }
  }

  /**
   * Softmax pass, per row: the reciprocal of the other classes' sum for d_j / q = -e_j / others
   * (scaled by 2^64 where that sum is below 2^-60, which happens only when the target is the arg
   * max, so the reciprocal stays finite), and the arg max logit's Hessian alpha_t (f''(u) q^2 /
   * others^2 - f'(u) p (1 - p)) with p = 1 / (1 + rest), 1 - p = rest / (1 + rest).
   */
  static void softmaxHessCoef3(Chunk c) {
    float[] s = c.s;
    int n = c.n;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector rest = FloatVector.fromArray(S, s, SM_REST + i);
      FloatVector inv = FloatVector.fromArray(S, s, SM_INV + i);
      VectorMask<Float> tIsMax = FloatVector.fromArray(S, s, SM_T + i)
          .compare(EQ, FloatVector.fromArray(S, s, SM_JM + i));
      FloatVector others = rest.add(1f).sub(FloatVector.fromArray(S, s, SM_ET + i))
          .blend(rest, tIsMax);
      FloatVector sc = ones.blend(0x1p64f, others.compare(LT, 0x1p-60f));
      FloatVector invOthers = ones.div(others.mul(sc)).blend(0f, others.compare(EQ, 0f));
      sc.intoArray(s, SM_SC + i);
      invOthers.intoArray(s, SM_INVO + i);
      FloatVector.fromArray(S, s, SM_CURV + i).mul(invOthers).mul(invOthers)
          .sub(FloatVector.fromArray(S, s, SM_FP + i).mul(inv).mul(rest.mul(inv)))
          .mul(FloatVector.fromArray(S, s, SM_A + i)).intoArray(s, SM_HJM + i);
    }
  }

  /** Softmax pass: gradients -alpha_t f'(u) p_j, alpha_t f'(u) q at the target, class-major. */
  static void softmaxHessGrad(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    int n = c.n;
    int gt0 = k * n;
    for (int i = 0; i < n; i += L) {
      FloatVector inv = FloatVector.fromArray(S, s, SM_INV + i);
      FloatVector nafp = FloatVector.fromArray(S, s, SM_NAFP + i);
      FloatVector gT = FloatVector.fromArray(S, s, SM_GT + i);
      FloatVector tv = FloatVector.fromArray(S, s, SM_T + i);
      VectorMask<Float> ignored = tv.compare(LT, 0f);
      for (int j = 0; j < k; j++) {
        int at = j * n + i;
        nafp.mul(FloatVector.fromArray(S, km, at).mul(inv)).blend(gT, tv.compare(EQ, (float) j))
            .blend(0f, ignored).intoArray(km, gt0 + at);
      }
    }
  }

  /**
   * Softmax pass: Hessians alpha_t (f''(u) q^2 (d_j / q)^2 - f'(u) p_j (1 - p_j)), the arg max's
   * and the target's from the per-row passes, clamped at the floor, class-major.
   */
  static void softmaxHessHess(Chunk c) {
    LossParams p = c.p;
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    int n = c.n;
    int ht0 = 2 * k * n;
    FloatVector floor = FloatVector.broadcast(S, p.hessianFloor);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector inv = FloatVector.fromArray(S, s, SM_INV + i);
      FloatVector sc = FloatVector.fromArray(S, s, SM_SC + i);
      FloatVector invO = FloatVector.fromArray(S, s, SM_INVO + i);
      FloatVector curv = FloatVector.fromArray(S, s, SM_CURV + i);
      FloatVector afp = FloatVector.fromArray(S, s, SM_NAFP + i); // -alpha_t f'(u)
      FloatVector a = FloatVector.fromArray(S, s, SM_A + i);
      FloatVector hJm = FloatVector.fromArray(S, s, SM_HJM + i);
      FloatVector hT = FloatVector.fromArray(S, s, SM_HT + i);
      FloatVector jm = FloatVector.fromArray(S, s, SM_JM + i);
      FloatVector tv = FloatVector.fromArray(S, s, SM_T + i);
      VectorMask<Float> ignored = tv.compare(LT, 0f);
      for (int j = 0; j < k; j++) {
        int at = j * n + i;
        FloatVector ec = FloatVector.fromArray(S, km, at);
        FloatVector pc = ec.mul(inv);
        FloatVector dq = ec.mul(sc).mul(invO); // -d_j / q, in [0, 1]
        // a curv dq^2 - a f' p (1 - p) = a curv dq^2 + (-a f') p (1 - p)
        curv.mul(dq).mul(dq).mul(a).add(afp.mul(pc).mul(ones.sub(pc)))
            .blend(hJm, jm.compare(EQ, (float) j)).blend(hT, tv.compare(EQ, (float) j))
            .max(floor).blend(0f, ignored).intoArray(km, ht0 + at);
      }
    }
  }

  /** Softmax pass: the chunk's class-major gradient and Hessian out, row-major. */
  static void softmaxHessOut(Chunk c) {
    float[] km = c.km;
    int k = c.classes;
    int n = c.n;
    int gt0 = k * n;
    int ht0 = 2 * k * n;
    float[] grad = c.grad;
    float[] hess = c.hess;
    int go = c.go;
    int ho = c.ho;
    for (int r = 0; r < n; r++) {
      int gr = go + r * k;
      int hr = ho + r * k;
      for (int j = 0; j < k; j++) {
        grad[gr + j] = km[gt0 + j * n + r];
        hess[hr + j] = km[ht0 + j * n + r];
      }
    }
  }
}
