package dev.focalsimd.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A saved bench run: the JSON file every run writes, and what {@code --compare} reads. The schema
 * is documented in bench/README-bench.md; {@link #SCHEMA} names its version.
 *
 * @param schema {@value #SCHEMA}
 * @param header where and how the numbers were measured
 * @param results one entry per JMH benchmark (method x parameters x vector width)
 * @param peers reference numbers measured or quoted beside ours ({@code --peers}); may be empty
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultFile(String schema, Header header, List<Entry> results, List<Peer> peers) {

  public static final String SCHEMA = "focal-simd-bench/1";

  /**
   * The machine, the JVM and the run settings.
   *
   * @param benchVersion the bench jar's version
   * @param profile quick, full, smoke, peers, widths or jmh (plain JMH arguments), joined with "+"
   * @param date ISO-8601 instant the run started
   * @param cpuModel the CPU's model name as the OS reports it
   * @param cpuVendor the CPU vendor (vendor_id, or the ARM implementer)
   * @param cores logical processors available to the JVM
   * @param simdFeatures the SIMD features the OS lists, among avx, avx2, fma, avx512f, avx512dq,
   *     avx512bw, avx512vl, asimd, neon, sve, sve2
   * @param os OS name and version
   * @param arch os.arch
   * @param jdkVendor java.vm.vendor of the forks
   * @param jdkVersion java.runtime.version of the forks
   * @param maxVectorSize the forks' -XX:MaxVectorSize in bytes, where HotSpot tells it
   * @param useAVX the forks' -XX:UseAVX (x86 HotSpot only)
   * @param vectorBitSize the preferred vector size in bits, 0 where the vector kernel is off
   * @param floatLanes float lanes of the preferred vector
   * @param autoKernel the kernel Kernel.AUTO chose in the forks
   * @param vectorUnavailableReason why the vector kernel is off, where it is
   * @param settings the JMH settings of the run
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Header(String benchVersion, String profile, String date, String cpuModel,
      String cpuVendor, int cores, List<String> simdFeatures, String os, String arch,
      String jdkVendor, String jdkVersion, Integer maxVectorSize, Integer useAVX,
      int vectorBitSize, int floatLanes, String autoKernel, String vectorUnavailableReason,
      Settings settings) {}

  /**
   * JMH settings as the benchmarks ran them.
   *
   * @param forks forks per benchmark
   * @param warmupIterations warmup iterations per fork
   * @param warmupTime time of one warmup iteration, as JMH prints it ("1 s")
   * @param measurementIterations measurement iterations per fork
   * @param measurementTime time of one measurement iteration
   * @param arguments the command-line arguments the run was given
   */
  public record Settings(int forks, int warmupIterations, String warmupTime,
      int measurementIterations, String measurementTime, List<String> arguments) {}

  /**
   * One benchmark's result.
   *
   * @param benchmark the JMH benchmark, class.method without the package
   * @param form one_vs_all, softmax or sigmoid
   * @param n rows N
   * @param c classes C
   * @param targets dense or index
   * @param input array (heap float[]) or direct (direct FloatBuffer)
   * @param kernel SCALAR or VECTOR
   * @param vectorBits the vector size the kernel ran at; 0 for SCALAR
   * @param maxVectorSize the -XX:MaxVectorSize (bytes) the run forced with --widths, else null
   * @param mode JMH mode (thrpt, avgt, ...)
   * @param score JMH's score in {@code units}
   * @param error JMH's 99.9% confidence half-width, null where JMH gives none
   * @param units JMH's score unit, "ops/s" for the default throughput mode
   * @param samples measurement samples behind the score
   * @param melemPerSec million input elements (N x C) per second
   * @param melemPerSecError the error on the same scale, or null
   * @param secondary secondary results (profilers such as -prof gc) by label, or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Entry(String benchmark, String form, int n, int c, String targets, String input,
      String kernel, int vectorBits, Integer maxVectorSize, String mode, double score,
      Double error, String units, int samples, double melemPerSec, Double melemPerSecError,
      Map<String, Secondary> secondary, Boolean validate) {

    /**
     * An entry with the value checks on (or a benchmark without the {@code validate} parameter):
     * {@code validate} null, absent from the file.
     */
    public Entry(String benchmark, String form, int n, int c, String targets, String input,
        String kernel, int vectorBits, Integer maxVectorSize, String mode, double score,
        Double error, String units, int samples, double melemPerSec, Double melemPerSecError,
        Map<String, Secondary> secondary) {
      this(benchmark, form, n, c, targets, input, kernel, vectorBits, maxVectorSize, mode, score,
          error, units, samples, melemPerSec, melemPerSecError, secondary, null);
    }

    /** SCALAR, VECTOR, or VECTOR@bits where --widths forced the width. */
    String variant() {
      if (!"VECTOR".equals(kernel)) {
        return kernel;
      }
      return maxVectorSize == null ? "VECTOR" : "VECTOR@" + vectorBits;
    }

    /** The form with the variant of the benchmark where it is not the focal_ref.c default. */
    String formLabel() {
      String label = form;
      if (targets != null && !targets.equals(BenchData.Form.parse(form).refTargets())
          || benchmark.startsWith("TargetKindBench")) {
        label += "/" + targets;
      }
      if ("direct".equals(input)) {
        label += "/direct";
      }
      if (Boolean.FALSE.equals(validate)) { // its own row, apart from the checked one
        label += "/unchecked";
      }
      return label;
    }
  }

  /**
   * A secondary result, such as gc.alloc.rate.norm.
   *
   * @param score the value
   * @param error its error, or null
   * @param units its unit, as JMH gives it
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Secondary(double score, Double error, String units) {}

  /**
   * A reference implementation's number.
   *
   * @param peer which: "C -ffast-math", "C strict", "PyTorch"
   * @param form one_vs_all, softmax or sigmoid
   * @param n rows
   * @param c classes
   * @param melemPerSec million elements per second, one thread
   * @param source "measured" in this run, or "README" (quoted from the peers README)
   */
  public record Peer(String peer, String form, int n, int c, double melemPerSec, String source) {}

  static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Writes this file, creating parent directories. */
  void write(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    // through NIO, whose exceptions say why (AccessDeniedException, ...) for BenchMain.reason
    try (java.io.OutputStream out = Files.newOutputStream(path)) {
      MAPPER.writeValue(out, this);
    }
  }

  String toJson() throws IOException {
    return MAPPER.writeValueAsString(this);
  }

  /**
   * Reads and checks a result file.
   *
   * @throws BenchException with a one-line message if the file is missing, unreadable, not JSON,
   *     or lacks what the schema requires
   */
  static ResultFile read(Path path) {
    if (Files.isDirectory(path)) {
      throw new BenchException(path + ": is a directory, not a result file");
    }
    ResultFile f;
    try (java.io.InputStream in = Files.newInputStream(path)) {
      f = MAPPER.readValue(in, ResultFile.class);
    } catch (NoSuchFileException e) {
      throw new BenchException(path + ": no such file");
    } catch (java.nio.file.FileSystemException e) { // permission denied, not a directory, ...
      throw new BenchException(path + ": cannot read: " + BenchMain.reason(e));
    } catch (JacksonException e) {
      String msg = e.getOriginalMessage();
      int nl = msg == null ? -1 : msg.indexOf('\n');
      throw new BenchException(path + ": not a bench result file (malformed JSON: "
          + (nl >= 0 ? msg.substring(0, nl) : msg) + location(e) + ")");
    } catch (IOException e) {
      throw new BenchException(path + ": cannot read: " + e.getMessage());
    }
    if (f == null) {
      throw new BenchException(path + ": not a bench result file (empty JSON)");
    }
    return f.validate(path.toString());
  }

  private static String location(JacksonException e) {
    return e.getLocation() == null ? ""
        : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  /** Checks what the schema requires; returns this. */
  ResultFile validate(String name) {
    if (!SCHEMA.equals(schema)) {
      throw new BenchException(name + ": not a bench result file (schema is " + schema
          + ", expected " + SCHEMA + ")");
    }
    if (header == null) {
      throw new BenchException(name + ": malformed bench result file: no header");
    }
    // what --compare prints of each file; a header of {} would read "null, 0 cores | JDK null"
    List<String> missing = new java.util.ArrayList<>();
    String[][] required = {{"benchVersion", header.benchVersion()},
        {"profile", header.profile()}, {"date", header.date()}, {"cpuModel", header.cpuModel()},
        {"jdkVersion", header.jdkVersion()}};
    for (String[] field : required) {
      if (field[1] == null) {
        missing.add(field[0]);
      }
    }
    if (header.cores() < 1) {
      missing.add("cores");
    }
    if (!missing.isEmpty()) {
      throw new BenchException(name + ": malformed bench result file: the header lacks "
          + String.join(", ", missing) + " (required: benchVersion, profile, date, cpuModel,"
          + " jdkVersion and a positive cores)");
    }
    if (results == null) {
      throw new BenchException(name + ": malformed bench result file: no results");
    }
    for (int i = 0; i < results.size(); i++) {
      Entry e = results.get(i);
      String where = name + ": malformed bench result file: results[" + i + "]";
      if (e == null) {
        throw new BenchException(where + " is null");
      }
      if (e.benchmark() == null || e.form() == null || e.kernel() == null) {
        throw new BenchException(where + " lacks benchmark, form or kernel");
      }
      if (!e.kernel().equals("SCALAR") && !e.kernel().equals("VECTOR")) {
        throw new BenchException(where + " has kernel = " + e.kernel()
            + "; must be SCALAR or VECTOR");
      }
      try {
        BenchData.Form.parse(e.form());
      } catch (IllegalArgumentException ex) {
        throw new BenchException(where + ": " + ex.getMessage());
      }
      if (e.n() < 1 || e.c() < 1) {
        throw new BenchException(where + " has n = " + e.n() + ", c = " + e.c()
            + "; both must be positive");
      }
      if (!(e.melemPerSec() > 0) || Double.isInfinite(e.melemPerSec())) {
        throw new BenchException(where + " has melemPerSec = " + e.melemPerSec()
            + "; must be a positive number");
      }
    }
    return this;
  }
}
