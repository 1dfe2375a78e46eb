package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.focalsimd.bench.ResultFile.Peer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeersTest {

  @Test
  void readsTheReadmeTable() {
    List<Peer> peers = Peers.readme(Fixtures.path("peers-README.md"));
    assertEquals(6, peers.size());
    assertEquals(new Peer(Peers.C_FAST, "one_vs_all", 65536, 16, 1500, "README"), peers.get(0));
    assertEquals(new Peer(Peers.TORCH, "softmax", 65536, 16, 300, "README"), peers.get(5));
  }

  @Test
  void parsesAPeersOutputLines() {
    // torch_peer.py's and focal_ref.c's output: 'form N C Melem/s', other lines ignored
    String output = "one_vs_all 4096 16 146.9\nsome warning\nsoftmax 8192 1000 523.0\n";
    assertEquals(List.of(new Peer(Peers.TORCH, "one_vs_all", 4096, 16, 146.9, "measured"),
        new Peer(Peers.TORCH, "softmax", 8192, 1000, 523.0, "measured")),
        Peers.parse(Peers.TORCH, output));
  }

  @Test
  void tablePutsOurNumbersBesideThePeers() {
    ResultFile a = ResultFile.read(Fixtures.path("results-a.json"));
    List<Peer> peers = new ArrayList<>(Peers.readme(Fixtures.path("peers-README.md")));
    peers.add(new Peer(Peers.C_FAST, "softmax", 65536, 16, 640, "measured"));
    String t = Peers.table(new ResultFile(a.schema(), a.header(), a.results(), peers));
    String ova = Arrays.stream(t.split("\\R")).filter(l -> l.startsWith("one_vs_all"))
        .findFirst().orElseThrow();
    // ours 100 / 1000; C fast 1500, strict 120, torch 100
    assertEquals(List.of("one_vs_all", "65536", "16", "100", "1000", "1500", "120", "100",
        "0.67x", "10.0x", "0.83x"), Arrays.asList(ova.trim().split("\\s+")));
    String softmax = Arrays.stream(t.split("\\R")).filter(l -> l.startsWith("softmax"))
        .findFirst().orElseThrow();
    // the measured C number wins over the README's: 800 / 640 = 1.25
    assertTrue(softmax.contains(" 640 ") && softmax.contains("1.25x"), softmax);
  }

  /**
   * bench.jar carries focal_ref.c, torch_peer.py and their README, so that --peers and --like-ref
   * work from a clone (where the project's shared/peers is absent): written out whole, and the
   * README's table read from the copy (12 cells, 3 peers each).
   */
  @Test
  void theBundledPeersAreWrittenOut() throws IOException {
    Path dir = Peers.bundled();
    for (String name : Peers.BUNDLED_FILES) {
      assertTrue(Files.size(dir.resolve(name)) > 0, name + " is empty in " + dir);
    }
    assertEquals(36, Peers.readme(dir.resolve("README.md")).size());
  }

  /**
   * The bundled copy has the bytes of the project's shared/peers, where that exists beside the
   * checkout (skipped on a clean clone, saying why). To refresh it from the repository root: {@code
   * cp ../shared/peers/{focal_ref.c,torch_peer.py,README.md}
   * bench/src/main/resources/dev/focalsimd/bench/peers/}.
   */
  @Test
  void theBundledPeersMatchSharedPeers() throws IOException {
    Path shared = Path.of("../../shared/peers"); // Maven runs the tests in bench/
    assumeTrue(Files.isDirectory(shared), () -> shared.toAbsolutePath().normalize()
        + " does not exist: no canonical copy to compare the bundled peers with (expected on a"
        + " clean clone and on GitHub Actions)");
    Path dir = Peers.bundled();
    for (String name : Peers.BUNDLED_FILES) {
      assertEquals(-1L, Files.mismatch(shared.resolve(name), dir.resolve(name)),
          name + ": bench.jar's copy differs from " + shared + " (first differing byte)");
    }
  }

  /**
   * focal_ref.c with its loss kept: the bundled source's NaN test replaced by the call that stores
   * the sum (once), and the result compiles with -ffast-math where gcc is present; a source without
   * that test, with it twice, or with it only in a comment is refused, naming it. (That the build
   * keeps the sums was read off its disassembly and timed, not tested here: its run takes a
   * minute.)
   */
  @Test
  void focalRefBuildsWithItsLossKept() throws IOException {
    Path dir = Peers.bundled();
    String source = Files.readString(dir.resolve("focal_ref.c"));
    String kept = Peers.keepLoss(source);
    assertFalse(kept.substring(0, kept.indexOf("/* added by bench.jar")).contains(Peers.NAN_TEST));
    assertEquals(kept.indexOf(Peers.KEEP_CALL), kept.lastIndexOf(Peers.KEEP_CALL));
    assertTrue(kept.contains("kept = sink;"));
    BenchException e = assertThrows(BenchException.class,
        () -> Peers.keepLoss(source.replace(Peers.NAN_TEST, "\"\"")));
    assertTrue(e.getMessage().contains(Peers.NAN_TEST), e.getMessage());
    assertThrows(BenchException.class, () -> Peers.keepLoss(source + Peers.NAN_TEST));
    String commented = source.replace(Peers.NAN_TEST, "\"\"") + "\n/* " + Peers.NAN_TEST + " */\n";
    assertThrows(BenchException.class, () -> Peers.keepLoss(commented));
    boolean gcc;
    try {
      gcc = new ProcessBuilder("gcc", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
    } catch (IOException | InterruptedException x) {
      gcc = false;
    }
    assumeTrue(gcc, "gcc not found: the loss-kept source not compiled");
    Path tmp = Files.createTempDirectory("focal_ref_kept_test");
    try {
      Path exe = Peers.buildRefLossKept(dir, tmp, new java.io.PrintStream(
          java.io.OutputStream.nullOutputStream()));
      assertTrue(Files.isExecutable(exe), exe + " not built");
    } finally {
      for (String f : List.of("focal_ref_fast_kept", "focal_ref_kept.c")) {
        Files.deleteIfExists(tmp.resolve(f));
      }
      Files.deleteIfExists(tmp);
    }
  }
}
