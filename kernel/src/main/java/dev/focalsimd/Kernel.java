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
   * the command line of the JVM and HotSpot's C2 compiler.
   */
  VECTOR
}
