package dev.focalsimd.kernels;

import java.util.concurrent.ExecutorService;

/** {@link ScratchTest}'s virtual-thread executor for the tests of other packages. */
public final class ScratchTestAccess {
  private ScratchTestAccess() {
  }

  /** A virtual thread per task, or the test skipped before JDK 21. */
  public static ExecutorService virtualThreadsOrSkip() {
    return ScratchTest.virtualThreadsOrSkip();
  }
}
