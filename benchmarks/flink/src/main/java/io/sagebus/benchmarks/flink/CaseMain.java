package io.sagebus.benchmarks.flink;

import io.vertx.core.json.JsonObject;

/**
 * One run in a JVM of its own: {@code CaseMain flink|sagebus <case> <records> [rawCalls]}. Prints one line,
 * {@code RESULT {json}}, on stdout: the engine's figures plus this process's wall time since launch, CPU seconds and
 * peak RSS, all taken when the engine has shut down (before the raw baseline of the sync-call cases).
 */
public final class CaseMain {

  /** Marks the result line on stdout. */
  static final String PREFIX = "RESULT ";

  private CaseMain() {
  }

  /**
   * Runs one case.
   *
   * @param args engine, case id, records, and for the sync-call cases the number of raw baseline calls
   * @throws Exception when the run fails (the driver prints this JVM's output)
   */
  public static void main(String[] args) throws Exception {
    String engine = args[0];
    Workload w = Workload.byId(args[1]);
    int n = Integer.parseInt(args[2]);
    JsonObject json = switch (engine) {
      case "flink" -> FlinkCases.run(w, n);
      case "sagebus" -> SagebusCases.run(w, n);
      default -> throw new IllegalArgumentException("engine must be flink or sagebus, got " + engine);
    };
    json.put("wallSeconds", ProcessFigures.secondsSinceLaunch())
      .put("cpuSeconds", ProcessFigures.cpuSeconds())
      .put("peakRssMb", ProcessFigures.peakRssMegabytes())
      .put("maxHeapMb", Runtime.getRuntime().maxMemory() / 1024.0 / 1024.0);
    if (engine.equals("sagebus") && (w == Workload.SYNC_CALL_P1 || w == Workload.SYNC_CALL_P4) && args.length > 3) {
      json.put("rawSequentialPerSecond", SagebusCases.rawSequential(Integer.parseInt(args[3])));
    }
    json.put("engine", engine).put("case", w.id).put("records", n);
    System.out.println(PREFIX + json.encode());
    System.out.flush();
    // Flink and Vert.x leave non-daemon threads behind on some paths; the figures are out, so end the JVM here.
    System.exit(0);
  }
}
