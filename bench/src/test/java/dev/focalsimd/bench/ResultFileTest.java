package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.focalsimd.bench.ResultFile.Entry;
import dev.focalsimd.bench.ResultFile.Header;
import dev.focalsimd.bench.ResultFile.Peer;
import dev.focalsimd.bench.ResultFile.Secondary;
import dev.focalsimd.bench.ResultFile.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultFileTest {

  static ResultFile sample() {
    Header h = new Header("0.1.0-SNAPSHOT", "quick+widths", "2025-11-29T09:00:00Z",
        "Some CPU @ 3.0GHz", "GenuineIntel", 2, List.of("avx2", "fma", "avx512f"), "Linux 6.1",
        "amd64", "Eclipse Adoptium", "25.0.3+9", 64, 3, 512, 16, "VECTOR", null,
        new Settings(1, 2, "500 ms", 3, "1 s", List.of("--widths", "-prof", "gc")));
    Entry scalar = new Entry("ForwardBackwardBench.forwardBackward", "softmax", 4096, 21, "index",
        "array", "SCALAR", 0, null, "thrpt", 1234.5, 12.25, "ops/s", 3, 106.18, 1.05, null);
    Entry vector = new Entry("ForwardBackwardBench.forwardBackwardDirect", "sigmoid", 8192, 1000,
        "dense", "direct", "VECTOR", 256, 32, "thrpt", 98.75, null, "ops/s", 3, 808.96, null,
        Map.of("gc.alloc.rate.norm", new Secondary(0.008, 0.001, "B/op")));
    Peer peer = new Peer(Peers.C_FAST, "sigmoid", 8192, 1000, 590.5, "measured");
    return new ResultFile(ResultFile.SCHEMA, h, List.of(scalar, vector), List.of(peer));
  }

  /**
   * A run with the value checks off ({@code -p validate=false}) beside a checked one: two rows, not
   * one that silently kept the last (an adversarial tester's find: the table showed one row of
   * two, the file had two entries nothing told apart), and the flag survives the file.
   */
  @Test
  void uncheckedRunsAreRowsOfTheirOwn(@TempDir Path dir) throws Exception {
    Entry checked = new Entry("ForwardBackwardBench.forwardBackward", "sigmoid", 512, 16, "dense",
        "array", "SCALAR", 0, null, "thrpt", 100.0, null, "ops/s", 2, 0.8192, null, null);
    Entry unchecked = new Entry("ForwardBackwardBench.forwardBackward", "sigmoid", 512, 16,
        "dense", "array", "SCALAR", 0, null, "thrpt", 120.0, null, "ops/s", 2, 0.98304, null,
        null, Boolean.FALSE);
    assertEquals(2, Reports.byRow(List.of(checked, unchecked)).size());
    assertEquals("sigmoid/unchecked", unchecked.formLabel());
    assertEquals("sigmoid", checked.formLabel());
    ResultFile f = new ResultFile(ResultFile.SCHEMA, sample().header(), List.of(checked, unchecked),
        null);
    Path file = dir.resolve("v.json");
    f.write(file);
    ResultFile back = ResultFile.read(file);
    assertEquals(null, back.results().get(0).validate());
    assertEquals(Boolean.FALSE, back.results().get(1).validate());
    assertTrue(!java.nio.file.Files.readString(file).contains("\"validate\": true"));
  }

  /** Forks without the vector kernel (C2 off): vectorBitSize 0 in the header, as documented. */
  @Test
  void headerSaysNoVectorWhereTheKernelIsOff() {
    HostInfo host = new HostInfo("Some CPU", "AuthenticAMD", 2, List.of("avx2"), "Linux", "amd64");
    PlatformProbe.Info off = new PlatformProbe.Info(false, 512, 16, "SCALAR", "Vendor", "17.0.15",
        "OpenJDK 64-Bit Server VM", 64, 3, "C2 is disabled (-XX:TieredStopAtLevel=1)");
    Header h = BenchMain.header(host, off, "smoke", java.time.Instant.EPOCH, null);
    assertEquals(0, h.vectorBitSize());
    assertEquals(0, h.floatLanes());
    PlatformProbe.Info on = new PlatformProbe.Info(true, 512, 16, "VECTOR", "Vendor", "17.0.15",
        "OpenJDK 64-Bit Server VM", 64, 3, null);
    assertEquals(512, BenchMain.header(host, on, "smoke", java.time.Instant.EPOCH, null)
        .vectorBitSize());
  }

  @Test
  void writesAndReadsBackTheSameValues(@TempDir Path dir) throws Exception {
    ResultFile original = sample();
    Path file = dir.resolve("sub/run.json");
    original.write(file);
    ResultFile back = ResultFile.read(file);
    assertEquals(original, back);
    // Optional fields left null are omitted, not written as null.
    String text = Files.readString(file);
    assertTrue(text.contains("\"maxVectorSize\" : 32"), text);
    assertTrue(!text.contains("\"vectorUnavailableReason\""), text);
  }

  @Test
  void readsAHandMadeFile() {
    ResultFile a = ResultFile.read(Fixtures.path("results-a.json"));
    assertEquals("Hand-made CPU A 512", a.header().cpuModel());
    assertEquals(512, a.header().vectorBitSize());
    assertEquals(List.of("avx2", "fma", "avx512f", "avx512dq"), a.header().simdFeatures());
    assertEquals(4, a.results().size());
    Entry v = a.results().get(1);
    assertEquals("VECTOR", v.variant());
    assertEquals(1000.0, v.melemPerSec());
    assertEquals(0.01, v.secondary().get("gc.alloc.rate.norm").score());
    assertNull(a.results().get(2).error());
    assertNull(a.peers());
  }

  @Test
  void unknownFieldsAreIgnored() {
    ResultFile b = ResultFile.read(Fixtures.path("results-b.json"));
    assertEquals("0.2.0", b.header().benchVersion());
    assertEquals(5, b.results().size());
  }

  @Test
  void variantsAndLabels() {
    ResultFile f = sample();
    assertEquals("SCALAR", f.results().get(0).variant());
    assertEquals("VECTOR@256", f.results().get(1).variant());
    assertEquals("softmax", f.results().get(0).formLabel());
    assertEquals("sigmoid/direct", f.results().get(1).formLabel());
  }
}
