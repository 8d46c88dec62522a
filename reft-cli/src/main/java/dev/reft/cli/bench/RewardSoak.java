package dev.reft.cli.bench;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code reft bench reward --minutes N}: a soak of the reward service. A producer offers sampled trajectories at a
 * fixed rate (half N-CoT, half P-CoT through the sandbox; the policy version moves on every 5,000, as a run's would)
 * while every 10 s the service process's resident memory ({@code VmRSS} in {@code /proc/<pid>/status}) and its
 * consumer group's lag on the sampled topic (end offsets minus committed offsets) are sampled. At the end it prints
 * the table and a verdict: memory is flat when the RSS slope over the second half is below
 * {@value #FLAT_MB_PER_MINUTE} MB/min (the first half holds the JVM's warm-up: heap growth, JIT, class loading); lag
 * does not grow when its mean over the last third is no more than 5 seconds of input above its mean over the first
 * third.
 */
final class RewardSoak {

  static final double FLAT_MB_PER_MINUTE = 2.0;
  private static final Duration EVERY = Duration.ofSeconds(10);

  private final String bootstrap;
  private final String topic;
  private final String group;
  private final long pid;
  private final int rate;
  private final Duration length;
  private final PrintStream out;

  /** One sample. */
  record Sample(double minutes, long sent, long committed, long lag, double rssMb) {}

  RewardSoak(String bootstrap, String topic, String group, long pid, int rate, Duration length, PrintStream out) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.group = group;
    this.pid = pid;
    this.rate = rate;
    this.length = length;
    this.out = out;
  }

  void run() throws Exception {
    SyntheticData data = SyntheticTask.generate(SyntheticConfig.defaults(7).withSizes(2000, 10, 10));
    List<Problem> ncot = data.train(CotStyle.NCOT);
    List<Problem> pcot = data.train(CotStyle.PCOT);
    AtomicLong sent = new AtomicLong();
    AtomicReference<Exception> failure = new AtomicReference<>();
    List<Sample> samples = new ArrayList<>();
    out.printf(Locale.ROOT, "soak: %d trajectories/s for %d min; RSS of pid %d and lag of group %s every %d s%n", rate,
        length.toMinutes(), pid, group, EVERY.toSeconds());
    out.printf(Locale.ROOT, "%8s %10s %10s %8s %9s%n", "minute", "offered", "graded", "lag", "RSS MB");
    try (KafkaProducer<String, SampledTrajectory> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5),
            new StringSerializer(), Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer());
        // default.api.timeout.ms may not be below request.timeout.ms (30 s by default): the client refuses to start.
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000))) {
      long t0 = System.nanoTime();
      long end = t0 + length.toNanos();
      long nextSample = t0;
      long i = 0;
      while (System.nanoTime() < end) {
        // Pace: trajectory i is due at t0 + i / rate.
        long due = t0 + (long) (i * 1e9 / rate);
        long now = System.nanoTime();
        if (now >= nextSample) {
          samples.add(sample(admin, (now - t0) / 6e10, sent.get()));
          Sample s = samples.get(samples.size() - 1);
          out.printf(Locale.ROOT, "%8.2f %,10d %,10d %,8d %9.1f%n", s.minutes(), s.sent(), s.committed(), s.lag(), s.rssMb());
          nextSample += EVERY.toNanos();
          continue;
        }
        if (due > now) {
          TimeUnit.NANOSECONDS.sleep(Math.min(due, nextSample) - now);
          continue;
        }
        boolean program = i % 2 == 1;
        List<Problem> problems = program ? pcot : ncot;
        Problem p = problems.get((int) ((i / 2) % problems.size()));
        SampledTrajectory t = SampledTrajectory.newBuilder(RewardBenchCommand.trajectory(program ? CotStyle.PCOT : CotStyle.NCOT, p, 0))
            .setRunId("soak").setRequestId("soak-" + i).setPolicyVersion(i / 5000).build();
        producer.send(new ProducerRecord<>(topic, p.id(), t), (m, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          } else {
            sent.incrementAndGet();
          }
        });
        i++;
        if (failure.get() != null) {
          throw new IllegalStateException("cannot write to " + topic + ": " + failure.get().getMessage(), failure.get());
        }
      }
      producer.flush();
      samples.add(sample(admin, (System.nanoTime() - t0) / 6e10, sent.get()));
      Sample s = samples.get(samples.size() - 1);
      out.printf(Locale.ROOT, "%8.2f %,10d %,10d %,8d %9.1f%n", s.minutes(), s.sent(), s.committed(), s.lag(), s.rssMb());
    }
    verdict(samples);
  }

  private void verdict(List<Sample> samples) {
    int n = samples.size();
    List<Sample> secondHalf = samples.subList(n / 2, n);
    double slopeAll = slope(samples);
    double slopeLate = slope(secondHalf);
    double lagFirst = meanLag(samples.subList(0, Math.max(1, n / 3)));
    double lagLast = meanLag(samples.subList(n - Math.max(1, n / 3), n));
    Sample last = samples.get(n - 1);
    double minutes = last.minutes();
    boolean flat = Math.abs(slopeLate) < FLAT_MB_PER_MINUTE;
    boolean lagOk = lagLast <= lagFirst + 5.0 * rate;
    out.printf(Locale.ROOT, "graded %,d of %,d offered in %.1f min (%.0f trajectories/s)%n", last.committed(), last.sent(),
        minutes, last.committed() / (minutes * 60));
    out.printf(Locale.ROOT, "RSS: %.1f MB first, %.1f MB last, max %.1f MB; slope %.2f MB/min over the run, %.2f MB/min "
            + "over the second half%n", samples.get(0).rssMb(), last.rssMb(),
        samples.stream().mapToDouble(Sample::rssMb).max().orElse(0), slopeAll, slopeLate);
    out.printf(Locale.ROOT, "lag: first %d, last %d; mean over the first third %.0f, over the last third %.0f (%.1f s of "
        + "input)%n", samples.get(0).lag(), last.lag(), lagFirst, lagLast, lagLast / rate);
    out.printf(Locale.ROOT, "verdict: memory %s (|slope| over the second half %s %.1f MB/min), lag %s%n",
        flat ? "FLAT" : "GROWING", flat ? "<" : ">=", FLAT_MB_PER_MINUTE, lagOk ? "NOT GROWING" : "GROWING");
  }

  /** Least-squares slope of RSS against minutes. */
  static double slope(List<Sample> samples) {
    int n = samples.size();
    if (n < 2) {
      return 0;
    }
    double mx = samples.stream().mapToDouble(Sample::minutes).average().orElse(0);
    double my = samples.stream().mapToDouble(Sample::rssMb).average().orElse(0);
    double num = 0;
    double den = 0;
    for (Sample s : samples) {
      num += (s.minutes() - mx) * (s.rssMb() - my);
      den += (s.minutes() - mx) * (s.minutes() - mx);
    }
    return den == 0 ? 0 : num / den;
  }

  private static double meanLag(List<Sample> samples) {
    return samples.stream().mapToLong(Sample::lag).average().orElse(0);
  }

  private Sample sample(Admin admin, double minutes, long sentSoFar) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS).get(topic).partitions()
        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    long lag = 0;
    long done = 0;
    for (var e : admin.listOffsets(latest).all().get(20, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      long at = c == null ? 0 : c.offset();
      done += at;
      lag += Math.max(0, e.getValue().offset() - at);
    }
    return new Sample(minutes, sentSoFar, done, lag, rssMb(pid));
  }

  /** The resident set size of a process, from {@code /proc/<pid>/status}; NaN when unreadable. */
  static double rssMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone, or not Linux
    }
    return Double.NaN;
  }
}
