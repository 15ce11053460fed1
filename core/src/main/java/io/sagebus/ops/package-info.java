/**
 * Operating Sagebus: {@link io.sagebus.ops.SagebusMetrics} gives the Micrometer/Prometheus
 * registry a Vertx records into and its Prometheus text, {@link io.sagebus.ops.SagebusHealth}
 * builds the liveness and readiness checks (vertx-health-check) of an environment.
 */
package io.sagebus.ops;
