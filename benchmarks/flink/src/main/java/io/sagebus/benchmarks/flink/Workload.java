package io.sagebus.benchmarks.flink;

import java.util.List;

/**
 * The workloads of issue 14, each run on Flink (where Flink has an equivalent) and on Sagebus, one JVM per run.
 */
enum Workload {

  /** Records through an async call that completes after 5 ms, capacity 100, results in input order. */
  ASYNC_5MS_ORDERED("async5-ordered", "%s records through an async call that completes after 5 ms, capacity 100, ordered",
    200_000, 20_000, true, List.of()),
  /** The same, results as they complete. */
  ASYNC_5MS_UNORDERED("async5-unordered", "the same, unordered", 200_000, 20_000, true, List.of()),
  /** A map that calls nothing. */
  MAP("map", "%s records, map with no call", 1_000_000, 100_000, true, List.of()),
  /** An async step whose future is complete at once (Flink: RichAsyncFunction; Sagebus: mapAsync over a Future method). */
  ASYNC_NOW("async-now", "%s records, async step that completes at once (Flink: RichAsyncFunction, orderedWait;"
    + " Sagebus: mapAsync over a Future-returning service), capacity 100, ordered", 1_000_000, 100_000, true, List.of()),
  /** A map making a sync callService to a trivial plain-value service, one instance. Sagebus only. */
  SYNC_CALL_P1("sync-p1", "%s records, map with a sync callService to a trivial plain-value service, parallelism 1",
    1_000_000, 50_000, false, List.of()),
  /** The same at parallelism 4. Sagebus only. */
  SYNC_CALL_P4("sync-p4", "the same at parallelism 4", 1_000_000, 50_000, false, List.of()),
  /** 1 KB records through an async step over a service in a 256 MB heap (Flink: an async function completing at once). */
  KB_ASYNC("kb-async", "%s records of 1 KB through an async step over a service (Flink: RichAsyncFunction completing"
    + " at once; Sagebus: mapAsync over a Future-returning service), capacity 100, -Xmx256m", 1_000_000, 100_000, true,
    List.of("-Xmx256m"));

  /** In-flight capacity of every async step. */
  static final int CAPACITY = 100;

  /** The delay of the slow service, in ms. */
  static final int DELAY_MS = 5;

  final String id;
  final String title;
  final int records;
  final int quickRecords;
  final boolean onFlink;
  final List<String> jvmOptions;

  Workload(String id, String title, int records, int quickRecords, boolean onFlink, List<String> jvmOptions) {
    this.id = id;
    this.title = title;
    this.records = records;
    this.quickRecords = quickRecords;
    this.onFlink = onFlink;
    this.jvmOptions = jvmOptions;
  }

  /** @return the title, with the number of records of this run */
  String title(int n) {
    return title.replace("%s", String.format(java.util.Locale.ROOT, "%,d", n));
  }

  boolean fiveMillis() {
    return this == ASYNC_5MS_ORDERED || this == ASYNC_5MS_UNORDERED;
  }

  boolean ordered() {
    return this != ASYNC_5MS_UNORDERED;
  }

  static Workload byId(String id) {
    for (Workload w : values()) {
      if (w.id.equals(id)) {
        return w;
      }
    }
    throw new IllegalArgumentException("unknown case '" + id + "'; cases: " + ids());
  }

  static List<String> ids() {
    return java.util.Arrays.stream(values()).map(w -> w.id).toList();
  }
}
