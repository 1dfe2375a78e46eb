package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CliTest {

  @Test
  void jmhArgumentsPassThroughUnchanged() {
    BenchMain.Cli c = BenchMain.Cli.parse(new String[] {"-f", "1", "Forward", "-prof", "gc",
        "--out", "x.json", "-jvmArgsAppend", "--enable-preview", "-p", "shape=4096x21"});
    assertEquals(List.of("-f", "1", "Forward", "-prof", "gc", "-jvmArgsAppend",
        "--enable-preview", "-p", "shape=4096x21"), c.jmh);
    assertEquals("x.json", c.out);
    assertEquals("jmh", c.profileName());
  }

  @Test
  void profiles() {
    assertEquals("quick", BenchMain.Cli.parse(new String[0]).profileName());
    assertEquals("full+peers+widths", BenchMain.Cli.parse(
        new String[] {"--widths", "--full", "--peers"}).profileName());
    assertEquals("smoke", BenchMain.Cli.parse(new String[] {"--smoke", "-f", "2"}).profileName());
  }

  @Test
  void likeRef() {
    BenchMain.Cli c = BenchMain.Cli.parse(new String[] {"--like-ref", "--peers-dir", "p"});
    assertTrue(c.likeRef);
    assertFalse(c.likeRefScalar);
    assertEquals("p", c.peersDir);
    BenchMain.Cli s = BenchMain.Cli.parse(new String[] {"--like-ref-scalar"});
    assertTrue(s.likeRefScalar);
    assertFalse(s.likeRef);
    assertEquals(2.0, LikeRef.median(new double[] {3, 1, 2}));
    assertEquals(2.5, LikeRef.median(new double[] {4, 1, 2, 3}));
  }

  @Test
  void equalsFormAndCompareFiles() {
    BenchMain.Cli c = BenchMain.Cli.parse(new String[] {"--compare", "a.json", "b.json",
        "--chart=c.svg"});
    assertEquals(List.of("a.json", "b.json"), c.compare);
    assertEquals("c.svg", c.chart);
    assertNull(c.out);
    assertThrows(BenchException.class, () -> BenchMain.Cli.parse(new String[] {"--full=yes"}));
  }

  @Test
  void headerNamesTimesLeftToTheAnnotations() {
    assertEquals("5 x 1 s", BenchMain.iterations(org.openjdk.jmh.util.Optional.of(5),
        org.openjdk.jmh.util.Optional.of(org.openjdk.jmh.runner.options.TimeValue.seconds(1))));
    assertEquals("1 x (annotation)", BenchMain.iterations(org.openjdk.jmh.util.Optional.of(1),
        org.openjdk.jmh.util.Optional.none()));
    assertEquals("(annotation) x (annotation)", BenchMain.iterations(
        org.openjdk.jmh.util.Optional.none(), org.openjdk.jmh.util.Optional.none()));
  }

  @Test
  void compareHintOnlyForFilesWithResults() {
    java.nio.file.Path p = java.nio.file.Path.of("r.json");
    assertTrue(BenchMain.savedLine(p, true, false).contains(BenchMain.jar() + " --compare r.json"));
    String none = BenchMain.savedLine(p, false, true);
    assertTrue(none.startsWith("results saved to r.json"), none);
    assertTrue(!none.contains("--compare"), none);
    assertTrue(none.contains("none of these benchmarks is one cell"), none);
    // every benchmark failed (an adversarial tester's -p form=bogus): not "untabled"
    String failed = BenchMain.savedLine(p, false, false);
    assertTrue(failed.contains("no benchmark gave a result"), failed);
    assertTrue(!failed.contains("one cell per form"), failed);
  }

  /** The hint is a command to paste: a path with spaces (or quotes) is quoted for the shell. */
  @Test
  void compareHintQuotesPathsThatNeedIt() {
    String line = BenchMain.savedLine(java.nio.file.Path.of("my results/r.json"), true, false);
    assertTrue(line.startsWith("results saved to my results/r.json (compare: "), line);
    assertTrue(line.endsWith(" --compare 'my results/r.json' OTHER.json)"), line);
    assertEquals("bench-results/cpu_jdk17.json", BenchMain.shellQuote("bench-results/cpu_jdk17.json"));
    assertEquals("'it'\\''s.json'", BenchMain.shellQuote("it's.json"));
    assertEquals("''", BenchMain.shellQuote(""));
  }

  /** Repeated options silently kept the last value (--compare a --compare b compared only b). */
  @Test
  void repeatedOptionsAreRejected() {
    for (String[] args : new String[][] {{"--compare", "a.json", "--compare", "b.json"},
        {"--out", "a.json", "--out=b.json"}, {"--chart", "a.png", "--chart", "b.png"},
        {"--peers", "--peers-dir", "a", "--peers-dir", "b"},
        {"--paired", "a=1,2", "--rounds", "2", "--rounds", "3"}}) {
      BenchException e = assertThrows(BenchException.class, () -> BenchMain.Cli.parse(args),
          String.join(" ", args));
      assertTrue(e.getMessage().matches("--[a-z-]+ given twice.*"), e.getMessage());
    }
    for (String other : new String[] {"--verbose", "--peers-dir=p", "--out=x.json"}) {
      BenchException e = assertThrows(BenchException.class,
          () -> BenchMain.Cli.parse(new String[] {"--compare", "a.json", other}), other);
      assertEquals("--compare takes result files and --chart only", e.getMessage());
    }
  }

  @Test
  void hintsNameAJarThatRuns() {
    // from the tests' class directories there is no jar: the generic name
    assertEquals("java -jar bench.jar", BenchMain.jar());
  }

  @Test
  void helpPrintsUsage() {
    Fixtures.Run r = Fixtures.run("--help");
    assertEquals(0, r.status());
    assertTrue(r.out().contains("-jvmArgsAppend"), r.out());
    assertTrue(r.out().contains("--compare"), r.out());
  }

  @Test
  void melemPerSecondFromJmhUnits() {
    // 5 ops/s of 1000 x 10 elements = 0.05 Melem/s
    assertEquals(0.05, BenchMain.melemPerSec(5, "ops/s", "1000x10"), 1e-12);
    // 5 ops/ms = 5000 ops/s
    assertEquals(50.0, BenchMain.melemPerSec(5, "ops/ms", "1000x10"), 1e-9);
    // 2 ms/op of 1000 x 1000 = 500 ops/s = 500 Melem/s
    assertEquals(500.0, BenchMain.melemPerSec(2, "ms/op", "1000x1000"), 1e-9);
    assertEquals(0.0, BenchMain.melemPerSec(2, "furlongs", "1000x1000"));
    assertEquals(0.0, BenchMain.melemPerSec(2, "ops/s", null));
  }

  @Test
  void shapes() {
    assertArrayEquals(new int[] {4096, 21}, BenchData.parseShape("4096x21"));
    assertArrayEquals(new int[] {8192, 1000}, BenchData.parseShape("8192 x 1000"));
    assertThrows(IllegalArgumentException.class, () -> BenchData.parseShape("4096"));
    assertThrows(IllegalArgumentException.class, () -> BenchData.parseShape("0x16"));
    assertThrows(IllegalArgumentException.class, () -> BenchData.parseShape("100000x100000"));
  }

  @Test
  void defaultFileNameIsMadeOfCpuJdkAndDate() {
    HostInfo host = new HostInfo("Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz", "GenuineIntel",
        2, List.of(), "Linux", "amd64");
    PlatformProbe.Info info = new PlatformProbe.Info(true, 512, 16, "VECTOR", "Eclipse Adoptium",
        "25.0.3+9-LTS", "OpenJDK 64-Bit Server VM", 64, 3, null);
    String name = BenchMain.defaultFileName(host, info, Instant.parse("2025-11-29T09:30:00Z"));
    assertTrue(name.matches("bench-results/intel-xeon-platinum-8488c-2.40ghz_jdk25.0.3_2025112\\d-"
        + "\\d{6}\\.json"), name);
  }
}
