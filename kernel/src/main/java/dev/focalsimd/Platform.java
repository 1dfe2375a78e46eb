package dev.focalsimd;

import dev.focalsimd.kernels.KernelProvider;

/**
 * What this JVM offers the kernels: the Vector API's preferred species, the JDK, and the kernel
 * {@link Kernel#AUTO} resolves to. Obtain it from {@link FocalLoss#platform()}.
 *
 * @param vectorAvailable whether {@link Kernel#VECTOR} can be built in this JVM
 * @param vectorBitSize the preferred species' size in bits, 0 where the module is not resolved
 * @param floatLanes float lanes of the preferred species (vectorBitSize / 32)
 * @param autoKernel what {@link Kernel#AUTO} resolves to (SCALAR or VECTOR)
 * @param jdk the runtime's vendor and version
 * @param vectorUnavailableReason why the vector kernel is off (with the fix where the module is
 *     missing); null where it is on
 */
public record Platform(boolean vectorAvailable, int vectorBitSize, int floatLanes,
    Kernel autoKernel, String jdk, String vectorUnavailableReason) {

  static Platform current() {
    KernelProvider.Probe probe = KernelProvider.probe();
    String jdk = System.getProperty("java.vm.vendor", "?") + " "
        + System.getProperty("java.runtime.version", System.getProperty("java.version", "?"));
    return new Platform(probe.vector != null, probe.vectorBitSize, probe.vectorBitSize / 32,
        Kernel.valueOf(probe.auto().name()), jdk, probe.vectorUnavailableReason);
  }

  /** One line, for logs and benchmark headers. */
  @Override
  public String toString() {
    String vec = vectorAvailable
        ? "vector " + vectorBitSize + " bits (" + floatLanes + " float lanes)"
        : "vector off: " + vectorUnavailableReason;
    return "kernel " + autoKernel + ", " + vec + ", JDK " + jdk;
  }
}
