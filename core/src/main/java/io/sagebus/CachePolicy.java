package io.sagebus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which results of a service the callers in a JVM keep, and for how long, set with
 * {@link ServiceOptions#setCache(CachePolicy)}.
 * <p>
 * A call equal to an earlier successful one (same service, same method, same JSON arguments as
 * sent on the wire, object keys in any order) is answered from the cache of the calling JVM
 * without being sent; equal calls in flight at the same time share one invocation (they are
 * coalesced). Failures are never cached: a failed shared call fails every call that waited on it
 * and leaves no entry, so the next equal call runs again. Each caller gets its own copy of the
 * result. Only use it for methods whose result depends on their arguments alone.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class CachePolicy {

  /** Default most results kept per service: 10,000; beyond, the least valuable are evicted (Caffeine's policy). */
  public static final long DEFAULT_MAX_ENTRIES = 10_000;
  /** Default time a result is kept after it arrived: 1 minute. */
  public static final Duration DEFAULT_TIME_TO_LIVE = Duration.ofMinutes(1);

  private long maxEntries = DEFAULT_MAX_ENTRIES;
  private Duration timeToLive = DEFAULT_TIME_TO_LIVE;
  private Set<String> methods = new TreeSet<>();

  /** A policy with the defaults: every method cached. */
  public CachePolicy() {
  }

  /**
   * Copy constructor.
   *
   * @param other the policy to copy
   */
  public CachePolicy(CachePolicy other) {
    this.maxEntries = other.maxEntries;
    this.timeToLive = other.timeToLive;
    this.methods = new TreeSet<>(other.methods);
  }

  /**
   * Reads a policy from JSON, as written by {@link #toJson()}; absent fields keep their defaults.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is out of range
   */
  public CachePolicy(JsonObject json) {
    setMaxEntries(json.getLong("maxEntries", DEFAULT_MAX_ENTRIES));
    setTimeToLive(Duration.ofMillis(json.getLong("timeToLiveMillis", DEFAULT_TIME_TO_LIVE.toMillis())));
    JsonArray names = json.getJsonArray("methods", new JsonArray());
    TreeSet<String> set = new TreeSet<>();
    for (Object name : names) {
      if (!(name instanceof String s)) {
        throw new IllegalArgumentException("methods must hold method names, got " + name);
      }
      set.add(s);
    }
    setMethods(set);
  }

  /**
   * {@return the JSON form, read back by {@link #CachePolicy(JsonObject)}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("maxEntries", maxEntries)
      .put("timeToLiveMillis", timeToLive.toMillis())
      .put("methods", new JsonArray(new java.util.ArrayList<>(methods)));
  }

  /**
   * {@return the most results kept for the service in one calling JVM}
   */
  public long getMaxEntries() {
    return maxEntries;
  }

  /**
   * {@return this}
   *
   * @param maxEntries the most results kept for the service in one calling JVM; at least 1
   * @throws IllegalArgumentException when below 1
   */
  public CachePolicy setMaxEntries(long maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be at least 1, got " + maxEntries);
    }
    this.maxEntries = maxEntries;
    return this;
  }

  /**
   * {@return how long a result is kept after it arrived}
   */
  public Duration getTimeToLive() {
    return timeToLive;
  }

  /**
   * {@return this}
   *
   * @param timeToLive how long a result is kept after it arrived; at least 1 ms (counted in milliseconds)
   * @throws IllegalArgumentException when null or below 1 ms
   */
  public CachePolicy setTimeToLive(Duration timeToLive) {
    if (timeToLive == null || timeToLive.toMillis() < 1) {
      throw new IllegalArgumentException("timeToLive must be at least 1 ms, got " + timeToLive);
    }
    this.timeToLive = timeToLive;
    return this;
  }

  /**
   * {@return the names of the methods whose results are cached, sorted and unmodifiable; empty means every method}
   */
  public Set<String> getMethods() {
    return Collections.unmodifiableSet(methods);
  }

  /**
   * {@return this}
   *
   * @param methods the names of the methods whose results are cached (copied); empty for every method
   * @throws IllegalArgumentException when null, or a name is null or blank
   */
  public CachePolicy setMethods(Collection<String> methods) {
    if (methods == null) {
      throw new IllegalArgumentException("methods must not be null (empty means every method)");
    }
    TreeSet<String> set = new TreeSet<>();
    for (String m : methods) {
      if (m == null || m.isBlank()) {
        throw new IllegalArgumentException("a method name must not be null or blank, got " + methods);
      }
      set.add(m);
    }
    this.methods = set;
    return this;
  }

  /**
   * {@return this}
   *
   * @param methods the names of the methods whose results are cached; none for every method
   * @throws IllegalArgumentException when a name is null or blank
   */
  public CachePolicy setMethods(String... methods) {
    return setMethods(methods == null ? null : java.util.Arrays.asList(methods));
  }

  /**
   * {@return whether results of {@code method} are cached}
   *
   * @param method a method name
   */
  public boolean caches(String method) {
    return methods.isEmpty() || methods.contains(method);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CachePolicy that && maxEntries == that.maxEntries && timeToLive.equals(that.timeToLive)
      && methods.equals(that.methods);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxEntries, timeToLive, methods);
  }

  @Override
  public String toString() {
    return "CachePolicy" + toJson().encode();
  }
}
