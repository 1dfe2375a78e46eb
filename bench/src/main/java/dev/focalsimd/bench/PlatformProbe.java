package dev.focalsimd.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.focalsimd.FocalLoss;
import dev.focalsimd.Platform;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark fork sees: {@link FocalLoss#platform()} and the JVM's vector flags. {@link
 * #main} runs in a child JVM started with the forks' flags ({@code --add-modules
 * jdk.incubator.vector} and any {@code -XX:MaxVectorSize}), and prints one JSON object; {@link
 * #probe} starts it from the JVM that runs {@code java -jar bench.jar}, which has no vector module.
 */
public final class PlatformProbe {

  /** The forks' view of the platform. */
  public record Info(boolean vectorAvailable, int vectorBitSize, int floatLanes, String autoKernel,
      String jdkVendor, String jdkVersion, String vmName, Integer maxVectorSize, Integer useAVX,
      String vectorUnavailableReason) {

    static Info unknown(String why) {
      return new Info(false, 0, 0, "SCALAR", System.getProperty("java.vm.vendor", "?"),
          System.getProperty("java.runtime.version", System.getProperty("java.version", "?")),
          System.getProperty("java.vm.name", "?"), null, null, why);
    }
  }

  private PlatformProbe() {}

  /** Child side: prints the platform as one JSON line on stdout. */
  public static void main(String[] args) throws IOException {
    Platform p = FocalLoss.platform();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("vectorAvailable", p.vectorAvailable());
    out.put("vectorBitSize", p.vectorBitSize());
    out.put("floatLanes", p.floatLanes());
    out.put("autoKernel", p.autoKernel().name());
    out.put("jdkVendor", System.getProperty("java.vm.vendor", "?"));
    out.put("jdkVersion", System.getProperty("java.runtime.version",
        System.getProperty("java.version", "?")));
    out.put("vmName", System.getProperty("java.vm.name", "?"));
    out.put("maxVectorSize", vmOption("MaxVectorSize"));
    out.put("useAVX", vmOption("UseAVX"));
    out.put("vectorUnavailableReason", p.vectorUnavailableReason());
    System.out.println(new ObjectMapper().writeValueAsString(out));
  }

  /** A HotSpot integer flag, or null where this JVM has no such flag or no management API. */
  static Integer vmOption(String name) {
    try {
      com.sun.management.HotSpotDiagnosticMXBean bean =
          ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      return bean == null ? null : Integer.valueOf(bean.getVMOption(name).getValue());
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * Host side: runs {@link #main} in a child JVM with the forks' flags plus {@code extraJvmArgs}.
   * Never throws: where the child fails, the answer says why and reports no vector kernel.
   */
  static Info probe(String javaBinary, List<String> extraJvmArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary);
    cmd.add("--add-modules=jdk.incubator.vector");
    cmd.addAll(extraJvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(PlatformProbe.class.getName());
    try {
      Process proc = new ProcessBuilder(cmd)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      proc.getOutputStream().close();
      byte[] out = proc.getInputStream().readAllBytes();
      if (!proc.waitFor(60, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
        return Info.unknown("the platform probe did not finish in 60 s");
      }
      if (proc.exitValue() != 0) {
        return Info.unknown("the platform probe JVM exited with " + proc.exitValue()
            + " (flags " + extraJvmArgs + ")");
      }
      String text = new String(out, java.nio.charset.StandardCharsets.UTF_8).trim();
      String last = text.substring(text.lastIndexOf('\n') + 1);
      return new ObjectMapper().readValue(last, Info.class);
    } catch (IOException e) {
      return Info.unknown("the platform probe failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Info.unknown("interrupted");
    }
  }
}
