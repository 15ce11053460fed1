package io.sagebus.management;

import io.sagebus.Environment;
import io.sagebus.management.impl.ManagementServerImpl;
import io.vertx.core.Future;
import io.vertx.ext.healthchecks.HealthChecks;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The management HTTP API of one environment: jobs, services, nodes, named pipelines, metrics
 * and health as JSON over HTTP, and service calls over HTTP, so that an operator, the
 * {@code sagebus} CLI, or a client in any language can watch and drive a node.
 * <p>
 * It listens on 127.0.0.1:{@value ManagementOptions#DEFAULT_PORT} unless its
 * {@link ManagementOptions} say otherwise, and asks for a bearer token when they set one. Against
 * web pages in a browser on the machine, it answers only requests whose {@code Host} (and
 * {@code Origin}, when present) names loopback, the configured host or
 * {@link ManagementOptions#getAllowedHosts()} (else 403), and takes state-changing requests as
 * {@code application/json} only (else 415). The
 * endpoints, their JSON and their error statuses are listed in the README ("Management API and
 * CLI"). At {@code /} it serves a web console for a browser (README, "Console"): its files come from
 * this jar, without the token (they hold no data); the page asks for the token and calls the API.
 * <pre>{@code
 * ManagementServer server = ManagementServer.builder(env)
 *     .options(new ManagementOptions().setToken(System.getenv("SAGEBUS_TOKEN")))
 *     .metrics(prometheusRegistry::scrape)
 *     .build();
 * server.start().await();
 * ...
 * server.close().await();
 * }</pre>
 * Closing the server leaves the environment running; closing the environment does not close the server.
 */
public interface ManagementServer {

  /**
   * A server for an environment, with the default options and nothing else plugged in.
   *
   * @param environment the environment to manage
   * @param options     where to listen and the token (copied), or {@code null} for the defaults
   * @return the server, not yet started
   */
  static ManagementServer create(Environment environment, ManagementOptions options) {
    return builder(environment).options(options).build();
  }

  /**
   * {@return a builder of a server for an environment}
   *
   * @param environment the environment to manage
   */
  static Builder builder(Environment environment) {
    return new Builder(environment);
  }

  /**
   * Binds the port and starts answering.
   *
   * @return completes once the server listens; fails when the port cannot be bound or the server was closed
   */
  Future<Void> start();

  /**
   * {@return the port the server listens on (the one the system chose when the options asked for 0), or -1 before it started}
   */
  int actualPort();

  /**
   * Stops listening; requests in progress are cut. The environment keeps running.
   *
   * @return completes once the port is released
   */
  Future<Void> close();

  /**
   * Builds a {@link ManagementServer}: its options and the parts other modules plug in (metrics,
   * health checks, the cluster's nodes).
   */
  final class Builder {

    private final Environment environment;
    private ManagementOptions options = new ManagementOptions();
    private Supplier<String> metrics;
    private HealthChecks health;
    private HealthChecks liveness;
    private HealthChecks readiness;
    private NodeDirectory nodes;

    private Builder(Environment environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
    }

    /**
     * Sets where to listen and the token.
     *
     * @param options the options (copied), or {@code null} for the defaults
     * @return this
     */
    public Builder options(ManagementOptions options) {
      this.options = options == null ? new ManagementOptions() : new ManagementOptions(options);
      return this;
    }

    /**
     * Sets what {@code GET /metrics} answers: the Prometheus text exposition of the node's metrics,
     * e.g. {@code prometheusMeterRegistry::scrape}. It is called on a worker thread. Without it,
     * the environment's Vertx's metrics ({@link io.sagebus.ops.SagebusMetrics#scrape(io.vertx.core.Vertx)})
     * when it records them ({@link io.sagebus.EnvironmentOptions#setMetricsEnabled(boolean)}), else
     * {@code /metrics} answers 404 with a JSON error.
     *
     * @param scrape returns the Prometheus text, or {@code null} for none
     * @return this
     */
    public Builder metrics(Supplier<String> scrape) {
      this.metrics = scrape;
      return this;
    }

    /**
     * Sets the checks {@code GET /health} runs (and {@code GET /health/<procedure>} for one of
     * them). Without it, {@link io.sagebus.ops.SagebusHealth#all()} of the environment: liveness,
     * readiness and its jobs.
     *
     * @param checks the checks, or {@code null}
     * @return this
     */
    public Builder health(HealthChecks checks) {
      this.health = checks;
      return this;
    }

    /**
     * Sets the checks {@code GET /health/live} runs. Without them, {@link io.sagebus.ops.SagebusHealth#liveness()}
     * of the environment.
     *
     * @param checks the checks, or {@code null}
     * @return this
     */
    public Builder liveness(HealthChecks checks) {
      this.liveness = checks;
      return this;
    }

    /**
     * Sets the checks {@code GET /health/ready} runs. Without them, {@link io.sagebus.ops.SagebusHealth#readiness()}
     * of the environment: every service, not ready while deploying, stopping or with an open breaker.
     *
     * @param checks the checks, or {@code null}
     * @return this
     */
    public Builder readiness(HealthChecks checks) {
      this.readiness = checks;
      return this;
    }

    /**
     * Sets where {@code GET /nodes} and the replicas of {@code GET /services/{name}} come from.
     * Default: {@link NodeDirectory#local(Environment)}, this JVM as the only node.
     *
     * @param directory the directory, or {@code null} for the local one
     * @return this
     */
    public Builder nodes(NodeDirectory directory) {
      this.nodes = directory;
      return this;
    }

    /**
     * {@return the server, not yet started}
     */
    public ManagementServer build() {
      return new ManagementServerImpl(environment, new ManagementOptions(options), metrics, health, liveness, readiness,
        nodes != null ? nodes : NodeDirectory.local(environment));
    }
  }
}
