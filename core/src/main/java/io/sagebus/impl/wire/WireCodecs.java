package io.sagebus.impl.wire;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * The event-bus codecs of {@link CallRequest} and {@link CallReply}: JSON text between JVMs (the
 * same bytes Vert.x's own JsonObject codec writes, after a length), the object itself on local
 * delivery. Sagebus builds each request and reply afresh for one send, so nobody else holds it
 * and the deep copy Vert.x makes of a local JsonObject is not needed.
 */
public final class WireCodecs {

  /** The request codec's name. */
  public static final String REQUEST = "sagebus-request";
  /** The reply codec's name. */
  public static final String REPLY = "sagebus-reply";

  private WireCodecs() {
  }

  /**
   * Registers both codecs as the default codecs of their types on a Vertx, once; later calls do nothing.
   *
   * @param vertx the Vertx
   */
  public static void register(Vertx vertx) {
    register(vertx, CallRequest.class, new Codec<>(REQUEST, CallRequest::toJson, CallRequest::fromJson));
    register(vertx, CallReply.class, new Codec<>(REPLY, CallReply::toJson, CallReply::fromJson));
  }

  private static <T> void register(Vertx vertx, Class<T> type, Codec<T> codec) {
    try {
      vertx.eventBus().registerDefaultCodec(type, codec);
    } catch (IllegalStateException alreadyRegistered) {
      // registered by another environment or client of this Vertx
    }
  }

  /** One codec: JSON on the wire, by reference locally. */
  private static final class Codec<T> implements MessageCodec<T, T> {
    private final String name;
    private final Function<T, JsonObject> toJson;
    private final Function<JsonObject, T> fromJson;

    Codec(String name, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
      this.name = name;
      this.toJson = toJson;
      this.fromJson = fromJson;
    }

    @Override
    public void encodeToWire(Buffer buffer, T value) {
      Buffer encoded = toJson.apply(value).toBuffer();
      buffer.appendInt(encoded.length());
      buffer.appendBuffer(encoded);
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      int length = buffer.getInt(pos);
      int start = pos + 4;
      return fromJson.apply(new JsonObject(buffer.slice(start, start + length)));
    }

    @Override
    public T transform(T value) {
      return value;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
