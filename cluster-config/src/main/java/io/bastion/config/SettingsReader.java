package io.bastion.config;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads the single-instance blocks: {@code gateway}, {@code store}, {@code audit}, {@code admin},
 * {@code cluster}.
 */
final class SettingsReader {

  static final int MIN_ADMIN_TOKEN_LENGTH = 16;

  private SettingsReader() {}

  static GatewayConfig gateway(ConfigNode g) {
    if (!g.expectMap(Keys.GATEWAY)) {
      return GatewayConfig.DEFAULT;
    }
    String host = g.get("host").string();
    if (host != null && host.isBlank()) {
      g.get("host").error("must not be empty (use 0.0.0.0 to listen on every interface)");
    }
    Long port = g.get("port").integer(0, 65535, (long) GatewayConfig.DEFAULT_PORT);
    Long maxBytes = Durations.readSize(g.get("max_request_bytes"), GatewayConfig.MIN_MAX_REQUEST_BYTES,
        GatewayConfig.MAX_MAX_REQUEST_BYTES, GatewayConfig.DEFAULT_MAX_REQUEST_BYTES);
    List<String> origins = origins(g.get("allowed_origins"));
    Duration idle = g.get("session_idle_timeout").duration(GatewayConfig.DEFAULT_SESSION_IDLE_TIMEOUT);
    URI publicUrl = ServerReader.readUrl(g.get("public_url"));
    ResourceServerConfig oauth = OAuthReader.read(g.get("oauth"));
    return new GatewayConfig(host == null || host.isBlank() ? GatewayConfig.DEFAULT_HOST : host,
        port == null ? GatewayConfig.DEFAULT_PORT : port.intValue(),
        maxBytes == null ? GatewayConfig.DEFAULT_MAX_REQUEST_BYTES : maxBytes, origins,
        idle == null ? GatewayConfig.DEFAULT_SESSION_IDLE_TIMEOUT : idle, publicUrl, oauth);
  }

  /** {@code "*"} or {@code scheme://host[:port]}, as browsers send them in {@code Origin}. */
  private static List<String> origins(ConfigNode node) {
    List<String> result = new ArrayList<>();
    List<ConfigNode> items = node.elements();
    List<String> values = node.stringList();
    if (values.size() != items.size()) {
      return result; // bad items already reported
    }
    for (int i = 0; i < values.size(); i++) {
      String origin = values.get(i);
      if (origin.equals("*") || isOrigin(origin)) {
        result.add(origin);
      } else {
        items.get(i).error("expected an origin like http://localhost:6274 (scheme://host[:port], no"
            + " path) or \"*\", got " + ConfigNode.quote(origin));
      }
    }
    return result;
  }

  private static boolean isOrigin(String text) {
    try {
      URI uri = new URI(text);
      return uri.getScheme() != null && uri.getHost() != null && uri.getRawUserInfo() == null
          && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
          && uri.getRawQuery() == null && uri.getRawFragment() == null;
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  static StoreConfig store(ConfigNode s) {
    if (!s.expectMap(Keys.STORE)) {
      return StoreConfig.DEFAULT;
    }
    StoreConfig.Type type = s.get("type").oneOf(StoreConfig.Type.values(), StoreConfig.Type::yamlName,
        StoreConfig.Type.H2);
    if (type == null) {
      return StoreConfig.DEFAULT;
    }
    String url = s.get("url").string();
    String user = s.get("user").string();
    String password = s.get("password").string();
    Path dataDir = null;
    if (type == StoreConfig.Type.POSTGRES) {
      if (!s.has("url")) {
        s.get("url").error("is required for type postgres (jdbc:postgresql://host:5432/db)");
      } else if (url != null && !url.startsWith("jdbc:postgresql://")) {
        s.get("url").error("expected a URL starting with jdbc:postgresql://, got " + ConfigNode.quote(url));
      }
      if (s.has("data_dir")) {
        s.get("data_dir").error("not allowed for type postgres (only for h2)");
      }
    } else {
      if (url != null && !url.startsWith("jdbc:h2:")) {
        s.get("url").error("expected a URL starting with jdbc:h2: for type h2, got " + ConfigNode.quote(url));
      }
      dataDir = path(s.get("data_dir"));
    }
    StoreConfig.OnOutage onOutage = s.get("limits_on_outage").oneOf(StoreConfig.OnOutage.values(),
        StoreConfig.OnOutage::yamlName, StoreConfig.OnOutage.FAIL_CLOSED);
    return new StoreConfig(type, url, user, password, dataDir,
        onOutage == null ? StoreConfig.OnOutage.FAIL_CLOSED : onOutage);
  }

  private static Path path(ConfigNode node) {
    String text = node.string();
    if (text == null) {
      return StoreConfig.DEFAULT_DATA_DIR;
    }
    try {
      if (!text.isBlank()) {
        return Path.of(text);
      }
    } catch (InvalidPathException e) {
      // reported below
    }
    node.error("expected a directory path, got " + ConfigNode.quote(text));
    return StoreConfig.DEFAULT_DATA_DIR;
  }

  static AuditConfig audit(ConfigNode a) {
    if (!a.expectMap(Keys.AUDIT)) {
      return AuditConfig.DEFAULT;
    }
    AuditConfig.Arguments arguments = AuditConfig.Arguments.REDACTED;
    // YAML 1.1 reads a bare `off` as the boolean false; take it as the mode it was meant to be.
    ConfigNode argumentsNode = a.get("arguments");
    String argumentsText = argumentsNode.isBoolean() && Boolean.FALSE.equals(argumentsNode.bool(null))
        ? AuditConfig.Arguments.OFF.yamlName() : argumentsNode.string();
    if (argumentsText != null) {
      arguments = Arrays.stream(AuditConfig.Arguments.values())
          .filter(m -> m.yamlName().equals(argumentsText)).findFirst().orElse(null);
      if (arguments == null) {
        a.get("arguments").error("expected one of: full, redacted, hashed, off; got "
            + ConfigNode.quote(argumentsText));
        arguments = AuditConfig.Arguments.REDACTED;
      }
    }
    Long queue = a.get("queue_size").integer(1, 10_000_000, (long) AuditConfig.DEFAULT_QUEUE_SIZE);
    Long batch = a.get("batch_size").integer(1, 100_000, (long) AuditConfig.DEFAULT_BATCH_SIZE);
    if (queue != null && batch != null && batch > queue) {
      a.get("batch_size").error("must not be greater than queue_size (" + batch + " > " + queue + ")");
    }
    Duration flush = a.get("flush_interval").duration(AuditConfig.DEFAULT_FLUSH_INTERVAL);
    List<String> redactKeys = a.get("redact_keys").stringList();
    return new AuditConfig(arguments,
        queue == null ? AuditConfig.DEFAULT_QUEUE_SIZE : queue.intValue(),
        batch == null ? AuditConfig.DEFAULT_BATCH_SIZE : batch.intValue(),
        flush == null ? AuditConfig.DEFAULT_FLUSH_INTERVAL : flush, redactKeys);
  }

  /**
   * {@code admin.token}, or null if there is no admin block or token. An empty token also means
   * none, so {@code token: ${BASTION_ADMIN_TOKEN:-}} enables the admin API only when the variable is set.
   */
  static String adminToken(ConfigNode admin) {
    if (!admin.expectMap(Keys.ADMIN)) {
      return null;
    }
    ConfigNode node = admin.get("token");
    String token = node.string();
    if (token != null && token.isEmpty()) {
      return null;
    }
    if (token != null && token.length() < MIN_ADMIN_TOKEN_LENGTH) {
      // Never echo the token itself.
      node.error("too short: the admin token needs at least " + MIN_ADMIN_TOKEN_LENGTH
          + " characters, this one has " + token.length());
      return null;
    }
    if (token != null && token.chars().anyMatch(Character::isWhitespace)) {
      node.error("must not contain whitespace");
      return null;
    }
    return token;
  }

  static ClusterConfig cluster(ConfigNode c) {
    if (!c.expectMap(Keys.CLUSTER)) {
      return ClusterConfig.DEFAULT;
    }
    String host = hostName(c.get("host"), ClusterConfig.DEFAULT_HOST);
    Long port = c.get("port").integer(0, 65535, (long) ClusterConfig.DEFAULT_PORT);
    List<String> seeds = new ArrayList<>();
    ConfigNode seedNode = c.get("seed_nodes");
    for (ConfigNode item : seedNode.items("a list of host:port strings")) {
      String text = item.textOrNull();
      if (text == null) {
        if (!item.isText()) { // a text node without a value failed interpolation: already reported
          item.error("expected host:port, got " + item.describe());
        }
        continue;
      }
      if (!ClusterConfig.isHostPort(text)) {
        item.error("expected host:port, got " + ConfigNode.quote(text));
      } else if (seeds.contains(text)) {
        item.error("duplicate seed node " + ConfigNode.quote(text));
      } else {
        seeds.add(text);
      }
    }
    ClusterConfig.Management management = ClusterConfig.Management.DEFAULT;
    ConfigNode m = c.get("management");
    if (m.expectMap(Keys.MANAGEMENT)) {
      String mHost = hostName(m.get("host"), ClusterConfig.Management.DEFAULT_HOST);
      Long mPort = m.get("port").integer(0, 65535, (long) ClusterConfig.Management.DEFAULT_PORT);
      Boolean enabled = m.get("enabled").bool(true);
      management = new ClusterConfig.Management(mHost,
          mPort == null ? ClusterConfig.Management.DEFAULT_PORT : mPort.intValue(),
          enabled == null || enabled);
    }
    return new ClusterConfig(host, port == null ? ClusterConfig.DEFAULT_PORT : port.intValue(), seeds,
        management);
  }

  private static String hostName(ConfigNode node, String fallback) {
    String host = node.string();
    if (host == null) {
      return fallback;
    }
    if (host.isBlank() || host.chars().anyMatch(Character::isWhitespace)) {
      node.error("expected a host name or IP address, got " + ConfigNode.quote(host));
      return fallback;
    }
    return host;
  }
}
