package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernels allocate nothing per element when called back to back from a caller's compiled
 * loop, the way a trainer calls them (not only from JMH's): checked in a fresh JVM, whose JIT
 * history is this loop's alone, with this JVM's module and vector flags (so each CI pass's
 * configuration is checked).
 */
class HotLoopTest {

  @Test
  void aCallersHotLoopAllocatesNothingPerElement() throws IOException, InterruptedException {
    check(List.of());
  }

  /** 8M elements with the value checks, in a JVM of their own (512 scan blocks per array). */
  @Test
  void aCallersHotLoopOverALargeBatchAllocatesNothingPerScanBlock()
      throws IOException, InterruptedException {
    check(List.of("8192", "1000"));
  }

  private static void check(List<String> args) throws IOException, InterruptedException {
    ChildJvm.Result r = ChildJvm.run(HotLoopMain.class, 5, List.of(), args);
    System.out.println(r.output());
    assertEquals(0, r.exitValue(), () -> "allocation in a hot loop:\n" + r.output());
  }
}
