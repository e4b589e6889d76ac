package io.bastion.node.upstream.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.bastion.node.testkit.TestConfigs;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SystemMaterializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link NettyHttpClient} against a real HTTP server on loopback (the JDK's): connections are kept
 * alive and reused, requests beyond {@link NettyHttpClient#MAX_CONNECTIONS} wait and are all
 * served, JSON and error bodies arrive whole with their headers, an SSE body arrives as a stream
 * before it ends, a stream its reader abandons costs its connection but not the next request, and
 * a refused connection fails with {@link ConnectException}. The transports' behaviour over it is
 * covered by {@link StreamableHttpTransportTest} and {@link LegacySseTransportTest}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyHttpClientTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration KEEP_ALIVE = Duration.ofSeconds(4);
  private static ActorTestKit kit;
  private static Materializer mat;

  private HttpServer server;
  private NettyHttpClient client;
  /** The client ports the server saw a request from. */
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  private final AtomicInteger concurrent = new AtomicInteger();
  private final AtomicInteger maxConcurrent = new AtomicInteger();
  private final CountDownLatch releaseStream = new CountDownLatch(1);
  private final CountDownLatch releaseHeld = new CountDownLatch(1);

  @BeforeAll
  static void startSystem() {
    kit = ActorTestKit.create("netty-http-client-test", TestConfigs.local());
    mat = SystemMaterializer.get(kit.system()).materializer();
  }

  @AfterAll
  static void stopSystem() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(64));
    server.createContext("/json", x -> answer(x, 200, "application/json", "{\"echo\":\"" + body(x) + "\"}"));
    server.createContext("/slow", x -> {
      int now = concurrent.incrementAndGet();
      maxConcurrent.accumulateAndGet(now, Math::max);
      sleep(100);
      concurrent.decrementAndGet();
      answer(x, 200, "application/json", "{}");
    });
    server.createContext("/held", x -> {
      try {
        releaseHeld.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      answer(x, 200, "application/json", "{}");
    });
    server.createContext("/error", x -> answer(x, 503, "text/plain", "upstream is down for maintenance"));
    server.createContext("/sse", x -> {
      clientPorts.add(x.getRemoteAddress().getPort());
      x.getResponseHeaders().add("Content-Type", "text/event-stream");
      x.sendResponseHeaders(200, 0);
      OutputStream out = x.getResponseBody();
      out.write("id: 1\ndata: {\"first\":true}\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        releaseStream.await(30, TimeUnit.SECONDS); // held open: the client reads the event before the end
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        out.write("data: {\"last\":true}\n\n".getBytes(StandardCharsets.UTF_8));
        out.close();
      } catch (IOException gone) {
        // the client abandoned the stream and closed the connection
      }
    });
    server.start();
    client = new NettyHttpClient(NettyLoop.get(kit.system()), URI.create(base()), Duration.ofMinutes(1),
        KEEP_ALIVE, 1 << 20, mat);
  }

  @AfterEach
  void stop() {
    releaseStream.countDown();
    releaseHeld.countDown();
    client.close();
    server.stop(0);
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private String body(HttpExchange x) throws IOException {
    clientPorts.add(x.getRemoteAddress().getPort());
    return new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
  }

  private static void answer(HttpExchange x, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().add("Content-Type", type);
    x.getResponseHeaders().add("Mcp-Session-Id", "s-1");
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private HttpResponse post(String path, String json) throws Exception {
    return client.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + path)
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json))
            .addHeader(RawHeader.create("Accept", "application/json, text/event-stream")))
        .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static String text(HttpResponse r) {
    assertThat(r.entity()).isInstanceOf(HttpEntity.Strict.class);
    return ((HttpEntity.Strict) r.entity()).getData().utf8String();
  }

  @Test
  void aJsonAnswerArrivesWholeWithItsHeadersAndTheConnectionIsReused() throws Exception {
    for (int i = 0; i < 20; i++) {
      HttpResponse r = post("/json", "call-" + i);
      assertThat(r.status().intValue()).isEqualTo(200);
      assertThat(r.entity().getContentType()).isEqualTo(ContentTypes.APPLICATION_JSON);
      assertThat(text(r)).isEqualTo("{\"echo\":\"call-" + i + "\"}");
      assertThat(r.getHeader("mcp-session-id").map(h -> h.value())).hasValue("s-1");
    }
    assertThat(clientPorts).as("one kept-alive connection for sequential requests").hasSize(1);
  }

  @Test
  void aConnectionIdleLongerThanTheKeepAliveTimeoutIsNotReused() throws Exception {
    NettyHttpClient c = new NettyHttpClient(NettyLoop.get(kit.system()), URI.create(base()), Duration.ofMinutes(1),
        Duration.ofMillis(1500), 1 << 20, mat);
    try {
      for (String call : List.of("first", "second", "after-idle", "next")) {
        if (call.equals("after-idle")) {
          sleep(2000); // longer than its keep-alive timeout: the server might be closing it now
        }
        HttpResponse r = c.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + "/json")
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, call))).toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(text(r)).isEqualTo("{\"echo\":\"" + call + "\"}");
        if (call.equals("second")) {
          assertThat(clientPorts).as("reused within the keep-alive timeout").hasSize(1);
        }
      }
      assertThat(clientPorts).as("a new connection after the idle one expired, reused right after").hasSize(2);
      io.bastion.node.testkit.Eventually.until(WAIT, () -> {
        try {
          return c.openConnections().toCompletableFuture().get(5, TimeUnit.SECONDS) == 1;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }, "the expired connection closed");
    } finally {
      c.close();
    }
  }

  @Test
  void requestsBeyondTheConnectionLimitWaitAndAreAllServed() throws Exception {
    List<CompletableFuture<HttpResponse>> calls = new ArrayList<>();
    for (int i = 0; i < NettyHttpClient.MAX_CONNECTIONS + 20; i++) {
      calls.add(client.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + "/slow")
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{}"))).toCompletableFuture());
    }
    for (CompletableFuture<HttpResponse> c : calls) {
      assertThat(c.get(WAIT.toSeconds(), TimeUnit.SECONDS).status().intValue()).isEqualTo(200);
    }
    assertThat(maxConcurrent.get()).isBetween(2, NettyHttpClient.MAX_CONNECTIONS);
  }

  @Test
  void requestsBeyondTheWaitingLimitFailAtOnce() throws Exception {
    List<CompletableFuture<HttpResponse>> calls = new ArrayList<>();
    int total = NettyHttpClient.MAX_CONNECTIONS + NettyHttpClient.MAX_WAITING + 5;
    for (int i = 0; i < total; i++) {
      calls.add(client.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + "/held")
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{}"))).toCompletableFuture());
    }
    // Every connection holds its request until the refusals are in: nothing frees a place before.
    io.bastion.node.testkit.Eventually.until(WAIT,
        () -> calls.stream().filter(CompletableFuture::isCompletedExceptionally).count() == 5, "5 refused");
    releaseHeld.countDown();
    int served = 0;
    int refused = 0;
    for (CompletableFuture<HttpResponse> c : calls) {
      try {
        assertThat(c.get(WAIT.toSeconds(), TimeUnit.SECONDS).status().intValue()).isEqualTo(200);
        served++;
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(IOException.class).hasMessageContaining("requests waiting");
        refused++;
      }
    }
    assertThat(refused).as("the ones beyond %d connections and %d waiting", NettyHttpClient.MAX_CONNECTIONS,
        NettyHttpClient.MAX_WAITING).isEqualTo(5);
    assertThat(served).isEqualTo(total - 5);
  }

  @Test
  void anErrorAnswerKeepsItsStatusAndBody() throws Exception {
    HttpResponse r = post("/error", "{}");
    assertThat(r.status().intValue()).isEqualTo(503);
    assertThat(text(r)).isEqualTo("upstream is down for maintenance");
  }

  @Test
  void anSseBodyStreamsBeforeItEndsAndAnAbandonedOneDoesNotBlockTheNextRequest() throws Exception {
    HttpResponse r = post("/sse", "{}");
    assertThat(r.status().intValue()).isEqualTo(200);
    assertThat(r.entity().getContentType().mediaType().toString()).isEqualTo("text/event-stream");
    // The first event arrives while the server still holds the stream open.
    ByteString first = r.entity().getDataBytes().runWith(Sink.head(), mat).toCompletableFuture()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(first.utf8String()).contains("{\"first\":true}");

    // Sink.head cancelled the rest: that connection is closed, and the next request is served.
    HttpResponse next = post("/json", "after");
    assertThat(text(next)).isEqualTo("{\"echo\":\"after\"}");
    assertThat(clientPorts).as("the abandoned stream's connection is not reused").hasSize(2);
  }

  @Test
  void closingClosesEveryIdleConnectionAndRefusesNewRequests() throws Exception {
    List<CompletableFuture<HttpResponse>> two = List.of(
        client.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + "/slow")).toCompletableFuture(),
        client.request(HttpRequest.create().withMethod(HttpMethods.POST).withUri(base() + "/slow")).toCompletableFuture());
    for (CompletableFuture<HttpResponse> c : two) {
      assertThat(c.get(WAIT.toSeconds(), TimeUnit.SECONDS).status().intValue()).isEqualTo(200);
    }
    assertThat(client.openConnections().toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo(2);

    client.close();
    io.bastion.node.testkit.Eventually.until(WAIT, () -> {
      try {
        return client.openConnections().toCompletableFuture().get(5, TimeUnit.SECONDS) == 0;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, "both idle connections closed");
    assertThatThrownBy(() -> post("/json", "late")).hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void aConnectionThatSendsBytesNoRequestAskedForIsNotReused() throws Exception {
    // A raw server: its first connection answers, then sends a 408 nobody asked for in the same
    // write (as servers that time out idle connections do) and stays open; later ones answer only.
    try (ServerSocket raw = new ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress())) {
      AtomicInteger accepted = new AtomicInteger();
      Thread acceptor = new Thread(() -> {
        List<java.net.Socket> open = new ArrayList<>();
        try {
          while (true) {
            java.net.Socket s = raw.accept();
            open.add(s);
            int n = accepted.incrementAndGet();
            Thread t = new Thread(() -> serveRaw(s, n == 1), "raw-server-" + n);
            t.setDaemon(true);
            t.start();
          }
        } catch (IOException closed) {
          open.forEach(NettyHttpClientTest::closeQuietly);
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      NettyHttpClient c = new NettyHttpClient(NettyLoop.get(kit.system()),
          URI.create("http://127.0.0.1:" + raw.getLocalPort()), Duration.ofMinutes(1), KEEP_ALIVE, 1 << 20, mat);
      try {
        for (int i = 0; i < 2; i++) {
          HttpResponse r = c.request(HttpRequest.create().withMethod(HttpMethods.POST)
                  .withUri("http://127.0.0.1:" + raw.getLocalPort() + "/mcp")
                  .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{}")))
              .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
          assertThat(r.status().intValue()).as("request %d", i).isEqualTo(200);
          assertThat(text(r)).isEqualTo("{\"ok\":true}");
        }
        assertThat(accepted.get()).as("the out-of-step connection was closed, not reused").isEqualTo(2);
      } finally {
        c.close();
      }
    }
  }

  /** Reads one request (headers and a Content-Length body) and answers it; {@code extra}: then a stray 408. */
  private static void serveRaw(java.net.Socket s, boolean extra) {
    try {
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      while (true) {
        int length = 0;
        String line;
        while ((line = in.readLine()) != null && !line.isEmpty()) {
          if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        if (line == null) {
          return;
        }
        for (int i = 0; i < length; i++) {
          in.read();
        }
        String answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
        if (extra) {
          answer += "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n";
        }
        s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
      }
    } catch (IOException gone) {
      // the client closed the connection
    }
  }

  private static void closeQuietly(java.net.Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Test
  void aRefusedConnectionFailsWithConnectException() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    NettyHttpClient refused = new NettyHttpClient(NettyLoop.get(kit.system()),
        URI.create("http://127.0.0.1:" + closedPort), Duration.ofMinutes(1), KEEP_ALIVE, 1 << 20, mat);
    try {
      assertThatThrownBy(() -> refused.request(HttpRequest.create().withUri("http://127.0.0.1:" + closedPort + "/"))
          .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(ConnectException.class);
    } finally {
      refused.close();
    }
  }
}
