package dev.focalsimd.bench;

import java.util.Collection;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.format.OutputFormat;

/**
 * A JMH output format that drops everything: for searching the benchmark list, and (with {@link
 * Failures}) for runs whose output is not shown.
 */
class SilentFormat implements OutputFormat {

  @Override
  public void iteration(BenchmarkParams b, IterationParams p, int i) {}

  @Override
  public void iterationResult(BenchmarkParams b, IterationParams p, int i, IterationResult d) {}

  @Override
  public void startBenchmark(BenchmarkParams b) {}

  @Override
  public void endBenchmark(BenchmarkResult r) {}

  @Override
  public void startRun() {}

  @Override
  public void endRun(Collection<RunResult> r) {}

  @Override
  public void print(String s) {}

  @Override
  public void println(String s) {}

  @Override
  public void flush() {}

  @Override
  public void close() {}

  @Override
  public void verbosePrintln(String s) {}

  @Override
  public void write(int b) {}

  @Override
  public void write(byte[] b) {}

  /**
   * Reads JMH's output lines for a failure's report and keeps its first line: the "forked VM
   * failed" line itself, or the first non-blank line after a "failure" marker (the exception).
   */
  static final class Failures {
    private boolean inFailure;
    private String first;

    /** Feeds one line of JMH's output. */
    void accept(String s) {
      if (s == null || first != null) {
        return;
      }
      if (s.startsWith("<failure>") || s.startsWith("<forked VM failed")) {
        inFailure = true;
        if (s.startsWith("<forked")) {
          first = s;
        }
      } else if (inFailure && !s.isBlank()) {
        first = BenchMain.oneLine(s);
      }
    }

    /** The failure's first line, or null if none was seen. */
    String first() {
      return first;
    }
  }
}
