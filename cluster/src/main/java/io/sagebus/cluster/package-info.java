/**
 * Clustered mode of Sagebus on Hazelcast (node agent, placement, failover, the {@code -cluster}
 * launcher). Not built yet: the module only fixes its dependencies so that the build layout is
 * final; the clustered-mode issue fills it.
 */
package io.sagebus.cluster;
