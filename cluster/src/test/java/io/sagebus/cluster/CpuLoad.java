package io.sagebus.cluster;

/**
 * A JVM that keeps CPU cores busy, standing in for a second build on the machine while a test
 * kills a node: {@code java -cp test-classes io.sagebus.cluster.CpuLoad THREADS PARENT_PID}. It
 * prints {@code busy} once its threads run, and exits when the parent process ends.
 */
public final class CpuLoad {

  private CpuLoad() {
  }

  /**
   * Starts the busy threads.
   *
   * @param args the number of threads, then the pid of the process it must not outlive
   */
  public static void main(String[] args) {
    int threads = Integer.parseInt(args[0]);
    ProcessHandle.of(Long.parseLong(args[1])).ifPresentOrElse(p -> p.onExit().thenRun(() -> System.exit(0)),
      () -> System.exit(0));
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(CpuLoad::spin, "busy-" + i);
      t.setDaemon(false);
      t.start();
    }
    System.out.println("busy with " + threads + " threads");
    System.out.flush();
  }

  private static void spin() {
    long x = 0;
    while (!Thread.currentThread().isInterrupted()) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      if (x == 42) {
        System.out.println("unlikely");
      }
    }
  }
}
