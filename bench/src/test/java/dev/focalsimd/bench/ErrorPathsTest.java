package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad options and bad files: one line on stderr, exit status 2, nothing on stdout. */
class ErrorPathsTest {

  static void oneLineError(Fixtures.Run r, String expected) {
    assertEquals(2, r.status(), r.out() + r.err());
    assertEquals("", r.out());
    String err = r.err().strip();
    assertEquals(1, err.lines().count(), err);
    assertTrue(err.startsWith("bench: error: "), err);
    assertTrue(err.contains(expected), err);
    assertTrue(!err.contains("\tat "), err);
  }

  @Test
  void unknownOption() {
    oneLineError(Fixtures.run("--frobnicate"), "unknown option --frobnicate");
  }

  @Test
  void unknownJmhOption() {
    oneLineError(Fixtures.run("-frobnicate"), "JMH rejected the arguments [-frobnicate]");
  }

  @Test
  void missingValue() {
    oneLineError(Fixtures.run("--out"), "--out needs a value");
    oneLineError(Fixtures.run("--compare"), "--compare needs one or more result files");
  }

  @Test
  void conflictingProfiles() {
    oneLineError(Fixtures.run("--quick", "--full"), "exclude each other");
  }

  @Test
  void likeRefTakesNoRunOptions() {
    oneLineError(Fixtures.run("--like-ref", "--full"), "--like-ref takes --peers-dir only");
    oneLineError(Fixtures.run("--like-ref", "-f", "1"), "--like-ref takes --peers-dir only");
    oneLineError(Fixtures.run("--like-ref-scalar", "--widths"),
        "--like-ref-scalar takes --peers-dir only");
    oneLineError(Fixtures.run("--like-ref", "--like-ref-scalar"),
        "--like-ref and --like-ref-scalar exclude each other");
  }

  @Test
  void likeRefWithoutTheReferenceSource(@TempDir Path dir) {
    oneLineError(Fixtures.run("--like-ref", "--peers-dir", dir.toString()),
        dir.resolve("focal_ref.c") + " not found");
    oneLineError(Fixtures.run("--like-ref-scalar", "--peers-dir", dir.toString()),
        dir.resolve("focal_ref.c") + " not found");
  }

  @Test
  void compareTakesNoRunOptions() {
    oneLineError(Fixtures.run("--compare", Fixtures.path("results-a.json").toString(), "--full"),
        "--compare takes result files and --chart only");
    oneLineError(Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        "--like-ref-scalar"), "--compare takes result files and --chart only");
  }

  @Test
  void missingFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.json");
    oneLineError(Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        missing.toString()), missing + ": no such file");
  }

  @Test
  void directoryInsteadOfFile(@TempDir Path dir) {
    oneLineError(Fixtures.run("--compare", dir.toString()), "is a directory");
  }

  @Test
  void malformedJson() {
    oneLineError(Fixtures.run("--compare", Fixtures.path("malformed.json").toString()),
        "malformed JSON");
  }

  @Test
  void emptyFile(@TempDir Path dir) throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.json"));
    oneLineError(Fixtures.run("--compare", empty.toString()), "not a bench result file");
  }

  @Test
  void jsonThatIsNotAResultFile() {
    oneLineError(Fixtures.run("--compare", Fixtures.path("not-results.json").toString()),
        "not a bench result file (schema is null");
  }

  @Test
  void entryWithoutRows() {
    oneLineError(Fixtures.run("--compare", Fixtures.path("bad-entry.json").toString()),
        "results[0] has n = 0");
  }

  @Test
  void outputThatCannotBeWrittenFailsBeforeRunning(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("plain-file"), "x");
    oneLineError(Fixtures.run("--smoke", "--out", file.resolve("r.json").toString()),
        "cannot create");
    oneLineError(Fixtures.run("--smoke", "--out", dir.toString()), "is a directory");
  }

  @Test
  void chartNeedsPngOrSvg(@TempDir Path dir) {
    oneLineError(Fixtures.run("--compare", Fixtures.path("results-a.json").toString(), "--chart",
        dir.resolve("c.gif").toString()), "must end in .png or .svg");
  }
}
