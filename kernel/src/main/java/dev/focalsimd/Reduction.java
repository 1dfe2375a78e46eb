package dev.focalsimd;

/**
 * How per-sample losses are reduced to the one number that {@code forward} and
 * {@code forwardBackward} return. The gradient written by {@code forwardBackward} is always the
 * gradient of that reduced number.
 */
public enum Reduction {
  /** The sum of all per-sample losses. */
  SUM,
  /**
   * The mean. One-vs-all: the sum divided by N. Softmax: divided by the number of rows whose
   * target is not the ignore index. Sigmoid: divided by the number of elements N*C, as torchvision
   * does (with class-index targets, the elements of the rows that are not ignored). Where that
   * count is 0 (an empty batch, every row ignored) the loss and the gradient are 0, where
   * PyTorch's mean of nothing is NaN. The denominator counts rows or elements, not weights: with
   * alpha or class weights the loss at gamma 0 is the sum of the weighted cross-entropies over N
   * (mmcv, kornia and Keras), not PyTorch's {@code cross_entropy(weight=...)}, which divides by
   * the sum of the weights.
   */
  MEAN,
  /**
   * The RetinaNet normaliser (sigmoid form only): the sum divided by max(1, number of rows that
   * have at least one target greater than 0), so a batch without positives never divides by zero.
   */
  POSITIVES
}
