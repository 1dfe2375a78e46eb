package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Which kernel this JVM configuration chose. CI runs the suite under several configurations and
 * tells each run what it must choose:
 *
 * <ul>
 *   <li>{@code -Dfocalsimd.expectKernel=SCALAR|VECTOR}: what {@link Kernel#AUTO} must resolve to;
 *   <li>{@code -Dfocalsimd.expectMaxVectorBits=N}: the preferred species must have at most N bits
 *       (CI's -XX:MaxVectorSize passes), and at least 128.
 * </ul>
 *
 * <p>Unset (a plain IDE or {@code mvn test} run), those checks are skipped; the checks of what
 * {@link Kernel#VECTOR} does where the Vector API is missing always run.
 */
class KernelChoiceTest {

  static final String EXPECT_KERNEL = "focalsimd.expectKernel";
  static final String EXPECT_MAX_BITS = "focalsimd.expectMaxVectorBits";

  private static boolean vectorModuleResolved() {
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  @Test
  void autoChoosesTheExpectedKernel() {
    String expected = System.getProperty(EXPECT_KERNEL, "").trim();
    assumeTrue(!expected.isEmpty(), "-D" + EXPECT_KERNEL + " not set");
    Kernel want = Kernel.valueOf(expected.toUpperCase(Locale.ROOT));
    Platform p = FocalLoss.platform();
    assertEquals(want, p.autoKernel(), "AUTO resolved to " + p.autoKernel() + " on " + p);
    for (FocalLoss loss : new FocalLoss[] {FocalLoss.oneVsAll().build(),
        FocalLoss.softmax().build(), FocalLoss.sigmoid().build(),
        FocalLoss.softmax().kernel(Kernel.AUTO).build()}) {
      assertEquals(want, loss.kernel(), loss.toString());
    }
    if (want == Kernel.VECTOR) {
      assertTrue(p.vectorAvailable(), p.toString());
    }
  }

  @Test
  void speciesWidthIsWithinTheConfiguredMaximum() {
    String max = System.getProperty(EXPECT_MAX_BITS, "").trim();
    assumeTrue(!max.isEmpty(), "-D" + EXPECT_MAX_BITS + " not set");
    Platform p = FocalLoss.platform();
    assertTrue(p.vectorAvailable(), "vector kernel expected: " + p);
    int bits = p.vectorBitSize();
    assertTrue(bits >= 128 && bits <= Integer.parseInt(max),
        "preferred species " + bits + " bits, expected 128.." + max + ": " + p);
    assertEquals(bits / 32, p.floatLanes(), "float lanes");
  }

  @Test
  void vectorFailsAtBuildNamingTheFixWithoutTheModule() {
    assumeTrue(!vectorModuleResolved(), "jdk.incubator.vector is resolved in this JVM");
    Platform p = FocalLoss.platform();
    assertFalse(p.vectorAvailable());
    assertEquals(Kernel.SCALAR, p.autoKernel());
    assertEquals(0, p.vectorBitSize());
    for (FocalLoss.Builder<?> b : new FocalLoss.Builder<?>[] {FocalLoss.oneVsAll(),
        FocalLoss.softmax(), FocalLoss.sigmoid()}) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> b.kernel(Kernel.VECTOR).build());
      assertTrue(e.getMessage().contains("--add-modules jdk.incubator.vector"), e.getMessage());
    }
    assertNotNull(p.vectorUnavailableReason());
    assertTrue(p.vectorUnavailableReason().contains("--add-modules jdk.incubator.vector"),
        p.vectorUnavailableReason());
  }

  @Test
  void vectorIsBuiltWhereAvailableAndRefusedOtherwise() {
    Platform p = FocalLoss.platform();
    if (p.vectorAvailable()) {
      assertEquals(Kernel.VECTOR, FocalLoss.sigmoid().kernel(Kernel.VECTOR).build().kernel());
      assertTrue(p.vectorBitSize() >= 128, p.toString());
      assertEquals(null, p.vectorUnavailableReason());
    } else {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> FocalLoss.sigmoid().kernel(Kernel.VECTOR).build());
      assertTrue(e.getMessage().contains(p.vectorUnavailableReason()), e.getMessage());
    }
    // SCALAR is always available, whatever AUTO chose.
    assertEquals(Kernel.SCALAR, FocalLoss.sigmoid().kernel(Kernel.SCALAR).build().kernel());
  }

  @Test
  void forcedScalarPropertyIsHonoured() {
    String forced = System.getProperty("dev.focalsimd.kernel", "").trim();
    assumeTrue(forced.equalsIgnoreCase("scalar"), "-Ddev.focalsimd.kernel=scalar not set");
    assertEquals(Kernel.SCALAR, FocalLoss.platform().autoKernel());
    assertEquals(Kernel.SCALAR, FocalLoss.softmax().build().kernel());
  }
}
