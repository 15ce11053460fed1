package io.sagebus.impl.call;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The attempt deadlines of an environment's direct calls ({@link DirectCalls}) on one Vert.x timer.
 * <p>
 * A request on the event bus sets a Vert.x timer of its own and cancels it when the reply comes:
 * two hops to an event loop per call, which wake it when it sleeps. Here a deadline is an entry in a
 * list, added and removed under a lock, and one Vert.x timer is armed for the earliest deadline it
 * knows. A deadline later than the armed one arms nothing, and an entry whose call was answered is
 * unlinked without touching the timer: when the timer fires, it expires the entries that are due and
 * arms itself again for the earliest one left. As the calls of one environment mostly have the same
 * budget, the timer fires about once per budget, however many calls come and go; yet every deadline
 * fires when it is due, as the bus's own timer would.
 */
public final class DeadlineTimer {

  private static final long NANOS_PER_MILLI = TimeUnit.MILLISECONDS.toNanos(1);

  /** One deadline, in the list while its call waits. */
  public static final class Entry {
    private final long deadline;
    private final Runnable onExpiry;
    private Entry prev;
    private Entry next;

    private Entry(long deadline, Runnable onExpiry) {
      this.deadline = deadline;
      this.onExpiry = onExpiry;
    }
  }

  /** The sentinel of a circular list of the entries waiting. */
  private final Entry head = new Entry(0, null);
  private Vertx vertx;
  private boolean armed;
  /** The deadline the armed timer fires for, {@link System#nanoTime()} based. */
  private long armedAt;
  private long timerId = -1;
  private int size;
  private boolean closed;

  /** An empty timer. */
  public DeadlineTimer() {
    head.prev = head;
    head.next = head;
  }

  /**
   * Adds a deadline.
   *
   * @param vertx    the Vertx whose timer fires it
   * @param deadline {@link System#nanoTime()} at which it is due
   * @param onExpiry runs when it is due and was not {@link #cancel(Entry) cancelled}, on an event loop
   * @return the entry, to cancel; {@code null} once the timer is closed
   */
  public Entry schedule(Vertx vertx, long deadline, Runnable onExpiry) {
    Entry e = new Entry(deadline, onExpiry);
    synchronized (this) {
      if (closed) {
        return null;
      }
      e.prev = head.prev;
      e.next = head;
      head.prev.next = e;
      head.prev = e;
      size++;
      if (!armed || deadline - armedAt < 0) {
        arm(vertx, deadline);
      }
    }
    return e;
  }

  /**
   * Removes a deadline whose call was answered (nothing happens if it fired or was removed already).
   *
   * @param e what {@link #schedule} returned
   */
  public synchronized void cancel(Entry e) {
    if (e.next != null) {
      unlink(e);
    }
  }

  /** {@return deadlines waiting now} */
  public synchronized int size() {
    return size;
  }

  /** Under the lock: arms the Vert.x timer for {@code deadline}, in place of the one armed. */
  private void arm(Vertx vertx, long deadline) {
    if (armed) {
      this.vertx.cancelTimer(timerId);
    }
    this.vertx = vertx;
    long delayNanos = deadline - System.nanoTime();
    long delayMillis = Math.max(1, (delayNanos + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI);
    armed = true;
    armedAt = deadline;
    timerId = vertx.setTimer(delayMillis, this::fire);
  }

  private void fire(long id) {
    List<Runnable> due = new ArrayList<>();
    synchronized (this) {
      if (!armed || id != timerId) {
        return; // replaced by an earlier one
      }
      armed = false;
      long now = System.nanoTime();
      boolean left = false;
      long earliest = 0;
      for (Entry e = head.next; e != head; ) {
        Entry next = e.next;
        if (e.deadline - now <= 0) {
          unlink(e);
          due.add(e.onExpiry);
        } else if (!left || e.deadline - earliest < 0) {
          left = true;
          earliest = e.deadline;
        }
        e = next;
      }
      if (left && !closed) {
        arm(vertx, earliest);
      }
    }
    for (Runnable r : due) {
      r.run();
    }
  }

  private void unlink(Entry e) {
    e.prev.next = e.next;
    e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
    size--;
  }

  /**
   * Closes the timer, with its environment: the Vert.x timer is cancelled, and a deadline still
   * waiting (its call was never answered, which should not happen once the services have stopped)
   * expires now rather than never.
   */
  public void close() {
    List<Runnable> left = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (armed) {
        vertx.cancelTimer(timerId);
        armed = false;
      }
      while (head.next != head) {
        Entry e = head.next;
        unlink(e);
        left.add(e.onExpiry);
      }
    }
    for (Runnable r : left) {
      r.run();
    }
  }
}
