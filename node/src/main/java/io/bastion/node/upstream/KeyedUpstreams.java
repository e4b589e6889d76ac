package io.bastion.node.upstream;

import io.bastion.config.ServerConfig;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Upstreams with {@code auth: {type: oauth, per_key: true}}: one token per virtual key
 * (docs/oauth.md, "One token per virtual key").
 *
 * <p>Such a server has its usual entity, named by the server, whose token an operator authorizes:
 * it lists the catalog every node publishes. Beside it, each virtual key that calls the server has
 * an entity of its own, {@code <server>@<key>}: the same {@link UpstreamServer}, with its own
 * connection, its own OAuth client state (sealed, journaled, so it moves with the entity like the
 * server's) and its own authorization URL. A key's calls (tools, prompts, resources) go to its
 * entity and so carry the token its holder authorized; until then they fail at once with a tool
 * error that carries the URL. Keyed entities publish nothing to the directory.
 *
 * <p>{@code @} cannot occur in a server name ({@code ServerReader}), so the first one splits an
 * entity id; key names may contain it.
 */
public final class KeyedUpstreams {

  static final char SEPARATOR = '@';

  private KeyedUpstreams() {}

  /** The entity of {@code key}'s connection to {@code server}. */
  public static String entityId(String server, String key) {
    return server + SEPARATOR + key;
  }

  /** Whether {@code entityId} names a key's entity rather than a server's. */
  public static boolean isKeyed(String entityId) {
    return entityId.indexOf(SEPARATOR) > 0;
  }

  /** The server of an entity id ({@code entityId} itself for a server's entity). */
  public static String server(String entityId) {
    int at = entityId.indexOf(SEPARATOR);
    return at > 0 ? entityId.substring(0, at) : entityId;
  }

  /** The key of a keyed entity id, else null. */
  public static String key(String entityId) {
    int at = entityId.indexOf(SEPARATOR);
    return at > 0 ? entityId.substring(at + 1) : null;
  }

  /** Whether {@code config} keeps one token per virtual key. */
  public static boolean perKey(ServerConfig config) {
    return config.oauth() != null && config.oauth().perKey();
  }

  /**
   * The configuration of every entity id: a server's own (from {@code servers}), and for
   * {@code <server>@<key>} the server's under that name, when the server is {@code per_key} and the
   * key exists ({@code keyExists}). Anything else has none: a forged callback {@code state} or a
   * deleted key starts no connection.
   */
  public static Function<String, Optional<ServerConfig>> configs(Function<String, Optional<ServerConfig>> servers,
      Predicate<String> keyExists) {
    return id -> {
      if (!isKeyed(id)) {
        return servers.apply(id);
      }
      String key = key(id);
      return servers.apply(server(id)).filter(KeyedUpstreams::perKey)
          .filter(c -> !key.isEmpty() && keyExists.test(key)).map(c -> c.withName(id));
    };
  }

  /** The answer to a key's call while its holder has not authorized it (a tool error for tools/call). */
  static String authorizationNeeded(String entityId, String url) {
    return "upstream " + server(entityId) + " needs your authorization (one token per virtual key; this is key "
        + key(entityId) + "): open " + url + " in a browser, approve, then call again";
  }
}
