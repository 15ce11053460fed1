package io.sagebus.impl.call;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sagebus.CachePolicy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The result cache of one registered service in the calling JVM: a Caffeine {@link AsyncCache}
 * holding one future per equal call, so that a call in flight is shared by the equal calls that
 * arrive meanwhile (coalescing) and its result, once there, answers later ones until it expires.
 * A call that fails is removed before the calls sharing it hear of it, so failures are never cached.
 * <p>
 * Caffeine runs its maintenance on the calling thread (a direct executor) and has no scheduler:
 * the cache starts no thread and no timer, and expired entries go on access.
 */
public final class ResultCache {

  /** How a call to a cached method found the cache. */
  public enum Outcome {
    /** A result was there: the call is answered without being sent. */
    HIT,
    /** Nothing was there: this call is sent, and equal calls share it. */
    MISS,
    /** An equal call was in flight: this call shares its invocation. */
    COALESCED
  }

  /**
   * One lookup: how it went and the shared future; the caller of a {@link Outcome#MISS} must end it with
   * {@link #succeeded(Object)} or {@link #failed(Throwable)}.
   */
  public final class Lookup {
    private final Key key;
    private final Outcome outcome;
    private final CompletableFuture<Result> shared;

    private Lookup(Key key, Outcome outcome, CompletableFuture<Result> shared) {
      this.key = key;
      this.outcome = outcome;
      this.shared = shared;
    }

    /**
     * {@return how the call found the cache}
     */
    public Outcome outcome() {
      return outcome;
    }

    /**
     * {@return the future outcome of the call and of every equal call sharing it}
     */
    public CompletableFuture<Result> shared() {
      return shared;
    }

    /**
     * The sent call succeeded: its result answers the calls sharing it and is kept.
     *
     * @param wire the JSON value the service answered (copied)
     */
    public void succeeded(Object wire) {
      shared.complete(new Result(copyOf(wire), null));
    }

    /**
     * The sent call failed: the entry goes first, so that no later call finds it, then every call sharing it fails.
     *
     * @param failure why
     */
    public void failed(Throwable failure) {
      // Removed and then completed normally: Caffeine logs a warning for every future that fails.
      cache.asMap().remove(key, shared);
      shared.complete(new Result(null, failure));
    }
  }

  /**
   * An outcome as it arrived (a holder: Caffeine drops futures of {@code null}, and logs failed ones).
   *
   * @param wire    the JSON value the service answered; copy it before handing it out ({@link #copyOf(Object)})
   * @param failure why the call failed, or {@code null}
   */
  public record Result(Object wire, Throwable failure) {
  }

  /** A cache key: the method and the arguments' canonical JSON encoding (object keys sorted). */
  private record Key(String method, String args) {
  }

  private final CachePolicy policy;
  private final AsyncCache<Key, Result> cache;

  /**
   * A cache following {@code policy}.
   *
   * @param policy the service's cache policy (copied)
   */
  public ResultCache(CachePolicy policy) {
    this.policy = new CachePolicy(policy);
    this.cache = Caffeine.newBuilder()
      .maximumSize(policy.getMaxEntries())
      .expireAfterWrite(policy.getTimeToLive())
      .executor(Runnable::run)
      .buildAsync();
  }

  /**
   * {@return whether calls to {@code method} go through this cache}
   *
   * @param method a method name
   */
  public boolean caches(String method) {
    return policy.caches(method);
  }

  /**
   * Finds the result of an equal call, or the equal call in flight, or makes room for this one.
   *
   * @param method the method called
   * @param args   the arguments as they are sent
   * @return the lookup; on {@link Outcome#MISS} the caller sends the call and completes its future
   */
  public Lookup lookup(String method, JsonArray args) {
    Key key = new Key(method, canonicalList(args.getList()).encode());
    while (true) {
      CompletableFuture<Result> mine = new CompletableFuture<>();
      CompletableFuture<Result> found = cache.asMap().putIfAbsent(key, mine);
      if (found == null) {
        return new Lookup(key, Outcome.MISS, mine);
      }
      if (!found.isDone()) {
        return new Lookup(key, Outcome.COALESCED, found);
      }
      Result done = found.getNow(null);
      if (done != null && done.failure() == null) {
        return new Lookup(key, Outcome.HIT, found);
      }
      // A failure is never an answer for a later call (failed() removes it before completing; this is a guard).
      cache.asMap().remove(key, found);
    }
  }

  /**
   * {@return the number of entries, results and calls in flight (an estimate, as Caffeine counts)}
   */
  public long size() {
    return cache.synchronous().estimatedSize();
  }

  /** Drops every entry; calls waiting on a shared call still get its outcome. */
  public void close() {
    cache.synchronous().invalidateAll();
  }

  /**
   * {@return a copy of a wire result, so that no caller sees another's changes}
   *
   * @param value a JSON value
   */
  public static Object copyOf(Object value) {
    if (value instanceof JsonObject o) {
      return o.copy();
    }
    if (value instanceof JsonArray a) {
      return a.copy();
    }
    if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    return new JsonArray().add(value).copy().getValue(0);
  }

  /** The same JSON with every object's keys sorted, so that equal arguments encode the same. */
  private static Object canonical(Object value) {
    if (value instanceof JsonObject o) {
      return canonicalMap(o.getMap());
    }
    if (value instanceof JsonArray a) {
      return canonicalList(a.getList());
    }
    if (value instanceof Map<?, ?> m) {
      return canonicalMap(m);
    }
    if (value instanceof List<?> l) {
      return canonicalList(l);
    }
    return value;
  }

  private static JsonObject canonicalMap(Map<?, ?> map) {
    TreeMap<String, Object> sorted = new TreeMap<>();
    map.forEach((k, v) -> sorted.put(String.valueOf(k), canonical(v)));
    return new JsonObject(sorted);
  }

  private static JsonArray canonicalList(List<?> list) {
    List<Object> copy = new ArrayList<>(list.size());
    for (Object v : list) {
      copy.add(canonical(v));
    }
    return new JsonArray(copy);
  }
}
