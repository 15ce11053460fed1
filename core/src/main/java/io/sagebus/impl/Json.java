package io.sagebus.impl;

import io.sagebus.impl.wire.Protocol;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.TypeFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sagebus's own Jackson mapper and the conversions between Java values and the JSON values that
 * travel on the event bus. Vert.x's global {@code DatabindCodec} mapper is never touched.
 * Default typing stays off: no JSON can name a class to instantiate.
 */
public final class Json {

  /** Configured once here and never changed afterwards; ObjectMapper is thread-safe once configured. */
  private static final ObjectMapper MAPPER = JsonMapper.builder()
    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
    .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
    .build();

  private Json() {
  }

  /**
   * {@return Sagebus's mapper (do not reconfigure it)}
   */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * {@return its Jackson form}
   *
   * @param type a Java type
   */
  public static JavaType javaType(Type type) {
    return TypeFactory.defaultInstance().constructType(type);
  }

  /**
   * Turns any Java value into a value Vert.x JSON accepts: {@code null}, String, Number, Boolean,
   * JsonObject or JsonArray. POJOs, records, maps, lists and arrays go through the mapper.
   *
   * @param value a value
   * @return its JSON form
   * @throws IllegalArgumentException when Jackson cannot map it
   */
  public static Object toWire(Object value) {
    if (value == null || value instanceof String || value instanceof Boolean) {
      return value;
    }
    if (value instanceof JsonObject || value instanceof JsonArray) {
      // The envelope travels by reference locally: no one else may hold what is in it.
      return copy(value, Protocol.MAX_NESTING_DEPTH - 1);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Double || value instanceof Float
      || value instanceof Short || value instanceof Byte) {
      return value;
    }
    if (value instanceof Character || value instanceof Enum<?>) {
      return value.toString();
    }
    Object plain = MAPPER.convertValue(value, Object.class);
    return wrap(plain);
  }

  /** A JSON value nests deeper than {@link Protocol#MAX_NESTING_DEPTH} levels. */
  public static final class TooDeep extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    TooDeep() {
      super("nested deeper than " + Protocol.MAX_NESTING_DEPTH + " levels", null);
    }
  }

  /**
   * Copies a JSON value deeply, as {@link JsonObject#copy()} does, refusing one nested deeper
   * than {@code levels} (so the check costs nothing beyond the copy, and never overflows the stack).
   */
  @SuppressWarnings("unchecked")
  private static Object copy(Object value, int levels) {
    if (value instanceof JsonObject o) {
      return new JsonObject(copyMap(o.getMap(), levels));
    }
    if (value instanceof JsonArray a) {
      return new JsonArray(copyList(a.getList(), levels));
    }
    if (value instanceof Map<?, ?> m) {
      return new JsonObject(copyMap((Map<String, Object>) m, levels));
    }
    if (value instanceof List<?> l) {
      return new JsonArray(copyList((List<Object>) l, levels));
    }
    if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    return new JsonArray().add(value).copy().getValue(0); // anything else JSON may hold (byte[], Instant, Buffer)
  }

  private static Map<String, Object> copyMap(Map<String, Object> map, int levels) {
    if (levels <= 0) {
      throw new TooDeep();
    }
    // Sized so that it never grows while filled (Vert.x's own copy resizes every map of more than 12 entries).
    Map<String, Object> copy = new LinkedHashMap<>((int) (map.size() / 0.75f) + 1);
    for (Map.Entry<String, Object> e : map.entrySet()) {
      copy.put(e.getKey(), copy(e.getValue(), levels - 1));
    }
    return copy;
  }

  private static List<Object> copyList(List<Object> list, int levels) {
    if (levels <= 0) {
      throw new TooDeep();
    }
    List<Object> copy = new ArrayList<>(list.size());
    for (Object v : list) {
      copy.add(copy(v, levels - 1));
    }
    return copy;
  }

  @SuppressWarnings("unchecked")
  private static Object wrap(Object plain) {
    if (plain instanceof Map<?, ?> m) {
      return new JsonObject((Map<String, Object>) m);
    }
    if (plain instanceof List<?> l) {
      return new JsonArray((List<Object>) l);
    }
    return plain;
  }

  /**
   * Turns a JSON value (possibly holding JsonObject/JsonArray at any depth) into plain maps and
   * lists that Jackson understands.
   *
   * @param value a JSON value
   * @return the same data as maps, lists and scalars
   */
  public static Object toPlain(Object value) {
    if (value instanceof JsonObject o) {
      Map<String, Object> map = new LinkedHashMap<>(Math.max(4, o.size() * 2));
      for (Map.Entry<String, Object> e : o) {
        map.put(e.getKey(), toPlain(e.getValue()));
      }
      return map;
    }
    if (value instanceof JsonArray a) {
      List<Object> list = new ArrayList<>(a.size());
      for (Object v : a) {
        list.add(toPlain(v));
      }
      return list;
    }
    if (value instanceof Map<?, ?> m) {
      Map<Object, Object> map = new LinkedHashMap<>();
      m.forEach((k, v) -> map.put(k, toPlain(v)));
      return map;
    }
    if (value instanceof List<?> l) {
      List<Object> list = new ArrayList<>(l.size());
      l.forEach(v -> list.add(toPlain(v)));
      return list;
    }
    return value;
  }

  /**
   * Converts a JSON value to a Java type: as is when it already is one, else through the mapper.
   *
   * @param value a JSON value
   * @param type  the wanted type
   * @return the converted value
   * @throws IllegalArgumentException when it cannot be converted
   */
  public static Object fromWire(Object value, JavaType type) {
    Class<?> raw = type.getRawClass();
    if (value == null) {
      if (raw.isPrimitive()) {
        throw new IllegalArgumentException("null cannot be passed as " + raw.getName());
      }
      return null;
    }
    if (raw == Object.class || (raw.isInstance(value) && !type.isContainerType())) {
      return value;
    }
    if (raw == JsonObject.class && value instanceof Map<?, ?> m) {
      return new JsonObject(castMap(m));
    }
    if (raw == JsonArray.class && value instanceof List<?> l) {
      return new JsonArray(new ArrayList<>(l));
    }
    return MAPPER.convertValue(toPlain(value), type);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  /**
   * {@return whether a JSON value nests arrays and objects deeper than {@code max} levels}
   * It recurses at most {@code max + 1} levels, whatever the value's depth, and allocates nothing.
   *
   * @param value a JSON value (JsonObject, JsonArray, Map, List or a scalar)
   * @param max   the deepest nesting allowed
   */
  public static boolean deeperThan(Object value, int max) {
    Iterable<?> children = children(value);
    if (children == null) {
      return false;
    }
    if (max <= 0) {
      return true;
    }
    for (Object child : children) {
      if (deeperThan(child, max - 1)) {
        return true;
      }
    }
    return false;
  }

  private static Iterable<?> children(Object v) {
    if (v instanceof JsonObject o) {
      return o.getMap().values();
    } else if (v instanceof JsonArray a) {
      return a.getList();
    } else if (v instanceof Map<?, ?> m) {
      return m.values();
    } else if (v instanceof List<?> l) {
      return l;
    }
    return null;
  }
}
