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
 * a twentieth of the speed. And the value checks' finiteness scan left one vector of zeros on the
 * heap per 16K-element block in a fresh JVM running only the 8192 x 1000 cases (40 KB per call at
 * 512 bits, 24 KB at 256), while it held that vector in a local across its loops.
 */
public final class HotLoopMain {
  /**
   * About nothing per call: a 2^20-element call that allocates per element, or per 16K-element
   * scan block (64 of them per array), allocates more.
   */
  static final long LIMIT_BYTES_PER_CALL = 1024;
  static final long WARM_NANOS = 2_500_000_000L;
  static final int MEASURED_CALLS = 50;

  /**
   * No arguments: every form at 65536 x 16, value checks on and off. Arguments {@code rows
   * classes}: one-vs-all and softmax at that shape, checks on (what a fresh JVM compiles for
   * these alone can differ from what it compiles after other cases).
   */
  public static void main(String[] args) {
    int bad = 0;
    if (args.length == 2) {
      bad += batch(Integer.parseInt(args[0]), Integer.parseInt(args[1]), true, false);
    } else {
      for (boolean checks : new boolean[] {true, false}) {
        bad += batch(65536, 16, checks, true);
      }
    }
    System.out.println(bad == 0
        ? "HotLoopMain: no case allocated " + LIMIT_BYTES_PER_CALL + " bytes per call or more"
        : "HotLoopMain: " + bad + " case(s) allocated more");
    System.exit(bad == 0 ? 0 : 1);
  }

  /**
   * One batch of rows x classes: one-vs-all and softmax, and (if sigmoid) the sigmoid; the number
   * of cases that allocated too much.
   */
  private static int batch(int rows, int classes, boolean checks, boolean sigmoid) {
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
    String shape = rows + " x " + classes + ", checks " + checks;
    FocalLoss ova = FocalLoss.oneVsAll().gamma(2f).alpha(alpha).validateValues(checks).build();
    FocalLoss softmax = FocalLoss.softmax().gamma(2f).alpha(alpha).validateValues(checks).build();
    int bad = measure("one_vs_all, " + shape, () -> ova.forwardBackward(p, y, classes, grad));
    bad += measure("softmax, " + shape, () -> softmax.forwardBackward(z, t, classes, grad));
    if (sigmoid) {
      FocalLoss sig = FocalLoss.sigmoid().gamma(2f).alpha(0.25f).validateValues(checks).build();
      bad += measure("sigmoid, " + shape, () -> sig.forwardBackward(z, y, classes, grad));
    }
    return bad;
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
