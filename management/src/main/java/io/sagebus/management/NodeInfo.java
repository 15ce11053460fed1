package io.sagebus.management;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * One node of a Sagebus deployment, as {@code GET /nodes} shows it.
 *
 * @param id      the node's id, unique in the deployment
 * @param host    the host it runs on
 * @param self    {@code true} for the node that answers the request
 * @param details anything else worth showing (JVM, uptime, memory, services), possibly empty
 */
public record NodeInfo(String id, String host, boolean self, JsonObject details) {

  /**
   * Checks the fields and keeps a copy of the details.
   */
  public NodeInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(host, "host");
    details = details == null ? new JsonObject() : details.copy();
  }

  /**
   * {@return the JSON form: {@code id}, {@code host}, {@code self} and the details' fields}
   */
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("host", host).put("self", self).put("details", details.copy());
  }
}
