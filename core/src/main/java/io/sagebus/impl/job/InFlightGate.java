package io.sagebus.impl.job;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the records between a job's sources and its sinks. Sources wait at the cap; operators
 * that multiply records add theirs without waiting (waiting there could deadlock: the records
 * that would free room can sit behind the waiting operator).
 */
final class InFlightGate {

  private final long cap;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition room = lock.newCondition();
  private long inFlight;
  private long peak;

  InFlightGate(long cap) {
    this.cap = cap;
  }

  /** A source admits one record, waiting while the cap is reached. */
  void acquire() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (inFlight >= cap) {
        room.await();
      }
      inFlight++;
      peak = Math.max(peak, inFlight);
    } finally {
      lock.unlock();
    }
  }

  void add(long n) {
    lock.lock();
    try {
      inFlight += n;
      peak = Math.max(peak, inFlight);
    } finally {
      lock.unlock();
    }
  }

  void release(long n) {
    lock.lock();
    try {
      inFlight -= n;
      if (inFlight < cap) {
        room.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  long peak() {
    lock.lock();
    try {
      return peak;
    } finally {
      lock.unlock();
    }
  }

  /** {@return the records in flight now} */
  long current() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  long cap() {
    return cap;
  }
}
