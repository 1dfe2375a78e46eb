package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.OneVsAllPasses.*;
import static dev.focalsimd.kernels.vector.Passes.*;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.NE;
import static jdk.incubator.vector.VectorOperators.XOR;

import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.ScalarKernel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * The softmax passes of {@link VectorKernel}: class indices in groups of L rows (class-major up to
 * {@link #SMALL_CLASSES} classes, one vector per row at 16 lanes, row-wise runs of vectors above),
 * and target distributions (class-major groups, or row by row), which class indices with label
 * smoothing take too.
 */
final class SoftmaxPasses {

  private SoftmaxPasses() {}

  // Passes that call a loop with arguments from the chunk (the other passes are methods of their
  // own below).

  static void groupLnQPass(Chunk c) {
    logInto(c.s, Q, QG, c.groups * L);
  }

  static void groupLnQFixPass(Chunk c) {
    if (c.p.gamma > LN_Q_FIX_GAMMA) {
      lnQFix(c.s, Q, PT, QG, c.groups * L);
    }
  }

  static void groupQPowGammaPass(Chunk c) {
    expScaledInto(c.s, QG, QG, c.groups * L, c.p.gamma);
  }

  private static final Pass[] SOFTMAX = {
      pass("softmaxGroupMax"),
      pass("softmaxGroupSums"),
      pass("softmaxGroupOthers"),
      pass("softmaxGroupLog"),
      pass("softmaxGroupTerms"),
      pass("softmaxGroupScale")};
  private static final Pass[] SOFTMAX_GENERAL_GAMMA = {
      SOFTMAX[0], SOFTMAX[1], SOFTMAX[2], SOFTMAX[3],
      pass("groupLnQPass"),
      pass("groupLnQFixPass"),
      pass("groupQPowGammaPass"),
      SOFTMAX[4], SOFTMAX[5]};

  /**
   * Softmax with class indices, no label smoothing. Groups of L rows: per row the max, exp(z - max)
   * (kept in grad) and the sum of the others, one row per lane (class-major up to SMALL_CLASSES;
   * else row by row, each row's max reduced across its lanes, and the rows' sums gathered into
   * lanes where GATHER, reduced across each row's lanes where not); then the per-row focal terms
   * for the whole group as one vector; then each row is scaled.
   */
  static double softmaxIndexGroups(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    Chunk c = CHUNK_ARGS.get();
    c.p = p;
    c.x = z;
    c.grad = grad;
    c.gradScale = gradScale;
    c.classes = classes;
    c.tArr = t;
    boolean general = p.gammaKind == LossParams.GAMMA_GENERAL;
    Pass[] passes;
    int groups = 1;
    if (oneVectorRows(classes)) {
      passes = general ? SOFTMAX_ROW_GENERAL_GAMMA : SOFTMAX_ROW;
      groups = ROW_GROUPS;
      if (c.km.length < 2 * ROW_EXPS) {
        c.km = new float[2 * ROW_EXPS];
      }
    } else if (classes <= SMALL_CLASSES || classes < L) { // the row-wise passes need rows >= L
      passes = general ? SOFTMAX_SMALL_GENERAL_GAMMA : SOFTMAX_SMALL;
      if (c.km.length < L * classes) {
        c.km = new float[L * Math.max(SMALL_CLASSES, classes)];
      }
    } else {
      passes = general ? SOFTMAX_GENERAL_GAMMA : SOFTMAX;
      groups = Math.max(1, Math.min(ROW_GROUPS, BLOCK_LOGITS / (classes * L)));
      if (GATHER && c.km.length < groups * L * L) {
        c.km = new float[groups * L * L];
      }
    }
    c.groups = groups;
    int block = groups * L;
    double total = 0;
    for (int r0 = 0; r0 < rows; r0 += block) {
      c.xo = zOff + r0 * classes;
      c.go = gOff + r0 * classes;
      c.to = tOff + r0;
      c.n = Math.min(block, rows - r0);
      for (Pass pass : passes) {
        run(pass, c);
      }
      float[] loss = c.s;
      for (int r = 0; r < c.n; r++) {
        total += loss[LOSS + r];
        if (perSample != null) {
          perSample[psOff + r0 + r] = loss[LOSS + r];
        }
      }
    }
    c.x = null;
    c.grad = null;
    c.tArr = null;
    c.groups = 1;
    return total;
  }

  /**
   * Softmax with class indices over at most this many classes (or any count below L): a group's
   * rows are transposed to class-major order, so that the row max, the exponentials' sum and the
   * target's exponential are lane-wise operations over the group's rows instead of a reduction
   * across each row's lanes; except rows of exactly one 16-lane vector, which take {@link
   * #SOFTMAX_ROW} (1.3x to 1.4x these passes at 16 classes, paired A/B on JDK 17 and JDK 25, before
   * its folds added 1.1x to 1.2x). Above it the row-wise passes of {@link #SOFTMAX}, since they
   * cover several groups per run ({@link #BLOCK_LOGITS}), are faster: paired A/B of the row-wise
   * passes against these, checks off, JDK 17, 512 bits: 17 classes 0.75x, 20 1.02x, 24 0.94x, 25
   * 1.08x, 28 1.11x and 1.38x, 31 1.15x, 32 1.45x and 1.50x; at 256 bits, 28 classes 1.04x, 32
   * 1.32x (128 bits not measured). Below 25 neither is clearly faster except at 17 classes (20
   * classes 1.02x is within a run's noise), so the limit is where the row-wise passes start to win.
   * (These passes over 4 groups per run measured 0.86x at 24 classes and 0.91x at 32.)
   */
  static final int SMALL_CLASSES = 24;

  private static final Pass[] SOFTMAX_SMALL = {
      pass("softmaxSmallIn"),
      pass("softmaxSmallExp"),
      pass("softmaxGroupLog"),
      pass("softmaxGroupTerms"),
      pass("softmaxSmallOut")};
  private static final Pass[] SOFTMAX_SMALL_GENERAL_GAMMA = {
      SOFTMAX_SMALL[0], SOFTMAX_SMALL[1], SOFTMAX[3],
      SOFTMAX_GENERAL_GAMMA[4], SOFTMAX_GENERAL_GAMMA[5], SOFTMAX_GENERAL_GAMMA[6],
      SOFTMAX[4], SOFTMAX_SMALL[4]};

  // Group lanes of the class-major passes: target class as a float (-1: ignored or no row), max.
  private static final int SMALL_T = H0;
  private static final int SMALL_M = H0 + 64;

  /**
   * Class-major softmax pass: the group's logits into km (km[j L + r] = z of row r, class j; 0 for
   * an ignored row, whatever it holds, and for the lanes past the last row), per lane the target,
   * alpha_t and z_t - max, and the row max, as a running lane-wise maximum over the classes.
   */
  static void softmaxSmallIn(Chunk c) {
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
    boolean gather = GATHER && n == L;
    for (int r = 0; r < L; r++) {
      int target = r < n ? t[to + r] : ignore;
      if (target == ignore) {
        if (!gather) {
          for (int j = 0; j < k; j++) {
            km[j * L + r] = 0f;
          }
        }
        s[SMALL_T + r] = -1f;
        s[ALPHA + r] = 0f;
        s[D + r] = 0f;
      } else {
        int row = zo + r * k;
        if (!gather) {
          for (int j = 0; j < k; j++) {
            km[j * L + r] = z[row + j];
          }
        }
        s[SMALL_T + r] = target;
        s[ALPHA + r] = p.alphaOf(target);
        s[D + r] = z[row + target];
      }
    }
    if (gather) {
      int[] rowStarts = c.rowStarts(k);
      VectorMask<Float> dead = FloatVector.fromArray(S, s, SMALL_T).compare(LT, 0f);
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, z, zo + j, rowStarts, 0).blend(0f, dead).intoArray(km, j * L);
      }
    }
    // two running maxima (see softmaxGroupMax); a NaN logit reaches the loss through its
    // exponential
    FloatVector m = FloatVector.fromArray(S, km, 0);
    FloatVector m1 = m;
    int j = 1;
    for (; j + 1 < k; j += 2) {
      FloatVector v0 = FloatVector.fromArray(S, km, j * L);
      FloatVector v1 = FloatVector.fromArray(S, km, (j + 1) * L);
      m = v0.blend(m, v0.compare(LE, m));
      m1 = v1.blend(m1, v1.compare(LE, m1));
    }
    if (j < k) {
      FloatVector v = FloatVector.fromArray(S, km, j * L);
      m = v.blend(m, v.compare(LE, m));
    }
    m = ONE.mul(m).blend(m1, m1.compare(GT, m));
    m.intoArray(s, SMALL_M);
    FloatVector.fromArray(S, s, D).sub(m).intoArray(s, D);
  }

  /**
   * Class-major softmax pass: e_j = exp(z_j - max) in place in km, and per lane the target's e_t
   * and the others' sum ({@link Passes#laneSums}); an ignored lane gets the neutral 1 and 1 (loss
   * 0, gradient 0).
   */
  static void softmaxSmallExp(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    FloatVector m = FloatVector.fromArray(S, s, SMALL_M);
    FloatVector tv = FloatVector.fromArray(S, s, SMALL_T);
    FloatVector et = FloatVector.zero(S);
    for (int j = 0; j < k; j++) {
      FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(S, km, j * L).sub(m));
      e.intoArray(km, j * L);
      VectorMask<Float> hit = tv.compare(EQ, (float) j);
      et = e.blend(et, tv.compare(NE, (float) j));
      e.blend(0f, hit).intoArray(s, TERMS + j * L);
    }
    laneSums(s, TERMS, k, OTHERS);
    VectorMask<Float> dead = tv.compare(LT, 0f);
    FloatVector.fromArray(S, s, OTHERS).blend(1f, dead).intoArray(s, OTHERS);
    ONE.mul(et).blend(1f, dead).intoArray(s, ET);
  }

  /**
   * Class-major softmax pass: grad_c = coef * e_c, the target's own value at the target, back to
   * the rows' order; an ignored row's gradient is 0.
   */
  static void softmaxSmallOut(Chunk c) {
    float[] grad = c.grad;
    if (grad == null) {
      return;
    }
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    FloatVector coef = FloatVector.fromArray(S, s, COEF);
    FloatVector atTarget = FloatVector.fromArray(S, s, AT_TARGET);
    FloatVector tv = FloatVector.fromArray(S, s, SMALL_T);
    int go = c.go;
    if (GATHER && c.n == L) {
      int[] rowStarts = c.rowStarts(k);
      VectorMask<Float> dead = tv.compare(LT, 0f);
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, km, j * L).mul(coef).blend(atTarget, tv.compare(EQ, (float) j))
            .blend(0f, dead).intoArray(grad, go + j, rowStarts, 0);
      }
      return;
    }
    for (int j = 0; j < k; j++) {
      FloatVector.fromArray(S, km, j * L).mul(coef).blend(atTarget, tv.compare(EQ, (float) j))
          .intoArray(km, j * L);
    }
    for (int r = 0; r < c.n; r++) {
      int row = go + r * k;
      if (s[SMALL_T + r] < 0f) {
        java.util.Arrays.fill(grad, row, row + k, 0f);
      } else {
        for (int j = 0; j < k; j++) {
          grad[row + j] = km[j * L + r];
        }
      }
    }
  }

  /**
   * Softmax with class indices where a row is exactly one vector (classes == L, 16 lanes, where the
   * species has gathers): each row's max is a reduction across its lanes, its exponentials stay
   * row-major, and the group's sums come from L/4 gathers; the per-row focal terms are computed for
   * the whole group as one vector, as in the class-major passes, and the gradient is written row by
   * row (no scatters, which cost more than gathers on the CPUs measured).
   */
  private static final Pass[] SOFTMAX_ROW = {
      pass("softmaxRowMax"),
      pass("softmaxRowExp"),
      pass("softmaxGroupOthers"), // its ET blend is overwritten by softmaxRowTarget
      pass("softmaxRowTarget"),
      pass("softmaxGroupLog"),
      pass("softmaxGroupTerms"),
      pass("softmaxRowOut")};
  private static final Pass[] SOFTMAX_ROW_GENERAL_GAMMA = {
      SOFTMAX_ROW[0], SOFTMAX_ROW[1], SOFTMAX_ROW[2], SOFTMAX_ROW[3], SOFTMAX[3],
      SOFTMAX_GENERAL_GAMMA[4], SOFTMAX_GENERAL_GAMMA[5], SOFTMAX_GENERAL_GAMMA[6],
      SOFTMAX[4], SOFTMAX_ROW[6]};

  /**
   * The groups of L rows that one run of {@link #SOFTMAX_ROW}'s passes covers: 64 rows (the
   * per-row scratch regions' size), so that a pass's call and setup are paid once per 64 rows
   * instead of once per 16 (7 empty passes added per 16 rows cost 7% at 4096 x 16; paired A/B
   * against one group per run, checks off: JDK 17 1.19x at 4096 x 16 and 1.14x at 65536 x 16,
   * JDK 25 1.16x and 1.07x); up to this many for {@link #SOFTMAX} ({@link #BLOCK_LOGITS}).
   */
  static final int ROW_GROUPS = Math.max(1, 64 / L);
  /** {@link #SOFTMAX_ROW}: where in km the rows' exponentials start (the folded others before). */
  private static final int ROW_EXPS = ROW_GROUPS * L * L;

  /**
   * Softmax with class indices over more than {@link #SMALL_CLASSES} classes: one run of the
   * passes covers as many groups of L rows (at most {@link #ROW_GROUPS}) as hold at most this many
   * logits (64 KB), so that the rows' maxima, exponentials and scaling are passed over in blocks
   * that stay in L2 (at 16 lanes: 4 groups up to 256 classes, 3 up to 341, 2 up to 512, else 1;
   * 3 groups were not measured). Paired A/B against one group per run (two class loaders, checks
   * off, JDK 17 unless said): 40 classes 1.11x, 80 classes 1.06x (JDK 25 1.19x), 120 classes
   * 1.15x, 256 classes 1.32x, 500 classes (2 groups) 1.06x; 4 groups at 500 classes 0.94x and at
   * 1000 classes 0.94x, 2 at 1000 0.99x.
   */
  static final int BLOCK_LOGITS = 16384;

  /** Whether rows of {@code classes} take {@link #SOFTMAX_ROW}. */
  static boolean oneVectorRows(int classes) {
    return GATHER && classes == L;
  }

  /**
   * Row-wise softmax pass ({@link #SOFTMAX_ROW}): per row its max (a reduction across its lanes:
   * exact in any order; a NaN logit makes it NaN, and the row's loss with it), and per lane the
   * target, alpha_t and z_t - max; an ignored row or no row gets the neutral values of the
   * class-major passes.
   */
  static void softmaxRowMax(Chunk c) {
    LossParams p = c.p;
    float[] z = c.x;
    float[] s = c.s;
    int ignore = p.ignoreIndex;
    for (int r = 0; r < c.groups * L; r++) {
      int target = r < c.n ? c.tArr[c.to + r] : ignore;
      if (target == ignore) {
        s[SMALL_T + r] = -1f;
        s[ALPHA + r] = 0f;
        s[D + r] = 0f;
        continue;
      }
      int row = c.xo + r * L;
      IntVector bits = FloatVector.fromArray(S, z, row).reinterpretAsInts();
      float m = maxOfKeys(bits.lanewise(XOR, bits.lanewise(ASHR, 31).lanewise(AND, KEY_FLIP))
          .blend(KEY_NAN, bits.lanewise(AND, KEY_FLIP).compare(GT, INF_BITS))
          .reduceLanes(MAX)); // see maxOfKeys
      s[SMALL_M + r] = m;
      s[SMALL_T + r] = target;
      s[ALPHA + r] = p.alphaOf(target);
      s[D + r] = z[row + target] - m;
    }
  }

  /**
   * Row-wise softmax pass: per row, e_c = exp(z_c - max) into km at L L + r L, and the others
   * (the target's lane 0) folded twice at r L, which {@link #softmaxGroupOthers} sums per row
   * (all 0 for an ignored row).
   */
  static void softmaxRowExp(Chunk c) {
    float[] z = c.x;
    float[] s = c.s;
    float[] km = c.km;
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    for (int r = 0; r < c.groups * L; r++) {
      float tf = s[SMALL_T + r];
      if (tf < 0f) {
        FloatVector.zero(S).intoArray(km, r * L);
        continue;
      }
      FloatVector e = VectorMath.expNonPositive(
          FloatVector.fromArray(S, z, c.xo + r * L).sub(s[SMALL_M + r]));
      e.intoArray(km, ROW_EXPS + r * L);
      FloatVector o = e.blend(0f, iota.compare(EQ, tf));
      o = o.add(o.rearrange(FOLD_HALF));
      o.add(o.rearrange(FOLD_QUARTER)).intoArray(km, r * L);
    }
  }

  /**
   * Lane i from lane (i + L/2) mod L, and from (i + L/4) mod L: two folds leave a row's sum in
   * its first L/4 lanes, and the group then takes L/4 gathers instead of L. Paired A/B (JDK 17,
   * 4096 x 16, against gathering all L lanes): one fold 1.04x, two 1.10x and 1.12x, three 1.05x
   * (JDK 25: two 1.20x, three 1.18x).
   */
  private static final VectorShuffle<Float> FOLD_HALF =
      VectorShuffle.fromOp(S, i -> (i + L / 2) % L);
  private static final VectorShuffle<Float> FOLD_QUARTER =
      VectorShuffle.fromOp(S, i -> (i + L / 4) % L);

  /**
   * Row-wise softmax pass over a group's lanes: e_t = exp(z_t - max), the same function of the
   * same value as the target's lane of its row in {@link #softmaxRowExp}, so the same bits; 1 for
   * an ignored lane.
   */
  static void softmaxRowTarget(Chunk c) {
    float[] s = c.s;
    for (int g = 0; g < c.groups * L; g += L) {
      VectorMask<Float> dead = FloatVector.fromArray(S, s, SMALL_T + g).compare(LT, 0f);
      VectorMath.expNonPositive(FloatVector.fromArray(S, s, D + g)).blend(1f, dead)
          .intoArray(s, ET + g);
    }
  }

  /** Row-wise softmax pass: grad_c = coef * e_c, the target's own value; 0 for an ignored row. */
  static void softmaxRowOut(Chunk c) {
    float[] grad = c.grad;
    if (grad == null) {
      return;
    }
    float[] km = c.km;
    float[] s = c.s;
    for (int r = 0; r < c.n; r++) {
      int g = c.go + r * L;
      float tf = s[SMALL_T + r];
      if (tf < 0f) {
        FloatVector.zero(S).intoArray(grad, g);
      } else {
        FloatVector.fromArray(S, km, ROW_EXPS + r * L).mul(s[COEF + r]).intoArray(grad, g);
        grad[g + (int) tf] = s[AT_TARGET + r];
      }
    }
  }

  /** r * L for r in [0, L): gathers the lanes of L vectors stored one after the other. */
  private static final int[] LANE_STARTS = laneStarts();

  private static int[] laneStarts() {
    int[] a = new int[L];
    for (int r = 0; r < L; r++) {
      a[r] = r * L;
    }
    return a;
  }

  /**
   * Softmax pass, row by row over a group: each row's lane-wise max over its vectors, then the
   * rows' maxima into the group's lanes (lane r: row r; 0 for an ignored row or no row), each by
   * the integer max of its lanes' keys ({@link Passes#maxOfKeys}) at every width. Until the third
   * stop of 2026-12-07 the maxima at 512 bits were two folds by {@code rearrange} per row into km
   * and a scalar max of the L/4 lanes left, which had replaced {@code reduceLanes(MAX)} (JDK 17's
   * NaN-exact float reduction cost more than the row's exponentials at 80 classes); the keys took
   * the pass from 35% to 23% of the samples at 16384 x 80 (perf, JDK 17, checks off), the same bits
   * on 2,112 calls. Per lane the target, alpha_t and z_t - max. Ignored rows' gradients are zeroed
   * here.
   */
  static void softmaxGroupMax(Chunk c) {
    LossParams p = c.p;
    float[] z = c.x;
    float[] grad = c.grad;
    float[] s = c.s;
    int classes = c.classes;
    int lanes = c.groups * L;
    for (int r = 0; r < lanes; r++) {
      int target = r < c.n ? c.tArr[c.to + r] : p.ignoreIndex;
      int row = c.xo + r * classes;
      if (target == p.ignoreIndex) { // a neutral lane: loss 0, gradient 0
        s[SMALL_M + r] = 0f;
        s[SMALL_T + r] = -1f;
        s[D + r] = 0f;
        s[ALPHA + r] = 0f;
        if (grad != null && r < c.n) {
          int gRow = c.go + r * classes;
          java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
        }
        continue;
      }
      // four running maxima: one is a chain of dependent compare-and-blends, bound by their
      // latency. A NaN logit (possible only with the checks off) is kept only where no later
      // compare-and-blend of its chain or of the merges below replaces it (v.blend(m, v <= m) takes
      // v where m is NaN); where it is dropped, its exponential (VectorMath.expNonPositive, which passes
      // NaN on since the fourth stop of 2026-12-07) still makes the row's sums and loss NaN
      FloatVector mv = FloatVector.fromArray(S, z, row);
      FloatVector m1 = mv;
      FloatVector m2 = mv;
      FloatVector m3 = mv;
      int col = L;
      // the loads are the receivers, the running maxima (chosen on two paths) only arguments (see
      // VectorKernel's class comment): v.blend(m, v <= m) is m.blend(v, v > m) for every value but
      // NaN. With the maxima as receivers, and the group's maximum carried through a loop of
      // gathers after this one (the maxima were gathered into lanes then), JDK 17's C2 left them to
      // the allocating fallback in a caller's loop over heap buffers (0.27 to 2.75 MB per call at
      // 4096 x 1000 in 4 of 5 JVMs; HotLoopTest's heapBuffers)
      for (; col + 4 * L <= classes; col += 4 * L) {
        FloatVector v0 = FloatVector.fromArray(S, z, row + col);
        FloatVector v1 = FloatVector.fromArray(S, z, row + col + L);
        FloatVector v2 = FloatVector.fromArray(S, z, row + col + 2 * L);
        FloatVector v3 = FloatVector.fromArray(S, z, row + col + 3 * L);
        mv = v0.blend(mv, v0.compare(LE, mv));
        m1 = v1.blend(m1, v1.compare(LE, m1));
        m2 = v2.blend(m2, v2.compare(LE, m2));
        m3 = v3.blend(m3, v3.compare(LE, m3));
      }
      for (; col < classes; col += L) {
        FloatVector v = FloatVector.fromArray(S, z, row + Math.min(col, classes - L));
        mv = v.blend(mv, v.compare(LE, mv));
      }
      mv = ONE.mul(mv);
      FloatVector e1 = ONE.mul(m1);
      FloatVector e3 = ONE.mul(m3);
      mv = e1.blend(mv, e1.compare(LE, mv));
      FloatVector e2 = ONE.mul(m2);
      e2 = e3.blend(e2, e3.compare(LE, e2));
      mv = e2.blend(mv, e2.compare(LE, mv));
      IntVector bits = mv.reinterpretAsInts();
      s[SMALL_M + r] = maxOfKeys(bits.lanewise(XOR, bits.lanewise(ASHR, 31)
          .lanewise(AND, KEY_FLIP)).blend(KEY_NAN, bits.lanewise(AND, KEY_FLIP)
          .compare(GT, INF_BITS)).reduceLanes(MAX)); // see maxOfKeys
      s[SMALL_T + r] = target;
      s[D + r] = z[row + target];
      s[ALPHA + r] = p.alphaOf(target);
    }
    for (int g = 0; g < lanes; g += L) {
      FloatVector.fromArray(S, s, D + g).sub(FloatVector.fromArray(S, s, SMALL_M + g))
          .intoArray(s, D + g);
    }
  }

  /**
   * Softmax pass, row by row over a group: exp(z_c - max) into grad (when there is one), e_t, and
   * each row's lane-wise sum of the others' exponentials (the target left out, so that 1 - p_t =
   * others / s keeps its precision when p_t is near 1), summed across its lanes here ({@link
   * Passes#sumLanes}) or, where GATHER, by {@link #softmaxGroupOthers}.
   */
  static void softmaxGroupSums(Chunk c) {
    float[] z = c.x;
    float[] grad = c.grad;
    float[] s = c.s;
    float[] km = c.km;
    int classes = c.classes;
    FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
    for (int r = c.groups * L - 1; r >= 0; r--) { // last row first: the max pass left it in L1
      float tf = s[SMALL_T + r];
      if (tf < 0f) {
        if (GATHER) {
          FloatVector.zero(S).intoArray(km, r * L);
        }
        continue;
      }
      // the class index itself, not tf: a float holds indices exactly only up to 2^24 (one row of
      // 2^24 + 16 classes, target 2^24 + 1, took class 2^24's e_t: loss 2.2e-4 for 4.94, a
      // reviewer's find)
      int target = c.tArr[c.to + r];
      int row = c.xo + r * classes;
      int gRow = c.go + r * classes;
      float m = s[SMALL_M + r];
      FloatVector acc = FloatVector.zero(S);
      double wide = 0; // rows of more than ROW_SUM_BLOCK classes: the sums of the blocks before
      int targetCol = target - target % L; // the vector holding the target (or the last one)
      // one loop, one exp call: a second call in this compilation would not be inlined (boxing)
      for (int col = 0; col < classes; ) {
        for (int end = col + Math.min(ROW_SUM_BLOCK, classes - col); col < end; col += L) {
          int at = Math.min(col, classes - L); // the last vector ends at the row's end
          FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(S, z, row + at).sub(m));
          if (grad != null) {
            e.intoArray(grad, gRow + at);
          }
          if (col == targetCol || at != col) {
            if (col == targetCol) { // e_t as the others' exponentials are, with or without grad
              e.intoArray(s, RED);
            }
            // the target, and the last vector's lanes counted already (col - at of them)
            acc = e.blend(0f, iota.compare(EQ, (float) (target - at))
                .or(iota.compare(LT, (float) (col - at)))).add(acc);
          } else {
            acc = e.add(acc);
          }
        }
        if (col < classes) { // a block of a wide row done (see ROW_SUM_BLOCK)
          // in a fixed order (sumLanes; RED holds e_t's vector): reduceLanes(ADD) gave other bits
          // before and after C2 compiled this pass on JDK 25 (a reviewer's find)
          ONE.mul(acc).intoArray(s, TERMS);
          wide += sumLanes(s, TERMS);
          acc = FloatVector.zero(S);
        }
      }
      // forward() (no grad) took Math.exp here, an ulp away from forwardBackward's e_t at times
      s[ET + r] = s[RED + target - Math.min(targetCol, classes - L)];
      if (classes > ROW_SUM_BLOCK) { // the blocks' sums in double, as one value
        ONE.mul(acc).intoArray(s, TERMS);
        float others = (float) (wide + sumLanes(s, TERMS));
        if (GATHER) { // lanes 0 to L/4 - 1 are what softmaxGroupOthers gathers and sums
          FloatVector.zero(S).intoArray(km, r * L);
          km[r * L] = others;
        } else {
          s[OTHERS + r] = others;
        }
      } else if (GATHER) { // folded twice: L/4 gathers in softmaxGroupOthers instead of L
        FloatVector half = ONE.mul(acc);
        half = half.add(half.rearrange(FOLD_HALF));
        half.add(half.rearrange(FOLD_QUARTER)).intoArray(km, r * L);
      } else {
        ONE.mul(acc).intoArray(s, RED);
        s[OTHERS + r] = (float) sumLanes(s, RED);
      }
    }
  }

  /**
   * Softmax pass after {@link #softmaxGroupSums}: where GATHER, the rows' partial sums (folded to
   * L/4 lanes) into the group's lanes; an ignored lane gets the neutral 1 and 1 (loss 0, gradient
   * 0). A pass of its
   * own: in one compilation with the exponentials, the gathers were left to their allocating Java
   * code in some JVM runs (C2's node cutoff, see VectorKernel's class comment).
   */
  static void softmaxGroupOthers(Chunk c) {
    float[] s = c.s;
    for (int g = 0; g < c.groups * L; g += L) {
      if (GATHER) {
        float[] km = c.km;
        for (int i = 0; i < L / 4; i++) {
          FloatVector.fromArray(S, km, g * L + i, LANE_STARTS, 0).intoArray(s, TERMS + i * L);
        }
        laneSums(s, TERMS, L / 4, OTHERS + g);
      }
      VectorMask<Float> dead = FloatVector.fromArray(S, s, SMALL_T + g).compare(LT, 0f);
      FloatVector.fromArray(S, s, OTHERS + g).blend(1f, dead).intoArray(s, OTHERS + g);
      FloatVector.fromArray(S, s, ET + g).blend(1f, dead).intoArray(s, ET + g);
    }
  }

  /** Softmax pass over a group's lanes: s, ln p_t = z_t - max - ln s, q = others / s, p_t. */
  static void softmaxGroupLog(Chunk c) {
    float[] s = c.s;
    for (int g = 0; g < c.groups * L; g += L) {
      FloatVector others = FloatVector.fromArray(S, s, OTHERS + g);
      FloatVector et = FloatVector.fromArray(S, s, ET + g);
      FloatVector sum = others.add(et);
      // ln(et + others) = ln(sum) + err / sum, err the rounding error of sum (TwoSum): where p_t
      // is near 1, ln p_t = -ln(1 + others) is small and that rounding was up to ~3e-6 of it.
      FloatVector bb = sum.sub(others);
      FloatVector err = others.sub(sum.sub(bb)).add(et.sub(bb));
      FloatVector lnSum = VectorMath.logNormal(sum).add(err.div(sum));
      FloatVector.fromArray(S, s, D + g).sub(lnSum).intoArray(s, LN + g);
      others.div(sum).intoArray(s, Q + g);
      et.div(sum).intoArray(s, PT + g);
    }
  }

  /**
   * Softmax pass over a group's lanes: the loss -alpha_t q^gamma ln p_t, and F = alpha_t (gamma p_t
   * q^gamma (ln p_t / q) - q^gamma) as the row's gradient factors: grad_c = -F p_c = -F e_c / s,
   * and F q at the target.
   */
  static void softmaxGroupTerms(Chunk c) {
    LossParams p = c.p;
    float[] s = c.s;
    int kind = p.gammaKind;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int g = 0; g < c.groups * L; g += L) {
      FloatVector q = FloatVector.fromArray(S, s, Q + g);
      FloatVector lnp = FloatVector.fromArray(S, s, LN + g);
      FloatVector a = FloatVector.fromArray(S, s, ALPHA + g);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + g);
      a.mul(qg).mul(lnp).neg().intoArray(s, LOSS + g);
      // ln p_t is -inf where z_t - max overflowed (logits more than the float range apart): the
      // loss is then infinite or NaN, and FocalLoss takes it from the scalar kernel; the gradient
      // takes any finite stand-in (p_t is 0 there, and only p_t ln p_t / q meets it)
      FloatVector ratio = lnp.max(-Float.MAX_VALUE).div(q).blend(-1f, q.compare(EQ, 0f));
      FloatVector pt = FloatVector.fromArray(S, s, PT + g);
      // scaled before alpha_t: alpha_t times the bracket first overflowed for weights near
      // Float.MAX_VALUE where the scaled gradient is finite (a reviewer's find)
      FloatVector f = a.mul(pt.mul(qg).mul(ratio).mul(p.gamma).sub(qg).mul(c.gradScale));
      FloatVector sum = FloatVector.fromArray(S, s, OTHERS + g)
          .add(FloatVector.fromArray(S, s, ET + g));
      f.neg().div(sum).intoArray(s, COEF + g);
      f.mul(q).intoArray(s, AT_TARGET + g);
    }
  }

  /** Softmax pass, row by row over a group: grad_c = coef * e_c, and the target's own value. */
  static void softmaxGroupScale(Chunk c) {
    if (c.grad == null) {
      return;
    }
    float[] grad = c.grad;
    float[] s = c.s;
    int classes = c.classes;
    int bound = S.loopBound(classes);
    for (int r = 0; r < c.n; r++) {
      int target = c.tArr[c.to + r];
      if (target == c.p.ignoreIndex) {
        continue;
      }
      int gRow = c.go + r * classes;
      float coef = s[COEF + r];
      int i = 0;
      for (; i < bound; i += L) {
        FloatVector.fromArray(S, grad, gRow + i).mul(coef).intoArray(grad, gRow + i);
      }
      for (; i < classes; i++) {
        grad[gRow + i] *= coef;
      }
      grad[gRow + target] = s[AT_TARGET + r];
    }
  }

  /**
   * Passes over one row (x at xo, classes >= L): its max into c.max, exp(z_c - max) into c.prob,
   * and their sum into c.sum. Passes, called through {@link Passes#run}, so that they are never
   * inlined into the row loop's caller, and three of them because one compilation holding the exp
   * and the sum reached C2's node-count cutoff (see VectorKernel's class comment). The first two
   * are {@link OneVsAllPasses#softmaxIntoMax} and {@link OneVsAllPasses#softmaxIntoExp}, which the
   * one-vs-all rows from logits run too; {@link Passes#rowSum} the third.
   */
  private static final Pass[] ROW_STATS = {
      pass("softmaxIntoMax"), pass("softmaxIntoExp")};
  private static final Pass ROW_SUM = pass("rowSum");
  /** Row by row, the passes after {@link #ROW_STATS} and {@link #ROW_SUM}. */
  private static final Pass[] SOFTMAX_DIST = {
      pass("softmaxPFromExp"),
      pass("softmaxQFromP"),
      pass("softmaxDistTerms"),
      pass("softmaxDistSums")};
  private static final Pass[] SOFTMAX_DIST_GENERAL_GAMMA = {
      SOFTMAX_DIST[0], SOFTMAX_DIST[1],
      pass("lnQPass"),
      pass("lnQFixPass"),
      pass("qPowGammaPass"),
      SOFTMAX_DIST[2], SOFTMAX_DIST[3]};

  /**
   * One row with a full target distribution: dense y, or (y == null) the one-hot row of target
   * smoothed by ls. F_c = alpha_c (gamma p_c q_c^gamma (ln p_c / q_c) - q_c^gamma), and dl/dz_j =
   * y_j F_j - p_j sum_c y_c F_c; classes >= L.
   */
  static double softmaxDistRow(LossParams p, float[] z, int row, float[] y, int yRow,
      int target, float ls, int classes, float[] grad, int gRow, float gradScale) {
    Chunk c = CHUNK_ARGS.get();
    c.x = z;
    c.xo = row;
    c.classes = classes;
    float[] prob = c.row(classes);
    c.prob = prob; // the row's exponentials (ROW_STATS), kept: p = e / sum where needed
    for (Pass pass : ROW_STATS) {
      run(pass, c);
    }
    // ln sum = log1p(the others' sum), the row's first largest class (its e is 1) left out of the
    // float lane sums: where it holds nearly all the mass, 1 + others rounded in float lost up to
    // 1e-7 of ln p_t = -ln(1 + others) (2.3e-6 of the loss of a 64-class row at 128 bits,
    // EdgeCaseTest), as the class-major groups' TwoSum and OneVsAllPasses.softmaxIntoScale avoid
    float eTop = prob[c.top];
    prob[c.top] = 0f;
    run(ROW_SUM, c);
    prob[c.top] = eTop;
    double sum = 1.0 + c.sum;
    float logSum = (float) ScalarKernel.log1pSum(c.sum);
    c.logSum = logSum;
    float inv = (float) (1.0 / sum);
    c.inv = inv;
    c.qTop = (float) (c.sum / sum);
    c.rowXo = row;
    c.off = ls / classes;
    c.on = 1f - ls + c.off;
    c.yfTop = 0f;
    double loss = segment(p.gammaKind == LossParams.GAMMA_GENERAL ? SOFTMAX_DIST_GENERAL_GAMMA
        : SOFTMAX_DIST, p, z, row, y, yRow, null, 0, target, classes, classes, grad, gRow,
        gradScale);
    c.off = 0f; // a plain one-hot row again for the other forms' single rows
    c.on = 1f;
    if (grad != null) {
      double yfTop = c.yfTop;
      double s = c.total2 + yfTop;
      float sf = (float) s;
      int top = c.top;
      int bound = S.loopBound(classes);
      int i = 0;
      for (; i < bound; i += L) {
        FloatVector yf = FloatVector.fromArray(S, grad, gRow + i);
        FloatVector.fromArray(S, prob, i).mul(inv).mul(-sf).add(yf).intoArray(grad, gRow + i);
      }
      for (; i < classes; i++) {
        grad[gRow + i] = (float) (grad[gRow + i] - prob[i] * inv * s);
      }
      // the largest class as y F q - p (sum_c y_c F_c - y F), as softmaxDistSmallOut: where p is
      // near 1 the plain form's two terms cancel and leave an ulp of y F (EdgeCaseTest)
      grad[gRow + top] = (float) (yfTop * c.qTop - (double) prob[top] * inv * c.total2);
    }
    return loss;
  }

  /**
   * Softmax pass of {@link #SOFTMAX_DIST}: p = e / sum, from the row's exponentials e = exp(z -
   * max) of {@link #ROW_STATS} (c.row, left as they are) and c.inv = 1 / sum, into PT. (It was
   * exp(ln p), and q below -expm1(ln p): two elementary functions per element more.)
   */
  static void softmaxPFromExp(Chunk c) {
    float[] e = c.row;
    int at = c.xo - c.rowXo;
    float[] s = c.s;
    float inv = c.inv;
    for (int i = 0; i < c.n; i += L) {
      FloatVector.fromArray(S, e, at + i).mul(inv).intoArray(s, PT + i);
    }
  }

  /**
   * Softmax pass of {@link #SOFTMAX_DIST}: q = 1 - p into Q, exact to an ulp or two of q wherever p
   * <= 1/2, which every class but the row's first largest has; that class's q is the others' sum
   * over the sum (c.qTop; -Math.expm1(-logSum), as before, is a JNI call on JDK 17).
   */
  static void softmaxQFromP(Chunk c) {
    float[] s = c.s;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < c.n; i += L) {
      ones.sub(FloatVector.fromArray(S, s, PT + i)).intoArray(s, Q + i);
    }
    int at = c.top - (c.xo - c.rowXo);
    if (at >= 0 && at < c.n) {
      s[Q + at] = c.qTop;
    }
  }

  /** Softmax with a target distribution, scratch: per element the loss and y_c F_c. */
  private static final int DIST_LOSS = H0;
  private static final int DIST_YF = H1;

  /**
   * Softmax pass: the loss -alpha_c y_c q_c^gamma ln p_c into DIST_LOSS, and gradScale y_c F_c into
   * DIST_YF and grad. Separate from the sums for C2's sake (VectorKernel's class comment).
   */
  static void softmaxDistTerms(Chunk c) {
    LossParams p = c.p;
    float[] s = c.s;
    float[] z = c.x;
    float[] y = c.y;
    float[] alpha = p.alphaTiled;
    float[] grad = c.grad;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    float max = c.max;
    float logSum = c.logSum;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    int col = c.col0;
    for (int i = 0; i < c.n; i += L, col += L) {
      FloatVector yv = FloatVector.fromArray(S, y, c.yo + i);
      FloatVector a = alpha == null ? ones : FloatVector.fromArray(S, alpha, col);
      FloatVector lnpRaw = FloatVector.fromArray(S, z, c.xo + i).sub(max).sub(logSum);
      FloatVector lnp = lnpRaw.max(-Float.MAX_VALUE); // see softmaxDistSmallExp
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, s, QG + i);
      FloatVector ay = yv.mul(a);
      // the loss from ln p as computed: -inf where z - max overflowed, so that the loss is
      // infinite or NaN and FocalLoss takes it from the scalar kernel, not from -MAX_VALUE
      ay.mul(qg).mul(lnpRaw).neg().intoArray(s, DIST_LOSS + i);
      FloatVector pc = FloatVector.fromArray(S, s, PT + i);
      FloatVector ratio = lnp.div(q).blend(-1f, q.compare(EQ, 0f)); // -> -1 as p -> 1
      // y F scaled by 1/N (gradScale) before alpha y, as softmaxGroupTerms: unscaled, it
      // overflowed for weights near Float.MAX_VALUE where the gradient is finite, and the
      // gradient's y F - p sum came out NaN
      FloatVector yf = ay.mul(pc.mul(qg).mul(ratio).mul(gamma).sub(qg).mul(c.gradScale));
      yf.intoArray(s, DIST_YF + i);
      if (grad != null) {
        yf.intoArray(grad, c.go + i);
      }
    }
  }

  /**
   * Softmax pass: the sums of DIST_LOSS (the chunk's loss) and DIST_YF (sum_c y_c F_c, but for the
   * row's first largest class, whose y F goes to c.yfTop), with Kahan's compensation as in {@link
   * OneVsAllPasses#ovaLoss}.
   */
  static void softmaxDistSums(Chunk c) {
    float[] s = c.s;
    FloatVector zeros = FloatVector.zero(S);
    FloatVector lossAcc = zeros;
    FloatVector lossComp = zeros;
    FloatVector yfAcc = zeros;
    FloatVector yfComp = zeros;
    zeroCounted(s, DIST_LOSS, c.done);
    zeroCounted(s, DIST_YF, c.done);
    int at = c.top - (c.xo - c.rowXo);
    if (at >= c.done && at < c.n) {
      c.yfTop = s[DIST_YF + at];
      s[DIST_YF + at] = 0f;
    }
    for (int i = 0; i < c.n; i += L) {
      FloatVector lt = FloatVector.fromArray(S, s, DIST_LOSS + i).sub(lossComp);
      FloatVector ln = lt.add(lossAcc);
      lossComp = ln.sub(lossAcc).sub(lt);
      lossAcc = ln;
      FloatVector yt = FloatVector.fromArray(S, s, DIST_YF + i).sub(yfComp);
      FloatVector yn = yt.add(yfAcc);
      yfComp = yn.sub(yfAcc).sub(yt);
      yfAcc = yn;
    }
    ONE.mul(lossAcc).sub(lossComp).intoArray(s, RED);
    c.sum = sumLanes(s, RED);
    ONE.mul(yfAcc).sub(yfComp).intoArray(s, RED);
    c.sum2 = sumLanes(s, RED);
  }

  /**
   * Softmax with a target distribution (dense targets, or class indices with label smoothing) over
   * at most this many classes: groups of L rows transposed to class-major order, one row per lane
   * ({@link #SOFTMAX_DIST_SMALL}), so that the row max, the sum of the exponentials and sum_c y_c
   * F_c are lane-wise operations and no pass runs per row. Above it, row by row ({@link
   * #softmaxDistRow}), which every width took before d9074c2 (and the scalar kernel below L
   * classes). Paired A/B against that (two class loaders, checks off, JDK 17, gamma 2): at 512
   * bits, dense targets 30.7x at 4096 x 10 (13 to 387 Melem/s), 4.2x at 4096 x 16, 1.57x at 4096 x
   * 64; label smoothing 0.1 with class indices 27.0x, 4.6x, 1.82x at 10, 16 and 64 classes; JDK 25
   * at 4096 x 16: 4.5x and 5.1x. The limit, against the row-by-row passes as they are now (p from
   * the row's exponentials; 262144 logits each): 512 bits 1.49x at 64 classes, 1.08x at 96, 0.94x
   * at 112, 0.99x at 128; 256 bits (no gathers: transposed by scalar copies) 1.56x at 32, 1.13x at
   * 48, 0.95x at 64; 128 bits 1.23x at 32, 0.98x at 48, 0.86x at 64.
   */
  static final int DIST_SMALL_CLASSES = GATHER ? 96 : 48;

  static void distSmallLnQPass(Chunk c) {
    logInto(c.km, 3 * c.classes * L, 4 * c.classes * L, c.classes * L);
  }

  static void distSmallLnQFixPass(Chunk c) {
    if (c.p.gamma > LN_Q_FIX_GAMMA) {
      lnQFix(c.km, 3 * c.classes * L, 2 * c.classes * L, 4 * c.classes * L, c.classes * L);
    }
  }

  static void distSmallQPowGammaPass(Chunk c) {
    expScaledInto(c.km, 4 * c.classes * L, 4 * c.classes * L, c.classes * L, c.p.gamma);
  }

  private static final Pass[] SOFTMAX_DIST_SMALL = {
      pass("softmaxDistSmallIn"),
      pass("softmaxDistSmallExp"),
      pass("softmaxDistSmallLogSum"),
      pass("softmaxDistSmallP"),
      pass("softmaxDistSmallQ"),
      pass("softmaxDistSmallTerms"),
      pass("softmaxDistSmallOut")};
  private static final Pass[] SOFTMAX_DIST_SMALL_GENERAL_GAMMA = {
      SOFTMAX_DIST_SMALL[0], SOFTMAX_DIST_SMALL[1], SOFTMAX_DIST_SMALL[2], SOFTMAX_DIST_SMALL[3],
      SOFTMAX_DIST_SMALL[4],
      pass("distSmallLnQPass"),
      pass("distSmallLnQFixPass"),
      pass("distSmallQPowGammaPass"),
      SOFTMAX_DIST_SMALL[5], SOFTMAX_DIST_SMALL[6]};
  // Group lanes of the class-major distribution passes: the row's target class as a float (-1: an
  // ignored row or no row; 0 for every row of dense targets), max, ln sum exp(z - max), sum_c y_c
  // F_c as a float sum and its additions' summed rounding errors (DIST_SUM + DIST_SUM_ERR).
  // Class-major blocks in km, each of C L values (value j L + r: class j of row r), block i from i
  // C L: 0 the logits less the max, then ln p; 1 the targets; 2 p; 3 1 - p; 4 (1 - p)^gamma for
  // general gamma; 5 y F.
  private static final int DIST_T = ET;
  private static final int DIST_M = D;
  private static final int DIST_LS = OTHERS;
  private static final int DIST_SUM = COEF;
  private static final int DIST_SUM_ERR = AT_TARGET;
  /**
   * Per lane the least z - max of the row before it is held at -Float.MAX_VALUE: -inf where the
   * row's logits are more than the float range apart (H0 + 128: free in these passes).
   */
  private static final int DIST_RAW_MIN = H0 + 128;
  /**
   * Per lane the running sum of the exponentials and its error ({@link #softmaxDistSmallExp}), in
   * the scratch, not in registers (H0 is free in these passes): combined after the loop, vectors
   * carried through it were boxed by JDK 17's C2 (see {@link OneVsAllPasses#OVL_ACC}).
   */
  private static final int DIST_ACC = H0;
  private static final int DIST_COMP = H0 + 64;

  /**
   * Softmax with a target distribution over at most {@link #DIST_SMALL_CLASSES} classes, in
   * groups of L rows: dense targets y, or (y == null) class indices t smoothed by {@code
   * p.labelSmoothing} (an ignored row: loss 0, gradient 0). Returns the summed loss.
   */
  static double softmaxDistGroups(LossParams p, float[] z, int zOff, float[] y, int yOff,
      int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] perSample, int psOff) {
    Chunk c = CHUNK_ARGS.get();
    c.p = p;
    c.x = z;
    c.y = y;
    c.tArr = t;
    c.classes = classes;
    c.grad = grad;
    c.gradScale = gradScale;
    c.off = p.labelSmoothing / classes;
    c.on = 1f - p.labelSmoothing + c.off;
    Pass[] passes = p.gammaKind == LossParams.GAMMA_GENERAL ? SOFTMAX_DIST_SMALL_GENERAL_GAMMA
        : SOFTMAX_DIST_SMALL;
    if (c.km.length < 6 * classes * L) {
      c.km = new float[6 * classes * L];
    }
    double total = 0;
    try {
      for (int r0 = 0; r0 < rows; r0 += L) {
        c.xo = zOff + r0 * classes;
        c.yo = yOff + r0 * classes;
        c.to = tOff + r0;
        c.go = gOff + r0 * classes;
        c.n = Math.min(L, rows - r0);
        for (Pass pass : passes) {
          run(pass, c);
        }
        float[] loss = c.s;
        for (int r = 0; r < c.n; r++) {
          // NaN where ln p was held at -MAX_VALUE: the loss from it is not the row's, and a NaN
          // sends FocalLoss to the scalar kernel for it (FocalLoss#call)
          float l = loss[DIST_RAW_MIN + r] == Float.NEGATIVE_INFINITY ? Float.NaN
              : loss[LOSS + r];
          total += l;
          if (perSample != null) {
            perSample[psOff + r0 + r] = l;
          }
        }
      }
    } finally {
      c.x = null; // hold no caller array past the call
      c.y = null;
      c.tArr = null;
      c.grad = null;
      c.off = 0f;
      c.on = 1f;
    }
    return total;
  }

  /**
   * Class-major distribution pass: the group's targets into km block 1 (smoothed one-hot rows from
   * class indices: on at the target, off elsewhere, 0 in an ignored row), its logits into block 0
   * (0 in an ignored row or past the last row, whatever the row holds), the rows' targets as floats
   * into DIST_T and each row's max (a running lane-wise maximum over the classes) into DIST_M.
   */
  static void softmaxDistSmallIn(Chunk c) {
    float[] s = c.s;
    float[] z = c.x;
    float[] y = c.y;
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    int yAt = k * L;
    int n = c.n;
    int ignore = c.p.ignoreIndex;
    for (int r = 0; r < L; r++) {
      int target = r >= n ? ignore : y != null ? 0 : c.tArr[c.to + r];
      s[DIST_T + r] = target == ignore && (y == null || r >= n) ? -1f : target;
    }
    FloatVector tv = FloatVector.fromArray(S, s, DIST_T);
    VectorMask<Float> dead = tv.compare(LT, 0f);
    boolean gather = GATHER && n == L;
    int[] rowStarts = c.rowStarts(k);
    if (y == null) {
      FloatVector off = FloatVector.broadcast(S, c.off);
      for (int j = 0; j < k; j++) {
        off.blend(c.on, tv.compare(EQ, (float) j)).blend(0f, dead).intoArray(b, yAt + j * L);
      }
    } else if (gather) {
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, y, c.yo + j, rowStarts, 0).intoArray(b, yAt + j * L);
      }
    } else {
      for (int j = 0; j < k; j++) {
        for (int r = 0; r < L; r++) {
          b[yAt + j * L + r] = r < n ? y[c.yo + r * k + j] : 0f;
        }
      }
    }
    if (gather) {
      for (int j = 0; j < k; j++) {
        FloatVector.fromArray(S, z, c.xo + j, rowStarts, 0).blend(0f, dead)
            .intoArray(b, lnAt + j * L);
      }
    } else {
      for (int j = 0; j < k; j++) {
        for (int r = 0; r < L; r++) {
          b[lnAt + j * L + r] = r < n && s[DIST_T + r] >= 0f ? z[c.xo + r * k + j] : 0f;
        }
      }
    }
    // two running maxima, as softmaxSmallIn
    FloatVector m = FloatVector.fromArray(S, b, lnAt);
    FloatVector m1 = m;
    int j = 1;
    for (; j + 1 < k; j += 2) {
      FloatVector v0 = FloatVector.fromArray(S, b, lnAt + j * L);
      FloatVector v1 = FloatVector.fromArray(S, b, lnAt + (j + 1) * L);
      m = v0.blend(m, v0.compare(LE, m));
      m1 = v1.blend(m1, v1.compare(LE, m1));
    }
    if (j < k) {
      FloatVector v = FloatVector.fromArray(S, b, lnAt + j * L);
      m = v.blend(m, v.compare(LE, m));
    }
    ONE.mul(m).blend(m1, m1.compare(GT, m)).intoArray(s, DIST_M);
  }

  /**
   * Class-major distribution pass: z - max in place in km block 0, and into DIST_ACC and DIST_COMP
   * the sum of exp(z - max) over the classes (in [1, C]) and the sum of its additions' rounding
   * errors, lane-wise ({@link #softmaxDistSmallLogSum} takes the logarithm).
   */
  static void softmaxDistSmallExp(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    FloatVector m = FloatVector.fromArray(S, s, DIST_M);
    // the sum and its error live in the scratch (DIST_ACC, DIST_COMP), not in registers
    FloatVector zeros = FloatVector.zero(S);
    zeros.intoArray(s, DIST_ACC);
    zeros.intoArray(s, DIST_COMP);
    FloatVector rawMin = zeros;
    for (int j = 0; j < k; j++) {
      // at least -Float.MAX_VALUE: a logit more than the float range below the max (z - max
      // overflowed to -inf) would make ln p / q and 0 x ln p NaN (EdgeCaseTest); the row's loss
      // is then not this one, and DIST_RAW_MIN says so (see softmaxDistGroups)
      FloatVector raw = FloatVector.fromArray(S, b, lnAt + j * L).sub(m);
      rawMin = raw.min(rawMin);
      FloatVector d = raw.max(-Float.MAX_VALUE);
      d.intoArray(b, lnAt + j * L);
      FloatVector term = VectorMath.expNonPositive(d);
      FloatVector acc = FloatVector.fromArray(S, s, DIST_ACC);
      FloatVector next = term.add(acc);
      // TwoSum (Knuth): acc + term - next exactly, whichever addend is larger. Kahan's
      // compensation, used before, is exact only while the running sum is the larger addend, and
      // bounds the error by ulps of the whole sum: where one class holds nearly all the mass, ln p
      // = -ln(1 + others) is far smaller than that (6.6e-4 of the loss of {0, 9.35} with target 1
      // at gamma 0, a differential fuzzer's find; EdgeCaseTest); summed errors as here keep it.
      FloatVector accPart = next.sub(term);
      FloatVector termPart = next.sub(accPart);
      acc.sub(accPart).add(term.sub(termPart)).add(FloatVector.fromArray(S, s, DIST_COMP))
          .intoArray(s, DIST_COMP);
      next.intoArray(s, DIST_ACC);
    }
    ONE.mul(rawMin).intoArray(s, DIST_RAW_MIN);
  }

  /**
   * Class-major distribution pass: ln(sum + err), from {@link #softmaxDistSmallExp}'s sum and
   * error, as ln(sum) + err / sum into DIST_LS (where one class holds nearly all the mass, the sum
   * is 1 + others and its rounding to float, up to 6e-8, was a large part of ln p = -ln(1 +
   * others); as in softmaxGroupLog). A pass of its own: at the end of the loop's pass, JDK 17
   * boxed it (with the TwoSum, three vectors per group of rows, 49 KB per call at 4096 x 10 and
   * 512 bits; with Kahan's compensation before it, 156 KB per call at 4096 x 20 and 256 bits in
   * some JVM runs, 0 in others).
   */
  static void softmaxDistSmallLogSum(Chunk c) {
    float[] s = c.s;
    FloatVector sum = FloatVector.fromArray(S, s, DIST_ACC);
    VectorMath.logNormal(sum).add(FloatVector.fromArray(S, s, DIST_COMP).div(sum))
        .intoArray(s, DIST_LS);
  }

  /**
   * Class-major distribution pass: ln p = (z - max) - ln sum in place in km block 0, p = exp(ln p)
   * into block 2. {@link #softmaxDistSmallQ} then takes q from ln p: two passes, one function
   * each, because one loop holding both was left to the Java fallback by JDK 17's C2 in a caller's
   * hot loop (6 bytes per element at 65536 x 16; HotLoopTest).
   */
  static void softmaxDistSmallP(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    int pAt = 2 * k * L;
    FloatVector logSum = FloatVector.fromArray(S, s, DIST_LS);
    for (int i = 0; i < k * L; i += L) {
      FloatVector lnp = FloatVector.fromArray(S, b, lnAt + i).sub(logSum);
      lnp.intoArray(b, lnAt + i);
      VectorMath.exp(lnp).intoArray(b, pAt + i);
    }
  }

  /**
   * Class-major distribution pass after {@link #softmaxDistSmallP}: q = 1 - p = -expm1(ln p) into
   * km block 3 (exact to an ulp or two of q however near 1 p is).
   */
  static void softmaxDistSmallQ(Chunk c) {
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    int qAt = 3 * k * L;
    for (int i = 0; i < k * L; i += L) {
      VectorMath.expm1(FloatVector.fromArray(S, b, lnAt + i)).neg().intoArray(b, qAt + i);
    }
  }

  /**
   * Class-major distribution pass, as {@link #softmaxDistTerms} and {@link #softmaxDistSums} with
   * the class's alpha a scalar: y_c F_c into km block 5, each row's loss -sum_c alpha_c y_c
   * q_c^gamma ln p_c into LOSS (a lane-wise sum with Kahan's compensation) and sum_c y_c F_c into
   * DIST_SUM and DIST_SUM_ERR (a lane-wise sum and its additions' rounding errors, TwoSum).
   */
  static void softmaxDistSmallTerms(Chunk c) {
    LossParams p = c.p;
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    int yAt = k * L;
    int pAt = 2 * k * L;
    int qAt = 3 * k * L;
    int qgAt = 4 * k * L;
    int yfAt = 5 * k * L;
    int kind = p.gammaKind;
    float gamma = p.gamma;
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector zeros = FloatVector.zero(S);
    FloatVector lossAcc = zeros;
    FloatVector lossComp = zeros;
    FloatVector yfAcc = zeros;
    FloatVector yfErr = zeros;
    for (int j = 0; j < k; j++) {
      int i = j * L;
      FloatVector ay = FloatVector.fromArray(S, b, yAt + i).mul(p.alphaOf(j));
      FloatVector lnp = FloatVector.fromArray(S, b, lnAt + i);
      FloatVector q = FloatVector.fromArray(S, b, qAt + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q
          : kind == 3 ? q.mul(q).mul(q) : FloatVector.fromArray(S, b, qgAt + i);
      FloatVector lt = ay.mul(qg).mul(lnp).neg().sub(lossComp);
      FloatVector ln = lt.add(lossAcc);
      lossComp = ln.sub(lossAcc).sub(lt);
      lossAcc = ln;
      FloatVector pc = FloatVector.fromArray(S, b, pAt + i);
      FloatVector ratio = lnp.div(q).blend(-1f, q.compare(EQ, 0f)); // -> -1 as p -> 1
      // scaled by 1/N before alpha y (see softmaxDistTerms)
      FloatVector yf = ay.mul(pc.mul(qg).mul(ratio).mul(gamma).sub(qg).mul(c.gradScale));
      yf.intoArray(b, yfAt + i);
      // TwoSum, not Kahan: the largest class's term, often far above the others, may come after
      // them, and Kahan's compensation then loses what they added (see softmaxDistSmallExp)
      FloatVector yn = yf.add(yfAcc);
      FloatVector accPart = yn.sub(yf);
      FloatVector termPart = yn.sub(accPart);
      yfErr = ONE.mul(yfAcc).sub(accPart).add(yf.sub(termPart)).add(yfErr);
      yfAcc = yn;
    }
    ONE.mul(lossAcc).sub(lossComp).intoArray(s, LOSS);
    // the sum as its two parts, yfAcc + yfErr: softmaxDistSmallOut takes the largest class's
    // term out of it exactly
    ONE.mul(yfAcc).intoArray(s, DIST_SUM);
    ONE.mul(yfErr).intoArray(s, DIST_SUM_ERR);
  }

  /**
   * Class-major distribution pass: dl/dz_j = gradScale (y_j F_j - p_j sum_c y_c F_c) (y_j F_j as
   * stored, scaled already), 0 in an ignored row, back to the rows' order. Where q_j < 1/2 in float
   * (p_j > 1/2: a row's largest class; two classes within an ulp of 1/2 at most, where either form
   * is accurate) as y_j F_j q_j - p_j (sum_c y_c F_c - y_j F_j), the sum taken apart from its two
   * float parts (sum - y_j F_j is exact when the others' terms are small; it is 0 for one-hot
   * targets): the plain form's two terms are both near y_j F_j there and cancel to about y_j F_j
   * q_j, leaving an ulp of y_j F_j (0.4% of -6.5e-6 for a one-hot row at p = 1 - 6.5e-6;
   * EdgeCaseTest).
   */
  static void softmaxDistSmallOut(Chunk c) {
    float[] grad = c.grad;
    if (grad == null) {
      return;
    }
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    int pAt = 2 * k * L;
    int qAt = 3 * k * L;
    int yfAt = 5 * k * L;
    int n = c.n;
    int go = c.go;
    FloatVector hi = FloatVector.fromArray(S, s, DIST_SUM);
    FloatVector lo = FloatVector.fromArray(S, s, DIST_SUM_ERR);
    FloatVector minusSum = hi.add(lo).neg();
    VectorMask<Float> dead = FloatVector.fromArray(S, s, DIST_T).compare(LT, 0f);
    boolean scatter = GATHER && n == L;
    int[] rowStarts = c.rowStarts(k);
    for (int j = 0; j < k; j++) {
      int i = j * L;
      FloatVector pc = FloatVector.fromArray(S, b, pAt + i);
      FloatVector q = FloatVector.fromArray(S, b, qAt + i);
      FloatVector yf = FloatVector.fromArray(S, b, yfAt + i);
      FloatVector plain = pc.fma(minusSum, yf);
      FloatVector minusRest = yf.sub(hi).sub(lo); // -(sum_c y_c F_c - y_j F_j)
      FloatVector top = pc.fma(minusRest, yf.mul(q));
      FloatVector g = plain.blend(top, q.compare(LT, 0.5f)).blend(0f, dead);
      if (scatter) {
        g.intoArray(grad, go + j, rowStarts, 0);
      } else {
        g.intoArray(b, yfAt + i);
      }
    }
    if (!scatter) {
      for (int r = 0; r < n; r++) {
        int row = go + r * k;
        for (int j = 0; j < k; j++) {
          grad[row + j] = b[yfAt + j * L + r];
        }
      }
    }
  }
}
