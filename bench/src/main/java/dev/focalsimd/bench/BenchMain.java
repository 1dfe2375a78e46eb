package dev.focalsimd.bench;

import dev.focalsimd.Kernel;
import dev.focalsimd.bench.ResultFile.Entry;
import dev.focalsimd.bench.ResultFile.Header;
import dev.focalsimd.bench.ResultFile.Secondary;
import dev.focalsimd.bench.ResultFile.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.ProfilerException;
import org.openjdk.jmh.profile.ProfilerFactory;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.ProfilerConfig;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code java -jar bench.jar}: the scalar and vector kernels compared on this CPU, saved as JSON,
 * and comparisons of saved results. Options of its own begin with "--" (see {@link #USAGE});
 * everything else goes to JMH unchanged.
 */
public final class BenchMain {

  static final String USAGE = String.join("\n",
      "Usage: java -jar bench.jar [bench options] [JMH options]",
      "",
      "With no arguments: the quick profile, scalar vs vector forwardBackward of the three forms",
      "on 4 shapes (about 3 minutes), a table, and a JSON results file.",
      "",
      "Bench options:",
      "  --quick            quick profile (the default): 1 fork, 3 x 0.4 s warmup, 3 x 0.8 s measurement,",
      "                     shapes 65536x16 16384x80 8192x1000 4096x21",
      "  --full             full profile: 3 forks, 5 x 1 s warmup, 5 x 1 s measurement,",
      "                     shapes 4096x16 65536x16 8192x1000 16384x80 4096x21",
      "  --smoke            half-minute check: 1 fork, 1 x 100 ms warmup, 2 x 100 ms measurement,",
      "                     shapes 512x16 256x21",
      "  --widths           also run the vector kernel at 256 and 128 bits (forks with",
      "                     -XX:MaxVectorSize=32 and =16) beside the preferred width and scalar",
      "  --peers            focal_ref.c's 4 shapes; builds and runs focal_ref.c with gcc (with and",
      "                     without -ffast-math) and torch_peer.py (where python3 has torch and",
      "                     torchvision) and prints their numbers beside ours (the README's where",
      "                     one cannot run)",
      "  --peers-dir DIR    where focal_ref.c and its README are (default ../shared/peers, then",
      "                     shared/peers, then the copy in bench.jar)",
      "  --like-ref         the vector kernel timed as focal_ref.c times itself (best of 30 calls),",
      "                     in 5 rounds alternating with focal_ref.c -ffast-math, as given and with",
      "                     its loss sums kept (which -ffast-math drops; about a minute)",
      "  --like-ref-scalar  the same for the scalar kernel against focal_ref.c built without",
      "                     -ffast-math (about three and a half minutes)",
      "  --paired NAME=A,B  with a benchmark regex: two values of one of its parameters in",
      "                     alternating JMH runs (one fork each, other parameters fixed), the",
      "                     ratio B/A taken per round: for machines whose speed drifts; e.g.",
      "                     OptionsBench --paired parallelism=1,2 -wi 3 -w 500ms -i 3 -r 500ms",
      "  --rounds N         rounds of --paired (default 5)",
      "  --extras           also the direct FloatBuffer and the dense vs class-index benchmarks",
      "  --out FILE         where to save the results (default bench-results/<cpu>_jdk<v>_<date>.json)",
      "  --chart FILE       draw a grouped bar chart, FILE ending in .png or .svg",
      "  --compare F1 [F2 ...]  print saved result files side by side (with --chart: as a chart)",
      "  --verbose          JMH's own output instead of one line per benchmark",
      "  --help             this text (-h prints JMH's options)",
      "",
      "JMH options (-f, -wi, -i, -w, -r, -p name=v1,v2, -prof gc, a benchmark regex, -h, -l, ...)",
      "go to JMH. Without a bench profile option they run exactly as JMH would (the annotations'",
      "settings are the full profile's); with one, they override the profile's settings.",
      "Add JVM flags to the forks with -jvmArgsAppend: -jvmArgsPrepend on the command line",
      "replaces the benchmarks' --add-modules=jdk.incubator.vector.");

  /**
   * Per-fork overhead (JVM start, input generation, priming) used for the time estimate until
   * the first benchmark has finished.
   */
  static final double FORK_OVERHEAD_SECONDS = 2.0;

  private BenchMain() {}

  public static void main(String[] args) {
    int rc;
    try {
      rc = run(args, System.out, System.err);
    } catch (RuntimeException | LinkageError e) {
      System.err.println("bench: error: " + e);
      rc = 1;
    }
    System.out.flush();
    System.exit(rc);
  }

  /** The whole program, without System.exit; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      Cli cli = Cli.parse(args);
      if (cli.help) {
        out.println(USAGE);
        return 0;
      }
      if (cli.compare != null) {
        return compare(cli, out);
      }
      if (cli.likeRef || cli.likeRefScalar) {
        return likeRef(cli, out);
      }
      if (cli.paired != null) {
        return paired(cli, out);
      }
      if (cli.rounds != null) {
        throw new BenchException("--rounds goes with --paired");
      }
      if (cli.peersDir != null && !cli.peers) {
        throw new BenchException("--peers-dir goes with --peers, --like-ref or --like-ref-scalar");
      }
      return bench(cli, out, err);
    } catch (BenchException e) {
      err.println("bench: error: " + e.getMessage());
      return 2;
    }
  }

  // ------------------------------------------------------------------ options

  /** The bench's own options; everything else is kept for JMH. */
  static final class Cli {
    String settings; // quick, full, smoke, or null
    boolean peers;
    boolean likeRef;
    boolean likeRefScalar;
    Paired.Spec paired;
    Integer rounds;
    boolean widths;
    boolean extras;
    boolean verbose;
    boolean help;
    String peersDir;
    String out;
    String chart;
    List<String> compare;
    final List<String> jmh = new ArrayList<>();
    final List<String> raw = new ArrayList<>();

    /** JMH options whose next argument is a value, even one that begins with "--". */
    private static final Set<String> JMH_VALUED = Set.of("-jvm", "-jvmArgs", "-jvmArgsAppend",
        "-jvmArgsPrepend", "-p", "-prof", "-o", "-rff", "-e");

    static Cli parse(String[] args) {
      Cli c = new Cli();
      c.raw.addAll(List.of(args));
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String value = null;
        if (a.startsWith("--") && a.contains("=")) {
          value = a.substring(a.indexOf('=') + 1);
          a = a.substring(0, a.indexOf('='));
        }
        switch (a) {
          case "--quick":
          case "--full":
          case "--smoke":
            noValue(a, value);
            if (c.settings != null && !c.settings.equals(a.substring(2))) {
              throw new BenchException(a + " and --" + c.settings + " exclude each other");
            }
            c.settings = a.substring(2);
            break;
          case "--peers":
            noValue(a, value);
            c.peers = true;
            break;
          case "--widths":
            noValue(a, value);
            c.widths = true;
            break;
          case "--like-ref":
            noValue(a, value);
            c.likeRef = true;
            break;
          case "--like-ref-scalar":
            noValue(a, value);
            c.likeRefScalar = true;
            break;
          case "--extras":
            noValue(a, value);
            c.extras = true;
            break;
          case "--verbose":
            noValue(a, value);
            c.verbose = true;
            break;
          case "--help":
          case "--help-bench":
            c.help = true;
            break;
          case "--out":
          case "--chart":
          case "--peers-dir":
          case "--paired":
          case "--rounds":
            if (value == null) {
              if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                throw new BenchException(a + " needs a value");
              }
              value = args[++i];
            }
            if (value.isEmpty()) {
              throw new BenchException(a + " needs a value");
            }
            if (a.equals("--paired")) {
              if (c.paired != null) {
                throw new BenchException("--paired given twice: one parameter per run");
              }
              c.paired = Paired.Spec.parse(value);
            } else if (a.equals("--rounds")) {
              once(a, c.rounds);
              c.rounds = rounds(value);
            } else if (a.equals("--out")) {
              once(a, c.out);
              c.out = value;
            } else if (a.equals("--chart")) {
              once(a, c.chart);
              c.chart = value;
            } else {
              once(a, c.peersDir);
              c.peersDir = value;
            }
            break;
          case "--compare":
            if (c.compare != null) {
              throw new BenchException("--compare given twice: name all the files after one"
                  + " --compare");
            }
            c.compare = new ArrayList<>();
            if (value != null) {
              c.compare.add(value);
            }
            while (i + 1 < args.length && !args[i + 1].startsWith("-")) {
              c.compare.add(args[++i]);
            }
            if (c.compare.isEmpty()) {
              throw new BenchException("--compare needs one or more result files");
            }
            break;
          default:
            if (a.startsWith("--")) {
              boolean valueOfJmhOption = i > 0 && JMH_VALUED.contains(args[i - 1]);
              if (!valueOfJmhOption) {
                throw new BenchException("unknown option " + args[i]
                    + " (" + jar() + " --help lists them)");
              }
            }
            c.jmh.add(args[i]);
        }
      }
      if (c.chart != null && !c.chart.toLowerCase(Locale.ROOT).matches(".*\\.(png|svg)$")) {
        throw new BenchException("--chart " + c.chart + ": the file name must end in .png or .svg");
      }
      if (c.compare != null && (c.settings != null || c.peers || c.widths || c.extras
          || c.paired != null || c.rounds != null || c.likeRef || c.likeRefScalar
          || c.out != null || c.peersDir != null || c.verbose || !c.jmh.isEmpty())) {
        throw new BenchException("--compare takes result files and --chart only");
      }
      return c;
    }

    private static int rounds(String value) {
      int r;
      try {
        r = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        r = 0;
      }
      if (r < 1 || r > 100) {
        throw new BenchException("--rounds " + value + ": expected a whole number from 1 to 100");
      }
      return r;
    }

    /** A repeated option would silently keep its last value: rejected. */
    private static void once(String a, Object earlier) {
      if (earlier != null) {
        throw new BenchException(a + " given twice");
      }
    }

    private static void noValue(String a, String value) {
      if (value != null) {
        throw new BenchException(a + " takes no value");
      }
    }

    /** Whether a bench profile option was given (then JMH options only override it). */
    boolean profileGiven() {
      return settings != null || peers || widths || extras;
    }

    /** The profile's name for the results file: quick/full/smoke, +peers, +widths, +extras. */
    String profileName() {
      if (!profileGiven() && !jmh.isEmpty()) {
        return "jmh";
      }
      String name = settings == null ? "quick" : settings;
      if (peers) {
        name += "+peers";
      }
      if (widths) {
        name += "+widths";
      }
      if (extras) {
        name += "+extras";
      }
      return name;
    }
  }

  // ------------------------------------------------------------------ like-ref

  /**
   * Builds focal_ref.c, with -ffast-math for the vector kernel ({@code --like-ref}) or without for
   * the scalar one ({@code --like-ref-scalar}), and runs {@link LikeRef} in a JVM with the vector
   * module, its output passed through.
   */
  static int likeRef(Cli cli, PrintStream out) {
    String flag = cli.likeRefScalar ? "--like-ref-scalar" : "--like-ref";
    if (cli.likeRef && cli.likeRefScalar) {
      throw new BenchException("--like-ref and --like-ref-scalar exclude each other");
    }
    if (cli.settings != null || cli.peers || cli.widths || cli.extras || cli.out != null
        || cli.chart != null || !cli.jmh.isEmpty() || cli.paired != null || cli.rounds != null) {
      throw new BenchException(flag + " takes --peers-dir only");
    }
    Kernel kernel = cli.likeRefScalar ? Kernel.SCALAR : Kernel.VECTOR;
    Path jar;
    try {
      jar = Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new BenchException("cannot locate bench.jar: " + e.getMessage());
    }
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("focal_ref");
      Path dir = Peers.locate(cli.peersDir);
      Path exe = Peers.buildRef(dir, tmp, kernel == Kernel.VECTOR, out);
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
          "java").toString(), "--add-modules=jdk.incubator.vector", "-Xmx4g", "-cp",
          jar.toString(), LikeRef.class.getName(), exe.toString(),
          Integer.toString(LikeRef.DEFAULT_ROUNDS), kernel.name()));
      if (kernel == Kernel.VECTOR) {
        try {
          cmd.add(Peers.buildRefLossKept(dir, tmp, out).toString());
        } catch (BenchException | IOException e) {
          out.println("like-ref: " + e.getMessage() + " (no loss-kept column)");
        }
      }
      out.println("like-ref: " + String.join(" ", cmd));
      out.flush();
      Process p = new ProcessBuilder(cmd).inheritIO().start();
      return p.waitFor();
    } catch (IOException e) {
      throw new BenchException("like-ref: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    } finally {
      if (tmp != null) {
        try {
          for (String f : List.of("focal_ref_fast", "focal_ref_strict", "focal_ref_fast_kept",
              "focal_ref_kept.c")) {
            Files.deleteIfExists(tmp.resolve(f));
          }
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          out.println("like-ref: could not delete " + tmp);
        }
      }
    }
  }

  /**
   * The options left for JMH, parsed as JMH parses its command line, with the benchmark modes and
   * regexes checked (JMH lets a bad mode escape as an unchecked exception, and reads a regex that
   * does not compile as one that matches nothing).
   */
  static CommandLineOptions jmhOptions(Cli cli) {
    checkModes(cli.jmh);
    CommandLineOptions jmh;
    try {
      jmh = new CommandLineOptions(cli.jmh.toArray(new String[0]));
    } catch (CommandLineOptionException e) {
      throw new BenchException("JMH rejected the arguments " + cli.jmh + ": "
          + oneLine(e.getMessage()));
    } catch (RuntimeException e) { // JMH's checks that are not CommandLineOptionExceptions
      throw new BenchException("JMH rejected the arguments " + cli.jmh + ": "
          + oneLine(String.valueOf(e.getMessage())));
    }
    checkRegexes("benchmark regex", jmh.getIncludes());
    checkRegexes("-e", jmh.getExcludes());
    return jmh;
  }

  /** Each value of -bm, as JMH reads it (comma-separated, {@link Mode#deepValueOf}). */
  private static void checkModes(List<String> args) {
    for (int i = 0; i + 1 < args.size(); i++) {
      if (Cli.JMH_VALUED.contains(args.get(i))) {
        i++;
      } else if (args.get(i).equals("-bm")) {
        String value = args.get(++i);
        for (String m : value.split(",")) {
          try {
            Mode.deepValueOf(m);
          } catch (RuntimeException e) {
            throw new BenchException("-bm " + value + ": unknown benchmark mode " + m
                + " (JMH's: " + String.join(", ", Mode.getKnown()) + ")");
          }
        }
      }
    }
  }

  private static void checkRegexes(String option, List<String> regexes) {
    for (String r : regexes) {
      try {
        Pattern.compile(r);
      } catch (PatternSyntaxException e) {
        throw new BenchException(option + " " + r + ": not a valid regex (" + e.getDescription()
            + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "") + ")");
      }
    }
  }

  /**
   * What JMH would take and then fail on, or misread, only once the run has started: a validate
   * value other than true or false (JMH's Boolean.valueOf reads it as false, the checks off, while
   * the results file would call it checked), a -jvm that cannot run, a -prof that JMH cannot
   * start (it says only "Profilers failed to initialize").
   */
  static void checkRunOptions(CommandLineOptions jmh) {
    if (jmh.getParameter("validate").hasValue()) {
      Collection<String> values = jmh.getParameter("validate").get();
      for (String v : values) {
        checkValidate("-p validate=" + String.join(",", values), v);
      }
    }
    if (jmh.getJvm().hasValue()) {
      checkJvm(jmh.getJvm().get());
    }
    for (ProfilerConfig p : jmh.getProfilers()) {
      try {
        ProfilerFactory.getProfilerOrException(p);
      } catch (ProfilerException | RuntimeException e) {
        String why = oneLine(String.valueOf(e.getMessage()));
        throw new BenchException("-prof " + p.getKlass()
            + (p.getOpts() == null || p.getOpts().isEmpty() ? "" : ":" + p.getOpts()) + ": "
            + (why.contains("ClassNotFoundException") ? "no such profiler (" + jar()
                + " -lprof lists them)"
                : why.contains("ClassCastException") ? "not a JMH profiler" : why));
      }
    }
  }

  /** A value of the validate parameter: exactly true or false. */
  static void checkValidate(String option, String value) {
    if (!value.equals("true") && !value.equals("false")) {
      throw new BenchException(option + ": validate is true or false, not " + value);
    }
  }

  /** -jvm: a file that exists and can be executed, or a command on the PATH. */
  private static void checkJvm(String jvm) {
    if (!jvm.contains("/") && !jvm.contains(java.io.File.separator)) {
      for (String dir : System.getenv().getOrDefault("PATH", "")
          .split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir.isEmpty() ? "." : dir).resolve(jvm);
        if (!jvm.isEmpty() && Files.isRegularFile(p) && Files.isExecutable(p)) {
          return;
        }
      }
      throw new BenchException("-jvm " + jvm + ": not found on the PATH");
    }
    Path p = Path.of(jvm);
    if (!Files.exists(p)) {
      throw new BenchException("-jvm " + jvm + ": no such file");
    }
    if (!Files.isRegularFile(p)) {
      throw new BenchException("-jvm " + jvm + ": not a file");
    }
    if (!Files.isExecutable(p)) {
      throw new BenchException("-jvm " + jvm + ": not executable");
    }
  }

  // ------------------------------------------------------------------ paired

  static int paired(Cli cli, PrintStream out) {
    String other = cli.settings != null ? "--" + cli.settings : cli.peers ? "--peers"
        : cli.widths ? "--widths" : cli.extras ? "--extras" : cli.out != null ? "--out"
        : cli.chart != null ? "--chart" : cli.verbose ? "--verbose"
        : cli.peersDir != null ? "--peers-dir" : null;
    if (other != null) {
      throw new BenchException("--paired takes --rounds and JMH options only, not " + other);
    }
    if (cli.paired.name().equals("validate")) {
      checkValidate("--paired " + cli.paired.name() + "=" + cli.paired.a() + "," + cli.paired.b(),
          cli.paired.a());
      checkValidate("--paired " + cli.paired.name() + "=" + cli.paired.a() + "," + cli.paired.b(),
          cli.paired.b());
    }
    CommandLineOptions jmh = jmhOptions(cli);
    checkRunOptions(jmh);
    return Paired.run(cli.paired, cli.rounds == null ? Paired.DEFAULT_ROUNDS : cli.rounds, jmh,
        out);
  }

  // ------------------------------------------------------------------ compare

  static int compare(Cli cli, PrintStream out) {
    List<Path> paths = new ArrayList<>();
    List<ResultFile> files = new ArrayList<>();
    for (String f : cli.compare) {
      Path p = Path.of(f);
      paths.add(p);
      ResultFile file = ResultFile.read(p);
      if (file.results().isEmpty()) {
        throw new BenchException(p + ": no results to compare (the file holds a header only: its"
            + " run's benchmarks gave no result or are not one cell per form, shape and kernel)");
      }
      files.add(file);
    }
    out.print(Reports.compareTable(paths, files));
    if (cli.chart != null) {
      Charts.compareChart(paths, files, Path.of(cli.chart));
      out.println("chart written to " + cli.chart);
    }
    return 0;
  }

  // ------------------------------------------------------------------ profiles

  /** JMH settings of a profile. */
  record Profile(int forks, int warmupIterations, TimeValue warmupTime, int iterations,
      TimeValue measurementTime, List<String> shapes) {

    static Profile of(String settings, boolean peers) {
      Profile p;
      switch (settings == null ? "quick" : settings) {
        case "full":
          p = new Profile(3, 5, TimeValue.seconds(1), 5, TimeValue.seconds(1),
              List.of("4096x16", "65536x16", "8192x1000", "16384x80", "4096x21"));
          break;
        case "smoke":
          p = new Profile(1, 1, TimeValue.milliseconds(100), 2, TimeValue.milliseconds(100),
              List.of("512x16", "256x21"));
          break;
        default:
          p = new Profile(1, 3, TimeValue.milliseconds(400), 3, TimeValue.milliseconds(800),
              List.of("65536x16", "16384x80", "8192x1000", "4096x21"));
      }
      if (peers) {
        p = new Profile(p.forks, p.warmupIterations, p.warmupTime, p.iterations,
            p.measurementTime, Peers.SHAPES);
      }
      return p;
    }
  }

  /** One JMH run: its options, the JVM flag it forces, and what the forks see. */
  record RunSpec(Options options, Integer maxVectorSize, PlatformProbe.Info info) {}

  static final String MAIN_BENCH = "dev\\.focalsimd\\.bench\\.ForwardBackwardBench\\.forwardBackward$";
  static final String DIRECT_BENCH =
      "dev\\.focalsimd\\.bench\\.ForwardBackwardBench\\.forwardBackwardDirect$";
  static final String TARGETS_BENCH = "dev\\.focalsimd\\.bench\\.TargetKindBench\\.forwardBackward$";

  // ------------------------------------------------------------------ bench

  static int bench(Cli cli, PrintStream out, PrintStream err) {
    CommandLineOptions jmh = jmhOptions(cli);
    if (jmh.shouldHelp() || jmh.shouldList() || jmh.shouldListWithParams()
        || jmh.shouldListProfilers() || jmh.shouldListResultFormats()) {
      return jmhInfo(jmh, out);
    }
    checkRunOptions(jmh);
    if (cli.peers && cli.peersDir != null) {
      Peers.checkGiven(cli.peersDir, true);
    }
    checkWritable("--out", cli.out);
    if (cli.out == null) {
      checkResultsFolder(Path.of(RESULTS_FOLDER));
    }
    checkWritable("--chart", cli.chart);
    String profileName = cli.profileName();
    boolean plainJmh = profileName.equals("jmh");
    Profile profile = plainJmh ? null : Profile.of(cli.settings, cli.peers);
    Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    String java = jmh.getJvm().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString());
    List<String> userAppend = new ArrayList<>(jmh.getJvmArgsAppend().orElse(List.of()));
    List<String> userJvm = new ArrayList<>(jmh.getJvmArgs().orElse(List.of()));
    List<String> probeFlags = new ArrayList<>(userJvm);
    probeFlags.addAll(userAppend);
    PlatformProbe.Info info = PlatformProbe.probe(java, probeFlags);
    HostInfo host = HostInfo.detect();

    boolean kernelGiven = jmh.getParameter("kernel").hasValue();
    List<String> kernels = info.vectorAvailable() ? List.of("SCALAR", "VECTOR")
        : List.of("SCALAR");

    List<RunSpec> specs = new ArrayList<>();
    ChainedOptionsBuilder base = new OptionsBuilder().parent(jmh);
    if (!plainJmh) {
      if (!jmh.getForkCount().hasValue()) {
        base.forks(profile.forks());
      }
      if (!jmh.getWarmupIterations().hasValue()) {
        base.warmupIterations(profile.warmupIterations());
      }
      if (!jmh.getWarmupTime().hasValue()) {
        base.warmupTime(profile.warmupTime());
      }
      if (!jmh.getMeasurementIterations().hasValue()) {
        base.measurementIterations(profile.iterations());
      }
      if (!jmh.getMeasurementTime().hasValue()) {
        base.measurementTime(profile.measurementTime());
      }
      if (jmh.getIncludes().isEmpty()) {
        base.include(MAIN_BENCH);
        if (cli.extras) {
          base.include(DIRECT_BENCH).include(TARGETS_BENCH);
        }
      }
      if (!jmh.getParameter("shape").hasValue()) {
        base.param("shape", profile.shapes().toArray(new String[0]));
      }
    }
    if (!kernelGiven && (!plainJmh || !info.vectorAvailable())) {
      base.param("kernel", kernels.toArray(new String[0]));
    }
    List<String> notes = new ArrayList<>();
    if (!info.vectorAvailable()) {
      notes.add("note: the vector kernel is unavailable in the benchmark JVMs ("
          + info.vectorUnavailableReason() + ")" + (kernelGiven
              ? "; VECTOR benchmarks will fail" : "; running SCALAR only"));
    }
    specs.add(new RunSpec(base.build(), null, info));

    if (cli.widths && info.vectorAvailable()) {
      for (int bytes : new int[] {32, 16}) {
        if (info.vectorBitSize() <= bytes * 8) {
          continue;
        }
        List<String> flags = new ArrayList<>(probeFlags);
        flags.add("-XX:MaxVectorSize=" + bytes);
        PlatformProbe.Info at = PlatformProbe.probe(java, flags);
        if (!at.vectorAvailable()) {
          notes.add("note: no vector kernel with -XX:MaxVectorSize=" + bytes + " ("
              + at.vectorUnavailableReason() + "); skipping that width");
          continue;
        }
        List<String> append = new ArrayList<>(userAppend);
        append.add("-XX:MaxVectorSize=" + bytes);
        ChainedOptionsBuilder b = new OptionsBuilder().parent(base.build())
            .jvmArgsAppend(append.toArray(new String[0]));
        if (!kernelGiven) {
          b.param("kernel", "VECTOR");
        }
        specs.add(new RunSpec(b.build(), bytes, at));
      }
    } else if (cli.widths) {
      notes.add("note: --widths needs the vector kernel; only the scalar kernel runs");
    }

    int total = 0;
    double estimate = 0;
    for (RunSpec s : specs) {
      int count = countBenchmarks(s.options());
      total += count;
      estimate += count * secondsPerBenchmark(s.options());
    }
    if (total == 0) {
      throw new BenchException("no benchmark matches " + jmh.getIncludes()
          + " (" + jar() + " -l lists them)");
    }
    printHeader(out, host, info, profileName, specs.get(0).options(), total, estimate);
    notes.forEach(out::println);

    List<ResultFile.Peer> peers = null;
    if (cli.peers) {
      peers = Peers.collect(Peers.locate(cli.peersDir), out);
    }

    boolean compact = !plainJmh && !cli.verbose && !jmh.verbosity().hasValue();
    Progress progress = new Progress(out, total, estimate / total);
    List<Entry> entries = new ArrayList<>();
    int untabled = 0; // benchmarks without a kernel parameter (OptionsBench): JMH's output only
    Settings settings = null;
    for (RunSpec s : specs) {
      Collection<RunResult> results;
      try {
        Runner runner;
        if (compact) {
          progress.suffix(s.maxVectorSize() == null ? "" : "@" + s.maxVectorSize() * 8);
          runner = new Runner(s.options(), progress);
        } else {
          if (s.maxVectorSize() != null) {
            out.println("# focal-simd: the following forks run with -XX:MaxVectorSize="
                + s.maxVectorSize());
          }
          runner = new Runner(s.options());
        }
        if (compact) {
          results = quietly(runner);
        } else {
          results = runner.run();
        }
      } catch (NoBenchmarksException e) {
        throw new BenchException("no benchmark matches " + jmh.getIncludes()
            + " (" + jar() + " -l lists them)");
      } catch (RunnerException e) {
        throw new BenchException("JMH: " + oneLine(String.valueOf(e.getMessage())));
      } catch (RuntimeException e) {
        if (!jmh.getJvm().hasValue()) {
          throw e;
        }
        // a -jvm that runs but is no JVM JMH can use: "Unable to extract forked JVM properties"
        throw new BenchException("-jvm " + jmh.getJvm().get() + ": JMH cannot start its forks"
            + " with it (" + oneLine(String.valueOf(e.getMessage())) + ")");
      }
      for (RunResult r : results) {
        Entry e = entry(r, s);
        if (e != null) {
          entries.add(e);
        } else if (r.getParams().getParam("kernel") == null
            || r.getParams().getParam("spread") != null) {
          untabled++;
        }
        if (settings == null) {
          settings = settings(r.getParams(), cli.raw);
        }
      }
    }
    if (settings == null) {
      settings = new Settings(0, 0, "", 0, "", cli.raw);
    }
    Header header = header(host, info, profileName, started, settings);
    ResultFile file = new ResultFile(ResultFile.SCHEMA, header, entries, peers);

    out.println();
    if ("smoke".equals(cli.settings)) { // before the table, where a reader starts
      out.println("note: smoke settings do not warm the kernels up: the numbers below check the"
          + " pipeline, do not quote them (the vector kernel may not be compiled yet, so"
          + " vector/scalar can come out below 1x)");
    }
    if (!entries.isEmpty()) {
      out.print(Reports.runTable(file));
    }
    if (peers != null) {
      out.println();
      out.print(Peers.table(file));
    }
    Path path = Path.of(cli.out != null ? cli.out : defaultFileName(host, info, started));
    try {
      file.write(path);
    } catch (IOException e) {
      throw new BenchException("cannot write " + path + ": " + reason(e));
    }
    out.println();
    out.println(savedLine(path, !entries.isEmpty() || peers != null, untabled > 0));
    if (cli.chart != null) {
      Charts.runChart(file, Path.of(cli.chart));
      out.println("chart written to " + cli.chart);
    }
    if (untabled > 0) {
      out.println("note: " + untabled + " benchmarks are not one cell per form, shape and kernel"
          + " (OptionsBench, ExtremeLogitsBench, JitHistoryBench,"
          + " MemoryCeilingBench, VirtualThreadBench):"
          + (compact ? " rerun with --verbose to see their scores, which are not in the table"
              + " or the file" : " their scores are in JMH's output above, not in the table or"
              + " the file"));
    }
    if (entries.size() + untabled < total) {
      out.println("warning: " + (total - entries.size() - untabled) + " of " + total
          + " benchmarks produced no result" + (compact ? " (see FAILED above)" : ""));
      return 1;
    }
    return 0;
  }

  /**
   * Runs JMH with this JVM's System.out and System.err silenced: the forks' output (log lines of
   * the kernel provider, JVM warnings) arrives there, and the compact progress replaces it.
   */
  static Collection<RunResult> quietly(Runner runner) throws RunnerException {
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    PrintStream sink = new PrintStream(java.io.OutputStream.nullOutputStream());
    System.setOut(sink);
    System.setErr(sink);
    try {
      return runner.run();
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  /**
   * Fails before any benchmark runs where an output file could not be written afterwards: a name
   * that ends in a separator (Path would drop it and write a file of the folder's name), a
   * directory, a folder that cannot be created or written in, an existing file that cannot be
   * overwritten.
   */
  static void checkWritable(String option, String file) {
    if (file == null) {
      return;
    }
    String what = option + " " + file;
    if (file.endsWith("/") || file.endsWith(java.io.File.separator)) {
      throw new BenchException(what + ": names a folder; give a file name (" + file
          + "results.json, say)");
    }
    Path p = Path.of(file).toAbsolutePath();
    if (Files.isDirectory(p)) {
      throw new BenchException(what + " is a directory");
    }
    checkFolder(what, p.getParent(), "");
    if (Files.exists(p)) {
      try (java.io.OutputStream o = Files.newOutputStream(p, java.nio.file.StandardOpenOption.WRITE,
          java.nio.file.StandardOpenOption.APPEND)) {
        // opened without truncating: it can be overwritten
      } catch (IOException | RuntimeException e) {
        throw new BenchException(what + ": cannot overwrite it: " + reason(e));
      }
    }
  }

  /** The folder the results go to without --out. */
  static final String RESULTS_FOLDER = "bench-results";

  /** Fails before any benchmark runs where the default results folder cannot take the file. */
  static void checkResultsFolder(Path dir) {
    checkFolder("cannot save the results in " + RESULTS_FOLDER + "/", dir.toAbsolutePath(),
        " (--out FILE saves them elsewhere)");
  }

  /** Creates dir where it is missing and checks that a file can be created in it. */
  private static void checkFolder(String what, Path dir, String hint) {
    try {
      Files.createDirectories(dir);
    } catch (IOException | RuntimeException e) {
      throw new BenchException(what + ": cannot create " + dir + ": " + reason(e) + hint);
    }
    try {
      Files.deleteIfExists(Files.createTempFile(dir, ".bench-", ".tmp"));
    } catch (IOException | RuntimeException e) {
      throw new BenchException(what + ": cannot write in " + dir + ": " + reason(e) + hint);
    }
  }

  /**
   * Why a file operation failed, in words: NIO's exceptions carry the OS's reason apart from the
   * path (and none at all for a permission or a missing file).
   */
  static String reason(Exception e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      return "it exists and is not a directory";
    }
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  private static int jmhInfo(CommandLineOptions jmh, PrintStream out) {
    try {
      if (jmh.shouldHelp()) {
        out.println(USAGE);
        out.println();
        out.println("JMH options:");
        jmh.showHelp();
      } else if (jmh.shouldList()) {
        new Runner(jmh).list();
      } else if (jmh.shouldListWithParams()) {
        new Runner(jmh).listWithParams(jmh);
      } else if (jmh.shouldListProfilers()) {
        jmh.listProfilers();
      } else {
        jmh.listResultFormats();
      }
      return 0;
    } catch (IOException e) {
      throw new BenchException(String.valueOf(e.getMessage()));
    }
  }

  private static void printHeader(PrintStream out, HostInfo host, PlatformProbe.Info info,
      String profile, Options o, int total, double estimate) {
    out.println("focal-simd bench " + benchVersion() + ", profile " + profile);
    out.println("CPU     " + host.cpuModel() + " (" + host.cpuVendor() + "), " + host.cores()
        + " cores" + (host.simdFeatures().isEmpty() ? ""
            : "; SIMD: " + String.join(" ", host.simdFeatures())));
    out.println("OS      " + host.os() + ", " + host.arch());
    out.println("JDK     " + info.jdkVendor() + " " + info.jdkVersion() + " (" + info.vmName()
        + ")");
    String flags = (info.maxVectorSize() == null ? "" : "MaxVectorSize=" + info.maxVectorSize())
        + (info.useAVX() == null ? "" : ", UseAVX=" + info.useAVX());
    out.println("Vector  " + (info.vectorBitSize() > 0
        ? info.vectorBitSize() + " bits, " + info.floatLanes() + " float lanes" : "none")
        + (flags.isEmpty() ? "" : "; " + flags) + "; Kernel.AUTO chose " + info.autoKernel()
        + (info.vectorAvailable() ? "" : " (" + info.vectorUnavailableReason() + ")"));
    int forks = o.getForkCount().orElse(-1);
    out.println("JMH     " + total + " benchmarks" + (forks < 0 ? " (annotation settings)"
        : String.format(Locale.ROOT, ", %d fork(s), %s warmup, %s measurement", forks,
            iterations(o.getWarmupIterations(), o.getWarmupTime()),
            iterations(o.getMeasurementIterations(), o.getMeasurementTime())))
        + ", about " + Progress.clock(estimate));
    out.println();
  }

  /**
   * "5 x 1 s" for the header; a count or time the command line leaves to each benchmark's
   * annotations (or JMH's defaults) reads "(annotation)".
   */
  static String iterations(org.openjdk.jmh.util.Optional<Integer> count,
      org.openjdk.jmh.util.Optional<TimeValue> time) {
    return (count.hasValue() ? String.valueOf(count.get()) : "(annotation)") + " x "
        + (time.hasValue() ? String.valueOf(time.get()) : "(annotation)");
  }

  // ------------------------------------------------------------------ results

  /** The number of benchmarks (method x mode x parameter combination) a run will execute. */
  static int countBenchmarks(Options o) {
    SortedSet<BenchmarkListEntry> entries;
    try {
      entries = BenchmarkList.defaultList().find(new SilentFormat(), o.getIncludes(),
          o.getExcludes());
    } catch (RuntimeException e) {
      return 0;
    }
    int total = 0;
    for (BenchmarkListEntry b : entries) {
      int combos = 1;
      for (Map.Entry<String, String[]> p : b.getParams().orElse(Collections.emptyMap())
          .entrySet()) {
        Collection<String> values = o.getParameter(p.getKey()).orElse(List.of(p.getValue()));
        combos *= Math.max(1, values.size());
      }
      int modes = o.getBenchModes().isEmpty() ? 1 : o.getBenchModes().size();
      total += combos * modes;
    }
    return total;
  }

  private static double secondsPerBenchmark(Options o) {
    int forks = o.getForkCount().orElse(3);
    double w = o.getWarmupIterations().orElse(5)
        * o.getWarmupTime().orElse(TimeValue.seconds(1)).convertTo(
            java.util.concurrent.TimeUnit.MILLISECONDS) / 1e3;
    double m = o.getMeasurementIterations().orElse(5)
        * o.getMeasurementTime().orElse(TimeValue.seconds(1)).convertTo(
            java.util.concurrent.TimeUnit.MILLISECONDS) / 1e3;
    return Math.max(1, forks) * (FORK_OVERHEAD_SECONDS + w + m);
  }

  /**
   * Million elements per second from a JMH score: throughput units "ops/TU" or time units
   * "TU/op", one operation being the whole N x C batch. Returns 0 where the unit is not one of
   * these or the shape is unknown.
   */
  static double melemPerSec(double score, String unit, String shape) {
    if (shape == null || !(score > 0)) {
      return 0;
    }
    int[] nc;
    try {
      nc = BenchData.parseShape(shape);
    } catch (IllegalArgumentException e) {
      return 0;
    }
    double elements = (double) nc[0] * nc[1];
    double opsPerSecond;
    if (unit.startsWith("ops/")) {
      double s = seconds(unit.substring(4));
      opsPerSecond = s > 0 ? score / s : 0;
    } else if (unit.endsWith("/op")) {
      double s = seconds(unit.substring(0, unit.length() - 3));
      opsPerSecond = s > 0 ? 1 / (score * s) : 0;
    } else {
      opsPerSecond = 0;
    }
    return opsPerSecond * elements / 1e6;
  }

  private static double seconds(String unit) {
    switch (unit) {
      case "ns":
        return 1e-9;
      case "us":
        return 1e-6;
      case "ms":
        return 1e-3;
      case "s":
        return 1;
      case "min":
        return 60;
      case "hr":
        return 3600;
      case "day":
        return 86400;
      default:
        return 0;
    }
  }

  static Entry entry(RunResult r, RunSpec spec) {
    BenchmarkParams p = r.getParams();
    String form = p.getParam("form");
    String shape = p.getParam("shape");
    String kernel = p.getParam("kernel");
    if (form == null || shape == null || kernel == null) {
      return null;
    }
    if (p.getParam("spread") != null) {
      return null; // ExtremeLogitsBench: one cell per spread, which the summary does not key on
    }
    Result<?> primary = r.getPrimaryResult();
    double melem = melemPerSec(primary.getScore(), primary.getScoreUnit(), shape);
    if (!(melem > 0)) {
      return null;
    }
    String name = p.getBenchmark();
    String shortName = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
    int[] nc = BenchData.parseShape(shape);
    String targets = p.getParam("targets");
    if (targets == null) {
      targets = BenchData.Form.parse(form).refTargets();
    }
    String input = name.endsWith("Direct") ? "direct" : "array";
    boolean vector = kernel.equals("VECTOR");
    Double error = finite(primary.getScoreError());
    Map<String, Secondary> secondary = new LinkedHashMap<>();
    for (Map.Entry<String, Result> s : r.getSecondaryResults().entrySet()) {
      Result<?> v = s.getValue();
      if (Double.isFinite(v.getScore())) {
        secondary.put(s.getKey(), new Secondary(v.getScore(), finite(v.getScoreError()),
            v.getScoreUnit()));
      }
    }
    return new Entry(shortName, form, nc[0], nc[1], targets, input, kernel,
        vector ? spec.info().vectorBitSize() : 0, vector ? spec.maxVectorSize() : null,
        p.getMode().shortLabel(), primary.getScore(), error, primary.getScoreUnit(),
        (int) primary.getSampleCount(), melem,
        error == null ? null : melem * error / primary.getScore(),
        secondary.isEmpty() ? null : secondary,
        "false".equals(p.getParam("validate")) ? Boolean.FALSE : null);
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static Settings settings(BenchmarkParams p, List<String> args) {
    return new Settings(p.getForks(), p.getWarmup().getCount(), p.getWarmup().getTime().toString(),
        p.getMeasurement().getCount(), p.getMeasurement().getTime().toString(), List.copyOf(args));
  }

  static Header header(HostInfo host, PlatformProbe.Info info, String profile, Instant date,
      Settings settings) {
    return new Header(benchVersion(), profile, date.toString(), host.cpuModel(), host.cpuVendor(),
        host.cores(), host.simdFeatures(), host.os(), host.arch(), info.jdkVendor(),
        info.jdkVersion(), info.maxVectorSize(), info.useAVX(),
        // 0 where the forks cannot run the vector kernel (say C2 off), as the schema says: the
        // species' size alone made --compare call a scalar-only run "vector 512 bits"
        info.vectorAvailable() ? info.vectorBitSize() : 0,
        info.vectorAvailable() ? info.floatLanes() : 0, info.autoKernel(),
        info.vectorUnavailableReason(), settings);
  }

  /** bench-results/CPU_jdkVERSION_DATE.json, made of file-name-safe characters. */
  /**
   * The line that says where the run's file went; the {@code --compare} hint only where the file
   * holds a table to compare (a run of untabled benchmarks, or of benchmarks that all failed,
   * saves the header alone, and the line says which).
   */
  static String savedLine(Path path, boolean hasResults, boolean untabled) {
    return "results saved to " + path + (hasResults
        ? " (compare: " + jar() + " --compare " + shellQuote(path.toString()) + " OTHER.json)"
        : untabled
        ? " (the header only: none of these benchmarks is one cell per form, shape and kernel)"
        : " (the header only: no benchmark gave a result)");
  }

  /**
   * "java -jar" and the path of the running jar, relative to the working directory where it lies
   * below it ({@code bench/target/bench.jar} from the repository root), for the hints this tool
   * prints; "java -jar bench.jar" where it does not run from a jar (tests).
   */
  static String jar() {
    try {
      Path jar = Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      if (jar.toString().endsWith(".jar")) {
        Path cwd = Path.of("").toAbsolutePath();
        Path abs = jar.toAbsolutePath().normalize();
        return "java -jar " + shellQuote((abs.startsWith(cwd) ? cwd.relativize(abs) : abs)
            .toString());
      }
    } catch (RuntimeException | java.net.URISyntaxException e) {
      // no code source: fall through
    }
    return "java -jar bench.jar";
  }

  /** s as a shell word: unchanged where it is one, else in single quotes. */
  static String shellQuote(String s) {
    if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:@%+=,-]+")) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  static String defaultFileName(HostInfo host, PlatformProbe.Info info, Instant date) {
    String cpu = slug(host.cpuModel().replaceAll("\\((R|TM|tm|r)\\)", "")
        .replaceAll("(?i)\\b(processor|cpu)\\b", ""), 48);
    String jdk = info.jdkVersion();
    int plus = jdk.indexOf('+');
    jdk = slug(plus > 0 ? jdk.substring(0, plus) : jdk, 20);
    String when = LocalDateTime.ofInstant(date, java.time.ZoneId.systemDefault())
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
    return RESULTS_FOLDER + "/" + cpu + "_jdk" + jdk + "_" + when + ".json";
  }

  static String slug(String s, int max) {
    String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]+", "-").replaceAll("^-+|-+$", "");
    if (t.length() > max) {
      t = t.substring(0, max).replaceAll("-+$", "");
    }
    return t.isEmpty() ? "unknown" : t;
  }

  static String benchVersion() {
    try (InputStream in = BenchMain.class.getResourceAsStream("bench.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.startsWith("$")) {
          return v;
        }
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }

  static String oneLine(String s) {
    String t = s == null ? "" : s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl).strip();
  }
}
