package dev.focalsimd.bench;

import java.io.PrintStream;
import java.util.Collection;
import java.util.Locale;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * A compact JMH output: one line per benchmark, "[k/total] what ... score, time left". JMH's own
 * chatter (iterations, fork output) is dropped; a failure prints its first line. One instance
 * serves every JMH run of a bench invocation, so the count and the estimate span them all.
 */
final class Progress extends SilentFormat {

  private final PrintStream out;
  private final int total;
  private final double estimatePerBenchmark;
  private final long start = System.nanoTime();
  private String suffix = "";
  private int started;
  private int finished;
  private boolean pending;
  private Failures failures = new Failures();

  /**
   * @param total the benchmarks all runs will execute
   * @param estimatePerBenchmark seconds one benchmark is expected to take, before any finished
   */
  Progress(PrintStream out, int total, double estimatePerBenchmark) {
    this.out = out;
    this.total = total;
    this.estimatePerBenchmark = estimatePerBenchmark;
  }

  /** Text added to the kernel name of the following benchmarks, such as "@256". */
  void suffix(String suffix) {
    this.suffix = suffix;
  }

  static String describe(BenchmarkParams p, String suffix) {
    String b = p.getBenchmark();
    String method = b.substring(b.lastIndexOf('.') + 1);
    String cls = b.substring(0, b.lastIndexOf('.'));
    cls = cls.substring(cls.lastIndexOf('.') + 1);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-10s %-9s %-10s", nonNull(p.getParam("form")),
        nonNull(p.getParam("shape")), nonNull(p.getParam("kernel")) + suffix));
    if (p.getParam("targets") != null) {
      sb.append(' ').append(p.getParam("targets"));
    }
    if ("false".equals(p.getParam("validate"))) {
      sb.append(" unchecked");
    }
    if (!cls.equals("ForwardBackwardBench") || !method.equals("forwardBackward")) {
      sb.append(" (").append(cls).append('.').append(method).append(')');
    }
    return sb.toString();
  }

  private static String nonNull(String s) {
    return s == null ? "-" : s;
  }

  @Override
  public void startBenchmark(BenchmarkParams benchParams) {
    finishPending();
    started++;
    pending = true;
    failures = new Failures();
    int w = Integer.toString(Math.max(total, started)).length();
    out.printf(Locale.ROOT, "[%" + w + "d/%d] %-44s ", started, Math.max(total, started),
        describe(benchParams, suffix));
    out.flush();
  }

  @Override
  public void endBenchmark(BenchmarkResult result) {
    if (!pending) {
      return;
    }
    if (result == null) { // every fork failed: JMH reports no result
      finishPending();
      return;
    }
    pending = false;
    finished++;
    Result<?> r = result.getPrimaryResult();
    String score;
    double melem = BenchMain.melemPerSec(r.getScore(), r.getScoreUnit(),
        result.getParams().getParam("shape"));
    if (melem > 0) {
      double rel = r.getScoreError() / r.getScore();
      score = String.format(Locale.ROOT, "%9.1f Melem/s%s", melem,
          Double.isFinite(rel) ? String.format(Locale.ROOT, " ±%4.1f%%", rel * 100) : "");
    } else {
      score = String.format(Locale.ROOT, "%.3f %s", r.getScore(), r.getScoreUnit());
    }
    out.println(score + "   " + timeLeft());
  }

  private void finishPending() {
    if (pending) {
      pending = false;
      finished++;
      String failure = failures.first();
      out.println("FAILED: " + (failure == null ? "see the -v NORMAL output" : failure)
          + "   " + timeLeft());
    }
  }

  private String timeLeft() {
    double elapsed = (System.nanoTime() - start) / 1e9;
    int remaining = Math.max(0, total - finished);
    double per = finished > 0 ? elapsed / finished : estimatePerBenchmark;
    return "(" + clock(elapsed) + " elapsed, ~" + clock(per * remaining) + " left)";
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  @Override
  public void println(String s) {
    if (pending) {
      failures.accept(s);
    }
  }


  @Override
  public void endRun(Collection<RunResult> result) {
    finishPending();
  }

  @Override
  public void flush() {
    out.flush();
  }
}
