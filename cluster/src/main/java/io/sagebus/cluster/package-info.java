/**
 * Clustered mode of Sagebus on Hazelcast: several JVMs joined into one event bus, so that a
 * service replica on one node answers calls made on another.
 * <p>
 * What exists now is the foundation:
 * <ul>
 *   <li>{@link io.sagebus.cluster.ClusterOptions}: the cluster name (required), host, port range,
 *       explicit members and failure-detection timing, JSON-configurable, with defaults that keep a
 *       cluster on loopback: TCP-IP join on {@code 127.0.0.1}, multicast, cloud auto-detection and
 *       phone-home off, Hazelcast and the event bus bound to {@code 127.0.0.1} only, no wait before
 *       joining, a frozen member declared dead after 5 s instead of 60 s.</li>
 *   <li>{@link io.sagebus.cluster.SagebusCluster}: starts a clustered Vertx on those options, and
 *       reaches the Hazelcast member under one.</li>
 *   <li>{@link io.sagebus.cluster.ServiceCatalog}: the services a node may run, by name, read from
 *       the node's own configuration; the only place where service classes are resolved.</li>
 *   <li>{@link io.sagebus.cluster.NodeAgentVerticle}: one per node, on the clustered address
 *       {@code sagebus.<env>.node.<nodeId>}; deploys, undeploys and lists replicas of catalogue
 *       entries on request. Requests carry catalogue names only; anything else is refused with
 *       {@link io.sagebus.FailureCode#BAD_REQUEST}, so a message never makes a node load a class.</li>
 * </ul>
 * <p>
 * On such a Vertx, a {@link io.sagebus.ServiceTaskVerticle} registers its service address
 * cluster-wide: a {@link io.sagebus.ServiceClient} on any node of the cluster calls it, and the
 * event bus spreads calls over the replicas of all nodes. A new consumer becomes visible to the
 * other nodes asynchronously, a little after its deployment completes.
 * <p>
 * Come next: placement of replicas over the nodes (a deployment manager driving the node
 * agents), failover when a node dies or leaves, job and placement records in Hazelcast maps, a
 * clustered environment, and the {@code -cluster} launcher and its fat jar.
 */
package io.sagebus.cluster;
