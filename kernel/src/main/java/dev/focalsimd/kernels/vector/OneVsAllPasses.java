package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.Passes.*;
import static dev.focalsimd.kernels.vector.SoftmaxPasses.*;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.NE;
import static jdk.incubator.vector.VectorOperators.XOR;

import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.ScalarKernel;
import dev.focalsimd.kernels.Scratch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * The one-vs-all passes of {@link VectorKernel}: on probabilities (clip, ln p_t, gradient and loss,
 * pipelined beyond L2), and from logits (a softmax per row first: row by row, or in class-major
 * groups of L rows), with the softmax's Jacobian that takes the gradient back to the logits. Its
 * softmax passes over one row ({@link #softmaxIntoMax}, {@link #softmaxIntoExp}) serve {@link
 * SoftmaxPasses}' rows with target distributions too.
 */
final class OneVsAllPasses {

  private OneVsAllPasses() {}

  // Passes that call a loop with arguments from the chunk (the other passes are methods of their
  // own below).

  static void ovaProbsSignPass(Chunk c) {
    ovaProbsSign(c.p, c.x, c.xo, c.y, c.yo, c.n, c.s);
  }

  static void ovaLnPtPass(Chunk c) {
    ovaLnPt(c.s, c.n);
  }

  static void ovaGradLossPass(Chunk c) {
    c.sum = ovaGradLoss(c);
  }

  static void ovaGradLossNextPass(Chunk c) {
    c.sum = ovaGradLossNext(c, c.prevN, c.prevGo, c.prevCol0, c.prevDone);
  }

  static void ovaProbsPass(Chunk c) {
    ovaProbs(c.p, c.x, c.xo, c.y, c.yo, c.n, c.s);
  }

  static void ovaProbsLogitsPass(Chunk c) {
    ovaProbsLogits(c.p, c.x, c.xo, c.ompOff, c.y, c.yo, c.n, c.s);
  }

  static void softmaxJacobianPass(Chunk c) {
    softmaxJacobian(c.prob, c.top, c.classes, c.grad, c.go, c.gradScale);
  }

  static final Pass[] OVA = {
      pass("ovaProbsSignPass"),
      pass("ovaLnPtPass"),
      pass("ovaGradLossPass")};
  /**
   * {@link #ovaPipelined}'s gradient pass of the previous piece, with the next piece's first pass
   * (c holds the next piece): a pass of its own, called through {@link Passes#run} like every pass.
   */
  private static final Pass OVA_GRAD_NEXT =
      pass("ovaGradLossNextPass");
  static final Pass[] OVA_GENERAL_GAMMA = {
      pass("ovaProbsPass"),
      OVA[1],
      pass("lnQPass"),
      pass("lnQFixPass"),
      pass("qPowGammaPass"),
      pass("ovaGrad"),
      pass("ovaLoss")};
  private static final Pass[] OVA_LOGITS = {
      pass("ovaProbsLogitsPass"),
      OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[5], OVA_GENERAL_GAMMA[6]};
  private static final Pass[] OVA_LOGITS_GENERAL_GAMMA = {
      OVA_LOGITS[0], OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[2], OVA_GENERAL_GAMMA[3],
      OVA_GENERAL_GAMMA[4], OVA_GENERAL_GAMMA[5], OVA_GENERAL_GAMMA[6]};

  /**
   * Per-sample losses over many rows at once ({@link Passes#perSampleBlock}), gamma 0 to 3: the
   * passes whose loss pass leaves each element's loss in TERMS (those of general gamma, without its
   * power passes).
   */
  static final Pass[] OVA_TERMS = {
      OVA_GENERAL_GAMMA[0], OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[5], OVA_GENERAL_GAMMA[6]};

  /**
   * {@link #OVA}'s passes over the pieces [0, last] of a segment (see {@link Passes#piece}) beyond
   * L2, software-pipelined: where the next piece is as long, the gradient pass of a piece also runs
   * the next piece's first pass ({@link #ovaGradLossNext}), so that the gradient's stores and
   * the next input's loads share one loop, as in a single fused loop, instead of the stores coming
   * in a burst after two passes that only read and compute (timing-only variants at 8192 x 1000:
   * the gradient stored into the scratch 1.28x, the input read from L2 1.05x). Against the passes
   * one after the other, alternating JVMs, checks off: JDK 25 1.34x, 1.10x and 1.03x at 8192 x
   * 1000, 16384 x 80 and 65536 x 16; {@code --like-ref}, medians of 2 and 3 runs per build: JDK 17
   * 1.36x, 1.12x, 1.09x, JDK 25 1.12x, 1.03x, 1.07x (ratios of the builds' medians). A first
   * version, which pipelined at every size: at 256 and 128 bits 1.23x and 1.24x at 8192 x 1000,
   * 1.15x and 1.16x at 65536 x 16 (JDK 17), but in L2 0.98x and 0.87x (4096 x 16, JDK 17 and 25),
   * so batches in L2 keep the passes one after the other. Not for the sigmoid, whose first pass is
   * an exponential (0.77x to 0.90x). The same bits as the passes one after the other
   * (docs/performance.md, "2026-12-06").
   */
  static double ovaPipelined(Chunk c, int last, int chunk, int chunks, int bound,
      int len, int xOff, int yOff, int gOff, float[] y, int[] t, int tOff, int target) {
    double total = 0;
    piece(c, 0, chunk, chunks, bound, len, xOff, yOff, gOff, y, t, tOff, target);
    run(OVA[0], c);
    for (int k = 0; k <= last; k++) {
      run(OVA[1], c);
      int n = c.n;
      if (k < last && pieceLength(k + 1, chunk, chunks, bound) == n) {
        c.prevN = n;
        c.prevGo = c.go;
        c.prevCol0 = c.col0;
        c.prevDone = c.done;
        // pass 3 does not read the targets, so the next piece's may replace this one's in YS
        piece(c, k + 1, chunk, chunks, bound, len, xOff, yOff, gOff, y, t, tOff, target);
        run(OVA_GRAD_NEXT, c);
      } else {
        run(OVA[2], c);
        if (k < last) { // (the first pass leaves c.sum alone)
          piece(c, k + 1, chunk, chunks, bound, len, xOff, yOff, gOff, y, t, tOff, target);
          run(OVA[0], c);
        }
      }
      total += c.sum;
    }
    return total;
  }

  /**
   * One-vs-all from logits over at most this many classes: groups of L rows transposed to
   * class-major order, one row per lane ({@link #ovaLogitsGroups}; calls of fewer than L rows
   * padded to one group, {@link #ovaLogitsShort}); wider rows row by row ({@link #ovaRows}). Until
   * 2026-12-05 every row went row by row (the scalar kernel below L classes). Paired A/B against
   * that (two class loaders, checks off, class indices, gamma
   * 2, 262144 logits each): JDK 17, 512 bits, 7.5x at 10 classes (19 to 142 Melem/s), 2.5x at
   * 16, 1.67x at 32, 1.04x at 64, 0.97x at 80, 0.83x at 128; JDK 25 2.6x at 16; 256 bits (no
   * gathers) 2.0x at 16, 0.92x at 64.
   */
  static final int OVA_LOGITS_GROUP_CLASSES = L >= 16 ? 64 : 32;

  // Group lanes of the class-major one-vs-all-from-logits passes: the row's max, its first largest
  // class (as a float), its target class (class indices), and 1 where its gradient is to be redone
  // in double (see JACOBIAN_CONDITION_LIMIT). Blocks in km, C L values each (class j of row r at
  // j L + r): 0 the logits, then p; 1 1 - p; 2 the targets; 3 dl/dp, then dl/dz.
  private static final int OVL_M = D;
  private static final int OVL_TOP = ET;
  private static final int OVL_T = OTHERS;
  private static final int OVL_FLAG = ALPHA;

  /**
   * The passes before and after the one-vs-all passes, run from arrays like every other run of
   * passes, through {@link Passes#run}.
   */
  private static final Pass[] OVA_LOGITS_BEFORE = {
      pass("ovaLogitsIn"), pass("ovaLogitsSoftmax"), pass("ovaLogitsNormalize")};
  private static final Pass[] OVA_LOGITS_AFTER = {
      pass("ovaLogitsJacobian"), pass("ovaLogitsOut")};

  /**
   * One-vs-all from logits (the reduced loss or per-sample losses, and the gradient) in full groups
   * of L rows transposed to class-major order: per group the softmax of each row, lane-wise; then
   * the one-vs-all passes on probabilities ({@link #OVA_LOGITS}) over the group as one row of C L
   * elements, with the class-major weights of {@link LossParams#classMajor}; then the softmax's
   * Jacobian, lane-wise, as {@link #softmaxJacobian} does it per row (a row whose float result's
   * error bound is too large is redone in double by the scalar kernel, its loss kept). Each row's
   * loss is its lane's sum of the per-element losses in double, whether or not per-sample losses
   * are asked for, so that they add up to the reduced loss. Where rows is not a multiple of L, the
   * last group ends at the last row and overlaps the group before it; the overlapped rows count
   * once. Until 2026-12-06 the rows left over went row by row ({@link #ovaRows}): a path called
   * once per call, whose methods took JDK 17's JIT tens of seconds of calls to compile with C2
   * (until then C1's code ran their vector operations through the Vector API's allocating Java
   * fallback: 27 KB per call at 65535 x 16, 128 bits, for the first 20 s), and whose bits differed
   * from the group's for the same row. Dense targets y, or class indices t; rows >= L.
   */
  static double ovaLogitsGroups(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    return ovaLogitsGroups(p, x, xOff, y, yOff, t, tOff, rows, rows, classes, grad, gOff,
        gradScale, perSample, psOff);
  }

  /**
   * {@link #ovaLogitsGroups} whose losses count only the first {@code counted} rows (the total and
   * the per-sample losses; {@link ShortCall}'s padding rows follow them). The gradient of every row
   * is written.
   */
  private static double ovaLogitsGroups(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int counted, int classes, float[] grad, int gOff,
      float gradScale, float[] perSample, int psOff) {
    Chunk c = CHUNK_ARGS.get();
    int k = classes;
    int kl = k * L;
    if (c.km.length < 4 * kl) {
      c.km = new float[4 * kl];
    }
    LossParams cm = p.classMajor(classes, L);
    Pass[] passes = p.gammaKind == LossParams.GAMMA_GENERAL ? OVA_LOGITS_GENERAL_GAMMA
        : OVA_LOGITS;
    int groups = rows / L + (rows % L == 0 ? 0 : 1); // no overflow near 2^31
    double total = 0;
    try {
      for (int g = 0; g < groups; g++) {
        // the last group ends at the last row: where rows is not a multiple of L it starts
        // skip rows back, rows the group before it has counted (their gradient written again,
        // the same bits: each lane's operations are those of every lane)
        int r0 = Math.min(g * L, rows - L);
        int skip = g * L - r0;
        c.p = p;
        c.x = x;
        c.xo = xOff + r0 * k;
        c.y = y;
        c.yo = yOff + r0 * k;
        c.tArr = t;
        c.to = tOff + r0;
        c.classes = k;
        c.n = L;
        for (Pass pass : OVA_LOGITS_BEFORE) {
          run(pass, c);
        }
        c.ompOff = kl;
        c.laneSums = true;
        java.util.Arrays.fill(c.laneLoss, 0.0);
        try {
          segment(passes, cm, c.km, 0, c.km, 2 * kl, null, 0, -1, kl, kl,
              grad == null ? null : c.km, 3 * kl, 1f);
        } finally {
          c.ompOff = -1;
          c.laneSums = false;
        }
        for (int r = skip, end = Math.min(L, counted - r0); r < end; r++) { // in row order
          total += c.laneLoss[r];
          if (perSample != null) {
            perSample[psOff + r0 + r] = (float) c.laneLoss[r];
          }
        }
        if (grad != null) {
          c.classes = k;
          c.gradScale = gradScale;
          c.grad = grad;
          c.go = gOff + r0 * k;
          for (Pass pass : OVA_LOGITS_AFTER) {
            run(pass, c);
          }
          c.grad = null;
          for (int r = 0; r < L; r++) { // (skipped rows too: their float gradient is back)
            if (c.s[OVL_FLAG + r] != 0f) { // the row's gradient again, in double
              int row = r0 + r;
              if (t == null) {
                ScalarKernel.INSTANCE.oneVsAll(p, x, xOff + row * k, y, yOff + row * k, 1, k,
                    grad, gOff + row * k, gradScale, null, 0);
              } else {
                ScalarKernel.INSTANCE.oneVsAll(p, x, xOff + row * k, t, tOff + row, 1, k, grad,
                    gOff + row * k, gradScale, null, 0);
              }
            }
          }
        }
      }
    } finally {
      c.x = null; // hold no caller array past the call
      c.y = null;
      c.tArr = null;
      c.grad = null;
    }
    return total;
  }

  /**
   * A call of fewer rows than a vector has lanes, from logits, over at most {@link
   * #OVA_LOGITS_GROUP_CLASSES} classes: its rows copied into {@link ShortCall}, followed by padding
   * rows (logits 0, target class 0) to make one group of L rows, run through {@link
   * #ovaLogitsGroups} with only the call's rows counted, and their gradient copied back. Each
   * lane's operations are those of every lane, so a row gets the bits it gets in a longer call (a
   * batch's last block can be this short); such calls went to the scalar kernel (fewer than L
   * classes) or row by row ({@link #ovaRows}) until the first stop of 2026-12-07, and their rows'
   * last bits differed from the same rows' in a longer call ({@code RowPositionTest}). (Padding
   * rows with no positive, all their dl/dp equal, are what {@link #JACOBIAN_CONDITION_LIMIT} sends
   * to the double redo: a first version padded dense targets so, and a 1 x 64 call took 26 to 35
   * us instead of about 7.)
   */
  static double ovaLogitsShort(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    ShortCall b = SHORT_CALL.get();
    int len = rows * classes;
    int padded = L * classes;
    System.arraycopy(x, xOff, b.x, 0, len);
    java.util.Arrays.fill(b.x, len, padded, 0f);
    float[] py = null;
    int[] pt = null;
    if (y != null) { // padding rows one-hot at class 0, as with class indices below
      py = b.y;
      System.arraycopy(y, yOff, py, 0, len);
      java.util.Arrays.fill(py, len, padded, 0f);
      for (int e = len; e < padded; e += classes) {
        py[e] = 1f;
      }
    } else {
      pt = b.t;
      System.arraycopy(t, tOff, pt, 0, rows);
      java.util.Arrays.fill(pt, rows, L, 0);
    }
    float[] pg = grad == null ? null : b.g;
    double total = ovaLogitsGroups(p, b.x, 0, py, 0, pt, 0, L, rows, classes, pg, 0, gradScale,
        perSample, psOff);
    if (grad != null) {
      System.arraycopy(pg, 0, grad, gOff, len);
    }
    return total;
  }

  /**
   * A call of one-vs-all on probabilities of fewer elements than a vector: its elements copied into
   * the end of one vector in {@link ShortCall}, after probabilities of 1/2 with target 0, and that
   * vector run through the passes as a segment's overlapping last vector is ({@link Passes#piece}):
   * the padding as its lanes already counted, left out of the loss (their losses are not 0: the
   * clip keeps p_t below 1), so that the passes are those of a longer call (without per-sample
   * losses {@link #OVA}'s, which a caller's loop has compiled; a pass run only here, once per call,
   * would run in C1's code, through the Vector API's allocating fallback, for thousands of calls on
   * JDK 17). Each element's operations are those of every element, so its gradient and its row's
   * per-sample loss ({@link Passes#rowSums}) get the bits they get in a longer call; such calls
   * went to the scalar kernel until the first stop of 2026-12-07 ({@code RowPositionTest}).
   */
  static double ovaTiny(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    ShortCall b = SHORT_CALL.get();
    int len = rows * classes;
    int pad = L - len;
    java.util.Arrays.fill(b.x, 0, pad, 0.5f);
    System.arraycopy(x, xOff, b.x, pad, len);
    if (y != null) {
      java.util.Arrays.fill(b.y, 0, pad, 0f);
      System.arraycopy(y, yOff, b.y, pad, len);
    } else {
      java.util.Arrays.fill(b.y, 0, L, 0f);
      for (int r = 0; r < rows; r++) {
        b.y[pad + r * classes + t[tOff + r]] = 1f;
      }
    }
    boolean general = p.gammaKind == LossParams.GAMMA_GENERAL;
    Pass[] passes = general ? OVA_GENERAL_GAMMA : perSample != null ? OVA_TERMS : OVA;
    Chunk c = CHUNK_ARGS.get();
    c.hess = null;
    c.p = p;
    c.x = b.x;
    c.xo = 0;
    c.y = b.y;
    c.yo = 0;
    c.classes = classes;
    c.grad = grad == null ? null : b.g;
    c.go = 0;
    c.gradScale = gradScale;
    c.n = L;
    c.done = pad;
    c.col0 = Math.floorMod(-pad, classes); // the column of element 0, the first of the padding
    c.sum2 = 0;
    try {
      for (Pass pass : passes) {
        run(pass, c);
      }
      if (perSample != null) {
        c.perSample = perSample;
        c.psOff = psOff;
        java.util.Arrays.fill(c.rowPart, 0.0);
        rowSums(c, -pad, classes); // the call's element 0 is element pad of the scratch
      }
    } finally {
      c.perSample = null;
      c.x = null;
      c.y = null;
      c.grad = null;
    }
    if (grad != null) {
      System.arraycopy(b.g, pad, grad, gOff, len);
    }
    return c.sum;
  }

  private static final ThreadLocal<ShortCall> SHORT_CALL = Scratch.withInitial(ShortCall::new);

  /** Per-thread copies of a short call's arrays, padded to L rows or L elements. */
  private static final class ShortCall {
    final float[] x = new float[L * OVA_LOGITS_GROUP_CLASSES];
    final float[] y = new float[L * OVA_LOGITS_GROUP_CLASSES];
    final float[] g = new float[L * OVA_LOGITS_GROUP_CLASSES];
    final int[] t = new int[L];
  }

  /**
   * Class-major one-vs-all-from-logits pass: the group's logits into block 0, its targets into
   * block 2 (class indices: 1 at the target, else 0), each row's max into OVL_M and its first
   * largest class into OVL_TOP (the last class where none equals the max: a NaN, as in {@link
   * #softmaxIntoMax}).
   */
  static void ovaLogitsIn(Chunk c) {
    float[] s = c.s;
    float[] z = c.x;
    float[] y = c.y;
    int k = c.classes;
    int kl = k * L;
    float[] b = c.km;
    int[] rowStarts = c.rowStarts(k);
    if (GATHER) {
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, z, c.xo + j, rowStarts, 0).intoArray(b, j * L);
      }
    } else {
      for (int j = 0; j < k; j++) {
        for (int r = 0; r < L; r++) {
          b[j * L + r] = z[c.xo + r * k + j];
        }
      }
    }
    if (y == null) {
      for (int r = 0; r < L; r++) {
        s[OVL_T + r] = c.tArr[c.to + r];
      }
      FloatVector tv = FloatVector.fromArray(S, s, OVL_T);
      FloatVector zeros = FloatVector.zero(S);
      for (int j = 0; j < k; j++) {
        zeros.blend(1f, tv.compare(EQ, (float) j)).intoArray(b, 2 * kl + j * L);
      }
    } else if (GATHER) {
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, y, c.yo + j, rowStarts, 0).intoArray(b, 2 * kl + j * L);
      }
    } else {
      for (int j = 0; j < k; j++) {
        for (int r = 0; r < L; r++) {
          b[2 * kl + j * L + r] = y[c.yo + r * k + j];
        }
      }
    }
    FloatVector m = FloatVector.fromArray(S, b, 0);
    FloatVector m1 = m;
    int j = 1;
    for (; j + 1 < k; j += 2) {
      FloatVector v0 = FloatVector.fromArray(S, b, j * L);
      FloatVector v1 = FloatVector.fromArray(S, b, (j + 1) * L);
      m = v0.blend(m, v0.compare(LE, m));
      m1 = v1.blend(m1, v1.compare(LE, m1));
    }
    if (j < k) {
      FloatVector v = FloatVector.fromArray(S, b, j * L);
      m = v.blend(m, v.compare(LE, m));
    }
    m = ONE.mul(m).blend(m1, m1.compare(GT, m));
    m.intoArray(s, OVL_M);
    FloatVector top = FloatVector.broadcast(S, (float) (k - 1));
    for (j = k - 2; j >= 0; j--) {
      top = FloatVector.broadcast(S, (float) j)
          .blend(top, FloatVector.fromArray(S, b, j * L).compare(NE, m));
    }
    ONE.mul(top).intoArray(s, OVL_TOP);
  }

  // Lane-wise accumulators of the two passes below, kept in the scratch, not in registers: with
  // several vectors carried through a loop and combined after it, C2 (JDK 17) boxed them there
  // (about 960 B per group of rows, JFR's allocation samples naming those lines).
  private static final int OVL_ACC = H0;
  private static final int OVL_COMP = H0 + 64;
  private static final int OVL_ABS = H0 + 128;
  private static final int OVL_MAX_PG = H0 + 192;
  private static final int OVL_MAX_P = H0 + 256;
  private static final int OVL_LARGEST = H0 + 320;
  private static final int OVL_AT_TOP = H0 + 384; // three lanes' worth: e or p, g, 1 - p

  /** Copies of each lane's value at its first largest class from the block at {@code from}. */
  private static void atTop(Chunk c, int from, int to) {
    float[] s = c.s;
    for (int r = 0; r < L; r++) {
      s[to + r] = c.km[from + (int) s[OVL_TOP + r] * L + r];
    }
  }

  /**
   * Class-major one-vs-all-from-logits pass, the softmax of each row as {@link #SOFTMAX_INTO}: e_j
   * = exp(z_j - max), the sum of the others than the first largest class (Kahan's compensation),
   * p_j = e_j / sum into block 0 and 1 - p_j into block 1 ({@link #ovaLogitsNormalize}), the
   * first largest class's as the others' sum over the sum (no cancellation where its p is near 1).
   * Two passes: as one, JDK 17's C2 left the normalizing loop to the Java fallback in a caller's
   * hot loop with gamma 2.5 (17 bytes per element at 65536 x 16; HotLoopTest).
   */
  static void ovaLogitsSoftmax(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    FloatVector m = FloatVector.fromArray(S, s, OVL_M);
    FloatVector top = FloatVector.fromArray(S, s, OVL_TOP);
    FloatVector zeros = FloatVector.zero(S);
    zeros.intoArray(s, OVL_ACC);
    zeros.intoArray(s, OVL_COMP);
    for (int j = 0; j < k; j++) {
      FloatVector e = VectorMath.expNoOverflow(FloatVector.fromArray(S, b, j * L).sub(m));
      e.intoArray(b, j * L);
      FloatVector term = e.blend(0f, top.compare(EQ, (float) j))
          .sub(FloatVector.fromArray(S, s, OVL_COMP));
      FloatVector acc = FloatVector.fromArray(S, s, OVL_ACC);
      FloatVector next = term.add(acc);
      next.sub(acc).sub(term).intoArray(s, OVL_COMP);
      next.intoArray(s, OVL_ACC);
    }
  }

  /** The second pass of {@link #ovaLogitsSoftmax}: p_j and 1 - p_j from e_j and the sums. */
  static void ovaLogitsNormalize(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    int kl = k * L;
    float[] b = c.km;
    FloatVector top = FloatVector.fromArray(S, s, OVL_TOP);
    atTop(c, 0, OVL_AT_TOP);
    FloatVector others = FloatVector.fromArray(S, s, OVL_ACC)
        .sub(FloatVector.fromArray(S, s, OVL_COMP));
    FloatVector sum = others.add(FloatVector.fromArray(S, s, OVL_AT_TOP));
    FloatVector inv = sum.broadcast(1f).div(sum);
    FloatVector ompTop = others.div(sum);
    for (int j = 0; j < k; j++) {
      FloatVector pc = FloatVector.fromArray(S, b, j * L).mul(inv);
      pc.intoArray(b, j * L);
      pc.neg().add(1f).blend(ompTop, top.compare(EQ, (float) j)).intoArray(b, kl + j * L);
    }
  }

  /**
   * Class-major one-vs-all-from-logits pass: dl/dz_j = gradScale p_j (g_j - sum_c p_c g_c) from g
   * = dl/dp in block 3, in place, lane-wise as {@link #softmaxJacobian} (the first largest class
   * as p_j (g_j (1 - p_j) - sum_{c != j} p_c g_c)); 1 into OVL_FLAG for a row whose error bound
   * exceeds {@link #JACOBIAN_CONDITION_LIMIT} times its largest |dl/dz_j|, or where either is not
   * finite, else 0.
   */
  static void ovaLogitsJacobian(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    int kl = k * L;
    float[] b = c.km;
    FloatVector top = FloatVector.fromArray(S, s, OVL_TOP);
    FloatVector zeros = FloatVector.zero(S);
    zeros.intoArray(s, OVL_ACC);
    zeros.intoArray(s, OVL_COMP);
    zeros.intoArray(s, OVL_ABS);
    zeros.intoArray(s, OVL_MAX_PG);
    zeros.intoArray(s, OVL_MAX_P);
    zeros.intoArray(s, OVL_LARGEST);
    atTop(c, 0, OVL_AT_TOP);
    atTop(c, 3 * kl, OVL_AT_TOP + 64);
    atTop(c, kl, OVL_AT_TOP + 128);
    for (int j = 0; j < k; j++) {
      VectorMask<Float> isTop = top.compare(EQ, (float) j);
      FloatVector pv = FloatVector.fromArray(S, b, j * L);
      FloatVector pg = pv.mul(FloatVector.fromArray(S, b, 3 * kl + j * L)).blend(0f, isTop);
      FloatVector term = pg.sub(FloatVector.fromArray(S, s, OVL_COMP));
      FloatVector acc = FloatVector.fromArray(S, s, OVL_ACC);
      FloatVector next = term.add(acc);
      next.sub(acc).sub(term).intoArray(s, OVL_COMP);
      next.intoArray(s, OVL_ACC);
      FloatVector apg = pg.abs();
      apg.add(FloatVector.fromArray(S, s, OVL_ABS)).intoArray(s, OVL_ABS);
      apg.max(FloatVector.fromArray(S, s, OVL_MAX_PG)).intoArray(s, OVL_MAX_PG);
      pv.blend(0f, isTop).max(FloatVector.fromArray(S, s, OVL_MAX_P)).intoArray(s, OVL_MAX_P);
    }
    FloatVector others = FloatVector.fromArray(S, s, OVL_ACC)
        .sub(FloatVector.fromArray(S, s, OVL_COMP));
    FloatVector pt = FloatVector.fromArray(S, s, OVL_AT_TOP);
    FloatVector gt = FloatVector.fromArray(S, s, OVL_AT_TOP + 64);
    FloatVector ompTop = FloatVector.fromArray(S, s, OVL_AT_TOP + 128);
    FloatVector sumPg = pt.fma(gt, others);
    float scale = c.gradScale;
    FloatVector rTop = gt.mul(ompTop).sub(others).mul(pt).mul(scale);
    for (int j = 0; j < k; j++) {
      FloatVector g = FloatVector.fromArray(S, b, 3 * kl + j * L);
      FloatVector r = FloatVector.fromArray(S, b, j * L).mul(g.sub(sumPg)).mul(scale)
          .blend(rTop, top.compare(EQ, (float) j));
      r.intoArray(b, 3 * kl + j * L);
      r.abs().max(FloatVector.fromArray(S, s, OVL_LARGEST)).intoArray(s, OVL_LARGEST);
    }
    FloatVector absOthers = FloatVector.fromArray(S, s, OVL_ABS);
    FloatVector agt = gt.abs();
    FloatVector a = pt.fma(agt, absOthers);
    FloatVector bound = pt.mul(agt.fma(ompTop, absOthers)).max(
        a.fma(FloatVector.fromArray(S, s, OVL_MAX_P), FloatVector.fromArray(S, s, OVL_MAX_PG)));
    // also a row whose float dl/dp or result overflowed (weights near Float.MAX_VALUE, where
    // the exact gradient can be finite: it gave NaN and infinity, a reviewer's find's sibling)
    FloatVector largest = FloatVector.fromArray(S, s, OVL_LARGEST);
    VectorMask<Float> redo = bound.mul(Math.abs(scale))
        .compare(GT, largest.mul((float) JACOBIAN_CONDITION_LIMIT))
        .or(largest.compare(GE, Float.POSITIVE_INFINITY)).or(largest.compare(NE, largest))
        .or(bound.compare(NE, bound));
    zeros.blend(1f, redo).intoArray(s, OVL_FLAG);
  }

  /** Class-major one-vs-all-from-logits pass: block 3 (dl/dz) back to the rows of grad. */
  static void ovaLogitsOut(Chunk c) {
    float[] grad = c.grad;
    int k = c.classes;
    int kl = k * L;
    float[] b = c.km;
    int go = c.go;
    if (GATHER) {
      int[] rowStarts = c.rowStarts(k);
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, b, 3 * kl + j * L).intoArray(grad, go + j, rowStarts, 0);
      }
      return;
    }
    for (int r = 0; r < L; r++) {
      int row = go + r * k;
      for (int j = 0; j < k; j++) {
        grad[row + j] = b[3 * kl + j * L + r];
      }
    }
  }

  private static final ThreadLocal<float[]> ROW_SCRATCH = Scratch.withInitial(() ->
      new float[0], Scratch.upTo(a -> a.length));

  private static float[] rowScratch(int classes) {
    float[] s = ROW_SCRATCH.get();
    if (s.length < classes) {
      s = new float[classes];
      ROW_SCRATCH.set(s);
    }
    return s;
  }

  /** Row by row: per-sample output, class-index targets (y == null), or logits; classes >= L. */
  static double ovaRows(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    float[] prob = p.fromLogits ? rowScratch(2 * classes) : null;
    double total = 0;
    for (int r = 0; r < rows; r++) {
      int row = xOff + r * classes;
      int yRow = yOff + r * classes;
      int gRow = gOff + r * classes;
      int target = t == null ? -1 : t[tOff + r];
      double rowLoss;
      if (prob == null) {
        rowLoss = ovaSegment(p, x, row, y, yRow, null, 0, target, classes, classes, grad, gRow,
            gradScale);
      } else {
        // p = softmax(z); the loss on p writes dL/dp; then dL/dz_j = p_j (dL/dp_j - sum p dL/dp).
        // Both row helpers run as passes (through run): inlined into this loop's callers, their
        // vector code boxed (48 B per element over 8192 x 80).
        Chunk c = CHUNK_ARGS.get();
        c.x = x;
        c.xo = row;
        c.classes = classes;
        c.prob = prob;
        for (Pass pass : SOFTMAX_INTO) {
          run(pass, c);
        }
        int top = c.top;
        c.ompOff = classes;
        rowLoss = ovaSegment(p, prob, 0, y, yRow, null, 0, target, classes, classes, grad, gRow,
            1f);
        c.ompOff = -1;
        if (grad != null) {
          c.top = top;
          c.classes = classes;
          c.grad = grad;
          c.go = gRow;
          c.gradScale = gradScale;
          run(SOFTMAX_JACOBIAN, c);
          c.grad = null; // hold no caller array past the call
          if (c.illConditioned) {
            // The row's gradient again from the logits in double (its loss is kept).
            if (t == null) {
              ScalarKernel.INSTANCE.oneVsAll(p, x, row, y, yRow, 1, classes, grad, gRow,
                  gradScale, null, 0);
            } else {
              ScalarKernel.INSTANCE.oneVsAll(p, x, row, t, tOff + r, 1, classes, grad, gRow,
                  gradScale, null, 0);
            }
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

  /**
   * The note's loss over {@code len} elements that start at column 0 of a row: probabilities x,
   * dense targets y, or (y == null, len == classes) the one-hot row of {@code target}; weights
   * from {@link LossParams#alphaTiled}. Writes {@code gradScale * dl/dp} (0 where the clip is
   * active) when grad is not null; returns the summed loss. len >= L.
   */
  static double ovaSegment(LossParams p, float[] x, int xOff, float[] y, int yOff,
      int[] t, int tOff, int target, int len, int classes, float[] grad, int gOff,
      float gradScale) {
    boolean general = p.gammaKind == LossParams.GAMMA_GENERAL;
    Pass[] passes = CHUNK_ARGS.get().ompOff >= 0
        ? (general ? OVA_LOGITS_GENERAL_GAMMA : OVA_LOGITS)
        : (general ? OVA_GENERAL_GAMMA : OVA);
    return segment(passes, p, x, xOff, y, yOff, t, tOff, target, len, classes, grad, gOff,
        gradScale);
  }

  /**
   * Pass 3 for gamma 0 to 3: {@link #ovaGrad} and {@link #ovaLoss} in one loop, the loss summed in
   * the loop with Kahan's compensation; the gradient's factor 1 - 2y (0 where clipped) comes from
   * {@link #ovaProbsSign}'s E. Three passes instead of four: beyond the caches, passes that only
   * compute leave the memory idle, and this one writes the gradient. Not fewer: with the logarithm
   * as well, one loop reached C2's node cutoff and boxed its last operations (an allocation per
   * vector) in some JVM runs; so did the clip and the logarithm in one loop. Writes the gradient of
   * the piece c.n, c.go, c.col0, c.done (its passes 1 and 2 in the scratch) and returns its loss
   * sum.
   *
   * <p>The loss goes into two compensated sums, even vectors into one and odd into the other, added
   * in double at the end: one sum is a chain of four dependent additions per vector (about 16
   * cycles), which bounded this loop in L2. Paired A/B against one sum (two class loaders, 100 ms
   * slices, checks off, JDK 17, 512 bits): 1.08x at 4096 x 16 (1.06x to 1.14x in five runs), 1.12x
   * at 256 bits, class indices 1.02x to 1.05x (4096 x 10, 16 and 21); beyond L2, where {@link
   * #ovaGradLossNext} runs instead but for a segment's last piece, 0.99x to 1.07x; JDK 25 0.98x and
   * 1.01x at 4096 x 16, beyond L2 0.80x to 1.20x between JVM runs (A/A runs: 0.96x and 0.97x). Four
   * sums: 0.97x of two. The loss's last bits changed (the order of its additions); the gradient's
   * did not (docs/performance.md, "2026-12-07, sixth stop").
   */
  private static double ovaGradLoss(Chunk c) {
    LossParams p = c.p;
    int n = c.n;
    int go = c.go;
    int classes = c.classes;
    float[] grad = c.grad;
    float[] s = c.s;
    float[] alpha = p.alphaTiled;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector scale = FloatVector.broadcast(S, c.gradScale);
    FloatVector minusGamma = FloatVector.broadcast(S, -gamma);
    // (acc, comp) takes this vector's term, then trades places with (acc2, comp2)
    FloatVector acc = zeros;
    FloatVector comp = zeros;
    FloatVector acc2 = zeros;
    FloatVector comp2 = zeros;
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector lnpt = FloatVector.fromArray(S, s, LN + i);
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, col);
      FloatVector qg1 = kind == 2 ? q : kind == 3 ? q.mul(q) : ones;
      FloatVector qg = kind == 0 ? ones : kind == 1 ? q : q.mul(qg1);
      if (grad != null) {
        // as in ovaGradLossNext
        FloatVector pt = FloatVector.fromArray(S, s, PT + i);
        FloatVector e = FloatVector.fromArray(S, s, E + i);
        lnpt.mul(qg1).mul(e).fma(minusGamma, ONE.mul(qg).mul(e).div(pt)).mul(scale.mul(a))
            .intoArray(grad, go + i);
      }
      FloatVector term = lnpt.mul(qg).mul(a).sub(comp);
      FloatVector sum = term.add(acc);
      FloatVector lost = sum.sub(acc).sub(term);
      acc = acc2;
      comp = comp2;
      acc2 = sum;
      comp2 = lost;
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
    ONE.mul(comp).sub(acc).intoArray(s, RED);
    ONE.mul(comp2).sub(acc2).intoArray(s, RED + L);
    // a last piece (done > 0) is one vector, which ends in the second sum; the first is 0
    zeroCounted(s, RED, c.done);
    zeroCounted(s, RED + L, c.done);
    return sumLanes(s, RED) + sumLanes(s, RED + L);
  }

  /**
   * {@link #ovaGradLoss} for {@link #ovaPipelined}: the piece n, go, col0, done, while c already
   * holds the next piece (set by {@link Passes#piece}), as long as this one; the loop also runs
   * that piece's first pass ({@link #ovaProbsSign}) into the Q, PT and E slots it has just read.
   * One compensated sum: here the next piece's work overlaps its chain, and two sums measured 0.90x
   * to 1.01x of one (JDK 17, paired A/B at 65536 x 16, 16384 x 80 and 8192 x 1000). A method of its
   * own, not {@link #ovaGradLoss} with a flag: one loop choosing between the two ways of carrying
   * the sums kept the same bits but made JDK 17's C2 box its vectors (13 MB per call at 65536 x 16,
   * 0.49x to 0.64x beyond L2, paired A/B).
   */
  private static double ovaGradLossNext(Chunk c, int n, int go, int col0, int done) {
    LossParams p = c.p;
    int classes = c.classes;
    float[] grad = c.grad;
    float[] s = c.s;
    float[] alpha = p.alphaTiled;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    float[] x = c.x;
    int xo = c.xo;
    float[] y = c.y;
    int yo = c.yo;
    int lo = Float.floatToRawIntBits(p.lo);
    int hi = Float.floatToRawIntBits(p.hi);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector scale = FloatVector.broadcast(S, c.gradScale);
    FloatVector minusGamma = FloatVector.broadcast(S, -gamma);
    FloatVector acc = zeros;
    FloatVector comp = zeros;
    int step = L % classes;
    int col = col0;
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector lnpt = FloatVector.fromArray(S, s, LN + i);
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, col);
      FloatVector qg1 = kind == 2 ? q : kind == 3 ? q.mul(q) : ones;
      FloatVector qg = kind == 0 ? ones : kind == 1 ? q : q.mul(qg1);
      if (grad != null) {
        FloatVector pt = FloatVector.fromArray(S, s, PT + i);
        // (gamma q^(gamma-1) ln p_t - q^gamma / p_t) (2y - 1), both terms times E: 1 - 2y, or 0
        // where clipped, before the division by p_t (p_t >= lo > 0 after the clip): a clipped
        // lane is 0 / p_t = +0, as in the scalar kernel, even where q^gamma / p_t or the weight
        // would overflow (EdgeCaseTest); then times a >= 0
        FloatVector e = FloatVector.fromArray(S, s, E + i);
        lnpt.mul(qg1).mul(e).fma(minusGamma, ONE.mul(qg).mul(e).div(pt)).mul(scale.mul(a))
            .intoArray(grad, go + i);
      }
      // the terms a q^gamma ln p_t <= 0 summed, the loss is minus the sum
      FloatVector term = lnpt.mul(qg).mul(a).sub(comp);
      FloatVector sum = term.add(acc);
      comp = sum.sub(acc).sub(term);
      acc = sum;
      // the next piece's first pass, into the slots just read
      ovaProbsSign(x, xo + i, y, yo + i, lo, hi, s, i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
    ONE.mul(comp).sub(acc).intoArray(s, RED);
    zeroCounted(s, RED, done);
    return sumLanes(s, RED);
  }

  /**
   * Pass 1: q = 1 - p_t (exact for hard targets) and p_t of the clipped probabilities, and into E
   * the clip's change (0 where it leaves p alone). The clip is an integer max and min of the bits:
   * for floats >= 0 their order is the order of the bits as ints, every negative float (-0
   * included) is below lo's bits as an int, and 0 < lo < hi; NaN, possible only with the value
   * checks off, would be clipped to an end, so x 0 (NaN for NaN and infinite x, 0 otherwise) is
   * added after the clip: a NaN probability gives a NaN loss, as on the scalar kernel (its
   * gradient: NaN for gamma 0 to 3, 0 here, where E marks the lane as clipped). Until the fourth
   * stop of 2026-12-07 it gave a finite loss and a 0 gradient (p taken as 1 - eps: a NaN on a
   * positive looked like a perfect prediction; an adversarial tester's find).
   */
  private static void ovaProbs(LossParams p, float[] x, int xo, float[] y, int yo, int n,
      float[] s) {
    int lo = Float.floatToRawIntBits(p.lo);
    int hi = Float.floatToRawIntBits(p.hi);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      // + x 0: NaN stays NaN (see ovaProbsSign)
      FloatVector pc = xv.fma(zeros, xv.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats());
      FloatVector omy = ones.sub(yv);
      FloatVector ompc = ones.sub(pc);
      ompc.fma(yv, omy.mul(pc)).intoArray(s, Q + i);
      pc.fma(yv, omy.mul(ompc)).intoArray(s, PT + i);
      pc.sub(xv).intoArray(s, E + i); // not 0 where the clip is active
    }
  }

  /**
   * Pass 1 of {@link #OVA}: as {@link #ovaProbs} (the same loop but for E; one method with a flag
   * for E measured 0.92x to 0.99x on the general-gamma path), but into E the gradient's factor
   * 1 - 2y, 0 where
   * the clip is active, for {@link #ovaGradLoss}: two multiplications there instead of an fma, a
   * compare, a blend and the targets' load (paired A/B, checks off, against the pass-3 version:
   * JDK 17 1.10x and 1.12x at 4096 x 16, 1.08x and 1.01x at 65536 x 16, 1.08x and 1.06x at 16384
   * x 80, 1.28x at 8192 x 1000; JDK 25 1.07x, 1.00x). 1 - 2y is rounded once, as fma(-2, y, 1)
   * was. With the value checks off, a target outside [0, 1] or NaN can make the clipped lane's
   * gradient NaN (the scalar kernel writes 0 there): unchecked bad input gives unspecified output.
   */
  private static void ovaProbsSign(LossParams p, float[] x, int xo, float[] y, int yo, int n,
      float[] s) {
    int lo = Float.floatToRawIntBits(p.lo);
    int hi = Float.floatToRawIntBits(p.hi);
    for (int i = 0; i < n; i += L) {
      ovaProbsSign(x, xo + i, y, yo + i, lo, hi, s, i);
    }
  }

  /**
   * {@link #ovaProbsSign}'s work on one vector: inputs at x[xi], targets at y[yi], scratch slots at
   * i. Arrays and offsets, not vectors: where C2 does not inline a call, vector arguments are
   * boxed.
   */
  private static void ovaProbsSign(float[] x, int xi, float[] y, int yi, int lo, int hi,
      float[] s, int i) {
    FloatVector xv = FloatVector.fromArray(S, x, xi);
    FloatVector yv = FloatVector.fromArray(S, y, yi);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    // the clip, then + x 0 (one fma): exact for finite x (pc > 0), NaN for NaN and infinite x,
    // which the clip alone takes to an end (see ovaProbs)
    FloatVector pc = xv.fma(FloatVector.zero(S),
        xv.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats());
    FloatVector omy = ones.sub(yv);
    FloatVector ompc = ones.sub(pc);
    ompc.fma(yv, omy.mul(pc)).intoArray(s, Q + i);
    pc.fma(yv, omy.mul(ompc)).intoArray(s, PT + i);
    // 1 - 2y rounded once (2y is exact), as fma(-2, y, 1) would be
    ones.sub(yv.add(yv)).blend(0f, pc.compare(NE, xv)).intoArray(s, E + i);
  }

  /**
   * min(max(x, lo), hi) by compare and blend: Java's max and min (NaN and signed-zero rules) cost
   * several instructions each on x86, about a third of {@link VectorMath#exp} when it used them.
   * A NaN compares false and passes through; -0 is not distinguished from 0 (lo, hi are not 0).
   */
  private static FloatVector clip(FloatVector x, float lo, float hi) {
    return x.blend(lo, x.compare(LT, lo)).blend(hi, x.compare(GT, hi));
  }

  /**
   * Pass 1 from logits: as {@link #ovaProbs}, with 1 - p read at x[i + ompOff] (computed from the
   * logits) where the clip leaves p alone; 1 - p also decides the upper clip.
   */
  private static void ovaProbsLogits(LossParams p, float[] x, int xo, int ompOff, float[] y,
      int yo, int n, float[] s) {
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    float gap = 1f - p.hi;
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector omp = FloatVector.fromArray(S, x, xo + ompOff + i);
      VectorMask<Float> clipped = xv.compare(LT, p.lo).or(omp.compare(LT, gap));
      FloatVector pc = clip(xv, p.lo, p.hi);
      FloatVector omy = ones.sub(yv);
      FloatVector ompc = omp.blend(ones.sub(pc), clipped);
      ompc.fma(yv, omy.mul(pc)).intoArray(s, Q + i);
      pc.fma(yv, omy.mul(ompc)).intoArray(s, PT + i);
      zeros.blend(1f, clipped).intoArray(s, E + i);
    }
  }

  /**
   * Pass 2: ln p_t; where p_t > 1/2 it is log1p(-q), ln(pt) corrected by ln((1 - q)/pt) ~ d (1 +
   * q).
   */
  private static void ovaLnPt(float[] s, int n) {
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector pt = FloatVector.fromArray(S, s, PT + i);
      FloatVector d = ones.sub(pt).sub(q);
      VectorMath.logNormal(pt).add(d.fma(q, d).blend(0f, q.compare(GE, 0.5f)))
          .intoArray(s, LN + i);
    }
  }

  /**
   * Pass 3: gradScale * dl/dp = a (2y - 1) (gamma q^(gamma-1) ln p_t - q^gamma / p_t), 0 where the
   * clip is active. The gradient and the loss sum are separate passes so that each stays well below
   * C2's node-count cutoff (VectorKernel's class comment): one compilation over it no longer
   * intrinsifies its last operations and boxes them on every iteration.
   */
  static void ovaGrad(Chunk c) {
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
    float[] alpha = p.alphaTiled;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector twos = FloatVector.broadcast(S, 2f);
    FloatVector scale = FloatVector.broadcast(S, c.gradScale);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector lnpt = FloatVector.fromArray(S, s, LN + i);
      FloatVector pt = FloatVector.fromArray(S, s, PT + i);
      FloatVector as = alpha == null ? scale : FloatVector.fromArray(S, alpha, col).mul(scale);
      // (merged values, as, yv, qg1 and qg, are only ever arguments: see VectorKernel's class
      // comment)
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      // q >= 1 - hi > 0 after the clip, so no division by zero.
      FloatVector inner;
      if (kind == LossParams.GAMMA_GENERAL) {
        FloatVector qg = FloatVector.fromArray(S, s, QG + i);
        inner = lnpt.mul(pt).mul(gamma).sub(q).mul(qg).div(q.mul(pt));
      } else { // q^(gamma-1) by multiplication; its factor gamma is 0 for gamma 0
        FloatVector qg1 = kind == 2 ? q : kind == 3 ? q.mul(q) : ones;
        FloatVector qg = kind == 0 ? ones : kind == 1 ? q : q.mul(qg1);
        inner = lnpt.mul(qg1).mul(gamma).sub(ONE.mul(qg).div(pt));
      }
      VectorMask<Float> clipped = FloatVector.fromArray(S, s, E + i).compare(NE, 0f);
      as.mul(inner).mul(twos.fma(yv, ones.neg())).blend(0f, clipped).intoArray(grad, go + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /** Pass 4: the loss -a q^gamma ln p_t, summed by {@link Passes#sumTerms}. */
  static void ovaLoss(Chunk c) {
    int n = c.n;
    int classes = c.classes;
    float[] s = c.s;
    float[] alpha = c.p.alphaTiled;
    int kind = c.p.gammaKind;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    int step = L % classes;
    int col = c.col0;
    for (int i = 0; i < n; i += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector lnpt = FloatVector.fromArray(S, s, LN + i);
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, col);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      lnpt.mul(qg).mul(a).neg().intoArray(s, TERMS + i);
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
    zeroCounted(s, TERMS, c.done);
    c.sum = sumTerms(s, n);
  }

  /**
   * softmaxInto, as three passes over one row (x at xo, into prob): prob[0, C) = softmax(z), as
   * exp(z_c - max) / sum (one elementary function per compilation: see VectorKernel's class
   * comment), and prob[C, 2C) = 1 - p_c, which for the largest class is the sum of the others over
   * the sum, so it keeps its precision when p is near 1; classes >= L.
   */
  private static final Pass[] SOFTMAX_INTO = {
      pass("softmaxIntoMax"), pass("softmaxIntoExp"), pass("softmaxIntoScale")};
  private static final Pass SOFTMAX_JACOBIAN =
      pass("softmaxJacobianPass");

  /** A row's maximum; classes >= L. */
  private static float rowMax(float[] z, int row, int classes) {
    FloatVector mv = FloatVector.fromArray(S, z, row);
    for (int c = L; c < classes; c += L) {
      FloatVector v = FloatVector.fromArray(S, z, row + Math.min(c, classes - L)); // idempotent
      mv = v.blend(mv, v.compare(LE, mv)); // see clip: cheaper than max; NaN reaches the sums
    }
    IntVector bits = ONE.mul(mv).reinterpretAsInts();
    return maxOfKeys(bits.lanewise(XOR, bits.lanewise(ASHR, 31).lanewise(AND, KEY_FLIP))
        .blend(KEY_NAN, bits.lanewise(AND, KEY_FLIP).compare(GT, INF_BITS))
        .reduceLanes(MAX)); // see maxOfKeys
  }

  /** softmaxInto, part 1: the row's max into c.max and its first class into c.top. */
  static void softmaxIntoMax(Chunk c) {
    float m = rowMax(c.x, c.xo, c.classes);
    int top = 0;
    while (top < c.classes - 1 && c.x[c.xo + top] != m) { // bounded: a NaN max matches none
      top++;
    }
    c.max = m;
    c.top = top;
  }

  /**
   * softmaxInto, part 2: exp(z_c - max) into prob[0, C). (One compilation with the sum, or with
   * part 1, reached C2's node-count cutoff and boxed.)
   */
  static void softmaxIntoExp(Chunk ch) {
    float[] z = ch.x;
    int row = ch.xo;
    int classes = ch.classes;
    float[] prob = ch.prob;
    float m = ch.max;
    for (int c = 0; c < classes; c += L) {
      int at = Math.min(c, classes - L); // the last vector overlaps: the same values again
      VectorMath.expNoOverflow(FloatVector.fromArray(S, z, row + at).sub(m)).intoArray(prob, at);
    }
  }

  /**
   * softmaxInto, part 3: the sum of the exponentials but the top class's (summed with the top's
   * set to 0 for the moment: no cancellation where p_top is near 1), then prob[0, C) = e / sum,
   * prob[C, 2C) = 1 - p, the top's as the others' sum over the sum.
   */
  static void softmaxIntoScale(Chunk ch) {
    int classes = ch.classes;
    float[] prob = ch.prob;
    int top = ch.top;
    float eTop = prob[top];
    prob[top] = 0f;
    rowSum(ch);
    double others = ch.sum;
    prob[top] = eTop;
    int bound = S.loopBound(classes);
    int c;
    double sum = others + eTop;
    float inv = (float) (1.0 / sum);
    for (c = 0; c < bound; c += L) {
      FloatVector pc = FloatVector.fromArray(S, prob, c).mul(inv);
      pc.intoArray(prob, c);
      pc.neg().add(1f).intoArray(prob, classes + c);
    }
    for (; c < classes; c++) {
      prob[c] *= inv;
      prob[classes + c] = 1f - prob[c];
    }
    prob[classes + top] = (float) (others / sum);
  }

  /**
   * A row's gradient is redone in double ({@link ScalarKernel}) where the error bound of its float
   * Jacobian, in units of the float epsilon, exceeds this many times the row's largest gradient.
   * grad_j = p_j (g_j - s) cancels where g_j = dl/dp_j is near s = sum_c p_c g_c (two classes of
   * nearly equal probability and weight, or a row whose every target is 0 and whose logits are
   * close), and g carries the float rounding of VectorMath's log, pow and divisions (up to ~75
   * float epsilons of p_j (|g_j| + sum_c p_c |g_c|) measured at gamma 3 to 5). Against a double
   * reference over 40,000 random rows (C 4..23, 128-bit vectors), rows whose bound was below 32
   * times their largest gradient were within 0.16 of the golden gradient tolerance (2e-5), and
   * without the fallback rows beyond it were up to 4.8x it at a bound of 1024 and far more for
   * near ties; all-negative rows of 16..115 classes with logits N(0, 0.01) were 3.8x it
   * (PropertyTest#oneVsAllFromLogitsAllNegativeCloseLogits). Over 120,000 rows with one target of
   * 1 and logits N(0, 0.1..4), one row crossed the limit; all-negative rows at gamma 0 with
   * logits N(0, 1) cross it about 2 times in 5 (and are redone).
   */
  static final double JACOBIAN_CONDITION_LIMIT = 32;

  /**
   * {@link #softmaxJacobian}'s lane-wise maxima between its blocks: regions that the passes of a
   * one-vs-all-from-logits row, which run before it, do not use (the class-major groups' and the
   * Hessians' do, in calls of their own).
   */
  private static final int JAC_MAX_PG = H0;
  private static final int JAC_MAX_P = H1;

  /**
   * grad_j = gradScale * p_j (g_j - sum_c p_c g_c), in place over one row's g = dL/dp. For the
   * largest class, whose g may be huge where p is near 1, it is p_j (g_j (1 - p_j) - sum_{c != j}
   * p_c g_c), with 1 - p_j from prob[C + j]: no cancellation of two large terms. Sets
   * {@code illConditioned} where the float result's error bound, max(p_top (|g_top| (1 - p_top) +
   * A'), max_{j != top} p_j |g_j| + A max_{j != top} p_j) with A' = sum_{c != top} p_c |g_c| and
   * A = A' + p_top |g_top|, is more than {@link #JACOBIAN_CONDITION_LIMIT} times the largest
   * |grad_j|, or either is not finite.
   */
  private static void softmaxJacobian(float[] prob, int top, int classes, float[] grad, int gRow,
      float gradScale) {
    Chunk ch = CHUNK_ARGS.get();
    float[] lanes = ch.s;
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    int bound = S.loopBound(classes);
    // the lane-wise maxima go through the scratch from block to block: held in locals across
    // the blocks' loop, JDK 17's C2 left their max to the allocating fallback (13 bytes per
    // element at 100 classes, every call; a tester's find, since the blocks of 143d8de)
    FloatVector.zero(S).intoArray(lanes, JAC_MAX_PG);
    FloatVector.zero(S).intoArray(lanes, JAC_MAX_P);
    double others = 0;
    double absOthers = 0;
    int c = 0;
    while (c < bound) { // in blocks, as rowSum
      FloatVector acc = FloatVector.zero(S);
      FloatVector absAcc = FloatVector.zero(S);
      FloatVector maxPg = FloatVector.fromArray(S, lanes, JAC_MAX_PG);
      FloatVector maxP = FloatVector.fromArray(S, lanes, JAC_MAX_P);
      for (int end = c + Math.min(ROW_SUM_BLOCK, bound - c); c < end; c += L) {
        // top - c, not c + lane against top in float: above 2^24 two lanes rounded to the top's
        // index (a reviewer's find); an int of any size is a lane number exactly when it is one
        VectorMask<Float> isTop = iota.compare(EQ, (float) (top - c));
        FloatVector pv = FloatVector.fromArray(S, prob, c);
        FloatVector pg = pv.mul(FloatVector.fromArray(S, grad, gRow + c)).blend(0f, isTop);
        acc = pg.add(acc);
        FloatVector apg = pg.abs();
        absAcc = apg.add(absAcc);
        maxPg = apg.max(maxPg);
        maxP = pv.blend(0f, isTop).max(maxP);
      }
      ONE.mul(maxPg).intoArray(lanes, JAC_MAX_PG);
      ONE.mul(maxP).intoArray(lanes, JAC_MAX_P);
      ONE.mul(acc).intoArray(lanes, RED);
      others += sumLanes(lanes, RED);
      ONE.mul(absAcc).intoArray(lanes, RED);
      absOthers += sumLanes(lanes, RED);
    }
    double mPg = FloatVector.fromArray(S, lanes, JAC_MAX_PG).reduceLanes(MAX);
    double mP = FloatVector.fromArray(S, lanes, JAC_MAX_P).reduceLanes(MAX);
    for (; c < classes; c++) {
      if (c != top) {
        double pg = (double) prob[c] * grad[gRow + c];
        others += pg;
        absOthers += Math.abs(pg);
        mPg = Math.max(mPg, Math.abs(pg));
        mP = Math.max(mP, prob[c]);
      }
    }
    double gTop = grad[gRow + top];
    double s = others + prob[top] * gTop;
    float sf = (float) s;
    FloatVector gMax = FloatVector.zero(S);
    for (c = 0; c < bound; c += L) {
      FloatVector g = FloatVector.fromArray(S, grad, gRow + c);
      FloatVector r = FloatVector.fromArray(S, prob, c).mul(g.sub(sf)).mul(gradScale);
      r.intoArray(grad, gRow + c);
      // the top's lane is rewritten below; its value here is not the result
      gMax = r.abs().blend(0f, iota.compare(EQ, (float) (top - c))).max(gMax);
    }
    double largest = ONE.mul(gMax).reduceLanes(MAX);
    for (; c < classes; c++) {
      float r = (float) (gradScale * prob[c] * (grad[gRow + c] - s));
      grad[gRow + c] = r;
      largest = c == top ? largest : Math.max(largest, Math.abs(r));
    }
    float rTop = (float) (gradScale * prob[top] * (gTop * prob[classes + top] - others));
    grad[gRow + top] = rTop;
    largest = Math.max(largest, Math.abs(rTop));
    double a = absOthers + prob[top] * Math.abs(gTop);
    double bound0 = Math.max(prob[top] * (Math.abs(gTop) * prob[classes + top] + absOthers),
        mPg + a * mP);
    // negated, so that NaN counts, and an infinite result too: a float dl/dp that overflowed
    // (weights near Float.MAX_VALUE) where the gradient in double is finite
    ch.illConditioned = !(Math.abs(gradScale) * bound0 <= JACOBIAN_CONDITION_LIMIT * largest)
        || largest == Double.POSITIVE_INFINITY;
  }
}
