package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EnrichSampleTest {

  /** What the enrich sample prints; the README and SamplesJarIT expect the same. */
  static final String[] EXPECTED = {
    "{\"user_id\":\"u1\",\"profile\":{\"user_id\":\"u1\",\"score\":66}}",
    "{\"user_id\":\"u2\",\"profile\":{\"user_id\":\"u2\",\"score\":67}}",
    "{\"user_id\":\"u3\",\"profile\":{\"user_id\":\"u3\",\"score\":68}}",
    "{\"user_id\":\"u4\",\"profile\":{\"user_id\":\"u4\",\"score\":69}}",
    "job: COMPLETED, 4 records enriched",
  };

  @Test
  void enrichesEveryRecordInOrderThroughTheServiceThenReportsTheJob() throws Exception {
    assertThat(SampleOutput.of(EnrichSample::run)).containsExactly(EXPECTED);
  }

  @Test
  void runsAgainInTheSameJvm() throws Exception {
    // The first run closed its environment: a second one of the same name deploys the service again.
    assertThat(SampleOutput.of(EnrichSample::run)).containsExactly(EXPECTED);
    assertThat(SampleOutput.of(EnrichSample::run)).containsExactly(EXPECTED);
  }
}
