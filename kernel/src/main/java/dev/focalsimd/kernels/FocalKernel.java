package dev.focalsimd.kernels;

/**
 * The loss kernels, one method per form and target kind. Internal: this package is not exported
 * by the module, and callers ({@code dev.focalsimd.FocalLoss}) have validated every argument, so
 * implementations check nothing.
 *
 * <p>Every method works on {@code rows} rows of a row-major {@code rows x classes} block that
 * starts at the given offsets. It returns the sum of the row losses in double. Where {@code grad}
 * is not null it overwrites {@code rows * classes} gradient values, each multiplied by {@code
 * gradScale} (the derivative of the reduction). Where {@code perSample} is not null it writes the
 * {@code rows} unreduced row losses. Rows whose class index is {@link LossParams#ignoreIndex}
 * (softmax, sigmoid) get loss 0 and gradient 0.
 */
public interface FocalKernel {

  /** The kernel's name as the public {@code Kernel} enum spells it: SCALAR or VECTOR. */
  String name();

  double oneVsAll(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  double oneVsAll(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  double softmax(LossParams p, float[] z, int zOff, float[] y, int yOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  double softmax(LossParams p, float[] z, int zOff, int[] t, int tOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  double sigmoid(LossParams p, float[] x, int xOff, float[] y, int yOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  /** Class index {@code classes} means background: every column of the row is negative. */
  double sigmoid(LossParams p, float[] x, int xOff, int[] t, int tOff, int rows, int classes,
      float[] grad, int gOff, float gradScale, float[] perSample, int psOff);

  /** Index of the first NaN or infinite value in {@code a[off, off + len)}, or -1. */
  int firstNonFinite(float[] a, int off, int len);

  /** Index of the first value in {@code a[off, off + len)} that is NaN or outside [0, 1], or -1. */
  int firstOutsideUnit(float[] a, int off, int len);

  /**
   * The class indices {@code t[off, off + rows)} counted: the rows that count (index not {@code
   * ignoreIndex}, where {@code ignorable}) in the high 32 bits, and those of them with a positive
   * class (index below {@code classes}) in the low 32 bits; or, where a counted row's index is
   * outside [0, upper], -(that row's position from off, the first such) - 1.
   */
  long countIndices(int[] t, int off, int rows, int classes, int upper, int ignoreIndex,
      boolean ignorable);
}
