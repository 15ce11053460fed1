package io.sagebus.benchmarks.flink;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a child JVM reports about itself: time since the driver launched it, CPU time, peak resident memory.
 */
final class ProcessFigures {

  /** System property carrying the driver's {@code System.currentTimeMillis()} just before it started this JVM. */
  static final String LAUNCHED_AT = "sagebus.bench.launchedAtMillis";

  private ProcessFigures() {
  }

  /** @return seconds since the driver launched this JVM (since this JVM started, when run by hand) */
  static double secondsSinceLaunch() {
    String launched = System.getProperty(LAUNCHED_AT);
    long t0 = launched != null ? Long.parseLong(launched) : ManagementFactory.getRuntimeMXBean().getStartTime();
    return (System.currentTimeMillis() - t0) / 1000.0;
  }

  /** @return CPU seconds this process has used, all threads, or NaN */
  static double cpuSeconds() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
      ? os.getProcessCpuTime() / 1e9 : Double.NaN;
  }

  /** @return the peak resident set size of this process so far, in MB ({@code VmHWM} of /proc/self/status), or NaN */
  static double peakRssMegabytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          String kb = line.substring("VmHWM:".length()).trim().split("\\s+")[0];
          return Long.parseLong(kb) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("cannot read VmHWM from /proc/self/status: " + e);
    }
    return Double.NaN;
  }

  /** @return the machine's load average over the last minute (first field of /proc/loadavg), or NaN */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** @return a 1 KB record (1,024 Latin-1 characters), distinct per {@code i} */
  static String kilobyte(long i) {
    String tail = Long.toString(i);
    return FILLER.substring(tail.length()) + tail;
  }

  private static final String FILLER = "x".repeat(1024);
}
