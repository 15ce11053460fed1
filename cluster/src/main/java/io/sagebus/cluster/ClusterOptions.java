package io.sagebus.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.spi.properties.ClusterProperty;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How a Sagebus node joins its cluster: the Hazelcast cluster name, the loopback-safe network
 * settings, the explicit members to join and the failure-detection timing.
 * <p>
 * The defaults keep a cluster on this machine: Hazelcast and the event bus bind to
 * {@code 127.0.0.1} only, members are found by TCP-IP join on {@code 127.0.0.1} (ports
 * 5701 to 5720),
 * multicast, cloud auto-detection and phone-home are off. Only the cluster name has no default:
 * two nodes join only when their cluster names are equal, so each cluster must choose its own.
 * <pre>{@code
 * ClusterOptions options = new ClusterOptions().setClusterName("shop-prod");
 * Vertx vertx = SagebusCluster.vertx(options).await();
 * }</pre>
 * <p>
 * In JSON ({@link #ClusterOptions(JsonObject)}, {@link #toJson()}):
 * <pre>{@code
 * {"clusterName": "shop-prod", "host": "127.0.0.1", "port": 5701, "portCount": 20,
 *  "members": ["127.0.0.1"], "heartbeatIntervalSeconds": 1, "maxNoHeartbeatSeconds": 5,
 *  "mergeDelaySeconds": 5, "liteMember": false}
 * }</pre>
 * <p>
 * Setters check their own value and throw {@link IllegalArgumentException}; {@link #validate()}
 * checks what depends on several values (the cluster name is set, the port range fits, the
 * heartbeat timeout exceeds the interval) and is run by {@link #toHazelcastConfig()},
 * {@link #toVertxOptions()} and {@link SagebusCluster#vertx(ClusterOptions)}.
 * <p>
 * Instances are mutable, like Vert.x options; Sagebus copies them when it is handed them.
 */
public class ClusterOptions {

  /** Default host: {@code 127.0.0.1}, so that nothing outside this machine can reach the node. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** Default first Hazelcast port: 5701, Hazelcast's own. */
  public static final int DEFAULT_PORT = 5701;
  /** Default number of ports, from {@link #getPort()} up, that a node may bind and that joining nodes search: 20. */
  public static final int DEFAULT_PORT_COUNT = 20;
  /** Default members to join: {@code ["127.0.0.1"]}, that is every port of the range on this machine. */
  public static final List<String> DEFAULT_MEMBERS = List.of("127.0.0.1");
  /**
   * Default heartbeat interval: 1 s (Hazelcast's default is 5 s). Together with
   * {@link #DEFAULT_MAX_NO_HEARTBEAT_SECONDS} it declares a frozen member ({@code kill -STOP})
   * dead after 5 to 6 s (4.8-5.8 s measured on loopback) instead of Hazelcast's 60 s. A member
   * whose process dies is noticed sooner, when its connections close (0.3-0.8 s measured).
   */
  public static final int DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 1;
  /**
   * Default time without a heartbeat after which a member is declared dead: 5 s (Hazelcast's
   * default is 60 s). It tolerates four missed heartbeats, so a GC pause or a busy machine of a
   * few seconds does not split the cluster, while calls routed to a frozen member fail over
   * within seconds. Raise it on machines with long pauses; each false suspicion removes the
   * member and re-places its services.
   */
  public static final int DEFAULT_MAX_NO_HEARTBEAT_SECONDS = 5;
  /**
   * Default delay of Hazelcast's split-brain merge: 5 s, for its first run after a node starts and between runs
   * (Hazelcast's defaults are 300 s and 120 s). A node cut off by a partition, or frozen longer than
   * {@link #DEFAULT_MAX_NO_HEARTBEAT_SECONDS}, forms a cluster of its own; each run of the merge looks for the
   * other part (TCP-IP join to {@link #getMembers()}) and merges the smaller part into the larger, so the parts
   * are one cluster again within about this delay of the network healing.
   */
  public static final int DEFAULT_MERGE_DELAY_SECONDS = 5;
  /** By default a node is a full member that holds its share of the cluster's data. */
  public static final boolean DEFAULT_LITE_MEMBER = false;

  private static final Pattern IPV4 =
    Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern MEMBER_HOST = Pattern.compile("[A-Za-z0-9._-]+");
  private static final int MAX_PORT = 65535;

  private String clusterName;
  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private int portCount = DEFAULT_PORT_COUNT;
  private List<String> members = new ArrayList<>(DEFAULT_MEMBERS);
  private int heartbeatIntervalSeconds = DEFAULT_HEARTBEAT_INTERVAL_SECONDS;
  private int maxNoHeartbeatSeconds = DEFAULT_MAX_NO_HEARTBEAT_SECONDS;
  private int mergeDelaySeconds = DEFAULT_MERGE_DELAY_SECONDS;
  private boolean liteMember = DEFAULT_LITE_MEMBER;

  /** Options with the defaults and no cluster name yet: set one before use. */
  public ClusterOptions() {
  }

  /**
   * Copy constructor.
   *
   * @param other the options to copy
   */
  public ClusterOptions(ClusterOptions other) {
    this.clusterName = other.clusterName;
    this.host = other.host;
    this.port = other.port;
    this.portCount = other.portCount;
    this.members = new ArrayList<>(other.members);
    this.heartbeatIntervalSeconds = other.heartbeatIntervalSeconds;
    this.maxNoHeartbeatSeconds = other.maxNoHeartbeatSeconds;
    this.mergeDelaySeconds = other.mergeDelaySeconds;
    this.liteMember = other.liteMember;
  }

  /**
   * Reads options from JSON, as written by {@link #toJson()}; absent fields keep their defaults
   * (an absent {@code clusterName} stays unset, and {@link #validate()} reports it).
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is malformed or out of range
   * @throws ClassCastException       when a field has the wrong JSON type
   */
  public ClusterOptions(JsonObject json) {
    String name = json.getString("clusterName");
    if (name != null || json.containsKey("clusterName")) {
      setClusterName(name);
    }
    setHost(json.getString("host", DEFAULT_HOST));
    setPort(json.getInteger("port", DEFAULT_PORT));
    setPortCount(json.getInteger("portCount", DEFAULT_PORT_COUNT));
    JsonArray list = json.getJsonArray("members");
    if (list != null) {
      List<String> read = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) {
        read.add(list.getString(i));
      }
      setMembers(read);
    }
    setHeartbeatIntervalSeconds(json.getInteger("heartbeatIntervalSeconds", DEFAULT_HEARTBEAT_INTERVAL_SECONDS));
    setMaxNoHeartbeatSeconds(json.getInteger("maxNoHeartbeatSeconds", DEFAULT_MAX_NO_HEARTBEAT_SECONDS));
    setMergeDelaySeconds(json.getInteger("mergeDelaySeconds", DEFAULT_MERGE_DELAY_SECONDS));
    setLiteMember(json.getBoolean("liteMember", DEFAULT_LITE_MEMBER));
  }

  /**
   * {@return the JSON form, read back by {@link #ClusterOptions(JsonObject)}; {@code clusterName} is left out while unset}
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (clusterName != null) {
      json.put("clusterName", clusterName);
    }
    return json
      .put("host", host)
      .put("port", port)
      .put("portCount", portCount)
      .put("members", new JsonArray(new ArrayList<>(members)))
      .put("heartbeatIntervalSeconds", heartbeatIntervalSeconds)
      .put("maxNoHeartbeatSeconds", maxNoHeartbeatSeconds)
      .put("mergeDelaySeconds", mergeDelaySeconds)
      .put("liteMember", liteMember);
  }

  /**
   * {@return the Hazelcast cluster name, or {@code null} while unset}
   */
  public String getClusterName() {
    return clusterName;
  }

  /**
   * {@return this}
   *
   * @param clusterName the Hazelcast cluster name; only nodes with equal names join each other, so
   *                    give every cluster (and every test run) its own. Not blank.
   * @throws IllegalArgumentException when null or blank
   */
  public ClusterOptions setClusterName(String clusterName) {
    if (clusterName == null || clusterName.isBlank()) {
      throw new IllegalArgumentException("clusterName must not be blank: nodes join only nodes of the same cluster"
        + " name, so every cluster needs a name of its own (got " + (clusterName == null ? "null" : "'" + clusterName + "'")
        + ")");
    }
    this.clusterName = clusterName;
    return this;
  }

  /**
   * {@return the IPv4 address Hazelcast and the event bus bind to and announce}
   */
  public String getHost() {
    return host;
  }

  /**
   * {@return this}
   *
   * @param host the IPv4 address of this node: Hazelcast's only interface and bind address, and the
   *             event bus's host and public host. A literal address of one of this machine's
   *             interfaces ({@code 127.0.0.1} keeps the node to this machine); neither a host name
   *             (Hazelcast's interface setting takes addresses) nor the wildcard {@code 0.0.0.0}.
   * @throws IllegalArgumentException when not an IPv4 address literal, or the wildcard address
   */
  public ClusterOptions setHost(String host) {
    if (host == null || !IPV4.matcher(host).matches()) {
      throw new IllegalArgumentException("host must be an IPv4 address literal such as 127.0.0.1 (Hazelcast binds to"
        + " it and takes interfaces as addresses, not names), got " + (host == null ? "null" : "'" + host + "'"));
    }
    if (host.equals("0.0.0.0")) {
      throw new IllegalArgumentException("host must not be the wildcard address 0.0.0.0: it would expose the node on"
        + " every interface and cannot be announced to other members; give one interface's address");
    }
    this.host = host;
    return this;
  }

  /**
   * {@return the first Hazelcast port this node tries to bind}
   */
  public int getPort() {
    return port;
  }

  /**
   * {@return this}
   *
   * @param port the first Hazelcast port this node tries to bind, 1 to 65535; when it is taken the
   *             node takes the next free one of its {@linkplain #setPortCount(int) range}
   * @throws IllegalArgumentException when out of range
   */
  public ClusterOptions setPort(int port) {
    if (port < 1 || port > MAX_PORT) {
      throw new IllegalArgumentException("port must be between 1 and " + MAX_PORT + ", got " + port);
    }
    this.port = port;
    return this;
  }

  /**
   * {@return how many ports, from {@link #getPort()} up, a node may bind and joining nodes search}
   */
  public int getPortCount() {
    return portCount;
  }

  /**
   * {@return this}
   *
   * @param portCount how many ports, from {@link #getPort()} up, this node may bind (Hazelcast's
   *                  port auto-increment) and a joining node searches on each member named without
   *                  a port. At least 1 (1: exactly {@link #getPort()}). Also the most nodes that fit
   *                  on one host.
   * @throws IllegalArgumentException when below 1
   */
  public ClusterOptions setPortCount(int portCount) {
    if (portCount < 1) {
      throw new IllegalArgumentException("portCount must be at least 1, got " + portCount);
    }
    this.portCount = portCount;
    return this;
  }

  /**
   * {@return the members a node contacts to join, as {@code host} or {@code host:port} (a copy)}
   */
  public List<String> getMembers() {
    return new ArrayList<>(members);
  }

  /**
   * {@return this}
   *
   * @param members the members a node contacts to join (Hazelcast TCP-IP join), each
   *                {@code host} (every port of the range on that host is tried) or
   *                {@code host:port}; at least one. List the node's own host too when it may be
   *                the first to start. Port ranges ({@code host:5701-5710}) are not accepted:
   *                Hazelcast fails on them with a NumberFormatException.
   * @throws IllegalArgumentException when empty or an entry is malformed
   */
  public ClusterOptions setMembers(List<String> members) {
    if (members == null || members.isEmpty()) {
      throw new IllegalArgumentException("members must name at least one host or host:port to join (for a cluster on"
        + " this machine: [\"127.0.0.1\"])");
    }
    List<String> checked = new ArrayList<>(members.size());
    for (String member : members) {
      checked.add(checkMember(member));
    }
    this.members = checked;
    return this;
  }

  /**
   * {@return this}
   *
   * @param member one more member to contact, {@code host} or {@code host:port}
   * @throws IllegalArgumentException when malformed
   */
  public ClusterOptions addMember(String member) {
    members.add(checkMember(member));
    return this;
  }

  private static String checkMember(String member) {
    if (member == null || member.isBlank()) {
      throw new IllegalArgumentException("A member must be 'host' or 'host:port', got "
        + (member == null ? "null" : "a blank entry"));
    }
    String what = "member '" + member + "'";
    int colon = member.indexOf(':');
    if (colon != member.lastIndexOf(':')) {
      throw new IllegalArgumentException(what + " is not 'host' or 'host:port' (IPv6 addresses are not supported)");
    }
    String hostPart = colon < 0 ? member : member.substring(0, colon);
    if (!MEMBER_HOST.matcher(hostPart).matches()) {
      throw new IllegalArgumentException(what + " has a malformed host '" + hostPart + "'");
    }
    if (colon >= 0) {
      String portPart = member.substring(colon + 1);
      if (portPart.contains("-")) {
        throw new IllegalArgumentException(what + ": port ranges are not accepted (Hazelcast fails on them with a"
          + " NumberFormatException); list each 'host:port', or give the host alone and every port of the range,"
          + " port to port + portCount - 1, is tried");
      }
      int p;
      try {
        p = Integer.parseInt(portPart);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + " has a malformed port '" + portPart + "'", e);
      }
      if (p < 1 || p > MAX_PORT) {
        throw new IllegalArgumentException(what + " has a port out of range 1-" + MAX_PORT);
      }
    }
    return member;
  }

  /**
   * {@return the Hazelcast heartbeat interval, in seconds}
   */
  public int getHeartbeatIntervalSeconds() {
    return heartbeatIntervalSeconds;
  }

  /**
   * {@return this}
   *
   * @param heartbeatIntervalSeconds how often members send each other heartbeats
   *                                 ({@code hazelcast.heartbeat.interval.seconds}); at least 1 and
   *                                 below {@link #getMaxNoHeartbeatSeconds()}
   * @throws IllegalArgumentException when below 1
   */
  public ClusterOptions setHeartbeatIntervalSeconds(int heartbeatIntervalSeconds) {
    if (heartbeatIntervalSeconds < 1) {
      throw new IllegalArgumentException("heartbeatIntervalSeconds must be at least 1, got " + heartbeatIntervalSeconds);
    }
    this.heartbeatIntervalSeconds = heartbeatIntervalSeconds;
    return this;
  }

  /**
   * {@return the time without a heartbeat after which a member is declared dead, in seconds}
   */
  public int getMaxNoHeartbeatSeconds() {
    return maxNoHeartbeatSeconds;
  }

  /**
   * {@return this}
   *
   * @param maxNoHeartbeatSeconds the time without a heartbeat after which a member is declared
   *                              dead and removed ({@code hazelcast.max.no.heartbeat.seconds});
   *                              above {@link #getHeartbeatIntervalSeconds()}
   * @throws IllegalArgumentException when below 2
   */
  public ClusterOptions setMaxNoHeartbeatSeconds(int maxNoHeartbeatSeconds) {
    if (maxNoHeartbeatSeconds < 2) {
      throw new IllegalArgumentException("maxNoHeartbeatSeconds must be at least 2, got " + maxNoHeartbeatSeconds);
    }
    this.maxNoHeartbeatSeconds = maxNoHeartbeatSeconds;
    return this;
  }
  /**
   * {@return the delay of Hazelcast's split-brain merge, in seconds: before its first run and between runs}
   */
  public int getMergeDelaySeconds() {
    return mergeDelaySeconds;
  }

  /**
   * {@return this}
   *
   * @param mergeDelaySeconds how often the oldest member of each part of a split cluster looks for the other parts
   *                          to merge with, in seconds (also the delay of the first look after a start); from 1 to
   *                          3600. Each look is a TCP-IP join attempt to the configured members.
   * @throws IllegalArgumentException when out of range
   */
  public ClusterOptions setMergeDelaySeconds(int mergeDelaySeconds) {
    if (mergeDelaySeconds < 1 || mergeDelaySeconds > 3600) {
      throw new IllegalArgumentException("mergeDelaySeconds must be from 1 to 3600, got " + mergeDelaySeconds);
    }
    this.mergeDelaySeconds = mergeDelaySeconds;
    return this;
  }


  /**
   * {@return whether this node is a Hazelcast lite member}
   */
  public boolean isLiteMember() {
    return liteMember;
  }

  /**
   * {@return this}
   *
   * @param liteMember whether this node joins as a Hazelcast lite member: it sees the cluster and
   *                   its data but holds no partitions of it, which suits a JVM that only submits
   *                   jobs. A cluster needs at least one full member.
   */
  public ClusterOptions setLiteMember(boolean liteMember) {
    this.liteMember = liteMember;
    return this;
  }

  /**
   * Checks what the setters cannot check alone.
   *
   * @return this
   * @throws IllegalStateException when the cluster name is unset, the port range runs past 65535,
   *                               or the heartbeat timeout is not above the interval
   */
  public ClusterOptions validate() {
    if (clusterName == null) {
      throw new IllegalStateException("clusterName is required: nodes join only nodes of the same cluster name, so"
        + " choose one for this cluster (setClusterName(...), or \"clusterName\" in JSON)");
    }
    if ((long) port + portCount - 1 > MAX_PORT) {
      throw new IllegalStateException("The port range " + port + " + " + portCount + " ports runs past " + MAX_PORT);
    }
    if (maxNoHeartbeatSeconds <= heartbeatIntervalSeconds) {
      throw new IllegalStateException("maxNoHeartbeatSeconds (" + maxNoHeartbeatSeconds + ") must be above"
        + " heartbeatIntervalSeconds (" + heartbeatIntervalSeconds + "), or every member is soon declared dead");
    }
    return this;
  }

  /**
   * The Hazelcast configuration of a node: vertx-hazelcast's own configuration
   * ({@link ConfigUtil#loadConfig()}: a {@code cluster.xml} on the classpath, else its default,
   * which holds the maps Vert.x needs) with the network, join and properties of these options
   * laid over it. Other join mechanisms a {@code cluster.xml} may enable are turned off.
   *
   * @return a new configuration
   * @throws IllegalStateException when {@link #validate()} fails, or vertx-hazelcast's
   *                               configuration cannot be read
   */
  public Config toHazelcastConfig() {
    validate();
    Config config = ConfigUtil.loadConfig();
    if (config == null) {
      throw new IllegalStateException("vertx-hazelcast's configuration could not be read (see the log): check"
        + " cluster.xml or the vertx.hazelcast.config system property");
    }
    config.setClusterName(clusterName);
    config.setLiteMember(liteMember);

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(port).setPortCount(portCount).setPortAutoIncrement(portCount > 1);
    network.getInterfaces().setEnabled(true).setInterfaces(List.of(host));

    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getAwsConfig().setEnabled(false);
    join.getGcpConfig().setEnabled(false);
    join.getAzureConfig().setEnabled(false);
    join.getKubernetesConfig().setEnabled(false);
    join.getEurekaConfig().setEnabled(false);
    join.getDiscoveryConfig().getDiscoveryStrategyConfigs().clear();
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(members));

    // Bind the interface above only; without this Hazelcast listens on 0.0.0.0.
    config.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
    // Hazelcast waits 5 s before its first join attempt by default; with explicit members there is nothing to wait for.
    config.setProperty(ClusterProperty.WAIT_SECONDS_BEFORE_JOIN.getName(), "0");
    // Hazelcast reads this property from the configuration first; it stops the daily report and its cloud probes.
    config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
    config.setProperty(ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName(), Integer.toString(heartbeatIntervalSeconds));
    config.setProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName(), Integer.toString(maxNoHeartbeatSeconds));
    // Hazelcast looks for the other part of a split cluster after 300 s, then every 120 s: a node that was cut off or
    // frozen would stay a cluster of its own for minutes.
    config.setProperty(ClusterProperty.MERGE_FIRST_RUN_DELAY_SECONDS.getName(), Integer.toString(mergeDelaySeconds));
    config.setProperty(ClusterProperty.MERGE_NEXT_RUN_DELAY_SECONDS.getName(), Integer.toString(mergeDelaySeconds));
    // A member given without a port is searched on 3 ports by default: search the whole range this node may bind.
    config.setProperty(ClusterProperty.TCP_JOIN_PORT_TRY_COUNT.getName(), Integer.toString(portCount));
    return config;
  }

  /**
   * {@return new Vert.x options whose event bus binds to {@link #getHost()} on a free port and
   * announces that host to the other nodes, on Netty's native transport when the application carries its jar
   * (README "Native transport"; NIO otherwise)}
   *
   * @throws IllegalStateException when {@link #validate()} fails
   */
  public VertxOptions toVertxOptions() {
    validate();
    return new VertxOptions().setPreferNativeTransport(true).setEventBusOptions(new EventBusOptions()
      .setHost(host)
      .setPort(0)
      .setClusterPublicHost(host));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClusterOptions that && toJson().equals(that.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "ClusterOptions" + toJson().encode();
  }
}
