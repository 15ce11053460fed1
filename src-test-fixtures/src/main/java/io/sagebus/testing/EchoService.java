package io.sagebus.testing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/** Answers with what it is given; a Future-returning variant and a few typed methods. */
public class EchoService {

  /**
   * @param value anything
   * @return {@code value}
   */
  public Object process(Object value) {
    return value;
  }

  /**
   * @param value anything
   * @return {@code value}, from the event loop
   */
  public Future<Object> async(Object value) {
    return Future.succeededFuture(value);
  }

  /**
   * @param a a number
   * @param b a number
   * @return their sum
   */
  public int add(int a, int b) {
    return a + b;
  }

  /**
   * @param text a string
   * @param times how often
   * @return {@code text} repeated
   */
  public String repeat(String text, int times) {
    return text.repeat(times);
  }

  /**
   * @param point a record converted from JSON
   * @return the point moved by one on both axes
   */
  public Point move(Point point) {
    return new Point(point.x() + 1, point.y() + 1);
  }

  /**
   * @param values a list converted from JSON
   * @return their sum
   */
  public long sum(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).sum();
  }

  /**
   * @param json a JSON object
   * @return the object with {@code "seen": true}
   */
  public JsonObject mark(JsonObject json) {
    return json.copy().put("seen", true);
  }

  /**
   * @param map a map
   * @return its size
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
