package dev.focalsimd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A differential fuzzer, run by hand (not part of the test suite): random configurations of every
 * form, target kind and option (N up to 300,000, C up to 1000, gamma 0 to 5, class weights, ignored
 * rows, label smoothing, extreme logits and probabilities at the clip edges), each checked for
 * VECTOR against SCALAR and both against the float64 {@link RefLoss} and its finite differences
 * with the golden measure ({@link Tolerance}), reductions against the SUM and per-sample losses,
 * {@code forward} against {@code forwardBackward}, parallelism 1, 2 and 8 bit for bit, {@code
 * gradientHessian}, and failed calls (bad values, lengths, indices) leaving the outputs untouched.
 * It found several of the defects whose inputs {@code EdgeCaseTest} pins.
 *
 * <p>Usage, after {@code mvn -B -pl kernel test-compile}:
 *
 * <pre>
 * java -XX:ActiveProcessorCount=1 [-XX:MaxVectorSize=16|32] --add-modules jdk.incubator.vector \
 *     -cp kernel/target/classes:kernel/target/test-classes dev.focalsimd.DifferentialFuzz \
 *     FIRST_SEED COUNT small|large|mixed SECONDS
 * </pre>
 *
 * <p>{@code DifferentialFuzzTest} runs a fixed sample of its cases in every CI pass that has the
 * vector kernel. A case is {@code gen(seed, mode)} alone, so one seed replays one case. Each
 * failure prints a {@code FAIL} line (the first three of each kind), and the run ends with the
 * counts, the worst error over its tolerance per check, and the failures by kind; the exit status
 * is 1 if any failed.
 * Rows whose own error over their own largest value exceeds 10 times the tolerance are printed as
 * {@code NOTE} lines and do not fail: where a row's gradient is a small difference of far larger
 * terms, float cannot do better (README, "Accuracy").
 */
public class DifferentialFuzz {
  static final int[] CS = {
    1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 80, 95, 96, 97, 1000, 7, 8, 9, 100, 128,
    129, 255, 256, 257, 300
  };
  static final float[] GAMMAS = {0f, 0.25f, 0.5f, 1f, 2f, 2.5f, 3f, 5f};
  static final float[] EPS = {1e-7f, 1e-7f, 1e-3f, 0.1f, 0x1p-24f};

  enum Form {
    OVA,
    OVA_LOGITS,
    SOFTMAX,
    SIGMOID
  }

  static final class Case {
    long seed;
    Form form;
    boolean indices;
    int n, c;
    float gamma;
    Reduction red;
    float[] alpha;
    long[] counts;
    float eps = 1e-7f;
    int ignoreIndex = -100;
    float ls;
    float sigAlpha = 0.25f;
    float[] classWeights;
    float[] x, y;
    int[] t;
    int dataMode, ignoreMode;
    String options = "";

    public String toString() {
      return form
          + (indices ? " idx" : " dense")
          + " N="
          + n
          + " C="
          + c
          + " gamma="
          + gamma
          + " "
          + red
          + " seed="
          + seed
          + " dataMode="
          + dataMode
          + " ignoreMode="
          + ignoreMode
          + (alpha != null ? " alpha" : "")
          + (counts != null ? " counts" : "")
          + (form == Form.OVA || form == Form.OVA_LOGITS ? " eps=" + eps : "")
          + (ignoreIndex != -100 ? " ignoreIndex=" + ignoreIndex : "")
          + (ls != 0 ? " ls=" + ls : "")
          + (form == Form.SIGMOID
              ? " sigAlpha=" + sigAlpha + (classWeights != null ? " cw" : "")
              : "");
    }

    RefLoss.Form refForm() {
      switch (form) {
        case OVA:
          return RefLoss.Form.ONE_VS_ALL;
        case OVA_LOGITS:
          return RefLoss.Form.ONE_VS_ALL_LOGITS;
        case SOFTMAX:
          return RefLoss.Form.SOFTMAX;
        default:
          return RefLoss.Form.SIGMOID;
      }
    }

    FocalLoss build(Kernel k, Reduction r, int par, boolean validate) {
      switch (form) {
        case OVA:
        case OVA_LOGITS:
          {
            FocalLoss.OneVsAllBuilder b =
                FocalLoss.oneVsAll().gamma(gamma).epsilon(eps).fromLogits(form == Form.OVA_LOGITS);
            if (alpha != null) b.alpha(alpha);
            else if (counts != null) b.alphaFromClassCounts(counts);
            return b.reduction(r).kernel(k).parallelism(par).validateValues(validate).build();
          }
        case SOFTMAX:
          {
            FocalLoss.SoftmaxBuilder b =
                FocalLoss.softmax().gamma(gamma).ignoreIndex(ignoreIndex).labelSmoothing(ls);
            if (alpha != null) b.alpha(alpha);
            else if (counts != null) b.alphaFromClassCounts(counts);
            return b.reduction(r).kernel(k).parallelism(par).validateValues(validate).build();
          }
        default:
          {
            FocalLoss.SigmoidBuilder b =
                FocalLoss.sigmoid().gamma(gamma).alpha(sigAlpha).ignoreIndex(ignoreIndex);
            if (classWeights != null) b.classWeights(classWeights);
            return b.reduction(r).kernel(k).parallelism(par).validateValues(validate).build();
          }
      }
    }

    RefLoss reference() {
      double[] a = null;
      if (alpha != null) {
        a = Scenario.toDouble(alpha);
      } else if (counts != null) {
        double s = 0;
        for (long v : counts) s += v;
        double ws = 0;
        for (long v : counts) ws += s / v;
        a = new double[c];
        for (int k = 0; k < c; k++) a[k] = (float) ((s / counts[k]) / ws);
      }
      return new RefLoss(
          refForm(),
          gamma,
          a,
          sigAlpha,
          classWeights == null ? null : Scenario.toDouble(classWeights),
          eps);
    }

    boolean ignored(int r) {
      return indices && (form == Form.SOFTMAX || form == Form.SIGMOID) && t[r] == ignoreIndex;
    }

    double[] inputRow(int r) {
      double[] row = new double[c];
      for (int k = 0; k < c; k++) row[k] = x[r * c + k];
      if (form == Form.SOFTMAX || form == Form.OVA_LOGITS) {
        // shift-invariant: RefLoss.logSoftmax loses ln(sum) next to a huge max logit
        double m = Double.NEGATIVE_INFINITY;
        for (double v : row) m = Math.max(m, v);
        for (int k = 0; k < c; k++) row[k] -= m;
      }
      return row;
    }

    double[] targetRow(int r) {
      double[] row = new double[c];
      if (!indices) {
        for (int k = 0; k < c; k++) row[k] = y[r * c + k];
        return row; // dense targets used as given (ls applies to indices only)
      }
      int v = t[r];
      if (form == Form.SOFTMAX && ls != 0f) {
        double off = ls / (double) c;
        Arrays.fill(row, off);
        row[v] = 1 - ls + off;
        return row;
      }
      if (v < c) row[v] = 1;
      return row;
    }

    double denominator(Reduction r) {
      long counted = 0, positives = 0;
      for (int i = 0; i < n; i++) {
        if (ignored(i)) continue;
        counted++;
        if (indices) {
          if (t[i] < c) positives++;
        } else {
          for (int k = 0; k < c; k++) {
            if (y[i * c + k] > 0f) {
              positives++;
              break;
            }
          }
        }
      }
      return Scenario.denominator(r, counted, positives, form == Form.SIGMOID, c);
    }

    /** OVA from logits rows near a clip bound (gradient jumps there). */
    boolean[] keepRows() {
      boolean[] keep = new boolean[n];
      Arrays.fill(keep, true);
      if (form != Form.OVA_LOGITS) return keep;
      double lo = eps;
      double gap = 1.0 - (double) (1f - eps);
      for (int r = 0; r < n; r++) {
        double[][] pq = RefLoss.ovaProbabilities(inputRow(r));
        for (int k = 0; k < c; k++) {
          if (Math.abs(pq[0][k] - lo) <= 1e-4 * lo || Math.abs(pq[1][k] - gap) <= 1e-4 * gap) {
            keep[r] = false;
            break;
          }
        }
      }
      return keep;
    }
  }

  // ------------------------------------------------------------------ generation

  static float logit(SplittableRandom rnd, int mode) {
    if (mode < 1 || mode > 3) {
      return Scenario.logit(rnd); // the property tests' logits, the same draws as before
    }
    double sign = rnd.nextBoolean() ? 1 : -1;
    switch (mode) {
      case 1:
        return (float) (rnd.nextGaussian() * 3);
      case 2:
        return (float) (sign * rnd.nextDouble() * 1e4);
      default:
        return (float) (sign * Scenario.logUniform(rnd, -2, 4));
    }
  }

  static float prob(SplittableRandom rnd, float eps, int mode) {
    float lo = eps, hi = 1f - eps;
    int k = mode == 1 ? 5 : rnd.nextInt(10);
    switch (k) {
      case 0:
        {
          float[] edge = {
            0f,
            1f,
            lo,
            hi,
            Math.nextUp(lo),
            Math.nextDown(lo),
            Math.nextUp(hi),
            Math.nextDown(hi),
            1.0000001f,
            Float.MIN_VALUE,
            Float.MIN_NORMAL,
            -0f,
            0.5f,
            1.5f,
            -0.5f,
            1e4f
          };
          return edge[rnd.nextInt(edge.length)];
        }
      case 1:
        return (float) Scenario.logUniform(rnd, -30, 0);
      case 2:
        return (float) (1 - Scenario.logUniform(rnd, -8, 0));
      default:
        return (float) rnd.nextDouble();
    }
  }

  static Case gen(long seed, String mode) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Case s = new Case();
    s.seed = seed;
    s.form = Form.values()[rnd.nextInt(4)];
    s.indices = rnd.nextBoolean();
    int c = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(300) : CS[rnd.nextInt(CS.length)];
    int n;
    boolean large = mode.equals("large") || (mode.equals("mixed") && rnd.nextInt(5) == 0);
    if (large) {
      // around 2^17 and 2^18 elements, or 1024-chunk boundaries
      int[] targets = {1 << 17, 1 << 18, (1 << 18) + 1024, 300_000, 1 << 14};
      int tgt = targets[rnd.nextInt(targets.length)];
      n = Math.max(1, tgt / c + rnd.nextInt(5) - 2);
      if (c == 1000) n = Math.max(n, 263);
    } else {
      switch (rnd.nextInt(4)) {
        case 0:
          n = 1 + rnd.nextInt(5000);
          break;
        case 1:
          {
            int[] tg = {1024, 2048, 4096, 512, 256, 16384, 3072};
            int tgt = tg[rnd.nextInt(tg.length)];
            n = Math.max(1, tgt / c + rnd.nextInt(3) - 1);
            break;
          }
        case 2:
          n = 1 + rnd.nextInt(200);
          break;
        default:
          n = 1 + rnd.nextInt(20);
      }
      if ((long) n * c > 400_000) n = Math.max(1, 400_000 / c);
    }
    s.n = n;
    s.c = c;
    s.gamma = GAMMAS[rnd.nextInt(GAMMAS.length)];
    Reduction[] reds =
        s.form == Form.SIGMOID
            ? new Reduction[] {Reduction.SUM, Reduction.MEAN, Reduction.POSITIVES}
            : new Reduction[] {Reduction.SUM, Reduction.MEAN};
    s.red = reds[rnd.nextInt(reds.length)];
    // options
    if (s.form != Form.SIGMOID) {
      int kind = rnd.nextInt(3);
      if (kind == 1) {
        s.alpha = new float[c];
        for (int k = 0; k < c; k++)
          s.alpha[k] = rnd.nextInt(8) == 0 ? 0f : (float) (rnd.nextDouble() * 2);
      } else if (kind == 2) {
        s.counts = new long[c];
        for (int k = 0; k < c; k++)
          s.counts[k] = 1 + rnd.nextLong(rnd.nextBoolean() ? 10 : 1_000_000);
      }
      if (s.form != Form.SOFTMAX) {
        s.eps = EPS[rnd.nextInt(EPS.length)];
      } else {
        float[] lss = {0f, 0f, 0.1f, 0.3f, 0.9f};
        if (s.indices) s.ls = lss[rnd.nextInt(lss.length)];
        int ig = rnd.nextInt(4);
        if (ig == 0) s.ignoreIndex = rnd.nextInt(c);
        else if (ig == 1) s.ignoreIndex = -1;
      }
    } else {
      float[] a = {0.25f, -1f, 0f, 1f, 0.6f, -0.5f};
      s.sigAlpha = a[rnd.nextInt(a.length)];
      if (rnd.nextBoolean()) {
        s.classWeights = new float[c];
        for (int k = 0; k < c; k++)
          s.classWeights[k] = rnd.nextInt(8) == 0 ? 0f : (float) (rnd.nextDouble() * 3);
      }
      int ig = rnd.nextInt(4);
      if (ig == 0) s.ignoreIndex = c; // C as ignore: no background left
      else if (ig == 1) s.ignoreIndex = rnd.nextInt(c);
      else if (ig == 2) s.ignoreIndex = -1;
    }
    // data
    s.dataMode =
        rnd.nextInt(5); // 0 mixed, 1 moderate, 2 |x| to 1e4, 3 log scale, 4 moderate + 1e30 rows
    s.x = new float[n * c];
    for (int i = 0; i < s.x.length; i++) {
      if (s.form == Form.OVA) s.x[i] = prob(rnd, s.eps, s.dataMode == 1 ? 1 : 0);
      else s.x[i] = logit(rnd, s.dataMode == 4 ? 1 : s.dataMode);
    }
    if (s.dataMode == 4 && s.form != Form.OVA) {
      int rows = 1 + rnd.nextInt(Math.min(n, 8));
      for (int k = 0; k < rows; k++) {
        int r = rnd.nextInt(n);
        for (int j = 0; j < c; j++) {
          int sel = rnd.nextInt(4);
          s.x[r * c + j] =
              sel == 0
                  ? 1e30f
                  : sel == 1
                      ? -1e30f
                      : (float) ((rnd.nextBoolean() ? 1 : -1) * Scenario.logUniform(rnd, -30, 30));
        }
      }
    }
    s.ignoreMode = rnd.nextInt(4); // 0 none, 1 some, 2 many, 3 all
    if (s.indices) {
      s.t = new int[n];
      boolean canIgnore = s.form == Form.SOFTMAX || s.form == Form.SIGMOID;
      for (int r = 0; r < n; r++) {
        double pIg = s.ignoreMode == 0 ? 0 : s.ignoreMode == 1 ? 0.1 : s.ignoreMode == 2 ? 0.9 : 1;
        if (canIgnore && rnd.nextDouble() < pIg) {
          s.t[r] = s.ignoreIndex;
        } else if (s.form == Form.SIGMOID && rnd.nextInt(6) == 0 && s.ignoreIndex != c) {
          s.t[r] = c;
        } else {
          int v;
          do {
            v = rnd.nextInt(c);
          } while (canIgnore && v == s.ignoreIndex && c > 1);
          s.t[r] = v;
          if (canIgnore && v == s.ignoreIndex) s.t[r] = s.form == Form.SIGMOID ? c : v;
        }
      }
    } else {
      s.y = new float[n * c];
      int rowKind = rnd.nextInt(5);
      for (int r = 0; r < n; r++) {
        int kind = rowKind == 4 ? rnd.nextInt(4) : rowKind;
        int off = r * c;
        if (s.form == Form.SOFTMAX && kind == 0) {
          double sum = 0;
          double[] v = new double[c];
          for (int k = 0; k < c; k++) {
            v[k] = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble();
            sum += v[k];
          }
          for (int k = 0; k < c; k++)
            s.y[off + k] = sum == 0 ? (k == 0 ? 1f : 0f) : (float) (v[k] / sum);
        } else if (kind <= 1) {
          if (s.form == Form.SOFTMAX) s.y[off + rnd.nextInt(c)] = 1f;
          else for (int k = 0; k < c; k++) s.y[off + k] = rnd.nextInt(c > 4 ? 5 : 2) == 0 ? 1f : 0f;
        } else if (kind == 2) {
          // all zero row
        } else {
          for (int k = 0; k < c; k++) {
            int q = rnd.nextInt(5);
            s.y[off + k] = q == 0 ? 0f : q == 1 ? 1f : (float) rnd.nextDouble();
          }
        }
      }
    }
    return s;
  }

  // ------------------------------------------------------------------ running

  static final class Res {
    float loss, fwd;
    float[] grad, ps;
  }

  static Res run(Case s, FocalLoss l) {
    Res r = new Res();
    r.grad = new float[s.x.length];
    r.ps = new float[s.n];
    if (s.indices) {
      r.loss = l.forwardBackward(s.x, s.t, s.c, r.grad);
      l.perSample(s.x, s.t, s.c, r.ps);
      r.fwd = l.forward(s.x, s.t, s.c);
    } else {
      r.loss = l.forwardBackward(s.x, s.y, s.c, r.grad);
      l.perSample(s.x, s.y, s.c, r.ps);
      r.fwd = l.forward(s.x, s.y, s.c);
    }
    return r;
  }

  static Res runDirect(Case s, FocalLoss l) {
    Res r = new Res();
    FloatBuffer xb = direct(s.x);
    FloatBuffer gb =
        ByteBuffer.allocateDirect(4 * s.x.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
    FloatBuffer pb =
        ByteBuffer.allocateDirect(4 * s.n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    if (s.indices) {
      IntBuffer tb =
          ByteBuffer.allocateDirect(4 * s.n).order(ByteOrder.nativeOrder()).asIntBuffer();
      tb.put(s.t).flip();
      r.loss = l.forwardBackward(xb, tb, s.c, gb);
      l.perSample(xb, tb, s.c, pb);
    } else {
      FloatBuffer yb = direct(s.y);
      r.loss = l.forwardBackward(xb, yb, s.c, gb);
      l.perSample(xb, yb, s.c, pb);
    }
    r.grad = new float[s.x.length];
    gb.get(0, r.grad);
    r.ps = new float[s.n];
    pb.get(0, r.ps);
    return r;
  }

  static FloatBuffer direct(float[] a) {
    FloatBuffer b =
        ByteBuffer.allocateDirect(4 * a.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.put(a).flip();
    return b;
  }

  // ------------------------------------------------------------------ checks

  static int failures;
  static final TreeMap<String, Double> WORST = new TreeMap<>();
  static final TreeMap<String, Integer> COUNTS = new TreeMap<>();

  static final TreeMap<String, Integer> FAILKEYS = new TreeMap<>();

  static void fail(Case s, String what) {
    failures++;
    String key =
        s.form
            + (s.indices ? " idx :: " : " dense :: ")
            + what.replaceAll("\\[.*", "").replaceAll("[-0-9.E]+", "#");
    if (key.length() > 90) key = key.substring(0, 90);
    int n = FAILKEYS.merge(key, 1, Integer::sum);
    if (n <= 3) System.out.println("FAIL " + s + " :: " + what);
    System.out.flush();
  }

  static final TreeMap<String, Integer> NOTEKEYS = new TreeMap<>();

  /** A per-row finding that does not fail the run (see the class comment). */
  static void note(Case s, String what) {
    String key =
        s.form
            + (s.indices ? " idx :: " : " dense :: ")
            + what.replaceAll("\\[.*", "").replaceAll("[-0-9.E]+", "#");
    if (NOTEKEYS.merge(key, 1, Integer::sum) <= 3) {
      System.out.println("NOTE " + s + " :: " + what);
    }
  }

  static double relErr(double[] e, float[] a, int[] worstIdx) {
    double md = 0, me = 0;
    int w = -1;
    for (int i = 0; i < e.length; i++) {
      if (!Float.isFinite(a[i])) {
        if (worstIdx != null) worstIdx[0] = i;
        return Double.POSITIVE_INFINITY;
      }
      double d = Math.abs(e[i] - a[i]);
      if (d > md || w < 0) {
        md = d;
        w = i;
      }
      me = Math.max(me, Math.abs(e[i]));
    }
    if (worstIdx != null) worstIdx[0] = w;
    return md / Math.max(me, 1e-4);
  }

  static double[] d(float[] a) {
    return Scenario.toDouble(a);
  }

  static void cmp(Case s, String label, double[] e, float[] a, double tol) {
    int[] wi = new int[1];
    double err = relErr(e, a, wi);
    WORST.merge(label, err / tol, Math::max);
    if (!(err <= tol)) {
      int i = wi[0];
      // i indexes the compared array, which is a subset of rows or columns for some checks
      fail(
          s,
          label
              + " relErr "
              + err
              + " > "
              + tol
              + " worst ["
              + i
              + "] expected "
              + (i >= 0 ? e[i] : Double.NaN)
              + " got "
              + (i >= 0 ? a[i] : Float.NaN));
    }
  }

  /** Per-row relative error, informational: the worst row's ratio. */
  static void cmpRows(Case s, String label, float[] e, float[] a, double tol, boolean[] keep) {
    double worst = 0;
    int wr = -1;
    for (int r = 0; r < s.n; r++) {
      if (keep != null && !keep[r]) continue;
      double md = 0, me = 0;
      for (int k = 0; k < s.c; k++) {
        int i = r * s.c + k;
        md = Math.max(md, Math.abs((double) e[i] - a[i]));
        me = Math.max(me, Math.abs(e[i]));
      }
      double err = md / Math.max(me, 1e-4);
      if (err > worst) {
        worst = err;
        wr = r;
      }
    }
    WORST.merge(label, worst / tol, Math::max);
    if (worst > tol) {
      // keep it quiet unless large
      if (worst > 10 * tol) {
        note(s, label + " row " + wr + " relErr " + worst + " (>10x " + tol + ")");
      } else {
        COUNTS.merge(
            s.form + (s.indices ? " idx " : " dense ") + label + " rows over tol (<=10x)",
            1,
            Integer::sum);
      }
    }
  }

  /** Where two results differ: the losses, the first differing gradient and per-sample index. */
  static String diff(Res a, Res b) {
    return "loss " + a.loss + " vs " + b.loss + " gradDiff@" + firstDiff(a.grad, b.grad)
        + " psDiff@" + firstDiff(a.ps, b.ps);
  }

  static boolean bitsEq(float[] a, float[] b) {
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) return false;
    }
    return true;
  }

  static int firstDiff(float[] a, float[] b) {
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) return i;
    }
    return -1;
  }

  static void checkCase(Case s, SplittableRandom rnd, boolean doFd) {
    long len = (long) s.n * s.c;
    COUNTS.merge(
        s.form + (s.indices ? " idx" : " dense") + (len >= (1 << 17) ? " big" : ""),
        1,
        Integer::sum);
    Kernel[] ks = {Kernel.SCALAR, Kernel.VECTOR};
    Res[] res = new Res[2];
    Res[] sums = new Res[2];
    for (int k = 0; k < 2; k++) {
      FocalLoss l;
      try {
        l = s.build(ks[k], s.red, 1, true);
        res[k] = run(s, l);
      } catch (Throwable e) {
        fail(s, ks[k] + " threw " + e);
        e.printStackTrace(System.out);
        return;
      }
      Res r = res[k];
      if (Float.floatToRawIntBits(r.loss) != Float.floatToRawIntBits(r.fwd)) {
        fail(s, ks[k] + " forward " + r.fwd + " != forwardBackward " + r.loss);
      }
      if (!Float.isFinite(r.loss)) fail(s, ks[k] + " loss not finite " + r.loss);
      for (int i = 0; i < r.grad.length; i++) {
        if (!Float.isFinite(r.grad[i])) {
          fail(s, ks[k] + " grad[" + i + "] = " + r.grad[i] + " x=" + s.x[i]);
          break;
        }
      }
      for (int i = 0; i < r.ps.length; i++) {
        if (!Float.isFinite(r.ps[i])) {
          fail(s, ks[k] + " ps[" + i + "] = " + r.ps[i]);
          break;
        }
      }
      // ignored rows: zero gradient, zero per-sample
      for (int i = 0; i < s.n; i++) {
        if (s.ignored(i)) {
          if (r.ps[i] != 0f) {
            fail(s, ks[k] + " ignored row " + i + " ps " + r.ps[i]);
            break;
          }
          boolean bad = false;
          for (int j = 0; j < s.c; j++) bad |= Float.floatToRawIntBits(r.grad[i * s.c + j]) != 0;
          if (bad) {
            fail(s, ks[k] + " ignored row " + i + " grad nonzero");
            break;
          }
        }
      }
      // SUM run: sum of per-sample vs SUM loss; reductions consistent
      FocalLoss lsum = s.build(ks[k], Reduction.SUM, 1, true);
      Res rs = s.red == Reduction.SUM ? r : run(s, lsum);
      sums[k] = rs;
      double psSum = 0, psAbs = 0;
      for (float v : rs.ps) {
        psSum += v;
        psAbs += Math.abs(v);
      }
      double tol = Tolerance.LOSS * Math.max(psAbs, 1e-4);
      if (!(Math.abs(psSum - rs.loss) <= tol)) {
        fail(s, ks[k] + " sum(perSample)=" + psSum + " vs SUM loss " + rs.loss + " tol " + tol);
      }
      WORST.merge("sum(ps) vs SUM", Math.abs(psSum - rs.loss) / tol, Math::max);
      if (s.red != Reduction.SUM) {
        double den = s.denominator(s.red);
        double exp = den == 0 ? 0 : rs.loss / den;
        if (!(Math.abs(exp - r.loss) <= 1e-6 * Math.abs(exp) + 1e-40)) {
          fail(s, ks[k] + " " + s.red + " loss " + r.loss + " vs SUM/" + den + " = " + exp);
        }
        double maxAbs = 0;
        for (float v : rs.grad) maxAbs = Math.max(maxAbs, den == 0 ? 0 : Math.abs(v / den));
        for (int i = 0; i < r.grad.length; i++) {
          double g = den == 0 ? 0 : rs.grad[i] / den;
          if (!(Math.abs(g - r.grad[i]) <= 4e-7 * Math.abs(g) + 1e-6 * maxAbs + 1e-40)) {
            fail(s, ks[k] + " " + s.red + " grad[" + i + "] " + r.grad[i] + " vs SUM/den " + g);
            break;
          }
        }
      }
    }
    // VECTOR vs SCALAR
    boolean[] keep = s.keepRows();
    float[] gS = Scenario.rows(res[0].grad, keep, s.c);
    float[] gV = Scenario.rows(res[1].grad, keep, s.c);
    cmp(s, "V/S loss", new double[] {res[0].loss}, new float[] {res[1].loss}, Tolerance.LOSS);
    cmp(s, "V/S ps", d(res[0].ps), res[1].ps, Tolerance.LOSS);
    cmp(s, "V/S grad", d(gS), gV, Tolerance.GRAD);
    cmpRows(s, "V/S grad per-row", res[0].grad, res[1].grad, Tolerance.GRAD, keep);
    // reference per-sample and loss
    RefLoss ref = s.reference();
    double[] refPs = new double[s.n];
    double refSum = 0;
    for (int r = 0; r < s.n; r++) {
      refPs[r] = s.ignored(r) ? 0 : ref.rowLoss(s.inputRow(r), s.targetRow(r));
      refSum += refPs[r];
    }
    double den = s.denominator(s.red);
    double refLoss = den == 0 ? 0 : refSum / den;
    for (int k = 0; k < 2; k++) {
      cmp(s, ks[k] + " ps vs ref", refPs, res[k].ps, Tolerance.LOSS);
      cmp(
          s,
          ks[k] + " loss vs ref",
          new double[] {refLoss},
          new float[] {res[k].loss},
          Tolerance.LOSS);
      // per-row informational per-sample
      double worst = 0;
      int wr = -1;
      for (int r = 0; r < s.n; r++) {
        double e = Math.abs(refPs[r] - res[k].ps[r]) / Math.max(Math.abs(refPs[r]), 1e-4);
        if (e > worst) {
          worst = e;
          wr = r;
        }
      }
      WORST.merge(ks[k] + " ps vs ref per-row", worst / Tolerance.LOSS, Math::max);
      if (worst > 10 * Tolerance.LOSS) {
        fail(
            s,
            ks[k]
                + " ps vs ref row "
                + wr
                + " expected "
                + refPs[wr]
                + " got "
                + res[k].ps[wr]
                + " relErr "
                + worst);
      }
    }
    // finite differences on a few rows
    if (doFd) {
      double scale = den == 0 ? 0 : 1 / den;
      int nrows = Math.min(3, s.n);
      for (int q = 0; q < nrows; q++) {
        int r = rnd.nextInt(s.n);
        if (!keep[r] || s.ignored(r)) continue;
        double[] xr = s.inputRow(r), yr = s.targetRow(r);
        int cols = s.form == Form.SIGMOID || s.form == Form.OVA ? s.c : Math.min(s.c, 24);
        double[] fd = new double[cols];
        int[] idx = new int[cols];
        boolean skip = false;
        for (int j = 0; j < cols; j++) {
          idx[j] = cols == s.c ? j : rnd.nextInt(s.c);
          fd[j] = scale * ref.derivative(xr, yr, idx[j]);
          if (Double.isNaN(fd[j])) skip = true;
        }
        if (skip) continue;
        // include the row's largest gradient reference magnitude: use full-row max via kernel
        for (int k = 0; k < 2; k++) {
          float[] got = new float[cols];
          for (int j = 0; j < cols; j++) got[j] = res[k].grad[r * s.c + idx[j]];
          cmp(s, ks[k] + " grad vs FD", fd, got, Tolerance.GRAD);
        }
      }
    }
    // validateValues(false) must give the same bits
    if (rnd.nextInt(3) == 0) {
      Res nv = run(s, s.build(Kernel.VECTOR, s.red, 1, false));
      if (Float.floatToRawIntBits(nv.loss) != Float.floatToRawIntBits(res[1].loss)
          || !bitsEq(nv.grad, res[1].grad)
          || !bitsEq(nv.ps, res[1].ps)) {
        fail(s, "VECTOR validateValues(false) differs from true");
      }
    }
    // direct buffers must give the same bits (Staged path)
    if (rnd.nextInt(4) == 0) {
      int k = rnd.nextInt(2);
      Res db = runDirect(s, s.build(ks[k], s.red, 1, true));
      if (Float.floatToRawIntBits(db.loss) != Float.floatToRawIntBits(res[k].loss)
          || !bitsEq(db.grad, res[k].grad)
          || !bitsEq(db.ps, res[k].ps)) {
        fail(
            s,
            ks[k] + " direct buffers differ from arrays: " + diff(db, res[k]));
      }
    }
    // parallelism bitwise
    if (len >= FocalLoss.PARALLEL_THRESHOLD || rnd.nextInt(10) == 0) {
      int[] pars = {2, 3, 8};
      for (int k = 0; k < 2; k++) {
        int par = pars[rnd.nextInt(3)];
        boolean validate = rnd.nextInt(4) != 0;
        Res pr = run(s, s.build(ks[k], s.red, par, validate));
        if (Float.floatToRawIntBits(pr.loss) != Float.floatToRawIntBits(res[k].loss)
            || !bitsEq(pr.grad, res[k].grad)
            || !bitsEq(pr.ps, res[k].ps)
            || Float.floatToRawIntBits(pr.fwd) != Float.floatToRawIntBits(res[k].fwd)) {
          fail(
              s,
              ks[k] + " parallelism " + par + " validate=" + validate + " differs: "
                  + diff(pr, res[k]));
        }
        COUNTS.merge(
            "parallel checks" + (len >= FocalLoss.PARALLEL_THRESHOLD ? " (>=threshold)" : ""),
            1,
            Integer::sum);
      }
    }
    // Hessian
    boolean hessOk =
        (s.form == Form.SIGMOID) || (s.form == Form.SOFTMAX && s.indices && s.ls == 0f);
    if (hessOk) checkHessian(s, rnd);
    // failure atomicity
    if (rnd.nextInt(3) == 0) checkFailure(s, rnd);
  }

  static void checkHessian(Case s, SplittableRandom rnd) {
    float floor = rnd.nextBoolean() ? 0f : rnd.nextBoolean() ? Float.NEGATIVE_INFINITY : -0.01f;
    Kernel[] ks = {Kernel.SCALAR, Kernel.VECTOR};
    float[][] g = new float[2][s.x.length], h = new float[2][s.x.length];
    for (int k = 0; k < 2; k++) {
      FocalLoss l = buildH(s, ks[k], 1, floor);
      try {
        if (s.indices) l.gradientHessian(s.x, s.t, s.c, g[k], h[k]);
        else l.gradientHessian(s.x, s.y, s.c, g[k], h[k]);
      } catch (Throwable e) {
        fail(s, ks[k] + " gradientHessian threw " + e);
        return;
      }
      for (int i = 0; i < s.x.length; i++) {
        if (!Float.isFinite(g[k][i]) || !Float.isFinite(h[k][i])) {
          fail(
              s,
              ks[k]
                  + " hessian/grad not finite at "
                  + i
                  + " g="
                  + g[k][i]
                  + " h="
                  + h[k][i]
                  + " x="
                  + s.x[i]);
          break;
        }
        if (h[k][i] < floor) {
          fail(s, ks[k] + " hess below floor at " + i + ": " + h[k][i]);
          break;
        }
      }
    }
    COUNTS.merge("hessian " + s.form + (s.indices ? " idx" : " dense"), 1, Integer::sum);
    cmp(s, "V/S hess-grad", d(g[0]), g[1], Tolerance.GRAD);
    cmp(s, "V/S hess", d(h[0]), h[1], Tolerance.GRAD);
    cmpRows(s, "V/S hess per-row", h[0], h[1], Tolerance.GRAD, null);
    cmpRows(s, "V/S hess-grad per-row", g[0], g[1], Tolerance.GRAD, null);
    // hess gradient vs forwardBackward SUM gradient (unreduced): same quantity
    // (sigmoid and softmax without ls): compare to SCALAR SUM grad
    Res sum = run(s, s.build(Kernel.SCALAR, Reduction.SUM, 1, true));
    cmp(s, "hess-grad vs SUM grad (scalar)", d(sum.grad), g[0], Tolerance.GRAD);
    // parallel bitwise
    if ((long) s.n * s.c >= FocalLoss.PARALLEL_THRESHOLD || rnd.nextInt(10) == 0) {
      int par = 2 + rnd.nextInt(7);
      for (int k = 0; k < 2; k++) {
        float[] gp = new float[s.x.length], hp = new float[s.x.length];
        FocalLoss l = buildH(s, ks[k], par, floor);
        if (s.indices) l.gradientHessian(s.x, s.t, s.c, gp, hp);
        else l.gradientHessian(s.x, s.y, s.c, gp, hp);
        if (!bitsEq(gp, g[k]) || !bitsEq(hp, h[k])) {
          fail(
              s,
              ks[k]
                  + " gradientHessian parallelism "
                  + par
                  + " differs g@"
                  + firstDiff(gp, g[k])
                  + " h@"
                  + firstDiff(hp, h[k]));
        }
      }
    }
  }

  static FocalLoss buildH(Case s, Kernel k, int par, float floor) {
    if (s.form == Form.SIGMOID) {
      FocalLoss.SigmoidBuilder b =
          FocalLoss.sigmoid()
              .gamma(s.gamma)
              .alpha(s.sigAlpha)
              .ignoreIndex(s.ignoreIndex)
              .hessianFloor(floor);
      if (s.classWeights != null) b.classWeights(s.classWeights);
      return b.reduction(s.red).kernel(k).parallelism(par).build();
    }
    FocalLoss.SoftmaxBuilder b =
        FocalLoss.softmax().gamma(s.gamma).ignoreIndex(s.ignoreIndex).hessianFloor(floor);
    if (s.alpha != null) b.alpha(s.alpha);
    else if (s.counts != null) b.alphaFromClassCounts(s.counts);
    return b.reduction(s.red).kernel(k).parallelism(par).build();
  }

  static final float SENT = Float.intBitsToFloat(0x7fc0_0bad);

  static void checkFailure(Case s, SplittableRandom rnd) {
    int par = rnd.nextBoolean() ? 1 : 2;
    Kernel k = rnd.nextBoolean() ? Kernel.SCALAR : Kernel.VECTOR;
    boolean validate = true;
    float[] x = s.x.clone();
    float[] y = s.y == null ? null : s.y.clone();
    int[] t = s.t == null ? null : s.t.clone();
    int kind = rnd.nextInt(4);
    String what;
    int len = x.length;
    int gradLen = len, psLen = s.n;
    boolean valueError = false;
    int pos = rnd.nextInt(len);
    // bias pos to the end to test late failure
    if (rnd.nextBoolean()) pos = len - 1 - rnd.nextInt(Math.min(len, 50));
    switch (kind) {
      case 0:
        x[pos] =
            rnd.nextBoolean()
                ? Float.NaN
                : (rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
        what = "bad x[" + pos + "]";
        valueError = true;
        break;
      case 1:
        if (y != null) {
          y[pos] = rnd.nextBoolean() ? 1.0000001f : (rnd.nextBoolean() ? -1e-30f : Float.NaN);
          what = "bad y[" + pos + "]";
          valueError = true;
        } else {
          int r = pos / s.c;
          t[r] = rnd.nextBoolean() ? s.c + 1 : -7;
          if (t[r] == s.ignoreIndex) t[r] = s.c + 2;
          what = "bad t[" + r + "]=" + t[r];
        }
        break;
      case 2:
        gradLen = len + (rnd.nextBoolean() ? 1 : -1);
        what = "grad length " + gradLen;
        break;
      default:
        psLen = s.n + 1;
        what = "ps length " + psLen;
        break;
    }
    if (gradLen < 0) gradLen = 1;
    FocalLoss l = s.build(k, s.red, par, validate);
    float[] grad = new float[gradLen];
    float[] ps = new float[psLen];
    Arrays.fill(grad, SENT);
    Arrays.fill(ps, SENT);
    boolean threw1 = false, threw2 = false;
    try {
      if (t != null) l.forwardBackward(x, t, s.c, grad);
      else l.forwardBackward(x, y, s.c, grad);
    } catch (IllegalArgumentException e) {
      threw1 = true;
    }
    try {
      if (t != null) l.perSample(x, t, s.c, ps);
      else l.perSample(x, y, s.c, ps);
    } catch (IllegalArgumentException e) {
      threw2 = true;
    }
    boolean expect1 = kind != 3, expect2 = kind != 2;
    if (threw1 != expect1)
      fail(s, "failure " + what + " par=" + par + " " + k + ": forwardBackward threw=" + threw1);
    if (threw2 != expect2)
      fail(s, "failure " + what + " par=" + par + " " + k + ": perSample threw=" + threw2);
    if (threw1)
      for (float v : grad)
        if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(SENT)) {
          fail(s, "failure " + what + " par=" + par + " " + k + ": grad written");
          break;
        }
    if (threw2)
      for (float v : ps)
        if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(SENT)) {
          fail(s, "failure " + what + " par=" + par + " " + k + ": ps written");
          break;
        }
    // gradientHessian
    boolean hessOk =
        (s.form == Form.SIGMOID) || (s.form == Form.SOFTMAX && s.indices && s.ls == 0f);
    if (hessOk && kind <= 2) {
      FocalLoss lh = buildH(s, k, par, 0f);
      float[] g = new float[gradLen];
      float[] h = new float[len];
      Arrays.fill(g, SENT);
      Arrays.fill(h, SENT);
      boolean threw = false;
      try {
        if (t != null) lh.gradientHessian(x, t, s.c, g, h);
        else lh.gradientHessian(x, y, s.c, g, h);
      } catch (IllegalArgumentException e) {
        threw = true;
      }
      if (!threw)
        fail(s, "failure " + what + " par=" + par + " " + k + ": gradientHessian did not throw");
      boolean written = false;
      for (float v : g) written |= Float.floatToRawIntBits(v) != Float.floatToRawIntBits(SENT);
      for (float v : h) written |= Float.floatToRawIntBits(v) != Float.floatToRawIntBits(SENT);
      if (written)
        fail(s, "failure " + what + " par=" + par + " " + k + ": gradientHessian wrote outputs");
    }
    COUNTS.merge("failure checks par=" + par, 1, Integer::sum);
  }

  public static void main(String[] a) {
    int done =
        runCases(Long.parseLong(a[0]), Integer.parseInt(a[1]), a[2], Double.parseDouble(a[3]));
    System.out.println("done " + done + " cases, failures " + failures);
    System.out.println("counts " + COUNTS);
    System.out.println("worst err/tol " + WORST);
    System.out.println("failure keys:");
    for (Map.Entry<String, Integer> e : FAILKEYS.entrySet())
      System.out.println("  " + e.getValue() + "x " + e.getKey());
    System.out.println("notes (per-row, not failures):");
    for (Map.Entry<String, Integer> e : NOTEKEYS.entrySet())
      System.out.println("  " + e.getValue() + "x " + e.getKey());
    if (failures > 0) {
      System.exit(1);
    }
  }

  /**
   * Checks the cases of seeds start, start + 1, ... (count of them, or as many as run within
   * seconds), from a fresh tally; returns how many ran ({@link #failures} counts the failures).
   */
  static int runCases(long start, int count, String mode, double seconds) {
    failures = 0;
    WORST.clear();
    COUNTS.clear();
    FAILKEYS.clear();
    NOTEKEYS.clear();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    int done = 0;
    for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
      long seed = start + i;
      Case s = gen(seed, mode);
      SplittableRandom rnd = new SplittableRandom(seed * 31 + 7);
      try {
        checkCase(s, rnd, (long) s.n * s.c < 200_000 || rnd.nextInt(4) == 0);
      } catch (Throwable e) {
        fail(s, "exception " + e);
        e.printStackTrace(System.out);
      }
      done++;
    }
    return done;
  }
}
