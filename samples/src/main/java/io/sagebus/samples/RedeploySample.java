package io.sagebus.samples;

import io.sagebus.JobResult;
import io.sagebus.JobStatus;
import io.sagebus.LocalEnvironment;
import io.sagebus.MapFunction;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * A rolling replacement ({@code env.redeploy}): a job prices {@value #ORDERS} orders through the
 * {@code price} service (2 instances, no discount); once a quarter of them are priced, the service
 * is redeployed with a 10% discount and 3 instances while the job runs. The instances are replaced
 * one at a time, each new one serving before an old one leaves, and the job fails no call.
 * <p>
 * Run with {@code java -jar samples/target/sagebus-samples.jar redeploy}. Prints:
 * <pre>
 * orders: 20,000 through 'price' (2 instances, discount 0%)
 * redeployed 'price' while the job ran: 3 instances, discount 10%
 * job: COMPLETED, 20,000 orders priced, 0 failed
 * price of 100.0 now: 90.0
 * </pre>
 */
public final class RedeploySample {

  /** The orders of the job. */
  public static final int ORDERS = 20_000;

  private RedeploySample() {
  }

  /**
   * Runs the sample and closes its environment.
   *
   * @param out where it prints
   * @throws io.sagebus.JobFailedException when the job fails
   */
  public static void run(PrintStream out) {
    LocalEnvironment env = LocalEnvironment.create("shop");
    try {
      out.printf(Locale.ROOT, "orders: %,d through 'price' (2 instances, discount 0%%)%n", ORDERS);
      LongAdder priced = new LongAdder();
      // tag::redeploy[]
      env.registerService("price", PriceService.class, new ServiceOptions()
        .setInstances(2).setMaxConcurrency(4).setConfig(new JsonObject().put("discount", 0)));
      env.fromBatch(IntStream.range(0, ORDERS).boxed())
        .map(new Price(), 8)
        .sink(price -> priced.increment());
      var job = env.submit().await();

      awaitPriced(env, priced, ORDERS / 4);
      // New options: the instances are replaced one at a time while the job calls them.
      env.redeploy("price", new ServiceOptions()
        .setInstances(3).setMaxConcurrency(4).setConfig(new JsonObject().put("discount", 10))).await();
      out.println("redeployed 'price' while the job ran: 3 instances, discount 10%");

      JobResult result = job.completion().await();
      // end::redeploy[]
      out.printf(Locale.ROOT, "job: %s, %,d orders priced, %d failed%n", result.status(), priced.sum(),
        result.errors().size());
      if (result.status() != JobStatus.COMPLETED) {
        throw new IllegalStateException("The job did not complete: " + result.status());
      }
      out.println("price of 100.0 now: " + env.services().<Double>call("price", 100.0));
    } finally {
      env.close().await();
    }
  }

  private static void awaitPriced(LocalEnvironment env, LongAdder priced, long orders) {
    while (priced.sum() < orders) {
      env.vertx().timer(5, TimeUnit.MILLISECONDS).await();
    }
  }

  /**
   * Prices an amount with the discount of its configuration.
   */
  public static final class PriceService {
    private final double discount;

    /**
     * Sagebus creates the instances.
     *
     * @param context the instance's context: its configuration holds {@code discount}, in percent
     */
    public PriceService(ServiceContext context) {
      this.discount = context.config().getInteger("discount", 0);
    }

    /**
     * {@return the amount less the discount}
     *
     * @param amount an amount
     * @throws InterruptedException when interrupted
     */
    public double process(double amount) throws InterruptedException {
      Thread.sleep(1); // a little work: the job lasts a few seconds
      return amount * (100 - discount) / 100;
    }
  }

  /** An order's price: the order number as an amount, priced by the service. */
  static final class Price extends MapFunction<Integer, Double> {
    @Override
    public Double execute(Integer order) {
      return callService("price", (double) order);
    }
  }
}
