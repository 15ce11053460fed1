package io.sagebus.impl.job;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the records between a job's sources and its sinks. Sources wait at the cap; operators
 * that multiply records add theirs without waiting (waiting there could deadlock: the records
 * that would free room can sit behind the waiting operator).
 * <p>
 * The count is one atomic number, so a record that passes costs a compare-and-set at its source
 * and an add at its end; the lock is taken only by a source that waits at the cap and by a release
 * that finds one waiting.
 */
final class InFlightGate {

  private final long cap;
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong peak = new AtomicLong();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition room = lock.newCondition();
  /** Sources waiting at the cap (written under the lock, read by releases without it). */
  private final AtomicInteger waiting = new AtomicInteger();

  InFlightGate(long cap) {
    this.cap = cap;
  }

  /** A source admits one record, waiting while the cap is reached. */
  void acquire() throws InterruptedException {
    while (true) {
      long n = inFlight.get();
      if (n < cap) {
        if (inFlight.compareAndSet(n, n + 1)) {
          raisePeak(n + 1);
          return;
        }
      } else {
        awaitRoom();
      }
    }
  }

  /**
   * A source admits up to {@code max} records at once (at least one), waiting while the cap is reached; it gives back
   * those it does not send.
   *
   * @param max the most it takes
   * @return how many it took
   */
  int acquireUpTo(int max) throws InterruptedException {
    while (true) {
      long n = inFlight.get();
      if (n < cap) {
        int k = (int) Math.min(max, cap - n);
        if (inFlight.compareAndSet(n, n + k)) {
          raisePeak(n + k);
          return k;
        }
      } else {
        awaitRoom();
      }
    }
  }

  /** Waits until the count is below the cap (then the caller tries again). */
  private void awaitRoom() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      // Announced before the count is read again: a release that lowers it after this read sees a waiter.
      waiting.incrementAndGet();
      try {
        while (inFlight.get() >= cap) {
          room.await();
        }
      } finally {
        waiting.decrementAndGet();
      }
    } finally {
      lock.unlock();
    }
  }

  void add(long n) {
    raisePeak(inFlight.addAndGet(n));
  }

  void release(long n) {
    long now = inFlight.addAndGet(-n);
    if (now < cap && waiting.get() > 0) {
      lock.lock();
      try {
        room.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void raisePeak(long n) {
    long p = peak.get();
    while (n > p && !peak.compareAndSet(p, n)) {
      p = peak.get();
    }
  }

  long peak() {
    return peak.get();
  }

  /** {@return the records in flight now} */
  long current() {
    return inFlight.get();
  }

  long cap() {
    return cap;
  }
}
