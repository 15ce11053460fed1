package io.sagebus.management.impl;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The web console's files: the page at {@code /}, its scripts and styles under {@code /console/},
 * and uPlot (a WebJar on the class path) under {@code /console/vendor/uplot/}, served by vertx-web's
 * {@link StaticHandler} from this jar, with headers that keep the page to its own files: a
 * Content-Security-Policy without inline scripts or styles and with connections to this server only,
 * {@code X-Content-Type-Options: nosniff}, no framing, no referrer, and no caching of the page.
 */
final class ConsoleRoutes {

  /** Where the console's files are on the class path. */
  static final String ROOT = "io/sagebus/management/console";
  /** What the console's page may load and connect to: its own server only; no inline script or style. */
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final StaticHandler files;
  private final StaticHandler uplot;

  ConsoleRoutes() {
    Properties versions = new Properties();
    String resource = "io/sagebus/management/console.properties";
    try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("The console's " + resource + " is missing from the class path: a broken build "
          + "of sagebus-management");
      }
      versions.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Reading the console's " + resource + " failed", e);
    }
    this.files = staticFiles(ROOT);
    this.uplot = staticFiles("META-INF/resources/webjars/uplot/" + versions.getProperty("uplot.version"));
  }

  private static StaticHandler staticFiles(String root) {
    // Caching off: no max-age (the files change with the jar); the headers below say to revalidate.
    return StaticHandler.create(root).setCachingEnabled(false).setDirectoryListing(false).setIncludeHidden(false)
      .setDefaultContentEncoding("UTF-8");
  }

  /**
   * Adds the console's routes: {@code GET /}, {@code GET /console/*}.
   *
   * @param router the API's router, before its token check
   */
  void mount(Router router) {
    router.get("/").handler(ConsoleRoutes::pageHeaders).handler(files);
    router.get("/console/vendor/uplot/*").handler(ConsoleRoutes::fileHeaders).handler(uplot);
    router.get("/console/index.html").handler(ConsoleRoutes::pageHeaders).handler(files);
    router.get("/console/*").handler(ConsoleRoutes::fileHeaders).handler(files);
  }

  private static void pageHeaders(RoutingContext ctx) {
    safeHeaders(ctx.response().headers()).set("Cache-Control", "no-store");
    ctx.next();
  }

  private static void fileHeaders(RoutingContext ctx) {
    safeHeaders(ctx.response().headers()).set("Cache-Control", "no-cache");
    ctx.next();
  }

  private static MultiMap safeHeaders(MultiMap headers) {
    return headers.set("Content-Security-Policy", CSP)
      .set("X-Content-Type-Options", "nosniff")
      .set("X-Frame-Options", "DENY")
      .set("Referrer-Policy", "no-referrer");
  }
}
