package dev.focalsimd.kernels.vector;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND_NOT;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;
import static jdk.incubator.vector.VectorOperators.NE;

import dev.focalsimd.kernels.FocalKernel;
import dev.focalsimd.kernels.HessianKernel;
import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.ScalarHessianKernel;
import dev.focalsimd.kernels.ScalarKernel;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD kernels, on the preferred float species. The numerics are those of {@link ScalarKernel}
 * (see there), in float, with the elementary functions of {@link VectorMath}.
 *
 * <p>How the code is shaped for C2. A method that takes or returns vectors must be inlined where
 * it is called, or its vectors are boxed (allocation, and ~50x slower); C2 inlines nothing more
 * once a compilation holds about 18,000 IR nodes (NodeCountInliningCutoff), which one
 * {@link VectorMath} function plus a few dozen lane-wise operations already reach, and it does
 * not inline a method it already compiled on its own into more than 2,500 bytes (InlineSmallCode),
 * or 625 where it counts the call as cold (outside a loop, until the caller has run it about 100
 * times). Whether a small method was compiled on its own before its caller depends on timing, so
 * the methods that take vectors are {@link VectorMath}'s, which compile on their own to about 750
 * bytes at 512 bits, and {@link #clip} and {@link #selectBySign}, all called in loops but one (a
 * logarithm at the end of {@code softmaxDistSmallLogSum}); with {@code -XX:InlineSmallCode=500},
 * every form allocates. So the work is
 * split into passes: each pass is one small loop over a chunk of {@link #CHUNK} elements (for
 * one-vs-all and the sigmoid {@link #LONG_CHUNK}, or {@link #STREAM_CHUNK} in large batches) with
 * at most one elementary function, passes hand their results over in per-thread scratch arrays
 * that stay in L1, and vectors never cross a method boundary except into {@link VectorMath} and a
 * few tiny helpers. A pass that grows past the cutoff fails at its last operations (a store or the
 * sum is left to the Java fallback, which boxes a vector every iteration) in some JVM runs and not
 * in others, depending on the profile: the gradient and the loss sum are therefore separate
 * passes for general gamma, and share one pass only where gamma is 0 to 3 (powers by
 * multiplication) with the logarithm in a pass of its own (a one-vs-all or sigmoid loop holding the
 * logarithm, the gradient and the loss boxed its last store in about half the runs with the value
 * checks on). Every pass, the validation scans included, is a static method called through a
 * method handle ({@link #run}), which C2 never inlines into the caller, so each pass stays its own
 * small compilation (its own, or its handle's customized form's) and never becomes part of a
 * caller's (a segment's, a trainer's or a benchmark's loop).
 *
 * <p>No vector chosen on two paths (a ternary such as {@code kind == 2 ? q : ones}, a loop's
 * accumulator) is the receiver of an operation, only an argument ({@code q.mul(qg)}, {@code
 * term.add(acc)}, not {@code qg.mul(q)} or {@code acc.add(term)}), or it is re-typed first by
 * {@code ONE.mul(v)} ({@link #ONE}). C2 on JDK 17 types such a value
 * as FloatVector, not its exact class, and dispatches its operations through the Vector API's type
 * profiles, which are shared by the whole JVM; depending on what ran before (a first call over a
 * large batch, other configurations of the library) they are left virtual, and each allocates a
 * vector: the sigmoid at 8192 x 1000 with the checks on allocated 191 MB per call in fresh JVMs
 * whose first call was the full batch ({@code JitHistoryBench}). Targets are therefore always read
 * from an array, never made from a class index in the loop ({@link #targetRowInto}). As an argument
 * such a value is checked against the receiver's exact class inside the operation, which C2 then
 * knows. Vector API code on other species in the same JVM (another library) makes the profiles
 * behind the reinterpreting casts polymorphic as well, which JDK 17 does not survive without
 * boxing; JDK 25 is not affected.
 *
 * <p>Those checks are traps only while the compilation has traps to spare: C2 adds the traps
 * recorded against each method it inlines to the compilation's total, once per inlining, and where
 * a kind's total reaches {@code -XX:PerMethodTrapLimit} (100) it compiles that kind's checks with
 * slow paths instead, a virtual call for a type check on a vector, which boxes the vector. Every
 * unary and binary operation inlines {@code VectorOperators.opKind}, whose cast had taken 4 or 5
 * {@code class_check} traps by the time the passes compiled, so a pass of two dozen operations
 * stood at 96 (no boxing) or 120 (boxing), by one trap in a JDK method during warm-up. {@link
 * OperatorProfiles} runs every kind of operator before the kernel does, and that cast takes no
 * trap: no compilation of the kernel's reaches 3 traps of a kind (JDK 17, -XX:+LogCompilation).
 *
 * <p>Segments ({@code ovaSegment}, {@code sigmoidSegment}) cover a whole block of rows (dense
 * targets, class indices; per-sample output over at most {@code PER_SAMPLE_BLOCK_CLASSES} classes)
 * or one row (per-sample output over more classes; one-vs-all from logits beyond its class-major
 * groups; a sigmoid call with ignored rows runs each run of rows between them as a block). No
 * masked loads or stores: a segment's last vector ends at the segment's end and overlaps the one
 * before, its lanes already counted left out of the sums (recomputing them writes the same
 * gradient); in-place passes end with a scalar tail. Rows narrower than a vector go to {@link
 * ScalarKernel}, except the block segments and the class-major groups (one row per lane, whatever
 * the width: softmax, one-vs-all from logits). Losses are summed in float lanes within a chunk
 * (four interleaved Kahan sums), then in double; per-sample losses of a block segment are summed
 * per row in double ({@code rowSums}).
 *
 * <p>Softmax with class indices works on groups of L rows. Where a row is exactly one vector of
 * 16 lanes ({@code SOFTMAX_ROW}) each row's max is a reduction across its lanes and its others'
 * sum is folded to L/4 lanes, which the group gathers into lanes; otherwise, up to {@code
 * SMALL_CLASSES} classes, a group is transposed to class-major order (one row per lane), so the
 * row max, the sum of the exponentials and the target's exponential are lane-wise operations; with
 * more classes each row is a run of vectors whose lane-wise max and sum are folded to L/4 lanes and
 * gathered into the group's lanes. The logarithm and the focal terms are then lane-wise over the
 * group's rows. Except in the class-major case, one run of the passes covers up to 64 rows (64/L
 * groups; {@code ROW_GROUPS}, {@code BLOCK_LOGITS}): a pass's call and setup were up to a sixth of
 * the time at 16 classes.
 *
 * <p>Java's {@code max} and {@code min} (NaN and signed-zero rules) cost several instructions each
 * on x86: clamps are compare-and-blend, or, for one-vs-all's clip of probabilities to [lo, hi]
 * with 0 < lo, an integer max and min of the bits (one instruction each). Within a pass the time
 * follows the number of vector instructions (removing one or two per element measured 2% to 9%;
 * a Kahan sum without its dependency chain was no faster), except where a loop is one chain of
 * dependent operations: the row max runs as several independent maxima.
 */
public final class VectorKernel implements FocalKernel, HessianKernel {

  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  /** Elements per pass; a multiple of every species length. */
  static final int CHUNK = 512;
  /**
   * Elements per pass of one-vs-all on probabilities and the sigmoid where {@link
   * LossParams#streaming}, with the data beyond L2 (paired A/B against 512, checks off, JDK 17,
   * Zen 4, medians of several runs: one-vs-all 1.03x to 1.09x at 65536 x 16, 16384 x 80 and
   * 8192 x 1000, the sigmoid 1.11x to 1.16x; single runs 0.92x to 1.34x; 128 was slower than
   * 256; gamma 2.5, whose passes add a logarithm and an exponential: 1.05x to 1.18x in 10 runs
   * over 65536 x 16, 16384 x 80 and 8192 x 1000; docs/performance.md, "How the vector kernel is
   * shaped"). Our reading: shorter chunks start the next chunk's reads sooner, while between them
   * only the prefetchers keep the memory busy. Not for batches in L2, where longer chunks win
   * ({@link #LONG_CHUNK}; at 4096 x 16 with 256: the sigmoid 0.90x, one-vs-all 0.82x).
   */
  static final int STREAM_CHUNK = 256;
  /**
   * Elements per pass of one-vs-all on probabilities and the sigmoid for batches in L2 (not
   * {@link LossParams#streaming}). Paired A/B against 512, checks off, JDK 17, Zen
   * 4, 4096 x 16, 3 runs each: one-vs-all 1.01x to 1.07x, the sigmoid 1.04x to 1.08x (with 1024
   * for every form, before the streaming chunks: 1.07x to 1.14x and 1.06x to 1.07x); 2048 against
   * 1024: one-vs-all 1.10x, the sigmoid 0.83x. Our reading: fewer chunks, less of each chunk's
   * fixed cost.
   */
  static final int LONG_CHUNK = 1024;
  /** Elements per region of the per-thread chunk scratch array: the longest chunk. */
  private static final int REGION = 1024;
  // Regions of the per-thread chunk scratch array.
  private static final int Q = 0;
  private static final int PT = REGION;
  private static final int LN = 2 * REGION;
  private static final int QG = 3 * REGION;
  private static final int E = 4 * REGION;
  // Softmax with class indices: per-row values of a group of L rows.
  private static final int D = 5 * REGION;
  private static final int OTHERS = D + 64;
  private static final int ET = OTHERS + 64;
  private static final int ALPHA = ET + 64;
  private static final int LOSS = ALPHA + 64;
  private static final int COEF = LOSS + 64;
  private static final int AT_TARGET = COEF + 64;
  /** One-hot targets of a chunk, from class indices. */
  private static final int YS = AT_TARGET + 64;
  /** Lanes of a vector being summed. */
  private static final int RED = YS + REGION;
  // Six more for the gradient-and-Hessian passes.
  private static final int H0 = RED + 64;
  private static final int H1 = H0 + REGION;
  private static final int H2 = H1 + REGION;
  private static final int H3 = H2 + REGION;
  private static final int LK = H3 + REGION; // split logarithm: exponent
  private static final int LF = LK + REGION; // split logarithm: reduced mantissa - 1
  /**
   * Terms to sum, vectors one after the other: a chunk's losses ({@link #sumTerms}, up to REGION),
   * a class-major softmax group's exponentials (SMALL_CLASSES vectors), a softmax group's rows'
   * folded partial sums, gathered (L/4 vectors).
   */
  private static final int TERMS = LF + REGION;
  // 32: at least SMALL_CLASSES (a forward reference by name is not allowed here)
  private static final int SCRATCH_SIZE = TERMS + Math.max(REGION, Math.max(32, L) * L);

  /** The arguments of one chunk, handed to every pass; one per thread, reused. */
  private static final class Chunk {
    final float[] s = new float[SCRATCH_SIZE];
    LossParams p;
    float[] x;
    int xo;
    float[] y;
    int yo;
    int target;
    int col0;
    int n;
    int done;
    int classes;
    float[] grad;
    int go;
    float gradScale;
    /** One-vs-all from logits: 1 - p is in x at this distance from p; -1: compute 1 - p. */
    int ompOff = -1;
    /** Softmax and the softmax Hessian: the class indices and the group's first. */
    int[] tArr;
    int to;
    /**
     * Softmax with class indices: the groups of L rows (L lanes) that one run of the passes covers:
     * {@link #ROW_GROUPS} for {@link #SOFTMAX_ROW}, up to that for {@link #SOFTMAX} (see {@link
     * #BLOCK_LOGITS}), else 1.
     */
    int groups = 1;
    /**
     * {@link #ovaLogitsGroups}: the loss pass's per-element losses are also added per lane (one
     * row of the class-major group per lane) into laneLoss, in double.
     */
    boolean laneSums;
    final double[] laneLoss = new double[64];
    /** {@link #perSampleBlock}: the output, its offset, and the sum so far of a row begun. */
    float[] perSample;
    int psOff;
    final double[] rowPart = new double[4];
    /** Hessian passes: the second output and its offset. */
    float[] hess;
    int ho;
    /** Softmax Hessian: class-major copies of a chunk of rows (logits, gradient, Hessian). */
    float[] km = new float[0];
    /** Softmax Hessian of fewer than L rows: the rows padded to L (logits, gradient, Hessian). */
    float[] pad = new float[0];
    final int[] padT = new int[L];
    /** The loss pass's result: the chunk's summed loss. */
    double sum;
    /**
     * {@link #ovaPipelined}: the piece whose gradient pass runs while c holds the next piece (its
     * n, go, col0 and done).
     */
    int prevN;
    int prevGo;
    int prevCol0;
    int prevDone;
    /** A validation scan's result: whether every value passed. */
    boolean ok;
    /** One-vs-all from logits: the row's probabilities (and 1 - p), and its largest class. */
    float[] prob;
    int top;
    /**
     * One-vs-all from logits: the Jacobian pass found the row's gradient cancelled beyond what
     * float dl/dp carries (see {@link #JACOBIAN_CONDITION_LIMIT}); the row is redone in double.
     */
    boolean illConditioned;
    /**
     * Softmax with a target distribution: the chunk's sum_c y_c F_c, and its segment total; row by
     * row, the row's first largest class left out of them, its y F in yfTop.
     */
    double sum2;
    double total2;
    float yfTop;
    /**
     * Softmax: the row's max and ln sum_c exp(z_c - max); ln p_c = (z_c - max) - logSum, never z_c
     * - lse with lse rounded to float (an ulp of a large lse would be a large error in p).
     */
    float max;
    float logSum;
    /** Softmax with a target distribution, row by row: 1 / sum_c exp(z_c - max). */
    float inv;
    /**
     * Softmax with a target distribution, row by row: 1 - p of the row's first largest class,
     * the others' sum over the sum.
     */
    float qTop;
    /**
     * Softmax with a target distribution, row by row: the row's exponentials exp(z - max), indexed
     * from the row's start (xo - rowXo + i).
     */
    float[] row = new float[0];
    int rowXo;
    /**
     * The values of a single row's target row (see {@link #targetRowInto}): 0 and 1, or softmax's
     * label smoothing off / on values while a smoothed row runs.
     */
    float off;
    float on = 1f;

    /** r * classes for r in [0, L): the gather indices of a group's column. */
    int[] rowStarts = new int[L];
    int rowStartsClasses;

    int[] rowStarts(int classes) {
      if (rowStartsClasses != classes) {
        for (int r = 0; r < L; r++) {
          rowStarts[r] = r * classes;
        }
        rowStartsClasses = classes;
      }
      return rowStarts;
    }

    float[] row(int classes) {
      if (row.length < classes) {
        row = new float[classes];
      }
      return row;
    }
  }

  /**
   * One loop over a chunk: a static method of this class that takes the {@link Chunk}, called
   * through a method handle ({@link #run}).
   */
  private static final class Pass {
    private final MethodHandle body;

    private Pass(MethodHandle body) {
      this.body = body;
    }
  }

  private static final MethodType PASS_TYPE = MethodType.methodType(void.class, Chunk.class);

  /** The pass that is the static method name(Chunk) of this class. */
  private static Pass pass(String name) {
    try {
      return new Pass(MethodHandles.lookup().findStatic(VectorKernel.class, name, PASS_TYPE));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("no pass " + name, e);
    }
  }

  private static final ThreadLocal<Chunk> CHUNK_ARGS = ThreadLocal.withInitial(Chunk::new);

  /**
   * Runs a pass, through its method handle, which C2 cannot inline here: the handle is read from a
   * field it does not take as constant (a final field of an ordinary class), and a call through a
   * handle that is not a constant is never inlined (it goes to the handle's own compiled form), so
   * each pass is its own small compilation, never part of its caller's (a segment's, a trainer's
   * or a benchmark's loop), whose size would keep C2 from intrinsifying the pass's vector
   * operations: boxing, an allocation per vector. The interface call this replaced was inlined
   * wherever C2 knew the receiver: a pass in a static final field always (harmless only while the
   * pass's method was too big to inline), and, by the call's type profile, the one or two passes
   * that a run of calls had seen most. On JDK 17, at 256 bits, in 1 JVM of 3 with the machine
   * loaded, {@link #ovaPipelined} took in the logarithm's pass that way and left its vector
   * operations to the Java fallback: 207 MB per call at 65536 x 16, in every measurement of that
   * JVM ({@code HotLoopTest}'s forms; JFR's allocation stacks: ovaLnPt, inlined into run, inlined
   * into ovaPipelined).
   */
  private static void run(Pass pass, Chunk c) {
    try {
      pass.body.invokeExact(c);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) { // the passes throw no checked exception
      throw new AssertionError(e);
    }
  }

  // The passes that are a call of a loop with arguments from the chunk (the others are methods
  // of their own below).

  private static void ovaProbsSignPass(Chunk c) {
    ovaProbsSign(c.p, c.x, c.xo, c.y, c.yo, c.n, c.s);
  }

  private static void ovaLnPtPass(Chunk c) {
    ovaLnPt(c.s, c.n);
  }

  private static void ovaGradLossPass(Chunk c) {
    c.sum = ovaGradLoss(c, c.n, c.go, c.col0, c.done, false);
  }

  private static void ovaGradLossNextPass(Chunk c) {
    c.sum = ovaGradLoss(c, c.prevN, c.prevGo, c.prevCol0, c.prevDone, true);
  }

  private static void ovaProbsPass(Chunk c) {
    ovaProbs(c.p, c.x, c.xo, c.y, c.yo, c.n, c.s);
  }

  private static void lnQPass(Chunk c) {
    logInto(c.s, Q, QG, c.n);
  }

  private static void qPowGammaPass(Chunk c) {
    expScaledInto(c.s, QG, QG, c.n, c.p.gamma);
  }

  private static void ovaProbsLogitsPass(Chunk c) {
    ovaProbsLogits(c.p, c.x, c.xo, c.ompOff, c.y, c.yo, c.n, c.s);
  }

  private static void groupLnQPass(Chunk c) {
    logInto(c.s, Q, QG, c.groups * L);
  }

  private static void groupQPowGammaPass(Chunk c) {
    expScaledInto(c.s, QG, QG, c.groups * L, c.p.gamma);
  }

  private static void expNegAbsPass(Chunk c) {
    expNegAbsInto(c.x, c.xo, c.s, c.n);
  }

  private static void sigmoidLog1pPass(Chunk c) {
    sigmoidLog1p(c.s, c.n);
  }

  private static void sigmoidTermsPass(Chunk c) {
    sigmoidTerms(c, false);
  }

  private static void sigmoidTermsGeneralGammaPass(Chunk c) {
    sigmoidTerms(c, true);
  }

  private static void softmaxJacobianPass(Chunk c) {
    softmaxJacobian(c.prob, c.top, c.classes, c.grad, c.go, c.gradScale);
  }

  private static void distSmallLnQPass(Chunk c) {
    logInto(c.km, 3 * c.classes * L, 4 * c.classes * L, c.classes * L);
  }

  private static void distSmallQPowGammaPass(Chunk c) {
    expScaledInto(c.km, 4 * c.classes * L, 4 * c.classes * L, c.classes * L, c.p.gamma);
  }

  private static void ln1pEReducePass(Chunk c) {
    lnReduce(c.s, E, 1f, c.n);
  }

  private static void ln1pEFinishPass(Chunk c) {
    lnFinish(c.s, E, 1f, LN, c.n);
  }

  private static void lnQReducePass(Chunk c) {
    lnReduce(c.s, Q, 0f, c.n);
  }

  private static void lnQFinishPass(Chunk c) {
    lnFinish(c.s, Q, 0f, QG, c.n);
  }

  private static void ln1pRestReducePass(Chunk c) {
    lnReduce(c.s, SM_REST, 1f, c.n);
  }

  private static void ln1pRestFinishPass(Chunk c) {
    lnFinish(c.s, SM_REST, 1f, SM_L1P, c.n);
  }

  private static void allFinitePass(Chunk c) {
    c.ok = allFinite(c.x, c.xo, c.n);
  }

  private static void allInUnitPass(Chunk c) {
    c.ok = allInUnit(c.x, c.xo, c.n) || allInUnitExact(c.x, c.xo, c.n);
  }

  private static final Pass[] OVA = {
      pass("ovaProbsSignPass"),
      pass("ovaLnPtPass"),
      pass("ovaGradLossPass")};
  /**
   * {@link #ovaPipelined}'s gradient pass of the previous piece, with the next piece's first pass
   * (c holds the next piece): a pass of its own, called through {@link #run} like every pass.
   */
  private static final Pass OVA_GRAD_NEXT =
      pass("ovaGradLossNextPass");
  private static final Pass[] OVA_GENERAL_GAMMA = {
      pass("ovaProbsPass"),
      OVA[1],
      pass("lnQPass"),
      pass("qPowGammaPass"),
      pass("ovaGrad"),
      pass("ovaLoss")};
  private static final Pass[] OVA_LOGITS = {
      pass("ovaProbsLogitsPass"),
      OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[4], OVA_GENERAL_GAMMA[5]};
  private static final Pass[] OVA_LOGITS_GENERAL_GAMMA = {
      OVA_LOGITS[0], OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[2], OVA_GENERAL_GAMMA[3],
      OVA_GENERAL_GAMMA[4], OVA_GENERAL_GAMMA[5]};
  private static final Pass[] SOFTMAX_DIST = {
      pass("softmaxPFromExp"),
      pass("softmaxQFromP"),
      pass("softmaxDistTerms"),
      pass("softmaxDistSums")};
  private static final Pass[] SOFTMAX_DIST_GENERAL_GAMMA = {
      SOFTMAX_DIST[0], SOFTMAX_DIST[1],
      pass("lnQPass"),
      pass("qPowGammaPass"),
      SOFTMAX_DIST[2], SOFTMAX_DIST[3]};
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
      pass("groupQPowGammaPass"),
      SOFTMAX[4], SOFTMAX[5]};
  private static final Pass[] SIGMOID = {
      pass("expNegAbsPass"),
      pass("sigmoidLog1pPass"),
      pass("sigmoidTermsPass"),
      pass("sigmoidGradLoss")};
  private static final Pass[] SIGMOID_GENERAL_GAMMA = {
      SIGMOID[0], SIGMOID[1], pass("sigmoidTermsGeneralGammaPass"),
      OVA_GENERAL_GAMMA[2], OVA_GENERAL_GAMMA[3],
      pass("sigmoidGrad"), pass("sigmoidLoss")};
  /**
   * Per-sample losses over many rows at once ({@link #perSampleBlock}), gamma 0 to 3: the passes
   * whose loss pass leaves each element's loss in TERMS (those of general gamma, without its
   * power passes).
   */
  private static final Pass[] OVA_TERMS = {
      OVA_GENERAL_GAMMA[0], OVA_GENERAL_GAMMA[1], OVA_GENERAL_GAMMA[4], OVA_GENERAL_GAMMA[5]};
  private static final Pass[] SIGMOID_TERMS = {
      SIGMOID[0], SIGMOID[1], SIGMOID_GENERAL_GAMMA[2], SIGMOID_GENERAL_GAMMA[5],
      SIGMOID_GENERAL_GAMMA[6]};

  /**
   * Runs the passes over {@code len} elements that start at column 0 of a row, in chunks, then
   * one last vector ending at len where len is not a multiple of L (its lanes below the chunks'
   * end were counted already); returns the summed loss. Targets: dense y; or, with class indices
   * t over whole rows, each chunk's one-hot targets written to the scratch first (a chunk at a
   * time, in L1: no dense target array is built); or (both null) the one-hot row of {@code
   * target} for a single row. len >= L.
   */
  private static double segment(Pass[] passes, LossParams p, float[] x, int xOff, float[] y,
      int yOff, int[] t, int tOff, int target, int len, int classes, float[] grad, int gOff,
      float gradScale) {
    return segment(passes, p, x, xOff, y, yOff, t, tOff, target, len, classes, grad, gOff,
        gradScale, null, 0);
  }

  /** {@link #segment} that also hands the passes a second output, hess (Hessian passes). */
  private static double segment(Pass[] passes, LossParams p, float[] x, int xOff, float[] y,
      int yOff, int[] t, int tOff, int target, int len, int classes, float[] grad, int gOff,
      float gradScale, float[] hess, int hOff) {
    Chunk c = CHUNK_ARGS.get();
    c.hess = hess;
    c.total2 = 0;
    c.p = p;
    c.x = x;
    c.y = y != null ? y : c.s;
    c.target = target;
    c.classes = classes;
    c.grad = grad;
    c.gradScale = gradScale;
    int chunk = CHUNK;
    if (hess == null && (passes == OVA || passes == OVA_GENERAL_GAMMA || passes == OVA_TERMS
        || passes == SIGMOID || passes == SIGMOID_GENERAL_GAMMA || passes == SIGMOID_TERMS)) {
      chunk = p.streaming ? STREAM_CHUNK : LONG_CHUNK;
    }
    int bound = S.loopBound(len);
    int chunks = bound / chunk + (bound % chunk == 0 ? 0 : 1); // no overflow near 2^31
    int last = bound < len ? chunks : chunks - 1; // piece `chunks` is the overlapping last vector
    double total = 0;
    if (passes == OVA && p.streaming && hess == null && c.perSample == null && !c.laneSums) {
      total = ovaPipelined(c, last, chunk, chunks, bound, len, xOff, yOff, gOff, y, t, tOff,
          target);
    } else {
      for (int k = 0; k <= last; k++) {
        piece(c, k, chunk, chunks, bound, len, xOff, yOff, gOff, y, t, tOff, target);
        c.ho = hOff + c.go - gOff;
        c.sum2 = 0;
        for (Pass pass : passes) {
          run(pass, c);
        }
        if (c.perSample != null) {
          rowSums(c, c.go - gOff, classes);
        } else if (c.laneSums) {
          for (int i = c.done; i < c.n; i++) { // start is a multiple of L: element i is lane i % L
            c.laneLoss[i % L] += c.s[TERMS + i];
          }
        }
        total += c.sum;
        c.total2 += c.sum2;
      }
    }
    c.x = null; // hold no caller array past the call
    c.y = null;
    c.grad = null;
    c.hess = null;
    return total;
  }

  /**
   * Sets c to piece k of a segment of {@code len} elements: chunk k of {@code chunks}, or for k ==
   * chunks the segment's last vector, which overlaps the last chunk (its first {@code done}
   * elements counted there). Overwrites c.n, c.done, c.col0, c.xo, c.go and c.yo, and where the
   * targets are class indices (t != null) or one target row (y == null) the one-hot targets in
   * YS, which it writes for the piece.
   */
  private static void piece(Chunk c, int k, int chunk, int chunks, int bound, int len, int xOff,
      int yOff, int gOff, float[] y, int[] t, int tOff, int target) {
    int start = k < chunks ? k * chunk : len - L;
    c.n = pieceLength(k, chunk, chunks, bound);
    c.done = k < chunks ? 0 : bound - start;
    c.col0 = start % c.classes;
    c.xo = xOff + start;
    c.go = gOff + start;
    if (t != null) {
      oneHotInto(c.s, start, c.n, c.classes, t, tOff);
      c.yo = YS;
    } else if (y == null) {
      targetRowInto(c.s, start, c.n, target, c.off, c.on);
      c.yo = YS;
    } else {
      c.yo = yOff + start;
    }
  }

  /** The length of piece k (see {@link #piece}). */
  private static int pieceLength(int k, int chunk, int chunks, int bound) {
    return k < chunks ? Math.min(chunk, bound - k * chunk) : L;
  }

  /**
   * {@link #OVA}'s passes over the pieces [0, last] of a segment (see {@link #piece}) beyond L2,
   * software-pipelined: where the next piece is as long, the gradient pass of a piece also runs
   * the next piece's first pass ({@link #ovaGradLoss} with next), so that the gradient's stores
   * and the next input's loads share one loop, as in a single fused loop, instead of the stores
   * coming in a burst after two passes that only read and compute (timing-only variants at 8192 x
   * 1000: the gradient stored into the scratch 1.28x, the input read from L2 1.05x). Against the
   * passes one after the other, alternating JVMs, checks off: JDK 25 1.34x, 1.10x and 1.03x at
   * 8192 x 1000, 16384 x 80 and 65536 x 16; {@code --like-ref}, medians of 2 and 3 runs per build:
   * JDK 17 1.36x, 1.12x, 1.09x, JDK 25 1.12x, 1.03x, 1.07x (ratios of the builds' medians). A
   * first version, which pipelined at every size: at 256 and 128 bits 1.23x and 1.24x at 8192 x
   * 1000, 1.15x and 1.16x at 65536 x 16 (JDK 17), but in L2 0.98x and 0.87x (4096 x 16, JDK 17
   * and 25), so batches in L2 keep the passes one after the other. Not for the sigmoid, whose
   * first pass is an exponential (0.77x to 0.90x). The same bits as the passes one after the other
   * (docs/performance.md, "2026-12-06").
   */
  private static double ovaPipelined(Chunk c, int last, int chunk, int chunks, int bound,
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
   * Per-sample losses of whole rows ({@link #perSampleBlock}): adds the chunk's per-element losses
   * (TERMS, from the loss pass; elements [start + done, start + n) of the segment) to their rows'
   * sums in double, and writes each row whose last element this chunk holds to c.perSample. A row
   * is summed in four partial sums by column modulo 4, each in column order, then (0 + 1) + (2 +
   * 3): the same bits wherever chunks start (256 or 1024 elements, by the batch's size; a row
   * offset of the caller's).
   */
  private static void rowSums(Chunk c, int start, int classes) {
    float[] s = c.s;
    double p0 = c.rowPart[0];
    double p1 = c.rowPart[1];
    double p2 = c.rowPart[2];
    double p3 = c.rowPart[3];
    int e = start + c.done;
    int end = start + c.n;
    while (e < end) {
      int rowEnd = (e / classes + 1) * classes;
      int stop = Math.min(rowEnd, end);
      int col = e - (rowEnd - classes);
      int k = TERMS + e - start;
      int kEnd = TERMS + stop - start;
      for (; (col & 3) != 0 && k < kEnd; col++, k++) { // to a column that is a multiple of 4
        if ((col & 3) == 1) {
          p1 += s[k];
        } else if ((col & 3) == 2) {
          p2 += s[k];
        } else {
          p3 += s[k];
        }
      }
      for (; k + 3 < kEnd; k += 4) {
        p0 += s[k];
        p1 += s[k + 1];
        p2 += s[k + 2];
        p3 += s[k + 3];
      }
      if (k < kEnd) {
        p0 += s[k++];
      }
      if (k < kEnd) {
        p1 += s[k++];
      }
      if (k < kEnd) {
        p2 += s[k];
      }
      if (stop == rowEnd) {
        c.perSample[c.psOff + rowEnd / classes - 1] = (float) ((p0 + p1) + (p2 + p3));
        p0 = 0;
        p1 = 0;
        p2 = 0;
        p3 = 0;
      }
      e = stop;
    }
    c.rowPart[0] = p0;
    c.rowPart[1] = p1;
    c.rowPart[2] = p2;
    c.rowPart[3] = p3;
  }

  /**
   * Per-sample losses (and the gradient, where grad is not null) of {@code rows} whole rows of
   * one-vs-all on probabilities or the sigmoid, as one segment: with few classes, one segment per
   * row paid every pass's call and setup per row (one-vs-all at 4096 x 16 ran at about a seventh of
   * forwardBackward's speed). Each element's loss comes from the passes of general gamma (TERMS);
   * the rows' sums are in double ({@link #rowSums}). Dense targets y, or class indices t (no row
   * ignored). Returns the summed loss.
   */
  private static double perSampleBlock(boolean sigmoid, LossParams p, float[] x, int xOff,
      float[] y, int yOff, int[] t, int tOff, int rows, int classes, float[] grad, int gOff,
      float gradScale, float[] perSample, int psOff) {
    boolean general = p.gammaKind == LossParams.GAMMA_GENERAL;
    Pass[] passes = sigmoid ? (general ? SIGMOID_GENERAL_GAMMA : SIGMOID_TERMS)
        : (general ? OVA_GENERAL_GAMMA : OVA_TERMS);
    Chunk c = CHUNK_ARGS.get();
    c.perSample = perSample;
    c.psOff = psOff;
    java.util.Arrays.fill(c.rowPart, 0.0);
    try {
      return segment(passes, p, x, xOff, y, yOff, t, tOff, -1, rows * classes, classes, grad,
          gOff, gradScale);
    } finally {
      c.perSample = null;
    }
  }

  /**
   * Where {@link #perSampleBlock} takes over from one segment per row: rows of at most this many
   * classes. perSample, one-vs-all and the sigmoid, dense targets and class indices, checks off,
   * JDK 17, one JVM run per cell (Melem/s, one segment per row against the block): 16 classes
   * one-vs-all 306 and 258 against 1060 and 964, the sigmoid 270 and 254 against 852 and 764; 40
   * classes 376 and 285 against 987 and 900 (the sigmoid 322 and 294 against 826 and 748); 64
   * classes within a run's spread both ways (two runs); 80 classes about equal; 160 classes 1600
   * and 1496 against 1040 and 978, 256 classes 1512 and 1724 against 840 and 965: long rows pay
   * little per row, and the block's row sums (one scalar addition per element) cost more than that.
   */
  static final int PER_SAMPLE_BLOCK_CLASSES = 64;

  /**
   * Elements [start, start + n) of one row's targets: {@code on} at column {@code target} and
   * {@code off} elsewhere (1 and 0 but for softmax's label smoothing). The passes always read
   * targets from an array: a vector chosen on two paths (read, or made from the target index)
   * has no exact class when C2 parses the loop, and JDK 17 then calls its operations virtually,
   * allocating a vector each, once the JVM's shared Vector API profiles have seen a second species
   * (see the class comment).
   */
  private static void targetRowInto(float[] s, int start, int n, int target, float off,
      float on) {
    java.util.Arrays.fill(s, YS, YS + n, off);
    int at = target - start;
    if (at >= 0 && at < n) {
      s[YS + at] = on;
    }
  }

  /**
   * The one-hot targets of elements [start, start + n) of whole rows with class indices t (an
   * index outside [0, classes), the sigmoid form's background, has no positive).
   */
  private static void oneHotInto(float[] s, int start, int n, int classes, int[] t, int tOff) {
    java.util.Arrays.fill(s, YS, YS + n, 0f);
    for (int r = start / classes, last = (start + n - 1) / classes; r <= last; r++) {
      int target = t[tOff + r];
      int at = r * classes + target - start;
      if (target >= 0 && target < classes && at >= 0 && at < n) {
        s[YS + at] = 1f;
      }
    }
  }

  private static final float[] IOTA = iota();

  private VectorKernel() {}

  /**
   * Called reflectively by {@code KernelProvider}, only where the JIT can run this kernel. The
   * first call runs {@link OperatorProfiles#prime} before any pass can run (only instances run
   * passes), not this class's initialization, which {@code KernelProvider} also triggers in JVMs
   * that never use the kernel (-Xint, C1 only).
   */
  public static FocalKernel create() {
    operatorProfiles = Profiles.VALUE;
    return new VectorKernel();
  }

  /** {@link OperatorProfiles#prime}, once per JVM, on the first {@link #create}. */
  private static final class Profiles {
    static final float VALUE = OperatorProfiles.prime(S);
  }

  /** {@link Profiles#VALUE}, kept so that its work is not dead code. */
  private static float operatorProfiles;

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

  /**
   * min(max(x, lo), hi) by compare and blend: Java's max and min (NaN and signed-zero rules) cost
   * several instructions each on x86, about a third of {@link VectorMath#exp} when it used them.
   * A NaN compares false and passes through; -0 is not distinguished from 0 (lo, hi are not 0).
   */
  private static FloatVector clip(FloatVector x, float lo, float hi) {
    return x.blend(lo, x.compare(LT, lo)).blend(hi, x.compare(GT, hi));
  }

  /** A row's maximum; classes >= L. */
  private static float rowMax(float[] z, int row, int classes) {
    FloatVector mv = FloatVector.fromArray(S, z, row);
    for (int c = L; c < classes; c += L) {
      FloatVector v = FloatVector.fromArray(S, z, row + Math.min(c, classes - L)); // idempotent
      mv = v.blend(mv, v.compare(LE, mv)); // see clip: cheaper than max; NaN reaches the sums
    }
    return ONE.mul(mv).reduceLanes(MAX);
  }

  /**
   * Passes over one row (x at xo, classes >= L): its max into c.max, exp(z_c - max) into c.prob,
   * and their sum into c.sum. Passes, called through {@link #run}, so that they are never inlined
   * into the row loop's caller, and three of them because one compilation holding the exp and
   * the sum reached C2's node-count cutoff (see the class comment).
   */
  private static final Pass[] ROW_STATS = {
      pass("softmaxIntoMax"), pass("softmaxIntoExp")};
  private static final Pass ROW_SUM = pass("rowSum");

  /**
   * Elements of a row summed in float lanes before the lanes go into a double: the row sums over
   * more classes add up blocks of this many (a float lane sum's error grows with its length: over
   * a row of 10^6 classes, 2.6e-5 of the softmax loss at 128 bits, an adversarial tester's find).
   * Rows of at most this many classes are one block, summed as before, bit for bit.
   */
  static final int ROW_SUM_BLOCK = 4096;

  /** Pass: the sum of c.prob[0, classes) into c.sum. */
  private static void rowSum(Chunk ch) {
    float[] prob = ch.prob;
    int classes = ch.classes;
    int bound = S.loopBound(classes);
    double sum = 0;
    int c = 0;
    while (c < bound) {
      FloatVector acc = FloatVector.zero(S);
      for (int end = c + Math.min(ROW_SUM_BLOCK, bound - c); c < end; c += L) {
        acc = FloatVector.fromArray(S, prob, c).add(acc);
      }
      ONE.mul(acc).intoArray(ch.s, RED);
      sum += sumLanes(ch.s, RED);
    }
    for (; c < classes; c++) {
      sum += prob[c];
    }
    ch.sum = sum;
  }

  // ================================================================== one-vs-all

  private static final ThreadLocal<float[]> ROW_SCRATCH = ThreadLocal.withInitial(() ->
      new float[0]);

  private static float[] rowScratch(int classes) {
    float[] s = ROW_SCRATCH.get();
    if (s.length < classes) {
      s = new float[classes];
      ROW_SCRATCH.set(s);
    }
    return s;
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    int len = rows * classes;
    if (perSample == null && !p.fromLogits && len >= L) {
      return ovaSegment(p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff, gradScale);
    }
    if (!p.fromLogits && len >= L && classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(false, p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    if (p.fromLogits && rows >= L && classes <= OVA_LOGITS_GROUP_CLASSES) {
      return ovaLogitsGroups(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    if (classes < L) {
      return ScalarKernel.INSTANCE.oneVsAll(p, x, xOff, y, yOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return ovaRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    int len = rows * classes;
    if (perSample == null && !p.fromLogits && len >= L) {
      return ovaSegment(p, x, xOff, null, 0, t, tOff, -1, len, classes, grad, gOff, gradScale);
    }
    if (!p.fromLogits && len >= L && classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(false, p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    if (p.fromLogits && rows >= L && classes <= OVA_LOGITS_GROUP_CLASSES) {
      return ovaLogitsGroups(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    if (classes < L) {
      return ScalarKernel.INSTANCE.oneVsAll(p, x, xOff, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return ovaRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

  /**
   * One-vs-all from logits over at most this many classes: groups of L rows transposed to
   * class-major order, one row per lane ({@link #ovaLogitsGroups}); wider rows, and batches of
   * fewer than L rows, row by row ({@link #ovaRows}; the scalar kernel below L classes, as every
   * row was before). Paired A/B against that (two class loaders, checks off, class indices, gamma
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
   * passes, through {@link #run}.
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
  private double ovaLogitsGroups(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
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
        for (int r = skip; r < L; r++) { // the rows' losses, in row order
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
   * Class-major one-vs-all-from-logits pass: the group's logits into block 0, its targets into
   * block 2 (class indices: 1 at the target, else 0), each row's max into OVL_M and its first
   * largest class into OVL_TOP (the last class where none equals the max: a NaN, as in {@link
   * #softmaxIntoMax}).
   */
  private static void ovaLogitsIn(Chunk c) {
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
  private static void ovaLogitsSoftmax(Chunk c) {
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
  private static void ovaLogitsNormalize(Chunk c) {
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
  private static void ovaLogitsJacobian(Chunk c) {
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
  private static void ovaLogitsOut(Chunk c) {
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

  /** Row by row: per-sample output, class-index targets (y == null), or logits; classes >= L. */
  private static double ovaRows(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
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
  private static double ovaSegment(LossParams p, float[] x, int xOff, float[] y, int yOff,
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
   * {@link #ovaProbsSign}'s E. Three passes instead of four: beyond the caches, passes
   * that only compute leave the memory idle, and this one writes the gradient. Not fewer: with
   * the logarithm as well, one loop reached C2's node cutoff and boxed its last operations (an
   * allocation per vector) in some JVM runs; so did the clip and the logarithm in one loop.
   * Writes the gradient of the piece n, go, col0, done (its passes 1 and 2 in the scratch) and
   * returns its loss sum. With next ({@link #ovaPipelined}), c already holds the next piece (set by
   * {@link #piece}), as long as this one, and the loop also runs that piece's first pass ({@link
   * #ovaProbsSign}) into the Q, PT and E slots it has just read.
   */
  private static double ovaGradLoss(Chunk c, int n, int go, int col0, int done, boolean next) {
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
      if (next) { // the next piece's first pass, into the slots just read
        ovaProbsSign(x, xo + i, y, yo + i, lo, hi, s, i);
      }
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
   * checks off, is clipped to an end (the loss is then wrong, as documented, not NaN).
   */
  private static void ovaProbs(LossParams p, float[] x, int xo, float[] y, int yo, int n,
      float[] s) {
    int lo = Float.floatToRawIntBits(p.lo);
    int hi = Float.floatToRawIntBits(p.hi);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      FloatVector pc = xv.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats();
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
   * i. Arrays and offsets, not vectors: where C2 does not inline a call, vector arguments are boxed.
   */
  private static void ovaProbsSign(float[] x, int xi, float[] y, int yi, int lo, int hi,
      float[] s, int i) {
    FloatVector xv = FloatVector.fromArray(S, x, xi);
    FloatVector yv = FloatVector.fromArray(S, y, yi);
    FloatVector ones = FloatVector.broadcast(S, 1f);
    FloatVector pc = xv.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats();
    FloatVector omy = ones.sub(yv);
    FloatVector ompc = ones.sub(pc);
    ompc.fma(yv, omy.mul(pc)).intoArray(s, Q + i);
    pc.fma(yv, omy.mul(ompc)).intoArray(s, PT + i);
    // 1 - 2y rounded once (2y is exact), as fma(-2, y, 1) would be
    ones.sub(yv.add(yv)).blend(0f, pc.compare(NE, xv)).intoArray(s, E + i);
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


  /** Pass 2: ln p_t; where p_t > 1/2 it is log1p(-q), ln(pt) corrected by ln((1 - q)/pt) ~ d (1 + q). */
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
   * clip is active. The gradient and the loss sum are separate passes so that each stays well
   * below C2's node-count cutoff (class comment): one compilation over it no longer intrinsifies
   * its last operations and boxes them on every iteration.
   */
  private static void ovaGrad(Chunk c) {
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
      // (merged values, as, yv, qg1 and qg, are only ever arguments: see the class comment)
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

  /** Pass 4: the loss -a q^gamma ln p_t, summed by {@link #sumTerms}. */
  private static void ovaLoss(Chunk c) {
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
   * 1, a constant whose exact class C2 knows: {@code ONE.mul(v)} (the same bits as v) is v as such
   * a value, for a vector chosen on two paths (a loop's accumulator) before an operation is called
   * on it (see the class comment). Written out where it is needed, not as a method: a method that
   * takes a vector is inlined only while C2 has not compiled it on its own into more than 625
   * bytes at a call site it counts as cold (the end of a pass, run once per call) or 2,500 at
   * others, and compiled on its own, without its caller's types, such a method's vector operations
   * can fall to their Java fallback, which is big. On JDK 17 the helper {@code exact(v)} that this
   * replaced was in some JVMs compiled on its own and then called, not inlined, from the ends of
   * {@code ovaGradLoss} and {@code softmaxSmallExp}: its vector boxed on every call (0.75 bytes per
   * element at 65536 x 16 for one-vs-all, with the loss's Kahan sums; JFR's allocation stacks).
   */
  private static final FloatVector ONE = FloatVector.broadcast(S, 1f);
  /** 0 as ints, a constant: {@code INT_ZERO.or(v)} is {@code ONE.mul(v)} for ints. */
  private static final IntVector INT_ZERO = ONE.reinterpretAsInts().and(0);

  /**
   * Lane-wise {@code neg ? b : a} for {@code neg} all ones or all zeros per lane (an arithmetic
   * shift of a sign), as bit operations (one vpternlogd on AVX-512). JDK 17's C2 keeps a compare's
   * mask as a vector and converts it to a mask register before each blend: a compare and blend
   * there is four operations; JDK 18 and later (JEP 417) keep masks in mask registers.
   */
  private static FloatVector selectBySign(IntVector neg, FloatVector a, FloatVector b) {
    return a.reinterpretAsInts().lanewise(AND_NOT, neg)
        .or(b.reinterpretAsInts().and(neg)).reinterpretAsFloats();
  }

  /**
   * Zeroes the lanes below {@code done} of s[at, at + L): in the last vector of a segment, which
   * ends at the segment's end and so overlaps the chunks before it, the lanes they counted already.
   * Only that last chunk has done > 0, and it is that one vector, so the loss passes sum or store
   * every lane in their loops and this runs once, after: a mask in the loop cost a compare and a
   * blend per vector (two of the ~20 operations of the sigmoid's last pass). The mask is a compare
   * with IOTA, not indexInRange, which some compilations leave to its allocating Java fallback.
   */
  private static void zeroCounted(float[] s, int at, int done) {
    if (done > 0) {
      FloatVector.fromArray(S, s, at)
          .blend(0f, FloatVector.fromArray(S, IOTA, 0).compare(LT, (float) done))
          .intoArray(s, at);
    }
  }

  /**
   * The sum of the chunk's loss terms s[TERMS, TERMS + n), n a multiple of L, with Kahan's
   * compensation: a chunk is up to 128 vectors at 128 bits, and a plain float sum of that many
   * terms per lane loses up to ~1e-6 of a row's loss. Four interleaved compensated sums: one is a
   * chain of four dependent additions per vector, which bounded the loss passes by latency. (A
   * nested two-level sum would be boxed, see the class comment.)
   */
  private static double sumTerms(float[] s, int n) {
    laneSums(s, TERMS, n / L, RED);
    return sumLanes(s, RED);
  }

  /**
   * s[to, to + L) = the lane-wise sum of the count vectors at s[from + v L], v in [0, count), with
   * Kahan's compensation in four interleaved sums (one is a chain of four dependent additions per
   * vector; interleaved, they overlap).
   */
  private static void laneSums(float[] s, int from, int count, int to) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector c0 = a0; // Kahan: the low parts lost so far
    FloatVector c1 = a0;
    FloatVector c2 = a0;
    FloatVector c3 = a0;
    int end = from + count * L;
    int i = from;
    for (; i + 4 * L <= end; i += 4 * L) {
      FloatVector t0 = FloatVector.fromArray(S, s, i).sub(c0);
      FloatVector t1 = FloatVector.fromArray(S, s, i + L).sub(c1);
      FloatVector t2 = FloatVector.fromArray(S, s, i + 2 * L).sub(c2);
      FloatVector t3 = FloatVector.fromArray(S, s, i + 3 * L).sub(c3);
      FloatVector n0 = t0.add(a0);
      FloatVector n1 = t1.add(a1);
      FloatVector n2 = t2.add(a2);
      FloatVector n3 = t3.add(a3);
      c0 = n0.sub(a0).sub(t0);
      c1 = n1.sub(a1).sub(t1);
      c2 = n2.sub(a2).sub(t2);
      c3 = n3.sub(a3).sub(t3);
      a0 = n0;
      a1 = n1;
      a2 = n2;
      a3 = n3;
    }
    for (; i < end; i += L) {
      FloatVector t0 = FloatVector.fromArray(S, s, i).sub(c0);
      FloatVector n0 = t0.add(a0);
      c0 = n0.sub(a0).sub(t0);
      a0 = n0;
    }
    ONE.mul(a0).sub(c0).add(ONE.mul(a1).sub(c1)).add(ONE.mul(a2).sub(c2).add(ONE.mul(a3).sub(c3)))
        .intoArray(s, to);
  }

  /** s[to + i] = ln s[from + i]. */
  private static void logInto(float[] s, int from, int to, int n) {
    for (int i = 0; i < n; i += L) {
      VectorMath.log(FloatVector.fromArray(S, s, from + i)).intoArray(s, to + i);
    }
  }

  /** s[to + i] = exp(k * s[from + i]). */
  private static void expScaledInto(float[] s, int from, int to, int n, float k) {
    for (int i = 0; i < n; i += L) {
      VectorMath.exp(FloatVector.fromArray(S, s, from + i).mul(k)).intoArray(s, to + i);
    }
  }

  /**
   * softmaxInto, as three passes over one row (x at xo, into prob): prob[0, C) = softmax(z), as
   * exp(z_c - max) / sum (one elementary function per
   * compilation: see the class comment), and prob[C, 2C) = 1 - p_c, which for the largest class
   * is the sum of the others over the sum, so it keeps its precision when p is near 1;
   * classes >= L.
   */
  private static final Pass[] SOFTMAX_INTO = {
      pass("softmaxIntoMax"), pass("softmaxIntoExp"), pass("softmaxIntoScale")};
  private static final Pass SOFTMAX_JACOBIAN =
      pass("softmaxJacobianPass");

  /** softmaxInto, part 1: the row's max into c.max and its first class into c.top. */
  private static void softmaxIntoMax(Chunk c) {
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
  private static void softmaxIntoExp(Chunk ch) {
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
  private static void softmaxIntoScale(Chunk ch) {
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


  // ================================================================== softmax

  @Override
  public double softmax(LossParams p, float[] z, int zOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (classes <= DIST_SMALL_CLASSES) {
      return softmaxDistGroups(p, z, zOff, y, yOff, null, 0, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
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
    // Rows narrower than a vector take the class-major passes below (one row per lane): 4.5x to
    // 4.9x the scalar kernel at 4096 x 2, 5 and 10 (512 bits; 256 bits 3.0x and 3.4x at 3 and 7
    // classes, 128 bits 1.9x and 2.6x), where they went to the scalar kernel before.
    if (p.labelSmoothing != 0f && classes <= DIST_SMALL_CLASSES) {
      return softmaxDistGroups(p, z, zOff, null, 0, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    if (p.labelSmoothing != 0f) {
      double total = 0;
      for (int r = 0; r < rows; r++) {
        int target = t[tOff + r];
        int gRow = gOff + r * classes;
        double rowLoss = 0;
        if (target == p.ignoreIndex) {
          if (grad != null) {
            java.util.Arrays.fill(grad, gRow, gRow + classes, 0f);
          }
        } else {
          rowLoss = softmaxDistRow(p, z, zOff + r * classes, null, 0, target, p.labelSmoothing,
              classes, grad, gRow, gradScale);
        }
        total += rowLoss;
        if (perSample != null) {
          perSample[psOff + r] = (float) rowLoss;
        }
      }
      return total;
    }
    // Groups of L rows: per row the max, exp(z - max) (kept in grad) and the sum of the others,
    // one row per lane (class-major up to SMALL_CLASSES; else row by row, the rows' maxima and
    // sums gathered into lanes where GATHER, reduced across each row's lanes where not); then
    // the per-row focal terms for the whole group as one vector; then each row is scaled.
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
      SOFTMAX_GENERAL_GAMMA[4], SOFTMAX_GENERAL_GAMMA[5],
      SOFTMAX[4], SOFTMAX_SMALL[4]};
  // Group lanes of the class-major passes: target class as a float (-1: ignored or no row), max.
  /**
   * Full groups move between row-major and class-major order with gathers and scatters (index-map
   * loads and stores) where the species has 16 lanes or more (AVX-512, SVE-512: both in hardware);
   * with fewer lanes, by scalar copies (AVX2 has no scatter and NEON neither; where the hardware
   * lacks them, the Vector API runs them lane by lane in Java, allocating).
   */
  private static final boolean GATHER = L >= 16;
  private static final int SMALL_T = H0;
  private static final int SMALL_M = H0 + 64;

  /**
   * Class-major softmax pass: the group's logits into km (km[j L + r] = z of row r, class j; 0 for
   * an ignored row, whatever it holds, and for the lanes past the last row), per lane the target,
   * alpha_t and z_t - max, and the row max, as a running lane-wise maximum over the classes.
   */
  private static void softmaxSmallIn(Chunk c) {
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
   * and the others' sum ({@link #laneSums}); an ignored lane gets the neutral 1 and 1 (loss
   * 0, gradient 0).
   */
  private static void softmaxSmallExp(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    FloatVector m = FloatVector.fromArray(S, s, SMALL_M);
    FloatVector tv = FloatVector.fromArray(S, s, SMALL_T);
    FloatVector et = FloatVector.zero(S);
    for (int j = 0; j < k; j++) {
      FloatVector e = VectorMath.expNegAbs(FloatVector.fromArray(S, km, j * L).sub(m));
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
  private static void softmaxSmallOut(Chunk c) {
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
   * Softmax with class indices where a row is exactly one vector (classes == L, 16 lanes, where
   * the species has gathers): each row's max is a reduction across its lanes, its exponentials
   * stay row-major, and the group's sums come from L/4 gathers; the per-row focal terms are computed
   * for the whole group as one vector, as in the class-major passes, and the gradient is written
   * row by row (no scatters, which cost more than gathers on the CPUs measured).
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
      SOFTMAX_GENERAL_GAMMA[4], SOFTMAX_GENERAL_GAMMA[5],
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
  private static void softmaxRowMax(Chunk c) {
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
      float m = FloatVector.fromArray(S, z, row).reduceLanes(MAX);
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
  private static void softmaxRowExp(Chunk c) {
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
      FloatVector e = VectorMath.expNegAbs(
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
  private static void softmaxRowTarget(Chunk c) {
    float[] s = c.s;
    for (int g = 0; g < c.groups * L; g += L) {
      VectorMask<Float> dead = FloatVector.fromArray(S, s, SMALL_T + g).compare(LT, 0f);
      VectorMath.expNegAbs(FloatVector.fromArray(S, s, D + g)).blend(1f, dead)
          .intoArray(s, ET + g);
    }
  }

  /** Row-wise softmax pass: grad_c = coef * e_c, the target's own value; 0 for an ignored row. */
  private static void softmaxRowOut(Chunk c) {
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
   * rows' maxima into the group's lanes (lane r: row r; 0 for an ignored row or no row): where
   * GATHER, each row's max folded twice (to its first L/4 lanes) into km[r L, r L + L), then the
   * max of those L/4 in scalar code (a reduction across lanes per row cost more than the row's
   * exponentials at 80 classes; the folds then L/4 gathers measured 1.03x on JDK 17 and 1.16x on
   * JDK 25 against L gathers at 16384 x 80), else by a reduction per row; per
   * lane the target, alpha_t and z_t - max. Ignored rows' gradients are zeroed here.
   */
  private static void softmaxGroupMax(Chunk c) {
    LossParams p = c.p;
    float[] z = c.x;
    float[] grad = c.grad;
    float[] s = c.s;
    float[] km = c.km;
    int classes = c.classes;
    int lanes = c.groups * L;
    for (int r = 0; r < lanes; r++) {
      int target = r < c.n ? c.tArr[c.to + r] : p.ignoreIndex;
      int row = c.xo + r * classes;
      if (target == p.ignoreIndex) { // a neutral lane: loss 0, gradient 0
        if (GATHER) {
          FloatVector.zero(S).intoArray(km, r * L);
        } else {
          s[SMALL_M + r] = 0f;
        }
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
      // latency (a NaN logit, possible only with the checks off, makes its row NaN either way)
      FloatVector mv = FloatVector.fromArray(S, z, row);
      FloatVector m1 = mv;
      FloatVector m2 = mv;
      FloatVector m3 = mv;
      int col = L;
      // the loads are the receivers, the running maxima (chosen on two paths) only arguments (see
      // the class comment): v.blend(m, v <= m) is m.blend(v, v > m) for every value but NaN. With
      // the maxima as receivers, and the group's maximum carried through the gathers' loop below,
      // JDK 17's C2 left them to the allocating fallback in a caller's loop over heap buffers
      // (0.27 to 2.75 MB per call at 4096 x 1000 in 4 of 5 JVMs; HotLoopTest's heapBuffers)
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
      if (GATHER) { // folded twice: L/4 lanes per row for the scalar max below
        FloatVector w = mv.rearrange(FOLD_HALF);
        mv = w.blend(mv, w.compare(LE, mv));
        w = mv.rearrange(FOLD_QUARTER);
        mv.blend(w, w.compare(GT, mv)).intoArray(km, r * L);
      } else {
        s[SMALL_M + r] = mv.reduceLanes(MAX);
      }
      s[SMALL_T + r] = target;
      s[D + r] = z[row + target];
      s[ALPHA + r] = p.alphaOf(target);
    }
    if (GATHER) {
      // Each row's max from the L/4 lanes its folds left in km[r L, r L + L/4), in scalar code:
      // L/4 gathers (index-map loads) did this, which JDK 17's C2 left to their allocating Java
      // fallback in every JMH fork of softmax at 8192 x 1000 at b468671 (294,958 bytes per call;
      // JFR: the gather's index vector and load). The same comparisons in the same order, so the
      // same bits.
      for (int r = 0; r < lanes; r++) {
        int at = r * L;
        float m = km[at];
        for (int i = 1; i < L / 4; i++) {
          float v = km[at + i];
          m = v <= m ? m : v;
        }
        s[SMALL_M + r] = m;
      }
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
   * #sumLanes}) or, where GATHER, by {@link #softmaxGroupOthers}.
   */
  private static void softmaxGroupSums(Chunk c) {
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
          FloatVector e = VectorMath.expNegAbs(FloatVector.fromArray(S, z, row + at).sub(m));
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
   * code in some JVM runs (C2's node cutoff, see the class comment).
   */
  private static void softmaxGroupOthers(Chunk c) {
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
  private static void softmaxGroupLog(Chunk c) {
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
   * Softmax pass over a group's lanes: the loss -alpha_t q^gamma ln p_t, and F = alpha_t (gamma
   * p_t q^gamma (ln p_t / q) - q^gamma) as the row's gradient factors: grad_c = -F p_c = -F e_c / s,
   * and F q at the target.
   */
  private static void softmaxGroupTerms(Chunk c) {
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
  private static void softmaxGroupScale(Chunk c) {
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
   * One row with a full target distribution: dense y, or (y == null) the one-hot row of target
   * smoothed by ls. F_c = alpha_c (gamma p_c q_c^gamma (ln p_c / q_c) - q_c^gamma), and dl/dz_j =
   * y_j F_j - p_j sum_c y_c F_c; classes >= L.
   */
  private static double softmaxDistRow(LossParams p, float[] z, int row, float[] y, int yRow,
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
    // EdgeCaseTest), as the class-major groups' TwoSum and softmaxIntoScale avoid
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
  private static void softmaxPFromExp(Chunk c) {
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
  private static void softmaxQFromP(Chunk c) {
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
   * DIST_YF and grad. Separate from the sums for C2's sake (class comment).
   */
  private static void softmaxDistTerms(Chunk c) {
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
   * #ovaLoss}.
   */
  private static void softmaxDistSums(Chunk c) {
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
   * classes). Paired A/B against that (two class loaders, checks off, JDK 17, gamma 2): at 512 bits,
   * dense targets 30.7x at 4096 x 10 (13 to 387 Melem/s), 4.2x at 4096 x 16, 1.57x at 4096 x 64;
   * label smoothing 0.1 with class indices 27.0x, 4.6x, 1.82x at 10, 16 and 64 classes; JDK 25 at
   * 4096 x 16: 4.5x and 5.1x. The limit, against the row-by-row passes as they are now (p from the
   * row's exponentials; 262144 logits each): 512 bits 1.49x at 64 classes, 1.08x at 96, 0.94x at
   * 112, 0.99x at 128; 256 bits (no gathers: transposed by scalar copies) 1.56x at 32, 1.13x at
   * 48, 0.95x at 64; 128 bits 1.23x at 32, 0.98x at 48, 0.86x at 64.
   */
  static final int DIST_SMALL_CLASSES = GATHER ? 96 : 48;

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
   * Softmax with a target distribution over at most {@link #DIST_SMALL_CLASSES} classes, in
   * groups of L rows: dense targets y, or (y == null) class indices t smoothed by {@code
   * p.labelSmoothing} (an ignored row: loss 0, gradient 0). Returns the summed loss.
   */
  private static double softmaxDistGroups(LossParams p, float[] z, int zOff, float[] y, int yOff,
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
  private static void softmaxDistSmallIn(Chunk c) {
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
   * Class-major distribution pass: z - max in place in km block 0, and into OVL_ACC and OVL_COMP
   * the sum of exp(z - max) over the classes (in [1, C]) and the sum of its additions' rounding
   * errors, lane-wise ({@link #softmaxDistSmallLogSum} takes the logarithm).
   */
  private static void softmaxDistSmallExp(Chunk c) {
    float[] s = c.s;
    int k = c.classes;
    float[] b = c.km;
    int lnAt = 0;
    FloatVector m = FloatVector.fromArray(S, s, DIST_M);
    // the sum and its error live in the scratch (OVL_ACC, OVL_COMP: H0 is free here), not in
    // registers: combined after the loop, JDK 17 boxed them (see ovaLogitsSoftmax)
    FloatVector zeros = FloatVector.zero(S);
    zeros.intoArray(s, OVL_ACC);
    zeros.intoArray(s, OVL_COMP);
    FloatVector rawMin = zeros;
    for (int j = 0; j < k; j++) {
      // at least -Float.MAX_VALUE: a logit more than the float range below the max (z - max
      // overflowed to -inf) would make ln p / q and 0 x ln p NaN (EdgeCaseTest); the row's loss
      // is then not this one, and DIST_RAW_MIN says so (see softmaxDistGroups)
      FloatVector raw = FloatVector.fromArray(S, b, lnAt + j * L).sub(m);
      rawMin = raw.min(rawMin);
      FloatVector d = raw.max(-Float.MAX_VALUE);
      d.intoArray(b, lnAt + j * L);
      FloatVector term = VectorMath.expNegAbs(d);
      FloatVector acc = FloatVector.fromArray(S, s, OVL_ACC);
      FloatVector next = term.add(acc);
      // TwoSum (Knuth): acc + term - next exactly, whichever addend is larger. Kahan's
      // compensation, used before, is exact only while the running sum is the larger addend, and
      // bounds the error by ulps of the whole sum: where one class holds nearly all the mass, ln p
      // = -ln(1 + others) is far smaller than that (6.6e-4 of the loss of {0, 9.35} with target 1
      // at gamma 0, a differential fuzzer's find; EdgeCaseTest); summed errors as here keep it.
      FloatVector accPart = next.sub(term);
      FloatVector termPart = next.sub(accPart);
      acc.sub(accPart).add(term.sub(termPart)).add(FloatVector.fromArray(S, s, OVL_COMP))
          .intoArray(s, OVL_COMP);
      next.intoArray(s, OVL_ACC);
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
  private static void softmaxDistSmallLogSum(Chunk c) {
    float[] s = c.s;
    FloatVector sum = FloatVector.fromArray(S, s, OVL_ACC);
    VectorMath.logNormal(sum).add(FloatVector.fromArray(S, s, OVL_COMP).div(sum))
        .intoArray(s, DIST_LS);
  }

  /**
   * Class-major distribution pass: ln p = (z - max) - ln sum in place in km block 0, p = exp(ln p)
   * into block 2. {@link #softmaxDistSmallQ} then takes q from ln p: two passes, one function
   * each, because one loop holding both was left to the Java fallback by JDK 17's C2 in a caller's
   * hot loop (6 bytes per element at 65536 x 16; HotLoopTest).
   */
  private static void softmaxDistSmallP(Chunk c) {
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
  private static void softmaxDistSmallQ(Chunk c) {
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
  private static void softmaxDistSmallTerms(Chunk c) {
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
  private static void softmaxDistSmallOut(Chunk c) {
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

  // ================================================================== sigmoid

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    int len = rows * classes;
    if (perSample == null && len >= L) {
      return sigmoidSegment(p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (len >= L && classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(true, p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    if (classes < L) {
      return ScalarKernel.INSTANCE.sigmoid(p, x, xOff, y, yOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return sigmoidRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (hasIndex(t, tOff, rows, p.ignoreIndex)) {
      return sigmoidRuns(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    return sigmoidIndices(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

  /** {@link #sigmoid} with class indices of which none is the ignore index. */
  private static double sigmoidIndices(LossParams p, float[] x, int xOff, int[] t, int tOff,
      int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
    int len = rows * classes;
    if (perSample == null && len >= L) {
      return sigmoidSegment(p, x, xOff, null, 0, t, tOff, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (len >= L && classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(true, p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    if (classes < L) {
      return ScalarKernel.INSTANCE.sigmoid(p, x, xOff, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return sigmoidRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  /**
   * The sum of the L floats at s[off..] in double, in a fixed order. Used instead of {@code
   * reduceLanes(ADD)}, whose order is unspecified and differs between the interpreter and C2 on
   * JDK 24+: results must not depend on when the JIT compiled the kernel.
   */
  private static double sumLanes(float[] s, int off) {
    // Four interleaved partial sums (L is a multiple of 4), then a fixed tree: the same order on
    // every run, a quarter of the dependent additions of one running sum.
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    for (int i = 0; i < L; i += 4) {
      s0 += s[off + i];
      s1 += s[off + i + 1];
      s2 += s[off + i + 2];
      s3 += s[off + i + 3];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * Class indices with ignored rows (loss 0, gradient 0): each run of rows between them as a call
   * of its own (a segment, a per-sample block), instead of every row as a segment of its own,
   * which paid every pass's call per row. Paired A/B against that, every tenth row ignored, checks
   * off, JDK 17: 3.5x at 4096 x 16, 1.47x at 4096 x 80.
   */
  private static double sigmoidRuns(LossParams p, float[] x, int xOff, int[] t, int tOff,
      int rows, int classes, float[] grad, int gOff, float gradScale, float[] perSample,
      int psOff) {
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
      total += sigmoidIndices(p, x, xOff + r * classes, t, tOff + r, end - r, classes, grad,
          gOff + r * classes, gradScale, perSample, perSample == null ? 0 : psOff + r);
      r = end;
    }
    return total;
  }

  private static boolean hasIndex(int[] t, int tOff, int rows, int index) {
    for (int r = 0; r < rows; r++) {
      if (t[tOff + r] == index) {
        return true;
      }
    }
    return false;
  }

  /** Row by row: per-sample output, or class-index targets (y == null); classes >= L. */
  private static double sigmoidRows(LossParams p, float[] x, int xOff, float[] y, int yOff,
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
  private static double sigmoidSegment(LossParams p, float[] x, int xOff, float[] y, int yOff,
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
   * Pass 3: from e = exp(-|x|) (E), 1 / (1 + e) (PT) and log1p(e) (LN): p = sigmoid(x) into PT,
   * 1 - p into E, ce = max(x, 0) - x y + log1p(e) into LN, q = 1 - p_t into Q, and, if storeW,
   * the weight w = class weight x alpha_t into W (for gamma 0 to 3, {@link #sigmoidGradLoss} makes
   * w where it uses it).
   */
  private static void sigmoidTerms(Chunk c, boolean storeW) {
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
      // selected with bit operations, not compare and blend (see selectBySign)
      IntVector neg = xv.reinterpretAsInts().lanewise(ASHR, 31);
      FloatVector prob = selectBySign(neg, inv, ei);
      FloatVector omp = selectBySign(neg, ei, inv);
      prob.intoArray(s, PT + i);
      omp.intoArray(s, E + i);
      // max(x, 0) as a max of the bits as ints: negative floats (-0 too) are negative ints
      FloatVector relu = xv.reinterpretAsInts().max(0).reinterpretAsFloats();
      yv.neg().fma(xv, relu).add(FloatVector.fromArray(S, s, LN + i)).intoArray(s, LN + i);
      yv.fma(omp, ones.sub(yv).mul(prob)).intoArray(s, Q + i);
      if (storeW) {
        FloatVector wp = wPos == null ? aPos : FloatVector.fromArray(S, wPos, col);
        FloatVector wn = wPos == null ? aNeg : FloatVector.fromArray(S, wNeg, col);
        FloatVector wnn = wPos == null ? aNegNeg : FloatVector.fromArray(S, wNegNeg, col);
        yv.fma(wp, yv.fma(wnn, wn)).intoArray(s, W + i);
      }
      col += step;
      if (col >= classes) {
        col -= classes;
      }
    }
  }

  /**
   * Pass 4 for gamma 0 to 3: {@link #sigmoidGrad} and {@link #sigmoidLoss} in one loop (see
   * {@link #ovaGradLoss}), the loss summed in the loop with Kahan's compensation.
   */
  private static void sigmoidGradLoss(Chunk c) {
    LossParams p = c.p;
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
      FloatVector q = FloatVector.fromArray(S, s, Q + i);
      FloatVector yv = FloatVector.fromArray(S, y, yo + i);
      // w = class weight x alpha_t, as sigmoidTerms makes it for W: here instead of a store there
      // and a load here
      FloatVector wp = wPos == null ? aPos : FloatVector.fromArray(S, wPos, col);
      FloatVector wn = wPos == null ? aNeg : FloatVector.fromArray(S, wNeg, col);
      FloatVector wnn = wPos == null ? aNegNeg : FloatVector.fromArray(S, wNegNeg, col);
      FloatVector w = yv.fma(wp, yv.fma(wnn, wn));
      FloatVector ce = FloatVector.fromArray(S, s, LN + i);
      FloatVector qg = kind == 2 ? q.mul(q) : kind == 0 ? ones : kind == 1 ? q : q.mul(q).mul(q);
      if (grad != null) {
        FloatVector omp = FloatVector.fromArray(S, s, E + i);
        // p - y = q - 2 y (1 - p): exact for hard targets (q is 1 - p or p there)
        FloatVector g = yv.mul(-2f).fma(omp, q).mul(qg); // (p - y) q^gamma
        if (kind != 0) {
          FloatVector pp = FloatVector.fromArray(S, s, PT + i).mul(omp);
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
   * {@link #ovaGrad}.
   */
  private static void sigmoidGrad(Chunk c) {
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

  /** Pass 5: the loss w ce q^gamma, summed with Kahan's compensation as in {@link #ovaLoss}. */
  private static void sigmoidLoss(Chunk c) {
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

  // ================================================================== gradient and Hessian

  // The gradient-and-Hessian passes keep every compilation well below C2's inlining cutoff (see
  // the class comment): a pass that reaches it has its last Vector API calls inlined late, and a
  // store whose value is still such a call when its intrinsic is tried is not intrinsified (the
  // vector is boxed on every iteration). So each pass below holds one elementary function or a
  // couple of dozen lane-wise operations, and hands its results over in scratch.

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

  private static final Pass[] SIGMOID_HESS = {
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
      OVA_GENERAL_GAMMA[3]};
  private static final Pass[] SIGMOID_HESS_GENERAL_GAMMA = {
      SIGMOID_HESS[0], SIGMOID_HESS[1], SIGMOID_HESS[2], SIGMOID_HESS[3],
      Q_POW_GAMMA[0], Q_POW_GAMMA[1], Q_POW_GAMMA[2],
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
      SOFTMAX_HESS[5], Q_POW_GAMMA[0], Q_POW_GAMMA[1], Q_POW_GAMMA[2],
      SOFTMAX_HESS[6], SOFTMAX_HESS[7], SOFTMAX_HESS[8], SOFTMAX_HESS[9], SOFTMAX_HESS[10],
      SOFTMAX_HESS[11]};

  /**
   * Dense targets: the block as flat elements (one logit each, so C = 1, XGBoost's binary
   * objective, runs across rows), through {@link #SIGMOID_HESS}.
   */
  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    int len = rows * classes;
    if (len < L) {
      ScalarHessianKernel.INSTANCE.sigmoid(p, x, xOff, y, yOff, rows, classes, grad, gOff, hess,
          hOff);
      return;
    }
    segment(p.gammaKind == LossParams.GAMMA_GENERAL ? SIGMOID_HESS_GENERAL_GAMMA : SIGMOID_HESS,
        p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff, 1f, hess, hOff);
  }

  /**
   * Class indices: each run of rows between ignored rows as one segment (the one-hot targets
   * written a chunk at a time, as for the loss), an ignored row's gradient and Hessian 0; a run
   * of fewer than L elements on the scalar kernel. (Every row was a segment of its own, or the
   * scalar kernel below L classes: paired A/B against that, JDK 17, gamma 2, 262144 logits: 22.7x
   * at 10 classes, 31 to 694 Melem/s; 3.9x at 16; 1.46x at 80.)
   */
  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    Pass[] passes = p.gammaKind == LossParams.GAMMA_GENERAL ? SIGMOID_HESS_GENERAL_GAMMA
        : SIGMOID_HESS;
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
        ScalarHessianKernel.INSTANCE.sigmoid(p, x, xOff + e, t, tOff + r, end - r, classes, grad,
            gOff + e, hess, hOff + e);
      } else {
        segment(passes, p, x, xOff + e, null, 0, t, tOff + r, -1, len, classes, grad, gOff + e,
            1f, hess, hOff + e);
      }
      r = end;
    }
  }

  // The natural logarithm of VectorMath.log (same algorithm, its constants), split in two passes:
  // VectorMath.log alone is about as large as a compilation can get before C2's inlining cutoff
  // (see the note above), so a pass that holds it is not reliably intrinsified.

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
  private static void sigmoidHessProbs(Chunk c) {
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
      // selected with bit operations, not compare and blend (see selectBySign)
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
  private static void sigmoidHessGrad(Chunk c) {
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
  private static void sigmoidHessHess(Chunk c) {
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

  /**
   * Softmax, class indices: rows of a block in chunks of up to {@link #SM_ROWS} rows, copied
   * class-major into the chunk's {@code km} so that a vector holds one class of L rows and every
   * per-row quantity (max, sums, ln p_t, q^gamma) is a lane; C = 10 runs as fast per element as C
   * = 100. A last chunk of fewer than L rows overlaps the one before (its rows are recomputed to
   * the same values); a block of fewer than L rows is padded to L rows in scratch (the padding
   * rows carry the ignore index). Rows wider than {@link #SM_MAX_CLASSES} go to {@link
   * ScalarHessianKernel}.
   */
  @Override
  public void softmax(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    if (classes > SM_MAX_CLASSES) {
      ScalarHessianKernel.INSTANCE.softmax(p, z, zOff, t, tOff, rows, classes, grad, gOff, hess,
          hOff);
      return;
    }
    if (rows >= L) {
      softmaxHessRows(p, z, zOff, t, tOff, rows, classes, grad, gOff, hess, hOff);
      return;
    }
    Chunk c = CHUNK_ARGS.get();
    int len = L * classes;
    if (c.pad.length < 3 * len) {
      c.pad = new float[3 * len];
    }
    float[] pad = c.pad;
    int[] padT = c.padT;
    int used = rows * classes;
    System.arraycopy(z, zOff, pad, 0, used);
    java.util.Arrays.fill(pad, used, len, 0f);
    System.arraycopy(t, tOff, padT, 0, rows);
    java.util.Arrays.fill(padT, rows, L, p.ignoreIndex);
    softmaxHessRows(p, pad, 0, padT, 0, L, classes, pad, len, pad, 2 * len);
    System.arraycopy(pad, len, grad, gOff, used);
    System.arraycopy(pad, 2 * len, hess, hOff, used);
  }

  /** The chunk loop of the softmax Hessian; rows >= L. */
  private static void softmaxHessRows(LossParams p, float[] z, int zOff, int[] t, int tOff,
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
  private static void softmaxHessIn(Chunk c) {
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
  private static void softmaxHessExp(Chunk c) {
    float[] km = c.km;
    float[] s = c.s;
    int k = c.classes;
    int n = c.n;
    for (int i = 0; i < n; i += L) {
      FloatVector m = FloatVector.fromArray(S, s, SM_M + i);
      for (int j = 0; j < k; j++) {
        int at = j * n + i;
        VectorMath.expNegAbs(FloatVector.fromArray(S, km, at).sub(m)).intoArray(km, at);
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
   * ovaLogitsSoftmax).
   */
  private static void softmaxHessSums(Chunk c) {
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
  private static void softmaxHessLnPt(Chunk c) {
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
  private static void softmaxHessCoef1(Chunk c) {
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
  private static void softmaxHessCoef2(Chunk c) {
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
  private static void softmaxHessCoef3(Chunk c) {
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
  private static void softmaxHessGrad(Chunk c) {
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
  private static void softmaxHessHess(Chunk c) {
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
  private static void softmaxHessOut(Chunk c) {
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

  // ================================================================== validation scans

  /**
   * Elements per call of the scans below: {@code FocalLoss}'s check blocks (16384 elements of the
   * input, then of the dense targets) are one call each. A scan over a whole batch in one loop is
   * entered once per call and would run from its on-stack-replacement compilation, in which C2
   * cannot keep the vector accumulator unboxed (an allocation per vector); calls of this length get
   * the normal compilation. Against 4096 (a block in four calls, the last first), {@code
   * --like-ref} runs alternating the two builds, two each, JDK 17: the checks' cost at 8192 x 1000
   * went from 41% and 45% to 25% and 25% for one-vs-all, 36% and 32% to 22% and 23% for softmax,
   * 26% and 31% to 22% and 22% for the sigmoid, and stayed within a few points elsewhere
   * (one-vs-all at 65536 x 16: 15% and 16% to 12% and 12%). Our reading: a block scanned in one
   * ascending run keeps the prefetchers on one stream, where four short runs in descending order
   * restarted them.
   */
  private static final int SCAN = 16384;

  /**
   * Whether the scans take eight vectors per iteration instead of four (the finiteness test) or two
   * (the [0, 1] test): from JDK 25 on. There the shorter loops ran at about half the speed of the
   * same loops on JDK 17 (a standalone loop over 8M floats in 16384-element calls, the median of 9
   * rounds of the best of 10 passes: 3906 against 8798 Melem/s for the finiteness test, 4717
   * against 7428 for the [0, 1] test; in single runs with {@code -XX:LoopUnrollLimit=1} or {@code
   * -XX:-UseSuperWord}, 9776 and 9103); with eight vectors per iteration they ran at 7649 and 6301
   * on JDK 25, but at 0.87x and 0.88x of the shorter loops on JDK 17. {@code --like-ref} runs
   * alternating the two builds on JDK 25, two each, check cost at 8192 x 1000: one-vs-all 40% and
   * 43% with the shorter loops, 28% and 28% with these, softmax 27% and 32% against 22% and 21%,
   * the sigmoid 31% and 34% against 21% and 24%. JDK 18 to 24 were not measured and keep JDK 17's
   * loops. Our reading, from the flags that cure it: JDK 25's C2 unrolls the shorter loops further
   * itself.
   */
  static final boolean WIDE_SCANS = Runtime.version().feature() >= 25;

  private static final Pass ALL_FINITE = pass("allFinitePass");
  private static final Pass ALL_IN_UNIT =
      pass("allInUnitPass");

  @Override
  public int firstNonFinite(float[] a, int off, int len) {
    int bound = S.loopBound(len);
    if (!scan(ALL_FINITE, a, off, bound)) {
      return ScalarKernel.INSTANCE.firstNonFinite(a, off, len);
    }
    for (int i = off + bound, end = off + len; i < end; i++) {
      if (!Float.isFinite(a[i])) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public int firstOutsideUnit(float[] a, int off, int len) {
    int bound = S.loopBound(len);
    if (!scan(ALL_IN_UNIT, a, off, bound)) {
      return ScalarKernel.INSTANCE.firstOutsideUnit(a, off, len);
    }
    for (int i = off + bound, end = off + len; i < end; i++) {
      float v = a[i];
      if (!(v >= 0f && v <= 1f)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Runs a scan pass over a[off, off + len) in {@link #SCAN} pieces, the last piece first; whether
   * all passed. Backwards because the kernel then reads the array from its start: what the scan
   * leaves in L2 is the start of the array, not its end.
   */
  private static boolean scan(Pass pass, float[] a, int off, int len) {
    Chunk c = CHUNK_ARGS.get();
    c.x = a;
    boolean ok = true;
    for (int i = len == 0 ? -1 : (len - 1) / SCAN * SCAN; i >= 0 && ok; i -= SCAN) {
      c.xo = off + i;
      c.n = Math.min(SCAN, len - i);
      run(pass, c);
      ok = c.ok;
    }
    c.x = null; // hold no caller array past the call
    return ok;
  }

  /**
   * Whether a[off, off + n) is all finite; n a multiple of L. One fma per vector (v * 0 is NaN for
   * NaN and infinity), into four independent sums so that the loop runs at load speed, not at the
   * fma's latency; four vectors per iteration, or eight first where {@link #WIDE_SCANS} (as in
   * {@link #allInUnit}). The zeros are made where they are used: a zero vector held in a local
   * across the loops (the sums' start and every fma's factor) was put on the heap by JDK 17's C2
   * in a caller's hot loop, once per call of this method (per 16K-element block): 80 bytes at 512
   * bits, 48 at 256 (HotLoopTest).
   */
  private static boolean allFinite(float[] a, int off, int n) {
    FloatVector acc0 = FloatVector.zero(S);
    FloatVector acc1 = FloatVector.zero(S);
    FloatVector acc2 = FloatVector.zero(S);
    FloatVector acc3 = FloatVector.zero(S);
    int i = 0;
    if (WIDE_SCANS) {
      for (int bound = n - 7 * L; i < bound; i += 8 * L) {
        acc0 = FloatVector.fromArray(S, a, off + i).fma(FloatVector.zero(S), acc0);
        acc1 = FloatVector.fromArray(S, a, off + i + L).fma(FloatVector.zero(S), acc1);
        acc2 = FloatVector.fromArray(S, a, off + i + 2 * L).fma(FloatVector.zero(S), acc2);
        acc3 = FloatVector.fromArray(S, a, off + i + 3 * L).fma(FloatVector.zero(S), acc3);
        acc0 = FloatVector.fromArray(S, a, off + i + 4 * L).fma(FloatVector.zero(S), acc0);
        acc1 = FloatVector.fromArray(S, a, off + i + 5 * L).fma(FloatVector.zero(S), acc1);
        acc2 = FloatVector.fromArray(S, a, off + i + 6 * L).fma(FloatVector.zero(S), acc2);
        acc3 = FloatVector.fromArray(S, a, off + i + 7 * L).fma(FloatVector.zero(S), acc3);
      }
    }
    for (int bound = n - 3 * L; i < bound; i += 4 * L) {
      acc0 = FloatVector.fromArray(S, a, off + i).fma(FloatVector.zero(S), acc0);
      acc1 = FloatVector.fromArray(S, a, off + i + L).fma(FloatVector.zero(S), acc1);
      acc2 = FloatVector.fromArray(S, a, off + i + 2 * L).fma(FloatVector.zero(S), acc2);
      acc3 = FloatVector.fromArray(S, a, off + i + 3 * L).fma(FloatVector.zero(S), acc3);
    }
    for (; i < n; i += L) {
      acc0 = FloatVector.fromArray(S, a, off + i).fma(FloatVector.zero(S), acc0);
    }
    return ONE.mul(acc0).reduceLanes(ADD) + ONE.mul(acc1).reduceLanes(ADD)
        + ONE.mul(acc2).reduceLanes(ADD) + ONE.mul(acc3).reduceLanes(ADD) == 0f;
  }

  /**
   * Whether a[off, off + n) is all in [0, 1], -0 included; n a multiple of L. w = y - y^2 = y (1 -
   * y) is >= 0 exactly for y in [0, 1] (for a value just outside, a negative normal or subnormal,
   * never 0) and NaN for NaN; |w| - w is 0 for w >= 0, positive for w < 0 and NaN for NaN, so the sum of
   * those (non-negative terms: no cancellation) is 0 exactly when every value passes. Four
   * independent sums, as in {@link #allFinite}.
   */
  private static boolean allInUnitExact(float[] a, int off, int n) {
    FloatVector acc0 = FloatVector.zero(S);
    FloatVector acc1 = acc0;
    FloatVector acc2 = acc0;
    FloatVector acc3 = acc0;
    int i = 0;
    for (int bound = n - 3 * L; i < bound; i += 4 * L) {
      FloatVector v0 = FloatVector.fromArray(S, a, off + i);
      FloatVector v1 = FloatVector.fromArray(S, a, off + i + L);
      FloatVector v2 = FloatVector.fromArray(S, a, off + i + 2 * L);
      FloatVector v3 = FloatVector.fromArray(S, a, off + i + 3 * L);
      FloatVector w0 = v0.fma(v0.neg(), v0);
      FloatVector w1 = v1.fma(v1.neg(), v1);
      FloatVector w2 = v2.fma(v2.neg(), v2);
      FloatVector w3 = v3.fma(v3.neg(), v3);
      acc0 = w0.abs().sub(w0).add(acc0);
      acc1 = w1.abs().sub(w1).add(acc1);
      acc2 = w2.abs().sub(w2).add(acc2);
      acc3 = w3.abs().sub(w3).add(acc3);
    }
    for (; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, a, off + i);
      FloatVector w = v.fma(v.neg(), v);
      acc0 = w.abs().sub(w).add(acc0);
    }
    return ONE.mul(acc0).reduceLanes(ADD) + ONE.mul(acc1).reduceLanes(ADD)
        + ONE.mul(acc2).reduceLanes(ADD) + ONE.mul(acc3).reduceLanes(ADD) == 0f;
  }

  /** The bits of 1f: a float in [+0, 1] has bits in [0, ONE_BITS] as a signed int. */
  private static final int ONE_BITS = Float.floatToRawIntBits(1f);

  /**
   * Whether a[off, off + n) is all in [+0, 1]; n a multiple of L. Non-negative floats are ordered
   * as their bits are as ints, and every float with the sign bit set (-0 included) is a negative
   * int: so the values are in [+0, 1] exactly when the smallest bits are >= 0 and the largest <=
   * the bits of 1 (NaN: above, or negative). A lane-wise integer min and max per vector, into two
   * pairs of independent accumulators; two vectors per iteration, or eight first where {@link
   * #WIDE_SCANS}. -0, which is in [0, 1], fails here: {@link #allInUnitExact} decides then.
   */
  private static boolean allInUnit(float[] a, int off, int n) {
    IntVector lo0 = FloatVector.zero(S).reinterpretAsInts();
    IntVector lo1 = lo0;
    IntVector hi0 = lo0;
    IntVector hi1 = lo0;
    int i = 0;
    if (WIDE_SCANS) {
      for (int bound = n - 7 * L; i < bound; i += 8 * L) {
        IntVector v0 = FloatVector.fromArray(S, a, off + i).reinterpretAsInts();
        IntVector v1 = FloatVector.fromArray(S, a, off + i + L).reinterpretAsInts();
        IntVector v2 = FloatVector.fromArray(S, a, off + i + 2 * L).reinterpretAsInts();
        IntVector v3 = FloatVector.fromArray(S, a, off + i + 3 * L).reinterpretAsInts();
        IntVector v4 = FloatVector.fromArray(S, a, off + i + 4 * L).reinterpretAsInts();
        IntVector v5 = FloatVector.fromArray(S, a, off + i + 5 * L).reinterpretAsInts();
        IntVector v6 = FloatVector.fromArray(S, a, off + i + 6 * L).reinterpretAsInts();
        IntVector v7 = FloatVector.fromArray(S, a, off + i + 7 * L).reinterpretAsInts();
        lo0 = v0.min(lo0);
        hi0 = v0.max(hi0);
        lo1 = v1.min(lo1);
        hi1 = v1.max(hi1);
        lo0 = v2.min(lo0);
        hi0 = v2.max(hi0);
        lo1 = v3.min(lo1);
        hi1 = v3.max(hi1);
        lo0 = v4.min(lo0);
        hi0 = v4.max(hi0);
        lo1 = v5.min(lo1);
        hi1 = v5.max(hi1);
        lo0 = v6.min(lo0);
        hi0 = v6.max(hi0);
        lo1 = v7.min(lo1);
        hi1 = v7.max(hi1);
      }
    }
    for (int bound = n - L; i < bound; i += 2 * L) {
      IntVector v0 = FloatVector.fromArray(S, a, off + i).reinterpretAsInts();
      IntVector v1 = FloatVector.fromArray(S, a, off + i + L).reinterpretAsInts();
      lo0 = v0.min(lo0);
      hi0 = v0.max(hi0);
      lo1 = v1.min(lo1);
      hi1 = v1.max(hi1);
    }
    for (; i < n; i += L) {
      IntVector v0 = FloatVector.fromArray(S, a, off + i).reinterpretAsInts();
      lo0 = v0.min(lo0);
      hi0 = v0.max(hi0);
    }
    // Each accumulator re-typed (INT_ZERO.or: a loop's accumulator is never a receiver, see the
    // class comment) and reduced on its own. Passed to the former helper exact(lo0).min(lo1), one
    // was left to the Java fallback in some C2 compilations at 128 bits (48 B per 4096-element
    // call; 3 of 44 JMH forks of one-vs-all at 16384 x 80), where the helper, not inlined, is the
    // likelier cause (see ONE).
    return Math.min(INT_ZERO.or(lo0).reduceLanes(MIN), INT_ZERO.or(lo1).reduceLanes(MIN)) >= 0
        && Math.max(INT_ZERO.or(hi0).reduceLanes(MAX), INT_ZERO.or(hi1).reduceLanes(MAX))
        <= ONE_BITS;
  }


}
