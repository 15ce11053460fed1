package io.sagebus.cluster.impl;

import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * A service registration as the environment's service map holds it: one per service name, written
 * by the one JVM that registered it (which places and undeploys its replicas).
 *
 * @param name    the service name
 * @param type    the registration's origin: a class name, or {@code supplier} / {@code factory}
 * @param local   whether its instances run in the registering JVM (a supplier) rather than on the nodes
 * @param member  the Hazelcast member id of the registering JVM
 * @param options the registration's options (copied on the way in and out)
 * @param version counts the registrations of the name in the map: 1 for the first, one more for each redeploy
 *                (replicas are deployed with it, and a rolling replacement drains those of other versions)
 */
public record ServiceRecord(String name, String type, boolean local, String member, ServiceOptions options,
                            int version) {

  /**
   * Checks and copies the components.
   *
   * @throws NullPointerException     when a component is null
   * @throws IllegalArgumentException when the version is negative
   */
  public ServiceRecord {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(member, "member");
    options = new ServiceOptions(Objects.requireNonNull(options, "options"));
    if (version < 0) {
      throw new IllegalArgumentException("version must not be negative, got " + version);
    }
  }

  /**
   * A record of version 0 (written before versions existed).
   *
   * @param name    the service name
   * @param type    the registration's origin
   * @param local   whether its instances run in the registering JVM
   * @param member  the registering JVM's member id
   * @param options the registration's options
   */
  public ServiceRecord(String name, String type, boolean local, String member, ServiceOptions options) {
    this(name, type, local, member, options, 0);
  }

  /**
   * {@return a copy of the registration's options}
   */
  @Override
  public ServiceOptions options() {
    return new ServiceOptions(options);
  }

  /**
   * {@return the JSON form: {@code {"name", "type", "local", "member", "options", "version"}}}
   */
  public JsonObject toJson() {
    return new JsonObject()
      .put("name", name)
      .put("type", type)
      .put("local", local)
      .put("member", member)
      .put("options", options.toJson())
      .put("version", version);
  }

  /**
   * {@return the record of a JSON form written by {@link #toJson()}}
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when {@code name}, {@code type} or {@code member} is missing, or an option is
   *                                  out of range
   * @throws ClassCastException       when a field has the wrong type
   */
  public static ServiceRecord fromJson(JsonObject json) {
    if (json.getString("name") == null || json.getString("type") == null || json.getString("member") == null) {
      throw new IllegalArgumentException("A service record needs \"name\", \"type\" and \"member\": " + json.encode());
    }
    return new ServiceRecord(json.getString("name"), json.getString("type"), json.getBoolean("local", false),
      json.getString("member"), new ServiceOptions(json.getJsonObject("options", new JsonObject())),
      json.getInteger("version", 0));
  }
}
