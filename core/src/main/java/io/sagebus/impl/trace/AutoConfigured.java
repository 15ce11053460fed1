package io.sagebus.impl.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;

import java.util.Map;

/**
 * The OpenTelemetry SDK configured from the standard {@code OTEL_*} variables (and
 * {@code otel.*} system properties) by the SDK's autoconfigure module. Only this class names
 * the SDK: it is loaded when tracing is on and nothing was handed in, so core needs only the
 * API otherwise.
 */
final class AutoConfigured implements AutoCloseable {

  /**
   * Defaults below the variables: a service name, and traces only (the SDK's own default would
   * also push metrics and logs to an OTLP endpoint, which Sagebus does not produce).
   */
  private static final Map<String, String> DEFAULTS = Map.of(
    "otel.service.name", "sagebus",
    "otel.metrics.exporter", "none",
    "otel.logs.exporter", "none");

  private final OpenTelemetrySdk sdk;

  private AutoConfigured(OpenTelemetrySdk sdk) {
    this.sdk = sdk;
  }

  static AutoConfigured create() {
    return new AutoConfigured(AutoConfiguredOpenTelemetrySdk.builder()
      .addPropertiesSupplier(() -> DEFAULTS)
      .build()
      .getOpenTelemetrySdk());
  }

  OpenTelemetry openTelemetry() {
    return sdk;
  }

  /** Exports what is pending and shuts the SDK down. */
  @Override
  public void close() {
    sdk.close();
  }
}
