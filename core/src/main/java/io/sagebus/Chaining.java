package io.sagebus;

import java.util.Locale;

/**
 * Which operators of a job are chained to their upstream operator ({@link JobOptions#setChaining(Chaining)}). A chained
 * operator is one whose only input comes from an operator of the same parallelism without a key or a rebalance: its
 * instance i runs on the thread of its upstream's instance i, which hands it each record by a method call, with no
 * queue and no thread hop between them. An operator that is not chained has an input queue and a virtual thread of its
 * own.
 */
public enum Chaining {

  /** No operator is chained: every operator instance has a queue and a thread of its own. */
  NONE,

  /**
   * Only a sink whose input is a {@code mapAsync} (the same parallelism, no key, no rebalance) is chained to it: it runs
   * on the thread that emits the {@code mapAsync}'s results, as Flink's async operator emits into its chain. There a
   * queue and a thread would only add a wake-up per result (measured: 8-20% of the CPU of a pipeline of 5 ms calls, and up
   * to a few thousandths of its throughput, BENCHMARKS.md); a sink that blocks then delays the emission of the next results, and with them the
   * slots of new calls, as a full queue in front of it would. The default.
   */
  ASYNC_SINKS,

  /**
   * Every operator that can be is chained, as Flink chains them by default: a source and the operators after it, down
   * to its sink, run on one thread. The cheapest way through, but a function that blocks (a sync call, I/O) then holds
   * every operator of its chain, up to the source, where unchained consecutive operators work on different records at
   * once.
   */
  ALL;

  /** {@return the JSON form: {@code "none"}, {@code "async-sinks"} or {@code "all"}} */
  public String toJson() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * {@return the mode a JSON value names: {@code "none"}, {@code "async-sinks"} or {@code "all"} (in any case, with
   * {@code _} for {@code -} too), or a boolean ({@code true} is {@link #ALL}, {@code false} {@link #NONE})}
   *
   * @param value the JSON value
   * @throws IllegalArgumentException when it names no mode
   */
  public static Chaining fromJson(Object value) {
    if (value instanceof Boolean b) {
      return b ? ALL : NONE;
    }
    if (value instanceof String s) {
      String name = s.trim().toLowerCase(Locale.ROOT).replace('_', '-'); // "ASYNC_SINKS", as the constant is spelled, too
      for (Chaining c : values()) {
        if (c.toJson().equals(name)) {
          return c;
        }
      }
    }
    throw new IllegalArgumentException("chaining must be \"none\", \"async-sinks\", \"all\", true or false, got " + value);
  }
}
