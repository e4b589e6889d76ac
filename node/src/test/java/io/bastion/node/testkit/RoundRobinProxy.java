package io.bastion.node.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Host;

/**
 * A tiny HTTP reverse proxy on 127.0.0.1 (ephemeral port) that sends each request to the next
 * backend in rotation, as a round-robin load balancer without session affinity would. Entities
 * stream both ways (SSE responses are never made strict); hop-by-hop headers are dropped, every
 * other header ({@code Mcp-Session-Id}, {@code MCP-Protocol-Version}, {@code Accept},
 * {@code Last-Event-ID}...) passes, {@code Content-Type} travels with the entity, and {@code Host}
 * is set to the chosen backend's so its loopback Host check passes. Runs its own local
 * ActorSystem.
 *
 * <pre>{@code
 * try (RoundRobinProxy proxy = RoundRobinProxy.start(List.of(a.baseUrl(), b.baseUrl()))) {
 *   client.connect(proxy.url() + "/mcp");
 *   proxy.requestCounts(); // [n0, n1]
 * }
 * }</pre>
 */
public final class RoundRobinProxy implements AutoCloseable {
  /** RFC 9110 §7.6.1 hop-by-hop headers, plus those Pekko models itself (entity, Host, synthetic). */
  private static final Set<String> DROPPED = Set.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
      "host", "content-length", "content-type", "timeout-access", "remote-address", "raw-request-uri",
      "tls-session-info");
  /** Response headers the proxy's own server sets. */
  private static final Set<String> DROPPED_RESPONSE = Set.of("server", "date");

  private final ActorSystem system;
  private final List<URI> backends;
  private final AtomicLong next = new AtomicLong();
  private final AtomicLongArray counts;
  private final ServerBinding binding;

  private RoundRobinProxy(ActorSystem system, List<URI> backends) throws Exception {
    this.system = system;
    this.backends = backends;
    this.counts = new AtomicLongArray(backends.size());
    this.binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(this::forward)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Starts the proxy over {@code backendBaseUrls} ({@code http://host:port}), in that rotation order. */
  public static RoundRobinProxy start(List<String> backendBaseUrls) {
    if (backendBaseUrls.isEmpty()) {
      throw new IllegalArgumentException("no backends");
    }
    Config config = ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.loglevel = WARNING
        pekko.http.server.idle-timeout = infinite
        pekko.http.server.request-timeout = infinite
        pekko.http.server.parsing.max-content-length = infinite
        pekko.http.client.idle-timeout = infinite
        pekko.http.client.parsing.max-content-length = infinite
        pekko.http.host-connection-pool.max-connections = 64
        pekko.http.host-connection-pool.max-open-requests = 1024
        pekko.http.host-connection-pool.idle-timeout = infinite
        """).withFallback(ConfigFactory.defaultReference()).resolve();
    ActorSystem system = ActorSystem.create("round-robin-proxy", config);
    try {
      return new RoundRobinProxy(system, backendBaseUrls.stream().map(URI::create).toList());
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("round-robin proxy did not bind", e);
    }
  }

  /** {@code http://127.0.0.1:<port>} (append {@code /mcp} for the MCP endpoint). */
  public String url() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  /** Requests forwarded so far to each backend, in the order given to {@link #start}. */
  public long[] requestCounts() {
    long[] out = new long[counts.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = counts.get(i);
    }
    return out;
  }

  public long requestCount(int backend) {
    return counts.get(backend);
  }

  private CompletionStage<HttpResponse> forward(HttpRequest request) {
    int i = (int) Math.floorMod(next.getAndIncrement(), (long) backends.size());
    counts.incrementAndGet(i);
    URI backend = backends.get(i);
    Uri target = request.getUri().scheme("http").host(backend.getHost()).port(backend.getPort());
    HttpRequest out = request.withUri(target)
        .withHeaders(filter(request.getHeaders(), Set.of()))
        .addHeader(Host.create(backend.getHost(), backend.getPort()));
    return Http.get(system).singleRequest(out)
        .thenApply(resp -> resp.withHeaders(filter(resp.getHeaders(), DROPPED_RESPONSE)))
        .exceptionally(e -> {
          request.discardEntityBytes(system);
          return HttpResponse.create().withStatus(StatusCodes.BAD_GATEWAY)
              .withEntity("round-robin proxy: backend " + backend + " failed: " + e);
        });
  }

  private static List<HttpHeader> filter(Iterable<HttpHeader> headers, Set<String> alsoDropped) {
    List<HttpHeader> kept = new ArrayList<>();
    for (HttpHeader h : headers) {
      String name = h.lowercaseName().toLowerCase(Locale.ROOT);
      if (!DROPPED.contains(name) && !alsoDropped.contains(name)) {
        kept.add(h);
      }
    }
    return kept;
  }

  @Override
  public void close() {
    try {
      binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort
    }
    try {
      Http.get(system).shutdownAllConnectionPools().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort
    }
  }
}
