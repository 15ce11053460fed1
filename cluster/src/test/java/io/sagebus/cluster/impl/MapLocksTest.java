package io.sagebus.cluster.impl;

import com.hazelcast.map.IMap;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Releasing a lock after Hazelcast's merge gave this member a new id: by force only when the refusal names the id the
 * lock was taken as, and this thread. (A real merge is {@code ClusterHealIT}'s.)
 */
class MapLocksTest {

  /** {@return a map whose unlock throws {@code refusal} (none when null), recording the lock calls made} */
  @SuppressWarnings("unchecked")
  private static IMap<String, String> map(RuntimeException refusal, List<String> calls) {
    return (IMap<String, String>) Proxy.newProxyInstance(MapLocksTest.class.getClassLoader(),
      new Class<?>[]{IMap.class}, (proxy, method, args) -> {
        switch (method.getName()) {
          case "unlock" -> {
            calls.add("unlock");
            if (refusal != null) {
              throw refusal;
            }
            return null;
          }
          case "forceUnlock" -> {
            calls.add("forceUnlock");
            return null;
          }
          case "getName" -> {
            return "sagebus.test.placements";
          }
          default -> throw new UnsupportedOperationException(method.getName());
        }
      });
  }

  private static IllegalMonitorStateException notOwner(String owner, long thread) {
    return new IllegalMonitorStateException("Current thread is not owner of the lock! -> Owner: " + owner
      + ", thread ID: " + thread);
  }

  @Test
  void aLockTakenUnderTheIdThisMemberHadBeforeItMergedIsReleasedByForce() {
    List<String> calls = new ArrayList<>();
    MapLocks.unlock(map(notOwner("old-id", Thread.currentThread().threadId()), calls), "echo", "old-id",
      () -> "new-id");
    assertThat(calls).containsExactly("unlock", "forceUnlock");
  }

  @Test
  void aLockAnotherMemberOrThreadHoldsIsNeverReleasedByForce() {
    List<String> calls = new ArrayList<>();
    // The lease ran out and another member took the lock.
    MapLocks.unlock(map(notOwner("other-member", Thread.currentThread().threadId()), calls), "echo", "old-id",
      () -> "new-id");
    // Another thread of this member under its old id.
    MapLocks.unlock(map(notOwner("old-id", Thread.currentThread().threadId() + 1), calls), "echo", "old-id",
      () -> "new-id");
    // The id did not change: the refusal is not a merge's.
    MapLocks.unlock(map(notOwner("same-id", Thread.currentThread().threadId()), calls), "echo", "same-id",
      () -> "same-id");
    assertThat(calls).containsExactly("unlock", "unlock", "unlock");
  }

  @Test
  void anUnlockThatWorksIsAllThereIs() {
    List<String> calls = new ArrayList<>();
    MapLocks.unlock(map(null, calls), "echo", "id", () -> "id");
    assertThat(calls).containsExactly("unlock");
  }
}
