/**
 * focal-simd: focal loss and its gradient over flat float buffers, with a SIMD kernel built on
 * {@code jdk.incubator.vector} and a scalar fallback. The public API is {@link dev.focalsimd.FocalLoss}.
 */
module dev.focalsimd {
  requires static jdk.incubator.vector;
  requires static java.management;

  exports dev.focalsimd;
}
