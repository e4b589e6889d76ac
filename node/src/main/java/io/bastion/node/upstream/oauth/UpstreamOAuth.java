package io.bastion.node.upstream.oauth;

import com.typesafe.config.Config;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The node's upstream-OAuth parts ({@code bastion.upstream-oauth}): the {@link TokenCipher} (or
 * why there is none), the {@link OAuthFlows}, the threads their blocking HTTP calls run on, and
 * the external base URL of {@code /oauth/callback}.
 */
public final class UpstreamOAuth implements Extension {

  /** Registers it as a Pekko extension: one per ActorSystem. */
  public static final class Id extends ExtensionId<UpstreamOAuth> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public UpstreamOAuth createExtension(ActorSystem<?> system) {
      return new UpstreamOAuth(system);
    }
  }

  public static UpstreamOAuth get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private final OAuthFlows flows;
  private final String keyProblem;
  private final ExecutorService executor;
  private final Duration refreshBeforeExpiry;
  private final AtomicReference<URI> callbackBase = new AtomicReference<>();
  /** {@code client-metadata-url}, or null: derived from the callback base when that is https. */
  private final URI clientMetadataUrl;

  private UpstreamOAuth(ActorSystem<?> system) {
    Config c = system.settings().config().getConfig("bastion.upstream-oauth");
    TokenCipher cipher = null;
    String problem = null;
    try {
      String key = c.getString("key");
      if (key.isBlank() && !c.getString("key-file").isBlank()) {
        key = TokenCipher.readKeyFile(Path.of(c.getString("key-file")));
      }
      List<String> previous = c.getStringList("previous-keys");
      if (key.isBlank()) {
        problem = "no OAuth token key: set BASTION_OAUTH_KEY (base64 of 32 random bytes, `openssl rand -base64 32`)"
            + " or BASTION_OAUTH_KEY_FILE; tokens are never stored unencrypted";
      } else {
        cipher = TokenCipher.of(key, previous);
      }
    } catch (IllegalArgumentException e) {
      problem = e.getMessage();
    }
    this.flows = cipher == null ? null : new OAuthFlows(cipher, new UrlGuard(c.getStringList("trusted-hosts")));
    this.keyProblem = problem;
    this.refreshBeforeExpiry = c.getDuration("refresh-before-expiry");
    String base = c.getString("callback-base-url");
    if (!base.isBlank()) {
      callbackBase.set(URI.create(OAuthDiscovery.stripSlash(base)));
    }
    String cimd = c.getString("client-metadata-url");
    this.clientMetadataUrl = cimd.isBlank() ? null : URI.create(cimd);
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(Math.max(1, c.getInt("threads")), r -> {
      Thread t = new Thread(r, "bastion-upstream-oauth-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    system.getWhenTerminated().whenComplete((d, e) -> executor.shutdownNow());
  }

  /** The flows, or null when no key is configured ({@link #keyProblem()} says why). */
  public OAuthFlows flows() {
    return flows;
  }

  public String keyProblem() {
    return keyProblem;
  }

  public Duration refreshBeforeExpiry() {
    return refreshBeforeExpiry;
  }

  /**
   * Sets the callback's base URL unless the settings fixed one: the gateway's public URL, else the
   * node's bound address (called once the HTTP edge is bound).
   */
  public void defaultCallbackBase(URI base) {
    callbackBase.compareAndSet(null, URI.create(OAuthDiscovery.stripSlash(base.toString())));
  }

  /** {@code <base>/oauth/callback}, or null while the base is unknown (the edge is not bound yet). */
  public URI redirectUri() {
    URI base = callbackBase.get();
    return base == null ? null : URI.create(base + "/oauth/callback");
  }

  /**
   * The URL of Bastion's Client ID Metadata Document, used as its {@code client_id} with
   * authorization servers that support them: {@code client-metadata-url}, else
   * {@code <callback base>/oauth/client-metadata.json} when that base is https; null otherwise
   * (a client id must be an https URL: Bastion then registers with DCR).
   */
  public URI clientMetadataUrl() {
    if (clientMetadataUrl != null) {
      return clientMetadataUrl;
    }
    URI base = callbackBase.get();
    return base == null || !"https".equalsIgnoreCase(base.getScheme()) ? null
        : URI.create(base + ClientMetadataDocument.PATH);
  }

  /** The document served at {@link ClientMetadataDocument#PATH}, or null when CIMD is not offered. */
  public String clientMetadataDocument() {
    URI url = clientMetadataUrl();
    URI redirect = redirectUri();
    return url == null || redirect == null ? null : ClientMetadataDocument.json(url, redirect);
  }

  /** Runs a blocking OAuth step on the OAuth threads. */
  public <T> CompletableFuture<T> run(Step<T> step) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          f.complete(step.run());
        } catch (OAuthFailure e) {
          f.completeExceptionally(e);
        } catch (RuntimeException e) {
          f.completeExceptionally(new OAuthFailure("OAuth step failed: " + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage()), false));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      f.completeExceptionally(new OAuthFailure("node shutting down", false));
    }
    return f;
  }

  /** A blocking OAuth step. */
  public interface Step<T> {
    T run() throws OAuthFailure;
  }
}
