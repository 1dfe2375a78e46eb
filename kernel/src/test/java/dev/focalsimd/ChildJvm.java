package dev.focalsimd;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A fresh JVM running a test main class with this JVM's module, vector-size and focal-simd flags
 * (so that each CI pass's configuration reaches it) and class path: for tests of what happens
 * once per JVM (first calls, the kernel probe), which this JVM has already done.
 */
final class ChildJvm {

  /** What the child printed (stdout and stderr together) and its exit status. */
  record Result(String output, int exitValue) {}

  /**
   * Runs {@code main} with {@code jvmArgs} added to the inherited flags; fails if it does not end
   * within {@code minutes}.
   */
  static Result run(Class<?> main, long minutes, String... jvmArgs)
      throws IOException, InterruptedException {
    return run(main, minutes, List.of(jvmArgs), List.of());
  }

  /** {@link #run(Class, long, String...)} with arguments {@code args} to main. */
  static Result run(Class<?> main, long minutes, List<String> jvmArgs, List<String> args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-modules") || a.startsWith("-XX:MaxVectorSize")
          || a.startsWith("-Ddev.focalsimd.")) {
        cmd.add(a);
      }
    }
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM " + main.getSimpleName() + " did not finish in "
          + minutes + " min:\n" + out);
    }
    return new Result(out, p.exitValue());
  }

  private ChildJvm() {}
}
