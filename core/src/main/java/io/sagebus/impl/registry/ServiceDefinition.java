package io.sagebus.impl.registry;

import io.sagebus.SagebusService;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceOptions;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A registered service: its name, how to create an instance, and its options. Validated when it
 * is made, so a bad registration fails at once with a message that says what to do.
 *
 * @param name     the service name
 * @param factory  creates one instance, given its context
 * @param origin   what makes its instances: a class, a supplier or a factory
 * @param options  the options (a private copy)
 */
public record ServiceDefinition(String name, Function<ServiceContext, Object> factory, Origin origin,
                                ServiceOptions options) {

  /** What makes a service's instances: a cluster places only services registered by class. */
  public sealed interface Origin permits OfClass, OfSupplier, OfFactory {
    /** {@return a short description for messages and records: the class name, {@code supplier} or {@code factory}} */
    String describe();
  }

  /**
   * Instances made from a class.
   *
   * @param type the service class
   */
  public record OfClass(Class<?> type) implements Origin {
    @Override
    public String describe() {
      return type.getName();
    }
  }

  /** Instances made by a supplier (a lambda that cannot leave its JVM). */
  public record OfSupplier() implements Origin {
    @Override
    public String describe() {
      return "supplier";
    }
  }

  /** Instances made by a factory from their context (a node's catalogue entry, a hand-made task). */
  public record OfFactory() implements Origin {
    @Override
    public String describe() {
      return "factory";
    }
  }

  /**
   * {@return the class name, or {@code supplier} / {@code factory}, for messages and records}
   */
  public String typeName() {
    return origin.describe();
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}");

  /**
   * Checks a service or environment name.
   *
   * @param what "service" or "environment"
   * @param name the name
   * @return the name
   * @throws IllegalArgumentException when null or malformed
   */
  public static String checkName(String what, String name) {
    if (name == null) {
      throw new IllegalArgumentException("The " + what + " name must not be null");
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("Bad " + what + " name '" + name + "': use 1 to 100 letters, digits, '_' "
        + "or '-', starting with a letter or digit (it becomes part of an event-bus address)");
    }
    return name;
  }

  /**
   * {@return the definition}
   *
   * @param name    the service name
   * @param type    the service class
   * @param options its options, or {@code null} for the defaults
   * @throws IllegalArgumentException when the name is bad or the class cannot be instantiated
   */
  public static ServiceDefinition ofClass(String name, Class<?> type, ServiceOptions options) {
    checkName("service", name);
    if (type == null) {
      throw new IllegalArgumentException("The class of service '" + name + "' must not be null");
    }
    ServiceOptions opts = copy(options);
    try {
      ServiceMethods.of(type, opts.getBatching()); // a batched method of the wrong shape fails here, not at start
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Service '" + name + "': " + e.getMessage(), e);
    }
    return new ServiceDefinition(name, constructorOf(name, type), new OfClass(type), opts);
  }

  /**
   * {@return the definition, named by the annotation}
   *
   * @param type    a class annotated with {@link SagebusService}
   * @param options its options, or {@code null}
   * @throws IllegalArgumentException when the class has no annotation, or as {@link #ofClass}
   */
  public static ServiceDefinition ofAnnotated(Class<?> type, ServiceOptions options) {
    if (type == null) {
      throw new IllegalArgumentException("The service class must not be null");
    }
    SagebusService ann = type.getAnnotation(SagebusService.class);
    if (ann == null) {
      throw new IllegalArgumentException(type.getName() + " has no @SagebusService(\"name\") annotation: "
        + "annotate it, or register it with registerService(name, " + type.getSimpleName() + ".class)");
    }
    return ofClass(ann.value(), type, options);
  }

  /**
   * {@return the definition}
   *
   * @param name     the service name
   * @param supplier creates one instance per call
   * @param options  its options, or {@code null}
   * @throws IllegalArgumentException when the name is bad or the supplier null
   */
  public static ServiceDefinition ofSupplier(String name, Supplier<?> supplier, ServiceOptions options) {
    checkName("service", name);
    if (supplier == null) {
      throw new IllegalArgumentException("The supplier of service '" + name + "' must not be null");
    }
    Function<ServiceContext, Object> factory = ctx -> Objects.requireNonNull(supplier.get(),
      "The supplier of service '" + name + "' returned null");
    return new ServiceDefinition(name, factory, new OfSupplier(), copy(options));
  }

  /**
   * {@return a definition whose instances are made from their context}
   *
   * @param name    the service name
   * @param factory creates one instance from its context
   * @param options its options, or {@code null}
   * @throws IllegalArgumentException when the name is bad or the factory null
   */
  public static ServiceDefinition ofFactory(String name, Function<ServiceContext, ?> factory, ServiceOptions options) {
    checkName("service", name);
    if (factory == null) {
      throw new IllegalArgumentException("The factory of service '" + name + "' must not be null");
    }
    Function<ServiceContext, Object> checked = ctx -> Objects.requireNonNull(factory.apply(ctx),
      "The factory of service '" + name + "' returned null");
    return new ServiceDefinition(name, checked, new OfFactory(), copy(options));
  }

  /**
   * {@return this service with other options: the same name and origin, checked as a new registration is}
   *
   * @param options the new options, or {@code null} for the defaults
   * @throws IllegalArgumentException when a batched method of a class does not fit the new options
   */
  public ServiceDefinition withOptions(ServiceOptions options) {
    if (origin instanceof OfClass(Class<?> type)) {
      return ofClass(name, type, options);
    }
    return new ServiceDefinition(name, factory, origin, copy(options));
  }

  private static ServiceOptions copy(ServiceOptions options) {
    return options == null ? new ServiceOptions() : new ServiceOptions(options);
  }

  private static Function<ServiceContext, Object> constructorOf(String name, Class<?> type) {
    String fix = " Give it a public constructor taking no argument or a ServiceContext, or register a Supplier"
      + " with registerService(\"" + name + "\", () -> new " + type.getSimpleName() + "(...)).";
    if (type.isInterface() || Modifier.isAbstract(type.getModifiers()) || type.isPrimitive() || type.isArray()
      || type.isEnum()) {
      throw new IllegalArgumentException("Service '" + name + "': " + type.getName() + " cannot be instantiated." + fix);
    }
    if (type.isMemberClass() && !Modifier.isStatic(type.getModifiers())) {
      throw new IllegalArgumentException("Service '" + name + "': " + type.getName()
        + " is an inner class, which needs an enclosing instance: make it static." + fix);
    }
    Constructor<?> withContext = find(type, ServiceContext.class);
    Constructor<?> noArg = find(type);
    Constructor<?> ctor = withContext != null ? withContext : noArg;
    if (ctor == null) {
      throw new IllegalArgumentException("Service '" + name + "': " + type.getName()
        + " has no constructor taking no argument or a ServiceContext." + fix);
    }
    try {
      ctor.setAccessible(true);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Service '" + name + "': the constructor of " + type.getName()
        + " is not accessible (" + e.getMessage() + ")." + fix, e);
    }
    boolean takesContext = ctor == withContext;
    return ctx -> {
      try {
        return takesContext ? ctor.newInstance(ctx) : ctor.newInstance();
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException re) {
          throw re;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("Constructor of " + type.getName() + " failed: " + cause, cause);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Cannot instantiate " + type.getName() + ": " + e, e);
      }
    };
  }

  private static Constructor<?> find(Class<?> type, Class<?>... params) {
    try {
      return type.getDeclaredConstructor(params);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }
}
