package io.bastion.node.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Reads journal events written before the event was nested in the entity: their manifest names
 * the old top-level class {@code io.bastion.node.upstream.CatalogEvent}, whose fields
 * ({@code catalog}, {@code atMillis}) {@link UpstreamServer.CatalogListed} kept unchanged. Bound
 * to the old class name in the node's {@code reference.conf}
 * ({@code pekko.serialization.jackson.migrations}); events written since carry the new name and
 * never pass through here.
 */
public final class CatalogEventMigration extends JacksonMigration {

  /** The manifest (class name) of the events written before the rename. */
  public static final String OLD_CLASS_NAME = "io.bastion.node.upstream.CatalogEvent";

  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return UpstreamServer.CatalogListed.class.getName();
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
