package io.sagebus.management;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * One running instance of a service and the node it runs on, as {@code GET /services/{name}} shows it.
 *
 * @param service the service name
 * @param index   the instance's index, from 0
 * @param node    the id of the node it runs on ({@link NodeInfo#id()})
 */
public record ReplicaInfo(String service, int index, String node) {

  /**
   * Checks the fields.
   */
  public ReplicaInfo {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(node, "node");
  }

  /**
   * {@return the JSON form: {@code index} and {@code node}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("index", index).put("node", node);
  }
}
