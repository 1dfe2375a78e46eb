package dev.focalsimd.kernels.vector;

import static dev.focalsimd.kernels.vector.OneVsAllPasses.*;
import static dev.focalsimd.kernels.vector.SigmoidPasses.*;
import static jdk.incubator.vector.VectorOperators.AND_NOT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.Scratch;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the passes of {@link VectorKernel} share (its class comment says why the work is split into
 * passes): the species and the chunk lengths; the per-thread {@link Chunk}, which hands a pass its
 * arguments and holds the scratch regions (Q to TERMS) that passes hand their results over in; the
 * {@link Pass} handles, {@link #pass}, which finds a pass in any of {@link #HOLDERS}, and {@link
 * #run}; {@link #segment}, which runs a list of passes over a run of elements chunk by chunk
 * (one-vs-all's pipelined form included); per-sample sums of whole rows; the passes that two forms
 * use (ln q, q^gamma, a row's sum); and small helpers (lane sums with Kahan's compensation, the
 * last vector's counted lanes, a select by sign, the constants ONE, INT_ZERO and IOTA). Its static
 * initialization reads no other class's fields, so the form classes' pass lists, which call {@link
 * #pass} as they initialize, make no cycle with it.
 */
final class Passes {

  private Passes() {}

  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  /** The int species of S's shape (L lanes). */
  static final VectorSpecies<Integer> INT_S = S.withLanes(int.class);
  /**
   * Full groups move between row-major and class-major order with gathers and scatters (index-map
   * loads and stores) where the species has 16 lanes or more (AVX-512, SVE-512: both in hardware);
   * with fewer lanes, by scalar copies (AVX2 has no scatter and NEON neither; where the hardware
   * lacks them, the Vector API runs them lane by lane in Java, allocating).
   */
  static final boolean GATHER = L >= 16;
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
  static final int REGION = 1024;
  // Regions of the per-thread chunk scratch array.
  static final int Q = 0;
  static final int PT = REGION;
  static final int LN = 2 * REGION;
  static final int QG = 3 * REGION;
  static final int E = 4 * REGION;
  // Softmax with class indices: per-row values of a group of L rows.
  static final int D = 5 * REGION;
  static final int OTHERS = D + 64;
  static final int ET = OTHERS + 64;
  static final int ALPHA = ET + 64;
  static final int LOSS = ALPHA + 64;
  static final int COEF = LOSS + 64;
  static final int AT_TARGET = COEF + 64;
  /** One-hot targets of a chunk, from class indices. */
  private static final int YS = AT_TARGET + 64;
  /** Lanes of a vector being summed. */
  static final int RED = YS + REGION;
  // Six more for the gradient-and-Hessian passes.
  static final int H0 = RED + 64;
  static final int H1 = H0 + REGION;
  static final int H2 = H1 + REGION;
  static final int H3 = H2 + REGION;
  static final int LK = H3 + REGION; // split logarithm: exponent
  static final int LF = LK + REGION; // split logarithm: reduced mantissa - 1
  /**
   * Terms to sum, vectors one after the other: a chunk's losses ({@link #sumTerms}, up to REGION),
   * a class-major softmax group's exponentials (SoftmaxPasses.SMALL_CLASSES vectors), a softmax
   * group's rows' folded partial sums, gathered (L/4 vectors).
   */
  static final int TERMS = LF + REGION;
  // 32: at least SoftmaxPasses.SMALL_CLASSES (24)
  private static final int SCRATCH_SIZE = TERMS + Math.max(REGION, Math.max(32, L) * L);

  /** The arguments of one chunk, handed to every pass; one per thread, reused. */
  static final class Chunk {
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
     * {@link SoftmaxPasses#ROW_GROUPS} for {@link SoftmaxPasses#SOFTMAX_ROW}, up to that for {@link
     * SoftmaxPasses#SOFTMAX} (see {@link SoftmaxPasses#BLOCK_LOGITS}), else 1.
     */
    int groups = 1;
    /**
     * {@link OneVsAllPasses#ovaLogitsGroups}: the loss pass's per-element losses are also added per
     * lane (one row of the class-major group per lane) into laneLoss, in double.
     */
    boolean laneSums;
    final double[] laneLoss = new double[64];
    /**
     * {@link #perSampleBlock} and {@link OneVsAllPasses#ovaTiny}: the output, its offset, and the
     * sum so far of a row begun.
     */
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
     * {@link OneVsAllPasses#ovaPipelined}: the piece whose gradient pass runs while c holds the
     * next piece (its n, go, col0 and done).
     */
    int prevN;
    int prevGo;
    int prevCol0;
    int prevDone;
    /** A validation scan's result: whether every value passed. */
    boolean ok;
    /**
     * {@link ValueScans#countIndices}: the largest valid class index, the ignore index and whether
     * it applies; the result (counted rows in the high 32 bits, positive rows in the low, or -1).
     */
    int indexUpper;
    int indexIgnore;
    boolean indexIgnorable;
    long indexCounts;
    /** One-vs-all from logits: the row's probabilities (and 1 - p), and its largest class. */
    float[] prob;
    int top;
    /**
     * One-vs-all from logits: the Jacobian pass found the row's gradient cancelled beyond what
     * float dl/dp carries (see {@link OneVsAllPasses#JACOBIAN_CONDITION_LIMIT}); the row is redone
     * in double.
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

    /**
     * What a pooled set keeps of this chunk when a virtual thread's call ends ({@link Scratch}):
     * no reference to a caller's array or to another kind's scratch, and no array grown beyond
     * {@link Scratch#POOLED_ELEMENTS}.
     */
    Chunk pooled() {
      x = null;
      y = null;
      grad = null;
      hess = null;
      tArr = null;
      perSample = null;
      prob = null;
      if (km.length > Scratch.POOLED_ELEMENTS) {
        km = new float[0];
      }
      if (pad.length > Scratch.POOLED_ELEMENTS) {
        pad = new float[0];
      }
      if (row.length > Scratch.POOLED_ELEMENTS) {
        row = new float[0];
      }
      return this;
    }
  }

  /**
   * One loop over a chunk: a static method of a {@link #HOLDERS} class that takes the {@link
   * Chunk}, called through a method handle ({@link #run}).
   */
  static final class Pass {
    private final MethodHandle body;

    private Pass(MethodHandle body) {
      this.body = body;
    }
  }

  private static final MethodType PASS_TYPE = MethodType.methodType(void.class, Chunk.class);

  /**
   * The classes whose static methods name(Chunk) are passes; no two have a pass of one name. Their
   * passes are package-private, not private: the lookup that finds them is this class's.
   */
  private static final Class<?>[] HOLDERS = {Passes.class, OneVsAllPasses.class,
      SoftmaxPasses.class, SigmoidPasses.class, HessianPasses.class, ValueScans.class};

  /** The pass that is the static method name(Chunk) of one of {@link #HOLDERS}. */
  static Pass pass(String name) {
    for (Class<?> holder : HOLDERS) {
      try {
        return new Pass(MethodHandles.lookup().findStatic(holder, name, PASS_TYPE));
      } catch (NoSuchMethodException e) {
        // another holder's
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("pass " + name + " not accessible", e);
      }
    }
    throw new IllegalStateException("no pass " + name);
  }

  static final ThreadLocal<Chunk> CHUNK_ARGS = Scratch.withInitial(Chunk::new, Chunk::pooled);

  /**
   * Runs a pass, through its method handle, which C2 cannot inline here: the handle is read from a
   * field it does not take as constant (a final field of an ordinary class), and a call through a
   * handle that is not a constant is never inlined (it goes to the handle's own compiled form), so
   * each pass is its own small compilation, never part of its caller's (a segment's, a trainer's or
   * a benchmark's loop), whose size would keep C2 from intrinsifying the pass's vector operations:
   * boxing, an allocation per vector. The interface call this replaced was inlined wherever C2 knew
   * the receiver: a pass in a static final field always (harmless only while the pass's method was
   * too big to inline), and, by the call's type profile, the one or two passes that a run of calls
   * had seen most. On JDK 17, at 256 bits, in 1 JVM of 3 with the machine loaded, {@link
   * OneVsAllPasses#ovaPipelined} took in the logarithm's pass that way and left its vector
   * operations to the Java fallback: 207 MB per call at 65536 x 16, in every measurement of that
   * JVM ({@code HotLoopTest}'s forms; JFR's allocation stacks: ovaLnPt, inlined into run, inlined
   * into ovaPipelined).
   */
  static void run(Pass pass, Chunk c) {
    try {
      pass.body.invokeExact(c);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) { // the passes throw no checked exception
      throw new AssertionError(e);
    }
  }

  /**
   * Runs the passes over {@code len} elements that start at column 0 of a row, in chunks, then
   * one last vector ending at len where len is not a multiple of L (its lanes below the chunks'
   * end were counted already); returns the summed loss. Targets: dense y; or, with class indices
   * t over whole rows, each chunk's one-hot targets written to the scratch first (a chunk at a
   * time, in L1: no dense target array is built); or (both null) the one-hot row of {@code
   * target} for a single row. len >= L.
   */
  static double segment(Pass[] passes, LossParams p, float[] x, int xOff, float[] y,
      int yOff, int[] t, int tOff, int target, int len, int classes, float[] grad, int gOff,
      float gradScale) {
    return segment(passes, p, x, xOff, y, yOff, t, tOff, target, len, classes, grad, gOff,
        gradScale, null, 0);
  }

  /** {@link #segment} that also hands the passes a second output, hess (Hessian passes). */
  static double segment(Pass[] passes, LossParams p, float[] x, int xOff, float[] y,
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
  static void piece(Chunk c, int k, int chunk, int chunks, int bound, int len, int xOff,
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
  static int pieceLength(int k, int chunk, int chunks, int bound) {
    return k < chunks ? Math.min(chunk, bound - k * chunk) : L;
  }

  /**
   * Per-sample losses of whole rows ({@link #perSampleBlock}): adds the chunk's per-element losses
   * (TERMS, from the loss pass; elements [start + done, start + n) of the segment) to their rows'
   * sums in double, and writes each row whose last element this chunk holds to c.perSample. A row
   * is summed in four partial sums by column modulo 4, each in column order, then (0 + 1) + (2 +
   * 3): the same bits wherever chunks start (256 or 1024 elements, by the batch's size; a row
   * offset of the caller's). start may be negative ({@link OneVsAllPasses#ovaTiny}: padding before
   * the call's elements) as long as start + done is 0 or more and the first element of a row.
   */
  static void rowSums(Chunk c, int start, int classes) {
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
  static double perSampleBlock(boolean sigmoid, LossParams p, float[] x, int xOff,
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
   * (see VectorKernel's class comment).
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
    int r = start / classes;
    int last = (start + n - 1) / classes;
    // rowAt: the row's column 0 relative to start (negative for a row begun before the piece);
    // two unsigned compares per row (the class in [0, classes), the element in [0, n)), no
    // multiplication
    for (int rowAt = r * classes - start; r <= last; r++, rowAt += classes) {
      int target = t[tOff + r];
      int at = rowAt + target;
      if (Integer.compareUnsigned(target, classes) < 0 && Integer.compareUnsigned(at, n) < 0) {
        s[YS + at] = 1f;
      }
    }
  }

  /**
   * Elements of a row summed in float lanes before the lanes go into a double: the row sums over
   * more classes add up blocks of this many (a float lane sum's error grows with its length: over
   * a row of 10^6 classes, 2.6e-5 of the softmax loss at 128 bits, an adversarial tester's find).
   * Rows of at most this many classes are one block, summed as before, bit for bit.
   */
  static final int ROW_SUM_BLOCK = 4096;

  /** Pass: the sum of c.prob[0, classes) into c.sum. */
  static void rowSum(Chunk ch) {
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

  /**
   * 1, a constant whose exact class C2 knows: {@code ONE.mul(v)} (the same bits as v) is v as such
   * a value, for a vector chosen on two paths (a loop's accumulator) before an operation is called
   * on it (see VectorKernel's class comment). Written out where it is needed, not as a method: a
   * method that takes a vector is inlined only while C2 has not compiled it on its own into more
   * than 625 bytes at a call site it counts as cold (the end of a pass, run once per call) or 2,500
   * at others, and compiled on its own, without its caller's types, such a method's vector
   * operations can fall to their Java fallback, which is big. On JDK 17 the helper {@code exact(v)}
   * that this replaced was in some JVMs compiled on its own and then called, not inlined, from the
   * ends of {@code ovaGradLoss} and {@code softmaxSmallExp}: its vector boxed on every call (0.75
   * bytes per element at 65536 x 16 for one-vs-all, with the loss's Kahan sums; JFR's allocation
   * stacks).
   */
  static final FloatVector ONE = FloatVector.broadcast(S, 1f);
  /** 0 as ints, a constant: {@code INT_ZERO.or(v)} is {@code ONE.mul(v)} for ints. */
  static final IntVector INT_ZERO = ONE.reinterpretAsInts().and(0);

  /**
   * Lane-wise {@code neg ? b : a} for {@code neg} all ones or all zeros per lane (an arithmetic
   * shift of a sign), as bit operations (one vpternlogd on AVX-512). JDK 17's C2 keeps a compare's
   * mask as a vector and converts it to a mask register before each blend: a compare and blend
   * there is four operations; JDK 18 and later (JEP 417) keep masks in mask registers.
   */
  static FloatVector selectBySign(IntVector neg, FloatVector a, FloatVector b) {
    return a.reinterpretAsInts().lanewise(AND_NOT, neg)
        .or(b.reinterpretAsInts().and(neg)).reinterpretAsFloats();
  }

  static final float[] IOTA = iota();

  private static float[] iota() {
    float[] a = new float[L];
    for (int i = 0; i < L; i++) {
      a[i] = i;
    }
    return a;
  }

  /**
   * Zeroes the lanes below {@code done} of s[at, at + L): in the last vector of a segment, which
   * ends at the segment's end and so overlaps the chunks before it, the lanes they counted already.
   * Only that last chunk has done > 0, and it is that one vector, so the loss passes sum or store
   * every lane in their loops and this runs once, after: a mask in the loop cost a compare and a
   * blend per vector (two of the ~20 operations of the sigmoid's last pass). The mask is a compare
   * with IOTA, not indexInRange, which some compilations leave to its allocating Java fallback.
   */
  static void zeroCounted(float[] s, int at, int done) {
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
   * nested two-level sum would be boxed, see VectorKernel's class comment.)
   */
  static double sumTerms(float[] s, int n) {
    laneSums(s, TERMS, n / L, RED);
    return sumLanes(s, RED);
  }

  /**
   * s[to, to + L) = the lane-wise sum of the count vectors at s[from + v L], v in [0, count), with
   * Kahan's compensation in four interleaved sums (one is a chain of four dependent additions per
   * vector; interleaved, they overlap).
   */
  static void laneSums(float[] s, int from, int count, int to) {
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
  static void logInto(float[] s, int from, int to, int n) {
    for (int i = 0; i < n; i += L) {
      VectorMath.log(FloatVector.fromArray(S, s, from + i)).intoArray(s, to + i);
    }
  }

  /** s[to + i] = exp(k * s[from + i]). */
  static void expScaledInto(float[] s, int from, int to, int n, float k) {
    for (int i = 0; i < n; i += L) {
      VectorMath.exp(FloatVector.fromArray(S, s, from + i).mul(k)).intoArray(s, to + i);
    }
  }

  static void lnQPass(Chunk c) {
    logInto(c.s, Q, QG, c.n);
  }

  static void lnQFixPass(Chunk c) {
    if (c.p.gamma > LN_Q_FIX_GAMMA) {
      lnQFix(c.s, Q, PT, QG, c.n);
    }
  }

  /**
   * The gamma above which the general-gamma passes correct ln q for q's rounding ({@link #lnQFix}):
   * up to it, that rounding moves q^gamma by a factor of at most exp(10 x 2^-24), 1 + 6e-7, and the
   * correction's pass cost one-vs-all 0.90x and the sigmoid 0.97x at 4096 x 16 and 0.85x at 65536 x
   * 16 (gamma 2.5, paired A/B, JDK 17; softmax 0.99x to 1.00x). Above it, at gamma 20: one-vs-all
   * 0.93x (4096 x 16), the sigmoid 0.98x (65536 x 16), softmax 1.01x (4096 x 16); the loss's
   * largest relative error against the scalar kernel, 1,000 random configurations per gamma, went
   * from 1.2e-6 to 2.5e-7 at gamma 20, from 8.4e-6 to 1.2e-6 at 100 and from 4.7e-4 to 2.1e-6 at
   * 1e4 (docs/performance.md, "seventh stop").
   */
  static final float LN_Q_FIX_GAMMA = 10f;

  /**
   * ln q corrected for q's rounding, for q^gamma = exp(gamma ln q) with a general gamma: where q
   * >= 1/2, s[lnq + i] += ((1 - q) - p_t) / q, from q at s[q + i] and p_t at s[pt + i]. q = 1 - p_t
   * rounded to float carries a relative error of up to 2^-24, which q^gamma multiplies by gamma
   * (and where p_t is below 2^-25, q is 1 and q^gamma 1 instead of exp(-gamma p_t)); p_t, accurate
   * to an ulp or two relative wherever q >= 1/2 (p_t <= 1/2), gives ln q to first order: 1 - q is
   * exact there (Sterbenz), and ln(q + d) = ln q + d / q for the tiny d = (1 - q) - p_t. Where q <
   * 1/2 every form's q is accurate relative to itself (the other classes' sum, or 1 - p_t exact).
   * A pass of its own beside the logarithm's, which is about as large as a compilation can get
   * before C2's inlining cutoff ({@link VectorKernel}'s class comment).
   */
  static void lnQFix(float[] s, int q, int pt, int lnq, int n) {
    FloatVector ones = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < n; i += L) {
      FloatVector qv = FloatVector.fromArray(S, s, q + i);
      FloatVector d = ones.sub(qv).sub(FloatVector.fromArray(S, s, pt + i));
      FloatVector.fromArray(S, s, lnq + i)
          .add(d.div(qv).blend(0f, qv.compare(LT, 0.5f)))
          .intoArray(s, lnq + i);
    }
  }

  static void qPowGammaPass(Chunk c) {
    expScaledInto(c.s, QG, QG, c.n, c.p.gamma);
  }

  /**
   * Flips the 31 low bits of a negative float's bits: {@code b ^ ((b >> 31) & KEY_FLIP)} maps float
   * bits b to int keys that order as the floats do (-0 below +0), and back; {@code b & KEY_FLIP} is
   * the bits of |x|, above {@link #INF_BITS} for NaN alone.
   */
  static final int KEY_FLIP = 0x7fffffff;

  /** The bits of +Infinity. */
  static final int INF_BITS = 0x7f800000;

  /** The key of a NaN lane, above every other: {@link #maxOfKeys} maps it to NaN. */
  static final int KEY_NAN = Integer.MAX_VALUE;

  /**
   * The float whose key (see {@link #KEY_FLIP}) is {@code key}: a row's largest logit from the
   * integer max of its lanes' keys, NaN lanes' keys replaced by {@link #KEY_NAN}, written out at
   * each use as {@code bits.lanewise(XOR, bits.lanewise(ASHR, 31).lanewise(AND, KEY_FLIP))
   * .blend(KEY_NAN, bits.lanewise(AND, KEY_FLIP).compare(GT, INF_BITS)).reduceLanes(MAX)} (vectors
   * are not passed to methods here: where C2 does not inline the call, they are boxed). The same
   * float as a FloatVector's {@code reduceLanes(MAX)} wherever no lane is NaN, and NaN wherever one
   * is, whatever its sign bit ({@code LaneMaxTest}). JDK 17's C2 compiles the float reduction with
   * Java's NaN and signed-zero rules: four levels of two {@code vblendvps}, a max, a compare and a
   * third {@code vblendvps} each (read off its code with -XX:+PrintAssembly), where the integer one
   * takes an extract and a {@code vpmaxsd} per level. Softmax with class indices over 16 classes,
   * whose pass of the rows' maxima took 43% of its time at 4096 x 16: 1.29x and 1.70x at 4096 x 16,
   * 1.40x and 1.18x at 65536 x 16 (two JMH runs, medians of 3 rounds each, checks on, JDK 17;
   * docs/performance.md).
   */
  static float maxOfKeys(int key) {
    return Float.intBitsToFloat(key ^ ((key >> 31) & KEY_FLIP));
  }

  /**
   * The sum of the L floats at s[off..] in double, in a fixed order. Used instead of {@code
   * reduceLanes(ADD)}, whose order is unspecified and differs between the interpreter and C2 on
   * JDK 24+: results must not depend on when the JIT compiled the kernel.
   */
  static double sumLanes(float[] s, int off) {
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
}
