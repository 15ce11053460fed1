package io.sagebus.cluster.impl;

import com.hazelcast.map.IMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Locks on keys of the environment's Hazelcast maps that a split-brain merge cannot leave held for good.
 * <p>
 * Hazelcast names a lock's owner by member id and thread, and a member that merges back into its cluster gets a new
 * member id: a lock taken just before (or while) it merged names an id that no member has any more, its unlock is
 * refused ("Current thread is not owner of the lock"), and Hazelcast never releases it, since no member of that id
 * ever leaves again. Seen in {@code ClusterHealIT} on a loaded machine: every placement of the service then waited
 * for the lock until it gave up. So a lock is released by force when its unlock is refused, the member id changed
 * while it was held, and the refusal names the old id and this thread; and every lock has a lease
 * ({@link #LEASE_MS}), so that one taken by an operation lost in the merge goes after it.
 */
final class MapLocks {

  private static final Logger LOG = LoggerFactory.getLogger(MapLocks.class);
  /**
   * The longest a lock is held: longer than any step under it (a deploy request waits at most
   * {@link Coordinator#AGENT_TIMEOUT_MS}), so that it only frees a lock whose holder is gone for good.
   */
  static final long LEASE_MS = 5 * 60_000;

  private MapLocks() {
  }

  /**
   * Takes the lock of a key, with a lease of {@link #LEASE_MS}.
   *
   * @return whether it was taken within {@code waitMs}
   */
  static boolean lock(IMap<String, String> map, String key, long waitMs) throws InterruptedException {
    return map.tryLock(key, waitMs, TimeUnit.MILLISECONDS, LEASE_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Releases the lock of a key that this thread took as member {@code lockedAs}; never throws. When the unlock is
   * refused, the member id has changed since ({@code memberNow}) and the refusal names the old id and this thread,
   * the lock is released by force; any other refusal (the lease ran out and another holder has it) is logged.
   */
  static void unlock(IMap<String, String> map, String key, String lockedAs, Supplier<String> memberNow) {
    try {
      map.unlock(key);
    } catch (IllegalMonitorStateException e) {
      String now = memberNow.get();
      String message = String.valueOf(e.getMessage());
      if (!now.equals(lockedAs) && message.contains("Owner: " + lockedAs + ", thread ID: "
        + Thread.currentThread().threadId())) {
        map.forceUnlock(key);
        LOG.warn("Released the lock of '{}' in map {} by force: this member took it as {} and is {} since Hazelcast's "
          + "merge, so its unlock was refused", key, map.getName(), lockedAs, now);
      } else {
        LOG.warn("The lock of '{}' in map {} was no longer this thread's when it was released (its lease of {} ms ran "
          + "out?): {}", key, map.getName(), LEASE_MS, message);
      }
    } catch (RuntimeException e) {
      // Hazelcast shutting down, or the member cut off: the lease frees the lock.
      LOG.warn("Could not release the lock of '{}' in map {}: {}", key, map.getName(), e.toString());
    }
  }
}
