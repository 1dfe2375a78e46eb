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
 * Reproducible bits need the kernels to give the same result whether the JIT has compiled them or
 * not: otherwise a training run's first batches differ from a rerun's, and "same bits as
 * sequential calls" (ConcurrencyTest) depends on timing. Checked in a fresh JVM, where the first
 * calls really are interpreted, with this JVM's module and vector flags.
 */
class JitTierTest {

  @Test
  void firstCallsAndCompiledCallsGiveTheSameBits() throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-modules") || a.startsWith("-XX:MaxVectorSize")
          || a.startsWith("-Ddev.focalsimd.")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xbatch"); // compile in the foreground: warm really means C2-compiled
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(JitTierMain.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM finished");
    System.out.println(out);
    assertEquals(0, p.exitValue(), () -> "cold and warm calls differ:\n" + out);
  }
}
