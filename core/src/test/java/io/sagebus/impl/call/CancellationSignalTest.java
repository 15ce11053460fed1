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
}
