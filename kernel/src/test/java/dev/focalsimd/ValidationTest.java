package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Every kind of bad input of issue 5, for every form, target kind, method and container (array,
 * heap buffer at a position, direct buffer at a position): the exception type, a message naming
 * the argument and value, and outputs, inputs and buffer positions/limits exactly as they were.
 */
class ValidationTest {

  /** Number of distinct bad-input kinds exercised by {@link #everyBadCall()}; checked below. */
  static final int CALL_KINDS = BadCall.values().length;

  enum Form { ONE_VS_ALL, SOFTMAX, SIGMOID }

  enum Method { FORWARD, FORWARD_BACKWARD, PER_SAMPLE }

  enum Container { ARRAY, HEAP_BUFFER, DIRECT_BUFFER }

  /** The bad-input kinds of issue 5's validation list that concern a call's arguments. */
  enum BadCall {
    NULL_INPUT, NULL_TARGETS, NULL_OUTPUT,
    CLASSES_ZERO, CLASSES_NEGATIVE, INPUT_NOT_MULTIPLE,
    TARGETS_TOO_SHORT, TARGETS_TOO_LONG, OUTPUT_TOO_SHORT, OUTPUT_TOO_LONG,
    INDEX_NEGATIVE, INDEX_TOO_LARGE, INDEX_MAX_INT, INDEX_LATE,
    INPUT_NAN, INPUT_POS_INF, INPUT_NEG_INF, INPUT_NAN_LATE,
    TARGET_NAN, TARGET_INF, TARGET_BELOW_ZERO, TARGET_ABOVE_ONE, TARGET_LATE,
    ALPHA_LENGTH, READ_ONLY_OUTPUT
  }

  private static final int N = 5;
  private static final int C = 3;
  /** Rows of the "late" cases: more than one block of FocalLoss.BLOCK_ELEMENTS elements. */
  private static final int LATE_N = FocalLoss.BLOCK_ELEMENTS / C + 400;
  private static final int PAD = 3;
  private static final int TAIL = 2;

  // ------------------------------------------------------------------ call validation

  @TestFactory
  Stream<DynamicTest> everyBadCall() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Kernel kernel : GoldenTest.kernels()) {
      for (Form form : Form.values()) {
        for (boolean indices : new boolean[] {false, true}) {
          for (Method method : Method.values()) {
            for (Container container : Container.values()) {
              for (BadCall bad : BadCall.values()) {
                if (!applies(bad, indices, method, container)) {
                  continue;
                }
                String name = kernel + " " + form + (indices ? " indices " : " dense ") + method
                    + " " + container + " " + bad;
                tests.add(DynamicTest.dynamicTest(name,
                    () -> new Case(kernel, form, indices, method, container, bad).check()));
              }
            }
          }
        }
      }
    }
    return tests.stream();
  }

  static boolean applies(BadCall bad, boolean indices, Method method, Container container) {
    switch (bad) {
      case NULL_OUTPUT:
      case OUTPUT_TOO_SHORT:
      case OUTPUT_TOO_LONG:
        return method != Method.FORWARD;
      case READ_ONLY_OUTPUT:
        return method != Method.FORWARD && container != Container.ARRAY;
      case INDEX_NEGATIVE:
      case INDEX_TOO_LARGE:
      case INDEX_MAX_INT:
      case INDEX_LATE:
        return indices;
      case TARGET_NAN:
      case TARGET_INF:
      case TARGET_BELOW_ZERO:
      case TARGET_ABOVE_ONE:
      case TARGET_LATE:
        return !indices;
      default:
        return true;
    }
  }

  /** One bad call: its arguments, the outputs prefilled with a sentinel, and the expectation. */
  static final class Case {
    final Kernel kernel;
    final Form form;
    final boolean indices;
    final Method method;
    final Container container;
    final BadCall bad;

    int n = N;
    int classes = C;
    float[] x;
    float[] y;
    int[] t;
    int outLength;
    Class<? extends RuntimeException> expected = IllegalArgumentException.class;
    final List<String> mustName = new ArrayList<>();

    Case(Kernel kernel, Form form, boolean indices, Method method, Container container,
        BadCall bad) {
      this.kernel = kernel;
      this.form = form;
      this.indices = indices;
      this.method = method;
      this.container = container;
      this.bad = bad;
    }

    FocalLoss loss() {
      boolean wrongAlpha = bad == BadCall.ALPHA_LENGTH;
      switch (form) {
        case ONE_VS_ALL: {
          FocalLoss.OneVsAllBuilder b = FocalLoss.oneVsAll().gamma(2f).reduction(Reduction.MEAN);
          b.alpha(wrongAlpha ? new float[] {0.1f, 0.2f, 0.3f, 0.4f} : new float[] {.2f, .3f, .5f});
          return b.kernel(kernel).build();
        }
        case SOFTMAX: {
          FocalLoss.SoftmaxBuilder b = FocalLoss.softmax().gamma(0.5f).reduction(Reduction.MEAN);
          b.alpha(wrongAlpha ? new float[] {1f, 1f} : new float[] {1f, 2f, 0.5f});
          return b.kernel(kernel).build();
        }
        default: {
          FocalLoss.SigmoidBuilder b = FocalLoss.sigmoid().gamma(2f).alpha(0.25f)
              .reduction(Reduction.SUM);
          b.classWeights(wrongAlpha ? new float[] {1f, 2f, 3f, 4f} : new float[] {1f, 2f, 3f});
          return b.kernel(kernel).build();
        }
      }
    }

    /** Valid arguments of n x classes, then the one change this case makes. */
    void prepare() {
      boolean late = bad == BadCall.INDEX_LATE || bad == BadCall.INPUT_NAN_LATE
          || bad == BadCall.TARGET_LATE;
      if (late) {
        n = LATE_N;
      }
      x = new float[n * classes];
      for (int i = 0; i < x.length; i++) {
        // Probabilities for one-vs-all, modest logits otherwise; both valid everywhere.
        x[i] = form == Form.ONE_VS_ALL ? 0.05f + 0.9f * ((i * 37) % 101) / 101f
            : ((i * 53) % 97) / 97f * 6f - 3f;
      }
      t = new int[n];
      y = new float[n * classes];
      for (int r = 0; r < n; r++) {
        t[r] = (r * 7) % classes;
        y[r * classes + t[r]] = 1f;
      }
      int outRows = method == Method.PER_SAMPLE ? 1 : classes;
      int lastRow = n - 1;
      switch (bad) {
        case NULL_INPUT:
          expected = NullPointerException.class;
          mustName.add("input");
          break;
        case NULL_TARGETS:
          expected = NullPointerException.class;
          mustName.add("targets");
          break;
        case NULL_OUTPUT:
          expected = NullPointerException.class;
          mustName.add(outputName());
          break;
        case CLASSES_ZERO:
          classes = 0;
          mustName.add("classes = 0");
          break;
        case CLASSES_NEGATIVE:
          classes = -3;
          mustName.add("classes = -3");
          break;
        case INPUT_NOT_MULTIPLE:
          x = Arrays.copyOf(x, x.length + 1);
          mustName.add("input");
          mustName.add(String.valueOf(x.length));
          mustName.add("classes = " + C);
          break;
        case TARGETS_TOO_SHORT:
        case TARGETS_TOO_LONG: {
          int d = bad == BadCall.TARGETS_TOO_SHORT ? -1 : 1;
          if (indices) {
            t = Arrays.copyOf(t, t.length + d);
            mustName.add("targets has length " + t.length + ", expected " + n);
          } else {
            y = Arrays.copyOf(y, y.length + d);
            mustName.add("targets has length " + y.length + ", expected " + n * classes);
          }
          break;
        }
        case OUTPUT_TOO_SHORT:
        case OUTPUT_TOO_LONG: {
          int d = bad == BadCall.OUTPUT_TOO_SHORT ? -1 : 1;
          outLength = n * outRows + d;
          mustName.add(outputName() + " has length " + outLength + ", expected " + n * outRows);
          return;
        }
        case INDEX_NEGATIVE:
          t[2] = -1;
          t[4] = -2;
          mustName.add("targets[2] = -1");
          break;
        case INDEX_TOO_LARGE: {
          // C is background for sigmoid, so C + 1 is the first bad index there.
          int v = form == Form.SIGMOID ? C + 1 : C;
          t[3] = v;
          mustName.add("targets[3] = " + v);
          break;
        }
        case INDEX_MAX_INT:
          t[1] = Integer.MAX_VALUE;
          mustName.add("targets[1] = " + Integer.MAX_VALUE);
          break;
        case INDEX_LATE:
          t[lastRow] = -7;
          mustName.add("targets[" + lastRow + "] = -7");
          break;
        case INPUT_NAN:
          x[4] = Float.NaN;
          x[7] = Float.POSITIVE_INFINITY;
          mustName.add("input[4] = NaN");
          break;
        case INPUT_POS_INF:
          x[x.length - 1] = Float.POSITIVE_INFINITY;
          mustName.add("input[" + (x.length - 1) + "] = Infinity");
          break;
        case INPUT_NEG_INF:
          x[0] = Float.NEGATIVE_INFINITY;
          mustName.add("input[0] = -Infinity");
          break;
        case INPUT_NAN_LATE:
          x[x.length - 2] = Float.NaN;
          mustName.add("input[" + (x.length - 2) + "] = NaN");
          break;
        case TARGET_NAN:
          y[5] = Float.NaN;
          y[6] = 2f;
          mustName.add("targets[5] = NaN");
          break;
        case TARGET_INF:
          y[2] = Float.POSITIVE_INFINITY;
          mustName.add("targets[2] = Infinity");
          break;
        case TARGET_BELOW_ZERO:
          y[3] = -0.5f;
          mustName.add("targets[3] = -0.5");
          break;
        case TARGET_ABOVE_ONE:
          y[y.length - 1] = 1.5f;
          mustName.add("targets[" + (y.length - 1) + "] = 1.5");
          break;
        case TARGET_LATE:
          y[y.length - 3] = -1f;
          mustName.add("targets[" + (y.length - 3) + "] = -1.0");
          break;
        case ALPHA_LENGTH:
          mustName.add(form == Form.SIGMOID ? "classWeights" : "alpha");
          mustName.add(String.valueOf(form == Form.SOFTMAX ? 2 : 4));
          mustName.add("classes = " + C);
          break;
        case READ_ONLY_OUTPUT:
          mustName.add(outputName() + " is a read-only buffer");
          break;
        default:
          fail("unhandled " + bad);
      }
      int rows = classes > 0 ? x.length / classes : n;
      outLength = (method == Method.PER_SAMPLE ? rows : x.length);
    }

    String outputName() {
      return method == Method.PER_SAMPLE ? "lossPerSample" : "gradInput";
    }

    void check() {
      FocalLoss loss = loss();
      prepare();
      float[] xCopy = x.clone();
      float[] yCopy = y.clone();
      int[] tCopy = t.clone();
      float[] out = sentinel(outLength);
      boolean nullIn = bad == BadCall.NULL_INPUT;
      boolean nullTargets = bad == BadCall.NULL_TARGETS;
      boolean nullOut = bad == BadCall.NULL_OUTPUT || method == Method.FORWARD;
      Executable call;
      Runnable after;
      if (container == Container.ARRAY) {
        float[] xa = nullIn ? null : x;
        float[] ya = nullTargets ? null : y;
        int[] ta = nullTargets ? null : t;
        float[] oa = nullOut ? null : out;
        call = () -> invokeArrays(loss, xa, ya, ta, oa);
        after = () -> assertSentinel(out, 0, out.length, "output array");
      } else {
        boolean direct = container == Container.DIRECT_BUFFER;
        FloatBuffer xb = floats(x, direct);
        FloatBuffer yb = floats(y, direct);
        IntBuffer tb = ints(t, direct);
        FloatBuffer ob = sentinelBuffer(outLength, direct);
        if (bad == BadCall.READ_ONLY_OUTPUT) {
          ob = ob.asReadOnlyBuffer();
        }
        FloatBuffer xa = nullIn ? null : xb;
        FloatBuffer ya = nullTargets ? null : yb;
        IntBuffer ta = nullTargets ? null : tb;
        FloatBuffer oa = nullOut ? null : ob;
        FloatBuffer obFinal = ob;
        call = () -> invokeBuffers(loss, xa, ya, ta, oa);
        after = () -> {
          assertView(xb, x.length, "input");
          assertView(yb, y.length, "targets");
          assertView(tb, t.length, "targets");
          assertView(obFinal, outLength, outputName());
          float[] all = new float[obFinal.capacity()];
          obFinal.duplicate().clear().get(all);
          assertSentinel(all, 0, all.length, "output buffer");
          float[] xAll = new float[xb.capacity()];
          xb.duplicate().clear().get(xAll);
          assertArrayBits(xCopy, Arrays.copyOfRange(xAll, PAD, PAD + x.length), "input buffer");
        };
      }
      RuntimeException e = assertThrows(expected, call);
      after.run();
      assertArrayBits(xCopy, x, "input");
      assertArrayBits(yCopy, y, "targets");
      assertTrue(Arrays.equals(tCopy, t), "targets (indices) unchanged");
      if (!mustName.isEmpty()) {
        String msg = e.getMessage();
        assertNotNull(msg, "exception has a message");
        for (String s : mustName) {
          assertTrue(msg.contains(s), () -> "message \"" + msg + "\" does not name \"" + s + "\"");
        }
      }
    }

    void invokeArrays(FocalLoss loss, float[] xa, float[] ya, int[] ta, float[] oa) {
      int c = classes;
      switch (method) {
        case FORWARD:
          if (indices) {
            loss.forward(xa, ta, c);
          } else {
            loss.forward(xa, ya, c);
          }
          break;
        case FORWARD_BACKWARD:
          if (indices) {
            loss.forwardBackward(xa, ta, c, oa);
          } else {
            loss.forwardBackward(xa, ya, c, oa);
          }
          break;
        default:
          if (indices) {
            loss.perSample(xa, ta, c, oa);
          } else {
            loss.perSample(xa, ya, c, oa);
          }
      }
    }

    void invokeBuffers(FocalLoss loss, FloatBuffer xa, FloatBuffer ya, IntBuffer ta,
        FloatBuffer oa) {
      int c = classes;
      switch (method) {
        case FORWARD:
          if (indices) {
            loss.forward(xa, ta, c);
          } else {
            loss.forward(xa, ya, c);
          }
          break;
        case FORWARD_BACKWARD:
          if (indices) {
            loss.forwardBackward(xa, ta, c, oa);
          } else {
            loss.forwardBackward(xa, ya, c, oa);
          }
          break;
        default:
          if (indices) {
            loss.perSample(xa, ta, c, oa);
          } else {
            loss.perSample(xa, ya, c, oa);
          }
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  /** A NaN with a payload that differs per index: no computed value can equal it by chance. */
  static float sentinelAt(int i) {
    return Float.intBitsToFloat(0x7fc00000 | (i & 0x3fffff));
  }

  static float[] sentinel(int n) {
    float[] a = new float[Math.max(0, n)];
    for (int i = 0; i < a.length; i++) {
      a[i] = sentinelAt(i);
    }
    return a;
  }

  static void assertSentinel(float[] a, int from, int to, String what) {
    for (int i = from; i < to; i++) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(sentinelAt(i))) {
        fail(what + "[" + i + "] was written: " + a[i]);
      }
    }
  }

  static void assertArrayBits(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        fail(what + "[" + i + "] changed: " + expected[i] + " -> " + actual[i]);
      }
    }
  }

  /**
   * A buffer of capacity PAD + values + TAIL whose view (position PAD, limit PAD + length) holds
   * the values; the pad and tail hold the sentinel pattern, shifted so it lines up for outputs.
   */
  static FloatBuffer floats(float[] values, boolean direct) {
    int cap = PAD + values.length + TAIL;
    FloatBuffer b = direct
        ? ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.nativeOrder()).asFloatBuffer()
        : FloatBuffer.wrap(new float[cap]);
    for (int i = 0; i < cap; i++) {
      b.put(i, sentinelAt(i));
    }
    b.put(PAD, values, 0, values.length);
    b.limit(PAD + values.length).position(PAD);
    return b;
  }

  /** An output buffer: every slot of its storage holds sentinelAt(slot); view PAD..PAD+length. */
  static FloatBuffer sentinelBuffer(int length, boolean direct) {
    int cap = PAD + Math.max(0, length) + TAIL;
    FloatBuffer b = direct
        ? ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.nativeOrder()).asFloatBuffer()
        : FloatBuffer.wrap(new float[cap]);
    for (int i = 0; i < cap; i++) {
      b.put(i, sentinelAt(i));
    }
    b.limit(PAD + Math.max(0, length)).position(PAD);
    return b;
  }

  static IntBuffer ints(int[] values, boolean direct) {
    int cap = PAD + values.length + TAIL;
    IntBuffer b = direct
        ? ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.nativeOrder()).asIntBuffer()
        : IntBuffer.wrap(new int[cap]);
    b.put(PAD, values, 0, values.length);
    b.limit(PAD + values.length).position(PAD);
    return b;
  }

  static void assertView(java.nio.Buffer b, int length, String what) {
    assertEquals(PAD, b.position(), what + " position moved");
    assertEquals(PAD + length, b.limit(), what + " limit moved");
  }

  // ------------------------------------------------------------------ builder validation

  /**
   * The vector scan's [0, 1] test at its edges: the floats next to 0 and 1 outside the interval
   * are rejected in every lane of a vector and in the scalar tail, and -0, 0, 1 and the smallest
   * subnormal are accepted.
   */
  @Test
  void targetsJustOutsideTheUnitIntervalAreRejectedInEveryLane() {
    int classes = 8;
    int len = 72; // 4.5 vectors of 16 lanes: vector lanes and a scalar tail
    float[] x = new float[len];
    Arrays.fill(x, 0.3f);
    for (Kernel kernel : new Kernel[] {Kernel.AUTO, Kernel.SCALAR}) {
      FocalLoss loss = FocalLoss.oneVsAll().kernel(kernel).build();
      float[] y = new float[len];
      for (int i = 0; i < len; i++) {
        y[i] = new float[] {-0f, 0f, 1f, Float.MIN_VALUE}[i % 4];
      }
      float[] g = new float[len];
      assertTrue(Float.isFinite(loss.forwardBackward(x, y, classes, g)), kernel.name());
      for (int at = 0; at < len; at++) {
        // NaN with the sign bit set too: the vector scan's fast integer test sees it only as a
        // negative value, as it sees -0
        for (float v : new float[] {Math.nextUp(1f), -Float.MIN_VALUE, -0.5f, Float.NaN,
            Float.intBitsToFloat(0xffc00000)}) {
          float[] bad = y.clone();
          bad[at] = v;
          int i = at;
          assertIae(() -> loss.forward(x, bad, classes), "targets[" + i + "] = " + v);
        }
      }
    }
  }

  /**
   * With parallelism above 1 the checks of a large batch run in parallel parts; they report what
   * the sequential check reports (the first bad input, else the first bad target, by index) and
   * leave the gradient untouched.
   */
  @Test
  void parallelChecksReportTheFirstBadValueAndTouchNothing() {
    int classes = 16;
    int len = 2 * FocalLoss.PARALLEL_THRESHOLD + 48;
    float[] x = new float[len];
    float[] y = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = 0.05f + 0.9f * ((i * 37) % 101) / 101f;
      y[i] = (i % classes) == 3 ? 1f : 0f;
    }
    for (int parallelism : new int[] {2, 3, 8}) {
      FocalLoss loss = FocalLoss.oneVsAll().parallelism(parallelism).build();
      float[] g = new float[len];
      Arrays.fill(g, 7f);
      float[] badX = x.clone();
      float[] badY = y.clone();
      badX[len - 5] = Float.NaN; // in the last part
      badX[len / 2 + 1] = Float.POSITIVE_INFINITY; // in a middle part: the first one
      badY[17] = -1f; // a target in the first part: inputs are reported first
      assertIae(() -> loss.forwardBackward(badX, badY, classes, g),
          "input[" + (len / 2 + 1) + "] = Infinity");
      assertIae(() -> loss.forwardBackward(x, badY, classes, g), "targets[17] = -1.0");
      float[] lateY = y.clone();
      lateY[len - 1] = 2f;
      lateY[len - 40] = Float.NaN;
      assertIae(() -> loss.forwardBackward(x, lateY, classes, g),
          "targets[" + (len - 40) + "] = NaN");
      for (float v : g) {
        assertEquals(7f, v, 0f);
      }
      // the same through direct buffers, whose blocks are staged and scanned in parallel parts
      FloatBuffer gb = floats(g, true);
      assertIae(() -> loss.forwardBackward(floats(badX, true), floats(badY, true), classes, gb),
          "input[" + (len / 2 + 1) + "] = Infinity");
      assertIae(() -> loss.forwardBackward(floats(x, true), floats(badY, true), classes, gb),
          "targets[17] = -1.0");
      assertIae(() -> loss.forwardBackward(floats(x, true), floats(lateY, true), classes, gb),
          "targets[" + (len - 40) + "] = NaN");
      for (int i = 0; i < len; i++) {
        assertEquals(7f, gb.get(gb.position() + i), 0f);
      }
      assertView(gb, len, "gradInput");
      assertTrue(Float.isFinite(loss.forwardBackward(x, y, classes, g)));
    }
  }

  /**
   * With parallelism above 1 (up to far more threads than the call has blocks), the class indices
   * are checked, with or without the value checks, between the parallel value checks and the
   * kernel's blocks (one parallel call): a bad index still fails before anything is written, a
   * NaN logit is reported before it, and good input gives parallelism 1's bits.
   */
  @Test
  void parallelCallsCheckClassIndicesBeforeWriting() {
    int classes = 16;
    int n = 2 * FocalLoss.PARALLEL_THRESHOLD / classes + 3;
    float[] z = new float[n * classes];
    int[] t = new int[n];
    for (int i = 0; i < z.length; i++) {
      z[i] = ((i * 37) % 101) / 25f - 2f;
    }
    for (int r = 0; r < n; r++) {
      t[r] = (r * 7) % classes;
    }
    float[] expected = new float[z.length];
    float expectedLoss = FocalLoss.softmax().build().forwardBackward(z, t, classes, expected);
    for (int parallelism : new int[] {2, 8, 1 << 30}) {
      for (boolean checks : new boolean[] {true, false}) {
        FocalLoss loss =
            FocalLoss.softmax().parallelism(parallelism).validateValues(checks).build();
        float[] g = new float[z.length];
        Arrays.fill(g, 7f);
        float[] ps = new float[n];
        Arrays.fill(ps, 5f);
        int[] badT = t.clone();
        badT[n - 2] = classes;
        assertIae(() -> loss.forwardBackward(z, badT, classes, g), "targets[" + (n - 2) + "]",
            String.valueOf(classes));
        assertIae(() -> loss.perSample(z, badT, classes, ps), "targets[" + (n - 2) + "]");
        if (checks) {
          float[] badZ = z.clone();
          badZ[n * classes - 1] = Float.NaN;
          assertIae(() -> loss.forwardBackward(badZ, badT, classes, g),
              "input[" + (n * classes - 1) + "] = NaN");
        }
        for (float v : g) {
          assertEquals(7f, v, 0f);
        }
        for (float v : ps) {
          assertEquals(5f, v, 0f);
        }
        assertEquals(expectedLoss, loss.forwardBackward(z, t, classes, g), 0f);
        assertTrue(Arrays.equals(expected, g), "gradient differs from parallelism 1's");
      }
    }
  }

  // ------------------------------------------------------------------ outputs that alias inputs

  /**
   * An output that is the input or the targets array is rejected before anything is written (an
   * adversarial tester's find: the vector kernel re-reads input it has already overwritten, at
   * every width, so an in-place gradient came out wrong; with a loss past the float range, the
   * scalar kernel's recomputation read the gradient as input: 0.13 for 7.5e36). Every form, dense
   * targets and class indices, forwardBackward and perSample (C = 1, where its output has the
   * input's length), and gradientHessian's outputs as its targets; the arrays untouched after.
   */
  @Test
  void outputArraysThatAreInputsAreRejected() {
    for (Kernel kernel : GoldenTest.kernels()) {
      for (Supplier<FocalLoss.Builder<?>> b : builders()) {
        FocalLoss loss = b.get().kernel(kernel).build();
        for (int c : new int[] {1, 3, 200}) {
          int n = 64;
          float[] x = new float[n * c];
          float[] y = new float[n * c];
          int[] t = new int[n];
          for (int i = 0; i < x.length; i++) {
            x[i] = 0.25f + 0.5f * ((i * 7) % 11) / 11f;
            y[i] = i % c == 0 ? 1f : 0f;
          }
          float[] x0 = x.clone();
          float[] y0 = y.clone();
          String what = kernel + " " + loss + " C=" + c;
          assertIae(() -> loss.forwardBackward(x, y, c, x), "gradInput", "input");
          assertIae(() -> loss.forwardBackward(x, y, c, y), "gradInput", "targets");
          assertIae(() -> loss.forwardBackward(x, t, c, x), "gradInput", "input");
          if (c == 1) {
            assertIae(() -> loss.perSample(x, y, c, x), "lossPerSample", "input");
            assertIae(() -> loss.perSample(x, y, c, y), "lossPerSample", "targets");
            assertIae(() -> loss.perSample(x, t, c, x), "lossPerSample", "input");
          }
          assertArrayBits(x0, x, what + " input");
          assertArrayBits(y0, y, what + " targets");
        }
      }
      FocalLoss sigmoid = FocalLoss.sigmoid().kernel(kernel).build();
      float[] z = new float[640];
      float[] y = new float[640];
      float[] h = sentinel(640);
      float[] g = sentinel(640);
      for (int i = 0; i < z.length; i += 10) {
        y[i] = 1f;
      }
      float[] y0 = y.clone();
      assertIae(() -> sigmoid.gradientHessian(z, y, 10, y, h), "gradient", "targets");
      assertIae(() -> sigmoid.gradientHessian(z, y, 10, g, y), "hessian", "targets");
      assertArrayBits(y0, y, kernel + " gradientHessian targets");
      assertSentinel(g, 0, g.length, kernel + " gradient");
      assertSentinel(h, 0, h.length, kernel + " hessian");
    }
  }

  /**
   * Array-backed buffers: an output view that overlaps the input's or the targets' in one array
   * (by one element either way, or the same view) is rejected naming both and writes nothing;
   * views of one array that do not overlap give the bits of separate arrays.
   */
  @Test
  void overlappingHeapBufferViewsAreRejected() {
    int n = 40;
    int c = 7;
    int len = n * c;
    for (Kernel kernel : GoldenTest.kernels()) {
      FocalLoss loss = FocalLoss.sigmoid().kernel(kernel).build();
      float[] store = new float[4 * len];
      for (int i = 0; i < store.length; i++) {
        boolean target = i >= len && i < 2 * len;
        store[i] = target ? (i % 3 == 0 ? 1f : 0f) : 0.1f * (i % 17) - 0.8f;
      }
      float[] store0 = store.clone();
      FloatBuffer x = FloatBuffer.wrap(store, 0, len).slice();
      FloatBuffer y = FloatBuffer.wrap(store, len, len).slice();
      for (int shift : new int[] {-1, 0, 1}) {
        FloatBuffer onX = FloatBuffer.wrap(store, 1 + shift, len).slice();
        FloatBuffer onY = FloatBuffer.wrap(store, len + 1 + shift, len).slice();
        assertIae(() -> loss.forwardBackward(x, y, c, onX), "gradInput overlaps input");
        assertIae(() -> loss.forwardBackward(x, y, c, onY), "gradInput overlaps targets");
        FloatBuffer rows = FloatBuffer.wrap(store, len + 1 + shift, n).slice();
        assertIae(() -> loss.perSample(x, y, c, rows), "lossPerSample overlaps targets");
        assertArrayBits(store0, store, kernel + " shift " + shift);
      }
      float[] expected = new float[len];
      float value = loss.forwardBackward(Arrays.copyOfRange(store, 0, len),
          Arrays.copyOfRange(store, len, 2 * len), c, expected);
      FloatBuffer apart = FloatBuffer.wrap(store, 2 * len, len).slice();
      assertEquals(value, loss.forwardBackward(x, y, c, apart), kernel + " loss, views apart");
      assertArrayBits(expected, Arrays.copyOfRange(store, 2 * len, 3 * len),
          kernel + " gradient, views apart");
    }
  }

  // ------------------------------------------------------------------ staged buffers

  /**
   * Direct buffers report the bad value the array path reports: with a bad target early and a
   * NaN input late (in another block), the input (an adversarial tester's find: the staged path
   * checked block by block, targets inside each block, and named targets[5]).
   */
  @Test
  void directBuffersNameTheBadValueTheArraysName() {
    int c = 4;
    int n = 25_000;
    float[] x = new float[n * c];
    float[] y = new float[n * c];
    y[5] = 2f;
    x[99_999] = Float.NaN;
    for (Kernel kernel : GoldenTest.kernels()) {
      FocalLoss loss = FocalLoss.sigmoid().kernel(kernel).build();
      assertIae(() -> loss.forward(x, y, c), "input[99999] = NaN");
      assertIae(() -> loss.forward(floats(x, true), floats(y, true), c), "input[99999] = NaN");
      float[] fine = x.clone();
      fine[99_999] = 0f;
      assertIae(() -> loss.forward(floats(fine, true), floats(y, true), c), "targets[5] = 2.0");
    }
  }

  /**
   * An empty batch through direct buffers returns 0 whatever the class count (an adversarial
   * tester's find: the staged path sized a block's scratch by C before looking at N, and threw
   * OutOfMemoryError at C = Integer.MAX_VALUE); one-vs-all from logits names its class limit.
   */
  @Test
  void emptyDirectBatchesOfHugeClassCountsAllocateNothing() {
    FloatBuffer empty = floats(new float[0], true);
    IntBuffer none = ints(new int[0], true);
    FloatBuffer out = sentinelBuffer(0, true);
    for (Kernel kernel : GoldenTest.kernels()) {
      for (Supplier<FocalLoss.Builder<?>> b : builders()) {
        FocalLoss loss = b.get().kernel(kernel).build();
        assertEquals(0f, loss.forwardBackward(empty, empty, Integer.MAX_VALUE, out), loss + "");
        assertEquals(0f, loss.forwardBackward(empty, none, Integer.MAX_VALUE, out), loss + "");
        loss.perSample(empty, none, Integer.MAX_VALUE, out);
      }
      FocalLoss logits = FocalLoss.oneVsAll().fromLogits(true).kernel(kernel).build();
      assertIae(() -> logits.forward(empty, empty, Integer.MAX_VALUE),
          "classes = " + Integer.MAX_VALUE, String.valueOf(FocalLoss.MAX_LOGITS_ROW_CLASSES));
    }
  }

  /**
   * The staged path keeps no scratch above {@code Staged.KEPT_SCRATCH} elements between calls (an
   * adversarial tester's find: one call over 16M class indices from a direct buffer left a 64 MB
   * copy held by the calling thread).
   */
  @Test
  void stagedCallsKeepNoLargeScratch() {
    int n = 2 * FocalLoss.Staged.KEPT_SCRATCH;
    int[] t = new int[n];
    FocalLoss loss = FocalLoss.sigmoid().build();
    loss.forward(floats(new float[n], true), ints(t, true), 1);
    assertTrue(FocalLoss.Staged.keptScratch() <= FocalLoss.Staged.KEPT_SCRATCH,
        () -> FocalLoss.Staged.keptScratch() + " elements kept");
  }

  /**
   * Class indices from a direct buffer are read a block of rows at a time: a call over more rows
   * than {@code Staged.KEPT_SCRATCH} copied all of them into a new array, on every call (4 bytes
   * per row: 4,194,328 bytes per call at 1,048,577 x 1; a tester's find). The scalar kernel, so
   * that only the staging is measured (the vector kernel allocates until the JIT has compiled it).
   */
  @Test
  void stagedClassIndicesAreReadABlockAtATime() {
    int n = 2 * FocalLoss.Staged.KEPT_SCRATCH + 1;
    FloatBuffer x = floats(new float[n], true);
    IntBuffer t = ints(new int[n], true);
    FloatBuffer g = floats(new float[n], true);
    FocalLoss loss = FocalLoss.sigmoid().kernel(Kernel.SCALAR).build();
    loss.forwardBackward(x, t, 1, g); // the thread's scratch
    long before = HotLoopMain.allocatedBytes();
    loss.forwardBackward(x, t, 1, g);
    long bytes = HotLoopMain.allocatedBytes() - before;
    assertTrue(bytes < n / 64, () -> bytes + " bytes allocated by a call over " + n + " rows");
  }

  /**
   * A bad class index in a later block of a direct buffer is named by its row in the batch, and
   * the outputs stay untouched.
   */
  @Test
  void stagedBadClassIndexInALaterBlockIsNamedByItsRow() {
    int n = 3 * FocalLoss.blockRows(1) + 7;
    int[] idx = new int[n];
    idx[n - 2] = 5;
    FloatBuffer x = floats(new float[n], true);
    IntBuffer t = ints(idx, true);
    FloatBuffer g = floats(new float[n], true);
    for (int i = 0; i < n; i++) {
      g.put(g.position() + i, sentinelAt(i));
    }
    FocalLoss loss = FocalLoss.sigmoid().build();
    assertIae(() -> loss.forwardBackward(x, t, 1, g), "targets[" + (n - 2) + "] = 5");
    for (int i = 0; i < n; i++) {
      assertEquals(Float.floatToRawIntBits(sentinelAt(i)),
          Float.floatToRawIntBits(g.get(g.position() + i)), "gradInput[" + i + "] changed");
    }
  }

  private static void assertIae(Executable e, String... mustName) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    for (String s : mustName) {
      assertTrue(ex.getMessage() != null && ex.getMessage().contains(s),
          () -> "message \"" + ex.getMessage() + "\" does not name \"" + s + "\"");
    }
  }

  private static void assertNpe(Executable e, String name) {
    NullPointerException ex = assertThrows(NullPointerException.class, e);
    assertEquals(name, ex.getMessage());
  }

  /** The three builders, for options every form has. */
  private static List<Supplier<FocalLoss.Builder<?>>> builders() {
    return List.of(FocalLoss::oneVsAll, FocalLoss::softmax, FocalLoss::sigmoid);
  }

  private static final float[] NOT_FINITE = {Float.NaN, Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY};

  @Test
  void gammaMustBeFiniteAndNonNegative() {
    float[] bad = {-1f, -Float.MIN_VALUE, -1e-30f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY};
    for (Supplier<FocalLoss.Builder<?>> b : builders()) {
      for (float g : bad) {
        assertIae(() -> b.get().gamma(g), "gamma", String.valueOf(g));
      }
      for (float g : new float[] {0f, 0.25f, 0.5f, 1f, 2f, 2.5f, 3f, 5f, 1e4f}) {
        assertEquals(g, b.get().gamma(g).kernel(Kernel.SCALAR).build().gamma(), 0f);
      }
    }
  }

  @Test
  void parallelismMustBePositive() {
    for (Supplier<FocalLoss.Builder<?>> b : builders()) {
      for (int p : new int[] {0, -1, Integer.MIN_VALUE}) {
        assertIae(() -> b.get().parallelism(p), "parallelism", String.valueOf(p));
      }
      assertEquals(3, b.get().parallelism(3).kernel(Kernel.SCALAR).build().parallelism());
    }
  }

  @Test
  void nullOptionsThrowNpeNamingThem() {
    for (Supplier<FocalLoss.Builder<?>> b : builders()) {
      assertNpe(() -> b.get().reduction(null), "reduction");
      assertNpe(() -> b.get().kernel(null), "kernel");
    }
    assertNpe(() -> FocalLoss.oneVsAll().alpha((float[]) null), "alpha");
    assertNpe(() -> FocalLoss.softmax().alpha((float[]) null), "alpha");
    assertNpe(() -> FocalLoss.sigmoid().classWeights((float[]) null), "classWeights");
    assertNpe(() -> FocalLoss.oneVsAll().alphaFromClassCounts((long[]) null), "counts");
    assertNpe(() -> FocalLoss.softmax().alphaFromClassCounts((long[]) null), "counts");
  }

  @Test
  void positivesIsSigmoidOnly() {
    assertIae(() -> FocalLoss.oneVsAll().reduction(Reduction.POSITIVES), "POSITIVES");
    assertIae(() -> FocalLoss.softmax().reduction(Reduction.POSITIVES), "POSITIVES");
    assertEquals(Reduction.POSITIVES, FocalLoss.sigmoid().reduction(Reduction.POSITIVES)
        .kernel(Kernel.SCALAR).build().reduction());
  }

  @Test
  void perClassWeightsMustBeFiniteAndNonNegative() {
    List<java.util.function.Function<float[], Object>> setters = List.of(
        a -> FocalLoss.oneVsAll().alpha(a),
        a -> FocalLoss.softmax().alpha(a),
        a -> FocalLoss.sigmoid().classWeights(a));
    List<String> names = List.of("alpha", "alpha", "classWeights");
    for (int s = 0; s < setters.size(); s++) {
      java.util.function.Function<float[], Object> set = setters.get(s);
      String name = names.get(s);
      for (float v : new float[] {-1f, -Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY,
          Float.NEGATIVE_INFINITY}) {
        float[] w = {0.5f, 1f, v, 2f};
        assertIae(() -> set.apply(w), name + "[2]", String.valueOf(v));
      }
      assertIae(() -> set.apply(new float[0]), name);
      assertNotNull(set.apply(new float[] {0f, 1f, 1e6f}));
    }
  }

  @Test
  void weightArraysAreCopied() {
    // A builder that kept the caller's array would change the loss when the caller reuses it.
    float[] w = {1f, 1f};
    FocalLoss loss = FocalLoss.softmax().alpha(w).gamma(0f).reduction(Reduction.SUM)
        .kernel(Kernel.SCALAR).build();
    float[] z = {0f, 0f};
    int[] t = {0};
    float before = loss.forward(z, t, 2);
    w[0] = 100f;
    assertEquals(before, loss.forward(z, t, 2), 0f);
  }

  @Test
  void sigmoidAlphaMustBeFiniteAndAtMostOne() {
    for (float v : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        1.0000001f, 2f}) {
      assertIae(() -> FocalLoss.sigmoid().alpha(v), "alpha", String.valueOf(v));
    }
    // A negative alpha turns alpha weighting off (torchvision), so it is accepted.
    for (float v : new float[] {-1f, 0f, 0.25f, 1f}) {
      assertNotNull(FocalLoss.sigmoid().alpha(v).kernel(Kernel.SCALAR).build());
    }
  }

  @Test
  void classCountsMustBePositive() {
    for (long v : new long[] {0L, -1L, Long.MIN_VALUE}) {
      assertIae(() -> FocalLoss.oneVsAll().alphaFromClassCounts(10, v, 3), "counts[1]",
          String.valueOf(v));
      assertIae(() -> FocalLoss.softmax().alphaFromClassCounts(v), "counts[0]",
          String.valueOf(v));
    }
    assertIae(() -> FocalLoss.oneVsAll().alphaFromClassCounts(), "counts");
    assertIae(() -> FocalLoss.softmax().alphaFromClassCounts(), "counts");
  }

  @Test
  void epsilonMustBeInsideZeroHalf() {
    for (float v : new float[] {0f, -0f, -1e-7f, 0.5f, 0.6f, 1f, Float.NaN,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      assertIae(() -> FocalLoss.oneVsAll().epsilon(v), "epsilon", String.valueOf(v));
    }
    // 1 - epsilon must stay below 1 in float, or p = 1 would give ln(0) despite the clip.
    for (float v : new float[] {Float.MIN_VALUE, 1e-30f, 1e-8f, 0x1p-25f}) {
      assertIae(() -> FocalLoss.oneVsAll().epsilon(v), "epsilon", String.valueOf(v),
          "rounds to 1");
    }
    for (float v : new float[] {Math.nextUp(0x1p-25f), 0x1p-24f, 1e-7f, 0.49999997f}) {
      assertNotNull(FocalLoss.oneVsAll().epsilon(v).kernel(Kernel.SCALAR).build());
    }
  }

  @Test
  void labelSmoothingMustBeInZeroOne() {
    for (float v : new float[] {-1e-7f, -1f, 1f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY}) {
      assertIae(() -> FocalLoss.softmax().labelSmoothing(v), "labelSmoothing",
          String.valueOf(v));
    }
    for (float v : new float[] {0f, 0.1f, 0.99999994f}) {
      assertNotNull(FocalLoss.softmax().labelSmoothing(v).kernel(Kernel.SCALAR).build());
    }
  }

  @Test
  void everyNonFiniteBuilderValueIsCovered() {
    // Guards the lists above: each of NaN, +inf and -inf is rejected by every float option.
    for (float v : NOT_FINITE) {
      for (Supplier<FocalLoss.Builder<?>> b : builders()) {
        assertThrows(IllegalArgumentException.class, () -> b.get().gamma(v));
      }
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.oneVsAll().epsilon(v));
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.softmax().labelSmoothing(v));
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.sigmoid().alpha(v));
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.oneVsAll().alpha(v));
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.softmax().alpha(v));
      assertThrows(IllegalArgumentException.class, () -> FocalLoss.sigmoid().classWeights(v));
    }
  }
}
