package io.bastion.node.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import kotlin.jvm.functions.Function1;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.OAuth2HttpRequest;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponse;
import no.nav.security.mock.oauth2.http.Route;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import okhttp3.Headers;

/**
 * A real OAuth 2 authorization server ({@code no.nav.security:mock-oauth2-server}, on 127.0.0.1,
 * ephemeral port) and an MCP server of ours protected by it, for upstream-OAuth tests.
 *
 * <p>The authorization server is mock-oauth2-server's issuer {@code /mcp-as} (auto-approving
 * login, refresh-token rotation on), with two additions it lacks: RFC 7591 Dynamic Client
 * Registration ({@code POST /mcp-as/register}) and its RFC 8414 metadata at the path-inserted
 * well-known URL ({@code /.well-known/oauth-authorization-server/mcp-as}) naming that registration
 * endpoint. Its access tokens are JWTs whose {@code aud} is the RFC 8707 {@code resource} the
 * client asked for. Switches: refuse refresh grants ({@code invalid_grant}, as for a revoked refresh
 * token) or fail them transiently (503).
 *
 * <p>The MCP server ({@code /mcp}, streamable HTTP, JSON answers) validates every request's bearer
 * token with Nimbus: RS256 signature against the authorization server's JWKS, issuer, audience =
 * its own URL, and the {@code mcp:tools} scope; otherwise 401 with {@code WWW-Authenticate: Bearer
 * resource_metadata="…", scope="…"}. It serves RFC 9728 metadata at
 * {@code /.well-known/oauth-protected-resource/mcp} and the tools {@code echo}, {@code whoami} (the token's
 * subject: here the client id the token was issued to) and {@code admin}; {@code admin} needs the scope
 * {@code mcp:admin} and answers 403 {@code insufficient_scope} without it (step-up).
 */
public final class OAuthUpstreamFixture implements AutoCloseable {

  public static final String ISSUER_ID = "mcp-as";
  public static final String SCOPE = "openid mcp:tools";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MockOAuth2Server as;
  private final HttpServer mcp;
  private final JWKSource<SecurityContext> jwks;
  private final Set<String> refusedTokens = ConcurrentHashMap.newKeySet();
  private final Set<String> seenTokens = ConcurrentHashMap.newKeySet();
  /** The scopes of each valid token seen. */
  private final Map<String, List<String>> tokenScopes = new ConcurrentHashMap<>();
  /** The subject ({@code sub}) of each valid token seen: what {@code whoami} answers. */
  private final Map<String, String> tokenSubjects = new ConcurrentHashMap<>();
  /** Every secret value the test run handled: tokens, codes, verifiers, client secrets. */
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private final List<String> registeredClients = new CopyOnWriteArrayList<>();
  /** The scope each dynamically registered client registered with: its default scope. */
  private final Map<String, String> registeredScopes = new ConcurrentHashMap<>();
  /** The scope of each client's latest authorization request (what the operator approved). */
  private final Map<String, String> authorizedScopes = new ConcurrentHashMap<>();
  private final List<String> grants = new CopyOnWriteArrayList<>();
  private final AtomicBoolean refuseRefresh = new AtomicBoolean();
  private final AtomicBoolean failRefresh = new AtomicBoolean();
  private final AtomicBoolean cimd = new AtomicBoolean();
  private final AtomicInteger unauthorized = new AtomicInteger();
  private final AtomicInteger calls = new AtomicInteger();
  private volatile long tokenLifetimeSeconds = 3600;

  private OAuthUpstreamFixture() throws IOException {
    OAuth2TokenCallback audienceFromResource = new ResourceAudienceCallback();
    as = new MockOAuth2Server(new OAuth2Config(false, null, null, true, new OAuth2TokenProvider(),
        Set.of(audienceFromResource)), registrationRoute(), metadataRoute(), tokenGuardRoute(), authorizeWatch());
    as.start(InetAddress.getByName("127.0.0.1"), 0);
    jwks = JWKSourceBuilder.create(as.jwksUrl(ISSUER_ID).url()).build();
    mcp = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    mcp.createContext("/mcp", this::handleMcp);
    mcp.createContext("/sse", this::handleSse);
    mcp.createContext("/messages", this::handleMessages);
    mcp.createContext("/.well-known/oauth-protected-resource", this::handleResourceMetadata);
    mcp.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    mcp.start();
  }

  public static OAuthUpstreamFixture start() {
    try {
      return new OAuthUpstreamFixture();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public URI mcpUrl() {
    return URI.create("http://127.0.0.1:" + mcp.getAddress().getPort() + "/mcp");
  }

  /** The legacy HTTP+SSE endpoint of the same server (GET stream, POSTs to the announced endpoint). */
  public URI sseUrl() {
    return URI.create("http://127.0.0.1:" + mcp.getAddress().getPort() + "/sse");
  }

  public String issuer() {
    return as.issuerUrl(ISSUER_ID).toString().replaceAll("/$", "");
  }

  /** Values that must never appear in Bastion's logs (tokens issued, codes, verifiers, secrets). */
  public Set<String> secrets() {
    return Set.copyOf(secrets);
  }

  public List<String> registeredClients() {
    return List.copyOf(registeredClients);
  }

  /** The grant types of every token request, in order. */
  public List<String> grants() {
    return List.copyOf(grants);
  }

  public int unauthorizedAnswers() {
    return unauthorized.get();
  }

  public int toolCalls() {
    return calls.get();
  }

  /** The MCP server refuses every token it has seen so far (as if they expired early). */
  public void expireSeenTokens() {
    refusedTokens.addAll(seenTokens);
  }

  /** Refresh grants are answered {@code invalid_grant} (the refresh token was revoked). */
  public void refuseRefresh(boolean on) {
    refuseRefresh.set(on);
  }

  /** Refresh grants are answered 503 (the authorization server is down for a while). */
  public void failRefreshTransiently(boolean on) {
    failRefresh.set(on);
  }

  /**
   * The authorization server's metadata announces {@code client_id_metadata_document_supported}
   * (mock-oauth2-server accepts any client id and does not fetch the document itself).
   */
  public void clientIdMetadataDocuments(boolean on) {
    cimd.set(on);
  }

  /** Lifetime of tokens issued from now on. */
  public void tokenLifetimeSeconds(long seconds) {
    tokenLifetimeSeconds = seconds;
  }

  // ---------------------------------------------------------------- authorization server additions

  private Route registrationRoute() {
    return route("POST", "/" + ISSUER_ID + "/register", req -> {
      try {
        ObjectNode meta = (ObjectNode) JSON.readTree(req.getBody());
        String clientId = "dyn-" + UUID.randomUUID();
        registeredClients.add(clientId);
        if (meta.hasNonNull("scope")) {
          registeredScopes.put(clientId, meta.get("scope").asText());
        }
        meta.put("client_id", clientId);
        meta.put("client_id_issued_at", System.currentTimeMillis() / 1000);
        String method = meta.path("token_endpoint_auth_method").asText("client_secret_basic");
        if (!method.equals("none")) {
          String secret = "sec-" + UUID.randomUUID();
          secrets.add(secret);
          meta.put("client_secret", secret);
          meta.put("client_secret_expires_at", 0);
        }
        return json(201, meta.toString());
      } catch (IOException | ClassCastException e) {
        return json(400, "{\"error\":\"invalid_client_metadata\"}");
      }
    });
  }

  private Route metadataRoute() {
    return route("GET", "/.well-known/oauth-authorization-server/" + ISSUER_ID, req -> {
      try {
        HttpURLs.Response r = HttpURLs.get(as.oauth2AuthorizationServerMetadataUrl(ISSUER_ID).toString());
        ObjectNode meta = (ObjectNode) JSON.readTree(r.body());
        meta.put("registration_endpoint", as.url("/" + ISSUER_ID + "/register").toString());
        if (cimd.get()) {
          meta.put("client_id_metadata_document_supported", true);
        }
        return json(200, meta.toString());
      } catch (IOException e) {
        return json(500, "{}");
      }
    });
  }

  /** Sees every token request before mock-oauth2-server does: records secrets, applies the switches. */
  private Route tokenGuardRoute() {
    String path = "/" + ISSUER_ID + "/token";
    return new Route() {
      @Override
      public boolean match(OAuth2HttpRequest req) {
        if (!"POST".equals(req.getMethod()) || !req.getUrl().encodedPath().equals(path)) {
          return false;
        }
        Map<String, String> form = form(req.getBody());
        grants.add(form.getOrDefault("grant_type", "?"));
        form.forEach((k, v) -> {
          if (Set.of("code", "code_verifier", "refresh_token", "client_secret").contains(k)) {
            secrets.add(v);
          }
        });
        boolean refresh = "refresh_token".equals(form.get("grant_type"));
        return refresh && (refuseRefresh.get() || failRefresh.get());
      }

      @Override
      public OAuth2HttpResponse invoke(OAuth2HttpRequest req) {
        return refuseRefresh.get()
            ? json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"refresh token revoked\"}")
            : json(503, "{\"error\":\"temporarily_unavailable\"}");
      }
    };
  }

  /** Records the scope of each authorization request; never answers (mock-oauth2-server does). */
  private Route authorizeWatch() {
    String path = "/" + ISSUER_ID + "/authorize";
    return new Route() {
      @Override
      public boolean match(OAuth2HttpRequest req) {
        if ("GET".equals(req.getMethod()) && req.getUrl().encodedPath().equals(path)) {
          String client = req.getUrl().queryParameter("client_id");
          String scope = req.getUrl().queryParameter("scope");
          if (client != null && scope != null) {
            authorizedScopes.put(client, scope);
          }
        }
        return false;
      }

      @Override
      public OAuth2HttpResponse invoke(OAuth2HttpRequest req) {
        throw new IllegalStateException("never matches");
      }
    };
  }

  private static Route route(String method, String path, Function1<OAuth2HttpRequest, OAuth2HttpResponse> f) {
    return new Route() {
      @Override
      public boolean match(OAuth2HttpRequest req) {
        return method.equals(req.getMethod()) && req.getUrl().encodedPath().equals(path);
      }

      @Override
      public OAuth2HttpResponse invoke(OAuth2HttpRequest req) {
        return f.invoke(req);
      }
    };
  }

  private static OAuth2HttpResponse json(int status, String body) {
    return new OAuth2HttpResponse(Headers.of("Content-Type", "application/json", "Cache-Control", "no-store"),
        status, body, null);
  }

  static Map<String, String> form(String body) {
    Map<String, String> out = new HashMap<>();
    if (body == null) {
      return out;
    }
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  /** Tokens for {@link #ISSUER_ID} whose audience is the requested RFC 8707 resource, with the requested scope. */
  private final class ResourceAudienceCallback implements OAuth2TokenCallback {
    @Override
    public String issuerId() {
      return ISSUER_ID;
    }

    @Override
    public String subject(TokenRequest req) {
      return req.getClientID() != null ? req.getClientID().getValue()
          : req.getClientAuthentication() != null ? req.getClientAuthentication().getClientID().getValue() : "operator";
    }

    @Override
    public String typeHeader(TokenRequest req) {
      return "JWT";
    }

    @Override
    public List<String> audience(TokenRequest req) {
      List<String> aud = new ArrayList<>();
      if (req.getResources() != null) {
        req.getResources().forEach(u -> aud.add(u.toString()));
      }
      return aud.isEmpty() ? List.of("no-resource-requested") : aud;
    }

    @Override
    public Map<String, Object> addClaims(TokenRequest req) {
      // The requested scope; else (a code exchange, whose scope mock-oauth2-server does not carry
      // over) the scope of the client's authorization request, else its registered scope.
      String client = subject(req);
      String scope = req.getScope() != null ? req.getScope().toString()
          : authorizedScopes.getOrDefault(client, registeredScopes.get(client));
      return scope == null ? Map.of() : Map.of("scope", scope);
    }

    @Override
    public long tokenExpiry() {
      return tokenLifetimeSeconds;
    }
  }

  // ---------------------------------------------------------------- the protected MCP server

  private void handleResourceMetadata(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    URI resource = path.equals("/.well-known/oauth-protected-resource/mcp") ? mcpUrl()
        : path.equals("/.well-known/oauth-protected-resource/sse") ? sseUrl() : null;
    if (resource == null) {
      send(ex, 404, "application/json", "{}");
      return;
    }
    ObjectNode md = JSON.createObjectNode().put("resource", resource.toString());
    md.putArray("authorization_servers").add(issuer());
    md.putArray("scopes_supported").add("openid").add("mcp:tools");
    md.putArray("bearer_methods_supported").add("header");
    send(ex, 200, "application/json", md.toString());
  }

  private void handleMcp(HttpExchange ex) throws IOException {
    try (ex) {
      if (refused(ex, mcpUrl(), "mcp")) {
        return;
      }
      if (!ex.getRequestMethod().equals("POST")) {
        send(ex, 405, "text/plain", "");
        return;
      }
      JsonNode msg = JSON.readTree(ex.getRequestBody());
      if (!msg.has("id") || !msg.has("method")) {
        send(ex, 202, "text/plain", "");
        return;
      }
      String token = ex.getRequestHeaders().getFirst("Authorization").substring(7).trim();
      if (msg.path("params").path("name").asText().equals("admin")
          && !tokenScopes.getOrDefault(token, List.of()).contains("mcp:admin")) {
        ex.getResponseHeaders().add("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\""
            + SCOPE + " mcp:admin\", resource_metadata=\"http://127.0.0.1:" + mcp.getAddress().getPort()
            + "/.well-known/oauth-protected-resource/mcp\"");
        send(ex, 403, "application/json", "{\"error\":\"insufficient_scope\"}");
        return;
      }
      send(ex, 200, "application/json", answer(msg, token).toString());
    }
  }

  /** Answers 401 with the challenge unless the request carries a valid token for {@code resource}. */
  private boolean refused(HttpExchange ex, URI resource, String metadataName) throws IOException {
    String problem = checkToken(ex.getRequestHeaders().getFirst("Authorization"), resource);
    if (problem == null) {
      return false;
    }
    unauthorized.incrementAndGet();
    ex.getResponseHeaders().add("WWW-Authenticate", "Bearer error=\"invalid_token\", resource_metadata=\""
        + "http://127.0.0.1:" + mcp.getAddress().getPort() + "/.well-known/oauth-protected-resource/" + metadataName
        + "\", scope=\"" + SCOPE + "\"");
    send(ex, 401, "application/json", JSON.createObjectNode().put("error", "invalid_token")
        .put("error_description", problem).toString());
    return true;
  }

  /** The open legacy SSE stream (one client at a time: Bastion's single connection). */
  private volatile OutputStream sseStream;

  private void handleSse(HttpExchange ex) throws IOException {
    if (refused(ex, sseUrl(), "sse")) {
      ex.close();
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    synchronized (this) {
      sseStream = out;
      out.write("event: endpoint\ndata: /messages\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
    // The stream stays open until the client goes away (the write fails) or the fixture stops.
  }

  private void handleMessages(HttpExchange ex) throws IOException {
    try (ex) {
      if (refused(ex, sseUrl(), "sse")) {
        return;
      }
      JsonNode msg = JSON.readTree(ex.getRequestBody());
      send(ex, 202, "text/plain", "");
      if (msg.has("id") && msg.has("method")) {
        String token = ex.getRequestHeaders().getFirst("Authorization").substring(7).trim();
        String event = "event: message\ndata: " + answer(msg, token) + "\n\n";
        synchronized (this) {
          OutputStream out = sseStream;
          if (out != null) {
            out.write(event.getBytes(StandardCharsets.UTF_8));
            out.flush();
          }
        }
      }
    }
  }

  private String checkToken(String header, URI resource) {
    if (header == null || !header.startsWith("Bearer ")) {
      return "no bearer token";
    }
    String token = header.substring(7).trim();
    secrets.add(token);
    if (refusedTokens.contains(token)) {
      return "token expired";
    }
    try {
      DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
      p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256, jwks));
      p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(resource.toString(),
          new JWTClaimsSet.Builder().issuer(issuer()).build(), Set.of("exp", "iat", "sub")));
      JWTClaimsSet claims = p.process(token, null);
      String scope = claims.getStringClaim("scope");
      if (scope == null || !List.of(scope.split(" ")).contains("mcp:tools")) {
        return "scope mcp:tools missing";
      }
      seenTokens.add(token);
      tokenScopes.put(token, List.of(scope.split(" ")));
      tokenSubjects.put(token, claims.getSubject());
      return null;
    } catch (Exception e) {
      return "invalid token: " + e.getMessage();
    }
  }

  private ObjectNode answer(JsonNode msg, String token) {
    ObjectNode out = JSON.createObjectNode().put("jsonrpc", "2.0");
    out.set("id", msg.get("id"));
    ObjectNode result = out.putObject("result");
    switch (msg.get("method").asText()) {
      case "initialize" -> {
        result.put("protocolVersion", msg.path("params").path("protocolVersion").asText(McpHttp.VERSION));
        result.putObject("capabilities").putObject("tools");
        result.putObject("serverInfo").put("name", "oauth-protected").put("version", "1.0.0");
      }
      case "tools/list" -> {
        var tools = result.putArray("tools");
        for (String name : List.of("echo", "whoami", "admin")) {
          ObjectNode t = tools.addObject().put("name", name).put("description", name);
          ObjectNode schema = t.putObject("inputSchema").put("type", "object");
          schema.putObject("properties").putObject("message").put("type", "string");
        }
      }
      case "tools/call" -> {
        calls.incrementAndGet();
        String tool = msg.path("params").path("name").asText();
        String text = tool.equals("echo") ? "Echo: " + msg.path("params").path("arguments").path("message").asText()
            : tool.equals("whoami") ? "you are " + tokenSubjects.get(token) : "authorized";
        result.putArray("content").addObject().put("type", "text").put("text", text);
      }
      case "ping" -> { }
      default -> {
        out.remove("result");
        out.putObject("error").put("code", -32601).put("message", "method not found");
      }
    }
    return out;
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, status == 202 || status == 405 || bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0 && status != 202 && status != 405) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    mcp.stop(0);
    as.shutdown();
  }

  /** A tiny blocking HTTP client for the fixture's own use. */
  public static final class HttpURLs {
    public record Response(int status, String body, Map<String, List<String>> headers) {}

    static Response get(String url) throws IOException {
      java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder()
          .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
      try {
        var r = c.send(java.net.http.HttpRequest.newBuilder(URI.create(url)).GET().build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body(), r.headers().map());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
  }

  /**
   * Does what the operator's browser does with an authorization URL: opens it (the authorization
   * server approves at once and redirects), then follows the redirect to Bastion's callback.
   * Returns the callback page's status and text. Records the code as a secret.
   */
  public HttpURLs.Response authorizeLikeABrowser(String authorizationUrl) throws IOException {
    return authorizeLikeABrowser(authorizationUrl, null);
  }

  /**
   * The same, but the redirect reaches Bastion at {@code callbackBase} instead of the redirect
   * URI's host (as a load balancer in front of a cluster would send it to any node).
   */
  public HttpURLs.Response authorizeLikeABrowser(String authorizationUrl, String callbackBase) throws IOException {
    HttpURLs.Response r = HttpURLs.get(authorizationUrl);
    if (r.status() / 100 != 3) {
      throw new IOException("authorization endpoint answered " + r.status() + ": " + r.body());
    }
    String location = r.headers().getOrDefault("location", List.of("")).get(0);
    Map<String, String> q = form(URI.create(location).getRawQuery());
    if (q.containsKey("code")) {
      secrets.add(q.get("code"));
    }
    if (callbackBase != null) {
      URI l = URI.create(location);
      location = callbackBase + l.getRawPath() + "?" + l.getRawQuery();
    }
    return HttpURLs.get(location);
  }
}
