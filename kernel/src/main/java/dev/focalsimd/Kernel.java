package dev.focalsimd;

/** Which implementation computes the loss. */
public enum Kernel {
  /**
   * {@link #VECTOR} where the Vector API is resolved and usable in this JVM, else {@link #SCALAR}.
   * The system property {@code dev.focalsimd.kernel} ({@code scalar} or {@code vector}) overrides
   * the choice.
   */
  AUTO,
  /** Plain Java with {@link Math} functions: the reference implementation, runs on every JVM. */
  SCALAR,
  /**
   * SIMD through {@code jdk.incubator.vector}; needs {@code --add-modules jdk.incubator.vector} on
   * the command line of the JVM and HotSpot's C2 compiler. Computes in float: where its loss
   * comes out infinite or NaN (a float partial sum above {@link Float#MAX_VALUE}, softmax logits
   * more than the float range apart) the loss and the per-sample losses of that call are computed
   * again by {@link #SCALAR}, in double; the gradient is this kernel's. Its loss's relative error
   * grows with gamma (q^gamma carries q's rounding gamma times): in an adversarial session's random
   * inputs within 1.5e-6 up to gamma 10 but for one case (2.2e-6 at gamma 5, 257 classes, 128-bit
   * vectors; the golden tolerance is 2e-6). Above gamma 10 its passes correct ln q for q's rounding
   * from p_t (without that, a probability below 2^-25 made 1 - p round to 1 and (1 - p)^gamma 1
   * instead of about exp(-gamma p): softmax, logits {0, 20}, targets {0.5, 0.5}, loss 10.0 for
   * 9.9998 at gamma 1e4): against {@link #SCALAR}, within 1.2e-6 up to gamma 100 and 2.1e-6 at
   * gamma 1e4 (1,000 random configurations per gamma), and {@code gradientHessian}'s gradients
   * and Hessians within 3.4e-6 of the largest element up to gamma 1e4. Where the golden measure
   * must hold far above gamma 10, use {@link #SCALAR}.
   */
  VECTOR
}
