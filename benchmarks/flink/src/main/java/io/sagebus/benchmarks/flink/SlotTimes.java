package io.sagebus.benchmarks.flink;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;

/**
 * Where a 5 ms case's slot time goes, record by record ({@code -Dsagebus.bench.breakdown=true}, Sagebus side only):
 * when the operator started the call, when the service's method ran, when its timer fired and when the operator heard
 * the answer. Records are the values 0 to n-1, so each is its own index; only the steady state counts (from the tenth
 * record of the run to the 200th from its end). Written from several threads, one slot per record each, and read once
 * the job has ended.
 */
final class SlotTimes {

  /** System property turning the breakdown on. */
  static final String PROPERTY = "sagebus.bench.breakdown";

  private final long[] started;
  private final long[] ran;
  private final long[] fired;
  private final long[] heard;

  SlotTimes(int n) {
    started = new long[n];
    ran = new long[n];
    fired = new long[n];
    heard = new long[n];
  }

  /** {@return a breakdown for {@code n} records, or {@code null} when the property is off} */
  static SlotTimes ifEnabled(int n) {
    return Boolean.getBoolean(PROPERTY) ? new SlotTimes(n) : null;
  }

  void started(long record, long nanos) {
    started[(int) record] = nanos;
  }

  void ran(long record, long nanos) {
    ran[(int) record] = nanos;
  }

  void fired(long record, long nanos) {
    fired[(int) record] = nanos;
  }

  void heard(long record, long nanos) {
    heard[(int) record] = nanos;
  }

  /** {@return when the first call started (nanoTime)} */
  long firstStart() {
    return started[0];
  }

  /**
   * {@return the means in microseconds of each leg, and how calls start: the gaps between consecutive method runs}
   *
   * @param capacity the calls in flight: the call after record i's answer that reuses its slot is i + capacity's
   */
  JsonObject summary(int capacity) {
    int n = started.length;
    int from = n / 10;
    int to = n - Math.max(200, capacity);
    if (to - from < 2 || from - capacity < 2) {
      return new JsonObject().put("records", 0).put("why", "too few records for a steady state: " + n);
    }
    return legs(capacity, from, to).put("firstTenth", legs(capacity, capacity, from));
  }

  /** The legs' means over the records {@code from} (inclusive) to {@code to}. */
  private JsonObject legs(int capacity, int from, int to) {
    double toRun = 0;
    double toFire = 0;
    double toHear = 0;
    long[] reuse = new long[to - from];
    for (int i = from; i < to; i++) {
      toRun += ran[i] - started[i];
      toFire += fired[i] - ran[i];
      toHear += heard[i] - fired[i];
      reuse[i - from] = started[i + capacity] - heard[i];
    }
    int k = to - from;
    long[] runs = Arrays.copyOfRange(ran, from, to);
    Arrays.sort(runs);
    long[] gaps = new long[runs.length - 1];
    for (int i = 1; i < runs.length; i++) {
      gaps[i - 1] = runs[i] - runs[i - 1];
    }
    Arrays.sort(gaps);
    Arrays.sort(reuse);
    return new JsonObject()
      .put("records", k)
      .put("startToRunUs", toRun / k / 1e3)
      .put("runToFireUs", toFire / k / 1e3)
      .put("fireToHeardUs", toHear / k / 1e3)
      .put("heardToSlotReusedUs", Arrays.stream(reuse).average().orElse(0) / 1e3)
      .put("heardToSlotReusedP50Us", reuse[k / 2] / 1e3)
      .put("runGapP50Us", gaps[gaps.length / 2] / 1e3)
      .put("runGapP99Us", gaps[gaps.length * 99 / 100] / 1e3)
      .put("steadyRecordsPerSecond", (k - 1) / ((started[to - 1] - started[from]) / 1e9));
  }

}
