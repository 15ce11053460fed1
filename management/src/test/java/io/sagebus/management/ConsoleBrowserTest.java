package io.sagebus.management;

import io.sagebus.CallOptions;
import io.sagebus.Job;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceOptions;
import io.sagebus.testing.CountingService;
import io.sagebus.testing.EchoService;
import io.sagebus.testing.HeadlessChromium;
import io.sagebus.testing.SlowService;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console in a real browser (Debian's headless Chromium through chromedriver) against a running
 * environment: a slow job appears and advances, its operator graph shows where records wait; a
 * named pipeline runs from the page to its end; a running job is cancelled; a service is called
 * with JSON arguments (its result, then a typed error) and undeployed; the nodes show; a wrong
 * token shows the message; and a page of another origin cannot drive the API. The page must print
 * no Content-Security-Policy violation nor uncaught error.
 * <p>
 * Skipped, with a one-line reason, where {@code /usr/bin/chromium} or {@code /usr/bin/chromedriver}
 * is missing. Screenshots go to {@code target/console-screenshots/}, or to the folder the system
 * property {@code sagebus.console.screenshots} names (the README's come from
 * {@code -Dsagebus.console.screenshots=$PWD/docs}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {

  private static final String TOKEN = "console-browser-test-token-0123456789";
  /** Generous: Chromium and the environment share two cores with other builds. */
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final Pattern FIRST_NUMBER = Pattern.compile("([0-9][0-9,]*)");

  private static LocalEnvironment env;
  private static ManagementServer server;
  private static ManagementServer open;
  private static HeadlessChromium browser;
  private static String url;
  private static Path screenshots;
  private static final AtomicLong reported = new AtomicLong();

  @BeforeAll
  static void start() {
    String why = HeadlessChromium.unavailable();
    Assumptions.assumeTrue(why == null, () -> "ConsoleBrowserTest skipped: " + why);
    screenshots = Path.of(System.getProperty("sagebus.console.screenshots", "target/console-screenshots"));
    env = LocalEnvironment.create("shop");
    env.registerService("echo", EchoService.class);
    env.registerService("profile", SlowService.class, new ServiceOptions().setInstances(2));
    env.registerService("spare", EchoService.class);
    env.registerService("guarded", CountingService.class);
    // A slow job: a profile call of 15 ms per record, 4,000 records: a minute or more.
    env.registerPipeline("slow-report", e -> e.fromBatch(IntStream.range(0, 4000).boxed().toList())
      .map(x -> {
        e.services().call("profile", 15L);
        return x;
      }).name("score")
      .filter(x -> x % 3 == 0).name("top")
      .sink(x -> reported.incrementAndGet()).name("report"));
    env.registerPipeline("quick-report", e -> e.fromBatch(IntStream.range(0, 300).boxed().toList())
      .map(x -> (int) e.services().call("echo", CallOptions.method("add"), x, 1)).name("add")
      .sink(x -> { }).name("collect"));
    env.deploy("echo").await();
    env.deploy("profile").await();
    env.deploy("spare").await();
    env.deploy("guarded").await();
    server = ManagementServer.builder(env).options(new ManagementOptions().setPort(0).setToken(TOKEN)).build();
    server.start().await();
    url = "http://127.0.0.1:" + server.actualPort() + "/";
    // The same environment without a token: what a page of another origin meets on a machine of one's own.
    open = ManagementServer.builder(env).options(new ManagementOptions().setPort(0)).build();
    open.start().await();
    browser = HeadlessChromium.start(1400, 1000);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (open != null) {
      open.close().await();
    }
    if (server != null) {
      server.close().await();
    }
    if (env != null) {
      env.close().await();
    }
  }

  @AfterEach
  void noCspViolationOrUncaughtError() {
    List<String> bad = browser.consoleLog().stream()
      .filter(l -> l.contains("Content Security Policy") || l.contains("Uncaught") || l.contains("TypeError")
        && !l.contains("other-origin"))
      .toList();
    assertThat(bad).as("the browser's console").isEmpty();
  }

  private WebDriver driver() {
    return browser.driver();
  }

  /** Opens the console in a tab that holds no token yet, and gives it the right one. */
  private void signIn(String hash) {
    browser.open(url + "#/jobs");
    ((JavascriptExecutor) driver()).executeScript("sessionStorage.clear()");
    browser.open(url + hash);
    driver().navigate().refresh();
    browser.visible("token", WAIT).sendKeys(TOKEN);
    driver().findElement(By.id("login-submit")).click();
    browser.await(WAIT, "the console behind the token", d -> !d.findElement(By.id("login")).isDisplayed()
      && !d.findElements(By.cssSelector("main section.view")).isEmpty());
  }

  private WebElement row(String tableId, String key) {
    return browser.await(WAIT, "row " + key + " in #" + tableId, d -> {
      List<WebElement> rows = d.findElements(By.cssSelector("#" + tableId + " tr[data-key='" + key + "']"));
      return rows.isEmpty() ? null : rows.get(0);
    });
  }

  private String cell(String tableId, String key, int column) {
    return browser.await(WAIT, "cell " + column + " of " + key, d -> {
      List<WebElement> cells = d.findElements(By.cssSelector("#" + tableId + " tr[data-key='" + key + "'] td"));
      return cells.size() > column ? cells.get(column).getText() : null;
    });
  }

  /** {@return the text of a field of a view's summary ({@code dd[data-field=name]}), or "" when it is not there} */
  private String field(String name) {
    List<WebElement> found = driver().findElements(By.cssSelector("dd[data-field='" + name + "']"));
    return found.isEmpty() ? "" : found.get(0).getText();
  }

  /** {@return how many samples a plot shows} */
  private int points(String plotId) {
    List<WebElement> found = driver().findElements(By.id(plotId));
    String n = found.isEmpty() ? null : found.get(0).getAttribute("data-points");
    return n == null ? 0 : Integer.parseInt(n);
  }

  private static long firstNumber(String text) {
    Matcher m = FIRST_NUMBER.matcher(text);
    return m.find() ? Long.parseLong(m.group(1).replace(",", "")) : -1;
  }

  private static Job latest(String pipelineFirstOperator) {
    return env.jobs().stream().filter(j -> !j.status().isFinal())
      .filter(j -> j.progress().operators().stream().anyMatch(o -> o.name().equals(pipelineFirstOperator)))
      .reduce((a, b) -> b).orElseThrow();
  }

  @Test
  @Order(1)
  void aWrongTokenShowsTheMessageAndTheRightOneOpensTheConsole() {
    browser.open(url);
    ((JavascriptExecutor) driver()).executeScript("sessionStorage.clear()");
    driver().navigate().refresh();
    browser.visible("login", WAIT);
    browser.await(WAIT, "the login message", d -> browser.text("login-message").contains("asks for a token"));
    browser.visible("token", WAIT).sendKeys("not-the-token");
    driver().findElement(By.id("login-submit")).click();
    browser.await(WAIT, "the wrong-token message", d -> d.findElement(By.id("login")).isDisplayed()
      && browser.text("login-message").contains("The token was refused")
      && browser.text("login-message").contains("The bearer token is wrong"));
    browser.visible("token", WAIT).sendKeys(TOKEN);
    driver().findElement(By.id("login-submit")).click();
    // No job has run yet, so the jobs view shows "No jobs yet" rather than its table: what proves the token is a
    // poll that succeeded with it ("updated ..." is written only then) and the prompt gone.
    browser.await(WAIT, "a poll that succeeded with the right token", d -> browser.text("updated").startsWith("updated")
      && !d.findElements(By.cssSelector("main section.view")).isEmpty());
    assertThat(driver().findElement(By.id("login")).isDisplayed()).isFalse();
    // Kept in the tab: a reload asks no more.
    driver().navigate().refresh();
    browser.await(WAIT, "the jobs view after a reload", d -> !d.findElements(By.cssSelector("section.view")).isEmpty());
    assertThat(driver().findElement(By.id("login")).isDisplayed()).isFalse();
  }

  @Test
  @Order(2)
  void aSlowJobAppearsItsProgressAdvancesAndItsGraphShowsWhereRecordsWait() {
    signIn("#/jobs");
    Job job = env.runPipeline("slow-report").await();
    row("jobs", job.id());
    long first = firstNumber(browser.await(WAIT, "progress", d -> {
      String text = cell("jobs", job.id(), 2);
      return firstNumber(text) > 0 ? text : null;
    }));
    browser.await(WAIT, "the job's progress to advance past " + first, d -> firstNumber(cell("jobs", job.id(), 2)) > first);
    assertThat(cell("jobs", job.id(), 1)).isEqualTo("RUNNING");
    assertThat(cell("jobs", job.id(), 2)).contains("/ 4,000");
    browser.await(WAIT, "a rate and an ETA", d -> cell("jobs", job.id(), 3).endsWith("/s")
      && !cell("jobs", job.id(), 4).equals("-"));
    browser.screenshot(screenshots.resolve("console-jobs.png"));

    driver().findElement(By.cssSelector("#jobs tr[data-key='" + job.id() + "'] a")).click();
    browser.visible("job-graph", WAIT);
    browser.await(WAIT, "the graph's four operators", d -> d.findElements(By.cssSelector("#job-graph g.op")).size() == 4);
    // Records wait in front of the slow operator: its queue fills and it is marked.
    browser.await(WAIT, "backpressure at score", d -> browser.text("job-bottleneck").contains("in front of score")
      && !d.findElements(By.cssSelector("#job-graph g.op.bottleneck[data-operator='score']")).isEmpty());
    assertThat(cell("operators", "1", 0)).isEqualTo("score");
    assertThat(cell("operators", "1", 1)).isEqualTo("map × 1");
    assertThat(firstNumber(cell("operators", "1", 6))).isPositive();
    assertThat(cell("operators", "1", 6)).contains("/ 256");
    browser.await(WAIT, "a rate now for score", d -> cell("operators", "1", 4).endsWith("/s"));
    browser.await(WAIT, "the records/s plot", d -> !d.findElements(By.cssSelector("#job-plot canvas")).isEmpty());
    browser.await(WAIT, "ten seconds of rates in the plot", d -> points("job-plot") >= 10);
    browser.screenshot(screenshots.resolve("console-job-graph.png"));

    // Cancelled from its own view.
    driver().findElement(By.id("job-cancel")).click();
    browser.await(WAIT, "CANCELLED", d -> browser.text("job-status").equals("CANCELLED"));
    assertThat(job.status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(driver().findElement(By.id("job-cancel")).isDisplayed()).isFalse();
  }

  @Test
  @Order(3)
  void aNamedPipelineRunsFromTheConsoleToItsEnd() {
    signIn("#/jobs");
    browser.await(WAIT, "the pipelines", d -> new Select(d.findElement(By.id("pipeline"))).getOptions().size() == 2);
    new Select(driver().findElement(By.id("pipeline"))).selectByVisibleText("quick-report");
    driver().findElement(By.id("run")).click();
    String message = browser.await(WAIT, "the started message", d -> {
      String text = browser.text("run-message");
      return text.startsWith("Started pipeline quick-report as job ") ? text : null;
    });
    String id = message.substring(message.lastIndexOf(' ') + 1);
    assertThat(env.job(id)).isPresent();
    browser.await(WAIT, "COMPLETED", d -> cell("jobs", id, 1).equals("COMPLETED"));
    assertThat(cell("jobs", id, 2)).isEqualTo("300 / 300 (100%)");
    assertThat(cell("jobs", id, 5)).isEqualTo("300");
    assertThat(env.job(id).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
  }

  @Test
  @Order(4)
  void aRunningJobIsCancelledFromTheList() {
    signIn("#/jobs");
    Job job = env.runPipeline("slow-report").await();
    WebElement cancel = browser.await(WAIT, "the cancel button", d -> {
      WebElement b = row("jobs", job.id()).findElement(By.cssSelector("button[data-action='cancel']"));
      return b.isDisplayed() ? b : null;
    });
    cancel.click();
    browser.await(WAIT, "CANCELLED", d -> cell("jobs", job.id(), 1).equals("CANCELLED"));
    assertThat(job.completion().await().status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  @Order(5)
  void aServiceIsCalledWithJsonArgumentsThenATypedErrorShows() {
    // Load on profile while the page watches: calls/s and latency to see.
    Job load = env.runPipeline("slow-report").await();
    signIn("#/services");
    row("services", "echo");
    browser.await(WAIT, "profile's two replicas on this node", d -> cell("services", "profile", 2).contains("× 2"));
    browser.await(WAIT, "health and breaker", d -> cell("services", "echo", 9).equals("UP")
      && cell("services", "echo", 10).equals("none"));
    browser.await(WAIT, "profile's calls/s and latency", d -> firstNumber(cell("services", "profile", 3)) > 0
      && cell("services", "profile", 4).endsWith("ms") && cell("services", "profile", 5).endsWith("ms"));
    browser.screenshot(screenshots.resolve("console-services.png"));
    driver().findElement(By.cssSelector("#services tr[data-key='profile'] a")).click();
    browser.await(WAIT, "ten seconds of profile's calls in the plots", d -> points("service-calls-plot") >= 10
      && points("service-latency-plot") >= 10 && field("p50").endsWith("ms"));
    browser.screenshot(screenshots.resolve("console-service.png"));
    load.cancel().await();

    driver().findElement(By.cssSelector("a[href='#/services']")).click();
    row("services", "echo");
    driver().findElement(By.cssSelector("#services tr[data-key='echo'] a")).click();
    browser.await(WAIT, "echo's view", d -> browser.text("service-name").equals("echo"));
    browser.visible("call-form", WAIT);

    WebElement method = driver().findElement(By.id("call-method"));
    method.clear();
    method.sendKeys("add");
    WebElement args = driver().findElement(By.id("call-args"));
    args.clear();
    args.sendKeys("[2, 3]");
    driver().findElement(By.id("call")).click();
    browser.await(WAIT, "the result 5", d -> browser.visible("call-result", WAIT).getText().equals("5"));
    assertThat(driver().findElement(By.id("call-error")).isDisplayed()).isFalse();

    args.clear();
    args.sendKeys("[\"two\", 3]");
    driver().findElement(By.id("call")).click();
    String error = browser.await(WAIT, "a typed error", d -> {
      String text = browser.text("call-error");
      return text.contains("BAD_ARGUMENTS") ? text : null;
    });
    assertThat(error).contains("HTTP 400");
    assertThat(driver().findElement(By.id("call-result")).isDisplayed()).isFalse();

    method.clear();
    method.sendKeys("nope");
    args.clear();
    args.sendKeys("[]");
    driver().findElement(By.id("call")).click();
    browser.await(WAIT, "UNKNOWN_METHOD", d -> browser.text("call-error").contains("UNKNOWN_METHOD")
      && browser.text("call-error").contains("HTTP 404"));

    args.clear();
    args.sendKeys("{\"not\": \"an array\"}");
    driver().findElement(By.id("call")).click();
    browser.await(WAIT, "the arguments' own message", d -> browser.text("call-error").contains("must be a JSON array"));

    // The calls show in the service's figures and plots.
    browser.await(WAIT, "echo's requests", d -> firstNumber(field("requests")) >= 3);
    browser.await(WAIT, "echo's errors by code", d -> field("errors").contains("BAD_ARGUMENTS 1")
      && field("errors").contains("UNKNOWN_METHOD 1"));
    browser.await(WAIT, "the plots", d -> d.findElements(By.cssSelector("#service-calls-plot canvas")).size() == 1
      && d.findElements(By.cssSelector("#service-latency-plot canvas")).size() == 1);
  }

  @Test
  @Order(6)
  void aServiceIsUndeployedFromTheConsole() {
    signIn("#/services/spare");
    browser.await(WAIT, "spare running", d -> field("instances").equals("1"));
    browser.visible("undeploy", WAIT).click();
    browser.visible("undeploy-confirm", WAIT).click();
    browser.await(WAIT, "undeployed", d -> browser.text("undeploy-message").equals(
      "spare undeployed: its instances stopped (it stays registered)."));
    assertThat(env.services().stats("spare").await().instances()).isZero();
    browser.await(WAIT, "no instance left", d -> field("instances").equals("0"));
  }

  @Test
  @Order(7)
  void theNodesShowWithHeapAndRunningJobs() {
    signIn("#/nodes");
    WebElement node = browser.await(WAIT, "this node", d -> {
      List<WebElement> rows = d.findElements(By.cssSelector("#nodes tbody tr"));
      return rows.size() == 1 ? rows.get(0) : null;
    });
    String key = node.getAttribute("data-key");
    assertThat(key).startsWith("shop@");
    assertThat(cell("nodes", key, 2)).isEqualTo("yes");
    assertThat(cell("nodes", key, 3)).isEqualTo("local");
    assertThat(cell("nodes", key, 7)).contains("MiB /");
    assertThat(cell("nodes", key, 8)).isEqualTo("0");
    assertThat(cell("nodes", key, 9)).contains("echo").contains("profile");
  }

  @Test
  @Order(8)
  void aPageOfAnotherOriginCannotDriveTheApi() throws Exception {
    // The server without a token; a page served by another server (another port: another origin) tries.
    String api = "http://127.0.0.1:" + open.actualPort();
    HttpServer other = env.vertx().createHttpServer().requestHandler(req -> {
      if (req.path().equals("/other-origin.js")) {
        req.response().putHeader("Content-Type", "text/javascript").end(OTHER_ORIGIN_SCRIPT);
      } else {
        req.response().putHeader("Content-Type", "text/html").end("<!doctype html><title>other</title>"
          + "<pre id=\"out\"></pre><script src=\"/other-origin.js\" data-api=\"" + api + "\"></script>");
      }
    }).listen(0, "127.0.0.1").await();
    try {
      long before = env.services().stats("guarded").await().requests();
      browser.open("http://127.0.0.1:" + other.actualPort() + "/");
      String out = browser.await(WAIT, "the other page's attempts", d -> {
        String text = browser.text("out");
        return text.contains("done") ? text : null;
      });
      assertThat(out).contains("json-post: blocked").contains("delete: blocked").contains("read-jobs: blocked")
        .contains("text-post: sent");
      // The no-cors text/plain POST reached the server, which refused it (415) before the service ran.
      assertThat(env.services().stats("guarded").await().requests()).isEqualTo(before);
      assertThat(env.services().stats("guarded").await().instances()).isEqualTo(1);
      // The console the open server serves itself works, without a token prompt.
      browser.open(api + "/#/services");
      row("services", "guarded");
      assertThat(driver().findElement(By.id("login")).isDisplayed()).isFalse();
    } finally {
      other.close().await();
    }
  }

  /** What a page of another origin tries: each line says whether the browser let it through. */
  private static final String OTHER_ORIGIN_SCRIPT = """
    const api = document.currentScript.dataset.api;
    const out = document.getElementById('out');
    const say = line => { out.textContent += line + '\\n'; };
    async function attempt(name, run) {
      try { await run(); say(name + ': sent'); } catch (e) { say(name + ': blocked'); }
    }
    (async () => {
      await attempt('json-post', () => fetch(api + '/services/guarded/call', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: '{"args": []}' }));
      await attempt('delete', () => fetch(api + '/services/guarded', { method: 'DELETE',
        headers: { 'Content-Type': 'application/json' } }));
      await attempt('read-jobs', async () => { const r = await fetch(api + '/jobs'); await r.json(); });
      await attempt('text-post', () => fetch(api + '/services/guarded/call', { method: 'POST', mode: 'no-cors',
        headers: { 'Content-Type': 'text/plain' }, body: '{"args": []}' }));
      say('done');
    })();
    """;
}
