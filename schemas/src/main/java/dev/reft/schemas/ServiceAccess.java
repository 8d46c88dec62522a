package dev.reft.schemas;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What each service may do on a cluster with authorization: the least privilege its clients need, as Kafka ACLs.
 * The topics come from the catalog ({@link Topics}); consumer groups and transactional ids from the names the
 * services use ({@code reft-learner-<run>}, {@code reft-sampler-<run>-<instance>}, the reward service's Kafka
 * Streams application id {@code reft-reward}).
 *
 * <p>{@code k8s/strimzi/users.yaml} holds the same grants as Strimzi {@code KafkaUser}s (a test keeps the two
 * equal); the secured-pipeline integration test applies them to a broker with an authorizer and runs the three
 * services under them.
 */
public enum ServiceAccess {

  /**
   * The learner: requests out, rewarded trajectories in, checkpoints (transactional), updates, evaluations, and
   * dead letters for rewarded records it cannot train on.
   */
  LEARNER("reft-learner",
      List.of(Topics.ROLLOUT_REQUESTS, Topics.CHECKPOINTS, Topics.LEARNER_UPDATES, Topics.EVAL, Topics.DEADLETTER),
      List.of(Topics.TRAJECTORIES_REWARDED, Topics.ROLLOUT_REQUESTS),
      "reft-learner-", "reft-learner-", null),

  /** The samplers: requests and checkpoints in; trajectories and dead letters out, transactionally. */
  SAMPLER("reft-sampler",
      List.of(Topics.TRAJECTORIES_SAMPLED, Topics.DEADLETTER),
      List.of(Topics.ROLLOUT_REQUESTS, Topics.CHECKPOINTS),
      "reft-sampler-", "reft-sampler-", null),

  /**
   * The reward service (Kafka Streams, application id {@code reft-reward}): sampled trajectories in; rewarded
   * trajectories, statistics and dead letters out; its own internal (repartition, changelog) topics, group and
   * transactional ids, all prefixed with the application id.
   */
  REWARD("reft-reward",
      List.of(Topics.TRAJECTORIES_REWARDED, Topics.REWARD_STATS, Topics.DEADLETTER),
      List.of(Topics.TRAJECTORIES_SAMPLED),
      "reft-reward", "reft-reward", "reft-reward");

  /** Operations on a topic the service writes. */
  public static final Set<AclOperation> WRITE_OPS = EnumSet.of(AclOperation.WRITE, AclOperation.DESCRIBE);
  /** Operations on a topic the service reads. */
  public static final Set<AclOperation> READ_OPS = EnumSet.of(AclOperation.READ, AclOperation.DESCRIBE);

  private final String user;
  private final List<Topic<?, ?>> writes;
  private final List<Topic<?, ?>> reads;
  private final String groupPrefix;
  private final String transactionalIdPrefix;
  private final String internalTopicPrefix;

  ServiceAccess(String user, List<Topic<?, ?>> writes, List<Topic<?, ?>> reads, String groupPrefix,
      String transactionalIdPrefix, String internalTopicPrefix) {
    this.user = user;
    this.writes = writes;
    this.reads = reads;
    this.groupPrefix = groupPrefix;
    this.transactionalIdPrefix = transactionalIdPrefix;
    this.internalTopicPrefix = internalTopicPrefix;
  }

  /** The user name (SCRAM user, Strimzi {@code KafkaUser}), so the principal {@code User:<user>}. */
  public String user() {
    return user;
  }

  /** The topics it writes. */
  public List<Topic<?, ?>> writes() {
    return writes;
  }

  /** The topics it reads. */
  public List<Topic<?, ?>> reads() {
    return reads;
  }

  /** One grant: operations on a resource named literally or by prefix. */
  public record Grant(ResourceType type, String name, PatternType pattern, Set<AclOperation> operations) {
    /** The grant as Kafka ACL bindings for a principal such as {@code User:reft-learner}. */
    public List<AclBinding> bindings(String principal) {
      List<AclBinding> out = new ArrayList<>();
      for (AclOperation op : operations) {
        out.add(new AclBinding(new ResourcePattern(type, name, pattern),
            new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
      }
      return out;
    }
  }

  /**
   * The grants, with topic names under a configuration ({@code reft.topics.*} overrides); a topic both read
   * and written gets one grant with every operation.
   */
  public List<Grant> grants(Function<String, Optional<String>> config) {
    java.util.Map<String, Set<AclOperation>> topics = new java.util.TreeMap<>();
    for (Topic<?, ?> t : reads) {
      topics.computeIfAbsent(t.name(config), n -> EnumSet.noneOf(AclOperation.class)).addAll(READ_OPS);
    }
    for (Topic<?, ?> t : writes) {
      topics.computeIfAbsent(t.name(config), n -> EnumSet.noneOf(AclOperation.class)).addAll(WRITE_OPS);
    }
    List<Grant> out = new ArrayList<>();
    topics.forEach((name, ops) -> out.add(new Grant(ResourceType.TOPIC, name, PatternType.LITERAL, ops)));
    if (internalTopicPrefix != null) {
      out.add(new Grant(ResourceType.TOPIC, internalTopicPrefix, PatternType.PREFIXED, EnumSet.of(AclOperation.ALL)));
    }
    out.add(new Grant(ResourceType.GROUP, groupPrefix, PatternType.PREFIXED, EnumSet.of(AclOperation.READ)));
    out.add(new Grant(ResourceType.TRANSACTIONAL_ID, transactionalIdPrefix, PatternType.PREFIXED,
        EnumSet.of(AclOperation.WRITE, AclOperation.DESCRIBE)));
    out.sort(Comparator.comparing((Grant g) -> g.type().name()).thenComparing(Grant::name));
    return out;
  }

  /** Every ACL binding of this service for the principal {@code User:<user>}, topics under the configuration. */
  public List<AclBinding> aclBindings(Function<String, Optional<String>> config) {
    List<AclBinding> out = new ArrayList<>();
    grants(config).forEach(g -> out.addAll(g.bindings("User:" + user)));
    return out;
  }
}
