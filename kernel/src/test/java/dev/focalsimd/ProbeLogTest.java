package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-modules") || a.startsWith("-XX:MaxVectorSize")
          || a.startsWith("-Ddev.focalsimd.")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ProbeLogMain.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child JVM finished");
    assertEquals(0, p.exitValue(), () -> "child JVM failed:\n" + out);
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
