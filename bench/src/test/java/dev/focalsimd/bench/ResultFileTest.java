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
