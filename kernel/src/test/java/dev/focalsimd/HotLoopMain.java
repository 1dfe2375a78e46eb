package dev.focalsimd;

import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * Run by {@link HotLoopTest} in a fresh JVM: calls {@code forwardBackward} back to back from this
 * method's own loop, as a trainer's loop does (the loop is compiled with the library's entry
 * methods inlined into it), on batches of 2^20 elements (the streaming passes), then counts the
 * bytes the calling thread allocates per call. Prints one line per case; exit status 1 if a case
 * allocated {@link #LIMIT_BYTES_PER_CALL} or more per call.
 *
 * <p>The input that showed the defect: one-vs-all at 65536 x 16 with the value checks on, JDK 17,
 * vector kernel. Commit 3be4dc1 called a pass directly instead of through the one call site that
 * keeps each pass its own compilation; in this loop its compiled passes then left their vector
 * operations to the Java fallback and allocated 158 MB per call (151 bytes per element), at
 * a twentieth of the speed.
 */
public final class HotLoopMain {
  /** A 2^20-element call that allocates per element allocates at least this much. */
  static final long LIMIT_BYTES_PER_CALL = 64 * 1024;
  static final long WARM_NANOS = 2_500_000_000L;
  static final int MEASURED_CALLS = 50;

  public static void main(String[] args) {
    int rows = 65536;
    int classes = 16;
    Random r = new Random(7);
    float[] p = new float[rows * classes];
    float[] y = new float[rows * classes];
    float[] z = new float[rows * classes];
    int[] t = new int[rows];
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
    float[] alpha = new float[classes];
    for (int c = 0; c < classes; c++) {
      alpha[c] = 0.25f + r.nextFloat();
    }
    float[] grad = new float[rows * classes];
    int bad = 0;
    for (boolean checks : new boolean[] {true, false}) {
      FocalLoss ova = FocalLoss.oneVsAll().gamma(2f).alpha(alpha).validateValues(checks).build();
      FocalLoss sigmoid = FocalLoss.sigmoid().gamma(2f).alpha(0.25f).validateValues(checks)
          .build();
      FocalLoss softmax = FocalLoss.softmax().gamma(2f).alpha(alpha).validateValues(checks)
          .build();
      bad += measure("one_vs_all, checks " + checks, () -> ova.forwardBackward(p, y, classes,
          grad));
      bad += measure("sigmoid, checks " + checks, () -> sigmoid.forwardBackward(z, y, classes,
          grad));
      bad += measure("softmax, checks " + checks, () -> softmax.forwardBackward(z, t, classes,
          grad));
    }
    System.out.println(bad == 0 ? "HotLoopMain: no case allocated per element"
        : "HotLoopMain: " + bad + " case(s) allocated per element");
    System.exit(bad == 0 ? 0 : 1);
  }

  /** A call of the library, returning its loss. */
  interface Call {
    float run();
  }

  /** Warms call up in a loop of its own, then measures; 1 if it allocated too much, else 0. */
  private static int measure(String name, Call call) {
    double sink = 0;
    int calls = 0;
    long start = System.nanoTime();
    while (System.nanoTime() - start < WARM_NANOS) {
      sink += call.run();
      calls++;
    }
    long before = allocatedBytes();
    long t0 = System.nanoTime();
    for (int i = 0; i < MEASURED_CALLS; i++) {
      sink += call.run();
    }
    long nanos = System.nanoTime() - t0;
    long perCall = (allocatedBytes() - before) / MEASURED_CALLS;
    boolean bad = perCall >= LIMIT_BYTES_PER_CALL || !Double.isFinite(sink);
    System.out.printf("%s: %d warm-up calls, %d bytes per call, %.2f ms per call%s%n", name,
        calls, perCall, nanos / 1e6 / MEASURED_CALLS, bad ? "  <- TOO MUCH" : "");
    return bad ? 1 : 0;
  }

  /**
   * The bytes this thread has allocated (HotSpot's {@code com.sun.management.ThreadMXBean}, by
   * reflection: the test module does not read jdk.management).
   */
  private static long allocatedBytes() {
    try {
      return (long) Class.forName("com.sun.management.ThreadMXBean")
          .getMethod("getCurrentThreadAllocatedBytes").invoke(ManagementFactory.getThreadMXBean());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("no per-thread allocation count in this JVM", e);
    }
  }

  private HotLoopMain() {}
}
