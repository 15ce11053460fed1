package io.sagebus.impl.service;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An instance's admission, taken and given back on several threads at once (slots are taken without its lock while
 * one is free and nobody waits): never more calls hold a slot than its limit, never more wait than its queue holds,
 * every admitted call gets a slot exactly once, none is left waiting while a slot is free, and after a stop it admits
 * nothing and is idle once the last slot is given back.
 */
class AdmissionTest {

  private static Invocation call(String id) {
    return new Invocation(null, "svc", "process", null, 0, 0, id, true, null, null);
  }

  /** Runs calls that hold a slot, as runners do: each gives its slot back, and runs the queued call it goes to. */
  private static final class Runner {
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger mostRunning = new AtomicInteger();
    final AtomicInteger ran = new AtomicInteger();
    final ConcurrentLinkedQueue<Invocation> handedOn = new ConcurrentLinkedQueue<>();
    final List<Invocation> seen = java.util.Collections.synchronizedList(new ArrayList<>());

    /** Runs the queued calls a slot was handed to outside {@code next}. */
    void runHandedOn(Admission admission) {
      Invocation h;
      while ((h = handedOn.poll()) != null) {
        run(admission, h);
      }
    }

    void run(Admission admission, Invocation inv) {
      while (inv != null) {
        int now = running.incrementAndGet();
        mostRunning.accumulateAndGet(now, Math::max);
        seen.add(inv);
        ran.incrementAndGet();
        running.decrementAndGet();
        inv = admission.next(inv);
      }
    }
  }

  /** Lets the threads go at once, and waits for them all. */
  private static void startAndAwait(CountDownLatch go, List<Future<?>> done) throws Exception {
    go.countDown();
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
  }

  @Test
  void manyThreadsAdmittingAndGivingBackNeverPassTheLimitsAndLeaveNoCallWaiting() throws Exception {
    int threads = 6;
    int perThread = 30_000;
    for (int round = 0; round < 5; round++) {
      Runner runner = new Runner();
      Admission admission = new Admission(2, 3, runner.handedOn::add);
      AtomicInteger admitted = new AtomicInteger();
      AtomicInteger full = new AtomicInteger();
      AtomicInteger mostQueued = new AtomicInteger();
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          done.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < perThread; i++) {
              Invocation inv = call(thread + "-" + i);
              switch (admission.admit(inv)) {
                case RUN -> {
                  admitted.incrementAndGet();
                  runner.run(admission, inv);
                }
                case QUEUED -> {
                  admitted.incrementAndGet();
                  mostQueued.accumulateAndGet(admission.queued(), Math::max);
                }
                case FULL -> full.incrementAndGet();
                case STOPPING -> throw new AssertionError("not stopping");
              }
              runner.runHandedOn(admission);
            }
            return null;
          }));
        }
        startAndAwait(go, done);
      } finally {
        pool.shutdownNow();
      }
      runner.runHandedOn(admission);
      assertThat(runner.mostRunning.get()).as("calls holding a slot at once").isLessThanOrEqualTo(2);
      assertThat(mostQueued.get()).as("calls waiting at once").isLessThanOrEqualTo(3);
      assertThat(runner.ran.get()).as("every admitted call ran once").isEqualTo(admitted.get());
      assertThat(new java.util.HashSet<>(runner.seen)).hasSize(admitted.get());
      assertThat(admitted.get() + full.get()).isEqualTo(threads * perThread);
      assertThat(admission.active()).isZero();
      assertThat(admission.queued()).isZero();
      assertThat(admission.executing()).isEmpty();
    }
  }

  @Test
  void batchedItemsHeldAndReleasedMeanwhileLeaveNoCallWaitingAndEveryAdmittedCallRunsOnce() throws Exception {
    int callers = 4;
    int holders = 2;
    int perThread = 20_000;
    for (int round = 0; round < 5; round++) {
      Runner runner = new Runner();
      Admission admission = new Admission(2, 4, runner.handedOn::add);
      AtomicInteger admitted = new AtomicInteger();
      AtomicInteger held = new AtomicInteger();
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(callers + holders);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
          int thread = t;
          done.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < perThread; i++) {
              Invocation inv = call(thread + "-" + i);
              Admission.Outcome outcome = admission.admit(inv);
              if (outcome == Admission.Outcome.RUN || outcome == Admission.Outcome.QUEUED) {
                admitted.incrementAndGet();
              }
              if (outcome == Admission.Outcome.RUN) {
                runner.run(admission, inv);
              }
              runner.runHandedOn(admission);
            }
            return null;
          }));
        }
        for (int t = 0; t < holders; t++) {
          int thread = t;
          done.add(pool.submit(() -> {
            go.await();
            // Until it has held some: on a loaded machine the callers can keep both slots for all its tries.
            int heldHere = 0;
            for (int i = 0; i < perThread || heldHere == 0; i++) {
              Invocation item = call("item-" + thread + "-" + i);
              if (admission.hold(item) == Admission.Outcome.RUN) {
                heldHere++;
                held.incrementAndGet();
                admission.released(item);
              }
            }
            return null;
          }));
        }
        startAndAwait(go, done);
      } finally {
        pool.shutdownNow();
      }
      runner.runHandedOn(admission);
      assertThat(held.get()).as("batched items held").isPositive();
      assertThat(runner.mostRunning.get()).as("calls holding a slot at once").isLessThanOrEqualTo(2);
      assertThat(runner.ran.get()).as("every admitted call ran once").isEqualTo(admitted.get());
      assertThat(admission.active()).isZero();
      assertThat(admission.items()).isZero();
      assertThat(admission.queued()).isZero();
      assertThat(admission.executing()).isEmpty();
    }
  }

  @Test
  void callsHoldingASlotAreFoundByRequestIdAndListedWhateverThreadAdmittedThem() throws Exception {
    Admission admission = new Admission(4, 1, inv -> {
    });
    List<Invocation> held = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int t = 0; t < 4; t++) {
        Invocation inv = call("r" + t);
        held.add(inv);
        assertThat(pool.submit(() -> admission.admit(inv)).get(10, TimeUnit.SECONDS)).isEqualTo(Admission.Outcome.RUN);
      }
    } finally {
      pool.shutdownNow();
    }
    Invocation queued = call("r9");
    assertThat(admission.admit(queued)).isEqualTo(Admission.Outcome.QUEUED);
    assertThat(admission.admit(call("r10"))).isEqualTo(Admission.Outcome.FULL);
    assertThat(admission.executing()).containsExactlyInAnyOrderElementsOf(held);
    assertThat(admission.find("r2").running()).containsExactly(held.get(2));
    assertThat(admission.find("r9").queued()).containsExactly(queued);
    assertThat(admission.queued()).isZero();
    for (Invocation inv : held) {
      assertThat(admission.next(inv)).isNull();
    }
    assertThat(admission.active()).isZero();
    assertThat(admission.executing()).isEmpty();
  }

  @Test
  void limitsAsLargeAsAnIntMeanNoLimitRatherThanOverflowing() {
    Admission admission = new Admission(Integer.MAX_VALUE, 1000, inv -> {
    });
    for (int i = 0; i < 100; i++) {
      assertThat(admission.admit(call("c" + i))).isEqualTo(Admission.Outcome.RUN);
    }
    Admission queueing = new Admission(1, Integer.MAX_VALUE, inv -> {
    });
    assertThat(queueing.admit(call("a"))).isEqualTo(Admission.Outcome.RUN);
    assertThat(queueing.admit(call("b"))).isEqualTo(Admission.Outcome.QUEUED);
  }

  @Test
  void afterAStopItAdmitsNothingAndIsIdleOnceTheLastSlotIsGivenBack() throws Exception {
    Admission admission = new Admission(2, 2, inv -> {
    });
    Invocation a = call("a");
    Invocation b = call("b");
    Invocation waiting = call("w");
    assertThat(admission.admit(a)).isEqualTo(Admission.Outcome.RUN);
    assertThat(admission.admit(b)).isEqualTo(Admission.Outcome.RUN);
    assertThat(admission.admit(waiting)).isEqualTo(Admission.Outcome.QUEUED);

    assertThat(admission.stop()).containsExactly(waiting);
    assertThat(admission.admit(call("late"))).isEqualTo(Admission.Outcome.STOPPING);
    io.vertx.core.Future<Void> idle = admission.idle();
    assertThat(idle.isComplete()).isFalse();
    assertThat(admission.next(a)).isNull();
    assertThat(idle.isComplete()).isFalse();
    assertThat(admission.next(b)).isNull();
    assertThat(idle.isComplete()).isTrue();
  }
}
