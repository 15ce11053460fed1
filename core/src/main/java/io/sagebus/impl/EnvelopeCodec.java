package io.sagebus.impl;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * The codec of Sagebus requests and replies: JSON on the wire, as Vert.x's own JsonObject codec,
 * but passed by reference on local delivery. Sagebus builds every envelope afresh for one send and
 * copies the caller's JsonObject/JsonArray values into it ({@link Json#toWire}), so no one else
 * holds it and the deep copy Vert.x makes of every local JsonObject is not needed.
 */
public final class EnvelopeCodec implements MessageCodec<JsonObject, JsonObject> {

  /** The codec's name, set on every Sagebus request and reply. */
  public static final String NAME = "sagebus-envelope";

  /** The codec; {@link #register(Vertx)} creates the one a Vertx uses. */
  public EnvelopeCodec() {
  }

  /**
   * Registers the codec on a Vertx once; later calls do nothing.
   *
   * @param vertx the Vertx
   */
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new EnvelopeCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // registered by another environment or client of this Vertx
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject json) {
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    int start = pos + 4;
    return new JsonObject(buffer.slice(start, start + length));
  }

  @Override
  public JsonObject transform(JsonObject json) {
    return json;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
