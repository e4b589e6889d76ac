package io.bastion.node.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bastion.node.NodeConfig;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * The HOCON the node's tests repeat, in one place. Every test actor system turns {@code
 * exit-jvm} off (the node's {@code reference.conf} turns it on: shutting a test kit down would end
 * the test JVM) and binds nothing to a fixed port.
 *
 * <p>Why the entity tests do not use {@code LogCapturingExtension}: it needs a logback {@code
 * CapturingAppender} on the root logger, which would swallow (and buffer without bound) the logs
 * of every other test in this module, the node integration tests included. The entity tests run
 * quiet instead ({@code pekko.loglevel = WARNING}).
 */
public final class TestConfigs {
  private TestConfigs() {}

  /** A local actor system with no journal: plain actors, probes, serialization. */
  public static Config local() {
    return ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        pekko.persistence.journal.plugin = ""
        pekko.persistence.snapshot-store.plugin = ""
        """).withFallback(ConfigFactory.load());
  }

  /**
   * A local actor system for {@link EventSourcedBehaviorTestKit}: the in-memory journal and
   * snapshot store of the persistence test kit, with serialization checked on every write.
   */
  public static Config eventSourced() {
    return ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        pekko.loglevel = WARNING
        """).withFallback(EventSourcedBehaviorTestKit.config()).withFallback(ConfigFactory.load());
  }

  /**
   * What every node started in this JVM runs with, under the test's own overrides: Artery on an
   * ephemeral port ({@code NodeConfig.ephemeralRemoting()}), no JVM exit, INFO logging, and no
   * drain before the HTTP port closes (no load balancer to wait for).
   */
  public static Config node() {
    return NodeConfig.ephemeralRemoting().withFallback(ConfigFactory.parseString("""
        bastion.node.shutdown-drain = 0s
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        pekko.loglevel = INFO
        """));
  }
}
