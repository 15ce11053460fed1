package io.sagebus.testing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/** Answers with what it is given; a Future-returning variant and a few typed methods. */
public class EchoService {

  /**
   * {@return {@code value}}
   *
   * @param value anything
   */
  public Object process(Object value) {
    return value;
  }

  /**
   * {@return {@code value}, from the event loop}
   *
   * @param value anything
   */
  public Future<Object> async(Object value) {
    return Future.succeededFuture(value);
  }

  /**
   * {@return their sum}
   *
   * @param a a number
   * @param b a number
   */
  public int add(int a, int b) {
    return a + b;
  }

  /**
   * {@return {@code text} repeated}
   *
   * @param text a string
   * @param times how often
   */
  public String repeat(String text, int times) {
    return text.repeat(times);
  }

  /**
   * {@return the point moved by one on both axes}
   *
   * @param point a record converted from JSON
   */
  public Point move(Point point) {
    return new Point(point.x() + 1, point.y() + 1);
  }

  /**
   * {@return their sum}
   *
   * @param values a list converted from JSON
   */
  public long sum(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).sum();
  }

  /**
   * {@return the object with {@code "seen": true}}
   *
   * @param json a JSON object
   */
  public JsonObject mark(JsonObject json) {
    return json.copy().put("seen", true);
  }

  /**
   * {@return its size}
   *
   * @param map a map
   */
  public int size(Map<String, Object> map) {
    return map.size();
  }

  /**
   * A point, to show records travel as JSON objects.
   *
   * @param x across
   * @param y down
   */
  public record Point(int x, int y) {
  }
}
