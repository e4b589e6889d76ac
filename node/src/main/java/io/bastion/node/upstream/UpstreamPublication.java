package io.bastion.node.upstream;

import io.bastion.node.upstream.UpstreamServer.State;
import io.bastion.protocol.UpstreamCatalog;
import org.apache.pekko.cluster.Cluster;

/**
 * What one {@link UpstreamServer} tells the cluster about itself: its status and catalog, in every
 * node's {@link UpstreamDirectory}, ordered by the entity's incarnation (docs/cluster.md). A key's
 * entity ({@link KeyedUpstreams}) publishes nothing: its server's catalog is the one clients see.
 * On the entity's thread only.
 */
final class UpstreamPublication {

  private final UpstreamServer entity;
  private final UpstreamDirectory directory;
  private final String owner;
  private final boolean keyed;
  /** This start of the entity; see {@link UpstreamStatus#version()}. 0 until recorded. */
  private long incarnation;
  private long sequence;

  UpstreamPublication(UpstreamServer entity) {
    this.entity = entity;
    this.directory = UpstreamDirectory.get(entity.ctx.getSystem());
    this.owner = Cluster.get(entity.ctx.getSystem()).selfMember().address().toString();
    this.keyed = KeyedUpstreams.isKeyed(entity.config.name());
  }

  boolean incarnated() {
    return incarnation != 0;
  }

  /**
   * Records this start: {@code lastSequenceNumber} (of the event just written, which no earlier
   * start on any node can have reached), or above anything already published, should the journal
   * ever have been reset.
   */
  void incarnate(long lastSequenceNumber) {
    UpstreamStatus seen = directory.statuses().get(entity.config.name());
    incarnation = Math.max(lastSequenceNumber, seen == null ? 0 : seen.incarnation() + 1);
  }

  /** A persisted catalog keeps its tools when the operator changes the prefix; the prefix always comes from config. */
  UpstreamCatalog currentCatalog(State s) {
    UpstreamCatalog c = s.catalog();
    return new UpstreamCatalog(entity.config.name(), entity.config.toolPrefix(), c.tools(), c.resources(),
        c.resourceTemplates(), c.prompts());
  }

  /** Publishes the status and catalog to every node (nothing before the incarnation is known). */
  void publish(State s) {
    if (incarnation != 0 && !keyed) {
      sequence++;
      directory.publish(status(s));
    }
  }

  /** The status as last published, with what is true now (the admin API's view of a key's entity). */
  UpstreamStatus status(State s) {
    UpstreamConnection c = entity.connection;
    return new UpstreamStatus(entity.config.name(), c.status(), c.lastError(), owner,
        c.backoff().attempts(), c.backoff().recent(), c.serverInfo(), c.capabilities(), currentCatalog(s),
        System.currentTimeMillis(), UpstreamStatus.version(incarnation, sequence),
        UpstreamStatus.NEEDS_AUTHORIZATION.equals(c.status()) ? entity.auth.authorizationUrl(s) : null);
  }
}
