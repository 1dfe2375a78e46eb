package dev.focalsimd;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Random;

/**
 * Run by {@link HotLoopTest} in a fresh JVM: calls the library back to back from this method's own
 * loop, as a trainer's loop does (the loop is compiled with the library's entry methods inlined
 * into it), on batches of 2^20 elements and more (the streaming passes; {@code shortLastBlock}: a
 * batch's last block shorter than a vector), then counts the bytes the calling thread allocates
 * per call. One suite per JVM (argument: its name), because what C2 compiles for some cases alone
 * differs from what it compiles after others. Prints one line per case; exit status 1 if a case
 * allocated {@link #LIMIT_BYTES_PER_CALL} or more per call.
 *
 * <p>The inputs that showed the defects, all on JDK 17 with the vector kernel (the passes left
 * their vector operations to the Java fallback, which allocates per vector):
 *
 * <ul>
 *   <li>{@code forms}: one-vs-all at 65536 x 16. Commit 3be4dc1 called a pass directly instead of
 *       through the call site meant to keep each pass its own compilation (then an interface
 *       call): 158 MB per call (151 bytes per element), a twentieth of the speed.
 *   <li>{@code large}: one-vs-all and softmax at 8192 x 1000 with the value checks. The finiteness
 *       scan held a zero vector in a local across its loops and put it on the heap once per
 *       16K-element block: 40 KB per call at 512 bits, 24 KB at 256.
 *   <li>{@code distribution}: softmax with a target distribution at 65536 x 16. One pass held two
 *       elementary functions (exp and expm1): 6 MB per call.
 *   <li>{@code ovaLogits}: one-vs-all from logits, gamma 2.5, at 65536 x 16 (now 65535 x 16). The
 *       softmax pass held the exponentials and the normalizing loop: 17 MB per call.
 *   <li>{@code heapBuffers}: softmax with class indices at 4096 x 1000 through heap {@code
 *       FloatBuffer}s. The row-max pass carried running maxima through its loops as the receivers
 *       of blends: 0.27 to 2.75 MB per call in 4 of 5 JVMs of the audit's harness (the same data
 *       as arrays: 0 of 3). This suite, the audit's shape and call, did not reproduce it on that
 *       code in 2 runs (C2's choices differ with the caller's code): a guard, not a proof.
 *   <li>{@code forms} at 256 bits with the machine loaded (two other processes spinning): the
 *       one-vs-all passes' interface call, inlined where C2 knew or guessed the pass from the
 *       call's type profile, took the logarithm's pass into {@code ovaPipelined}: 207 MB per call
 *       in 1 JVM of 3 (in the clean-clone CI run of 6c3d8fb too). With JFR recording as well (its
 *       start moves the compilations), in 4 and 5 JVMs of 10 in two runs: one-vs-all 786 KB per
 *       call and softmax 17.6 MB, from a helper {@code exact(v)} compiled on its own and then not
 *       inlined at the ends of passes, and a loop accumulator as the receiver of a blend.
 *   <li>{@code hessian}: softmax {@code gradientHessian} with class indices at 4096 x 1000. Loop
 *       maxima and accumulators as receivers of blends: 98,304 bytes per call (2 JVMs of 2 with
 *       the audit's harness). With the scalar kernel (the CI pass without the vector module), a
 *       new row array per block of rows: 2,052,116 bytes per call.
 *   <li>{@code ovaLogits} over more than 64 classes (10485 x 100, added with the fix): the row
 *       path's Jacobian, once it summed in blocks of 4096 classes (143d8de), carried its lane-wise
 *       maxima across the blocks' loop in locals, and JDK 17's C2 left their max to the
 *       allocating fallback: 14,091,840 bytes per call (a tester's find; 5,760 at 65535 x 16,
 *       whose last 15 rows took the row path).
 *   <li>{@code ovaLogits} at 65535 x 16, 128 bits (this suite's first CI run at that shape): the
 *       rows left after the last full group of rows went by the row path, once per call, and its
 *       methods were still run by C1's code (the Vector API's Java fallback) after 20 s of calls:
 *       27 KB per call. The last group now overlaps the one before it (no path once per call).
 *   <li>{@code ovaLogits}, after the passes were called through method handles (b468671): 8 MB
 *       per call in 1 JVM of a clean-clone CI run at 512 bits, 33 MB in 2 of 12 JVMs under load
 *       with JFR, 8 MB in 3 of 16 with {@code -XX:+LogCompilation}. The cause was not the handles:
 *       the compilations' totals of {@code class_check} traps stood at 96 to 135, around C2's
 *       limit of 100, by one trap more or less in a JDK method during warm-up (see {@code
 *       OperatorProfiles}); with the limit at 20 ({@link HotLoopTest}) every JVM tried of this
 *       suite, {@code forms}, {@code distribution} and {@code large} allocated on that code.
 * </ul>
 */
public final class HotLoopMain {
  /**
   * About nothing per call: a 2^20-element call that allocates per element, or per 16K-element
   * scan block (64 of them per array), allocates more.
   */
  static final long LIMIT_BYTES_PER_CALL = 1024;
  static final long WARM_NANOS = 2_500_000_000L;
  /** How long no compilation may finish before the JIT counts as done with a case. */
  static final long QUIET_NANOS = 1_000_000_000L;
  /** The most a case warms up before a measurement, whether or not the JIT is done. */
  static final long MAX_WARM_NANOS = 10_000_000_000L;
  /** Measurements of a case, each after the JIT is done again, before it counts as allocating. */
  static final int ATTEMPTS = 3;
  static final int MEASURED_CALLS = 50;

  /** The suites, in the order {@link HotLoopTest} runs them. */
  static final String[] SUITES = {
      "forms", "large", "distribution", "ovaLogits", "shortLastBlock", "heapBuffers", "hessian"};

  public static void main(String[] args) {
    String suite = args.length == 0 ? "forms" : args[0];
    int bad = 0;
    switch (suite) {
      case "forms": // every form at 65536 x 16, value checks on and off
        for (boolean checks : new boolean[] {true, false}) {
          Batch b = new Batch(65536, 16);
          bad += b.measure("one_vs_all", FocalLoss.oneVsAll().alpha(b.alpha), checks, false);
          bad += b.measure("softmax", FocalLoss.softmax().alpha(b.alpha), checks, true);
          bad += b.measure("sigmoid", FocalLoss.sigmoid().alpha(0.25f), checks, false);
          // class weights: the weight loads in the sigmoid's last pass (one loop with the terms
          // since the third stop of 2026-12-07)
          bad += b.measure("sigmoid, class weights",
              FocalLoss.sigmoid().alpha(0.25f).classWeights(b.alpha), checks, false);
          // class indices: counted by the kernel (a vector of indices at a time since the fourth
          // stop of 2026-12-07), then one-hot targets a piece at a time
          bad += b.measure("one_vs_all, class indices", FocalLoss.oneVsAll().alpha(b.alpha),
              checks, true);
          bad += b.measure("sigmoid, class indices", FocalLoss.sigmoid().alpha(0.25f), checks,
              true);
        }
        break;
      case "large": { // 8M elements: 512 scan blocks per array
        Batch b = new Batch(8192, 1000);
        bad += b.measure("one_vs_all", FocalLoss.oneVsAll().alpha(b.alpha), true, false);
        bad += b.measure("softmax", FocalLoss.softmax().alpha(b.alpha), true, true);
        break;
      }
      case "distribution": {
        Batch b = new Batch(65536, 16);
        b.distributions();
        bad += b.measure("softmax, target distribution", FocalLoss.softmax(), true, false);
        break;
      }
      case "ovaLogits": {
        // 65535 rows: not a multiple of any species' lane count, so the last group of rows
        // overlaps the one before it
        Batch b = new Batch(65535, 16);
        bad += b.measure("one_vs_all from logits, gamma 2.5",
            FocalLoss.oneVsAll().fromLogits(true).gamma(2.5f), true, false);
        // more than 64 classes: every row by the row path (its Jacobian's blocks)
        Batch wide = new Batch(10485, 100);
        bad += wide.measure("one_vs_all from logits", FocalLoss.oneVsAll().fromLogits(true), true,
            true);
        break;
      }
      case "shortLastBlock": {
        // batches whose last block (FocalLoss.BLOCK_ELEMENTS) is shorter than a vector at every
        // width: 3 elements of one class, 3 rows of 16 (fewer than a group of L rows), which the
        // vector kernel pads to a vector or a group and runs once per call
        Batch b = new Batch(16387, 1);
        bad += b.measure("one_vs_all", FocalLoss.oneVsAll(), true, false);
        Batch g = new Batch(1027, 16);
        bad += g.measure("one_vs_all from logits", FocalLoss.oneVsAll().fromLogits(true), true,
            true);
        break;
      }
      case "heapBuffers": { // the FloatBuffer entry point over heap buffers
        Batch b = new Batch(4096, 1000);
        FocalLoss l = FocalLoss.softmax().alpha(b.alpha).build();
        FloatBuffer x = FloatBuffer.wrap(b.z);
        IntBuffer t = IntBuffer.wrap(b.t);
        FloatBuffer g = FloatBuffer.wrap(b.grad);
        bad += measure("softmax, heap buffers, 4096 x 1000",
            () -> l.forwardBackward(x, t, b.classes, g));
        break;
      }
      case "hessian": { // gradientHessian, softmax with class indices over 1000 classes
        Batch b = new Batch(4096, 1000);
        FocalLoss l = FocalLoss.softmax().alpha(b.alpha).build();
        float[] h = new float[b.rows * b.classes];
        bad += measure("softmax gradientHessian, 4096 x 1000", () -> {
          l.gradientHessian(b.z, b.t, b.classes, b.grad, h);
          return b.grad[7] + h[7];
        });
        break;
      }
      default:
        throw new IllegalArgumentException("suite = " + suite + ", not one of "
            + String.join(", ", SUITES));
    }
    System.out.println(bad == 0
        ? "HotLoopMain " + suite + ": no case allocated " + LIMIT_BYTES_PER_CALL
            + " bytes per call or more"
        : "HotLoopMain " + suite + ": " + bad + " case(s) allocated more");
    System.exit(bad == 0 ? 0 : 1);
  }

  /** A batch's arrays: probabilities p, logits z, one-hot targets y and their class indices t. */
  private static final class Batch {
    final int rows;
    final int classes;
    final float[] p;
    final float[] y;
    final float[] z;
    final int[] t;
    final float[] alpha;
    final float[] grad;

    Batch(int rows, int classes) {
      this.rows = rows;
      this.classes = classes;
      Random r = new Random(7);
      p = new float[rows * classes];
      y = new float[rows * classes];
      z = new float[rows * classes];
      t = new int[rows];
      for (int i = 0; i < rows; i++) {
        t[i] = r.nextInt(classes);
        float sum = 0;
        for (int c = 0; c < classes; c++) {
          z[i * classes + c] = 4 * r.nextFloat() - 2;
          p[i * classes + c] = 0.05f + r.nextFloat();
          sum += p[i * classes + c];
        }
        for (int c = 0; c < classes; c++) {
          p[i * classes + c] /= sum;
        }
        y[i * classes + t[i]] = 1f;
      }
      alpha = new float[classes];
      for (int c = 0; c < classes; c++) {
        alpha[c] = 0.25f + r.nextFloat();
      }
      grad = new float[rows * classes];
    }

    /** The targets y become a distribution over each row's classes (none of them 0). */
    void distributions() {
      for (int i = 0; i < rows; i++) {
        float sum = 0;
        for (int c = 0; c < classes; c++) {
          y[i * classes + c] = 0.1f + p[i * classes + c];
          sum += y[i * classes + c];
        }
        for (int c = 0; c < classes; c++) {
          y[i * classes + c] /= sum;
        }
      }
    }

    /**
     * forwardBackward of builder (gamma 2, the default, unless set) with the value checks on or
     * off, on the probabilities (one-vs-all on probabilities) or logits, with dense targets or
     * class indices; 1 if it allocated too much, else 0.
     */
    int measure(String name, FocalLoss.Builder<?> builder, boolean checks, boolean indices) {
      FocalLoss l = builder.validateValues(checks).build();
      // probabilities for one-vs-all on probabilities, logits for every other case (one-vs-all from
      // logits included)
      boolean probabilities = name.equals("one_vs_all") || name.startsWith("one_vs_all, ");
      float[] x = probabilities ? p : z;
      Call call = indices ? () -> l.forwardBackward(x, t, classes, grad)
          : () -> l.forwardBackward(x, y, classes, grad);
      return HotLoopMain.measure(name + ", " + rows + " x " + classes + ", checks " + checks,
          call);
    }
  }

  /** A call of the library, returning its loss. */
  interface Call {
    float run();
  }

  /**
   * Warms call up in a loop of its own until the JIT is done with it, then measures; 1 if it
   * allocated too much, else 0. Done means at least {@link #WARM_NANOS} of calls and then {@link
   * #QUIET_NANOS} of calls in which no compilation finished (the JVM's total compilation time did
   * not move), or {@link #MAX_WARM_NANOS} in all. A fixed warm-up of 2.5 s alone measured code that
   * was still being compiled where the machine was busy: with two other processes spinning on
   * this 2-core machine, the one-vs-all case with the checks (the suite's first) allocated 3.8 MB
   * per call (1 of 2 runs), and beside another test JVM the heap-buffer softmax allocated 54,747
   * bytes per call after 33 warm-up calls instead of about 230 (1 of 15 runs). A case that
   * allocates in {@link #ATTEMPTS} measurements in a row, each after the compiler was quiet again,
   * is a defect: the one-vs-all case's 207 MB per call at 256 bits, seen in a single JVM of the
   * clean-clone CI run of 6c3d8fb, came back that way under that load (1 JVM of 3).
   */
  private static int measure(String name, Call call) {
    double sink = 0;
    int calls = 0;
    long start = System.nanoTime();
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    long perCall = 0;
    double msPerCall = 0;
    int attempt = 0;
    boolean bad = true;
    while (bad && attempt < ATTEMPTS) {
      attempt++;
      long quietSince = System.nanoTime();
      long compiled = jit.getTotalCompilationTime();
      while (true) {
        sink += call.run();
        calls++;
        long now = System.nanoTime();
        long c = jit.getTotalCompilationTime();
        if (c != compiled) {
          compiled = c;
          quietSince = now;
        }
        boolean warm = now - start >= WARM_NANOS && now - quietSince >= QUIET_NANOS;
        if (warm || now - start >= MAX_WARM_NANOS * attempt) {
          break;
        }
      }
      long before = allocatedBytes();
      long t0 = System.nanoTime();
      for (int i = 0; i < MEASURED_CALLS; i++) {
        sink += call.run();
      }
      msPerCall = (System.nanoTime() - t0) / 1e6 / MEASURED_CALLS;
      perCall = (allocatedBytes() - before) / MEASURED_CALLS;
      bad = perCall >= LIMIT_BYTES_PER_CALL || !Double.isFinite(sink);
      if (bad && attempt < ATTEMPTS) {
        System.out.printf("%s: measurement %d allocated %d bytes per call, again%n", name, attempt,
            perCall);
      }
    }
    System.out.printf("%s: %d warm-up calls in %.1f s, %d bytes per call, %.2f ms per call%s%n",
        name, calls, (System.nanoTime() - start) / 1e9, perCall, msPerCall,
        bad ? "  <- TOO MUCH" : "");
    return bad ? 1 : 0;
  }

  /**
   * HotSpot's {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, bound to
   * the platform's thread bean, as {@code ()long}: looked up once by reflection (the test module
   * does not read jdk.management) and called through a method handle, which neither boxes the count
   * nor allocates per call once warm.
   */
  private static final MethodHandle ALLOCATED_BYTES = allocatedBytesHandle();

  /**
   * Calls of {@link #allocatedBytes} at class initialization, before any measurement: past the
   * method handle's one-time costs (its lambda forms are specialized after 127 calls), so that
   * they fall in no measured window. Until 2026-12-07 each call went through {@code
   * Method.invoke}, which JDK 17 (not 18 on, JEP 416) replaces after 15 calls by a generated
   * accessor class: about 15.7 KB allocated once, in the window of the {@code forms} suite's
   * eighth case (the 16th call), which read as 314 bytes per call of the sigmoid with class weights
   * on both kernels and at every width, and only on JDK 17.
   */
  private static final int WARM_CALLS = 1000;

  static {
    for (int i = 0; i < WARM_CALLS; i++) {
      allocatedBytes();
    }
  }

  private static MethodHandle allocatedBytesHandle() {
    try {
      Method m = Class.forName("com.sun.management.ThreadMXBean")
          .getMethod("getCurrentThreadAllocatedBytes");
      return MethodHandles.publicLookup().unreflect(m)
          .bindTo(ManagementFactory.getThreadMXBean())
          .asType(MethodType.methodType(long.class));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("no per-thread allocation count in this JVM", e);
    }
  }

  /** The bytes this thread has allocated so far. */
  static long allocatedBytes() {
    try {
      return (long) ALLOCATED_BYTES.invokeExact();
    } catch (Throwable e) {
      throw new IllegalStateException("the per-thread allocation count failed", e);
    }
  }

  private HotLoopMain() {}
}
