package io.sagebus.benchmarks;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Command-line settings of the benchmark.
 *
 * @param jvmWarmupSeconds seconds of each case run once, unmeasured, before any case is measured (JIT warm-up)
 * @param warmupSeconds  warm-up of each case
 * @param roundSeconds   length of each measured round
 * @param rounds         measured rounds per case (the median is reported)
 * @param inFlight       async calls kept outstanding
 * @param maxConcurrency the tuned service's {@code ServiceOptions.maxConcurrency}
 * @param maxQueued      the tuned service's {@code ServiceOptions.maxQueued}
 * @param sameThread     whether an async case's driver runs on its consumer's event loop (else on another one)
 * @param maxReruns      how many disturbed rounds (other processes busy) the whole run may measure again
 * @param only           the case ids to run, empty for all
 */
record Settings(int jvmWarmupSeconds, int warmupSeconds, int roundSeconds, int rounds, int inFlight, int maxConcurrency, int maxQueued,
                boolean sameThread, int maxReruns, Set<String> only) {

  static final String USAGE = """
    Usage: java -jar benchmarks/target/sagebus-benchmarks.jar [options]
      --seconds N          length of each measured round, in seconds (default 3)
      --warmup N           warm-up of each case, in seconds (default 2)
      --jvm-warmup N       before measuring, run every case N seconds unmeasured, so the JIT has
                           compiled the shared paths and the first case is not penalised (default 1)
      --rounds N           measured rounds per case; the median is reported (default 3)
      --inflight N         async calls kept outstanding (default 256)
      --max-concurrency N  maxConcurrency of the tuned service 'bench' (default 256)
      --max-queued N       maxQueued of the tuned service 'bench' (default 1000)
      --placement P        'same': each async case's driver runs on its consumer's event loop (default;
                           stable figures, the cost of the code path); 'different': on another event
                           loop (cross-thread hand-offs; on a 2-core VM the figures flip between modes)
      --max-reruns N       a round during which other processes used more than 0.25 CPU is measured
                           again (at most twice per case); at most N re-runs in the whole run (default 6;
                           0 disables)
      --only IDS           comma-separated case ids to run, e.g. 1a,2,3 (default: all of %s)
      --help               this text
    """;

  static final List<String> CASES = List.of("1a", "1b", "1v", "1bv", "2", "3", "3d", "3n", "4", "4p", "3p", "1a-end");

  static Settings parse(String[] args) {
    int warmup = 2;
    int jvmWarmup = 1;
    int seconds = 3;
    int rounds = 3;
    int inFlight = 256;
    int maxConcurrency = 256;
    int maxQueued = 1000;
    boolean sameThread = true;
    int maxReruns = 6;
    Set<String> only = new LinkedHashSet<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        throw new UsageException(null);
      }
      if (i + 1 >= args.length) {
        throw new UsageException("missing value after " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--seconds" -> seconds = positive(a, v, 1);
        case "--warmup" -> warmup = positive(a, v, 0);
        case "--jvm-warmup" -> jvmWarmup = positive(a, v, 0);
        case "--rounds" -> rounds = positive(a, v, 1);
        case "--inflight" -> inFlight = positive(a, v, 1);
        case "--max-concurrency" -> maxConcurrency = positive(a, v, 1);
        case "--max-queued" -> maxQueued = positive(a, v, 0);
        case "--max-reruns" -> maxReruns = positive(a, v, 0);
        case "--placement" -> {
          if (!v.equals("same") && !v.equals("different")) {
            throw new UsageException("--placement takes 'same' or 'different', got '" + v + "'");
          }
          sameThread = v.equals("same");
        }
        case "--only" -> {
          for (String id : v.split(",")) {
            String t = id.trim();
            if (!CASES.contains(t)) {
              throw new UsageException("unknown case '" + t + "'; cases: " + CASES);
            }
            only.add(t);
          }
        }
        default -> throw new UsageException("unknown option " + a);
      }
    }
    return new Settings(jvmWarmup, warmup, seconds, rounds, inFlight, maxConcurrency, maxQueued, sameThread, maxReruns,
      Set.copyOf(only));
  }

  private static int positive(String option, String value, int min) {
    try {
      int n = Integer.parseInt(value);
      if (n < min) {
        throw new UsageException(option + " must be at least " + min + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a number, got '" + value + "'");
    }
  }

  /** @return settings for the unmeasured JVM warm-up pass: no rounds, {@code jvmWarmupSeconds} of load */
  Settings jvmWarmupPass() {
    return new Settings(0, jvmWarmupSeconds, roundSeconds, 0, inFlight, maxConcurrency, maxQueued, sameThread, 0,
      only);
  }

  boolean runs(String id) {
    return only.isEmpty() || only.contains(id);
  }

  /** Bad command line (or --help when the message is null). */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message, null, false, false);
    }
  }
}
