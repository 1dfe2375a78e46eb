package dev.focalsimd.bench;

import dev.focalsimd.bench.Reports.RowKey;
import dev.focalsimd.bench.ResultFile.Entry;
import dev.focalsimd.bench.ResultFile.Peer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference implementations of shared/peers: focal_ref.c, built here with gcc with and
 * without -ffast-math and run in the same session, and torch_peer.py (PyTorch CPU, one thread),
 * run in the same session where a Python 3 with {@code torch} and {@code torchvision} is present
 * (Debian: {@code apt-get install python3-torch python3-torchvision}). Whatever is missing is
 * quoted from the peers README instead, marked so.
 */
final class Peers {

  static final String C_FAST = "C -ffast-math";
  static final String C_STRICT = "C strict";
  static final String TORCH = "PyTorch";

  /** The shapes focal_ref.c measures. */
  static final List<String> SHAPES = List.of("4096x16", "65536x16", "8192x1000", "16384x80");

  private static final Pattern OUTPUT_LINE =
      Pattern.compile("^(one_vs_all|softmax|sigmoid)\\s+(\\d+)\\s+(\\d+)\\s+([0-9.]+)\\s*$");
  private static final Pattern README_ROW = Pattern.compile(
      "^\\|\\s*(one_vs_all|softmax|sigmoid)\\s*\\|\\s*(\\d+)\\s*x\\s*(\\d+)\\s*\\|\\s*([0-9.]+)\\s*"
          + "\\|\\s*([0-9.]+)\\s*\\|\\s*([0-9.]+)\\s*\\|.*$");

  private Peers() {}

  /** The peers' files that bench.jar carries (resources under {@link #BUNDLED}). */
  static final List<String> BUNDLED_FILES = List.of("focal_ref.c", "torch_peer.py", "README.md");

  static final String BUNDLED = "peers/";

  /**
   * Finds the peers directory: the given one, else ../shared/peers or shared/peers (the
   * project's workspace), else the copy bench.jar carries, written to a temporary directory (so
   * that --peers and --like-ref work from a clone or another machine, where gcc is present).
   */
  static Path locate(String dir) {
    if (dir != null) {
      return checkGiven(dir, false);
    }
    for (String d : List.of("../shared/peers", "shared/peers")) {
      if (Files.isDirectory(Path.of(d))) {
        return Path.of(d);
      }
    }
    try {
      return bundled();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write bench.jar's copy of the peers", e);
    }
  }

  /**
   * A folder given with --peers-dir: a BenchException where it is missing or no folder, or, where
   * {@code anyFile}, holds none of {@link #BUNDLED_FILES} (--peers would then quote nothing and
   * measure nothing).
   */
  static Path checkGiven(String dir, boolean anyFile) {
    Path p = Path.of(dir);
    if (!Files.exists(p)) {
      throw new BenchException(dir + " not found (--peers-dir DIR)");
    }
    if (!Files.isDirectory(p)) {
      throw new BenchException(dir + " is not a directory (--peers-dir DIR)");
    }
    if (anyFile && BUNDLED_FILES.stream().noneMatch(f -> Files.isRegularFile(p.resolve(f)))) {
      throw new BenchException(dir + " holds none of " + String.join(", ", BUNDLED_FILES)
          + " (--peers-dir DIR)");
    }
    return p;
  }

  /**
   * bench.jar's copy of focal_ref.c, torch_peer.py and their README (a byte-for-byte copy of the
   * project's shared/peers; {@code PeersTest} fails where the two differ), written to a new
   * temporary directory that is deleted when the JVM exits.
   */
  static Path bundled() throws IOException {
    Path dir = Files.createTempDirectory("focal-simd-peers");
    dir.toFile().deleteOnExit();
    for (String name : BUNDLED_FILES) {
      try (InputStream in = Peers.class.getResourceAsStream(BUNDLED + name)) {
        if (in == null) {
          throw new IOException("bench.jar has no resource " + BUNDLED + name);
        }
        Path f = dir.resolve(name);
        Files.copy(in, f);
        f.toFile().deleteOnExit();
      }
    }
    return dir;
  }

  /**
   * Measures focal_ref.c where gcc and the source are present and torch_peer.py where a python3
   * has torch and torchvision, and adds the README's numbers for whatever was not measured.
   * Progress goes to {@code log}.
   */
  static List<Peer> collect(Path dir, PrintStream log) {
    List<Peer> peers = new ArrayList<>();
    Path src = dir.resolve("focal_ref.c");
    boolean measured = false;
    if (!Files.isRegularFile(src)) {
      log.println("peers: " + src + " not found; quoting the README's C numbers (--peers-dir DIR)");
    } else if (!gccWorks()) {
      log.println("peers: gcc not found; quoting the README's C numbers");
    } else {
      try {
        Path tmp = Files.createTempDirectory("focal_ref");
        try {
          peers.addAll(buildAndRun(src, tmp, true, log));
          peers.addAll(buildAndRun(src, tmp, false, log));
          measured = true;
        } finally {
          for (String f : List.of("focal_ref_fast", "focal_ref_strict")) {
            Files.deleteIfExists(tmp.resolve(f));
          }
          Files.deleteIfExists(tmp);
        }
      } catch (IOException | BenchException e) {
        log.println("peers: " + e.getMessage() + "; quoting the README's C numbers");
        peers.clear();
      }
    }
    boolean torchMeasured = false;
    Path script = dir.resolve("torch_peer.py");
    String python = Files.isRegularFile(script) ? torchPython() : null;
    if (!Files.isRegularFile(script)) {
      log.println("peers: " + script + " not found; quoting the README's PyTorch numbers");
    } else if (python == null) {
      log.println("peers: no python3 with torch and torchvision (Debian: apt-get install"
          + " python3-torch python3-torchvision); quoting the README's PyTorch numbers");
    } else {
      try {
        peers.addAll(runTorch(python, script, log));
        torchMeasured = true;
      } catch (IOException | BenchException e) {
        log.println("peers: " + e.getMessage() + "; quoting the README's PyTorch numbers");
      }
    }
    Path readme = dir.resolve("README.md");
    List<Peer> quoted = readme(readme);
    if (quoted.isEmpty()) {
      log.println("peers: no reference table in " + readme);
    }
    for (Peer p : quoted) {
      if (p.peer().equals(TORCH) ? !torchMeasured : !measured) {
        peers.add(p);
      }
    }
    return peers;
  }

  /**
   * The first of /usr/bin/python3 (the peers README's) and python3 on the PATH that imports torch
   * and torchvision, else null.
   */
  private static String torchPython() {
    for (String python : List.of("/usr/bin/python3", "python3")) {
      try {
        if (run(List.of(python, "-c", "import torch, torchvision"), 120, null).exit == 0) {
          return python;
        }
      } catch (IOException | BenchException e) {
        // not this one
      }
    }
    return null;
  }

  /** Runs torch_peer.py with one thread, as its README says; its lines as PyTorch's numbers. */
  private static List<Peer> runTorch(String python, Path script, PrintStream log)
      throws IOException {
    List<String> cmd = List.of(python, script.toString(), "1");
    log.println("peers: " + String.join(" ", cmd) + " (12 measurements, about 30 s)");
    Result r = run(cmd, 900, null);
    if (r.exit != 0) {
      throw new BenchException("torch_peer.py exited with " + r.exit + ": "
          + firstLine(r.output));
    }
    List<Peer> out = parse(TORCH, r.output);
    if (out.isEmpty()) {
      throw new BenchException("torch_peer.py printed no results: " + firstLine(r.output));
    }
    return out;
  }

  /** The 'form N C Melem/s' lines of a peer's output, as that peer's measured numbers. */
  static List<Peer> parse(String name, String output) {
    List<Peer> out = new ArrayList<>();
    for (String line : output.split("\\R")) {
      Matcher m = OUTPUT_LINE.matcher(line.trim());
      if (m.matches()) {
        out.add(new Peer(name, m.group(1), Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)), Double.parseDouble(m.group(4)), "measured"));
      }
    }
    return out;
  }

  private static boolean gccWorks() {
    try {
      return run(List.of("gcc", "--version"), 30, null).exit == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Builds focal_ref.c from dir into tmp, with -ffast-math where {@code fast}; returns the binary.
   */
  static Path buildRef(Path dir, Path tmp, boolean fast, PrintStream log) throws IOException {
    return build(buildableSource(dir), tmp, fast, log);
  }

  /** dir's focal_ref.c, where it exists and gcc runs; else a BenchException saying which. */
  private static Path buildableSource(Path dir) {
    Path src = dir.resolve("focal_ref.c");
    if (!Files.isRegularFile(src)) {
      throw new BenchException(src + " not found (--peers-dir DIR)");
    }
    if (!gccWorks()) {
      throw new BenchException("gcc not found");
    }
    return src;
  }

  /**
   * focal_ref.c's result line tests its summed losses only for NaN ({@code sink != sink}), which
   * -ffast-math (its -ffinite-math-only) folds to false: gcc then drops the loss sums as dead code
   * and times the gradient alone (read off gcc 12.2's one-vs-all loop: no accumulator; one-vs-all
   * ran 1.09x to 1.36x faster as given than with the loss kept, the README's "focal_ref.c with its
   * loss kept"). This is that test, which {@link #keepLoss} replaces.
   */
  static final String NAN_TEST = "sink != sink ? \" NaN\" : \"\"";

  /** What {@link #keepLoss} puts in place of {@link #NAN_TEST}: a call that stores the sum. */
  static final String KEEP_CALL = "focal_keep(sink)";

  /**
   * focal_ref.c's source with its loss sums kept: {@link #NAN_TEST} replaced by a call that stores
   * the sum in a volatile and returns the same text, so the program prints what it printed and
   * computes what its loop says, -ffast-math or not.
   *
   * @throws BenchException where the source has no {@link #NAN_TEST} or more than one, or has it
   *     outside a printf call's line (a comment, say, where replacing it would change nothing)
   */
  static String keepLoss(String source) {
    int at = source.indexOf(NAN_TEST);
    if (at < 0 || source.indexOf(NAN_TEST, at + 1) >= 0) {
      throw new BenchException("focal_ref.c: expected its result line's NaN test, "
          + NAN_TEST + ", once; cannot build it with the loss kept");
    }
    int lineStart = source.lastIndexOf('\n', at) + 1;
    String before = source.substring(lineStart, at);
    if (!before.contains("printf(") || before.contains("/*") || before.contains("//")) {
      throw new BenchException("focal_ref.c: its NaN test, " + NAN_TEST + ", is not in a printf"
          + " call's line; cannot build it with the loss kept");
    }
    return "static const char *focal_keep(double sink);\n"
        + source.substring(0, at) + KEEP_CALL + source.substring(at + NAN_TEST.length())
        + "\n/* added by bench.jar: the loss sums stored, so not dead code */\n"
        + "static const char *focal_keep(double sink) {\n"
        + "  static volatile double kept;\n"
        + "  kept = sink;\n"
        + "  return " + NAN_TEST + ";\n"
        + "}\n";
  }

  /**
   * Builds focal_ref.c from dir into tmp with -ffast-math and its loss sums kept ({@link
   * #keepLoss}; the source written to tmp as focal_ref_kept.c); returns the binary,
   * focal_ref_fast_kept.
   */
  static Path buildRefLossKept(Path dir, Path tmp, PrintStream log) throws IOException {
    Path src = buildableSource(dir);
    Path kept = tmp.resolve("focal_ref_kept.c");
    Files.writeString(kept, keepLoss(Files.readString(src, StandardCharsets.UTF_8)),
        StandardCharsets.UTF_8);
    return compile(kept, tmp.resolve("focal_ref_fast_kept"), true, log);
  }

  private static Path build(Path src, Path tmp, boolean fast, PrintStream log) throws IOException {
    return compile(src, tmp.resolve(fast ? "focal_ref_fast" : "focal_ref_strict"), fast, log);
  }

  /** gcc -O3 -march=native (-ffast-math where {@code fast}) src into exe. */
  private static Path compile(Path src, Path exe, boolean fast, PrintStream log)
      throws IOException {
    List<String> cc = new ArrayList<>(List.of("gcc", "-O3", "-march=native"));
    if (fast) {
      cc.add("-ffast-math");
    }
    cc.addAll(List.of("-o", exe.toString(), src.toString(), "-lm"));
    log.println("peers: " + String.join(" ", cc));
    Result build = run(cc, 120, null);
    if (build.exit != 0) {
      throw new BenchException("gcc failed (" + build.exit + "): " + firstLine(build.output));
    }
    return exe;
  }

  private static List<Peer> buildAndRun(Path src, Path tmp, boolean fast, PrintStream log)
      throws IOException {
    String name = fast ? C_FAST : C_STRICT;
    Path exe = build(src, tmp, fast, log);
    log.println("peers: running " + name + " (12 measurements, up to a minute)");
    Result r = run(List.of(exe.toString()), 600, null);
    if (r.exit != 0) {
      throw new BenchException(name + " exited with " + r.exit + ": " + firstLine(r.output));
    }
    List<Peer> out = parse(name, r.output);
    if (out.isEmpty()) {
      throw new BenchException(name + " printed no results: " + firstLine(r.output));
    }
    return out;
  }

  /** The README's table: form | N x C | C -ffast-math | C strict | PyTorch. */
  static List<Peer> readme(Path readme) {
    List<Peer> out = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return out;
    }
    for (String line : lines) {
      Matcher m = README_ROW.matcher(line.trim());
      if (m.matches()) {
        String form = m.group(1);
        int n = Integer.parseInt(m.group(2));
        int c = Integer.parseInt(m.group(3));
        out.add(new Peer(C_FAST, form, n, c, Double.parseDouble(m.group(4)), "README"));
        out.add(new Peer(C_STRICT, form, n, c, Double.parseDouble(m.group(5)), "README"));
        out.add(new Peer(TORCH, form, n, c, Double.parseDouble(m.group(6)), "README"));
      }
    }
    return out;
  }

  /**
   * Our scalar and vector numbers beside the peers', with the ratios issue 4 sets goals on:
   * vector / C -ffast-math (goal 1.25), vector / PyTorch (goal 15), scalar / C strict (goal 0.8).
   */
  static String table(ResultFile file) {
    List<Peer> peers = file.peers() == null ? List.of() : file.peers();
    Map<RowKey, Map<String, Entry>> rows = Reports.byRow(file.results());
    List<String> head = List.of("form", "N", "C", "scalar", "vector", C_FAST, C_STRICT,
        TORCH, "vector/C-fast", "vector/PyTorch", "scalar/C-strict");
    TextTable t = new TextTable(1, head);
    List<RowKey> keys = new ArrayList<>();
    for (Peer p : peers) {
      RowKey k = new RowKey(p.form(), p.form(), p.n(), p.c());
      if (!keys.contains(k)) {
        keys.add(k);
      }
    }
    keys.sort(Reports.ROW_ORDER);
    for (RowKey k : keys) {
      Map<String, Entry> ours = rows.getOrDefault(k, Map.of());
      Double scalar = Reports.melem(ours.get("SCALAR"));
      Double vector = Reports.melem(ours.get("VECTOR"));
      Double fast = peer(peers, C_FAST, k);
      Double strict = peer(peers, C_STRICT, k);
      Double torch = peer(peers, TORCH, k);
      t.add(List.of(k.form(), Integer.toString(k.n()), Integer.toString(k.c()),
          TextTable.melem(scalar), TextTable.melem(vector), TextTable.melem(fast),
          TextTable.melem(strict), TextTable.melem(torch), TextTable.ratio(vector, fast),
          TextTable.ratio(vector, torch), TextTable.ratio(scalar, strict)));
    }
    StringBuilder sb = new StringBuilder(t.render());
    for (String name : List.of(C_FAST, C_STRICT, TORCH)) {
      String source = peers.stream().filter(p -> p.peer().equals(name)).map(Peer::source)
          .findFirst().orElse("none");
      sb.append(String.format(Locale.ROOT, "%-14s %s%n", name + ":",
          source.equals("measured") ? "measured in this run on this machine"
              : source.equals("README") ? "quoted from the peers README (another day, maybe another machine)"
              : "not available"));
    }
    sb.append("Goals (issue 4): vector/C-fast >= 1.25, vector/PyTorch >= 15, scalar/C-strict >= 0.8\n");
    return sb.toString();
  }

  private static Double peer(List<Peer> peers, String name, RowKey k) {
    return peers.stream()
        .filter(p -> p.peer().equals(name) && p.form().equals(k.form()) && p.n() == k.n()
            && p.c() == k.c())
        .max(Comparator.comparing(p -> p.source().equals("measured") ? 1 : 0))
        .map(Peer::melemPerSec).orElse(null);
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> cmd, int timeoutSeconds, Path dir) throws IOException {
    Path log = Files.createTempFile("focal_ref", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(log.toFile());
      if (dir != null) {
        pb.directory(dir.toFile());
      }
      Process p = pb.start();
      p.getOutputStream().close();
      try {
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new BenchException(cmd.get(0) + " did not finish in " + timeoutSeconds + " s");
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted");
      }
      return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }
}
