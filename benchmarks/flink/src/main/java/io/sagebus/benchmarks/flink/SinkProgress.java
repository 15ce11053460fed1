package io.sagebus.benchmarks.flink;

import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;

/**
 * When the records of a run reach its sink: the clock at the first record and at each tenth of them. From these the
 * steady-state rate: records per second from the record at a fifth of the run to the last, and the heap the whole process
 * allocated per record over the same records (all threads: the engine's own included), which leaves out what a
 * run pays once (JIT compilation of a cold JVM, which on these 2 cores takes about half the CPU of the first second,
 * the engine deploying the job, services starting). A job-only figure carries that cost, and it weighs more on the
 * shorter of two jobs of the same records.
 *
 * <p>One writer: the sink of every case runs as one instance on one thread (Flink's sink task at parallelism 1,
 * Sagebus's sink operator), in the JVM of the run. Read once the job has ended.
 */
final class SinkProgress {

  /** The run's progress: set before its job starts (Flink's sink writer is made by Flink, so it reaches it here). */
  static volatile SinkProgress current;

  private final int records;
  private final long tenth;
  /** Clock at the first record (index 0) and at records tenth, 2 tenth, ... records (indexes 1..10). */
  private final long[] marks = new long[11];
  private long seen;
  /** The count at which {@link #record()} calls {@link #check} next. */
  private long nextCheck = 1;
  /** The process's heap allocation so far (all threads) at the marks of indexes 2 and 10; -1 when the JVM cannot say. */
  private long allocatedAtFifth = -1;
  private long allocatedAtEnd = -1;
  /** Written after each mark: what the reader reads first. */
  private volatile long lastMark;

  /**
   * @param records the records the run sends
   */
  SinkProgress(int records) {
    if (records < 10) {
      throw new IllegalArgumentException("a run needs at least 10 records, got " + records);
    }
    this.records = records;
    this.tenth = records / 10;
  }

  /** Counts one record at the sink; on the sink's one thread. */
  void record() {
    long c = ++seen;
    if (c >= nextCheck) {
      check(c);
    }
  }

  /**
   * Takes a mark at the first record and at each tenth. It is also called at each power of two before the first tenth,
   * so that the JIT sees {@link #record()}'s branch taken while it profiles the sink: a branch never seen taken is
   * compiled as a trap, and the first tenth would then send the engine's compiled record path (into which the sink's
   * function is inlined, shared with the other operators' instances in Sagebus) back to the interpreter until it is
   * compiled again, a cost of the measurement, not of the engine.
   */
  private void check(long c) {
    if (c == 1 || c % tenth == 0) {
      int i = (int) Math.min(10, c / tenth);
      if (marks[i] == 0) {
        marks[i] = System.nanoTime();
        if (i == 2) {
          allocatedAtFifth = allocatedBytes();
        } else if (i == 10) {
          allocatedAtEnd = allocatedBytes();
        }
        lastMark = marks[i];
      }
    }
    nextCheck = c < tenth ? Math.min(2 * c, tenth) : c + tenth;
  }

  /**
   * @param started the clock reading ({@link System#nanoTime()}) the job was started at
   * @return the figures: {@code steadyRecordsPerSecond} (records from the second tenth's end to the last, over the
   * time between), {@code firstRecordSeconds} (job start to the first record at the sink),
   * {@code firstTenthSeconds} (job start to a tenth of the records at the sink), {@code lastRecordSeconds} (job
   * start to the last record at the sink: the job's clock runs on after it while the engine ends the job) and
   * {@code steadyAllocatedBytesPerRecord} (heap the process allocated, all threads, over the steady-state records,
   * per record; absent when the JVM does not measure allocation)
   */
  JsonObject figures(long started) {
    if (lastMark == 0 || marks[10] == 0 || marks[2] == 0) {
      throw new IllegalStateException("the sink saw " + seen + " of " + records + " records");
    }
    long steadyRecords = 10 * tenth - 2 * tenth;
    JsonObject json = new JsonObject();
    if (allocatedAtFifth >= 0 && allocatedAtEnd >= allocatedAtFifth) {
      json.put("steadyAllocatedBytesPerRecord", (allocatedAtEnd - allocatedAtFifth) / (double) steadyRecords);
    }
    return json
      .put("steadyRecordsPerSecond", steadyRecords / ((marks[10] - marks[2]) / 1e9))
      .put("firstRecordSeconds", (marks[0] - started) / 1e9)
      .put("firstTenthSeconds", (marks[1] - started) / 1e9)
      .put("lastRecordSeconds", (marks[10] - started) / 1e9);
  }

  /**
   * {@return the heap this process has allocated since it started, all threads (a virtual thread's allocation counts
   * for its carrier), or -1 when the JVM does not measure it}
   */
  private static long allocatedBytes() {
    try {
      return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemoryEnabled() ? threads.getTotalThreadAllocatedBytes() : -1;
    } catch (UnsupportedOperationException e) {
      return -1;
    }
  }
}
