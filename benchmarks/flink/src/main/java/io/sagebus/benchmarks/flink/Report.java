package io.sagebus.benchmarks.flink;

import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Prints the results as Markdown tables: issue 14's table with Sagebus/Flink ratios, the same at steady state, the
 * figures of each process, and the targets marked PASS or MISS (judged on the job figures, as the issue gives
 * them; the steady-state figure beside). Every figure is the median over the rounds.
 */
final class Report {

  private final Map<String, List<JsonObject>> results;
  private final Set<Workload> cases;
  private final int rounds;

  private final boolean quick;

  Report(Map<String, List<JsonObject>> results, Set<Workload> cases, int rounds, boolean quick) {
    this.results = results;
    this.cases = cases;
    this.rounds = rounds;
    this.quick = quick;
  }

  private List<JsonObject> runs(String engine, Workload w) {
    return results.getOrDefault(engine + "/" + w.id, List.of());
  }

  private int records(Workload w) {
    List<JsonObject> any = runs("sagebus", w).isEmpty() ? runs("flink", w) : runs("sagebus", w);
    return any.isEmpty() ? w.records : any.get(0).getInteger("records");
  }

  private double median(String engine, Workload w, ToDoubleFunction<JsonObject> f) {
    return FlinkComparison.median(runs(engine, w), f);
  }

  private static double jobRate(JsonObject j) {
    return j.getInteger("records") / j.getDouble("jobSeconds");
  }

  private static double steadyRate(JsonObject j) {
    return field(j, "steadyRecordsPerSecond");
  }

  private static double wallRate(JsonObject j) {
    return j.getInteger("records") / j.getDouble("wallSeconds");
  }

  private static double field(JsonObject j, String name) {
    Double d = j.getDouble(name);
    return d == null ? Double.NaN : d;
  }

  private static String rate(double r) {
    return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%,.0f rec/s", r);
  }

  void print() {
    String of = rounds == 1 ? "one run each" : "medians of " + rounds + " runs each";
    System.out.println();
    System.out.println("Job only: records / job time (Flink: JobExecutionResult net runtime; Sagebus: submit() to completion()),"
      + " " + of + ". In brackets beside each ratio: the same ratio of records / process wall time, from the JVM's"
      + " launch to the engine's shutdown (engine start included).");
    System.out.println();
    System.out.println("| workload | Flink | Sagebus | Sagebus / Flink |");
    System.out.println("| --- | --- | --- | --- |");
    for (Workload w : cases) {
      System.out.printf("| %s | %s | %s | %s |%n", w.title(records(w)), cell("flink", w), cell("sagebus", w), ratio(w));
    }

    printSteady(of);

    System.out.println();
    System.out.println("Per process (" + of + "): wall = launch of the JVM to the engine's shutdown; outside the job ="
      + " wall - job (JVM and engine start, job submission, shutdown); CPU = the process's CPU seconds over that wall"
      + " time, all threads (JIT compilation, GC, engine start included), and per record; peak RSS = VmHWM; load = the"
      + " machine's one-minute load average before and after the runs (lowest and highest).");
    System.out.println();
    System.out.println("| case | engine | job s | job rec/s | wall s | wall rec/s | outside the job s | CPU s | CPU us/rec |"
      + " peak RSS MB | max heap MB | load |");
    System.out.println("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Workload w : cases) {
      for (String engine : List.of("flink", "sagebus")) {
        if (runs(engine, w).isEmpty()) {
          continue;
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %,.0f | %.2f | %,.0f | %.2f | %.1f | %.2f | %.0f | %.0f | %s |%n",
          w.id, engine, median(engine, w, j -> j.getDouble("jobSeconds")), median(engine, w, Report::jobRate),
          median(engine, w, j -> j.getDouble("wallSeconds")), median(engine, w, Report::wallRate),
          median(engine, w, j -> j.getDouble("wallSeconds") - j.getDouble("jobSeconds")),
          median(engine, w, j -> field(j, "cpuSeconds")),
          median(engine, w, j -> field(j, "cpuSeconds") * 1e6 / j.getInteger("records")),
          median(engine, w, j -> field(j, "peakRssMb")), median(engine, w, j -> field(j, "maxHeapMb")), load(engine, w));
      }
    }
    printStartup();
    printTargets();
    quickNote();
  }

  /** {@return the lowest and highest load average seen around the runs of a case on an engine} */
  private String load(String engine, Workload w) {
    double low = Double.MAX_VALUE;
    double high = 0;
    for (JsonObject j : runs(engine, w)) {
      for (String f : List.of("loadBefore", "loadAfter")) {
        double v = field(j, f);
        if (!Double.isNaN(v)) {
          low = Math.min(low, v);
          high = Math.max(high, v);
        }
      }
    }
    return low == Double.MAX_VALUE ? "-" : String.format(Locale.ROOT, "%.1f-%.1f", low, high);
  }

  private String cell(String engine, Workload w) {
    if (runs(engine, w).isEmpty()) {
      return "-";
    }
    double r = median(engine, w, Report::jobRate);
    StringBuilder s = new StringBuilder(rate(r));
    if (w.fiveMillis()) {
      double delay = median(engine, w, j -> field(j, "delayMeanMs"));
      double nominal = Workload.CAPACITY * 1000.0 / Workload.DELAY_MS;
      s.append(String.format(Locale.ROOT, " (%.2f of %d / %d ms; %.2f of %d / %.2f ms, the measured mean delay", r / nominal,
        Workload.CAPACITY, Workload.DELAY_MS, r / (Workload.CAPACITY * 1000.0 / delay), Workload.CAPACITY, delay));
      if (engine.equals("sagebus")) {
        String source = "scheduler".equals(runs(engine, w).get(0).getString("delaySource"))
          ? "its ScheduledExecutorService" : "its Vert.x timer";
        s.append(String.format(Locale.ROOT, " of %s; mean call latency %.2f ms", source,
          median(engine, w, j -> field(j, "callMeanMs"))));
      } else {
        s.append(" of its ScheduledExecutorService");
      }
      s.append(')');
    }
    if (engine.equals("sagebus") && (w == Workload.SYNC_CALL_P1 || w == Workload.SYNC_CALL_P4)) {
      s.append(String.format(Locale.ROOT, ", %.2fx of raw sequential request-reply in the same JVM (%,.0f/s)",
        median(engine, w, j -> jobRate(j) / field(j, "rawSequentialPerSecond")),
        median(engine, w, j -> field(j, "rawSequentialPerSecond"))));
      if (w == Workload.SYNC_CALL_P4 && !runs(engine, Workload.SYNC_CALL_P1).isEmpty()) {
        s.append(String.format(Locale.ROOT, ", %.2fx of parallelism 1", r / median(engine, Workload.SYNC_CALL_P1, Report::jobRate)));
      }
    }
    if (w == Workload.KB_ASYNC) {
      if (engine.equals("sagebus")) {
        s.append(String.format(Locale.ROOT, ", peak %,.0f records in flight (cap %,.0f)",
          median(engine, w, j -> field(j, "peakRecordsInFlight")), median(engine, w, j -> field(j, "maxRecordsInFlight"))));
      }
      s.append(String.format(Locale.ROOT, ", peak RSS %.0f MB", median(engine, w, j -> field(j, "peakRssMb"))));
    }
    return s.toString();
  }

  private String ratio(Workload w) {
    if (runs("flink", w).isEmpty() || runs("sagebus", w).isEmpty()) {
      return "-";
    }
    double job = median("sagebus", w, Report::jobRate) / median("flink", w, Report::jobRate);
    double wall = median("sagebus", w, Report::wallRate) / median("flink", w, Report::wallRate);
    return String.format(Locale.ROOT, "%.2fx (%.2fx counting engine start)", job, wall);
  }

  /** The steady-state rates: what a longer run of each case would show, with no cost paid once. */
  private void printSteady(String of) {
    System.out.println();
    System.out.println("Steady state: records / s at the sink from the record at a fifth of the run to the last, " + of
      + ". What a run pays once is left out: the JIT compiling a cold JVM's code (about half the CPU of its first second"
      + " on 2 cores), the engine deploying the job, services starting. Longer runs tend to these figures. Heap per"
      + " record: what the whole process allocated over the same records, all threads, divided by their number.");
    System.out.println();
    System.out.println("| workload | Flink | Sagebus | Sagebus / Flink | heap per record, Flink | heap per record, Sagebus |");
    System.out.println("| --- | --- | --- | --- | ---: | ---: |");
    for (Workload w : cases) {
      String flink = runs("flink", w).isEmpty() ? "-" : rate(median("flink", w, Report::steadyRate));
      String sagebus = runs("sagebus", w).isEmpty() ? "-" : rate(median("sagebus", w, Report::steadyRate));
      if (w == Workload.SYNC_CALL_P4 && !runs("sagebus", w).isEmpty() && !runs("sagebus", Workload.SYNC_CALL_P1).isEmpty()) {
        sagebus += String.format(Locale.ROOT, ", %.2fx of parallelism 1", steadyScaling());
      }
      String ratio = runs("flink", w).isEmpty() || runs("sagebus", w).isEmpty() ? "-" : String.format(Locale.ROOT, "%.2fx",
        steadyAgainstFlink(w));
      System.out.printf("| %s | %s | %s | %s | %s | %s |%n", w.title(records(w)), flink, sagebus, ratio,
        heapPerRecord("flink", w), heapPerRecord("sagebus", w));
    }
  }

  /** {@return the median heap one engine's runs of a case allocated per steady-state record, or "-" when not measured} */
  private String heapPerRecord(String engine, Workload w) {
    List<JsonObject> measured = runs(engine, w).stream().filter(j -> j.containsKey("steadyAllocatedBytesPerRecord")).toList();
    if (measured.isEmpty()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%,.0f B", FlinkComparison.median(measured,
      j -> j.getDouble("steadyAllocatedBytesPerRecord")));
  }

  private double steadyAgainstFlink(Workload w) {
    return median("sagebus", w, Report::steadyRate) / median("flink", w, Report::steadyRate);
  }

  private double steadyScaling() {
    return median("sagebus", Workload.SYNC_CALL_P4, Report::steadyRate)
      / median("sagebus", Workload.SYNC_CALL_P1, Report::steadyRate);
  }

  private void printStartup() {
    double flink = Double.NaN;
    double sagebus = Double.NaN;
    for (Workload w : List.of(Workload.MAP)) {
      if (cases.contains(w) && !runs("flink", w).isEmpty()) {
        flink = median("flink", w, j -> j.getDouble("wallSeconds") - j.getDouble("jobSeconds"));
        sagebus = median("sagebus", w, j -> j.getDouble("wallSeconds") - j.getDouble("jobSeconds"));
      }
    }
    if (!Double.isNaN(flink)) {
      System.out.printf(Locale.ROOT, "%nOutside the job (map with no call): Flink %.2f s (JVM, MiniCluster start and stop),"
        + " Sagebus %.2f s (JVM, Vert.x and LocalEnvironment start and close): Sagebus %.1fx shorter.%n", flink, sagebus,
        flink / sagebus);
    }
  }

  /**
   * {@return {@code x} with {@code decimals} decimals, or more where those would round a miss up to its threshold
   * (0.496 is not 0.50, 0.9497 is not 0.950)}
   */
  static String shown(double x, double threshold, int decimals) {
    int d = decimals;
    String text = String.format(Locale.ROOT, "%." + d + "f", x);
    while (x < threshold && Double.parseDouble(text) >= threshold && d < 6) {
      d++;
      text = String.format(Locale.ROOT, "%." + d + "f", x);
    }
    return text;
  }

  private void printTargets() {
    System.out.println();
    System.out.println("| target (issue 14) | this run | verdict |");
    System.out.println("| --- | --- | --- |");
    for (Workload w : List.of(Workload.ASYNC_5MS_ORDERED, Workload.ASYNC_5MS_UNORDERED)) {
      if (!cases.contains(w)) {
        continue;
      }
      double s = median("sagebus", w, Report::jobRate);
      double f = median("flink", w, Report::jobRate);
      double delay = median("sagebus", w, j -> field(j, "delayMeanMs"));
      double ofBound = s / (Workload.CAPACITY * 1000.0 / delay);
      target("mapAsync over a 5 ms Future service, capacity 100, " + (w.ordered() ? "ordered" : "unordered")
          + ": >= 0.95x of capacity / latency and >= Flink",
        String.format(Locale.ROOT, "%sx of 100 / %.2f ms (measured delay); %.2fx Flink", shown(ofBound, 0.95, 3), delay,
          s / f),
        ofBound >= 0.95 && s >= f);
    }
    if (cases.contains(Workload.ASYNC_NOW)) {
      double x = median("sagebus", Workload.ASYNC_NOW, Report::jobRate) / median("flink", Workload.ASYNC_NOW, Report::jobRate);
      target("mapAsync over a trivial Future service >= 0.5x Flink's immediately-completing async function",
        String.format(Locale.ROOT, "%sx (steady state %.2fx)", shown(x, 0.5, 2), steadyAgainstFlink(Workload.ASYNC_NOW)),
        x >= 0.5);
    }
    if (cases.contains(Workload.SYNC_CALL_P1)) {
      double x = median("sagebus", Workload.SYNC_CALL_P1, j -> jobRate(j) / field(j, "rawSequentialPerSecond"));
      target("map with a sync callService, parallelism 1 >= 0.9x raw sequential request-reply (same JVM)",
        shown(x, 0.9, 2) + "x", x >= 0.9);
    }
    if (cases.contains(Workload.SYNC_CALL_P1) && cases.contains(Workload.SYNC_CALL_P4)) {
      double x = median("sagebus", Workload.SYNC_CALL_P4, Report::jobRate)
        / median("sagebus", Workload.SYNC_CALL_P1, Report::jobRate);
      target("the sync-call map at parallelism 4 >= 1.6x parallelism 1",
        String.format(Locale.ROOT, "%sx (steady state %.2fx)", shown(x, 1.6, 2), steadyScaling()), x >= 1.6);
    }
    if (cases.contains(Workload.KB_ASYNC)) {
      double r = median("sagebus", Workload.KB_ASYNC, Report::jobRate);
      double peak = median("sagebus", Workload.KB_ASYNC, j -> field(j, "peakRecordsInFlight"));
      double cap = median("sagebus", Workload.KB_ASYNC, j -> field(j, "maxRecordsInFlight"));
      double rss = median("sagebus", Workload.KB_ASYNC, j -> field(j, "peakRssMb"));
      target("1 KB records through mapAsync over a service, -Xmx256m: >= 100,000 rec/s, peak in flight <= cap, RSS reported",
        String.format(Locale.ROOT, "%,.0f rec/s, peak %,.0f of %,.0f, RSS %.0f MB", r, peak, cap, rss),
        r >= 100_000 && peak <= cap);
    }
    if (cases.contains(Workload.MAP)) {
      double x = median("sagebus", Workload.MAP, Report::jobRate) / median("flink", Workload.MAP, Report::jobRate);
      target("map with no call >= Flink", String.format(Locale.ROOT, "%sx (steady state %.2fx)", shown(x, 1.0, 2),
        steadyAgainstFlink(Workload.MAP)), x >= 1.0);
    }
  }

  private void quickNote() {
    if (quick) {
      System.out.println();
      System.out.println("--quick: a tenth of the records, in cold JVMs: a smoke check of the harness; its verdicts do not"
        + " judge the targets (run without --quick for that).");
    }
  }

  private static void target(String what, String figure, boolean met) {
    System.out.printf("| %s | %s | %s |%n", what, figure, met ? "PASS" : "**MISS**");
  }
}
