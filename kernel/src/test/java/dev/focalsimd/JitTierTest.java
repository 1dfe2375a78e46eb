package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Reproducible bits need the kernels to give the same result whether the JIT has compiled them or
 * not: otherwise a training run's first batches differ from a rerun's, and "same bits as
 * sequential calls" (ConcurrencyTest) depends on timing. Checked in a fresh JVM, where the first
 * calls really are interpreted, with this JVM's module and vector flags.
 */
class JitTierTest {

  @Test
  void firstCallsAndCompiledCallsGiveTheSameBits() throws IOException, InterruptedException {
    // -Xbatch: compile in the foreground, so that warm really means C2-compiled
    ChildJvm.Result r = ChildJvm.run(JitTierMain.class, 5, "-Xbatch");
    System.out.println(r.output());
    assertEquals(0, r.exitValue(), () -> "cold and warm calls differ:\n" + r.output());
  }
}
