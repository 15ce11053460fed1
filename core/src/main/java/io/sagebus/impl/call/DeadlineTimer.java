package io.sagebus.impl.call;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The attempt deadlines of an environment's direct calls ({@link DirectCalls}) on a few Vert.x timers.
 * <p>
 * A request on the event bus sets a Vert.x timer of its own and cancels it when the reply comes:
 * two hops to an event loop per call, which wake it when it sleeps. Here a deadline is an entry in a
 * list, added and removed under a lock, and one Vert.x timer is armed for the earliest deadline the
 * list knows. A deadline later than the armed one arms nothing, and an entry whose call was answered is
 * unlinked without touching the timer: when the timer fires, it expires the entries that are due and
 * arms itself again for the earliest one left. As the calls of one environment mostly have the same
 * budget, the timer fires about once per budget, however many calls come and go; yet every deadline
 * fires when it is due, as the bus's own timer would.
 * <p>
 * Every call in the JVM adds and removes an entry, from whichever thread makes it (event loops,
 * operators, virtual threads): so that they do not all take one lock, the entries are spread over
 * stripes by the calling thread, each stripe a list with its own lock and its own timer (twice as many
 * stripes as processors, rounded up to a power of two, at most 64). An entry is removed from its own
 * stripe, from any thread.
 */
public final class DeadlineTimer {

  private static final long NANOS_PER_MILLI = TimeUnit.MILLISECONDS.toNanos(1);

  /**
   * One deadline, in its stripe's list while its call waits. A call's own object may be its entry (a subclass), so that
   * a deadline costs no object of its own.
   */
  public abstract static class Entry {
    private long deadline;
    private Stripe stripe;
    private Entry prev;
    private Entry next;

    /** An entry not scheduled yet. */
    protected Entry() {
    }

    /** Runs when the deadline is due and the entry was not {@link #cancel(Entry) cancelled}, on an event loop. */
    protected abstract void expired();
  }

  /** The entry of a {@link #schedule(Vertx, long, Runnable)}: runs its task. */
  private static final class TaskEntry extends Entry {
    private final Runnable onExpiry;

    TaskEntry(Runnable onExpiry) {
      this.onExpiry = onExpiry;
    }

    @Override
    protected void expired() {
      onExpiry.run();
    }
  }

  private final Stripe[] stripes;
  /** How far a thread's hash is shifted right to give a stripe's index: its top bits. */
  private final int shift;

  /** An empty timer. */
  public DeadlineTimer() {
    int wanted = Math.min(64, 2 * Runtime.getRuntime().availableProcessors());
    int n = Integer.highestOneBit(wanted - 1) << 1; // the power of two at or above it, at least 2
    stripes = new Stripe[n];
    for (int i = 0; i < n; i++) {
      stripes[i] = new Stripe();
    }
    shift = 64 - Integer.numberOfTrailingZeros(n);
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
    Entry e = new TaskEntry(onExpiry);
    return schedule(vertx, deadline, e) ? e : null;
  }

  /**
   * Adds a deadline as an entry of the caller's making: its {@link Entry#expired()} runs when it is due, unless it was
   * {@link #cancel(Entry) cancelled} first. An entry is scheduled once.
   *
   * @param vertx    the Vertx whose timers it uses
   * @param deadline when it is due, {@link System#nanoTime()} based
   * @param entry    the entry, not scheduled before
   * @return whether it was added; {@code false} once the timer is closed
   */
  public boolean schedule(Vertx vertx, long deadline, Entry entry) {
    // Fibonacci hashing of the thread id: consecutive ids (threads started one after another) land on different stripes.
    long h = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
    return stripes[(int) (h >>> shift)].schedule(vertx, deadline, entry);
  }

  /**
   * Removes a deadline whose call was answered (nothing happens if it fired or was removed already), from any thread.
   *
   * @param e what {@link #schedule} returned
   */
  public void cancel(Entry e) {
    e.stripe.cancel(e);
  }

  /** {@return deadlines waiting now} */
  public int size() {
    int n = 0;
    for (Stripe stripe : stripes) {
      n += stripe.size();
    }
    return n;
  }

  /**
   * Closes the timer, with its environment: the Vert.x timers are cancelled, and a deadline still
   * waiting (its call was never answered, which should not happen once the services have stopped)
   * expires now rather than never.
   */
  public void close() {
    for (Stripe stripe : stripes) {
      stripe.close();
    }
  }

  /** A list of deadlines under one lock, with one Vert.x timer armed for the earliest. */
  private static final class Stripe {
    /** The sentinel of a circular list of the entries waiting. */
    private final Entry head = new TaskEntry(null);
    private Vertx vertx;
    private boolean armed;
    /** The deadline the armed timer fires for, {@link System#nanoTime()} based. */
    private long armedAt;
    private long timerId = -1;
    private int size;
    private boolean closed;

    Stripe() {
      head.prev = head;
      head.next = head;
    }

    boolean schedule(Vertx vertx, long deadline, Entry e) {
      e.deadline = deadline;
      e.stripe = this;
      synchronized (this) {
        if (closed) {
          return false;
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
      return true;
    }

    synchronized void cancel(Entry e) {
      if (e.next != null) {
        unlink(e);
      }
    }

    synchronized int size() {
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
      List<Entry> due = new ArrayList<>();
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
            due.add(e);
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
      for (Entry e : due) {
        e.expired();
      }
    }

    private void unlink(Entry e) {
      e.prev.next = e.next;
      e.next.prev = e.prev;
      e.prev = null;
      e.next = null;
      size--;
    }

    void close() {
      List<Entry> left = new ArrayList<>();
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
          left.add(e);
        }
      }
      for (Entry e : left) {
        e.expired();
      }
    }
  }
}
