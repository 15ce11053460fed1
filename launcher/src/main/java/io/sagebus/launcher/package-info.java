/**
 * The Java 8-compatible entry point of Sagebus's runnable jars: {@link io.sagebus.launcher.Launcher}.
 */
package io.sagebus.launcher;
