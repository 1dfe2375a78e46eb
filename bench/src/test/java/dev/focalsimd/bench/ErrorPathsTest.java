package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  // ---------------------------------------------------- an adversarial tester's finds, one each

  /** The smoke run a tester tried each bad option on (seconds where it runs at all). */
  private static Fixtures.Run smoke(String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("--smoke", "-p", "form=sigmoid", "-p",
        "shape=512x16", "-p", "kernel=SCALAR"));
    args.addAll(List.of(more));
    return Fixtures.run(args.toArray(new String[0]));
  }

  /** A copy of results-a.json with one piece of text replaced, in dir. */
  private static Path variant(Path dir, String name, String text, String replacement)
      throws Exception {
    String a = Files.readString(Fixtures.path("results-a.json"), StandardCharsets.UTF_8);
    assertTrue(a.contains(text), text);
    return Files.writeString(dir.resolve(name), a.replace(text, replacement),
        StandardCharsets.UTF_8);
  }

  /**
   * JMH reads validate with Boolean.valueOf (FALSE, maybe: the checks off) where the file would
   * have called the run checked: only true and false are taken.
   */
  @Test
  void validateIsTrueOrFalse() {
    oneLineError(smoke("-p", "validate=FALSE,maybe,true"),
        "-p validate=FALSE,maybe,true: validate is true or false, not FALSE");
    oneLineError(smoke("-p", "validate=maybe"), "validate is true or false, not maybe");
  }

  /** An existing --out file that cannot be overwritten: found before the run, with the reason. */
  @Test
  void readOnlyOutFileFailsBeforeRunning(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("old.json"), "{}");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    assumeFalse(Files.isWritable(file), "root writes read-only files");
    oneLineError(smoke("--out", file.toString()), "--out " + file
        + ": cannot overwrite it: permission denied");
  }

  @Test
  void unwritableOutFolderSaysWhy(@TempDir Path dir) throws Exception {
    inReadOnlyFolder(dir.resolve("ro"), ro -> oneLineError(
        smoke("--out", ro.resolve("r.json").toString()),
        "cannot write in " + ro + ": permission denied"));
  }

  private interface FolderCheck {
    void run(Path folder) throws Exception;
  }

  /**
   * Runs check on a new read-only folder (skipped where the user writes in it anyway: root), and
   * makes the folder writable again afterwards so that JUnit can delete it.
   */
  private static void inReadOnlyFolder(Path folder, FolderCheck check) throws Exception {
    Path ro = Files.createDirectory(folder);
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeFalse(Files.isWritable(ro), "root writes in read-only folders");
      check.run(ro);
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /** The default bench-results/ folder: checked before the run, with the reason. */
  @Test
  void defaultResultsFolderThatCannotBeCreated(@TempDir Path dir) throws Exception {
    Path inTheWay = Files.writeString(dir.resolve("bench-results"), "a file, not a folder");
    BenchException e = assertThrows(BenchException.class,
        () -> BenchMain.checkResultsFolder(inTheWay));
    assertEquals("cannot save the results in bench-results/: cannot create " + inTheWay
        + ": it exists and is not a directory (--out FILE saves them elsewhere)", e.getMessage());
    // the tester's command, `java -jar bench.jar --smoke` where bench-results is a file: exit 2
    // before the probe and the run, one line on stderr
    String classPath = java.util.Arrays.stream(System.getProperty("java.class.path")
        .split(java.io.File.pathSeparator)).map(c -> Path.of(c).toAbsolutePath().toString())
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", classPath, BenchMain.class.getName(), "--smoke")
        .directory(dir.toFile()).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    oneLineError(new Fixtures.Run(p.exitValue(), out, err), "cannot create " + inTheWay
        .toRealPath() + ": it exists and is not a directory");
  }

  @Test
  void unwritableDefaultResultsFolder(@TempDir Path dir) throws Exception {
    inReadOnlyFolder(dir.resolve("bench-results"), ro -> {
      BenchException e = assertThrows(BenchException.class,
          () -> BenchMain.checkResultsFolder(ro));
      assertTrue(e.getMessage().contains("cannot write in " + ro + ": permission denied"),
          e.getMessage());
    });
  }

  /** A file that exists but cannot be read is not "no such file". */
  @Test
  void unreadableFileSaysWhy(@TempDir Path dir) throws Exception {
    Path plain = Files.writeString(dir.resolve("plain-file"), "x");
    oneLineError(Fixtures.run("--compare", plain.resolve("a.json").toString()),
        plain.resolve("a.json") + ": cannot read: Not a directory");
    Path locked = Files.copy(Fixtures.path("results-a.json"), dir.resolve("locked.json"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    assumeFalse(Files.isReadable(locked), "root reads unreadable files");
    oneLineError(Fixtures.run("--compare", locked.toString()),
        locked + ": cannot read: permission denied");
  }

  /** Only the schema this bench reads, not any focal-simd-bench/ version. */
  @Test
  void otherSchemaVersions(@TempDir Path dir) throws Exception {
    for (String schema : new String[] {"focal-simd-bench/2", "focal-simd-bench/"}) {
      Path f = variant(dir, "s.json", "focal-simd-bench/1", schema);
      oneLineError(Fixtures.run("--compare", f.toString()),
          "not a bench result file (schema is " + schema + ", expected focal-simd-bench/1)");
    }
  }

  /** JMH option mistakes that escaped as exceptions (exit 1) or named nothing. */
  @Test
  void jmhOptionsThatJmhFailsOnLate() {
    oneLineError(smoke("-bm", "foo"), "-bm foo: unknown benchmark mode foo (JMH's: Throughput/thrpt");
    oneLineError(smoke("-bm", "thrpt,foo"), "unknown benchmark mode foo");
    oneLineError(smoke("-jvm", "/nonexistent/java"), "-jvm /nonexistent/java: no such file");
    oneLineError(smoke("-jvm", "/nonexistent-java-for-a-test"), "no such file");
    oneLineError(smoke("-jvm", "no-such-java-for-a-test"), "not found on the PATH");
    oneLineError(smoke("-prof", "nosuch"), "-prof nosuch: no such profiler");
    oneLineError(smoke("-prof", "java.lang.String"), "-prof java.lang.String: not a JMH profiler");
  }

  @Test
  void jvmThatIsNotExecutable(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("java"), "not a program");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    oneLineError(smoke("-jvm", f.toString()), "-jvm " + f + ": not executable");
    oneLineError(smoke("-jvm", dir.toString()), "-jvm " + dir + ": not a file");
  }

  /** A --peers-dir that is not there: an error, as with --like-ref, not an empty peers table. */
  @Test
  void missingPeersDir(@TempDir Path dir) {
    Path missing = dir.resolve("nonexistent");
    oneLineError(Fixtures.run("--peers", "--peers-dir", missing.toString()),
        missing + " not found (--peers-dir DIR)");
    oneLineError(Fixtures.run("--peers", "--peers-dir", dir.toString()),
        dir + " holds none of focal_ref.c, torch_peer.py, README.md (--peers-dir DIR)");
    oneLineError(Fixtures.run("--like-ref", "--peers-dir", missing.toString()),
        missing + " not found (--peers-dir DIR)");
    oneLineError(Fixtures.run("--smoke", "--peers-dir", dir.toString()),
        "--peers-dir goes with --peers, --like-ref or --like-ref-scalar");
  }

  /** kernel exactly SCALAR or VECTOR: others were shown as vector variants, the speedup lost. */
  @Test
  void kernelOtherThanScalarOrVector(@TempDir Path dir) throws Exception {
    Path foo = variant(dir, "foo.json", "\"kernel\" : \"VECTOR\"", "\"kernel\" : \"FOO\"");
    oneLineError(Fixtures.run("--compare", foo.toString()),
        foo + ": malformed bench result file: results[1] has kernel = FOO; must be SCALAR or VECTOR");
    Path lower = variant(dir, "lower.json", "\"kernel\" : \"SCALAR\"", "\"kernel\" : \"scalar\"");
    oneLineError(Fixtures.run("--compare", lower.toString()),
        lower + ": malformed bench result file: results[0] has kernel = scalar");
  }

  /** Repeated options kept their last value silently; --compare ignored --verbose, --peers-dir. */
  @Test
  void repeatedOptions(@TempDir Path dir) {
    String a = Fixtures.path("results-a.json").toString();
    String b = Fixtures.path("results-b.json").toString();
    oneLineError(Fixtures.run("--compare", a, "--compare", b), "--compare given twice");
    oneLineError(Fixtures.run("--smoke", "--out", dir.resolve("a.json").toString(), "--out",
        dir.resolve("b.json").toString()), "--out given twice");
    oneLineError(Fixtures.run("--compare", a, "--chart", dir.resolve("a.svg").toString(),
        "--chart", dir.resolve("b.svg").toString()), "--chart given twice");
    oneLineError(Fixtures.run("--peers", "--peers-dir", "x", "--peers-dir", "y"),
        "--peers-dir given twice");
    oneLineError(Fixtures.run("--compare", a, "--verbose"),
        "--compare takes result files and --chart only");
    oneLineError(Fixtures.run("--compare", a, "--peers-dir", dir.toString()),
        "--compare takes result files and --chart only");
    assertFalse(Files.exists(dir.resolve("a.svg")));
  }

  @Test
  void invalidBenchmarkRegex() {
    oneLineError(Fixtures.run("["), "benchmark regex [: not a valid regex (Unclosed character class");
    oneLineError(Fixtures.run("-e", "("), "-e (: not a valid regex (Unclosed group");
    oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2", "-e", "("),
        "-e (: not a valid regex");
  }

  /** Path drops a trailing separator: "newdir/" wrote a file named newdir. */
  @Test
  void outEndingInASeparator(@TempDir Path dir) {
    String out = dir.resolve("newdir") + "/";
    oneLineError(smoke("--out", out), "--out " + out + ": names a folder; give a file name");
    assertFalse(Files.exists(dir.resolve("newdir")));
  }

  /** A file with no results (a header-only run's) compared, with a chart: not an empty chart. */
  @Test
  void compareFileWithoutResults(@TempDir Path dir) throws Exception {
    String a = Files.readString(Fixtures.path("results-a.json"), StandardCharsets.UTF_8);
    Path empty = Files.writeString(dir.resolve("empty.json"),
        a.substring(0, a.indexOf("\"results\"")) + "\"results\" : [ ]\n}\n",
        StandardCharsets.UTF_8);
    Path chart = dir.resolve("c.svg");
    oneLineError(Fixtures.run("--compare", empty.toString(), "--chart", chart.toString()),
        empty + ": no results to compare");
    assertFalse(Files.exists(chart));
    oneLineError(Fixtures.run("--compare", Fixtures.path("results-a.json").toString(),
        empty.toString()), empty + ": no results to compare");
  }

  /** "header": {} was shown as "null, 0 cores | JDK null". */
  @Test
  void headerWithoutItsFields(@TempDir Path dir) throws Exception {
    String a = Files.readString(Fixtures.path("results-a.json"), StandardCharsets.UTF_8);
    Path f = Files.writeString(dir.resolve("h.json"), a.substring(0, a.indexOf("\"header\""))
        + "\"header\" : { },\n  " + a.substring(a.indexOf("\"results\"")),
        StandardCharsets.UTF_8);
    oneLineError(Fixtures.run("--compare", f.toString()), f + ": malformed bench result file:"
        + " the header lacks benchVersion, profile, date, cpuModel, jdkVersion, cores");
    Path noCpu = variant(dir, "cpu.json", "\"cpuModel\" : \"Hand-made CPU A 512\",", "");
    oneLineError(Fixtures.run("--compare", noCpu.toString()), "the header lacks cpuModel (");
  }
}
