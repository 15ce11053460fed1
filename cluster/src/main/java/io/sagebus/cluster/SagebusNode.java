package io.sagebus.cluster;

import com.hazelcast.config.Config;
import io.sagebus.EnvironmentOptions;
import io.sagebus.cluster.impl.ClusterNodeDirectory;
import io.sagebus.impl.registry.ServiceDefinition;
import io.sagebus.management.ManagementOptions;
import io.sagebus.management.ManagementServer;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.transport.Transport;
import io.vertx.launcher.application.ExitCodes;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The main class of a Sagebus node, {@code cluster/target/sagebus-node.jar}: the Vert.x launcher
 * ({@link VertxApplication}) with hooks that start a clustered Vertx on Hazelcast configured by
 * {@link ClusterOptions}, then deploy the node's {@link NodeAgentVerticle}.
 * <pre>{@code
 * java -jar sagebus-node.jar -cluster -cluster-host 127.0.0.1 -conf node.json
 * java -cp sagebus-node.jar:my-services.jar io.sagebus.cluster.SagebusNode -cluster -conf node.json
 * }</pre>
 * The second form adds the user's own service classes to the node's classpath. The configuration
 * ({@code -conf}, a JSON string or the name of a JSON file) holds:
 * <pre>{@code
 * {"cluster": {"clusterName": "shop-prod", "port": 5701, "portCount": 20},
 *  "environment": "shop", "nodeId": "node-1",
 *  "services": {"profile": {"class": "com.example.ProfileService", "options": {"maxConcurrency": 8}}}}
 * }</pre>
 * <ul>
 *   <li>{@code cluster}: the {@link ClusterOptions} in JSON; {@code clusterName} is required.</li>
 *   <li>{@code environment}: the environment the agent serves, default {@code default}.</li>
 *   <li>{@code nodeId}: the node's id, unique in the cluster, default a short random id. A node
 *       whose id is already live in the cluster does not start: it prints
 *       {@code sagebus node: the node agent did not start: node id '<id>' is already live ...},
 *       naming the live node, and exits with code 15; the live node is left as it is.</li>
 *   <li>{@code services}: the node's {@link ServiceCatalog} ({@link ServiceCatalog#fromJson(JsonObject)}).</li>
 *   <li>{@code setup}: optional class names of {@link NodeSetup}s, run at start on the node's own
 *       {@link ClusterEnvironment}: they register the pipelines the node runs by name, and the
 *       services those call.</li>
 *   <li>{@code metrics}: {@code true} (default) records Micrometer metrics (Sagebus's, the event
 *       bus's, the JVM's) for {@code /metrics}; {@code false} records none.</li>
 *   <li>{@code tracing}: {@code true} traces the node's calls and service replicas with
 *       OpenTelemetry, the SDK configured from the {@code OTEL_*} variables (README, "Tracing");
 *       default {@code false}.</li>
 *   <li>{@code management}: optional {@link ManagementOptions} in JSON ({@code {"port": 8091,
 *       "token": "..."}}): the node serves the management API ({@link ManagementServer}) for its
 *       environment, with the cluster's nodes and placements. Without it, no port is opened.</li>
 * </ul>
 * A node always runs clustered ({@code -cluster} is added when left out). {@code -cluster-host}
 * sets Hazelcast's interface as well as the event bus host (it overrides {@code cluster.host});
 * {@code -cluster-port} and {@code -cluster-public-host} set the event bus's, and
 * {@code -options}, {@code -worker} and {@code -vt} keep their launcher meaning. {@code -instances}
 * is ignored: one agent runs per node. {@code -ha} (and {@code -hagroup}, {@code -quorum}) is
 * refused with exit code 2: Sagebus re-places the services of a node that leaves by itself, and
 * Vert.x HA would redeploy the agent elsewhere under the dead node's id.
 * <p>
 * The configuration is read and checked before the node joins anything: no {@code -conf}, a missing
 * file, a JSON syntax error (with its line and column), a key no node reads (with the nearest known
 * one: {@code "servcies"}, did you mean {@code "services"}?), a bad value, or a management port that
 * is already taken ({@code host:port}) each end the JVM at once with exit code 2 and one line on
 * standard error, starting {@code sagebus node: }.
 * <p>
 * When the agent is listening (and the setups ran, and the API listens), the node prints one line
 * to standard output: {@code sagebus node <id> ready in cluster <name> (environment <env>)},
 * followed by {@code ; management API on http://<host>:<port>} when it serves one.
 */
public final class SagebusNode {

  private static final Logger LOG = LoggerFactory.getLogger(SagebusNode.class);
  private static final Pattern HA_OPTION = Pattern.compile("--?(ha|hagroup|quorum)(=.*)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern HELP_OPTION = Pattern.compile("-h|--?help");
  private static final Pattern CLUSTER_OPTION = Pattern.compile("--?cluster(=.*)?", Pattern.CASE_INSENSITIVE);
  private static final int NODE_ID_LENGTH = 8;

  private SagebusNode() {
  }

  /**
   * Starts a node with the launcher's command line; exits the JVM with a non-zero code when the
   * node cannot start or the command line is refused.
   *
   * @param args the launcher's options, such as {@code -cluster -cluster-host 127.0.0.1 -conf node.json}
   */
  public static void main(String[] args) {
    exitWithParent();
    int code = launch(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Exit status of a node whose parent process ended. */
  private static final int EXIT_PARENT_GONE = 3;

  /**
   * With {@code -Dsagebus.parent.pid=N}, the node exits when process N ends: a node started by a
   * test or a supervisor never outlives it.
   */
  private static void exitWithParent() {
    String parent = System.getProperty("sagebus.parent.pid");
    if (parent == null) {
      return;
    }
    ProcessHandle.of(Long.parseLong(parent.trim())).ifPresentOrElse(
      p -> p.onExit().thenRun(() -> {
        System.err.println("sagebus node: parent process " + parent + " ended; exiting");
        System.exit(EXIT_PARENT_GONE);
      }),
      () -> System.exit(EXIT_PARENT_GONE));
  }

  /** Launches the node and answers the launcher's exit code (0 once the node is up). */
  static int launch(String[] args) {
    for (String arg : args) {
      if (HA_OPTION.matcher(arg).matches()) {
        System.err.println("sagebus node: " + arg + " is not supported. Vert.x HA redeploys a dead node's verticles"
          + " on another node; Sagebus places service replicas itself, through the agent of each node and its own"
          + " catalogue, so HA would duplicate them."
          + " Start the node without -ha.");
        return ExitCodes.USAGE;
      }
    }
    Hooks hooks = new Hooks();
    if (Arrays.stream(args).noneMatch(a -> HELP_OPTION.matcher(a).matches())) {
      // Read and check the configuration before anything starts: the launcher's own reading takes a missing file,
      // bad JSON and no -conf alike as an empty configuration, and a taken port would fail only after joining.
      try {
        hooks.configure(NodeConfig.read(NodeConfig.confArgument(args)));
        if (hooks.management != null) {
          NodeConfig.checkPortFree(hooks.management.getHost(), hooks.management.getPort());
        }
      } catch (RuntimeException e) {
        System.err.println("sagebus node: " + e.getMessage());
        return ExitCodes.USAGE;
      }
    }
    List<String> command = new ArrayList<>(Arrays.asList(args));
    if (command.stream().noneMatch(a -> CLUSTER_OPTION.matcher(a).matches())) {
      command.addFirst("-cluster");
    }
    return new VertxApplication(command.toArray(String[]::new), hooks).launch();
  }

  /** The launcher hooks: configuration, clustered Vertx, agent, ready line. */
  private static final class Hooks implements VertxApplicationHooks {

    private ClusterOptions clusterOptions;
    private String environment;
    private String nodeId;
    private ServiceCatalog catalog;
    private List<String> setups = List.of();
    private ManagementOptions management;
    private boolean metrics = true;
    private boolean tracing;

    /** The configuration {@link #configure(JsonObject)} read; the launcher's own reading of {@code -conf} is not used. */
    private JsonObject config;

    /**
     * Reads the settings from the node's configuration, already checked by {@link NodeConfig#read(String)}.
     *
     * @throws IllegalArgumentException when a value is missing, of the wrong type or out of range
     */
    void configure(JsonObject conf) {
      config = conf;
      try {
        Object cluster = config.getValue("cluster");
        if (!(cluster instanceof JsonObject clusterJson)) {
          throw new IllegalArgumentException("the configuration needs a \"cluster\" object with at least a"
            + " \"clusterName\", such as {\"cluster\": {\"clusterName\": \"shop-prod\"}, \"services\": {...}}");
        }
        clusterOptions = new ClusterOptions(clusterJson);
        clusterOptions.validate();
        environment = ServiceDefinition.checkName("environment", config.getString("environment", "default"));
        String id = config.getString("nodeId");
        nodeId = ServiceDefinition.checkName("node",
          id != null ? id : UUID.randomUUID().toString().replace("-", "").substring(0, NODE_ID_LENGTH));
        catalog = ServiceCatalog.fromJson(config);
        setups = setupClasses(config.getValue("setup"));
        Object api = config.getValue("management");
        if (api != null && !(api instanceof JsonObject)) {
          throw new IllegalArgumentException("\"management\" must be a JSON object such as {\"port\": 8089}");
        }
        management = api == null ? null : new ManagementOptions((JsonObject) api);
        Object metricsFlag = config.getValue("metrics", true);
        if (!(metricsFlag instanceof Boolean on)) {
          throw new IllegalArgumentException("\"metrics\" must be true or false");
        }
        metrics = on;
        Object tracingFlag = config.getValue("tracing", false);
        if (!(tracingFlag instanceof Boolean traced)) {
          throw new IllegalArgumentException("\"tracing\" must be true or false");
        }
        tracing = traced;
      } catch (ClassCastException e) {
        throw new IllegalArgumentException("invalid configuration: a value has the wrong JSON type ("
          + e.getMessage() + ")", e);
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
      }
    }

    @Override
    public JsonObject afterConfigParsed(JsonObject conf) {
      // launch() read and checked the configuration already (conf is the same, read again by the launcher).
      return config == null ? conf : config;
    }

    @Override
    public VertxBuilder createVertxBuilder(VertxOptions options) {
      // The launcher applies -cluster-host and the like to these options after this hook, so the
      // Hazelcast configuration is made when the Vertx is built.
      if (metrics && (options.getMetricsOptions() == null || !options.getMetricsOptions().isEnabled())) {
        options.setMetricsOptions(SagebusMetrics.metricsOptions());
      }
      return new NodeVertxBuilder(options, this);
    }

    /** {@return the Hazelcast configuration, once the launcher's options are final} */
    Config hazelcastConfig(VertxOptions options) {
      EventBusOptions eventBus = options.getEventBusOptions();
      if (eventBus.getHost() != null) {
        // -cluster-host: Hazelcast's interface too, not only the event bus host.
        clusterOptions.setHost(eventBus.getHost());
      }
      eventBus.setHost(clusterOptions.getHost());
      if (eventBus.getClusterPublicHost() == null) {
        eventBus.setClusterPublicHost(clusterOptions.getHost());
      }
      return clusterOptions.toHazelcastConfig();
    }

    @Override
    public Supplier<? extends Deployable> verticleSupplier() {
      return () -> NodeAgentVerticle.clustered(environment, nodeId, catalog);
    }

    @Override
    public void beforeDeployingVerticle(HookContext context) {
      if (context.deploymentOptions().getInstances() != 1) {
        LOG.warn("-instances {} ignored: a node runs one agent", context.deploymentOptions().getInstances());
        context.deploymentOptions().setInstances(1);
      }
    }

    @Override
    public void afterVerticleDeployed(HookContext context) {
      String api;
      try {
        api = startEnvironment(context.vertx());
      } catch (Exception e) {
        if (management != null && bindFailure(e) != null) {
          // The port was taken between launch()'s check and now.
          System.err.println("sagebus node: " + NodeConfig.portInUse(management.getHost(), management.getPort(),
            bindFailure(e)));
          context.vertx().close().onComplete(ar -> System.exit(ExitCodes.USAGE));
          return;
        }
        System.err.println("sagebus node: the node's environment did not start: " + e);
        LOG.error("The node's environment did not start", e);
        context.vertx().close().onComplete(ar -> System.exit(1));
        return;
      }
      System.out.println("sagebus node " + nodeId + " ready in cluster " + clusterOptions.getClusterName()
        + " (environment " + environment + ")" + api);
      System.out.flush();
    }

    /**
     * Joins the node's own environment (for its setup classes, its named pipelines and the management API);
     * {@return the ready line's mention of the management API, or ""}
     */
    private String startEnvironment(Vertx vertx) throws Exception {
      ClusterEnvironment env = ClusterEnvironment.create(vertx, environment,
        new EnvironmentOptions().setTracingEnabled(tracing)).await();
      // Closing the Vertx (SIGTERM) closes the environment first: its own registrations leave the cluster's map.
      ((VertxInternal) vertx).addCloseHook(completion -> env.close().onComplete(ar -> completion.succeed()));
      for (String name : setups) {
        Object setup = Class.forName(name, true, SagebusNode.class.getClassLoader()).getConstructor().newInstance();
        if (!(setup instanceof NodeSetup nodeSetup)) {
          throw new IllegalArgumentException("setup class " + name + " does not implement " + NodeSetup.class.getName());
        }
        nodeSetup.setup(env);
      }
      if (management == null) {
        return "";
      }
      String member = SagebusCluster.hazelcast(vertx).getCluster().getLocalMember().getUuid().toString();
      ManagementServer server = ManagementServer.builder(env)
        .options(management)
        .nodes(new ClusterNodeDirectory(env, member))
        .build();
      server.start().await();
      return "; management API on http://" + management.getHost() + ":" + server.actualPort();
    }

    @Override
    public void afterFailureToStartVertx(HookContext context, Throwable t) {
      System.err.println("sagebus node: the clustered Vert.x did not start: " + t);
    }

    @Override
    public void afterFailureToDeployVerticle(HookContext context, Throwable t) {
      // One line: the agent's own failures (a node id already live, say) say what happened in their message.
      String why = t.getMessage() != null && t instanceof IllegalStateException ? t.getMessage() : t.toString();
      System.err.println("sagebus node: the node agent did not start: " + why);
    }
  }

  private static java.net.BindException bindFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.net.BindException bind) {
        return bind;
      }
    }
    return null;
  }

  private static List<String> setupClasses(Object setup) {
    if (setup == null) {
      return List.of();
    }
    if (!(setup instanceof JsonArray array) || array.stream().anyMatch(o -> !(o instanceof String))) {
      throw new IllegalArgumentException("\"setup\" must be an array of class names implementing "
        + NodeSetup.class.getName() + ", such as [\"com.example.ShopSetup\"]");
    }
    List<String> names = array.stream().map(String.class::cast).toList();
    for (String name : names) {
      // Checked now, not loaded yet: a misspelt setup class stops the node before it joins the cluster.
      Class<?> type;
      try {
        type = Class.forName(name, false, SagebusNode.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalArgumentException("setup class " + name + " is not on the node's classpath (" + e + ")."
          + " Check the spelling, and start the node with the jar that holds it: java -cp"
          + " sagebus-node.jar:my-setup.jar ...", e);
      }
      if (!NodeSetup.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException("setup class " + name + " does not implement " + NodeSetup.class.getName());
      }
    }
    return names;
  }

  /**
   * Forwards to a real builder, but builds the Hazelcast cluster manager only when the Vertx is
   * built, from the options as the launcher left them.
   */
  private static final class NodeVertxBuilder implements VertxBuilder {

    private final VertxBuilder delegate = Vertx.builder();
    private final Hooks hooks;
    private VertxOptions options;

    NodeVertxBuilder(VertxOptions options, Hooks hooks) {
      this.options = options;
      this.hooks = hooks;
    }

    @Override
    public VertxBuilder with(VertxOptions options) {
      this.options = options;
      return this;
    }

    @Override
    public VertxBuilder withMetrics(VertxMetricsFactory factory) {
      delegate.withMetrics(factory);
      return this;
    }

    @Override
    public VertxBuilder withTracer(VertxTracerFactory factory) {
      delegate.withTracer(factory);
      return this;
    }

    @Override
    public VertxBuilder withTransport(Transport transport) {
      delegate.withTransport(transport);
      return this;
    }

    @Override
    public VertxBuilder withClusterManager(ClusterManager clusterManager) {
      throw new UnsupportedOperationException("a Sagebus node's cluster manager is made from its ClusterOptions");
    }

    @Override
    public Vertx build() {
      throw new IllegalStateException("a Sagebus node runs clustered: start it with -cluster, not -cluster=false");
    }

    @Override
    public Future<Vertx> buildClustered() {
      Config config;
      try {
        config = hooks.hazelcastConfig(options);
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      return delegate.with(options).withClusterManager(new HazelcastClusterManager(config)).buildClustered();
    }
  }
}
