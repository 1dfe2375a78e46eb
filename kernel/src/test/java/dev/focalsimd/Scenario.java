package dev.focalsimd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One randomly drawn loss configuration and batch, for the property tests: the form, shape, gamma,
 * reduction and options, the input and targets, and how the arrays reach the API (array, heap
 * buffer at a position, sliced heap buffer, direct buffer in either byte order, read-only).
 * Everything is derived from the seed, so a failing case is reproduced by its toString.
 */
final class Scenario {

  static final float[] GAMMAS = {0f, 0.25f, 0.5f, 1f, 2f, 2.5f, 3f, 5f};

  enum Container { ARRAY, HEAP_AT_POSITION, HEAP_SLICE, DIRECT_NATIVE, DIRECT_BIG_ENDIAN,
    READ_ONLY_HEAP }

  final RefLoss.Form form;
  final boolean indices;
  final int n;
  final int classes;
  final float gamma;
  final Reduction reduction;
  final long seed;
  final Container container;
  final int pad;

  // options
  float[] alpha;
  long[] classCounts;
  float sigmoidAlpha = 0.25f;
  float[] classWeights;
  float epsilon = 1e-7f;
  int ignoreIndex = -100;
  float labelSmoothing;

  // data
  final float[] x;
  final float[] y;
  final int[] t;

  Scenario(RefLoss.Form form, boolean indices, int n, int classes, float gamma,
      int reductionChoice, long seed, Container container) {
    this(form, indices, n, classes, gamma, reductionChoice, seed, container, seed);
  }

  /** Options (and pad) drawn from seed, input and targets from dataSeed. */
  Scenario(RefLoss.Form form, boolean indices, int n, int classes, float gamma,
      int reductionChoice, long seed, Container container, long dataSeed) {
    this.form = form;
    this.indices = indices;
    this.n = n;
    this.classes = classes;
    this.gamma = gamma;
    this.seed = seed;
    this.container = container;
    Reduction[] allowed = form == RefLoss.Form.SIGMOID
        ? new Reduction[] {Reduction.SUM, Reduction.MEAN, Reduction.POSITIVES}
        : new Reduction[] {Reduction.SUM, Reduction.MEAN};
    this.reduction = allowed[Math.floorMod(reductionChoice, allowed.length)];
    SplittableRandom rnd = new SplittableRandom(seed);
    this.pad = rnd.nextInt(40);
    drawOptions(rnd);
    if (dataSeed != seed) {
      rnd = new SplittableRandom(dataSeed);
    }
    x = new float[n * classes];
    boolean probabilities = form == RefLoss.Form.ONE_VS_ALL;
    for (int i = 0; i < x.length; i++) {
      x[i] = probabilities ? probability(rnd) : logit(rnd);
    }
    if (indices) {
      t = new int[n];
      y = null;
      for (int r = 0; r < n; r++) {
        t[r] = classIndex(rnd);
      }
    } else {
      t = null;
      y = new float[n * classes];
      for (int r = 0; r < n; r++) {
        denseRow(rnd, r);
      }
    }
  }

  private void drawOptions(SplittableRandom rnd) {
    switch (form) {
      case ONE_VS_ALL:
      case ONE_VS_ALL_LOGITS:
      case SOFTMAX: {
        int kind = rnd.nextInt(3);
        if (kind == 1) {
          alpha = new float[classes];
          for (int c = 0; c < classes; c++) {
            alpha[c] = rnd.nextInt(8) == 0 ? 0f : (float) (rnd.nextDouble() * 2);
          }
        } else if (kind == 2) {
          classCounts = new long[classes];
          for (int c = 0; c < classes; c++) {
            classCounts[c] = 1 + rnd.nextLong(rnd.nextBoolean() ? 10 : 1_000_000);
          }
        }
        if (form != RefLoss.Form.SOFTMAX) {
          float[] eps = {1e-7f, 1e-7f, 1e-7f, 1e-3f, 0.1f, 0x1p-24f}; // 2^-24: the smallest accepted
          epsilon = eps[rnd.nextInt(eps.length)];
        } else {
          if (indices) {
            float[] ls = {0f, 0f, 0.1f, 0.3f};
            labelSmoothing = ls[rnd.nextInt(ls.length)];
          }
          if (rnd.nextInt(4) == 0) {
            ignoreIndex = rnd.nextInt(classes); // a real class whose rows are skipped
          }
        }
        break;
      }
      default: {
        float[] a = {0.25f, 0.25f, -1f, 0f, 1f, 0.6f};
        sigmoidAlpha = a[rnd.nextInt(a.length)];
        if (rnd.nextBoolean()) {
          classWeights = new float[classes];
          for (int c = 0; c < classes; c++) {
            classWeights[c] = rnd.nextInt(8) == 0 ? 0f : (float) (rnd.nextDouble() * 3);
          }
        }
        if (rnd.nextInt(4) == 0) {
          ignoreIndex = rnd.nextBoolean() ? classes : rnd.nextInt(classes);
        }
      }
    }
  }

  /** 10^u for u uniform in [lo, hi). */
  static double logUniform(SplittableRandom rnd, double lo, double hi) {
    return Math.pow(10, lo + (hi - lo) * rnd.nextDouble());
  }

  /** Logits over every scale from 1e-30 to 1e4, with zeros and moderate values mixed in. */
  static float logit(SplittableRandom rnd) {
    double sign = rnd.nextBoolean() ? 1 : -1;
    switch (rnd.nextInt(10)) {
      case 0:
        return rnd.nextBoolean() ? 0f : -0f;
      case 1:
      case 2:
      case 3:
        return (float) (sign * logUniform(rnd, -30, 4));
      case 4:
        return (float) (sign * (20 + rnd.nextDouble() * 80));
      case 5:
        return (float) Math.rint(sign * rnd.nextInt(12));
      default:
        return (float) (sign * rnd.nextDouble() * 10);
    }
  }

  /** Probabilities with 0, 1, the clip bounds and their float neighbours, and values near 0 and 1. */
  private float probability(SplittableRandom rnd) {
    float lo = epsilon;
    float hi = 1f - epsilon;
    switch (rnd.nextInt(10)) {
      case 0: {
        float[] edge = {0f, 1f, lo, hi, Math.nextUp(lo), Math.nextDown(lo), Math.nextUp(hi),
            Math.nextDown(hi), 1.0000001f, Float.MIN_VALUE, Float.MIN_NORMAL, -0f, 0.5f};
        return edge[rnd.nextInt(edge.length)];
      }
      case 1:
        return (float) logUniform(rnd, -30, 0);
      case 2:
        return (float) (1 - logUniform(rnd, -8, 0));
      default:
        return (float) rnd.nextDouble();
    }
  }

  private int classIndex(SplittableRandom rnd) {
    int k = rnd.nextInt(10);
    if (form != RefLoss.Form.ONE_VS_ALL && form != RefLoss.Form.ONE_VS_ALL_LOGITS && k == 0) {
      return ignoreIndex;
    }
    if (form == RefLoss.Form.SIGMOID && k == 1) {
      return classes; // background
    }
    return rnd.nextInt(classes);
  }

  private void denseRow(SplittableRandom rnd, int r) {
    int off = r * classes;
    int kind = rnd.nextInt(4);
    if (form == RefLoss.Form.SOFTMAX && kind == 0) {
      // a distribution (Keras soft labels)
      double s = 0;
      double[] v = new double[classes];
      for (int c = 0; c < classes; c++) {
        v[c] = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble();
        s += v[c];
      }
      for (int c = 0; c < classes; c++) {
        y[off + c] = s == 0 ? (c == 0 ? 1f : 0f) : (float) (v[c] / s);
      }
      return;
    }
    if (kind <= 1) {
      // hard labels: one-hot for softmax, any 0/1 pattern for one-vs-all and sigmoid
      if (form == RefLoss.Form.SOFTMAX) {
        y[off + rnd.nextInt(classes)] = 1f;
      } else {
        for (int c = 0; c < classes; c++) {
          y[off + c] = rnd.nextInt(classes > 4 ? 5 : 2) == 0 ? 1f : 0f;
        }
      }
      return;
    }
    // soft values anywhere in [0, 1], edges included
    for (int c = 0; c < classes; c++) {
      switch (rnd.nextInt(5)) {
        case 0:
          y[off + c] = 0f;
          break;
        case 1:
          y[off + c] = 1f;
          break;
        default:
          y[off + c] = (float) rnd.nextDouble();
      }
    }
  }

  // ------------------------------------------------------------------ the loss under test

  FocalLoss build(Kernel kernel, Reduction r) {
    return build(kernel, r, 1);
  }

  FocalLoss build(Kernel kernel, Reduction r, int parallelism) {
    switch (form) {
      case ONE_VS_ALL:
      case ONE_VS_ALL_LOGITS: {
        FocalLoss.OneVsAllBuilder b = FocalLoss.oneVsAll().gamma(gamma).epsilon(epsilon)
            .fromLogits(form == RefLoss.Form.ONE_VS_ALL_LOGITS);
        if (alpha != null) {
          b.alpha(alpha);
        } else if (classCounts != null) {
          b.alphaFromClassCounts(classCounts);
        }
        return b.reduction(r).kernel(kernel).parallelism(parallelism).build();
      }
      case SOFTMAX: {
        FocalLoss.SoftmaxBuilder b = FocalLoss.softmax().gamma(gamma).ignoreIndex(ignoreIndex)
            .labelSmoothing(labelSmoothing);
        if (alpha != null) {
          b.alpha(alpha);
        } else if (classCounts != null) {
          b.alphaFromClassCounts(classCounts);
        }
        return b.reduction(r).kernel(kernel).parallelism(parallelism).build();
      }
      default: {
        FocalLoss.SigmoidBuilder b = FocalLoss.sigmoid().gamma(gamma).alpha(sigmoidAlpha)
            .ignoreIndex(ignoreIndex);
        if (classWeights != null) {
          b.classWeights(classWeights);
        }
        return b.reduction(r).kernel(kernel).parallelism(parallelism).build();
      }
    }
  }

  FocalLoss build(Kernel kernel) {
    return build(kernel, reduction);
  }

  // ------------------------------------------------------------------ the reference

  /**
   * The reference for this scenario. Class-count weights are derived here as the note defines
   * them (w_c = S / n_c, normalised to sum 1), rounded to float as the builder stores them.
   */
  RefLoss reference() {
    double[] a = null;
    if (alpha != null) {
      a = toDouble(alpha);
    } else if (classCounts != null) {
      double s = 0;
      for (long v : classCounts) {
        s += v;
      }
      double ws = 0;
      for (long v : classCounts) {
        ws += s / v;
      }
      a = new double[classes];
      for (int c = 0; c < classes; c++) {
        a[c] = (float) ((s / classCounts[c]) / ws);
      }
    }
    return new RefLoss(form, gamma, a, sigmoidAlpha,
        classWeights == null ? null : toDouble(classWeights), epsilon);
  }

  /** The rows of a row-major N x C array whose keep flag is set. */
  static float[] rows(float[] a, boolean[] keep, int classes) {
    int kept = 0;
    for (boolean b : keep) {
      kept += b ? 1 : 0;
    }
    float[] out = new float[kept * classes];
    int o = 0;
    for (int r = 0; r < keep.length; r++) {
      if (keep[r]) {
        System.arraycopy(a, r * classes, out, o, classes);
        o += classes;
      }
    }
    return out;
  }

  static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  boolean ignored(int r) {
    return indices && form != RefLoss.Form.ONE_VS_ALL && form != RefLoss.Form.ONE_VS_ALL_LOGITS
        && t[r] == ignoreIndex;
  }

  double[] inputRow(int r) {
    double[] row = new double[classes];
    for (int c = 0; c < classes; c++) {
      row[c] = x[r * classes + c];
    }
    return row;
  }

  /** The dense target row the reference uses (one-hot, smoothed, or background zeros). */
  double[] targetRow(int r) {
    double[] row = new double[classes];
    if (!indices) {
      for (int c = 0; c < classes; c++) {
        row[c] = y[r * classes + c];
      }
      return row;
    }
    int v = t[r];
    if (form == RefLoss.Form.SOFTMAX && labelSmoothing != 0f) {
      double off = labelSmoothing / (double) classes;
      Arrays.fill(row, off);
      row[v] = 1 - labelSmoothing + off;
      return row;
    }
    if (v < classes) {
      row[v] = 1;
    }
    return row;
  }

  /**
   * False for the rows where one-vs-all from logits puts a probability within 1e-4 (relative) of
   * a clip bound, p near epsilon or 1 - p near the float gap 1 - (1 - epsilon): there the
   * gradient jumps from 0 to its unclipped value, and which side a kernel lands on depends on
   * rounding. True for every row of the other forms.
   */
  boolean[] rowsOffTheClipBounds() {
    boolean[] keep = new boolean[n];
    java.util.Arrays.fill(keep, true);
    if (form != RefLoss.Form.ONE_VS_ALL_LOGITS) {
      return keep;
    }
    double lo = epsilon;
    double gap = 1.0 - (double) (1f - epsilon);
    for (int r = 0; r < n; r++) {
      double[][] pq = RefLoss.ovaProbabilities(inputRow(r));
      for (int c = 0; c < classes; c++) {
        double p = pq[0][c];
        double q = pq[1][c];
        if (Math.abs(p - lo) <= 1e-4 * lo || Math.abs(q - gap) <= 1e-4 * gap) {
          keep[r] = false;
          break;
        }
      }
    }
    return keep;
  }

  /** The reference row losses (0 for ignored rows). */
  double[] refPerSample() {
    RefLoss ref = reference();
    double[] out = new double[n];
    for (int r = 0; r < n; r++) {
      out[r] = ignored(r) ? 0 : ref.rowLoss(inputRow(r), targetRow(r));
    }
    return out;
  }

  /** The reduction's denominator as the README defines it (0 when nothing is counted). */
  double denominator(Reduction r) {
    int counted = 0;
    int positives = 0;
    for (int i = 0; i < n; i++) {
      if (ignored(i)) {
        continue;
      }
      counted++;
      double[] yr = targetRow(i);
      for (double v : yr) {
        if (v > 0) {
          positives++;
          break;
        }
      }
    }
    return denominator(r, counted, positives, form == RefLoss.Form.SIGMOID, classes);
  }

  /**
   * The README's denominator of reduction {@code r} from the counted (not ignored) rows and those
   * with a positive target: 1 for SUM, the counted rows (times the classes for the sigmoid) for
   * MEAN, the positive rows but at least 1 otherwise. Also DifferentialFuzz's.
   */
  static double denominator(Reduction r, long counted, long positives, boolean sigmoid,
      int classes) {
    switch (r) {
      case SUM:
        return 1;
      case MEAN:
        return sigmoid ? (double) counted * classes : counted;
      default:
        return Math.max(1, positives);
    }
  }

  // ------------------------------------------------------------------ running it

  /** What one call sequence returned. */
  static final class Result {
    float loss;
    float[] grad;
    float[] perSample;
  }

  /** forwardBackward, perSample and forward through this scenario's container. */
  Result run(FocalLoss loss) {
    Result res = new Result();
    if (container == Container.ARRAY) {
      res.grad = new float[x.length];
      res.perSample = new float[n];
      float f;
      if (indices) {
        res.loss = loss.forwardBackward(x, t, classes, res.grad);
        loss.perSample(x, t, classes, res.perSample);
        f = loss.forward(x, t, classes);
      } else {
        res.loss = loss.forwardBackward(x, y, classes, res.grad);
        loss.perSample(x, y, classes, res.perSample);
        f = loss.forward(x, y, classes);
      }
      assertSameBits(res.loss, f, "forward == forwardBackward");
      return res;
    }
    FloatBuffer xb = floats(x);
    FloatBuffer yb = indices ? null : floats(y);
    IntBuffer tb = indices ? ints(t) : null;
    FloatBuffer gb = outputs(x.length);
    FloatBuffer pb = outputs(n);
    float f;
    if (indices) {
      res.loss = loss.forwardBackward(xb, tb, classes, gb);
      loss.perSample(xb, tb, classes, pb);
      f = loss.forward(xb, tb, classes);
    } else {
      res.loss = loss.forwardBackward(xb, yb, classes, gb);
      loss.perSample(xb, yb, classes, pb);
      f = loss.forward(xb, yb, classes);
    }
    assertSameBits(res.loss, f, "forward == forwardBackward");
    for (java.nio.Buffer b : new java.nio.Buffer[] {xb, yb, tb, gb, pb}) {
      if (b != null && (b.position() != pad || b.limit() - b.position() != viewLength(b))) {
        throw new AssertionError(container + ": a buffer's position or limit moved: " + b);
      }
    }
    res.grad = new float[x.length];
    gb.get(pad, res.grad, 0, x.length);
    res.perSample = new float[n];
    pb.get(pad, res.perSample, 0, n);
    assertUntouchedOutside(gb, x.length);
    assertUntouchedOutside(pb, n);
    return res;
  }

  private int viewLength(java.nio.Buffer b) {
    return b.capacity() - pad - TAIL;
  }

  private static final int TAIL = 5;
  private static final float FILL = Float.intBitsToFloat(0x7fc0_0bad);

  private FloatBuffer allocate(int len, boolean forOutput) {
    int cap = pad + len + TAIL;
    FloatBuffer b;
    switch (container) {
      case DIRECT_NATIVE:
        b = ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.nativeOrder()).asFloatBuffer();
        break;
      case DIRECT_BIG_ENDIAN:
        b = ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        break;
      case HEAP_SLICE: {
        // arrayOffset() != 0: the slice starts 7 floats into its array
        FloatBuffer whole = FloatBuffer.wrap(new float[cap + 7]);
        whole.position(7);
        b = whole.slice();
        break;
      }
      default:
        b = FloatBuffer.wrap(new float[cap]);
    }
    for (int i = 0; i < cap; i++) {
      b.put(i, FILL);
    }
    b.limit(pad + len).position(pad);
    return b;
  }

  private FloatBuffer floats(float[] v) {
    FloatBuffer b = allocate(v.length, false);
    b.put(pad, v, 0, v.length);
    return container == Container.READ_ONLY_HEAP ? b.asReadOnlyBuffer() : b;
  }

  private FloatBuffer outputs(int len) {
    return allocate(len, true);
  }

  private IntBuffer ints(int[] v) {
    int cap = pad + v.length + TAIL;
    IntBuffer b;
    switch (container) {
      case DIRECT_NATIVE:
        b = ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.nativeOrder()).asIntBuffer();
        break;
      case DIRECT_BIG_ENDIAN:
        b = ByteBuffer.allocateDirect(4 * cap).order(ByteOrder.BIG_ENDIAN).asIntBuffer();
        break;
      case HEAP_SLICE: {
        IntBuffer whole = IntBuffer.wrap(new int[cap + 7]);
        whole.position(7);
        b = whole.slice();
        break;
      }
      default:
        b = IntBuffer.wrap(new int[cap]);
    }
    b.put(pad, v, 0, v.length);
    b.limit(pad + v.length).position(pad);
    return container == Container.READ_ONLY_HEAP ? b.asReadOnlyBuffer() : b;
  }

  private void assertUntouchedOutside(FloatBuffer b, int len) {
    FloatBuffer all = b.duplicate();
    all.clear();
    for (int i = 0; i < all.capacity(); i++) {
      if (i >= pad && i < pad + len) {
        continue;
      }
      if (Float.floatToRawIntBits(all.get(i)) != Float.floatToRawIntBits(FILL)) {
        throw new AssertionError(container + ": output written outside its view at " + i);
      }
    }
  }

  static void assertSameBits(float a, float b, String what) {
    if (Float.floatToRawIntBits(a) != Float.floatToRawIntBits(b)) {
      throw new AssertionError(what + ": " + a + " != " + b);
    }
  }

  @Override
  public String toString() {
    return "Scenario[" + form + (indices ? " indices" : " dense") + ", N=" + n + ", C=" + classes
        + ", gamma=" + gamma + ", " + reduction + ", seed=" + seed + ", " + container + "@" + pad
        + (alpha != null ? ", alpha" : "") + (classCounts != null ? ", counts" : "")
        + (form == RefLoss.Form.SIGMOID ? ", sigmoidAlpha=" + sigmoidAlpha
            + (classWeights != null ? ", classWeights" : "") : "")
        + (form == RefLoss.Form.ONE_VS_ALL || form == RefLoss.Form.ONE_VS_ALL_LOGITS
            ? ", epsilon=" + epsilon : "")
        + (ignoreIndex != -100 ? ", ignoreIndex=" + ignoreIndex : "")
        + (labelSmoothing != 0 ? ", ls=" + labelSmoothing : "") + "]";
  }
}
