package io.sagebus.cluster;

import io.sagebus.ServiceContext;
import io.sagebus.ServiceOptions;
import io.sagebus.impl.registry.ServiceDefinition;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The services a node may run, by name: what its {@link NodeAgentVerticle} deploys when asked to
 * place replicas of a service on the node.
 * <p>
 * A catalogue is built once, when the node starts, from the node's own trusted configuration
 * (its {@code -conf} JSON) or by code. It is the only place where service classes are looked up
 * by name: requests that reach the node over the event bus carry catalogue names, never class
 * names, so a message can never make a node load or instantiate a class its operator did not list.
 * <p>
 * In JSON ({@link #fromJson(JsonObject)}):
 * <pre>{@code
 * {"services": {
 *    "profile": {"class": "com.example.ProfileService", "options": {"maxConcurrency": 8}},
 *    "echo":    {"class": "com.example.EchoService"}
 * }}
 * }</pre>
 * {@code options} is the JSON form of {@link ServiceOptions} and may be left out. In code:
 * <pre>{@code
 * ServiceCatalog catalog = ServiceCatalog.create()
 *     .add("profile", ProfileService.class, new ServiceOptions().setMaxConcurrency(8))
 *     .add("cache", () -> new CacheService(64), null);
 * }</pre>
 * A service name has 1 to 100 letters, digits, {@code _} or {@code -}, starting with a letter or
 * digit. A class needs a constructor taking a {@link ServiceContext} or no argument; it is checked
 * when added, so a bad catalogue fails at node start, not at the first deployment.
 * <p>
 * Adding is not thread-safe: build the catalogue, then hand it to the agent, which takes a copy.
 */
public final class ServiceCatalog {

  private final Map<String, ServiceDefinition> entries = new LinkedHashMap<>();

  private ServiceCatalog() {
  }

  /**
   * {@return an empty catalogue, to fill with {@link #add(String, Class, ServiceOptions)} and
   * {@link #add(String, Supplier, ServiceOptions)}}
   */
  public static ServiceCatalog create() {
    return new ServiceCatalog();
  }

  /**
   * Reads a catalogue from a node's configuration. This is the one place where class names are
   * resolved, and only from the node's own configuration; the classes are loaded, not initialized.
   *
   * @param config the node configuration: {@code {"services": {name: {"class": ..., "options": {...}}}}};
   *               an absent {@code services} gives an empty catalogue
   * @return the catalogue
   * @throws IllegalArgumentException when the JSON is malformed, a name is bad, a class is not on
   *                                  the classpath or has no usable constructor, or options are invalid
   */
  public static ServiceCatalog fromJson(JsonObject config) {
    Objects.requireNonNull(config, "config");
    ServiceCatalog catalog = create();
    Object services = config.getValue("services");
    if (services == null) {
      return catalog;
    }
    if (!(services instanceof JsonObject byName)) {
      throw new IllegalArgumentException("'services' must be a JSON object {name: {\"class\": ..., \"options\": {...}}},"
        + " got " + services.getClass().getSimpleName());
    }
    for (Map.Entry<String, Object> e : byName) {
      String name = e.getKey();
      ServiceDefinition.checkName("service", name);
      if (!(e.getValue() instanceof JsonObject spec)) {
        throw new IllegalArgumentException("Service '" + name + "': its entry must be a JSON object"
          + " {\"class\": \"com.example.MyService\", \"options\": {...}}");
      }
      Object className = spec.getValue("class");
      if (!(className instanceof String cls) || cls.isBlank()) {
        throw new IllegalArgumentException("Service '" + name + "': \"class\" must name the service class,"
          + " such as \"com.example.MyService\"");
      }
      Object rawOptions = spec.getValue("options");
      if (rawOptions != null && !(rawOptions instanceof JsonObject)) {
        throw new IllegalArgumentException("Service '" + name + "': \"options\" must be a JSON object of service"
          + " options, such as {\"maxConcurrency\": 8}");
      }
      ServiceOptions options;
      try {
        options = rawOptions == null ? new ServiceOptions() : new ServiceOptions((JsonObject) rawOptions);
      } catch (RuntimeException ex) {
        throw new IllegalArgumentException("Service '" + name + "': bad options " + rawOptions + ": " + ex.getMessage(),
          ex);
      }
      catalog.add(name, loadClass(name, cls.trim()), options);
    }
    return catalog;
  }

  private static Class<?> loadClass(String name, String className) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = ServiceCatalog.class.getClassLoader();
    }
    try {
      return Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException("Service '" + name + "': class " + className + " is not on the node's"
        + " classpath (" + e + "). Check the spelling, and start the node with the jar that holds it:"
        + " java -cp sagebus-node.jar:my-services.jar ...", e);
    }
  }

  /**
   * Adds a service made by a class, through its constructor taking a {@link ServiceContext} or no argument.
   *
   * @param name    the service name
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is bad or already taken, or the class has no usable constructor
   */
  public ServiceCatalog add(String name, Class<?> type, ServiceOptions options) {
    return put(ServiceDefinition.ofClass(name, type, options));
  }

  /**
   * Adds a service made by a supplier, called once per replica.
   *
   * @param name     the service name
   * @param supplier creates one service object per replica
   * @param options  its options, or {@code null} for the defaults (copied)
   * @return this
   * @throws IllegalArgumentException when the name is bad or already taken, or the supplier is null
   */
  public ServiceCatalog add(String name, Supplier<?> supplier, ServiceOptions options) {
    return put(ServiceDefinition.ofSupplier(name, supplier, options));
  }

  private ServiceCatalog put(ServiceDefinition definition) {
    checkFree(definition.name());
    entries.put(definition.name(), definition);
    return this;
  }

  private void checkFree(String name) {
    if (entries.containsKey(name)) {
      throw new IllegalArgumentException("Service '" + name + "' is already in the catalogue (as "
        + entries.get(name).typeName() + "); every name may appear once");
    }
  }

  /**
   * {@return the service names, in the order they were added (unmodifiable)}
   */
  public Set<String> names() {
    return Collections.unmodifiableSet(entries.keySet());
  }

  /**
   * {@return whether the catalogue holds a service of that name}
   *
   * @param name a service name
   */
  public boolean contains(String name) {
    return name != null && entries.containsKey(name);
  }

  /**
   * {@return a copy of the options of a service}
   *
   * @param name a service name of this catalogue
   * @throws IllegalArgumentException when the catalogue has no such service
   */
  public ServiceOptions options(String name) {
    ServiceDefinition entry = entries.get(name);
    if (entry == null) {
      throw new IllegalArgumentException("The catalogue has no service '" + name + "'; it has " + names());
    }
    return new ServiceOptions(entry.options());
  }

  /** A snapshot of the entries, for an agent: later additions do not reach it. */
  List<ServiceDefinition> entries() {
    return new ArrayList<>(entries.values());
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ServiceCatalog{");
    String sep = "";
    for (ServiceDefinition e : entries.values()) {
      sb.append(sep).append(e.name()).append('=').append(e.typeName());
      sep = ", ";
    }
    return sb.append('}').toString();
  }

}
