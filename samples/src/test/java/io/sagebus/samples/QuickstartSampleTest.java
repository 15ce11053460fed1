package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class QuickstartSampleTest {

  /** What the quickstart prints; the README and SamplesJarIT expect the same. */
  static final String[] EXPECTED = {
    "sync: {\"user_id\":\"u1\",\"score\":66}",
    "typed: Profile[userId=u2, score=67]",
    "async: Hello, Ada! Your score is 66.",
    "error: No service 'inventory' is registered in environment 'quickstart'; registered: [greeter, profile]."
      + " Register it with env.registerService(\"inventory\", ...)",
    "error: SERVICE_ERROR java.lang.IllegalArgumentException: userId must not be blank",
  };

  @Test
  void callsSyncTypedAndAsyncThenShowsTypedErrors() throws Exception {
    assertThat(SampleOutput.of(QuickstartSample::run)).containsExactly(EXPECTED);
  }

  @Test
  void runsAgainInTheSameJvm() throws Exception {
    // Everything the first run started is closed: a second environment of the same name starts cleanly.
    assertThat(SampleOutput.of(QuickstartSample::run)).containsExactly(EXPECTED);
    assertThat(SampleOutput.of(QuickstartSample::run)).containsExactly(EXPECTED);
  }
}
