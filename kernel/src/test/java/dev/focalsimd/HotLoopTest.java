package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The kernels allocate nothing per element when called back to back from a caller's compiled
 * loop, the way a trainer calls them (not only from JMH's): checked in a fresh JVM, whose JIT
 * history is this loop's alone, with this JVM's module and vector flags (so each CI pass's
 * configuration is checked).
 */
class HotLoopTest {

  @TestFactory
  Stream<DynamicTest> aCallersHotLoopAllocatesNothingPerElement() {
    return Arrays.stream(HotLoopMain.SUITES).map(suite -> DynamicTest.dynamicTest(suite,
        () -> check(List.of(suite))));
  }

  private static void check(List<String> args) throws IOException, InterruptedException {
    ChildJvm.Result r = ChildJvm.run(HotLoopMain.class, 5, List.of(), args);
    System.out.println(r.output());
    assertEquals(0, r.exitValue(), () -> "allocation in a hot loop:\n" + r.output());
  }
}
