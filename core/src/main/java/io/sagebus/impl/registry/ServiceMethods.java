package io.sagebus.impl.registry;

import io.sagebus.impl.Json;

import com.fasterxml.jackson.databind.JavaType;
import io.sagebus.BatchPolicy;
import io.sagebus.Batched;
import io.sagebus.FailureCode;
import io.sagebus.ServiceLifecycle;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * The callable methods of one service class: its public instance methods, found by name and
 * argument count, minus those of {@link Object} and the {@link ServiceLifecycle} hooks.
 */
public final class ServiceMethods {

  private static final Set<String> LIFECYCLE = Set.of("setup", "start", "stop", "cleanup");

  private final Class<?> type;
  private final Map<String, List<Target>> byName;
  /** Batched methods by name: each has exactly one target, taking one List. */
  private final Map<String, Batch> batched;

  private ServiceMethods(Class<?> type, Map<String, List<Target>> byName, Map<String, Batch> batched) {
    this.type = type;
    this.byName = byName;
    this.batched = batched;
  }

  /**
   * Reads the callable methods of a class; those annotated {@link Batched} are batched.
   *
   * @param type a service class
   * @return its method table
   * @throws IllegalArgumentException as {@link #of(Class, Map)}
   */
  public static ServiceMethods of(Class<?> type) {
    return of(type, Map.of());
  }

  /**
   * Reads the callable methods of a class and its batched ones: those annotated {@link Batched} and
   * those {@code batching} names (which override the annotation).
   *
   * @param type     a service class
   * @param batching policies by method name, from the service's options
   * @return its method table
   * @throws IllegalArgumentException when a batched method is missing, overloaded, or does not take one
   *                                  {@code List} and return a {@code List} (or a Future of one)
   */
  public static ServiceMethods of(Class<?> type, Map<String, BatchPolicy> batching) {
    Map<String, List<Target>> byName = table(type);
    Map<String, BatchPolicy> policies = new TreeMap<>();
    byName.forEach((name, targets) -> targets.forEach(t -> {
      Batched ann = t.method.getAnnotation(Batched.class);
      if (ann != null) {
        try {
          policies.put(name, BatchPolicy.of(ann));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("@Batched on " + type.getName() + "." + t.signature() + ": "
            + e.getMessage(), e);
        }
      }
    }));
    policies.putAll(batching);
    Map<String, Batch> batched = new HashMap<>();
    policies.forEach((name, policy) -> batched.put(name, batch(type, byName.get(name), name, policy)));
    return new ServiceMethods(type, byName, batched);
  }

  private static Batch batch(Class<?> type, List<Target> targets, String name, BatchPolicy policy) {
    String where = "Batched method '" + name + "' of " + type.getName();
    if (targets == null) {
      throw new IllegalArgumentException(where + " does not exist (ServiceOptions.setBatching names it); "
        + "callable methods: " + new TreeSet<>(table(type).keySet()));
    }
    if (targets.size() != 1) {
      throw new IllegalArgumentException(where + " is overloaded (" + targets.stream().map(Target::signature)
        .toList() + "): a batched method must have one signature, taking one List");
    }
    Target t = targets.get(0);
    String shape = ": it must take exactly one List parameter and return a List of the same length, or a "
      + "Future<List<...>> / CompletionStage<List<...>> (e.g. List<float[]> embed(List<String> texts))";
    if (t.params.length != 1 || t.method.getParameterTypes()[0] != List.class) {
      throw new IllegalArgumentException(where + " is " + t.signature() + shape);
    }
    java.lang.reflect.Type returned = t.method.getGenericReturnType();
    Class<?> raw = t.method.getReturnType();
    boolean ok;
    if (t.kind == Kind.BLOCKING || t.kind == Kind.NON_BLOCKING) {
      ok = raw == List.class;
    } else {
      ok = returned instanceof java.lang.reflect.ParameterizedType p && p.getActualTypeArguments().length == 1
        && rawOf(p.getActualTypeArguments()[0]) == List.class;
    }
    if (!ok) {
      throw new IllegalArgumentException(where + " returns " + returned.getTypeName() + shape);
    }
    return new Batch(t, new BatchPolicy(policy), t.params[0].getContentType());
  }

  private static Class<?> rawOf(java.lang.reflect.Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof java.lang.reflect.ParameterizedType p && p.getRawType() instanceof Class<?> c) {
      return c;
    }
    return null;
  }

  private static Map<String, List<Target>> table(Class<?> type) {
    Map<String, List<Target>> byName = new HashMap<>();
    for (Method m : type.getMethods()) {
      if (Modifier.isStatic(m.getModifiers()) || m.isBridge() || m.isSynthetic()
        || m.getDeclaringClass() == Object.class || isLifecycleHook(m)) {
        continue;
      }
      byName.computeIfAbsent(m.getName(), k -> new ArrayList<>()).add(new Target(m));
    }
    // Deterministic choice between overloads of the same arity: most specific parameter types first.
    byName.values().forEach(list -> list.sort(Comparator.comparing(Target::signature)));
    return byName;
  }

  private static boolean isLifecycleHook(Method m) {
    if (!ServiceLifecycle.class.isAssignableFrom(m.getDeclaringClass()) || !LIFECYCLE.contains(m.getName())) {
      return false;
    }
    try {
      ServiceLifecycle.class.getMethod(m.getName(), m.getParameterTypes());
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /**
   * {@return whether every callable method runs on the event loop (returns a Future or CompletionStage, or is
   * {@link io.sagebus.NonBlocking}; none may block)}
   */
  public boolean noneBlocking() {
    for (List<Target> targets : byName.values()) {
      for (Target t : targets) {
        if (t.kind == Kind.BLOCKING) {
          return false;
        }
      }
    }
    return !byName.isEmpty();
  }

  /**
   * {@return whether every callable method returns a plain value and may block (none returns a Future or
   * CompletionStage, none is {@link io.sagebus.NonBlocking} or batched): nothing of the service runs on an event loop}
   */
  public boolean allBlocking() {
    if (!batched.isEmpty()) {
      return false;
    }
    for (List<Target> targets : byName.values()) {
      for (Target t : targets) {
        if (t.kind != Kind.BLOCKING) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * {@return the names of the callable methods, sorted}
   */
  public Set<String> names() {
    return new TreeSet<>(byName.keySet());
  }

  /**
   * Chooses the method for a call and converts its arguments.
   *
   * @param method the method name
   * @param args   the JSON arguments
   * @return the bound call
   * @throws CallRejected with {@link FailureCode#UNKNOWN_METHOD} or {@link FailureCode#BAD_ARGUMENTS}
   */
  public Bound bind(String method, JsonArray args) {
    Batch batch = batched.get(method);
    if (batch != null) {
      return bindItem(batch, method, args);
    }
    List<Target> targets = byName.get(method);
    if (targets == null) {
      throw new CallRejected(FailureCode.UNKNOWN_METHOD, "No public method '" + method + "' on "
        + type.getName() + "; callable methods: " + names());
    }
    int n = args.size();
    List<String> problems = null;
    for (Target t : targets) {
      boolean varargs = t.method.isVarArgs();
      int fixed = varargs ? t.params.length - 1 : t.params.length;
      if (varargs ? n < fixed : n != fixed) {
        continue;
      }
      Object[] converted = new Object[t.params.length];
      try {
        for (int i = 0; i < fixed; i++) {
          converted[i] = Json.fromWire(args.getValue(i), t.params[i]);
        }
        if (varargs) {
          // The trailing arguments of a varargs method travel as separate JSON values.
          JavaType component = t.params[fixed].getContentType();
          Object rest = java.lang.reflect.Array.newInstance(component.getRawClass(), n - fixed);
          for (int i = fixed; i < n; i++) {
            java.lang.reflect.Array.set(rest, i - fixed, Json.fromWire(args.getValue(i), component));
          }
          converted[fixed] = rest;
        }
        return new Bound(t, converted);
      } catch (IllegalArgumentException | ClassCastException e) {
        if (problems == null) {
          problems = new ArrayList<>();
        }
        problems.add(t.signature() + ": " + firstLine(e.getMessage()));
      }
    }
    if (problems == null) {
      List<Integer> arities = targets.stream().filter(t -> !t.method.isVarArgs()).map(t -> t.params.length)
        .distinct().sorted().toList();
      throw new CallRejected(FailureCode.BAD_ARGUMENTS, method + " takes " + describe(arities)
        + " argument(s), got " + n);
    }
    throw new CallRejected(FailureCode.BAD_ARGUMENTS, "Arguments " + shorten(args.encode()) + " do not fit "
      + String.join("; ", problems));
  }

  /** A call of a batched method carries one item: its one argument, converted to the list's element type. */
  private Bound bindItem(Batch batch, String method, JsonArray args) {
    if (args.size() != 1) {
      throw new CallRejected(FailureCode.BAD_ARGUMENTS, method + " is batched: call it with one item (the "
        + "instance gathers the items of concurrent calls into one " + batch.target.signature() + "), got "
        + args.size() + " argument(s)");
    }
    try {
      return new Bound(batch.target, new Object[]{Json.fromWire(args.getValue(0), batch.element)}, true);
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new CallRejected(FailureCode.BAD_ARGUMENTS, "Argument " + shorten(args.encode()) + " does not fit an "
        + "item of " + batch.target.signature() + ": " + firstLine(e.getMessage()));
    }
  }

  /**
   * {@return the batched methods by name}
   */
  public Map<String, Batch> batched() {
    return Collections.unmodifiableMap(batched);
  }

  /**
   * A batched method.
   *
   * @param target  the method
   * @param policy  how its calls are gathered
   * @param element the type of the list's elements, to which each call's item is converted
   */
  public record Batch(Target target, BatchPolicy policy, JavaType element) {

    /**
     * Runs the method with the items of a batch.
     *
     * @param instance the service object
     * @param items    the items, in order
     * @return what the method returned
     * @throws Throwable what the method threw
     */
    public Object invoke(Object instance, List<Object> items) throws Throwable {
      return (Object) target.handle.invokeExact(instance, new Object[]{items});
    }
  }

  private static String describe(List<Integer> arities) {
    return arities.size() == 1 ? String.valueOf(arities.get(0)) : arities.toString();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static String shorten(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** How a method answers. */
  public enum Kind {
    /** Returns a plain value: runs on a virtual thread and may block. */
    BLOCKING,
    /** Returns a plain value and is declared {@link io.sagebus.NonBlocking}: runs on the event loop. */
    NON_BLOCKING,
    /** Returns a Vert.x {@link Future}: runs on the event loop. */
    FUTURE,
    /** Returns a {@link CompletionStage}: runs on the event loop. */
    COMPLETION_STAGE
  }

  /** One callable method. */
  public static final class Target {
    private final Method method;
    private final MethodHandle handle;
    private final JavaType[] params;
    private final Kind kind;
    private final String signature;

    Target(Method method) {
      this.method = method;
      try {
        method.setAccessible(true);
        this.handle = MethodHandles.lookup().unreflect(method).asFixedArity()
          .asSpreader(Object[].class, method.getParameterCount())
          .asType(MethodType.methodType(Object.class, Object.class, Object[].class));
      } catch (IllegalAccessException | RuntimeException e) {
        throw new IllegalArgumentException("Cannot access " + method + ": " + e.getMessage(), e);
      }
      java.lang.reflect.Type[] generic = method.getGenericParameterTypes();
      this.params = new JavaType[generic.length];
      for (int i = 0; i < generic.length; i++) {
        params[i] = Json.javaType(generic[i]);
      }
      Class<?> rt = method.getReturnType();
      this.kind = Future.class.isAssignableFrom(rt) ? Kind.FUTURE
        : CompletionStage.class.isAssignableFrom(rt) ? Kind.COMPLETION_STAGE
        : method.isAnnotationPresent(io.sagebus.NonBlocking.class) ? Kind.NON_BLOCKING : Kind.BLOCKING;
      StringBuilder sb = new StringBuilder(method.getName()).append('(');
      for (int i = 0; i < params.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(method.getParameterTypes()[i].getSimpleName());
      }
      this.signature = sb.append(')').toString();
    }

    /**
     * {@return how the method answers}
     */
    public Kind kind() {
      return kind;
    }

    /**
     * {@return what an invocation of this event-loop method returned, as the future of its answer}: the
     * value itself for a {@link Kind#NON_BLOCKING} method ({@code null} for void), the Future, or the
     * CompletionStage completing on {@code loop}; a failed future when a Future method returned null
     *
     * @param returned what the method returned
     * @param loop     the instance's event loop
     */
    public Future<?> answer(Object returned, io.vertx.core.Context loop) {
      if (kind == Kind.NON_BLOCKING) {
        return Future.succeededFuture(returned);
      }
      if (returned instanceof Future<?> f) {
        return f;
      }
      if (returned instanceof CompletionStage<?> cs) {
        return Future.fromCompletionStage(cs, loop);
      }
      return Future.failedFuture(new IllegalStateException(signature + " returned null"));
    }

    /**
     * {@return the method name and parameter types, for messages}
     */
    public String signature() {
      return signature;
    }

    /**
     * {@return the reflected method}
     */
    public Method method() {
      return method;
    }
  }

  /** A method chosen for a call, with its converted arguments. */
  public static final class Bound {
    private final Target target;
    private final Object[] args;
    private final boolean item;

    Bound(Target target, Object[] args) {
      this(target, args, false);
    }

    Bound(Target target, Object[] args, boolean item) {
      this.target = target;
      this.args = args;
      this.item = item;
    }

    /**
     * {@return whether it is one item of a batched method (run in a batch, never alone)}
     */
    public boolean batched() {
      return item;
    }

    /**
     * {@return the item of a call of a batched method}
     */
    public Object item() {
      return args[0];
    }

    /**
     * {@return the chosen method}
     */
    public Target target() {
      return target;
    }

    /**
     * Runs the method.
     *
     * @param instance the service object
     * @return what the method returned
     * @throws Throwable what the method threw
     */
    public Object invoke(Object instance) throws Throwable {
      return (Object) target.handle.invokeExact(instance, args);
    }
  }

  /** A call refused before the method ran. */
  public static final class CallRejected extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final FailureCode code;

    CallRejected(FailureCode code, String message) {
      super(message, null, false, false);
      this.code = code;
    }

    /**
     * {@return why the call was refused}
     */
    public FailureCode code() {
      return code;
    }
  }
}
