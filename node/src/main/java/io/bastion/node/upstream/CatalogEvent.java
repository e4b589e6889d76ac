package io.bastion.node.upstream;

import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.UpstreamCatalog;

/**
 * Journal event of {@link UpstreamServer}: the upstream's catalog changed. Written only when the
 * listed catalog differs from the last one, so a restarted or moved entity serves the last
 * catalog at once while it reconnects.
 */
public record CatalogEvent(UpstreamCatalog catalog, long atMillis) implements CborSerializable {}
