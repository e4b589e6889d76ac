package io.bastion.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.buffer.ByteBufInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A fast MCP server of our own for the benchmarks: one tool, {@code echo}, answering after a
 * configurable latency with a configurable payload size. Streamable HTTP with JSON responses
 * (Netty on 127.0.0.1, {@code --threads} event loops, default 1, TCP_NODELAY), or stdio
 * (newline-delimited JSON-RPC on stdin/stdout).
 *
 * <pre>
 * java -cp … io.bastion.bench.MockUpstream [--port N] [--latency-ms L] [--payload-bytes B] [--threads T]
 * java -cp … io.bastion.bench.MockUpstream --stdio [--latency-ms L] [--payload-bytes B]
 * </pre>
 *
 * <p>In HTTP mode it prints {@code MockUpstream listening on http://127.0.0.1:PORT/mcp}.
 */
public final class MockUpstream implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROTOCOL = "2025-06-18";

  private final Channel server;
  private final EventLoopGroup group;
  private final ScheduledExecutorService delays;
  private final long latencyMs;
  private final String payload;

  private MockUpstream(Channel server, EventLoopGroup group, long latencyMs, int payloadBytes, boolean stdio) {
    this.server = server;
    this.group = group;
    this.latencyMs = latencyMs;
    this.payload = "x".repeat(Math.max(0, payloadBytes));
    // HTTP mode delays on the connection's own event loop; stdio mode needs a timer thread
    this.delays = stdio && latencyMs > 0 ? Executors.newSingleThreadScheduledExecutor(daemon("mock-delay")) : null;
  }

  /** Starts an HTTP mock on 127.0.0.1 ({@code port} 0 picks a free one) with {@code threads} event loops. */
  public static MockUpstream startHttp(int port, long latencyMs, int payloadBytes, int threads) throws IOException {
    EventLoopGroup group = LoadDriver.eventLoopGroup(threads, "mock-http");
    MockUpstream[] self = new MockUpstream[1];
    try {
      Channel ch = new ServerBootstrap().group(group).channel(LoadDriver.serverChannelClass())
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel c) {
              c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), self[0].handler);
            }
          })
          .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
      self[0] = new MockUpstream(ch, group, latencyMs, payloadBytes, false);
      return self[0];
    } catch (Exception e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IOException("mock upstream could not listen on port " + port, e);
    }
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port() + "/mcp";
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    if (delays != null) {
      delays.shutdownNow();
    }
  }

  private final ChannelHandler handler = new Handler();

  /** One request at a time per connection (HTTP/1.1 keep-alive, no pipelining needed). */
  @ChannelHandler.Sharable
  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (!HttpMethod.POST.equals(req.method())) {
        // No GET stream; DELETE of a session is accepted and ignored.
        FullHttpResponse r = response(HttpMethod.DELETE.equals(req.method()) ? HttpResponseStatus.OK
            : HttpResponseStatus.METHOD_NOT_ALLOWED, null);
        r.headers().set(HttpHeaderNames.ALLOW, "POST");
        send(ctx, r, keepAlive);
        return;
      }
      JsonNode msg;
      try {
        msg = JSON.readTree((java.io.InputStream) new ByteBufInputStream(req.content()));
      } catch (IOException e) {
        send(ctx, response(HttpResponseStatus.BAD_REQUEST, error(null, -32700, "Parse error")), keepAlive);
        return;
      }
      if (msg == null || !msg.has("method") || !msg.has("id")) {
        // a notification or a response from the client
        send(ctx, response(HttpResponseStatus.ACCEPTED, null), keepAlive);
        return;
      }
      String m = msg.get("method").asText();
      FullHttpResponse r = response(HttpResponseStatus.OK, answer(msg));
      if ("initialize".equals(m)) {
        r.headers().set("Mcp-Session-Id", UUID.randomUUID().toString());
      }
      if (latencyMs > 0 && "tools/call".equals(m)) {
        ctx.executor().schedule(() -> send(ctx, r, keepAlive), latencyMs, TimeUnit.MILLISECONDS);
      } else {
        send(ctx, r, keepAlive);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static FullHttpResponse response(HttpResponseStatus status, byte[] json) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        json == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(json));
    if (json != null) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    }
    HttpUtil.setContentLength(r, json == null ? 0 : json.length);
    return r;
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    if (keepAlive) {
      ctx.writeAndFlush(r, ctx.voidPromise());
    } else {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** The JSON-RPC answer to one request. */
  byte[] answer(JsonNode msg) {
    JsonNode id = msg.get("id");
    String m = msg.get("method").asText();
    ObjectNode result = JSON.createObjectNode();
    switch (m) {
      case "initialize" -> {
        JsonNode asked = msg.path("params").path("protocolVersion");
        result.put("protocolVersion", asked.isTextual() ? asked.asText() : PROTOCOL);
        result.putObject("capabilities").putObject("tools");
        result.putObject("serverInfo").put("name", "bastion-bench-mock").put("version", "1");
      }
      case "ping" -> { /* empty result */ }
      case "tools/list" -> {
        ArrayNode tools = result.putArray("tools");
        ObjectNode echo = tools.addObject();
        echo.put("name", "echo");
        echo.put("description", "Echoes its text argument (plus a fixed-size payload).");
        ObjectNode schema = echo.putObject("inputSchema");
        schema.put("type", "object");
        schema.putObject("properties").putObject("text").put("type", "string");
      }
      case "tools/call" -> {
        String text = msg.path("params").path("arguments").path("text").asText("");
        ObjectNode content = result.putArray("content").addObject();
        content.put("type", "text");
        content.put("text", text + payload);
        result.put("isError", false);
      }
      default -> {
        return error(id, -32601, "Method not found: " + m);
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("jsonrpc", "2.0");
    out.set("id", id);
    out.set("result", result);
    return bytes(out);
  }

  private static byte[] error(JsonNode id, int code, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("jsonrpc", "2.0");
    out.set("id", id);
    out.putObject("error").put("code", code).put("message", message);
    return bytes(out);
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Stdio mode: one JSON-RPC message per line on stdin, answers on stdout. */
  static void runStdio(long latencyMs, int payloadBytes) throws IOException {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
        StandardCharsets.UTF_8);
    MockUpstream m = new MockUpstream(null, null, latencyMs, payloadBytes, true);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode msg;
      try {
        msg = JSON.readTree(line);
      } catch (IOException e) {
        continue;
      }
      if (!msg.has("method") || !msg.has("id")) {
        continue;
      }
      byte[] answer = m.answer(msg);
      if (latencyMs > 0 && "tools/call".equals(msg.get("method").asText())) {
        m.delays.schedule(() -> write(out, answer), latencyMs, TimeUnit.MILLISECONDS);
      } else {
        write(out, answer);
      }
    }
  }

  private static void write(PrintStream out, byte[] line) {
    synchronized (out) {
      out.write(line, 0, line.length);
      out.write('\n');
      out.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    boolean stdio = false;
    int port = 0;
    long latency = 0;
    int payload = 64;
    int threads = 1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--stdio" -> stdio = true;
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--latency-ms" -> latency = Long.parseLong(args[++i]);
        case "--payload-bytes" -> payload = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (stdio) {
      runStdio(latency, payload);
      return;
    }
    MockUpstream m = startHttp(port, latency, payload, threads);
    System.out.println("MockUpstream listening on " + m.url());
    System.out.flush();
    Thread.currentThread().join();
  }
}
