package io.bastion.node.upstream;

import io.bastion.config.OAuthConfig;
import io.bastion.config.ServerConfig;
import io.bastion.config.TransportType;
import io.bastion.node.upstream.UpstreamServer.AuthChanged;
import io.bastion.node.upstream.UpstreamServer.AuthStep;
import io.bastion.node.upstream.UpstreamServer.CodeExchanged;
import io.bastion.node.upstream.UpstreamServer.CompleteAuthorization;
import io.bastion.node.upstream.UpstreamServer.Event;
import io.bastion.node.upstream.UpstreamServer.Reauthorize;
import io.bastion.node.upstream.UpstreamServer.State;
import io.bastion.node.upstream.oauth.OAuthFailure;
import io.bastion.node.upstream.oauth.OAuthFlows;
import io.bastion.node.upstream.oauth.StoredAuth;
import io.bastion.node.upstream.oauth.UpstreamOAuth;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.javadsl.Effect;

/**
 * The OAuth client side of one {@link UpstreamServer} ({@code auth: {type: oauth}}): gets a token
 * before the connection opens, refreshes it before it expires, reacts to the upstream refusing it,
 * and runs the operator's authorization (callback, re-authorize, revoke). Runtime state only, on
 * the entity's thread; the durable part is the entity's {@link StoredAuth} (event
 * {@link AuthChanged}), so another node that takes the entity over has the same tokens.
 *
 * <p>Failure policy (the reference product's lockout bug, avoided): only a refusal by the
 * authorization server ({@code invalid_grant}, {@code invalid_client}, …) drops the tokens and asks
 * an operator; every other failure (network, 5xx, timeouts) is retried with the connection's
 * backoff, or for a background refresh with its own backoff, for as long as it takes. The
 * decrypted access token lives only in memory ({@link #bearer()}), never in a message or a log.
 */
final class UpstreamAuth {

  private static final String REFRESH_TIMER = "oauth-refresh";
  /** A token this close to its expiry is not used to connect; it is refreshed first. */
  private static final long EXPIRY_SLACK_MS = 5_000;

  private final UpstreamServer entity;
  private final ServerConfig config;
  private final OAuthConfig oauth;
  private final TimerScheduler<UpstreamServer.Command> timers;
  private final UpstreamOAuth node;
  private final Backoff refreshBackoff;

  /** The access token in clear, for the transport's requests; null when there is none. */
  private volatile String accessToken;
  /** The sealed token {@link #accessToken} was opened from. */
  private String openedFrom;
  /** The sealed token the upstream refused (401): not to be used again. */
  private String refused;
  /** The state of a code being redeemed (a second callback with it is refused). */
  private String exchanging;
  private boolean refreshing;
  /** Until when a failed background refresh waits for its retry: calls refused meanwhile fail at once (no refresh per call). */
  private long refreshFailedUntil;
  /** Scope step-ups since the entity started (bounded by {@link #MAX_STEP_UPS}). */
  private int stepUps;
  static final int MAX_STEP_UPS = 3;

  UpstreamAuth(UpstreamServer entity, TimerScheduler<UpstreamServer.Command> timers) {
    this.entity = entity;
    this.config = entity.config;
    this.oauth = config.oauth();
    this.timers = timers;
    this.node = oauth == null ? null : UpstreamOAuth.get(entity.ctx.getSystem());
    this.refreshBackoff = new Backoff(config.backoffMin(), config.backoffMax());
  }

  boolean enabled() {
    return oauth != null;
  }

  /** What the transports read the token from, per request. */
  Supplier<String> bearer() {
    return oauth == null ? null : () -> accessToken;
  }

  private Effect<Event, State> none() {
    return entity.effects().none();
  }

  /** The pending authorization's URL, or null. */
  String authorizationUrl(State s) {
    return s.auth() == null ? null : s.auth().authorizationUrl();
  }

  /** True if a token is at hand to connect with (it is opened into memory, and its refresh scheduled). */
  boolean ready(State s) {
    StoredAuth a = s.auth();
    if (node.flows() == null || a == null || !a.hasAccessToken() || a.sealedAccessToken().equals(refused)) {
      return false;
    }
    if (a.expiresAtMillis() > 0 && a.expiresAtMillis() - EXPIRY_SLACK_MS < System.currentTimeMillis()) {
      return false;
    }
    try {
      use(a);
      return true;
    } catch (IllegalArgumentException e) {
      entity.ctx.getLog().warn("Upstream [{}]: the stored token cannot be opened ({}); authorizing again",
          config.name(), e.getMessage());
      return false;
    }
  }

  private void use(StoredAuth a) {
    if (!a.sealedAccessToken().equals(openedFrom)) {
      accessToken = node.flows().cipher().open(a.sealedAccessToken());
      openedFrom = a.sealedAccessToken();
    }
    scheduleRefresh(a);
  }

  /** The upstream answered 401 with the current token: the next attempt refreshes or re-authorizes. */
  void rejected(State s) {
    if (s.auth() != null && s.auth().hasAccessToken()) {
      refused = s.auth().sealedAccessToken();
    }
  }

  /**
   * A call met a 401 with the current token: hold it, refresh the token (or get a new
   * client-credentials one), and send it again once with the new token ({@link #onAuthStep}). With
   * nothing to refresh with, the tokens are dropped and the server needs authorization.
   */
  Effect<Event, State> retryAfterRefresh(State s, UpstreamServer.Forward f) {
    rejected(s);
    entity.traffic.held.hold(f);
    entity.ctx.getLog().info("Upstream [{}] refused the OAuth token of a call: refreshing it, then sending the call"
        + " again once", config.name());
    StoredAuth a = s.auth();
    if (!refreshing && System.currentTimeMillis() < refreshFailedUntil) {
      entity.traffic.held.fail(HeldCalls.refreshFailed(config.name(), "it failed moments ago"));
      return none();
    }
    if (refreshing || startRefresh(a)) {
      return none();
    }
    entity.traffic.held.fail(HeldCalls.needsAuthorization(config.name(), "it has no refresh token"));
    return entity.effects().persist(new AuthChanged(a == null ? null : a.withoutTokens(), System.currentTimeMillis()))
        .thenRun(after -> {
          forget();
          entity.connection.restart(after);
        });
  }

  /**
   * Gets a token for connection attempt {@code generation}, in the background; the answer is an
   * {@link AuthStep}: refresh if there is a refresh token, else client credentials, else discovery,
   * registration and a pending authorization for an operator.
   */
  void obtain(State s, int generation) {
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    OAuthFlows flows = node.flows();
    if (flows == null) {
      self.tell(new AuthStep(generation, null, node.keyProblem(), false, false));
      return;
    }
    StoredAuth a = s.auth();
    URI redirect = node.redirectUri();
    URI cimd = node.clientMetadataUrl();
    boolean machine = oauth.grant() == OAuthConfig.Grant.CLIENT_CREDENTIALS;
    report(node.run(() -> {
      if (a != null && a.hasRefreshToken()) {
        return flows.refresh(a, oauth);
      }
      StoredAuth base = a != null && a.metadata() != null ? a
          : flows.discover(config.url(), config.type() == TransportType.SSE, oauth);
      if (machine) {
        return flows.clientCredentials(flows.ensureClient(base, oauth, null), oauth);
      }
      if (redirect == null) {
        throw new OAuthFailure("the callback URL is not known yet (the HTTP edge is starting)", false);
      }
      if (base.pending() && redirect.toString().equals(base.redirectUri())) {
        return base.withoutTokens();
      }
      return flows.startAuthorization(flows.ensureClient(base.withoutTokens(), oauth, redirect, cimd), config.name());
    }), generation, false);
  }

  private void report(CompletableFuture<StoredAuth> step, int generation, boolean background) {
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    step.whenComplete((result, err) -> self.tell(err == null
        ? new AuthStep(generation, result, null, false, background)
        : new AuthStep(generation, null, OAuthFailure.describe(err), OAuthFailure.isPermanent(err), background)));
  }

  Effect<Event, State> onAuthStep(State s, AuthStep step) {
    if (step.background()) {
      refreshing = false;
    } else if (step.generation() != entity.connection.generation() || !entity.connection.connecting()) {
      return none();
    }
    if (step.failure() != null) {
      if (step.permanent() && s.auth() != null && (s.auth().hasAccessToken() || s.auth().hasRefreshToken())) {
        entity.ctx.getLog().warn("Upstream [{}]: {}; its tokens are dropped and it needs authorization",
            config.name(), step.failure());
        entity.traffic.held.fail(HeldCalls.needsAuthorization(config.name(), step.failure()));
        return entity.effects().persist(new AuthChanged(s.auth().withoutTokens(), System.currentTimeMillis()))
            .thenRun(after -> {
              forget();
              entity.connection.restart(after);
            });
      }
      if (step.background()) {
        entity.traffic.held.fail(HeldCalls.refreshFailed(config.name(), step.failure()));
        long delay = refreshBackoff.failed();
        refreshFailedUntil = System.currentTimeMillis() + delay;
        entity.ctx.getLog().warn("Upstream [{}]: token refresh failed ({}); retrying in [{}] ms",
            config.name(), step.failure(), delay);
        timers.startSingleTimer(REFRESH_TIMER, UpstreamServer.RefreshDue.INSTANCE, Duration.ofMillis(delay));
        return none();
      }
      return entity.connection.lost(s, "OAuth: " + step.failure(), false);
    }
    StoredAuth a = step.auth();
    if (a.equals(s.auth()) && a.pending() && !a.hasAccessToken()) {
      entity.connection.awaitOperator(s);
      return entity.effects().unstashAll();
    }
    return entity.effects().persist(new AuthChanged(a, System.currentTimeMillis())).thenRun(after -> {
      if (a.hasAccessToken()) {
        refused = null;
        refreshBackoff.reset();
        refreshFailedUntil = 0;
        use(a);
        entity.traffic.held.release(entity.traffic::sendAgain);
        if (!step.background()) {
          entity.ctx.getLog().info("Upstream [{}]: OAuth token obtained", config.name());
          entity.connection.tokenReady();
        }
      } else if (a.pending()) {
        entity.ctx.getLog().info(KeyedUpstreams.isKeyed(config.name())
            ? "Upstream [{}] needs authorization by the key's holder (the URL is in the key's calls' errors)"
            : "Upstream [{}] needs authorization by an operator (see /api/v1/servers)", config.name());
        entity.connection.awaitOperator(after);
      }
    }).thenUnstashAll();
  }

  /**
   * The upstream answered 403 {@code insufficient_scope} with the scope it needs: authorize again
   * for the union of the current and the challenged scopes (MCP authorization, step-up). Bounded:
   * not when the union adds nothing (the server already had it), and at most
   * {@link #MAX_STEP_UPS} times per start of the entity.
   */
  Effect<Event, State> stepUp(State s, String challenge) {
    StoredAuth a = s.auth();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("scope=\"([^\"]*)\"").matcher(challenge);
    if (a == null || !m.find() || stepUps >= MAX_STEP_UPS) {
      return none();
    }
    java.util.LinkedHashSet<String> union = new java.util.LinkedHashSet<>();
    if (a.scope() != null) {
      union.addAll(java.util.List.of(a.scope().trim().split("\\s+")));
    }
    int before = union.size();
    union.addAll(java.util.List.of(m.group(1).trim().split("\\s+")));
    union.remove("");
    if (union.size() == before) {
      return none();
    }
    stepUps++;
    String scope = String.join(" ", union);
    entity.ctx.getLog().info("Upstream [{}] needs scope [{}]: authorizing again (step-up {} of {})",
        config.name(), scope, stepUps, MAX_STEP_UPS);
    StoredAuth next = a.withoutTokens().withPending(null, null, null).withScope(scope);
    return entity.effects().persist(new AuthChanged(next, System.currentTimeMillis())).thenRun(after -> {
      forget();
      entity.connection.restart(after);
    });
  }

  /** The browser came back with a code: check the state, redeem the code in the background. */
  Effect<Event, State> onCompleteAuthorization(State s, CompleteAuthorization c) {
    StoredAuth a = s.auth();
    if (oauth == null || node.flows() == null) {
      c.replyTo().tell(StatusReply.error("server " + config.name() + " does not use OAuth"));
      return none();
    }
    if (!OAuthFlows.stateMatches(a, c.state())) {
      c.replyTo().tell(StatusReply.error("unknown or expired authorization for " + config.name()
          + "; start again from the URL in /api/v1/servers"));
      return none();
    }
    if (c.error() != null || c.code() == null) {
      c.replyTo().tell(StatusReply.error("the authorization server refused: "
          + (c.error() == null ? "no code" : c.error())));
      return none();
    }
    if (c.state().equals(exchanging)) {
      c.replyTo().tell(StatusReply.error("this authorization is already being completed"));
      return none();
    }
    exchanging = c.state();
    ActorRef<UpstreamServer.Command> self = entity.ctx.getSelf();
    OAuthFlows flows = node.flows();
    node.run(() -> flows.exchange(a, oauth, c.code(), c.iss())).whenComplete((result, err) -> self.tell(
        new CodeExchanged(c.state(), result, err == null ? null : OAuthFailure.describe(err),
            err != null && OAuthFailure.isPermanent(err), c.replyTo())));
    return none();
  }

  Effect<Event, State> onCodeExchanged(State s, CodeExchanged x) {
    exchanging = null;
    if (x.failure() != null) {
      x.replyTo().tell(StatusReply.error(x.failure()));
      entity.ctx.getLog().warn("Upstream [{}]: completing the authorization failed: {}", config.name(), x.failure());
      if (x.permanent() && OAuthFlows.stateMatches(s.auth(), x.state())) {
        // The code is spent: a new authorization (new state, new verifier) replaces the pending one.
        return entity.effects().persist(new AuthChanged(s.auth().withPending(null, null, null),
            System.currentTimeMillis())).thenRun(entity.connection::restart);
      }
      return none();
    }
    return entity.effects().persist(new AuthChanged(x.auth(), System.currentTimeMillis())).thenRun(after -> {
      forget();
      x.replyTo().tell(StatusReply.success("Bastion is now authorized for upstream " + config.name()));
      entity.ctx.getLog().info("Upstream [{}] authorized by an operator; connecting", config.name());
      entity.connection.restart(after);
    });
  }

  /** Admin API: drop tokens (revoke: best-effort revocation too) and authorize again. */
  Effect<Event, State> onReauthorize(State s, Reauthorize r) {
    if (oauth == null) {
      r.replyTo().tell(StatusReply.error("server " + config.name() + " does not use OAuth"));
      return none();
    }
    StoredAuth a = s.auth();
    if (r.revoke() && a != null && node.flows() != null) {
      OAuthFlows flows = node.flows();
      node.run(() -> {
        flows.revoke(a, oauth);
        return null;
      });
    }
    StoredAuth next = a == null || !r.revoke() ? null : a.withoutTokens().withPending(null, null, null);
    return entity.effects().persist(new AuthChanged(next, System.currentTimeMillis())).thenRun(after -> {
      forget();
      entity.ctx.getLog().info("Upstream [{}]: tokens {} by an operator; authorizing again", config.name(),
          r.revoke() ? "revoked" : "dropped");
      r.replyTo().tell(StatusReply.success(r.revoke() ? "revoked" : "re-authorization started"));
      entity.connection.restart(after);
    });
  }

  /** The access token nears its expiry: refresh it (or get a new client-credentials token) without disconnecting. */
  Effect<Event, State> onRefreshDue(State s) {
    StoredAuth a = s.auth();
    if (!refreshing && a != null && a.hasAccessToken()) {
      startRefresh(a);
    }
    return none();
  }

  /** Starts a background refresh (or a new client-credentials token); false if there is nothing to refresh with. */
  private boolean startRefresh(StoredAuth a) {
    OAuthFlows flows = node.flows();
    boolean machine = oauth.grant() == OAuthConfig.Grant.CLIENT_CREDENTIALS;
    if (a == null || flows == null || !a.hasRefreshToken() && !machine) {
      return false;
    }
    refreshing = true;
    report(node.run(() -> a.hasRefreshToken() ? flows.refresh(a, oauth) : flows.clientCredentials(a, oauth)), 0, true);
    return true;
  }

  private void scheduleRefresh(StoredAuth a) {
    if (a.expiresAtMillis() <= 0) {
      timers.cancel(REFRESH_TIMER);
      return;
    }
    long left = a.expiresAtMillis() - System.currentTimeMillis();
    long before = Math.min(node.refreshBeforeExpiry().toMillis(), Math.max(0, left / 2));
    timers.startSingleTimer(REFRESH_TIMER, UpstreamServer.RefreshDue.INSTANCE,
        Duration.ofMillis(Math.max(1_000, left - before)));
  }

  /** The token in memory is forgotten (the next connection opens the stored one, if any). */
  private void forget() {
    accessToken = null;
    openedFrom = null;
    refused = null;
    timers.cancel(REFRESH_TIMER);
  }
}
