package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --compare on two hand-made files whose ratios are known by construction. */
class CompareTest {

  private static String[] row(String out, String start, String kernel) {
    for (String line : out.split("\\R")) {
      String[] cells = line.trim().split("\\s+");
      if (line.startsWith(start) && cells.length > 3 && cells[3].equals(kernel)) {
        return cells;
      }
    }
    throw new AssertionError("no row " + start + " " + kernel + " in\n" + out);
  }

  @Test
  void tableHasEachFileAndItsRatioToTheFirst() {
    Fixtures.Run r = Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        Fixtures.path("results-b.json").toString());
    assertEquals(0, r.status(), r.err());
    String out = r.out();
    assertTrue(out.contains("[1] results-a.json: Hand-made CPU A 512"), out);
    assertTrue(out.contains("[2] results-b.json: Hand-made CPU B Neon"), out);
    // A: 100 / 1000 / 200 / 800 Melem/s; B: 50 / 400 / 100 / 300, plus a sigmoid row A lacks.
    assertArrayEquals(new String[] {"one_vs_all", "65536", "16", "scalar", "100", "50.0", "0.50x"},
        row(out, "one_vs_all", "scalar"));
    assertArrayEquals(new String[] {"one_vs_all", "65536", "16", "vector", "1000", "400", "0.40x"},
        row(out, "one_vs_all", "vector"));
    assertArrayEquals(new String[] {"softmax", "65536", "16", "vector", "800", "300", "0.38x"},
        row(out, "softmax", "vector"));
    assertArrayEquals(new String[] {"sigmoid", "4096", "21", "vector", "n/a", "250", "n/a"},
        row(out, "sigmoid", "vector"));
    // Geometric means of vector/scalar: A sqrt(10 * 4) = 6.32, B sqrt(8 * 3) = 4.90.
    assertTrue(out.contains("[1] geometric mean of vector/scalar speedups: 6.32x over 2 rows"), out);
    assertTrue(out.contains("[2] geometric mean of vector/scalar speedups: 4.90x over 2 rows"), out);
    assertTrue(out.contains("warning: the files come from different bench versions [0.1.0, 0.2.0]"),
        out);
    assertTrue(out.contains("warning: the files come from different run profiles [quick, full]"),
        out);
  }

  @Test
  void rowsAreOrderedByFormThenKernel() {
    Fixtures.Run r = Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        Fixtures.path("results-b.json").toString());
    List<String> firsts = Arrays.stream(r.out().split("\\R"))
        .filter(l -> l.matches("^(one_vs_all|softmax|sigmoid) .*"))
        .map(l -> l.split("\\s+")[0] + " " + l.split("\\s+")[3])
        .toList();
    assertEquals(List.of("one_vs_all scalar", "one_vs_all vector", "softmax scalar",
        "softmax vector", "sigmoid vector"), firsts);
  }

  @Test
  void sameVersionAndProfileGiveNoWarning() {
    Fixtures.Run r = Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        Fixtures.path("results-a.json").toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(!r.out().contains("warning"), r.out());
    assertArrayEquals(new String[] {"one_vs_all", "65536", "16", "vector", "1000", "1000", "1.00x"},
        row(r.out(), "one_vs_all", "vector"));
  }

  @Test
  void drawsPngAndSvgCharts(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("charts/compare.png");
    Fixtures.Run r = Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        Fixtures.path("results-b.json").toString(), "--chart", png.toString());
    assertEquals(0, r.status(), r.err());
    byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);

    Path svg = dir.resolve("compare.svg");
    r = Fixtures.run("--compare", Fixtures.path("results-a.json").toString(), "--chart",
        svg.toString());
    assertEquals(0, r.status(), r.err());
    String text = Files.readString(svg, StandardCharsets.UTF_8);
    assertTrue(text.contains("<svg"), text.substring(0, Math.min(200, text.length())));
    assertTrue(text.contains("forwardBackward throughput"), "title missing");
  }

  @Test
  void runTableShowsSpeedupAndAllocation() {
    String t = Reports.runTable(ResultFile.read(Fixtures.path("results-a.json")));
    String[] ova = row(t.replace("one_vs_all  65536  16", "one_vs_all 65536 16 x"),
        "one_vs_all", "x");
    // form N C x scalar vector speedup scalarB/op vectorB/op
    assertEquals(List.of("100", "1000", "10.0x", "n/a", "0.0"),
        Arrays.asList(ova).subList(4, 9));
    assertTrue(t.startsWith("form"), t);
    assertTrue(t.contains("scalar Melem/s  vector Melem/s  speedup"), t);
  }

  @Test
  void runTableMarksAMissingVectorKernel() {
    ResultFile a = ResultFile.read(Fixtures.path("results-a.json"));
    ResultFile scalarOnly = new ResultFile(a.schema(), a.header(),
        a.results().stream().filter(e -> e.kernel().equals("SCALAR")).toList(), null);
    String t = Reports.runTable(scalarOnly);
    assertTrue(t.contains("scalar Melem/s  vector Melem/s  speedup"), t);
    String line = Arrays.stream(t.split("\\R")).filter(l -> l.startsWith("softmax")).findFirst()
        .orElseThrow();
    assertEquals(List.of("softmax", "65536", "16", "200", "n/a", "n/a"),
        Arrays.asList(line.trim().split("\\s+")));
  }
}
