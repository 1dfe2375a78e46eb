package dev.focalsimd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The CPU as the operating system describes it: model, vendor and the SIMD features that matter
 * to the kernels. Linux answers from /proc/cpuinfo, macOS from sysctl, Windows from its
 * environment; what the OS does not tell stays "unknown" or empty.
 */
record HostInfo(String cpuModel, String cpuVendor, int cores, List<String> simdFeatures,
    String os, String arch) {

  /** The features reported, in this order, where the OS lists them. */
  static final List<String> FEATURES = List.of("sse4_2", "avx", "avx2", "fma", "avx512f",
      "avx512dq", "avx512bw", "avx512vl", "avx512_fp16", "asimd", "neon", "sve", "sve2");

  static HostInfo detect() {
    String model = null;
    String vendor = null;
    Set<String> flags = new LinkedHashSet<>();
    String osName = System.getProperty("os.name", "?");
    String lower = osName.toLowerCase(Locale.ROOT);
    try {
      if (lower.contains("linux")) {
        Path p = Path.of("/proc/cpuinfo");
        if (Files.isReadable(p)) {
          for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
              continue;
            }
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (model == null && (key.equals("model name") || key.equals("hardware")
                || key.equals("cpu model") || key.equals("processor") && !value.matches("\\d+"))) {
              model = value;
            } else if (vendor == null && (key.equals("vendor_id") || key.equals("cpu implementer"))) {
              vendor = key.equals("cpu implementer") ? armVendor(value) : value;
            } else if (flags.isEmpty() && (key.equals("flags") || key.equals("features"))) {
              for (String f : value.split("\\s+")) {
                flags.add(f.toLowerCase(Locale.ROOT));
              }
            }
          }
        }
      } else if (lower.contains("mac")) {
        model = sysctl("machdep.cpu.brand_string");
        vendor = sysctl("machdep.cpu.vendor");
        String feats = sysctl("machdep.cpu.features") + " " + sysctl("machdep.cpu.leaf7_features");
        for (String f : feats.split("\\s+")) {
          flags.add(f.toLowerCase(Locale.ROOT).replace('.', '_'));
        }
        if ("1".equals(sysctl("hw.optional.neon")) || "1".equals(sysctl("hw.optional.AdvSIMD"))) {
          flags.add("neon");
          flags.add("asimd");
        }
        if (flags.contains("avx1_0")) {
          flags.add("avx");
        }
      } else if (lower.contains("windows")) {
        model = System.getenv("PROCESSOR_IDENTIFIER");
      }
    } catch (IOException | RuntimeException e) {
      // Whatever was read stays; the rest is unknown.
    }
    List<String> simd = new ArrayList<>();
    for (String f : FEATURES) {
      if (flags.contains(f)) {
        simd.add(f);
      }
    }
    if (model == null || model.isBlank()) {
      model = "unknown " + System.getProperty("os.arch", "") + " CPU";
    }
    return new HostInfo(model.replaceAll("\\s+", " ").trim(), vendor == null ? "unknown" : vendor,
        Runtime.getRuntime().availableProcessors(), simd,
        osName + " " + System.getProperty("os.version", ""), System.getProperty("os.arch", "?"));
  }

  private static String armVendor(String implementer) {
    switch (implementer.toLowerCase(Locale.ROOT)) {
      case "0x41":
        return "ARM";
      case "0x61":
        return "Apple";
      case "0x48":
        return "HiSilicon";
      case "0x51":
        return "Qualcomm";
      case "0xc0":
        return "Ampere";
      default:
        return "implementer " + implementer;
    }
  }

  private static String sysctl(String key) {
    try {
      Process p = new ProcessBuilder("sysctl", "-n", key)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "";
      }
      return p.exitValue() == 0 ? out : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
