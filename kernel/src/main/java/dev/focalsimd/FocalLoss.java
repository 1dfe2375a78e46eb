package dev.focalsimd;

import dev.focalsimd.kernels.FocalKernel;
import dev.focalsimd.kernels.HessianKernel;
import dev.focalsimd.kernels.KernelProvider;
import dev.focalsimd.kernels.LossParams;
import dev.focalsimd.kernels.LossParams.Form;
import dev.focalsimd.kernels.ScalarHessianKernel;
import dev.focalsimd.kernels.ScalarKernel;
import dev.focalsimd.kernels.Scratch;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Objects;

/**
 * Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection") and its gradient over flat
 * row-major float arrays, computed by a SIMD kernel ({@code jdk.incubator.vector}) or a scalar
 * one. Three forms:
 *
 * <ul>
 *   <li>{@link #oneVsAll()}: the one-vs-all focal loss on probabilities of the original design
 *       note, with class weights that may be derived from class counts;
 *   <li>{@link #softmax()}: the multi-class focal loss on logits through a softmax (mmcv's
 *       softmax_focal_loss, kornia, Keras CategoricalFocalCrossentropy);
 *   <li>{@link #sigmoid()}: the RetinaNet focal loss on logits, one sigmoid per element
 *       (torchvision.ops.sigmoid_focal_loss).
 * </ul>
 *
 * <p>Shapes: {@code input} is N x C row-major ({@code input[i * C + c]}), with C = {@code classes}
 * given at each call and N = {@code input.length / classes}. Targets are either dense, N x C values
 * in [0, 1] (one-hot, smoothed or soft), or N class indices. {@code gradInput} is N x C and
 * receives d(reduced loss)/d(input); {@code lossPerSample} has N entries, the unreduced row
 * losses (sum over the C classes).
 *
 * <p>Every method validates its arguments before it writes anything: on an exception, the
 * caller's arrays and buffers hold what they held before, and no buffer position or limit moves.
 * Null arguments throw {@link NullPointerException}; wrong lengths, class indices out of range,
 * NaN or infinite inputs and dense targets outside [0, 1] throw {@link IllegalArgumentException}
 * naming the argument, the index and the value.
 *
 * <p>Outputs must not share memory with the inputs or with each other: the kernels read the input
 * and the targets after writing parts of the outputs (a vector that overlaps the one before, a
 * row's exponentials kept in its gradient), so an in-place gradient would be wrong. An output
 * array that is the input or the targets array, and array-backed buffers whose views overlap in
 * one array, throw {@link IllegalArgumentException}; buffers without an accessible array (direct
 * and read-only buffers, float views of a {@code ByteBuffer}) cannot be compared and must not
 * overlap an output.
 *
 * <p>Instances are immutable and thread-safe: one instance may serve any number of threads, each
 * with its own output arrays. Results do not depend on {@link Builder#parallelism(int)}: the
 * reduced loss and the gradient are bitwise identical for every parallelism. The kernels' scratch
 * arrays (about 60 KB for the vector kernel) are per thread: a platform thread creates them on its
 * first call and keeps them, so later calls allocate nothing; a virtual thread borrows a set from a
 * small pool for each call, so that neither a thread per call nor thousands of parked threads
 * create or keep a set each.
 */
public final class FocalLoss {

  /**
   * Rows are processed in blocks of about this many elements; the reduced loss is the sum, in
   * block order, of per-block sums in double, whatever the parallelism.
   */
  static final int BLOCK_ELEMENTS = 1 << 14;

  /**
   * Batches of at least this many elements (N x C) are split across threads when {@link
   * Builder#parallelism(int)} is above 1; smaller ones run on the calling thread.
   */
  public static final int PARALLEL_THRESHOLD = 1 << 18;

  /**
   * Batches of at least this many elements (N x C: 1.5 MB of input, targets and gradient for the
   * dense forms, more than a core's L2 holds on most CPUs) run with {@link LossParams#streaming}:
   * chosen from N x C alone, so that results do not depend on the container or the parallelism.
   */
  static final int STREAMING_ELEMENTS = 1 << 17;

  /** The value checks of a large batch, with a parallelism above 1: ranges per thread. */
  private static final int SCAN_PARTS_PER_THREAD = 4;

  private final LossParams params;
  private final Reduction reduction;
  private final FocalKernel kernel;
  private final int parallelism;
  private final boolean validateValues;

  private FocalLoss(LossParams params, Reduction reduction, FocalKernel kernel, int parallelism,
      boolean validateValues) {
    this.params = params;
    this.reduction = reduction;
    this.kernel = kernel;
    this.parallelism = parallelism;
    this.validateValues = validateValues;
  }

  // ------------------------------------------------------------------ factories

  /**
   * The one-vs-all focal loss on probabilities of the design note. Per element, with {@code p'} =
   * clip(p, epsilon, 1 - epsilon) (bounds rounded to float), {@code p_t = y p' + (1 - y)(1 - p')}:
   * {@code l = -alpha_c (1 - p_t)^gamma ln p_t}; the per-sample loss sums the C classes. The
   * gradient is d/dp, and 0 where the clip is active. With {@link OneVsAllBuilder#fromLogits}
   * the input holds logits and p = softmax(logits) per row.
   */
  public static OneVsAllBuilder oneVsAll() {
    return new OneVsAllBuilder();
  }

  /**
   * Softmax focal loss on logits (mmcv softmax_focal_loss, kornia; Keras
   * CategoricalFocalCrossentropy for dense targets): with p = softmax(z) per row, {@code l =
   * -sum_c alpha_c y_c (1 - p_c)^gamma ln p_c}, which for a class index t is {@code -alpha_t (1 -
   * p_t)^gamma ln p_t}. ln p comes from a max-subtracted log-softmax, so no loss is capped.
   */
  public static SoftmaxBuilder softmax() {
    return new SoftmaxBuilder();
  }

  /**
   * Sigmoid (RetinaNet) focal loss on logits, elementwise, with the semantics of
   * torchvision.ops.sigmoid_focal_loss: p = sigmoid(x), ce = binary cross-entropy with logits,
   * {@code p_t = p y + (1 - p)(1 - y)}, {@code l = alpha_t ce (1 - p_t)^gamma}, {@code alpha_t =
   * alpha y + (1 - alpha)(1 - y)}. ln p and ln(1 - p) come from softplus, so nothing is clamped.
   */
  public static SigmoidBuilder sigmoid() {
    return new SigmoidBuilder();
  }

  /**
   * The Vector API support of this JVM and what {@link Kernel#AUTO} resolves to.
   *
   * @throws IllegalStateException if the system property {@code dev.focalsimd.kernel} is neither
   *     {@code scalar} nor {@code vector}, or is {@code vector} where the vector kernel is
   *     unavailable (AUTO then resolves to nothing)
   */
  public static Platform platform() {
    return Platform.current();
  }

  /** The kernel this instance uses: {@link Kernel#SCALAR} or {@link Kernel#VECTOR}. */
  public Kernel kernel() {
    return Kernel.valueOf(kernel.name());
  }

  public Reduction reduction() {
    return reduction;
  }

  public float gamma() {
    return params.gamma;
  }

  public int parallelism() {
    return parallelism;
  }

  @Override
  public String toString() {
    return "FocalLoss[" + params.form + ", gamma=" + params.gamma + ", reduction=" + reduction
        + ", kernel=" + kernel.name() + ", parallelism=" + parallelism + "]";
  }

  // ------------------------------------------------------------------ array API

  /**
   * The reduced loss for dense targets.
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N x C target values in [0, 1]
   * @param classes C, at least 1
   * @return the loss reduced by {@link #reduction()}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths or non-finite or out-of-range values
   */
  public float forward(float[] input, float[] targets, int classes) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, input.length);
    return run(input, 0, targets, 0, null, 0, n, classes, null, 0, null, 0);
  }

  /**
   * The reduced loss for class-index targets ({@code t[i]} in [0, C); the softmax and sigmoid
   * forms also take the ignore index, and the sigmoid form C for background).
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N class indices
   * @param classes C, at least 1
   * @return the loss reduced by {@link #reduction()}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite input or a bad class index
   */
  public float forward(float[] input, int[] targets, int classes) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, n);
    return run(input, 0, null, 0, targets, 0, n, classes, null, 0, null, 0);
  }

  /**
   * The reduced loss and its gradient, for dense targets.
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N x C target values in [0, 1]
   * @param classes C, at least 1
   * @param gradInput N x C, overwritten with d(reduced loss)/d(input); not the input or targets
   *     array
   * @return the loss reduced by {@link #reduction()}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite or out-of-range values, or
   *     gradInput the input or targets array
   */
  public float forwardBackward(float[] input, float[] targets, int classes, float[] gradInput) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(gradInput, "gradInput");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, input.length);
    checkLength("gradInput", gradInput.length, input.length);
    checkDistinct("gradInput", gradInput, input, targets);
    return run(input, 0, targets, 0, null, 0, n, classes, gradInput, 0, null, 0);
  }

  /**
   * The reduced loss and its gradient, for class-index targets.
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N class indices
   * @param classes C, at least 1
   * @param gradInput N x C, overwritten with d(reduced loss)/d(input); not the input array
   * @return the loss reduced by {@link #reduction()}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite input, a bad class index, or
   *     gradInput the input array
   */
  public float forwardBackward(float[] input, int[] targets, int classes, float[] gradInput) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(gradInput, "gradInput");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, n);
    checkLength("gradInput", gradInput.length, input.length);
    checkDistinct("gradInput", gradInput, input, null);
    return run(input, 0, null, 0, targets, 0, n, classes, gradInput, 0, null, 0);
  }

  /**
   * The N unreduced row losses (sum over the C classes of each row), for dense targets.
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N x C target values in [0, 1]
   * @param classes C, at least 1
   * @param lossPerSample N entries, overwritten with the row losses; not the input or targets
   *     array
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite or out-of-range values, or
   *     lossPerSample the input or targets array
   */
  public void perSample(float[] input, float[] targets, int classes, float[] lossPerSample) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(lossPerSample, "lossPerSample");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, input.length);
    checkLength("lossPerSample", lossPerSample.length, n);
    checkDistinct("lossPerSample", lossPerSample, input, targets);
    run(input, 0, targets, 0, null, 0, n, classes, null, 0, lossPerSample, 0);
  }

  /**
   * The N unreduced row losses, for class-index targets; ignored rows get 0.
   *
   * @param input N x C probabilities (one-vs-all: finite, clipped to [epsilon, 1 - epsilon], not
   *     range-checked) or logits, row-major
   * @param targets N class indices
   * @param classes C, at least 1
   * @param lossPerSample N entries, overwritten with the row losses; not the input array
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite input, a bad class index, or
   *     lossPerSample the input array
   */
  public void perSample(float[] input, int[] targets, int classes, float[] lossPerSample) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(lossPerSample, "lossPerSample");
    int n = rowsOf("input.length", input.length, classes);
    checkLength("targets", targets.length, n);
    checkLength("lossPerSample", lossPerSample.length, n);
    checkDistinct("lossPerSample", lossPerSample, input, null);
    run(input, 0, null, 0, targets, 0, n, classes, null, 0, lossPerSample, 0);
  }

  // ------------------------------------------------------------------ gradient and Hessian

  /**
   * Gradient and diagonal Hessian of the unreduced loss w.r.t. the logits, for the sigmoid form
   * with dense targets: the custom objective of a gradient booster (XGBoost's {@code
   * binary:logistic} shape when C = 1). Element i gets {@code gradient[i] = dl_i/dx_i} and {@code
   * hessian[i] = max(d2l_i/dx_i^2, hessianFloor)}, l_i being the element's loss {@code alpha_t ce
   * (1 - p_t)^gamma} times its class weight; no reduction is applied. With gamma 0 and alpha off
   * these are p - y and p (1 - p): bit for bit on the scalar kernel, to float rounding on the
   * vector kernel. Closed forms and their numerics: docs/hessian.md. Finite logits give finite
   * outputs for every gamma: with gamma above 10, a block of rows where the vector kernel's float
   * arithmetic overflowed (as its q^gamma did at gamma 1e27 before its passes corrected q = 1 - p_t
   * for rounding to 1 where p_t is below 2^-25) is computed again by the scalar kernel.
   *
   * @param logits N x C logits, row-major
   * @param targets N x C target values in [0, 1]
   * @param classes C, at least 1
   * @param gradient N x C, overwritten with the gradient
   * @param hessian N x C, overwritten with the Hessian diagonal, clamped below at {@link
   *     SigmoidBuilder#hessianFloor(float)}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite logits, targets outside [0, 1],
   *     or output arrays that alias each other, the logits or the targets
   * @throws UnsupportedOperationException for the one-vs-all form, and for the softmax form with
   *     dense targets (use class indices)
   */
  public void gradientHessian(float[] logits, float[] targets, int classes, float[] gradient,
      float[] hessian) {
    Object[] lent = Scratch.enter();
    try {
      gradientHessianDense(logits, targets, classes, gradient, hessian);
    } finally {
      Scratch.exit(lent);
    }
  }

  private void gradientHessianDense(float[] logits, float[] targets, int classes,
      float[] gradient, float[] hessian) {
    Objects.requireNonNull(logits, "logits");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(gradient, "gradient");
    Objects.requireNonNull(hessian, "hessian");
    if (params.form != Form.SIGMOID) {
      throw new UnsupportedOperationException("gradientHessian with dense targets is defined for "
          + "the sigmoid form only; this is the " + params.form + " form"
          + (params.form == Form.SOFTMAX ? " (pass class indices)" : ""));
    }
    int n = rowsOf("logits.length", logits.length, classes);
    checkLength("targets", targets.length, logits.length);
    checkHessianOutputs(logits, gradient, hessian);
    checkDistinct("gradient", gradient, null, targets);
    checkDistinct("hessian", hessian, null, targets);
    checkClassParams(classes);
    if (hessianTwoPhases(logits, targets, null, n, classes, gradient, hessian)) {
      return;
    }
    int bad = kernel.firstNonFinite(logits, 0, logits.length);
    if (bad >= 0) {
      throw badLogit(logits, bad);
    }
    bad = kernel.firstOutsideUnit(targets, 0, targets.length);
    if (bad >= 0) {
      throw badDenseTarget(targets, bad);
    }
    runHessian(logits, targets, null, n, classes, gradient, hessian);
  }

  /**
   * Gradient and diagonal Hessian of the unreduced loss w.r.t. the logits, for class-index
   * targets: the softmax form ({@code multi:softprob} shape; row loss {@code -alpha_t (1 -
   * p_t)^gamma ln p_t}, whose Hessian diagonal is taken w.r.t. each of the row's C logits) or the
   * sigmoid form (one-hot rows; index C is background). Rows with the ignore index get gradient 0
   * and Hessian 0. With gamma 0 (and no alpha) the softmax values are p_j - delta_jt and p_j (1 -
   * p_j). Closed forms and their numerics: docs/hessian.md. Finite logits give finite outputs for
   * every gamma, as with dense targets.
   *
   * @param logits N x C logits, row-major
   * @param targets N class indices
   * @param classes C, at least 1
   * @param gradient N x C, overwritten with the gradient
   * @param hessian N x C, overwritten with the Hessian diagonal, clamped below at the builder's
   *     {@code hessianFloor}
   * @throws NullPointerException if an array is null
   * @throws IllegalArgumentException on wrong lengths, non-finite logits, a bad class index, or
   *     output arrays that alias each other or the logits
   * @throws UnsupportedOperationException for the one-vs-all form, and for the softmax form with
   *     label smoothing
   */
  public void gradientHessian(float[] logits, int[] targets, int classes, float[] gradient,
      float[] hessian) {
    Object[] lent = Scratch.enter();
    try {
      gradientHessianIndices(logits, targets, classes, gradient, hessian);
    } finally {
      Scratch.exit(lent);
    }
  }

  private void gradientHessianIndices(float[] logits, int[] targets, int classes,
      float[] gradient, float[] hessian) {
    Objects.requireNonNull(logits, "logits");
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(gradient, "gradient");
    Objects.requireNonNull(hessian, "hessian");
    if (params.form == Form.ONE_VS_ALL) {
      throw new UnsupportedOperationException("gradientHessian is defined for the sigmoid and "
          + "softmax forms (logits), not the one-vs-all form on probabilities");
    }
    if (params.form == Form.SOFTMAX && params.labelSmoothing != 0f) {
      throw new UnsupportedOperationException("gradientHessian does not support labelSmoothing = "
          + params.labelSmoothing + "; build the softmax loss without it");
    }
    int n = rowsOf("logits.length", logits.length, classes);
    checkLength("targets", targets.length, n);
    checkHessianOutputs(logits, gradient, hessian);
    checkClassParams(classes);
    if (hessianTwoPhases(logits, null, targets, n, classes, gradient, hessian)) {
      return;
    }
    int bad = kernel.firstNonFinite(logits, 0, logits.length);
    if (bad >= 0) {
      throw badLogit(logits, bad);
    }
    denominatorIndices(targets, 0, n, classes); // validates every class index
    runHessian(logits, null, targets, n, classes, gradient, hessian);
  }

  private static IllegalArgumentException badLogit(float[] logits, int i) {
    return new IllegalArgumentException("logits[" + i + "] = " + logits[i] + " is not finite");
  }

  private static IllegalArgumentException badDenseTarget(float[] targets, int i) {
    return new IllegalArgumentException("targets[" + i + "] = " + targets[i]
        + " is not in [0, 1]");
  }

  /**
   * {@link #gradientHessian} with more than one thread, as {@link #runTwoPhases}: the logits'
   * finiteness and the targets (dense: in [0, 1]; class indices: valid) checked in parallel parts,
   * the first bad value reported as the sequential checks report it (logits first), then the
   * Hessian blocks, in one {@link Parallel} call. Returns false, doing nothing, where the call is
   * one thread's (parallelism 1, one block, or below {@link #PARALLEL_THRESHOLD} elements).
   */
  private boolean hessianTwoPhases(float[] x, float[] y, int[] t, int n, int classes,
      float[] grad, float[] hess) {
    int len = n * classes;
    int blockRows = blockRows(classes);
    int blocks = blockCount(n, blockRows);
    if (parallelism == 1 || blocks == 1 || len < PARALLEL_THRESHOLD) {
      return false;
    }
    int scanThreads = scanThreads(len);
    int parts = SCAN_PARTS_PER_THREAD * scanThreads;
    int[] firstBad = new int[2 * parts];
    long[] counts = new long[2 * parts];
    int[] badRow = new int[parts];
    HessianKernel hk = hessianKernel();
    Parallel.forEach(Math.min(threadCap(), Math.max(scanThreads, blocks)), parts, k -> {
      scanPart(x, 0, y, 0, len, parts, k, firstBad);
      if (t != null) {
        indexPart(t, 0, n, classes, parts, k, counts, badRow);
      }
    }, () -> {
      int bad = firstOf(firstBad, 0);
      if (bad >= 0) {
        throw badLogit(x, bad);
      }
      bad = firstOf(firstBad, 1);
      if (bad >= 0) {
        throw badDenseTarget(y, bad);
      }
      if (t != null) {
        throwIfBadIndex(t, 0, classes, badRow);
      }
      return true;
    }, blocks, b -> HessianBlocks.run(hk, params, b, b + 1, blockRows, x, y, t, n, classes, grad,
        hess));
    return true;
  }

  private static void checkHessianOutputs(float[] logits, float[] gradient, float[] hessian) {
    checkLength("gradient", gradient.length, logits.length);
    checkLength("hessian", hessian.length, logits.length);
    if (gradient == hessian || gradient == logits || hessian == logits) {
      throw new IllegalArgumentException("logits, gradient and hessian must be three distinct "
          + "arrays");
    }
  }

  /**
   * An output array must be neither the input nor the (dense) targets array: the kernels read them
   * after writing parts of the output.
   */
  private static void checkDistinct(String name, float[] out, float[] input, float[] targets) {
    if (out == input || out == targets) {
      throw new IllegalArgumentException(name + " is the " + (out == input ? "input" : "targets")
          + " array; pass an array of its own (the kernels read the input and targets after "
          + "writing to " + name + ")");
    }
  }

  /** The Hessian kernel of this instance's kernel, or the scalar one where it has none. */
  private HessianKernel hessianKernel() {
    return kernel instanceof HessianKernel ? (HessianKernel) kernel
        : ScalarHessianKernel.INSTANCE;
  }

  /** One thread's {@link #gradientHessian} (see {@link #hessianTwoPhases} for more threads). */
  private void runHessian(float[] x, float[] y, int[] t, int n, int classes, float[] grad,
      float[] hess) {
    int blockRows = blockRows(classes);
    int blocks = blockCount(n, blockRows);
    // no lambda: a boosting round calls this once per round, allocation-free
    HessianBlocks.run(hessianKernel(), params, 0, blocks, blockRows, x, y, t, n, classes, grad,
        hess);
  }

  /**
   * Elementwise outputs, so blocks may run in any order and on any thread. With gamma above
   * {@link #HESSIAN_RECHECK_GAMMA}, a block whose gradient or Hessian the vector kernel wrote with
   * an infinite or NaN element is computed again by the scalar kernel, in double (as {@link #call}
   * does for the loss): the vector kernel forms q = 1 - p_t in float, which is 1 where p_t is
   * below 2^-25, so q^gamma is 1 instead of about exp(-gamma p_t), and at gamma 1e27 its gamma^2
   * terms overflowed to Infinity (softmax logits {0, 17.5} with class index 0; an adversarial
   * tester's find, 2026-12-07; {@code EdgeCaseTest}). Up to gamma 10 that rounding changes
   * q^gamma by a factor of at most exp(10 x 2^-24), so a value that overflows there overflows in
   * the exact closed form too, so the check runs only above: the vector kernel's scan of both
   * outputs ({@link FocalKernel#firstNonFinite}), 0.98x to 1.04x of the calls without it at gamma
   * 20 (paired, JDK 17, 4096 x 16 and 8192 x 1000; a scalar loop over the outputs cost 0.85x).
   * Blocks are fixed by the batch's shape, so the results still do not depend on the parallelism.
   */
  private static final class HessianBlocks {
    /** The gamma above which {@link #run} checks the vector kernel's outputs for overflow. */
    static final float HESSIAN_RECHECK_GAMMA = 10f;

    private HessianBlocks() {}

    static void run(HessianKernel hk, LossParams p, int from, int to, int blockRows,
        float[] x, float[] y, int[] t, int n, int classes, float[] grad, float[] hess) {
      // the vector kernel's own scan (FocalKernel.firstNonFinite), a vector at a time
      FocalKernel scan = p.gamma > HESSIAN_RECHECK_GAMMA && hk != ScalarHessianKernel.INSTANCE
          && hk instanceof FocalKernel ? (FocalKernel) hk : null;
      for (int b = from; b < to; b++) {
        int r0 = b * blockRows;
        int rows = Math.min(blockRows, n - r0);
        int e0 = r0 * classes;
        int len = rows * classes;
        block(hk, p, x, y, t, r0, rows, classes, grad, hess);
        if (scan != null && (scan.firstNonFinite(grad, e0, len) >= 0
            || scan.firstNonFinite(hess, e0, len) >= 0)) {
          block(ScalarHessianKernel.INSTANCE, p, x, y, t, r0, rows, classes, grad, hess);
        }
      }
    }

    private static void block(HessianKernel hk, LossParams p, float[] x, float[] y, int[] t,
        int r0, int rows, int classes, float[] grad, float[] hess) {
      int e0 = r0 * classes;
      if (p.form == Form.SOFTMAX) {
        hk.softmax(p, x, e0, t, r0, rows, classes, grad, e0, hess, e0);
      } else if (y != null) {
        hk.sigmoid(p, x, e0, y, e0, rows, classes, grad, e0, hess, e0);
      } else {
        hk.sigmoid(p, x, e0, t, r0, rows, classes, grad, e0, hess, e0);
      }
    }
  }

  // ------------------------------------------------------------------ buffer API

  /**
   * {@link #forward(float[], float[], int)} over buffers. Each buffer's view is position..limit
   * (the indices that exception messages name count from the position); no position or limit is
   * moved. Heap buffers run at array speed; direct and read-only buffers are staged through
   * per-thread scratch arrays, block by block (the blocks in parallel parts as arrays' are, where
   * {@link Builder#parallelism(int)} allows). The buffer methods throw what
   * the array methods throw, and {@link IllegalArgumentException} for a read-only output buffer
   * and for an output whose view overlaps an input's in one backing array. Buffers without an
   * accessible array (direct buffers, read-only buffers, float views of a {@code ByteBuffer}, heap
   * ones included) cannot be compared, and must not overlap an output.
   */
  public float forward(FloatBuffer input, FloatBuffer targets, int classes) {
    return runBuffers(input, targets, null, classes, null, null);
  }

  /** {@link #forward(float[], int[], int)} over buffers (see {@link #forward(FloatBuffer, FloatBuffer, int)}). */
  public float forward(FloatBuffer input, IntBuffer targets, int classes) {
    return runBuffers(input, null, Objects.requireNonNull(targets, "targets"), classes, null,
        null);
  }

  /** {@link #forwardBackward(float[], float[], int, float[])} over buffers. */
  public float forwardBackward(FloatBuffer input, FloatBuffer targets, int classes,
      FloatBuffer gradInput) {
    return runBuffers(input, Objects.requireNonNull(targets, "targets"), null, classes,
        Objects.requireNonNull(gradInput, "gradInput"), null);
  }

  /** {@link #forwardBackward(float[], int[], int, float[])} over buffers. */
  public float forwardBackward(FloatBuffer input, IntBuffer targets, int classes,
      FloatBuffer gradInput) {
    return runBuffers(input, null, Objects.requireNonNull(targets, "targets"), classes,
        Objects.requireNonNull(gradInput, "gradInput"), null);
  }

  /** {@link #perSample(float[], float[], int, float[])} over buffers. */
  public void perSample(FloatBuffer input, FloatBuffer targets, int classes,
      FloatBuffer lossPerSample) {
    runBuffers(input, Objects.requireNonNull(targets, "targets"), null, classes, null,
        Objects.requireNonNull(lossPerSample, "lossPerSample"));
  }

  /** {@link #perSample(float[], int[], int, float[])} over buffers. */
  public void perSample(FloatBuffer input, IntBuffer targets, int classes,
      FloatBuffer lossPerSample) {
    runBuffers(input, null, Objects.requireNonNull(targets, "targets"), classes, null,
        Objects.requireNonNull(lossPerSample, "lossPerSample"));
  }

  private float runBuffers(FloatBuffer input, FloatBuffer y, IntBuffer t, int classes,
      FloatBuffer grad, FloatBuffer ps) {
    Object[] lent = Scratch.enter();
    try {
      return runBuffersInCall(input, y, t, classes, grad, ps);
    } finally {
      Scratch.exit(lent);
    }
  }

  private float runBuffersInCall(FloatBuffer input, FloatBuffer y, IntBuffer t, int classes,
      FloatBuffer grad, FloatBuffer ps) {
    Objects.requireNonNull(input, "input");
    if (y == null && t == null) {
      throw new NullPointerException("targets");
    }
    int len = input.remaining();
    int n = rowsOf("input.remaining()", len, classes);
    if (y != null) {
      checkLength("targets", y.remaining(), len);
    } else {
      checkLength("targets", t.remaining(), n);
    }
    if (grad != null) {
      checkLength("gradInput", grad.remaining(), len);
      checkWritable("gradInput", grad);
      checkApart("gradInput", grad, "input", input);
      checkApart("gradInput", grad, "targets", y);
    }
    if (ps != null) {
      checkLength("lossPerSample", ps.remaining(), n);
      checkWritable("lossPerSample", ps);
      checkApart("lossPerSample", ps, "input", input);
      checkApart("lossPerSample", ps, "targets", y);
    }
    boolean heap = input.hasArray() && (y == null || y.hasArray()) && (t == null || t.hasArray())
        && (grad == null || grad.hasArray()) && (ps == null || ps.hasArray());
    if (heap) {
      return run(input.array(), input.arrayOffset() + input.position(),
          y == null ? null : y.array(), y == null ? 0 : y.arrayOffset() + y.position(),
          t == null ? null : t.array(), t == null ? 0 : t.arrayOffset() + t.position(),
          n, classes,
          grad == null ? null : grad.array(), grad == null ? 0 : grad.arrayOffset() + grad.position(),
          ps == null ? null : ps.array(), ps == null ? 0 : ps.arrayOffset() + ps.position());
    }
    return Staged.run(this, input, y, t, n, classes, grad, ps);
  }

  private static void checkWritable(String name, FloatBuffer out) {
    if (out.isReadOnly()) {
      throw new IllegalArgumentException(name + " is a read-only buffer");
    }
  }

  /**
   * An output buffer's view must not overlap an input's where both are backed by one array (see
   * the class comment; direct buffers cannot be compared).
   */
  private static void checkApart(String outName, FloatBuffer out, String inName, FloatBuffer in) {
    if (in == null || !out.hasArray() || !in.hasArray() || out.array() != in.array()) {
      return;
    }
    int o = out.arrayOffset() + out.position();
    int i = in.arrayOffset() + in.position();
    if (o < i + in.remaining() && i < o + out.remaining()) {
      throw new IllegalArgumentException(outName + " overlaps " + inName + " (elements " + o
          + " to " + (o + out.remaining() - 1) + " and " + i + " to " + (i + in.remaining() - 1)
          + " of one array); pass a buffer of its own");
    }
  }

  // ------------------------------------------------------------------ the engine

  /** Rows of {@code length} elements; {@code what} names the length in the exception. */
  private static int rowsOf(String what, int length, int classes) {
    if (classes < 1) {
      throw new IllegalArgumentException("classes = " + classes + ", must be at least 1");
    }
    if (length % classes != 0) {
      throw new IllegalArgumentException(what + " = " + length
          + " is not a multiple of classes = " + classes);
    }
    return length / classes;
  }

  private static void checkLength(String name, int actual, int expected) {
    if (actual != expected) {
      throw new IllegalArgumentException(name + " has length " + actual + ", expected "
          + expected);
    }
  }

  /** Rows per block for C classes: whole rows, about BLOCK_ELEMENTS elements. */
  static int blockRows(int classes) {
    return Math.max(1, BLOCK_ELEMENTS / classes);
  }

  /**
   * The number of blocks of {@code blockRows} rows that cover n rows: n / blockRows rounded up,
   * without the overflow of (n + blockRows - 1) / blockRows, which was negative for batches of
   * more than 2^31 - 16384 rows of one class (no block ran: a loss of 0 and an untouched
   * gradient; a reviewer's reading).
   */
  static int blockCount(int n, int blockRows) {
    return n / blockRows + (n % blockRows == 0 ? 0 : 1);
  }

  /**
   * Validates values, computes the reduction's denominator, then runs the kernel block by block.
   * Every check happens before the first output is written. On a virtual thread, with scratch
   * lent for the call ({@link Scratch}).
   */
  float run(float[] x, int xOff, float[] y, int yOff, int[] t, int tOff, int n, int classes,
      float[] grad, int gOff, float[] ps, int psOff) {
    Object[] lent = Scratch.enter();
    try {
      return runInCall(x, xOff, y, yOff, t, tOff, n, classes, grad, gOff, ps, psOff);
    } finally {
      Scratch.exit(lent);
    }
  }

  private float runInCall(float[] x, int xOff, float[] y, int yOff, int[] t, int tOff, int n,
      int classes, float[] grad, int gOff, float[] ps, int psOff) {
    checkClassParams(classes);
    int len = n * classes;
    if (parallelism > 1 && len >= PARALLEL_THRESHOLD && n > blockRows(classes)
        && (validateValues || t != null)) {
      return runTwoPhases(x, xOff, y, yOff, t, tOff, n, classes, grad, gOff, ps, psOff);
    }
    if (validateValues) {
      checkValues(x, xOff, y, yOff, len, 0);
    }
    double denominator;
    if (y != null) {
      denominator = denominatorDense(y, yOff, n, classes);
    } else {
      denominator = denominatorIndices(t, tOff, n, classes);
    }
    float gradScale = denominator == 0 ? 0f : (float) (1.0 / denominator);
    double sum = runBlocks(paramsFor(n, classes), x, xOff, y, yOff, t, tOff, n, classes, grad,
        gOff, gradScale, ps, psOff);
    return denominator == 0 ? 0f : (float) (sum / denominator);
  }

  /**
   * {@link #run} with more than one thread where something must be read before the kernel runs
   * (the value checks, class indices): phase 1 scans, in parallel parts, the values (if checked)
   * and the class indices (validated and counted); then, on the calling thread, their verdict
   * (the first bad value, else the first bad index: what the sequential checks report) and the
   * denominator; then phase 2 runs the kernel's blocks. One {@link Parallel} call: each helper is
   * woken once per call, not once per phase. Nothing is written unless every check passed.
   */
  private float runTwoPhases(float[] x, int xOff, float[] y, int yOff, int[] t, int tOff, int n,
      int classes, float[] grad, int gOff, float[] ps, int psOff) {
    int len = n * classes;
    int scanThreads = scanThreads(len);
    int parts = SCAN_PARTS_PER_THREAD * scanThreads;
    int[] firstBad = new int[2 * parts];
    long[] counts = new long[2 * parts]; // per part: rows counted, positive rows
    int[] badRow = new int[parts];
    LossParams p = paramsFor(n, classes);
    int blockRows = blockRows(classes);
    int blocks = blockCount(n, blockRows);
    double[] sums = new double[blocks];
    double[] denominator = new double[1];
    float[] gradScale = new float[1];
    int threads = Math.min(threadCap(), Math.max(scanThreads, blocks));
    Parallel.forEach(threads, parts, k -> {
      if (validateValues) {
        scanPart(x, xOff, y, yOff, len, parts, k, firstBad);
      }
      if (t != null) {
        indexPart(t, tOff, n, classes, parts, k, counts, badRow);
      }
    }, () -> {
      if (validateValues) {
        throwIfBad(x, xOff, y, yOff, firstOf(firstBad, 0), firstOf(firstBad, 1), 0);
      }
      if (t != null) {
        throwIfBadIndex(t, tOff, classes, badRow);
        long counted = 0;
        long positives = 0;
        for (int k = 0; k < parts; k++) {
          counted += counts[2 * k];
          positives += counts[2 * k + 1];
        }
        denominator[0] = denominatorOfCounts(counted, positives, classes);
      } else {
        denominator[0] = denominatorDense(y, yOff, n, classes);
      }
      gradScale[0] = denominator[0] == 0 ? 0f : (float) (1.0 / denominator[0]);
      return true;
    }, blocks, b -> sums[b] = block(p, b, blockRows, x, xOff, y, yOff, t, tOff, n, classes,
        grad, gOff, gradScale[0], ps, psOff));
    double total = 0;
    for (double sum : sums) { // block order, whatever the parallelism
      total += sum;
    }
    return denominator[0] == 0 ? 0f : (float) (total / denominator[0]);
  }

  /**
   * Part k of parts equal ranges of the value checks: the range's first bad input (or -1) into
   * firstBad[2k], its first bad target into firstBad[2k + 1]; {@link #firstOf} then gives the
   * first of them, as the sequential check reports.
   */
  private void scanPart(float[] x, int xOff, float[] y, int yOff, int len, int parts, int k,
      int[] firstBad) {
    int lo = (int) ((long) len * k / parts);
    int hi = (int) ((long) len * (k + 1) / parts);
    firstBad[2 * k] = kernel.firstNonFinite(x, xOff + lo, hi - lo);
    firstBad[2 * k + 1] = y == null ? -1 : kernel.firstOutsideUnit(y, yOff + lo, hi - lo);
  }

  /**
   * Threads for a parallel scan over len elements (SCAN_PARTS_PER_THREAD parts each): at most one
   * per block's worth of elements and at most {@link #threadCap}, so that no parallelism overflows
   * the part count or starts threads with nothing to do.
   */
  private int scanThreads(int len) {
    return Math.min(threadCap(), Math.max(1, len / BLOCK_ELEMENTS));
  }

  /** The parallelism, at most ForkJoinPool's limit of workers plus the calling thread. */
  private int threadCap() {
    return Math.min(parallelism, Parallel.MAX_HELPERS + 1);
  }

  /** NaN or infinite input, dense targets outside [0, 1]; first is the view's index of x[xOff]. */
  private void checkValues(float[] x, int xOff, float[] y, int yOff, int len, long first) {
    int badInput;
    int badTarget;
    if (parallelism > 1 && len >= PARALLEL_THRESHOLD) {
      int scanThreads = scanThreads(len);
      int parts = SCAN_PARTS_PER_THREAD * scanThreads;
      int[] firstBad = new int[2 * parts];
      Parallel.forEach(scanThreads, parts,
          k -> scanPart(x, xOff, y, yOff, len, parts, k, firstBad));
      badInput = firstOf(firstBad, 0);
      badTarget = firstOf(firstBad, 1);
    } else if (valuesPass(x, xOff, y, yOff, len)) {
      return;
    } else {
      badInput = kernel.firstNonFinite(x, xOff, len);
      badTarget = badInput >= 0 || y == null ? -1 : kernel.firstOutsideUnit(y, yOff, len);
    }
    throwIfBad(x, xOff, y, yOff, badInput, badTarget, first);
  }

  /** The exception for the first bad input or (if none) target, at array indices; or none. */
  private static void throwIfBad(float[] x, int xOff, float[] y, int yOff, int badInput,
      int badTarget, long first) {
    if (badInput >= 0) {
      throw new IllegalArgumentException("input[" + (first + badInput - xOff) + "] = "
          + x[badInput] + " is not finite");
    }
    if (badTarget >= 0) {
      throw new IllegalArgumentException("targets[" + (first + badTarget - yOff) + "] = "
          + y[badTarget] + " is not in [0, 1]");
    }
  }

  /**
   * Whether x[xOff, xOff + len) is finite and y[yOff, yOff + len) (if not null) in [0, 1]: both
   * scanned together in blocks, the last block first, so that what the scans leave in the caches
   * is the start of both arrays, where the kernel then starts reading (one array after the other
   * would leave only the start of y there, once the two exceed the caches).
   */
  private boolean valuesPass(float[] x, int xOff, float[] y, int yOff, int len) {
    for (int lo = (len - 1) / CHECK_BLOCK * CHECK_BLOCK; lo >= 0; lo -= CHECK_BLOCK) {
      int n = Math.min(CHECK_BLOCK, len - lo);
      if (kernel.firstNonFinite(x, xOff + lo, n) >= 0
          || y != null && kernel.firstOutsideUnit(y, yOff + lo, n) >= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Elements per block of {@link #valuesPass}: a multiple of every vector length, and the vector
   * kernel's scan length ({@code ValueScans.SCAN}, also 16384), so that a block is one scan call.
   */
  private static final int CHECK_BLOCK = 1 << 14;

  /** The first of the parts' results at firstBad[2 * part + which] that is not -1, or -1. */
  private static int firstOf(int[] firstBad, int which) {
    for (int i = which; i < firstBad.length; i += 2) {
      if (firstBad[i] >= 0) {
        return firstBad[i];
      }
    }
    return -1;
  }

  /**
   * The most classes of one-vs-all from logits: the kernels hold a row's probabilities and their
   * complements, 2 C values, in one array.
   */
  static final int MAX_LOGITS_ROW_CLASSES = (Integer.MAX_VALUE - 8) / 2;

  private void checkClassParams(int classes) {
    if (params.form == Form.ONE_VS_ALL && params.fromLogits && classes > MAX_LOGITS_ROW_CLASSES) {
      throw new IllegalArgumentException("classes = " + classes + ", one-vs-all from logits takes "
          + "at most " + MAX_LOGITS_ROW_CLASSES + " (a row's p and 1 - p are one array)");
    }
    if (params.alpha != null && params.alpha.length != classes) {
      throw new IllegalArgumentException("alpha has " + params.alpha.length
          + " values but classes = " + classes);
    }
    if (params.classWeights != null && params.classWeights.length != classes) {
      throw new IllegalArgumentException("classWeights has " + params.classWeights.length
          + " values but classes = " + classes);
    }
  }

  private double denominatorDense(float[] y, int yOff, int n, int classes) {
    switch (reduction) {
      case SUM:
        return 1.0;
      case MEAN:
        return params.form == Form.SIGMOID ? (double) n * classes : n;
      default: // POSITIVES
        return Math.max(1, countPositiveRows(y, yOff, n, classes));
    }
  }

  /** Rows with at least one target above 0. */
  static long countPositiveRows(float[] y, int yOff, int n, int classes) {
    long positives = 0;
    for (int r = 0; r < n; r++) {
      int row = yOff + r * classes;
      for (int c = 0; c < classes; c++) {
        if (y[row + c] > 0f) {
          positives++;
          break;
        }
      }
    }
    return positives;
  }

  private double denominatorIndices(int[] t, int tOff, int n, int classes) {
    long counts = countIndices(t, tOff, 0, n, classes);
    if (counts < 0) {
      int bad = (int) (-counts - 1);
      throw badIndex(bad, t[tOff + bad], classes);
    }
    return denominatorOfCounts(counts >>> 32, counts & 0xffff_ffffL, classes);
  }

  /**
   * Rows r0 to r1 (exclusive) of class indices t[tOff + r]: the rows that count (not ignored) in
   * the high 32 bits and those with a positive class (not the sigmoid's background index C) in
   * the low 32 bits; or, where a row's index is not valid, -(first such row) - 1. (One long, no
   * array: a {@code new long[2]} here was left on the heap in some compilations, 32 B per call.)
   * Counted by the kernel: the vector kernel's scan takes a vector of indices at a time.
   */
  private long countIndices(int[] t, int tOff, int r0, int r1, int classes) {
    boolean ignorable = params.form != Form.ONE_VS_ALL;
    int upper = params.form == Form.SIGMOID ? classes : classes - 1; // sigmoid: C = background
    long v = kernel.countIndices(t, tOff + r0, r1 - r0, classes, upper, params.ignoreIndex,
        ignorable);
    return v < 0 ? v - r0 : v;
  }

  /**
   * Part k of parts equal row ranges of class indices: {@link #countIndices} of the range into
   * counts[2k] and counts[2k + 1], its first bad row (or -1) into badRow[k].
   */
  private void indexPart(int[] t, int tOff, int n, int classes, int parts, int k, long[] counts,
      int[] badRow) {
    int r0 = (int) ((long) n * k / parts);
    int r1 = (int) ((long) n * (k + 1) / parts);
    long v = countIndices(t, tOff, r0, r1, classes);
    badRow[k] = v < 0 ? (int) (-v - 1) : -1;
    counts[2 * k] = v < 0 ? 0 : v >>> 32;
    counts[2 * k + 1] = v < 0 ? 0 : v & 0xffff_ffffL;
  }

  /** The first bad row of {@link #indexPart}'s parts, as one thread reports it; or none. */
  private void throwIfBadIndex(int[] t, int tOff, int classes, int[] badRow) {
    for (int row : badRow) {
      if (row >= 0) { // parts in row order: the first bad part has the first bad row
        throw badIndex(row, t[tOff + row], classes);
      }
    }
  }

  /** The exception for class index v at row r. */
  private IllegalArgumentException badIndex(int r, int v, int classes) {
    boolean ignorable = params.form != Form.ONE_VS_ALL;
    return new IllegalArgumentException("targets[" + r + "] = " + v + " is not a class index"
        + " in [0, " + classes + ")"
        + (params.form == Form.SIGMOID ? ", the background index " + classes : "")
        + (ignorable ? " or the ignore index " + params.ignoreIndex : ""));
  }

  /** The reduction's denominator from the counts of {@link #countIndices}. */
  private double denominatorOfCounts(long counted, long positives, int classes) {
    switch (reduction) {
      case SUM:
        return 1.0;
      case MEAN:
        return params.form == Form.SIGMOID ? (double) counted * classes : counted;
      default:
        return Math.max(1, positives);
    }
  }

  /** The kernels' options for a call over n x classes elements ({@link #STREAMING_ELEMENTS}). */
  LossParams paramsFor(int n, int classes) {
    return (long) n * classes >= STREAMING_ELEMENTS ? params.streaming() : params;
  }

  private double runBlocks(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t,
      int tOff, int n, int classes, float[] grad, int gOff, float gradScale, float[] ps,
      int psOff) {
    int blockRows = blockRows(classes);
    int blocks = blockCount(n, blockRows);
    if (parallelism > 1 && blocks > 1 && (long) n * classes >= PARALLEL_THRESHOLD) {
      double[] sums = new double[blocks];
      Parallel.forEach(parallelism, blocks, b -> sums[b] = block(p, b, blockRows, x, xOff, y,
          yOff, t, tOff, n, classes, grad, gOff, gradScale, ps, psOff));
      double total = 0;
      for (double s : sums) { // block order, whatever the parallelism
        total += s;
      }
      return total;
    }
    double total = 0;
    for (int b = 0; b < blocks; b++) {
      total += block(p, b, blockRows, x, xOff, y, yOff, t, tOff, n, classes, grad, gOff,
          gradScale, ps, psOff);
    }
    return total;
  }

  private double block(LossParams p, int b, int blockRows, float[] x, int xOff, float[] y,
      int yOff, int[] t, int tOff, int n, int classes, float[] grad, int gOff, float gradScale,
      float[] ps, int psOff) {
    int r0 = b * blockRows;
    int rows = Math.min(blockRows, n - r0);
    int e0 = r0 * classes;
    return call(p, x, xOff + e0, y, yOff + e0, t, tOff + r0, rows, classes, grad, gOff + e0,
        gradScale, ps, psOff + r0);
  }

  /**
   * One kernel call on rows that were validated; y or t is null. Where the vector kernel's loss
   * comes out infinite or NaN, it is computed again by the scalar kernel, in double, and the
   * scalar kernel's per-sample losses replace the vector kernel's (the gradient stays the vector
   * kernel's): the vector kernel sums and multiplies in float, so a partial sum above
   * Float.MAX_VALUE (the sigmoid's mean over 4096 logits of 1e37 was NaN) or a ln p below
   * -Float.MAX_VALUE (softmax logits more than the float range apart) overflows where the exact
   * loss does not. Where the exact loss is not finite either, the scalar kernel says so too.
   */
  double call(LossParams p, float[] x, int xOff, float[] y, int yOff, int[] t, int tOff, int rows,
      int classes, float[] grad, int gOff, float gradScale, float[] ps, int psOff) {
    double total = call(kernel, p, x, xOff, y, yOff, t, tOff, rows, classes, grad, gOff,
        gradScale, ps, psOff);
    if (!Double.isFinite(total) && kernel != ScalarKernel.INSTANCE) {
      total = call(ScalarKernel.INSTANCE, p, x, xOff, y, yOff, t, tOff, rows, classes, null, 0,
          gradScale, ps, psOff);
    }
    return total;
  }

  private static double call(FocalKernel kernel, LossParams p, float[] x, int xOff, float[] y,
      int yOff, int[] t, int tOff, int rows, int classes, float[] grad, int gOff, float gradScale,
      float[] ps, int psOff) {
    switch (p.form) {
      case ONE_VS_ALL:
        return y != null
            ? kernel.oneVsAll(p, x, xOff, y, yOff, rows, classes, grad, gOff, gradScale, ps, psOff)
            : kernel.oneVsAll(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, ps, psOff);
      case SOFTMAX:
        return y != null
            ? kernel.softmax(p, x, xOff, y, yOff, rows, classes, grad, gOff, gradScale, ps, psOff)
            : kernel.softmax(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, ps, psOff);
      default:
        return y != null
            ? kernel.sigmoid(p, x, xOff, y, yOff, rows, classes, grad, gOff, gradScale, ps, psOff)
            : kernel.sigmoid(p, x, xOff, t, tOff, rows, classes, grad, gOff, gradScale, ps, psOff);
    }
  }

  /**
   * Direct (off-heap) and read-only buffers: validated, then computed block by block through
   * per-thread scratch arrays, so the kernels only ever see arrays and results equal the array
   * path's bit for bit; above {@link #PARALLEL_THRESHOLD} elements, with parallelism above 1, in
   * parallel parts of whole blocks (each part on duplicates of the buffers: absolute gets and
   * puts only), as the array path.
   */
  static final class Staged {
    private static final ThreadLocal<float[][]> SCRATCH = Scratch.withInitial(() ->
        new float[4][0], Staged::pooled);
    private static final ThreadLocal<int[]> SCRATCH_INT = Scratch.withInitial(() -> new int[0],
        Scratch.upTo(a -> a.length));

    /** What a pooled set keeps of the staging arrays (see {@link Scratch#POOLED_ELEMENTS}). */
    static float[][] pooled(float[][] s) {
      for (int i = 0; i < s.length; i++) {
        if (s[i].length > Scratch.POOLED_ELEMENTS) {
          s[i] = new float[0];
        }
      }
      return s;
    }
    /**
     * The largest scratch array a thread keeps between calls (elements): a block's, which is one
     * row where a row has more than {@link #BLOCK_ELEMENTS} classes (class indices: a block's
     * rows). Larger ones (rows of more than 2^20 classes) are allocated for the call and dropped,
     * not held for the thread's lifetime.
     */
    static final int KEPT_SCRATCH = Math.max(BLOCK_ELEMENTS, 1 << 20);

    private static float[] scratch(int slot, int size) {
      float[][] s = SCRATCH.get();
      if (s[slot].length >= size) {
        return s[slot];
      }
      float[] a = new float[size];
      if (size <= KEPT_SCRATCH) {
        s[slot] = a;
      }
      return a;
    }

    /** The elements of the largest scratch array the calling thread keeps (for the tests). */
    static int keptScratch() {
      int most = SCRATCH_INT.get().length;
      for (float[] a : SCRATCH.get()) {
        most = Math.max(most, a.length);
      }
      return most;
    }

    private static int[] scratchInt(int size) {
      int[] s = SCRATCH_INT.get();
      if (s.length >= size) {
        return s;
      }
      int[] a = new int[size];
      if (size <= KEPT_SCRATCH) {
        SCRATCH_INT.set(a);
      }
      return a;
    }

    static float run(FocalLoss loss, FloatBuffer input, FloatBuffer yb, IntBuffer tb, int n,
        int classes, FloatBuffer grad, FloatBuffer ps) {
      loss.checkClassParams(classes);
      int blockRows = blockRows(classes);
      int blocks = blockCount(n, blockRows);
      // as the array path: parallel parts of whole blocks, each staged by the thread that runs it
      boolean parallel = loss.parallelism > 1 && blocks > 1
          && (long) n * classes >= PARALLEL_THRESHOLD;
      // Pass 1: validate every value (the input first, then the targets, so that the exception
      // names what the array path's does), then compute the reduction's denominator.
      if (loss.validateValues) {
        int first = 0;
        if (parallel) { // each block's verdict; the first bad block is checked again below
          boolean[] bad = new boolean[2 * blocks];
          Parallel.forEach(loss.threadCap(), blocks, b -> scanBlock(loss, input.duplicate(),
              yb == null ? null : yb.duplicate(), b, blockRows, n, classes, bad));
          while (first < blocks && !bad[2 * first]) {
            first++;
          }
          if (first == blocks) {
            first = 0;
            while (first < blocks && !bad[2 * first + 1]) {
              first++;
            }
            if (first == blocks) {
              first = -1;
            }
          }
        }
        // serially from the first block that failed (all of them where not parallel): throws
        for (int b = Math.max(0, first); b < blocks && first >= 0; b++) {
          checkBlock(loss, input, null, b, blockRows, n, classes);
        }
        for (int b = Math.max(0, first); b < blocks && first >= 0 && yb != null; b++) {
          checkBlock(loss, null, yb, b, blockRows, n, classes);
        }
      }
      double denominator;
      if (tb != null) {
        denominator = denominatorIndices(loss, tb, blocks, blockRows, n, classes);
      } else if (loss.reduction == Reduction.POSITIVES) {
        float[] y = scratch(1, Math.min(blockRows, n) * classes);
        long positives = 0;
        for (int r0 = 0; r0 < n; r0 += blockRows) {
          int rows = Math.min(blockRows, n - r0);
          yb.get(yb.position() + r0 * classes, y, 0, rows * classes);
          positives += countPositiveRows(y, 0, rows, classes);
        }
        denominator = Math.max(1, positives);
      } else {
        denominator = loss.denominatorDense(null, 0, n, classes);
      }
      float gradScale = denominator == 0 ? 0f : (float) (1.0 / denominator);
      // Pass 2: compute, block by block, summing block results in order as the array path does.
      LossParams params = loss.paramsFor(n, classes); // as the array path: the same bits
      double total = 0;
      if (parallel) {
        double[] sums = new double[blocks];
        Parallel.forEach(loss.parallelism, blocks, b -> sums[b] = block(loss, params,
            input.duplicate(), yb == null ? null : yb.duplicate(),
            tb == null ? null : tb.duplicate(), b, blockRows, n, classes,
            grad == null ? null : grad.duplicate(), ps == null ? null : ps.duplicate(),
            gradScale));
        for (double sum : sums) { // block order, whatever the parallelism
          total += sum;
        }
      } else {
        for (int b = 0; b < blocks; b++) {
          total += block(loss, params, input, yb, tb, b, blockRows, n, classes, grad, ps,
              gradScale);
        }
      }
      return denominator == 0 ? 0f : (float) (total / denominator);
    }

    /**
     * {@link FocalLoss#denominatorIndices} of the class indices in tb, read a block of rows at a
     * time into the calling thread's scratch. A copy of all n indices was a new array on every
     * call above {@link #KEPT_SCRATCH} rows (4 bytes per row: 4,194,328 bytes per call for the
     * sigmoid at 1,048,577 x 1 from direct buffers, a tester's find); kept, it would have held
     * the largest batch's indices for the thread's lifetime.
     */
    private static double denominatorIndices(FocalLoss loss, IntBuffer tb, int blocks,
        int blockRows, int n, int classes) {
      int[] t = scratchInt(Math.min(blockRows, n));
      long counted = 0;
      long positives = 0;
      for (int b = 0; b < blocks; b++) {
        int r0 = b * blockRows;
        int rows = Math.min(blockRows, n - r0);
        tb.get(tb.position() + r0, t, 0, rows);
        long v = loss.countIndices(t, 0, 0, rows, classes);
        if (v < 0) {
          int bad = (int) (-v - 1);
          throw loss.badIndex(r0 + bad, t[bad], classes);
        }
        counted += v >>> 32;
        positives += v & 0xffff_ffffL;
      }
      return loss.denominatorOfCounts(counted, positives, classes);
    }

    /**
     * Block b staged into the calling thread's scratch (its class indices too, where tb is not
     * null) and computed; its outputs put back; its loss sum. Absolute gets and puts only: no
     * buffer's position moves.
     */
    private static double block(FocalLoss loss, LossParams params, FloatBuffer input,
        FloatBuffer yb, IntBuffer tb, int b, int blockRows, int n, int classes, FloatBuffer grad,
        FloatBuffer ps, float gradScale) {
      int r0 = b * blockRows;
      int rows = Math.min(blockRows, n - r0);
      int len = rows * classes;
      float[] x = scratch(0, len);
      float[] y = yb == null ? null : scratch(1, len);
      int[] t = tb == null ? null : scratchInt(rows);
      float[] g = grad == null ? null : scratch(2, len);
      float[] p = ps == null ? null : scratch(3, rows);
      input.get(input.position() + r0 * classes, x, 0, len);
      if (y != null) {
        yb.get(yb.position() + r0 * classes, y, 0, len);
      }
      if (t != null) {
        tb.get(tb.position() + r0, t, 0, rows);
      }
      double sum = loss.call(params, x, 0, y, 0, t, 0, rows, classes, g, 0, gradScale, p, 0);
      if (g != null) {
        grad.put(grad.position() + r0 * classes, g, 0, len);
      }
      if (p != null) {
        ps.put(ps.position() + r0, p, 0, rows);
      }
      return sum;
    }

    /** Whether block b's input is finite and its dense targets in [0, 1], into bad[2b, 2b + 1]. */
    private static void scanBlock(FocalLoss loss, FloatBuffer input, FloatBuffer yb, int b,
        int blockRows, int n, int classes, boolean[] bad) {
      int r0 = b * blockRows;
      int len = Math.min(blockRows, n - r0) * classes;
      float[] x = scratch(0, len);
      input.get(input.position() + r0 * classes, x, 0, len);
      bad[2 * b] = loss.kernel.firstNonFinite(x, 0, len) >= 0;
      if (yb != null) {
        yb.get(yb.position() + r0 * classes, x, 0, len);
        bad[2 * b + 1] = loss.kernel.firstOutsideUnit(x, 0, len) >= 0;
      }
    }

    /** Block b's input (or, where input is null, its dense targets) checked: throws if bad. */
    private static void checkBlock(FocalLoss loss, FloatBuffer input, FloatBuffer yb, int b,
        int blockRows, int n, int classes) {
      int r0 = b * blockRows;
      int len = Math.min(blockRows, n - r0) * classes;
      float[] x = scratch(0, len);
      long first = (long) r0 * classes;
      if (input != null) {
        input.get(input.position() + r0 * classes, x, 0, len);
        loss.checkValues(x, 0, null, 0, len, first);
      } else {
        yb.get(yb.position() + r0 * classes, x, 0, len);
        int bad = loss.kernel.firstOutsideUnit(x, 0, len);
        if (bad >= 0) {
          throwIfBad(null, 0, x, 0, -1, bad, first);
        }
      }
    }
  }

  // ------------------------------------------------------------------ builders

  /** Options shared by every form. */
  public abstract static class Builder<B extends Builder<B>> {
    final LossParams.Builder p;
    Reduction reduction = Reduction.MEAN;
    Kernel kernel = Kernel.AUTO;
    int parallelism = 1;
    boolean validateValues = true;

    Builder(Form form) {
      this.p = LossParams.builder(form);
    }

    @SuppressWarnings("unchecked")
    private B self() {
      return (B) this;
    }

    /**
     * The focusing parameter gamma >= 0 (default 2); 0 gives the (weighted) cross-entropy,
     * reduced as {@link Reduction} says. Every finite gamma gives finite outputs; the vector
     * kernel's accuracy declines slowly above gamma 10 ({@link Kernel#VECTOR}).
     *
     * @throws IllegalArgumentException if gamma is negative, NaN or infinite
     */
    public B gamma(float gamma) {
      if (!(gamma >= 0f) || Float.isInfinite(gamma)) {
        throw new IllegalArgumentException("gamma = " + gamma + ", must be finite and >= 0");
      }
      p.gamma = gamma;
      return self();
    }

    /** How the per-sample losses are reduced (default {@link Reduction#MEAN}). */
    public B reduction(Reduction reduction) {
      Objects.requireNonNull(reduction, "reduction");
      if (reduction == Reduction.POSITIVES && p.form() != Form.SIGMOID) {
        throw new IllegalArgumentException("reduction = POSITIVES is defined for the sigmoid "
            + "form only");
      }
      this.reduction = reduction;
      return self();
    }

    /** Which kernel computes the loss (default {@link Kernel#AUTO}). */
    public B kernel(Kernel kernel) {
      this.kernel = Objects.requireNonNull(kernel, "kernel");
      return self();
    }

    /**
     * Threads used for batches of at least {@link FocalLoss#PARALLEL_THRESHOLD} elements (default
     * 1: the library starts no thread unless asked). Rows are split in fixed blocks, so results do
     * not depend on this value. Worker threads are daemon threads of pools shared by every
     * instance (one pool per number of worker threads a call uses); a call uses at most 32768
     * threads (ForkJoinPool's limit of 32767 workers, and the calling thread), and no more than it
     * has blocks of rows (or, for the value checks, 16K-element ranges). After a call, up to
     * (cores - 1) workers spin for about 50 microseconds waiting for the next call's work (waking
     * a parked thread costs about as much), then park until a call needs them.
     *
     * @throws IllegalArgumentException if parallelism is below 1
     */
    public B parallelism(int parallelism) {
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism = " + parallelism + ", must be >= 1");
      }
      this.parallelism = parallelism;
      return self();
    }

    /**
     * Whether {@code forward}, {@code forwardBackward} and {@code perSample} scan the input and
     * dense targets for NaN, infinity and targets outside [0, 1] before computing (default true).
     * Off saves that read pass for trusted data; bad values then give NaN or wrong outputs instead
     * of an exception, but never a finite loss from a NaN: a NaN in the input or the dense targets
     * of a row that is not ignored makes that row's loss NaN, and so the reduced loss, on both
     * kernels (infinities and targets outside [0, 1] may give finite, wrong values). Lengths and
     * class indices are checked either way, and {@code gradientHessian} (a booster's objective)
     * always checks values too.
     */
    public B validateValues(boolean validateValues) {
      this.validateValues = validateValues;
      return self();
    }

    /**
     * Builds the loss.
     *
     * @throws IllegalStateException if {@link Kernel#VECTOR} was asked for and this JVM cannot run
     *     it (the message says why, and names the fix {@code --add-modules jdk.incubator.vector}
     *     where the module is what is missing); or if {@link Kernel#AUTO} was asked for and the
     *     system property {@code dev.focalsimd.kernel} is neither {@code scalar} nor {@code
     *     vector}, or is {@code vector} where the vector kernel is unavailable
     */
    public FocalLoss build() {
      FocalKernel k;
      switch (kernel) {
        case SCALAR: // no probe: a SCALAR-only program neither loads nor logs the vector kernel
          k = ScalarKernel.INSTANCE;
          break;
        case VECTOR:
          KernelProvider.Probe probe = KernelProvider.probe();
          if (probe.vector == null) {
            throw new IllegalStateException("Kernel.VECTOR is unavailable: "
                + probe.vectorUnavailableReason);
          }
          k = probe.vector;
          break;
        default:
          k = KernelProvider.probe().auto();
      }
      return new FocalLoss(p.build(), reduction, k, parallelism, validateValues);
    }
  }

  /** Options of the forms with per-class weights alpha_c (one-vs-all and softmax). */
  public abstract static class ClassWeightedBuilder<B extends ClassWeightedBuilder<B>>
      extends Builder<B> {
    ClassWeightedBuilder(Form form) {
      super(form);
    }

    @SuppressWarnings("unchecked")
    private B me() {
      return (B) this;
    }

    /**
     * Per-class weights alpha_c (length C, checked at each call; default all 1).
     *
     * @throws IllegalArgumentException if a weight is negative, NaN or infinite
     */
    public B alpha(float... alpha) {
      p.alpha = checkWeights("alpha", alpha);
      return me();
    }

    /**
     * Class weights from class counts, as the design note derives them: {@code w_c = S / n_c}
     * with {@code S = sum_k n_k}, then {@code alpha_c = w_c / sum_k w_k}.
     *
     * @throws IllegalArgumentException if a count is 0 or negative
     */
    public B alphaFromClassCounts(long... counts) {
      p.alpha = alphaFromCounts(counts);
      return me();
    }
  }

  /** Options of {@link FocalLoss#oneVsAll()}. */
  public static final class OneVsAllBuilder extends ClassWeightedBuilder<OneVsAllBuilder> {
    OneVsAllBuilder() {
      super(Form.ONE_VS_ALL);
    }

    /**
     * The clip bound: probabilities are clipped to [epsilon, 1 - epsilon], both rounded to float
     * (default 1e-7, giving 1.0e-7f and 0.99999988f).
     *
     * @throws IllegalArgumentException if epsilon is not in (0, 0.5), or so small that 1 -
     *     epsilon rounds to 1 in float (epsilon {@code <=} 2^-25: the upper clip would then let p
     *     = 1 give an infinite loss)
     */
    public OneVsAllBuilder epsilon(float epsilon) {
      if (!(epsilon > 0f && epsilon < 0.5f)) {
        throw new IllegalArgumentException("epsilon = " + epsilon + ", must be in (0, 0.5)");
      }
      if (1f - epsilon == 1f) {
        throw new IllegalArgumentException("epsilon = " + epsilon + " is too small: 1 - epsilon "
            + "rounds to 1 in float, so the clip would not keep ln(1 - p) finite; use at least "
            + Math.ulp(0.5f));
      }
      p.epsilon = epsilon;
      return this;
    }

    /**
     * Whether the input holds logits (default false: probabilities). With logits, p =
     * softmax(logits) per row, then the same loss, clip included; the gradient is w.r.t. the
     * logits.
     */
    public OneVsAllBuilder fromLogits(boolean fromLogits) {
      p.fromLogits = fromLogits;
      return this;
    }
  }

  /** Options of {@link FocalLoss#softmax()}. */
  public static final class SoftmaxBuilder extends ClassWeightedBuilder<SoftmaxBuilder> {
    SoftmaxBuilder() {
      super(Form.SOFTMAX);
    }

    /**
     * Class index whose rows contribute 0 loss and 0 gradient and are not counted by MEAN
     * (default -100, as PyTorch).
     */
    public SoftmaxBuilder ignoreIndex(int ignoreIndex) {
      p.ignoreIndex = ignoreIndex;
      return this;
    }

    /**
     * Label smoothing ls in [0, 1) for class-index targets: each index's one-hot row y becomes
     * {@code y (1 - ls) + ls / C} (Keras' formula; default 0). Dense targets are used as given,
     * whatever ls is: a caller with dense labels smooths them itself (the same formula), so that
     * a distribution is never smoothed twice.
     *
     * @throws IllegalArgumentException if ls is outside [0, 1)
     */
    public SoftmaxBuilder labelSmoothing(float ls) {
      if (!(ls >= 0f && ls < 1f)) {
        throw new IllegalArgumentException("labelSmoothing = " + ls + ", must be in [0, 1)");
      }
      p.labelSmoothing = ls;
      return this;
    }

    /**
     * Lower bound of the Hessian values written by {@code gradientHessian} (default 0). The focal
     * Hessian is negative for badly misclassified rows (p_t below about 0.058 at gamma 2), which
     * breaks the split gain and leaf weights of tree boosters; 0 removes only that negative
     * curvature and keeps every other value exact. {@link Float#NEGATIVE_INFINITY} disables the
     * clamp. See docs/hessian.md.
     *
     * @throws IllegalArgumentException if the floor is NaN or positive infinity
     */
    public SoftmaxBuilder hessianFloor(float floor) {
      if (Float.isNaN(floor) || floor == Float.POSITIVE_INFINITY) {
        throw new IllegalArgumentException("hessianFloor = " + floor
            + ", must be finite or negative infinity");
      }
      p.hessianFloor = floor;
      return this;
    }
  }

  /** Options of {@link FocalLoss#sigmoid()}. */
  public static final class SigmoidBuilder extends Builder<SigmoidBuilder> {
    SigmoidBuilder() {
      super(Form.SIGMOID);
    }

    /**
     * Weight of positives; negatives get 1 - alpha (default 0.25). A negative value turns alpha
     * weighting off, as in torchvision.
     *
     * @throws IllegalArgumentException if alpha is NaN, infinite or above 1
     */
    public SigmoidBuilder alpha(float alpha) {
      if (Float.isNaN(alpha) || Float.isInfinite(alpha) || alpha > 1f) {
        throw new IllegalArgumentException("alpha = " + alpha
            + ", must be in [0, 1], or negative for no alpha weighting");
      }
      p.sigmoidAlpha = alpha;
      return this;
    }

    /**
     * Per-class weights multiplying column c (length C; default all 1).
     *
     * @throws IllegalArgumentException if a weight is negative, NaN or infinite
     */
    public SigmoidBuilder classWeights(float... weights) {
      p.classWeights = checkWeights("classWeights", weights);
      return this;
    }

    /**
     * With class-index targets: the index whose rows are skipped (0 loss, 0 gradient, not
     * counted by MEAN); default -100. Index C marks a background row (every class negative),
     * unless the ignore index is C: then rows with index C are ignored, not background.
     */
    public SigmoidBuilder ignoreIndex(int ignoreIndex) {
      p.ignoreIndex = ignoreIndex;
      return this;
    }

    /**
     * Lower bound of the Hessian values written by {@code gradientHessian} (default 0). The focal
     * Hessian is negative for badly misclassified rows (p_t below about 0.058 at gamma 2), which
     * breaks the split gain and leaf weights of tree boosters; 0 removes only that negative
     * curvature and keeps every other value exact. {@link Float#NEGATIVE_INFINITY} disables the
     * clamp. See docs/hessian.md.
     *
     * @throws IllegalArgumentException if the floor is NaN or positive infinity
     */
    public SigmoidBuilder hessianFloor(float floor) {
      if (Float.isNaN(floor) || floor == Float.POSITIVE_INFINITY) {
        throw new IllegalArgumentException("hessianFloor = " + floor
            + ", must be finite or negative infinity");
      }
      p.hessianFloor = floor;
      return this;
    }
  }

  static float[] checkWeights(String name, float[] w) {
    Objects.requireNonNull(w, name);
    if (w.length == 0) {
      throw new IllegalArgumentException(name + " is empty");
    }
    for (int i = 0; i < w.length; i++) {
      if (!(w[i] >= 0f) || Float.isInfinite(w[i])) {
        throw new IllegalArgumentException(name + "[" + i + "] = " + w[i]
            + ", must be finite and >= 0");
      }
    }
    return w.clone();
  }

  static float[] alphaFromCounts(long[] counts) {
    Objects.requireNonNull(counts, "counts");
    if (counts.length == 0) {
      throw new IllegalArgumentException("counts is empty");
    }
    double s = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] <= 0) {
        throw new IllegalArgumentException("counts[" + i + "] = " + counts[i] + ", must be > 0");
      }
      s += counts[i];
    }
    double[] w = new double[counts.length];
    double wsum = 0;
    for (int i = 0; i < counts.length; i++) {
      w[i] = s / counts[i];
      wsum += w[i];
    }
    float[] alpha = new float[counts.length];
    for (int i = 0; i < counts.length; i++) {
      alpha[i] = (float) (w[i] / wsum);
    }
    return alpha;
  }

}
