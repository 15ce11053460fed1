package io.sagebus.cluster;

import java.util.concurrent.atomic.AtomicBoolean;

/** Set by {@link Marker}'s static initializer; kept apart so that reading it does not load Marker. */
final class MarkerFlag {

  static final AtomicBoolean INITIALIZED = new AtomicBoolean();

  private MarkerFlag() {
  }
}
