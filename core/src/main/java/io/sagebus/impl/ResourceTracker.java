package io.sagebus.impl;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What an environment holds open: consumers, timers and service threads. Every place that opens
 * one records it here and removes it when it closes, so a test (and a user) can check that
 * nothing outlives the environment.
 */
public final class ResourceTracker {

  private final AtomicLong ids = new AtomicLong();
  private final Map<Long, String> open = new ConcurrentHashMap<>();
  private final Map<Long, Runnable> timers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A tracker with nothing open. */
  public ResourceTracker() {
  }

  /**
   * Records an open resource.
   *
   * @param kind        {@code consumer}, {@code timer} or {@code thread}
   * @param description what it is
   * @return the key to give to {@link #closed(long)}
   */
  public long opened(String kind, String description) {
    long id = ids.incrementAndGet();
    open.put(id, kind + " " + description);
    return id;
  }

  /**
   * Records that a resource closed.
   *
   * @param key what {@link #opened(String, String)} returned
   */
  public void closed(long key) {
    open.remove(key);
  }

  /**
   * Sets a one-shot timer that {@link #cancelTimers()} can cancel.
   *
   * @param vertx       the Vertx
   * @param delayMillis the delay, at least 1 ms is used
   * @param description what the timer is for
   * @param onFire      runs when the timer fires
   * @param onCancel    runs instead when the timer is cancelled, or at once when the tracker is closed
   */
  public void timer(Vertx vertx, long delayMillis, String description, Runnable onFire, Runnable onCancel) {
    if (closed) {
      onCancel.run();
      return;
    }
    long key = opened("timer", description);
    long id = vertx.setTimer(Math.max(1, delayMillis), tid -> {
      if (timers.remove(tid) != null) {
        closed(key);
        onFire.run();
      }
    });
    timers.put(id, () -> {
      vertx.cancelTimer(id);
      closed(key);
      onCancel.run();
    });
  }

  /**
   * Cancels every pending timer (running their {@code onCancel}) and refuses new ones.
   */
  public void cancelTimers() {
    closed = true;
    for (Long id : List.copyOf(timers.keySet())) {
      Runnable cancel = timers.remove(id);
      if (cancel != null) {
        cancel.run();
      }
    }
  }

  /**
   * {@return one line per open resource, sorted}
   */
  public List<String> list() {
    List<String> list = new ArrayList<>(open.values());
    list.sort(null);
    return list;
  }
}
