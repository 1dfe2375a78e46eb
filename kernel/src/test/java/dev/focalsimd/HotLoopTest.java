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
 * The kernels allocate nothing per element when called back to back from a caller's compiled
 * loop, the way a trainer calls them (not only from JMH's): checked in a fresh JVM, whose JIT
 * history is this loop's alone, with this JVM's module and vector flags (so each CI pass's
 * configuration is checked).
 *
 * <p>The fresh JVMs run {@link ChildJvm#AT_ONCE} at a time (each factory's, in suite order). A JVM
 * beside another is the busy machine that {@link HotLoopMain} is built to measure on (it waits for
 * the compiler to be quiet), and the load under which the races it guards against showed most
 * often.
 */
class HotLoopTest {

  @TestFactory
  Stream<DynamicTest> aCallersHotLoopAllocatesNothingPerElement() {
    return suites(List.of());
  }

  /**
   * The same suites with C2 allowed 20 traps of a kind per compilation instead of 100
   * ({@code -XX:PerMethodTrapLimit=20}): where a compilation's total of a kind reaches the limit,
   * C2 compiles that kind's checks as slow paths instead of traps, and a type check on a vector
   * with a virtual call on its slow path boxes the vector. Before {@code OperatorProfiles}, the
   * kernel's passes reached 96 to 135 {@code class_check} traps, so whether one passed 100 came
   * down to one trap more or less in a JDK method during warm-up: {@code ovaLogits} allocated
   * 8,192,020 bytes per call in 3 of 16 JVMs under load with {@code -XX:+LogCompilation}, and 8 to
   * 33 MB in single JVMs of CI runs. At 20 that race is lost every time: before the fix every JVM
   * tried of {@code ovaLogits} (3), {@code forms}, {@code distribution} and {@code large} (1 each)
   * allocated; after it none, and no compilation of the kernel's reached 3 traps of a kind.
   */
  @TestFactory
  Stream<DynamicTest> withFewTrapsAllowedTheLoopAllocatesNothing() {
    return suites(List.of(TRAP_LIMIT));
  }

  static final String TRAP_LIMIT = "-XX:PerMethodTrapLimit=20";

  /** A test per suite, each checked by {@link #check} with {@code jvmArgs}. */
  private static Stream<DynamicTest> suites(List<String> jvmArgs) {
    Map<String, Callable<String>> checks = new LinkedHashMap<>();
    for (String suite : HotLoopMain.SUITES) {
      checks.put(suite, () -> check(jvmArgs, List.of(suite)));
    }
    return ChildJvm.tests(checks);
  }

  /**
   * Fails where the suite allocated in two fresh JVMs in a row. What C2 compiles depends on the
   * order and timing of its compilations: the defects of this kind found so far were races (a small
   * method compiled on its own before its caller, a type profile gathered while one or two passes
   * ran, a compilation's trap total one trap over C2's limit), lost in 1 JVM of 3 to 5 of 10 with
   * the machine loaded ({@link HotLoopMain}), never in all. A suite that allocates in one JVM
   * prints that JVM's output and tries another; two in a row is a regression. {@link HotLoopMain}
   * measures each case only after the compiler is done with it, three times before a case counts
   * as allocating, so a busy machine does not fail the test.
   */
  private static String check(List<String> jvmArgs, List<String> args)
      throws IOException, InterruptedException {
    ChildJvm.Result r = ChildJvm.run(HotLoopMain.class, 5, jvmArgs, args);
    if (r.exitValue() == 0) {
      return r.output();
    }
    ChildJvm.Result again = ChildJvm.run(HotLoopMain.class, 5, jvmArgs, args);
    assertEquals(0, again.exitValue(), () -> "allocation in a hot loop, in two JVMs in a row:\n"
        + r.output() + "\nand again:\n" + again.output());
    return r.output() + "\nagain, in another fresh JVM:\n" + again.output();
  }
}
