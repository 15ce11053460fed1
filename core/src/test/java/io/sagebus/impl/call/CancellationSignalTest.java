package io.sagebus.impl.call;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The signal calls follow (a job's, a service invocation's): every listener in it when it is cancelled, or added
 * while or after it is, is told exactly once, however the adds, removes and the cancel interleave on several threads;
 * a removed one is not told.
 */
class CancellationSignalTest {

  /** A listener counting what it is told. */
  private static final class Counting implements Cancellation.Listener {
    final AtomicInteger told = new AtomicInteger();
    final AtomicReference<String> reason = new AtomicReference<>();

    @Override
    public void cancelled(String why) {
      told.incrementAndGet();
      reason.set(why);
    }
  }

  @Test
  void everyListenerInItIsToldOnceWithTheReasonAndLaterOnesAtOnce() {
    Cancellation c = new Cancellation();
    Counting in = new Counting();
    Counting removed = new Counting();
    c.add(in);
    c.add(removed);
    c.remove(removed);
    assertThat(c.isCancelled()).isFalse();
    assertThat(c.reason()).isNull();

    assertThat(c.cancel("job cancelled")).isTrue();
    assertThat(c.cancel("again")).isFalse();
    assertThat(c.isCancelled()).isTrue();
    assertThat(c.reason()).isEqualTo("job cancelled");
    assertThat(in.told).hasValue(1);
    assertThat(in.reason).hasValue("job cancelled");
    assertThat(removed.told).hasValue(0);

    Counting late = new Counting();
    c.add(late);
    assertThat(late.told).hasValue(1);
    assertThat(late.reason).hasValue("job cancelled");
  }

  @Test
  void aNullReasonReadsCancelled() {
    Cancellation c = new Cancellation();
    Counting l = new Counting();
    c.add(l);
    c.cancel(null);
    assertThat(l.reason).hasValue("cancelled");
    assertThat(c.reason()).isEqualTo("cancelled");
  }

  @Test
  void itsFutureCompletesWhetherAskedBeforeOrAfterTheCancel() {
    Cancellation before = new Cancellation();
    io.vertx.core.Future<Void> early = before.future();
    assertThat(early.isComplete()).isFalse();
    before.cancel("stop");
    assertThat(early.succeeded()).isTrue();

    Cancellation after = new Cancellation();
    after.cancel("stop");
    assertThat(after.future().succeeded()).isTrue();
  }

  @Test
  void listenersAddedAndRemovedOnSeveralThreadsWhileItIsCancelledAreEachToldAtMostOnceAndTheOnesInItExactlyOnce()
    throws Exception {
    int threads = 6; // more than its slots: some listeners go to the set
    int perThread = 20_000;
    for (int round = 0; round < 20; round++) {
      Cancellation c = new Cancellation();
      List<List<Counting>> kept = new ArrayList<>();
      List<List<Counting>> left = new ArrayList<>();
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger added = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          List<Counting> mineKept = new ArrayList<>();
          List<Counting> mineLeft = new ArrayList<>();
          kept.add(mineKept);
          left.add(mineLeft);
          done.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < perThread; i++) {
              Counting l = new Counting();
              int where = c.add(l);
              added.incrementAndGet();
              if (i % 4 == 0) {
                c.remove(l); // a call that had its outcome
                mineLeft.add(l);
              } else if (i % 4 == 2) {
                c.remove(l, where); // the same, from where it went
                mineLeft.add(l);
              } else {
                mineKept.add(l);
              }
            }
            return null;
          }));
        }
        go.countDown();
        // Cancelled while the adds and removes go on.
        while (added.get() < threads * perThread / 4) {
          Thread.onSpinWait();
        }
        c.cancel("mid-way");
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      for (List<Counting> ls : kept) {
        for (Counting l : ls) {
          assertThat(l.told.get()).as("a listener still in the signal").isEqualTo(1);
        }
      }
      for (List<Counting> ls : left) {
        for (Counting l : ls) {
          assertThat(l.told.get()).as("a listener that left").isLessThanOrEqualTo(1);
        }
      }
    }
  }

  @Test
  void manyListenersFromOneThreadOutgrowItsSlotsAndEachIsToldOnceOrRemovedFromWhereItWent() {
    Cancellation c = new Cancellation();
    List<Counting> in = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Counting l = new Counting();
      int where = c.add(l);
      if (i % 3 == 0) {
        c.remove(l, where);
      } else {
        in.add(l);
      }
    }
    assertThat(c.listening()).isEqualTo(in.size());
    c.cancel("stop");
    assertThat(in).allSatisfy(l -> assertThat(l.told).hasValue(1));
    assertThat(c.listening()).isZero();
  }

  @Test
  void aLongLivedSignalHoldsOnlyTheListenersInIt() {
    Cancellation c = new Cancellation();
    Counting first = new Counting();
    for (int i = 0; i < 100_000; i++) {
      Counting l = new Counting();
      c.add(l);
      c.remove(l);
    }
    assertThat(c.listening()).isZero();
    c.add(first);
    assertThat(c.listening()).isOne();
    c.cancel("done");
    assertThat(first.told).hasValue(1);
    assertThat(c.listening()).isZero();
  }

  @Test
  void anOperatorThreadsManyListenersOutgrowItsBlockAndEachIsToldOnceOrRemovedFromWhereItWentOrByItself() {
    Cancellation c = new Cancellation();
    Cancellation.setAmbient(c);
    try {
      List<Counting> in = new ArrayList<>();
      List<Counting> out = new ArrayList<>();
      List<Counting> pending = new ArrayList<>();
      List<Integer> pendingWhere = new ArrayList<>();
      // More at once than a block holds (256): the rest go to the set; removed out of order, by where or by listener.
      for (int i = 0; i < 700; i++) {
        Counting l = new Counting();
        pending.add(l);
        pendingWhere.add(c.add(l));
        if (i % 5 == 4) {
          int k = (i * 7) % pending.size();
          Counting gone = pending.remove(k);
          int where = pendingWhere.remove(k);
          if (i % 10 == 4) {
            c.remove(gone, where);
          } else {
            c.remove(gone);
          }
          out.add(gone);
        }
      }
      in.addAll(pending);
      assertThat(c.listening()).isEqualTo(in.size());
      c.cancel("stop");
      assertThat(in).allSatisfy(l -> assertThat(l.told).hasValue(1));
      assertThat(out).allSatisfy(l -> assertThat(l.told).hasValue(0));
      assertThat(c.listening()).isZero();
      Counting late = new Counting();
      c.add(late);
      assertThat(late.told).hasValue(1);
      assertThat(c.listening()).isZero();
    } finally {
      Cancellation.setAmbient(null);
    }
  }

  @Test
  void operatorThreadsWithManyCallsInFlightEndedOnOtherThreadsWhileItIsCancelledAreEachToldOnceIfStillIn()
    throws Exception {
    int adders = 3;
    int perThread = 30_000;
    for (int round = 0; round < 10; round++) {
      Cancellation c = new Cancellation();
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger added = new AtomicInteger();
      List<List<Counting>> stillIn = new ArrayList<>();
      java.util.Queue<Counting> removed = new java.util.concurrent.ConcurrentLinkedQueue<>();
      java.util.Queue<Counting> notRemoved = new java.util.concurrent.ConcurrentLinkedQueue<>();
      java.util.concurrent.atomic.AtomicBoolean cancelReturned = new java.util.concurrent.atomic.AtomicBoolean();
      AtomicInteger foundAfterCancel = new AtomicInteger();
      List<java.util.concurrent.BlockingQueue<Object[]>> toEnd = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(2 * adders);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < adders; t++) {
          List<Counting> mine = new ArrayList<>();
          stillIn.add(mine);
          java.util.concurrent.BlockingQueue<Object[]> ends = new java.util.concurrent.LinkedBlockingQueue<>();
          toEnd.add(ends);
          int window = 50 + 150 * t; // calls in flight at once: within a block, and beyond it
          done.add(pool.submit(() -> {
            // An operator thread: its calls follow the job's signal, and another thread (the loop answering them)
            // ends each once the operator is `window` calls further.
            Cancellation.setAmbient(c);
            try {
              go.await();
              java.util.ArrayDeque<Object[]> inFlight = new java.util.ArrayDeque<>();
              for (int i = 0; i < perThread; i++) {
                Counting l = new Counting();
                inFlight.add(new Object[] {l, c.add(l)});
                added.incrementAndGet();
                if (inFlight.size() > window) {
                  ends.put(inFlight.poll());
                }
              }
              for (Object[] e : inFlight) {
                mine.add((Counting) e[0]);
              }
              ends.put(new Object[0]);
            } finally {
              Cancellation.setAmbient(null);
            }
            return null;
          }));
          done.add(pool.submit(() -> {
            while (true) {
              Object[] e = ends.take();
              if (e.length == 0) {
                return null;
              }
              boolean after = cancelReturned.get();
              boolean took = c.remove((Counting) e[0], (Integer) e[1]);
              (took ? removed : notRemoved).add((Counting) e[0]);
              if (after && took) {
                foundAfterCancel.incrementAndGet(); // the cancel left it in
              }
            }
          }));
        }
        go.countDown();
        // Cancelled a third of the way (or once the threads are done, if one failed: its get() below says why).
        while (added.get() < adders * perThread / 3 && !done.stream().allMatch(Future::isDone)) {
          Thread.onSpinWait();
        }
        c.cancel("mid-way");
        cancelReturned.set(true);
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(foundAfterCancel).as("calls still in it after the cancel returned").hasValue(0);
      for (List<Counting> ls : stillIn) {
        assertThat(ls).allSatisfy(l -> assertThat(l.told.get()).as("a call still in flight").isEqualTo(1));
      }
      // Each call that ended was either taken out by its end (never told) or by the cancel (told once).
      assertThat(removed).allSatisfy(l -> assertThat(l.told.get()).as("a call ended before the cancel").isZero());
      assertThat(notRemoved).allSatisfy(l -> assertThat(l.told.get()).as("a call the cancel reached").isEqualTo(1));
      assertThat(notRemoved).as("calls in flight when it was cancelled").isNotEmpty();
      assertThat(c.listening()).isZero();
    }
  }
}
