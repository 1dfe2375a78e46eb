package dev.focalsimd.xgboost;

import dev.focalsimd.FocalLoss;
import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.IObjective;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection") as an XGBoost4J custom
 * objective: margins in, per-row gradient and diagonal Hessian out, computed by the focal-simd
 * kernels ({@link FocalLoss#gradientHessian}).
 *
 * <ul>
 *   <li>{@link #binary(float, float)}: the sigmoid (RetinaNet, torchvision) focal loss on one
 *       margin per row; labels in [0, 1]. gamma 0 with alpha off is {@code binary:logistic}'s
 *       gradient p - y and Hessian p (1 - p), to float rounding (bit for bit on the scalar
 *       kernel; see the module's README).
 *   <li>{@link #multiclass(int, float, float...)}: the softmax focal loss on K margins per row
 *       (the {@code multi:softprob} shape); labels are class indices 0 .. K - 1 stored as floats.
 * </ul>
 *
 * <p>What XGBoost4J passes: {@code Booster.update(DMatrix, int, IObjective)} (xgboost4j 3.4.0,
 * Booster.java) calls {@code predict(dtrain, outputMargin = true, ...)} and hands the result to
 * {@link #getGradient}: untransformed margins, {@code float[N][K]} (K = 1 without {@code
 * num_class}). The gradient and Hessian returned are flat, sample-major ({@code i * K + k}), as
 * {@code Booster.boost} expects. Sample weights of the DMatrix, if set, multiply both.
 *
 * <p>Labels (and weights) are read once per DMatrix and cached (weakly, by identity): XGBoost
 * calls the objective every round with the same training matrix, and reading labels crosses JNI.
 * After {@code setLabel}/{@code setWeight} on a matrix already seen, call {@link #clearCache()}.
 *
 * <p>Training notes: the focal Hessian is small (it carries the (1 - p_t)^gamma factor), so lower
 * XGBoost's {@code min_child_weight} (default 1, a minimum Hessian sum per leaf) for gamma > 0.
 * Negative Hessians (badly misclassified rows) are clamped at {@link #hessianFloor()} (default 0;
 * see docs/hessian.md). Set {@code base_score} explicitly (e.g. 0 with no objective, or 0.5 with
 * {@code objective = binary:logistic}, which is only used for the prediction transform and the
 * default metric when a custom objective is passed): XGBoost otherwise estimates it for its own
 * objective.
 *
 * <p>For LightGBM custom objectives ({@code LGBM_BoosterUpdateOneIterCustom}, lightgbm4j's {@code
 * updateOneIterCustom(float[] grad, float[] hess)}), whose multiclass arrays are class-major
 * ({@code k * N + i}), use {@link #gradientHessian(float[], float[], Layout, float[], float[])}
 * with {@link Layout#CLASS_MAJOR}.
 *
 * <p>Serializable (for xgboost4j-spark and model checkpoints): only the options are serialized;
 * the loss and the label cache are rebuilt on first use. Instances are thread-safe.
 */
public final class FocalObjective implements IObjective, Serializable {

  private static final long serialVersionUID = 1L;

  /** Layout of flat N x K arrays of margins, gradients and Hessians. */
  public enum Layout {
    /** {@code a[i * K + k]}: XGBoost (rows of K values). */
    SAMPLE_MAJOR,
    /** {@code a[k * N + i]}: LightGBM custom objectives (one block of N values per class). */
    CLASS_MAJOR
  }

  private final int numClass;
  private final float gamma;
  /** Binary: the weight of positives, or -1 for off. */
  private final float binaryAlpha;
  /** Multiclass: per-class weights, or null for all 1. */
  private final float[] classAlpha;
  private final float hessianFloor;

  private transient volatile FocalLoss loss;
  private transient Cache cache;

  private FocalObjective(int numClass, float gamma, float binaryAlpha, float[] classAlpha,
      float hessianFloor) {
    this.numClass = numClass;
    this.gamma = gamma;
    this.binaryAlpha = binaryAlpha;
    this.classAlpha = classAlpha;
    this.hessianFloor = hessianFloor;
    this.loss = buildLoss(); // validates every option now, not on the first round
  }

  /**
   * Binary focal objective: one margin per row, labels in [0, 1].
   *
   * @param gamma focusing parameter, >= 0 (0: cross-entropy)
   * @param alpha weight of positives, negatives get 1 - alpha; a negative value turns alpha
   *     weighting off (torchvision's convention)
   * @throws IllegalArgumentException if gamma is negative or not finite, or alpha is NaN,
   *     infinite or above 1 (as {@link FocalLoss.SigmoidBuilder#alpha(float)})
   */
  public static FocalObjective binary(float gamma, float alpha) {
    return new FocalObjective(1, gamma, alpha < 0f && alpha != Float.NEGATIVE_INFINITY ? -1f
        : alpha, null, 0f);
  }

  /**
   * Multiclass (softmax) focal objective: {@code numClass} margins per row (set XGBoost's {@code
   * num_class} to the same value), labels are class indices.
   *
   * @param numClass K, at least 2
   * @param gamma focusing parameter, >= 0 (0: softmax cross-entropy)
   * @param alpha per-class weights alpha_k (K values), or none for all 1
   * @throws IllegalArgumentException if numClass is below 2, gamma is negative or not finite, or
   *     alpha has a length other than 0 or K or a negative or non-finite value
   */
  public static FocalObjective multiclass(int numClass, float gamma, float... alpha) {
    if (numClass < 2) {
      throw new IllegalArgumentException("numClass = " + numClass + ", must be at least 2");
    }
    float[] a = null;
    if (alpha != null && alpha.length > 0) {
      if (alpha.length != numClass) {
        throw new IllegalArgumentException("alpha has " + alpha.length + " values but numClass = "
            + numClass);
      }
      a = alpha.clone();
    }
    return new FocalObjective(numClass, gamma, -1f, a, 0f);
  }

  /**
   * The same objective with another Hessian floor (default 0): every Hessian value is clamped to
   * at least {@code floor}; {@link Float#NEGATIVE_INFINITY} gives the exact, possibly negative,
   * Hessian. See docs/hessian.md.
   *
   * @throws IllegalArgumentException if floor is NaN or positive infinity
   */
  public FocalObjective withHessianFloor(float floor) {
    return new FocalObjective(numClass, gamma, binaryAlpha, classAlpha, floor);
  }

  public int numClass() {
    return numClass;
  }

  public float gamma() {
    return gamma;
  }

  public float hessianFloor() {
    return hessianFloor;
  }

  /** The loss this objective differentiates (the sigmoid or softmax form, SUM reduction). */
  public FocalLoss loss() {
    FocalLoss l = loss;
    if (l == null) {
      l = buildLoss();
      loss = l;
    }
    return l;
  }

  private FocalLoss buildLoss() {
    if (numClass == 1) {
      return FocalLoss.sigmoid().gamma(gamma).alpha(binaryAlpha).hessianFloor(hessianFloor)
          .reduction(dev.focalsimd.Reduction.SUM).build();
    }
    FocalLoss.SoftmaxBuilder b = FocalLoss.softmax().gamma(gamma).hessianFloor(hessianFloor)
        .reduction(dev.focalsimd.Reduction.SUM);
    if (classAlpha != null) {
      b.alpha(classAlpha);
    }
    return b.build();
  }

  // ------------------------------------------------------------------ XGBoost4J

  /**
   * Gradient and Hessian for one boosting round.
   *
   * @param predicts the booster's untransformed margins, N rows of K values
   * @param dtrain the training matrix; its labels (and weights) are read once and cached
   * @return two flat arrays of N * K values, sample-major: the gradient, then the Hessian
   * @throws IllegalArgumentException if the margins' shape does not match the labels or numClass,
   *     a margin is NaN or infinite (named as {@code predicts[i][k]}), or a label is not valid
   *     (outside [0, 1] for binary, not a class index for multiclass)
   * @throws NullPointerException if predicts, a row of it, or dtrain is null
   * @throws IllegalStateException if XGBoost fails to return the labels
   */
  @Override
  public List<float[]> getGradient(float[][] predicts, DMatrix dtrain) {
    Objects.requireNonNull(predicts, "predicts");
    Objects.requireNonNull(dtrain, "dtrain");
    Labels labels = labelsOf(dtrain);
    int n = predicts.length;
    if (n != labels.rows) {
      throw new IllegalArgumentException("predicts has " + n + " rows but the DMatrix has "
          + labels.rows + " labels");
    }
    float[] margins = new float[n * numClass];
    for (int i = 0; i < n; i++) {
      float[] row = predicts[i];
      if (row == null) {
        throw new NullPointerException("predicts[" + i + "] is null");
      }
      if (row.length != numClass) {
        throw new IllegalArgumentException("predicts[" + i + "] has " + row.length
            + " margins but this objective has numClass = " + numClass
            + (numClass > 1 ? " (set XGBoost's num_class to " + numClass + ")" : ""));
      }
      System.arraycopy(row, 0, margins, i * numClass, numClass);
    }
    float[] grad = new float[margins.length];
    float[] hess = new float[margins.length];
    try {
      compute(margins, labels, grad, hess);
    } catch (IllegalArgumentException e) {
      int bad = firstNonFinite(margins);
      if (bad < 0) {
        throw e;
      }
      throw new IllegalArgumentException("predicts[" + bad / numClass + "][" + bad % numClass
          + "] = " + margins[bad] + " is not finite", e);
    }
    return Arrays.asList(grad, hess);
  }

  /**
   * The index of the first NaN or infinite value, or -1. Only where the kernel has rejected the
   * margins (it names them {@code logits}, at its own indices): to name them as the caller does.
   */
  private static int firstNonFinite(float[] a) {
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i])) {
        return i;
      }
    }
    return -1;
  }

  // ------------------------------------------------------------------ flat arrays

  /**
   * Gradient and Hessian over flat arrays, in either layout: for LightGBM custom objectives
   * ({@link Layout#CLASS_MAJOR}) or any booster that hands over margins as one array.
   *
   * @param margins N * K margins in {@code layout}
   * @param labels N labels: values in [0, 1] (binary) or class indices as floats (multiclass)
   * @param layout the layout of {@code margins}, {@code gradient} and {@code hessian}
   * @param gradient N * K values, overwritten; an array of its own
   * @param hessian N * K values, overwritten; an array of its own
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException on wrong lengths, non-finite margins (named {@code
   *     margins[j]}, j in {@code layout}), invalid labels, or gradient, hessian, margins and labels
   *     not four distinct arrays
   */
  public void gradientHessian(float[] margins, float[] labels, Layout layout, float[] gradient,
      float[] hessian) {
    Objects.requireNonNull(margins, "margins");
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(gradient, "gradient");
    Objects.requireNonNull(hessian, "hessian");
    int n = labels.length;
    long len = (long) n * numClass;
    if (margins.length != len) {
      throw new IllegalArgumentException("margins has length " + margins.length + ", expected "
          + len + " (" + n + " labels x numClass " + numClass + ")");
    }
    if (gradient.length != len) {
      throw new IllegalArgumentException("gradient has length " + gradient.length
          + ", expected " + len);
    }
    if (hessian.length != len) {
      throw new IllegalArgumentException("hessian has length " + hessian.length + ", expected "
          + len);
    }
    if (gradient == hessian || gradient == margins || hessian == margins || gradient == labels
        || hessian == labels) {
      throw new IllegalArgumentException("gradient, hessian, margins and labels must be four "
          + "distinct arrays");
    }
    Labels l = new Labels(labels, null, numClass);
    try {
      if (layout == Layout.SAMPLE_MAJOR || numClass == 1) {
        compute(margins, l, gradient, hessian);
        return;
      }
      float[] m = transpose(margins, numClass, n); // K x N -> N x K
      float[] g = new float[m.length];
      float[] h = new float[m.length];
      compute(m, l, g, h);
      transposeInto(g, n, numClass, gradient); // N x K -> K x N
      transposeInto(h, n, numClass, hessian);
    } catch (IllegalArgumentException e) {
      int bad = firstNonFinite(margins);
      if (bad < 0) {
        throw e;
      }
      throw new IllegalArgumentException("margins[" + bad + "] = " + margins[bad]
          + " is not finite", e);
    }
  }

  /** rows x cols row-major in, cols x rows row-major out. */
  static float[] transpose(float[] a, int rows, int cols) {
    float[] out = new float[a.length];
    transposeInto(a, rows, cols, out);
    return out;
  }

  static void transposeInto(float[] a, int rows, int cols, float[] out) {
    for (int r = 0; r < rows; r++) {
      int base = r * cols;
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = a[base + c];
      }
    }
  }

  private void compute(float[] margins, Labels labels, float[] grad, float[] hess) {
    if (numClass == 1) {
      loss().gradientHessian(margins, labels.values, 1, grad, hess);
    } else {
      loss().gradientHessian(margins, labels.indices, numClass, grad, hess);
    }
    float[] w = labels.weights;
    if (w != null) {
      for (int i = 0, e = 0; i < w.length; i++) {
        float wi = w[i];
        for (int k = 0; k < numClass; k++, e++) {
          grad[e] *= wi;
          hess[e] *= wi;
        }
      }
    }
  }

  // ------------------------------------------------------------------ label cache

  /** Drops the cached labels and weights; the next round reads them from the DMatrix again. */
  public synchronized void clearCache() {
    cache = null;
  }

  private synchronized Labels labelsOf(DMatrix m) {
    Cache c = cache;
    if (c != null && c.matrix.get() == m) {
      return c.labels;
    }
    float[] values;
    float[] weights;
    try {
      values = m.getLabel();
      weights = m.getWeight();
    } catch (XGBoostError e) {
      throw new IllegalStateException("cannot read labels or weights of the training DMatrix: "
          + e.getMessage(), e);
    }
    if (values == null || values.length == 0) {
      throw new IllegalArgumentException("the training DMatrix has no labels");
    }
    if (weights != null && weights.length == 0) {
      weights = null;
    }
    if (weights != null && weights.length != values.length) {
      throw new IllegalArgumentException("the training DMatrix has " + weights.length
          + " weights for " + values.length + " labels");
    }
    Labels l = new Labels(values, weights, numClass);
    cache = new Cache(new WeakReference<>(m), l);
    return l;
  }

  private static final class Cache {
    final WeakReference<DMatrix> matrix;
    final Labels labels;

    Cache(WeakReference<DMatrix> matrix, Labels labels) {
      this.matrix = matrix;
      this.labels = labels;
    }
  }

  /** Labels as the kernels take them, checked once. */
  private static final class Labels {
    final int rows;
    final float[] values;
    final int[] indices;
    final float[] weights;

    Labels(float[] values, float[] weights, int numClass) {
      this.rows = values.length;
      this.weights = weights;
      if (numClass == 1) {
        for (int i = 0; i < values.length; i++) {
          if (!(values[i] >= 0f && values[i] <= 1f)) {
            throw new IllegalArgumentException("label[" + i + "] = " + values[i]
                + " is not in [0, 1] (binary focal objective)");
          }
        }
        this.values = values;
        this.indices = null;
      } else {
        int[] t = new int[values.length];
        for (int i = 0; i < values.length; i++) {
          float v = values[i];
          if (!(v >= 0f && v < numClass) || v != (int) v) {
            throw new IllegalArgumentException("label[" + i + "] = " + v
                + " is not a class index in [0, " + numClass + ")");
          }
          t[i] = (int) v;
        }
        this.values = null;
        this.indices = t;
      }
      if (weights != null) {
        for (int i = 0; i < weights.length; i++) {
          if (!(weights[i] >= 0f) || Float.isInfinite(weights[i])) {
            throw new IllegalArgumentException("weight[" + i + "] = " + weights[i]
                + " must be finite and >= 0");
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return "FocalObjective[" + (numClass == 1 ? "binary" : "multiclass K=" + numClass)
        + ", gamma=" + gamma
        + (numClass == 1 ? ", alpha=" + binaryAlpha : ", alpha=" + Arrays.toString(classAlpha))
        + ", hessianFloor=" + hessianFloor + "]";
  }
}
