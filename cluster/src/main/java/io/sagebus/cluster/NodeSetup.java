package io.sagebus.cluster;

/**
 * Code a node runs at start, named in its configuration ({@code "setup": ["com.example.ShopSetup"]}):
 * it registers, on the node's own {@link ClusterEnvironment}, the pipelines the node can run by
 * name ({@link io.sagebus.Environment#registerPipeline(String, java.util.function.Consumer)}, for
 * {@code sagebus run NAME}) and the services those pipelines call. The class needs a public
 * constructor taking no argument; it is named by the node's own configuration only, never by a
 * message.
 */
@FunctionalInterface
public interface NodeSetup {

  /**
   * Registers what the node offers.
   *
   * @param environment the node's environment, joined to the cluster
   * @throws Exception to stop the node from starting
   */
  void setup(ClusterEnvironment environment) throws Exception;
}
