package io.sagebus.testing;

import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.stream.Stream;

/**
 * Debian's Chromium, headless, driven by Debian's chromedriver through Selenium, for the console's
 * browser tests. Both programs are named by path: Selenium Manager never runs, nothing is
 * downloaded, and the browser's own background traffic (updates, sync, safe browsing) is off; the
 * pages it opens are on 127.0.0.1.
 * <p>
 * {@link #unavailable()} says in one line why a machine cannot run the tests (for a JUnit
 * assumption); {@code apt-get install chromium chromium-driver} makes it able to.
 */
public final class HeadlessChromium implements AutoCloseable {

  /** Debian's Chromium. */
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  /** Debian's chromedriver (package chromium-driver). */
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  /**
   * Selenium warns on every start that it has no DevTools (CDP) classes for this Chromium: these tests use none.
   * Held here so that the level stays set (java.util.logging keeps loggers weakly).
   */
  private static final java.util.logging.Logger CDP_VERSION_FINDER =
    java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

  private final ChromeDriverService service;
  private final ChromeDriver driver;
  private final Path profile;
  private final List<String> log = new ArrayList<>();

  private HeadlessChromium(ChromeDriverService service, ChromeDriver driver, Path profile) {
    this.service = service;
    this.driver = driver;
    this.profile = profile;
  }

  /**
   * {@return why browser tests cannot run here, in one line, or {@code null} when they can}
   */
  public static String unavailable() {
    List<String> missing = new ArrayList<>();
    for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(p)) {
        missing.add(p.toString());
      }
    }
    return missing.isEmpty() ? null : "browser tests need " + String.join(" and ", missing)
      + " (Debian: apt-get install -y chromium chromium-driver)";
  }

  /**
   * Starts a browser with a fresh profile.
   *
   * @param width  the window's width in pixels
   * @param height the window's height in pixels
   * @return the browser
   * @throws IllegalStateException when Chromium or chromedriver is missing
   */
  public static HeadlessChromium start(int width, int height) {
    String why = unavailable();
    if (why != null) {
      throw new IllegalStateException(why);
    }
    CDP_VERSION_FINDER.setLevel(Level.SEVERE);
    Path profile;
    try {
      profile = Files.createTempDirectory("sagebus-chromium-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      "--no-default-browser-check", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
      "--disable-client-side-phishing-detection", "--disable-features=Translate,OptimizationHints,MediaRouter",
      "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain", "--lang=en-US",
      "--window-size=" + width + "," + height, "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
      .usingDriverExecutable(CHROMEDRIVER.toFile())
      .usingAnyFreePort()
      .withLogOutput(OutputStream.nullOutputStream())
      .build();
    try {
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(30));
      return new HeadlessChromium(service, driver, profile);
    } catch (RuntimeException e) {
      service.stop();
      deleteQuietly(profile);
      throw e;
    }
  }

  /**
   * {@return the driver}
   */
  public WebDriver driver() {
    return driver;
  }

  /**
   * Opens a page.
   *
   * @param url its address
   */
  public void open(String url) {
    driver.get(url);
  }

  /**
   * Waits until a condition holds, polling every 100 ms.
   *
   * @param timeout  how long at most
   * @param what     the condition, as the failure message names it
   * @param until    returns a non-null, non-false value when the condition holds
   * @param <T>      what the condition returns
   * @return that value
   * @throws org.openqa.selenium.TimeoutException when it does not hold in time (with the browser's console log)
   */
  public <T> T await(Duration timeout, String what, Function<WebDriver, T> until) {
    WebDriverWait wait = new WebDriverWait(driver, timeout, Duration.ofMillis(100));
    wait.withMessage(() -> what + "; browser log: " + consoleLog());
    return wait.until(until);
  }

  /**
   * {@return the element with an id, once it is displayed}
   *
   * @param id      the element's id
   * @param timeout how long at most
   */
  public WebElement visible(String id, Duration timeout) {
    return await(timeout, "#" + id + " displayed", d -> {
      List<WebElement> found = d.findElements(By.id(id));
      return !found.isEmpty() && found.get(0).isDisplayed() ? found.get(0) : null;
    });
  }

  /**
   * {@return the text of an element with an id, or "" when there is none}
   *
   * @param id the element's id
   */
  public String text(String id) {
    List<WebElement> found = driver.findElements(By.id(id));
    return found.isEmpty() ? "" : found.get(0).getText();
  }

  /**
   * Writes a PNG of what the window shows.
   *
   * @param file where
   */
  public void screenshot(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@return every line the browser's console printed since the start (errors, CSP violations, warnings)}
   */
  public synchronized List<String> consoleLog() {
    try {
      for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
        log.add(e.getLevel() + " " + e.getMessage());
      }
    } catch (RuntimeException e) {
      log.add("(the browser log could not be read: " + e + ")");
    }
    return List.copyOf(log);
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      deleteQuietly(profile);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      // A profile left in the temporary folder: harmless.
    }
  }
}
