package dev.focalsimd;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

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
    // the output to a file, not a pipe: reading a pipe to its end would wait for the child
    // however long it ran, and the time limit below would never fire
    java.nio.file.Path log = java.nio.file.Files.createTempFile("focal-simd-child", ".out");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      LIVE.add(p);
      try {
        boolean done = p.waitFor(minutes, TimeUnit.MINUTES);
        if (!done) {
          p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
        if (!done) {
          throw new AssertionError("child JVM " + main.getSimpleName() + " did not finish in "
              + minutes + " min:\n" + out);
        }
        return new Result(out, p.exitValue());
      } finally {
        LIVE.remove(p);
      }
    } finally {
      java.nio.file.Files.deleteIfExists(log);
    }
  }

  /**
   * Child JVMs still running, destroyed when this JVM exits (a build interrupted, a test run
   * stopped from an IDE), so that none outlives the tests that started it.
   */
  private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap
      .newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
        "ChildJvm cleanup"));
  }

  /**
   * Fresh JVMs at once for {@link #tests}: two, the CI machine's cores, or fewer where there are
   * fewer. Most of a child's time is a fixed span of calls on one core (warm-up), or compilations
   * under -Xbatch, which also run on one: one at a time left the other core idle, and the child
   * JVMs took about 2.5 of a CI pass's 4 minutes.
   */
  static final int AT_ONCE = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));

  /**
   * The longest a test of {@link #tests} waits for its check, queueing included: a check runs up
   * to two child JVMs of at most 5 minutes each, behind at most a few others.
   */
  static final long CHECK_MINUTES = 30;

  /**
   * One dynamic test per entry of {@code checks} (name to check), the checks started here, {@link
   * #AT_ONCE} at a time in the map's order, all of them even where a runner then selects one test;
   * each test waits for its own check (at most {@link #CHECK_MINUTES}), prints what it returned and
   * fails with what it threw.
   */
  static Stream<DynamicTest> tests(java.util.Map<String, Callable<String>> checks) {
    ExecutorService jvms = Executors.newFixedThreadPool(AT_ONCE, r -> {
      Thread t = new Thread(r, "child JVM");
      t.setDaemon(true);
      return t;
    });
    List<DynamicTest> tests = new ArrayList<>();
    try {
      checks.forEach((name, check) -> {
        Future<String> output = jvms.submit(check);
        tests.add(DynamicTest.dynamicTest(name, () -> {
          try {
            System.out.println(output.get(CHECK_MINUTES, TimeUnit.MINUTES));
          } catch (ExecutionException e) {
            throw e.getCause();
          }
        }));
      });
    } finally {
      jvms.shutdown(); // the submitted checks still run
    }
    return tests.stream();
  }

  private ChildJvm() {}
}
