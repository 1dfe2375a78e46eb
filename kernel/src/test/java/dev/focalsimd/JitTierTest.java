package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Reproducible bits need the kernels to give the same result whether the JIT has compiled them or
 * not: otherwise a training run's first batches differ from a rerun's, and "same bits as
 * sequential calls" (ConcurrencyTest) depends on timing. Checked in a fresh JVM, where the first
 * calls really are interpreted, with this JVM's module and vector flags: one JVM per kernel (every
 * form in each, as a trainer's JVM may mix them), {@link ChildJvm#AT_ONCE} at a time.
 */
class JitTierTest {

  @TestFactory
  Stream<DynamicTest> firstCallsAndCompiledCallsGiveTheSameBits() {
    Map<String, Callable<String>> checks = new LinkedHashMap<>();
    for (Kernel kernel : GoldenTest.kernels()) {
      checks.put(kernel.name(), () -> check(kernel));
    }
    return ChildJvm.tests(checks);
  }

  private static String check(Kernel kernel) throws IOException, InterruptedException {
    // -Xbatch: compile in the foreground, so that warm really means C2-compiled
    ChildJvm.Result r = ChildJvm.run(JitTierMain.class, 5, List.of("-Xbatch"),
        List.of(kernel.name()));
    assertEquals(0, r.exitValue(), () -> "cold and warm calls differ:\n" + r.output());
    return r.output();
  }
}
