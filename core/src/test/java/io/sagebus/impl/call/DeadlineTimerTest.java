package io.sagebus.impl.call;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The deadlines of direct calls: each fires when due, on a few Vert.x timers, whatever is added or removed meanwhile. */
@ExtendWith(VertxExtension.class)
class DeadlineTimerTest {

  private static long in(long millis) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
  }

  @Test
  void eachDeadlineFiresWhenDueAndNotBefore(Vertx vertx) {
    DeadlineTimer timer = new DeadlineTimer();
    Map<String, Long> firedAt = new ConcurrentHashMap<>();
    Map<String, Long> due = new ConcurrentHashMap<>();
    // Added latest first and earliest last, and in between: every order of arming.
    for (String name : List.of("300", "100", "200", "50", "250")) {
      long d = in(Long.parseLong(name));
      due.put(name, d);
      timer.schedule(vertx, d, () -> firedAt.put(name, System.nanoTime()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> firedAt.size() == 5);
    due.forEach((name, d) -> assertThat(firedAt.get(name) - d).as(name).isGreaterThanOrEqualTo(0));
    assertThat(timer.size()).isZero();
  }

  @Test
  void aCancelledDeadlineNeverFiresAndTheOthersStillDo(Vertx vertx) {
    DeadlineTimer timer = new DeadlineTimer();
    List<String> fired = new CopyOnWriteArrayList<>();
    DeadlineTimer.Entry early = timer.schedule(vertx, in(30), () -> fired.add("early"));
    timer.schedule(vertx, in(120), () -> fired.add("late"));
    timer.cancel(early);
    timer.cancel(early); // twice is harmless
    await().atMost(Duration.ofSeconds(30)).until(() -> fired.contains("late"));
    assertThat(fired).containsExactly("late");
  }

  @Test
  void manyShortLivedDeadlinesLeaveNothingBehind(Vertx vertx) {
    DeadlineTimer timer = new DeadlineTimer();
    List<String> fired = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      DeadlineTimer.Entry e = timer.schedule(vertx, in(10_000), () -> fired.add("answered call"));
      timer.cancel(e);
    }
    timer.schedule(vertx, in(20), () -> fired.add("timed out"));
    await().atMost(Duration.ofSeconds(30)).until(() -> fired.contains("timed out"));
    assertThat(fired).containsExactly("timed out");
    assertThat(timer.size()).isZero();
  }

  @Test
  void deadlinesAddedOnManyThreadsAndRemovedOnOthersFireOnceEachWhenDue(Vertx vertx) throws Exception {
    DeadlineTimer timer = new DeadlineTimer();
    int threads = 16;
    int perThread = 500;
    Queue<DeadlineTimer.Entry> answered = new ConcurrentLinkedQueue<>();
    AtomicInteger expired = new AtomicInteger();
    AtomicInteger early = new AtomicInteger();
    AtomicInteger wrong = new AtomicInteger();
    List<Thread> started = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      // Each thread (its own stripe, or one shared with another) adds deadlines that expire and others that are answered.
      started.add(Thread.ofVirtual().start(() -> {
        for (int i = 0; i < perThread; i++) {
          if (i % 2 == 0) {
            long due = in(50 + i % 100);
            timer.schedule(vertx, due, () -> {
              if (System.nanoTime() - due < 0) {
                early.incrementAndGet();
              }
              expired.incrementAndGet();
            });
          } else {
            answered.add(timer.schedule(vertx, in(60_000), wrong::incrementAndGet));
          }
        }
      }));
    }
    for (Thread t : started) {
      t.join();
    }
    // Removed on this thread, not the ones that added them.
    answered.forEach(timer::cancel);
    int dueCount = threads * perThread / 2;
    await().atMost(Duration.ofSeconds(30)).until(() -> expired.get() == dueCount);
    assertThat(early).hasValue(0);
    assertThat(wrong).hasValue(0);
    assertThat(timer.size()).isZero();
    timer.close();
    assertThat(expired).hasValue(dueCount); // each fired once, and closing found none left
  }

  @Test
  void closingExpiresWhatWaitsAndRefusesMore(Vertx vertx) {
    DeadlineTimer timer = new DeadlineTimer();
    List<String> fired = new CopyOnWriteArrayList<>();
    timer.schedule(vertx, in(60_000), () -> fired.add("left"));
    timer.close();
    assertThat(fired).containsExactly("left");
    assertThat(timer.schedule(vertx, in(10), () -> fired.add("after close"))).isNull();
    assertThat(timer.size()).isZero();
  }
}
