package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.HessianPasses.*;
import static dev.focalsimd.kernels.vector.OneVsAllPasses.*;
import static dev.focalsimd.kernels.vector.Passes.*;
import static dev.focalsimd.kernels.vector.SigmoidPasses.*;
import static dev.focalsimd.kernels.vector.SoftmaxPasses.*;
import static dev.focalsimd.kernels.vector.ValueScans.*;

import dev.focalsimd.kernels.FocalKernel;
import dev.focalsimd.kernels.HessianKernel;
import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.ScalarHessianKernel;
import dev.focalsimd.kernels.ScalarKernel;

/**
 * The SIMD kernels, on the preferred float species. The numerics are those of {@link ScalarKernel}
 * (see there), in float, with the elementary functions of {@link VectorMath}.
 *
 * <p>This class is the entry: the {@link FocalKernel} and {@link HessianKernel} methods, each of
 * which picks the path for its form, shape and targets. The paths' passes are in one class per
 * form beside it: {@link OneVsAllPasses}, {@link SoftmaxPasses}, {@link SigmoidPasses}, {@link
 * HessianPasses} (gradient and Hessian) and {@link ValueScans} (the value checks); what they share,
 * the per-thread {@link Passes.Chunk}, the pass handles, segments and lane sums, is in {@link
 * Passes}. Until the ninth stop of 2026-12-06 all of it was this one class: the split moved code
 * and changed no operation (the same output bits, compared on 208M values over the four forms).
 *
 * <p>How the code is shaped for C2. A method that takes or returns vectors must be inlined where it
 * is called, or its vectors are boxed (allocation, and ~50x slower); C2 inlines nothing more once a
 * compilation holds about 18,000 IR nodes (NodeCountInliningCutoff), which one {@link VectorMath}
 * function plus a few dozen lane-wise operations already reach, and it does not inline a method it
 * already compiled on its own into more than 2,500 bytes (InlineSmallCode), or 625 where it counts
 * the call as cold (outside a loop, until the caller has run it about 100 times). Whether a small
 * method was compiled on its own before its caller depends on timing, so the methods that take
 * vectors are {@link VectorMath}'s, which compile on their own to about 750 bytes at 512 bits, and
 * {@link OneVsAllPasses#clip} and {@link Passes#selectBySign}, all called in loops but one (a
 * logarithm at the end of {@link SoftmaxPasses#softmaxDistSmallLogSum}); with {@code
 * -XX:InlineSmallCode=500}, every form allocates. So the work is split into passes: each pass is
 * one small loop over a chunk of {@link Passes#CHUNK} elements (for one-vs-all and the sigmoid
 * {@link Passes#LONG_CHUNK}, or {@link Passes#STREAM_CHUNK} in large batches) with at most one
 * elementary function, passes hand their results over in per-thread scratch arrays that stay in L1,
 * and vectors never cross a method boundary except into {@link VectorMath} and a few tiny helpers.
 * A pass that grows past the cutoff fails at its last operations (a store or the sum is left to the
 * Java fallback, which boxes a vector every iteration) in some JVM runs and not in others,
 * depending on the profile: the gradient and the loss sum are therefore separate passes for general
 * gamma, and share one pass only where gamma is 0 to 3 (powers by multiplication) with the
 * logarithm in a pass of its own (a one-vs-all or sigmoid loop holding the logarithm, the gradient
 * and the loss boxed its last store in about half the runs with the value checks on). Every pass,
 * the validation scans included, is a static method called through a method handle ({@link
 * Passes#run}), which C2 never inlines into the caller, so each pass stays its own small
 * compilation (its own, or its handle's customized form's) and never becomes part of a caller's (a
 * segment's, a trainer's or a benchmark's loop).
 *
 * <p>No vector chosen on two paths (a ternary such as {@code kind == 2 ? q : ones}, a loop's
 * accumulator) is the receiver of an operation, only an argument ({@code q.mul(qg)}, {@code
 * term.add(acc)}, not {@code qg.mul(q)} or {@code acc.add(term)}), or it is re-typed first by
 * {@code ONE.mul(v)} ({@link Passes#ONE}). C2 on JDK 17 types such a value as FloatVector, not its
 * exact class, and dispatches its operations through the Vector API's type profiles, which are
 * shared by the whole JVM; depending on what ran before (a first call over a large batch, other
 * configurations of the library) they are left virtual, and each allocates a vector: the sigmoid at
 * 8192 x 1000 with the checks on allocated 191 MB per call in fresh JVMs whose first call was the
 * full batch ({@code JitHistoryBench}). Targets are therefore always read from an array, never made
 * from a class index in the loop ({@link Passes#targetRowInto}). As an argument such a value is
 * checked against the receiver's exact class inside the operation, which C2 then knows. Vector API
 * code on other species in the same JVM (another library) makes the profiles behind the
 * reinterpreting casts polymorphic as well, which JDK 17 does not survive without boxing; JDK 25 is
 * not affected.
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
 * <p>Segments ({@link OneVsAllPasses#ovaSegment}, {@link SigmoidPasses#sigmoidSegment}) cover a
 * whole block of rows (dense targets, class indices; per-sample output over at most {@link
 * Passes#PER_SAMPLE_BLOCK_CLASSES} classes) or one row (per-sample output over more classes;
 * one-vs-all from logits beyond its class-major groups; a sigmoid call with ignored rows runs each
 * run of rows between them as a block, the runs shorter than a vector gathered into one). No masked
 * loads or stores: a segment's last vector ends at the segment's end and overlaps the one before,
 * its lanes already counted left out of the sums (recomputing them writes the same gradient);
 * in-place passes end with a scalar tail. Rows narrower than a vector run in block segments or in
 * class-major groups (one row per lane, whatever the width: softmax, one-vs-all from logits). A
 * one-vs-all or sigmoid call shorter than a vector (from logits: than a group of L rows) is
 * copied and padded to one, its own elements or rows counted ({@link OneVsAllPasses#ovaTiny},
 * {@link OneVsAllPasses#ovaLogitsShort}, {@link SigmoidPasses#sigmoidTiny}), so that its rows get
 * the bits of a longer call; softmax runs a partial group in place. {@link ScalarKernel} takes
 * only one-vs-all-from-logits rows whose float gradient's error bound is too large (redone in
 * double) and the value scans' reports, {@link ScalarHessianKernel} softmax Hessians over more
 * than {@link HessianPasses#SM_MAX_CLASSES} classes. Losses are summed in float lanes within a
 * chunk (four interleaved Kahan sums), then in double; per-sample losses of a block segment are
 * summed per row in double ({@link Passes#rowSums}).
 *
 * <p>Softmax with class indices works on groups of L rows. Where a row is exactly one vector of 16
 * lanes ({@link SoftmaxPasses#SOFTMAX_ROW}) each row's max is a reduction across its lanes and its
 * others' sum is folded to L/4 lanes, which the group gathers into lanes; otherwise, up to {@code
 * SMALL_CLASSES} classes, a group is transposed to class-major order (one row per lane), so the row
 * max, the sum of the exponentials and the target's exponential are lane-wise operations; with more
 * classes each row is a run of vectors whose lane-wise max is reduced across its lanes and whose
 * lane-wise sum is folded to L/4 lanes and gathered into the group's lanes (reduced across its
 * lanes below 512 bits). The logarithm and the focal terms are then lane-wise over the
 * group's rows. Except in the class-major case, one run of the passes covers up to 64 rows (64/L
 * groups; {@link SoftmaxPasses#ROW_GROUPS}, {@link SoftmaxPasses#BLOCK_LOGITS}): a pass's call and
 * setup were up to a sixth of the time at 16 classes.
 *
 * <p>Java's {@code max} and {@code min} (NaN and signed-zero rules) cost several instructions each
 * on x86: clamps are compare-and-blend, or, for one-vs-all's clip of probabilities to [lo, hi]
 * with 0 < lo, an integer max and min of the bits (one instruction each; then an fma adds x * 0,
 * so that NaN stays NaN). Within a pass the time
 * follows the number of vector instructions (removing one or two per element measured 2% to 9%;
 * a Kahan sum without its dependency chain was no faster), except where a loop is one chain of
 * dependent operations: the row max runs as several independent maxima.
 */
public final class VectorKernel implements FocalKernel, HessianKernel {

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

  @Override
  public String name() {
    return "VECTOR";
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (p.fromLogits && classes <= OVA_LOGITS_GROUP_CLASSES) {
      return rows >= L
          ? ovaLogitsGroups(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
              perSample, psOff)
          : ovaLogitsShort(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
              perSample, psOff);
    }
    if (p.fromLogits) { // (more classes than a group takes: classes >= L)
      return ovaRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    int len = rows * classes;
    if (len < L) {
      return ovaTiny(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    if (perSample == null) {
      return ovaSegment(p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(false, p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return ovaRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

  @Override
  public double oneVsAll(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    if (p.fromLogits && classes <= OVA_LOGITS_GROUP_CLASSES) {
      return rows >= L
          ? ovaLogitsGroups(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
              perSample, psOff)
          : ovaLogitsShort(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale,
              perSample, psOff);
    }
    if (p.fromLogits) { // (more classes than a group takes: classes >= L)
      return ovaRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    int len = rows * classes;
    if (len < L) {
      return ovaTiny(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    if (perSample == null) {
      return ovaSegment(p, x, xOff, null, 0, t, tOff, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(false, p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return ovaRows(p, x, xOff, null, 0, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

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
    return softmaxIndexGroups(p, z, zOff, t, tOff, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    int len = rows * classes;
    if (len < L) {
      return sigmoidTiny(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
          perSample, psOff);
    }
    if (perSample == null) {
      return sigmoidSegment(p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff,
          gradScale);
    }
    if (classes <= PER_SAMPLE_BLOCK_CLASSES) {
      return perSampleBlock(true, p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff,
          gradScale, perSample, psOff);
    }
    return sigmoidRows(p, x, xOff, y, yOff, null, 0, rows, classes, grad, gOff, gradScale,
        perSample, psOff);
  }

  @Override
  public double sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] perSample, int psOff) {
    // rows with the ignore index (FocalLoss validated the indices: the count is not negative)
    if (countIndices(t, tOff, rows, classes, classes, p.ignoreIndex, true) >>> 32 < rows) {
      return sigmoidRuns(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
          psOff);
    }
    return sigmoidIndices(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, perSample,
        psOff);
  }

  /**
   * Dense targets: the block as flat elements (one logit each, so C = 1, XGBoost's binary
   * objective, runs across rows), through {@link HessianPasses#SIGMOID_HESS}.
   */
  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    int len = rows * classes;
    Pass[] passes = p.gammaKind == LossParams.GAMMA_GENERAL ? SIGMOID_HESS_GENERAL_GAMMA
        : SIGMOID_HESS;
    if (len < L) { // (on the scalar kernel until the ninth stop of 2026-12-06)
      sigmoidHessianTiny(passes, p, x, xOff, y, yOff, rows, classes, grad, gOff, hess, hOff);
      return;
    }
    segment(passes, p, x, xOff, y, yOff, null, 0, -1, len, classes, grad, gOff, 1f, hess, hOff);
  }

  /**
   * Class indices: each run of rows between ignored rows as one segment (the one-hot targets
   * written a chunk at a time, as for the loss), an ignored row's gradient and Hessian 0; the runs
   * of fewer than L elements gathered and run together ({@link SigmoidPasses#sigmoidHessianRuns};
   * they went to the scalar kernel until the ninth stop of 2026-12-06). (Every row was a segment
   * of its own, or the scalar kernel below L classes: paired A/B against that, JDK 17, gamma 2,
   * 262144 logits: 22.7x at 10 classes, 31 to 694 Melem/s; 3.9x at 16; 1.46x at 80.)
   */
  @Override
  public void sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float[] hess, int hOff) {
    sigmoidHessianRuns(p.gammaKind == LossParams.GAMMA_GENERAL ? SIGMOID_HESS_GENERAL_GAMMA
        : SIGMOID_HESS, p, x, xOff, t, tOff, rows, classes, grad, gOff, hess, hOff);
  }

  /**
   * Softmax, class indices: rows of a block in chunks of up to {@link HessianPasses#SM_ROWS} rows,
   * copied class-major into the chunk's {@code km} so that a vector holds one class of L rows and
   * every per-row quantity (max, sums, ln p_t, q^gamma) is a lane; C = 10 runs as fast per element
   * as C = 100. A last chunk of fewer than L rows overlaps the one before (its rows are recomputed
   * to the same values); a block of fewer than L rows is padded to L rows in scratch (the padding
   * rows carry the ignore index). Rows wider than {@link HessianPasses#SM_MAX_CLASSES} go to {@link
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

  /**
   * Rows of at most this many classes have their class indices counted by the vector pass ({@link
   * ValueScans#countIndices}); wider rows by the scalar kernel's loop. The count is one index per
   * row, so over wide rows it is a negligible share of the call (8192 rows against 8.2M elements at
   * 1000 classes: 4.5 us in about 8 ms), while its vector pass, called a few times per call where
   * every other pass is called thousands of times, was the last to be compiled by C2: JDK 17's C1
   * code (whose vector operations allocate) still ran it when {@code HotLoopTest}'s {@code hessian}
   * suite (softmax at 4096 x 1000) began to measure, at 128 and 256 bits in the clean-clone CI run
   * of 9f43006 (140,876, 76,331 and 25,443 bytes per call at the first of its measurements; 0 at the
   * second). Over 10 and 16 classes the scalar loop took 7% and 3% of the call (profiles: the
   * sigmoid at 4096 x 10, one-vs-all at 4096 x 16), and such calls are short.
   */
  static final int INDEX_COUNT_CLASSES = 64;

  @Override
  public long countIndices(int[] t, int off, int rows, int classes, int upper, int ignoreIndex,
      boolean ignorable) {
    if (classes > INDEX_COUNT_CLASSES) {
      return ScalarKernel.INSTANCE.countIndices(t, off, rows, classes, upper, ignoreIndex,
          ignorable);
    }
    int bound = S.loopBound(rows);
    long counted = 0;
    long positives = 0;
    if (bound > 0) {
      long v = ValueScans.countIndices(t, off, bound, classes, upper, ignoreIndex, ignorable);
      if (v < 0) { // which row: the scalar kernel's loop finds the first
        return ScalarKernel.INSTANCE.countIndices(t, off, rows, classes, upper, ignoreIndex,
            ignorable);
      }
      counted = v >>> 32;
      positives = v & 0xffff_ffffL;
    }
    long tail = ScalarKernel.INSTANCE.countIndices(t, off + bound, rows - bound, classes, upper,
        ignoreIndex, ignorable);
    if (tail < 0) {
      return tail - bound;
    }
    return (counted + (tail >>> 32)) << 32 | (positives + (tail & 0xffff_ffffL));
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
}
