package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.Passes.*;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;
import static jdk.incubator.vector.VectorOperators.NE;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * The value checks' scans of {@link VectorKernel}: whether a run of floats is all finite, or all in
 * [0, 1], read before any output is written; and the count of a run of class indices (rows counted,
 * rows with a positive class, whether one is out of range).
 */
final class ValueScans {

  private ValueScans() {}

  // Passes that call a loop with arguments from the chunk (the other passes are methods of their
  // own below).

  static void allFinitePass(Chunk c) {
    c.ok = allFinite(c.x, c.xo, c.n);
  }

  static void indexCountsPass(Chunk c) {
    c.indexCounts = indexCounts(c.tArr, c.to, c.n, c.classes, c.indexUpper, c.indexIgnore,
        c.indexIgnorable);
  }

  static void allInUnitPass(Chunk c) {
    c.ok = allInUnit(c.x, c.xo, c.n) || allInUnitExact(c.x, c.xo, c.n);
  }

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

  static final Pass ALL_FINITE = pass("allFinitePass");
  private static final Pass INDEX_COUNTS = pass("indexCountsPass");
  static final Pass ALL_IN_UNIT =
      pass("allInUnitPass");

  /**
   * Runs a scan pass over a[off, off + len) in {@link #SCAN} pieces, the last piece first; whether
   * all passed. Backwards because the kernel then reads the array from its start: what the scan
   * leaves in L2 is the start of the array, not its end.
   */
  static boolean scan(Pass pass, float[] a, int off, int len) {
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
   * never 0) and NaN for NaN; |w| - w is 0 for w >= 0, positive for w < 0 and NaN for NaN, so the
   * sum of those (non-negative terms: no cancellation) is 0 exactly when every value passes. Four
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

  /**
   * Rows per call of {@link #indexCounts}: short, so that a call of the loss with a typical batch
   * (a few thousand rows) calls it many times, as the kernel's other passes are called, and JDK
   * 17's C2 compiles it within the first few dozen calls of the loss. With {@link #SCAN} rows per
   * call it ran once per call of 4096 rows, and C1's code (whose vector operations allocate) ran it
   * for the first 150 to 300 calls of the softmax Hessian at 4096 x 1000: 291,752 bytes per call
   * then ({@code HotLoopTest}'s {@code hessian} suite, whose first measurement caught it).
   */
  static final int INDEX_BLOCK = 256;

  /**
   * {@link dev.focalsimd.kernels.FocalKernel#countIndices} over t[off, off + rows), rows a multiple
   * of L: -1 where a counted row's index is outside [0, upper] (the caller then finds which), in
   * {@link #INDEX_BLOCK}-row calls of {@link #indexCounts}.
   */
  static long countIndices(int[] t, int off, int rows, int classes, int upper, int ignoreIndex,
      boolean ignorable) {
    Chunk c = CHUNK_ARGS.get();
    c.tArr = t;
    c.classes = classes;
    c.indexUpper = upper;
    c.indexIgnore = ignoreIndex;
    c.indexIgnorable = ignorable;
    long counted = 0;
    long positives = 0;
    for (int i = 0; i < rows; i += INDEX_BLOCK) {
      c.to = off + i;
      c.n = Math.min(INDEX_BLOCK, rows - i);
      run(INDEX_COUNTS, c);
      if (c.indexCounts < 0) {
        counted = -1;
        break;
      }
      counted += c.indexCounts >>> 32;
      positives += c.indexCounts & 0xffff_ffffL;
    }
    c.tArr = null; // hold no caller array past the call
    return counted < 0 ? -1 : counted << 32 | positives;
  }

  /**
   * {@link #countIndices}' loop over t[off, off + n), n a multiple of L (at most {@link
   * #INDEX_BLOCK}): per
   * lane, 1 for a counted row (its index is not ignoreIndex, where ignorable), 1 for a counted row
   * with a positive class (index below classes), 1 for a counted row whose index is outside [0,
   * upper]; summed into three integer accumulators (arguments, never receivers: see VectorKernel's
   * class comment) that start from a vector made here: started from the constant {@link
   * Passes#INT_ZERO}, JDK 17's C2 kept all three on the heap, 73,728 bytes per call of 4096 rows
   * (ten times slower). 0.24 ns a row against 0.55 for the scalar kernel's loop (a branch per
   * row), which {@code FocalLoss} ran for every kernel until 2026-12-07 (docs/performance.md).
   */
  private static long indexCounts(int[] t, int off, int n, int classes, int upper, int ignore,
      boolean ignorable) {
    IntVector zeros = IntVector.zero(INT_S);
    IntVector ones = IntVector.broadcast(INT_S, 1);
    IntVector ignoring = IntVector.broadcast(INT_S, ignorable ? 1 : 0);
    IntVector ignores = IntVector.broadcast(INT_S, ignore);
    IntVector classesV = IntVector.broadcast(INT_S, classes);
    IntVector uppers = IntVector.broadcast(INT_S, upper);
    IntVector counted = zeros;
    IntVector positives = zeros;
    IntVector bad = zeros;
    for (int i = 0; i < n; i += L) {
      IntVector v = IntVector.fromArray(INT_S, t, off + i);
      IntVector kept = ones.sub(ignoring.blend(zeros, v.compare(NE, ignores)));
      counted = kept.add(counted);
      positives = kept.blend(zeros, v.compare(GE, classesV)).add(positives);
      bad = kept.blend(zeros, v.compare(GE, zeros).and(v.compare(LE, uppers))).add(bad);
    }
    if (INT_ZERO.or(bad).reduceLanes(ADD) != 0) {
      return -1;
    }
    return (long) INT_ZERO.or(counted).reduceLanes(ADD) << 32
        | INT_ZERO.or(positives).reduceLanes(ADD);
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
    // Each accumulator re-typed (INT_ZERO.or: a loop's accumulator is never a receiver, see
    // VectorKernel's class comment) and reduced on its own. Passed to the former helper
    // exact(lo0).min(lo1), one was left to the Java fallback in some C2 compilations at 128 bits
    // (48 B per 4096-element call; 3 of 44 JMH forks of one-vs-all at 16384 x 80), where the
    // helper, not inlined, is the likelier cause (see Passes.ONE).
    return Math.min(INT_ZERO.or(lo0).reduceLanes(MIN), INT_ZERO.or(lo1).reduceLanes(MIN)) >= 0
        && Math.max(INT_ZERO.or(hi0).reduceLanes(MAX), INT_ZERO.or(hi1).reduceLanes(MAX))
        <= ONE_BITS;
  }
}
