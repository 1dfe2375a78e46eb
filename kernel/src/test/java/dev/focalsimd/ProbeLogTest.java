package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * A program that builds only {@link Kernel#SCALAR} losses never probes for the vector kernel (no
 * class loading, no log record naming a kernel it does not use); the first {@link Kernel#AUTO}
 * build probes and logs AUTO's choice once. Checked in a fresh JVM with this JVM's module and
 * kernel flags, since this JVM has probed already.
 */
class ProbeLogTest {

  @Test
  void onlyTheFirstAutoBuildLogsTheChoice() throws IOException, InterruptedException {
    ChildJvm.Result r = ChildJvm.run(ProbeLogMain.class, 2);
    String out = r.output();
    assertEquals(0, r.exitValue(), () -> "child JVM failed:\n" + out);
    int mark = out.indexOf(ProbeLogMain.MARK);
    assertTrue(mark >= 0, () -> "no mark in:\n" + out);
    String before = out.substring(0, mark);
    String after = out.substring(mark);
    assertTrue(!before.contains("focal-simd:"), () -> "the SCALAR build probed:\n" + out);
    assertTrue(after.contains("focal-simd: Kernel.AUTO is") || after.contains("focal-simd: vector"),
        () -> "the AUTO build did not log its choice:\n" + out);
    assertEquals(after.indexOf("focal-simd:"), after.lastIndexOf("focal-simd:"),
        () -> "logged more than once:\n" + out);
  }
}
