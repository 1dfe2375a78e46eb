package dev.focalsimd.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The choice behind {@code -Ddev.focalsimd.kernel}, for every JVM situation (with and without a
 * vector kernel), without starting JVMs: what AUTO resolves to, and that a value this JVM cannot
 * honour fails each AUTO choice with its reason instead of the class's initialization (which left
 * every later use of the library, SCALAR included, a NoClassDefFoundError; found by a new user).
 */
class KernelProviderTest {

  /** A stand-in for the vector kernel: a FocalKernel that is not the scalar one. */
  private static final FocalKernel VECTOR = (FocalKernel) java.lang.reflect.Proxy.newProxyInstance(
      FocalKernel.class.getClassLoader(), new Class<?>[] {FocalKernel.class},
      (proxy, method, args) -> {
        throw new UnsupportedOperationException(method.getName());
      });

  @Test
  void noPropertyTakesTheVectorKernelWhereThereIsOne() {
    assertSame(VECTOR, KernelProvider.choose(VECTOR, null, 512, "").auto());
    KernelProvider.Probe p = KernelProvider.choose(null, "why", 0, "");
    assertSame(ScalarKernel.INSTANCE, p.auto());
    assertFalse(p.forced);
  }

  @Test
  void scalarAndVectorForceTheChoice() {
    assertSame(ScalarKernel.INSTANCE, KernelProvider.choose(VECTOR, null, 512, " Scalar ").auto());
    assertSame(VECTOR, KernelProvider.choose(VECTOR, null, 512, "vector").auto());
  }

  @Test
  void vectorWithoutTheVectorKernelFailsEachAutoChoiceWithTheReason() {
    KernelProvider.Probe p = KernelProvider.choose(null, "C2 is disabled", 512, "vector");
    assertNull(p.auto);
    IllegalStateException e = assertThrows(IllegalStateException.class, p::auto);
    assertTrue(e.getMessage().contains("-Ddev.focalsimd.kernel=vector"), e.getMessage());
    assertTrue(e.getMessage().contains("C2 is disabled"), e.getMessage());
    assertThrows(IllegalStateException.class, p::auto); // again, the same way
  }

  @Test
  void unknownValueIsNamed() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> KernelProvider.choose(VECTOR, null, 512, "bogus").auto());
    assertTrue(e.getMessage().contains("-Ddev.focalsimd.kernel=bogus"), e.getMessage());
    assertTrue(e.getMessage().contains("scalar, vector"), e.getMessage());
  }

  /** The module's fix is named only where the module is missing. */
  @Test
  void moduleFixOnlyWhereTheModuleIsMissing() {
    KernelProvider.Probe p = KernelProvider.probe();
    if (p.vector == null) {
      boolean moduleMissing = ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty();
      assertTrue(p.vectorUnavailableReason.contains(KernelProvider.FIX) == moduleMissing,
          p.vectorUnavailableReason);
    } else {
      assertNull(p.vectorUnavailableReason);
    }
  }
}
