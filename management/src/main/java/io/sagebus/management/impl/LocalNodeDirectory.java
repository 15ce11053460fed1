package io.sagebus.management.impl;

import io.sagebus.Environment;
import io.sagebus.management.NodeDirectory;
import io.sagebus.management.NodeInfo;
import io.sagebus.management.ReplicaInfo;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.RuntimeMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * The nodes of a single-JVM environment: this JVM alone.
 */
public final class LocalNodeDirectory implements NodeDirectory {

  private final Environment env;
  private final String nodeId;
  private final String host;

  /**
   * A directory for an environment in this JVM.
   *
   * @param env the environment
   */
  public LocalNodeDirectory(Environment env) {
    this.env = env;
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    // "pid@hostname" on HotSpot: read once, never a DNS lookup.
    String name = runtime.getName();
    int at = name.indexOf('@');
    this.host = at >= 0 && at < name.length() - 1 ? name.substring(at + 1) : "localhost";
    this.nodeId = env.name() + "@" + ProcessHandle.current().pid();
  }

  /**
   * {@return the id of this JVM's node}
   */
  public String nodeId() {
    return nodeId;
  }

  @Override
  public Future<List<NodeInfo>> nodes() {
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    JsonObject details = new JsonObject()
      .put("environment", env.name())
      .put("mode", "local")
      .put("pid", ProcessHandle.current().pid())
      .put("java", Runtime.version().toString())
      .put("processors", Runtime.getRuntime().availableProcessors())
      .put("uptimeMillis", runtime.getUptime())
      .put("services", new JsonArray(env.registeredServices()));
    putLoad(details, env);
    return Future.succeededFuture(List.of(new NodeInfo(nodeId, host, true, details)));
  }

  /**
   * Adds what changes all the time in this JVM: {@code heapUsedBytes}, {@code heapMaxBytes}, and
   * {@code runningJobs} of an environment.
   *
   * @param details the node's details, changed in place
   * @param env     the environment whose running jobs count
   * @return {@code details}
   */
  public static JsonObject putLoad(JsonObject details, Environment env) {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return details.put("heapUsedBytes", heap.getUsed())
      .put("heapMaxBytes", heap.getMax())
      .put("runningJobs", env.jobs().stream().filter(j -> !j.status().isFinal()).count());
  }

  @Override
  public Future<List<ReplicaInfo>> replicas(String service) {
    return env.services().stats(service).map(stats -> {
      List<ReplicaInfo> replicas = new ArrayList<>(stats.instances());
      for (int i = 0; i < stats.instances(); i++) {
        replicas.add(new ReplicaInfo(service, i, nodeId));
      }
      return replicas;
    });
  }
}
