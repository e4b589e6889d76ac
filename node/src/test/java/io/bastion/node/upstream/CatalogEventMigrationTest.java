package io.bastion.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.bastion.config.ServerConfig;
import io.bastion.node.NodeSettings;
import io.bastion.persistence.StoreSchema;
import io.bastion.protocol.Json;
import io.bastion.protocol.UpstreamCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Journals written before the event was nested name it {@code io.bastion.node.upstream.CatalogEvent}:
 * such events still deserialize, and an entity recovers its catalog from them.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CatalogEventMigrationTest {


  private static UpstreamCatalog catalog(String server, String... tools) {
    return new UpstreamCatalog(server, server,
        java.util.Arrays.stream(tools).map(t -> (JsonNode) Json.object().put("name", t)).toList(),
        List.of(), List.of(), List.of());
  }

  @Test
  void anEventUnderTheOldManifestRecoversAsCatalogListed() throws Exception {
    Path dir = Files.createTempDirectory("bastion-migration-");
    String url = "jdbc:h2:file:" + dir.resolve("journal") + ";DB_CLOSE_DELAY=-1";
    ActorTestKit kit = ActorTestKit.create("CatalogEventMigrationTest", ConfigFactory.parseString(String.join("\n",
            "pekko.actor.provider = cluster",
            "pekko.remote.artery.canonical.hostname = 127.0.0.1",
            "pekko.remote.artery.canonical.port = 0",
            "pekko.loglevel = WARNING",
            "pekko-persistence-jdbc.shared-databases.bastion.db.url = \"" + url + "\""))
        .withFallback(ConfigFactory.load()));
    try {
      Cluster.get(kit.system()).join(Cluster.get(kit.system()).selfAddress());
      StoreSchema.ensure(kit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);

      // The serializer reads the old manifest as the new class.
      UpstreamServer.CatalogListed event = new UpstreamServer.CatalogListed(catalog("legacy", "a"), 42L);
      Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
      Serializer serializer = serialization.findSerializerFor(event);
      Object back = serialization.deserialize(serializer.toBinary(event), serializer.identifier(),
          CatalogEventMigration.OLD_CLASS_NAME).get();
      assertThat(back).isEqualTo(event);

      // An entity writes its catalog; its journal is then rewritten to the old class name.
      NodeSettings settings = NodeSettings.fromConfig(kit.system().settings().config());
      ServerConfig config = ServerConfig.stdio("legacy", List.of("unused"));
      FakeUpstream up = new FakeUpstream().withTools("a");
      up.started.complete(null);
      ActorRef<UpstreamServer.Command> first =
          kit.spawn(UpstreamServer.create(config, settings, FakeUpstream.NO_SESSIONS, (s, c) -> up));
      UpstreamStatus ready = await(kit, UpstreamStatus::ready);
      kit.stop(first);
      int rewritten;
      try (Connection c = DriverManager.getConnection(url, "sa", "");
          PreparedStatement st = c.prepareStatement(
              "UPDATE \"event_journal\" SET \"event_ser_manifest\" = ? WHERE \"persistence_id\" = ?")) {
        st.setString(1, CatalogEventMigration.OLD_CLASS_NAME);
        st.setString(2, "UpstreamServer|legacy");
        rewritten = st.executeUpdate();
      }
      assertThat(rewritten).isEqualTo(2);

      // A new start recovers the catalog from the old events (it publishes it while connecting).
      kit.spawn(UpstreamServer.create(config, settings, FakeUpstream.NO_SESSIONS, (s, c) -> new FakeUpstream()));
      UpstreamStatus recovered = await(kit, s -> s.incarnation() > ready.incarnation());
      assertThat(recovered.state()).isEqualTo(UpstreamStatus.CONNECTING);
      assertThat(recovered.catalog().tools()).extracting(t -> t.get("name").asText()).containsExactly("a");
    } finally {
      kit.shutdownTestKit();
    }
  }

  private static UpstreamStatus await(ActorTestKit kit, Predicate<UpstreamStatus> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      UpstreamStatus s = UpstreamDirectory.get(kit.system()).statuses().get("legacy");
      if (s != null && p.test(s)) {
        return s;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("status never matched: " + UpstreamDirectory.get(kit.system()).statuses().get("legacy"));
  }
}
