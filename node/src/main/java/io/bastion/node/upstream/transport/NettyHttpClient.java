package io.bastion.node.upstream.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * INTERNAL API: the client of one {@code http://} upstream on Netty, behind {@link HttpSupport}
 * (which keeps Pekko HTTP's pool for {@code https://} upstreams and when {@code
 * bastion.node.upstream-http-client = pekko}). It takes and gives Pekko HTTP's request and response
 * models, so the transports above it do not know which client ran: a JSON or error body arrives
 * whole (a strict entity, parsed in place), an SSE body as a stream of chunks into Pekko HTTP's
 * own SSE parser.
 *
 * <p>Why: on the benchmark's 2-core box a {@code tools/call} cost ~25 % less CPU in the node, and
 * ~25 % fewer context switches, than through Pekko HTTP's host pool (docs/benchmarks.md): the
 * response is read and parsed on the thread that polls the socket, instead of a selector thread
 * handing every readable socket to a connection actor and a pool stream.
 *
 * <p>Keep-alive connections are reused, at most {@link #MAX_CONNECTIONS} at once; requests beyond
 * wait in order, at most {@link #MAX_WAITING} of them. A connection with no bytes either way for {@code idle} is closed, failing what
 * it carries (as Pekko's client idle timeout did). A connection idle for {@code keepAlive} is not
 * reused but closed (as Pekko's pool {@code keep-alive-timeout}): below the server's own idle
 * limit, so that Bastion never sends a call on a connection the server is closing. All state is touched on the connections' one
 * event loop ({@link NettyLoop}), so none of it is locked.
 */
final class NettyHttpClient {

  /** Connections to the upstream at most, as the Pekko pool's {@code max-connections}. */
  static final int MAX_CONNECTIONS = 32;
  /** Requests waiting for a connection at most; beyond, a request fails at once. */
  static final int MAX_WAITING = HttpSupport.MAX_QUEUED_REQUESTS;
  /** Chunks of a streamed body buffered for its reader at most; beyond, the response fails. */
  static final int MAX_BUFFERED_CHUNKS = 4096;
  /** Error bodies are read up to this many bytes (the message quotes an excerpt). */
  private static final int MAX_ERROR_BODY = 64 * 1024;

  private final Materializer mat;
  private final Bootstrap bootstrap;
  private final EventLoop loop;
  private final String hostHeader;
  private final long maxBodyBytes;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
  private final List<Channel> connections = new ArrayList<>();
  private int connecting;
  private boolean closed;
  /** An idle connection is reused only this long after its last response ({@link #dispatch}). */
  private final long keepAliveNanos;
  /** When a connection last went idle (System.nanoTime). */
  private static final AttributeKey<Long> IDLE_SINCE = AttributeKey.valueOf("bastion-idle-since");

  /** One request and the promise of its response. */
  private record Exchange(DefaultFullHttpRequest request, CompletableFuture<HttpResponse> promise) {}

  NettyHttpClient(NettyLoop group, URI uri, Duration idle, Duration keepAlive, long maxBodyBytes, Materializer mat) {
    this.mat = mat;
    this.keepAliveNanos = keepAlive.toNanos();
    this.maxBodyBytes = maxBodyBytes;
    this.loop = group.next();
    int port = uri.getPort() < 0 ? 80 : uri.getPort();
    this.hostHeader = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + port;
    long idleMillis = idle.toMillis();
    this.bootstrap = new Bootstrap().group(loop).channel(group.channelType())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .remoteAddress(uri.getHost(), port)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS),
                new HttpClientCodec(), new ResponseReader(ch));
          }
        });
  }

  /** Sends {@code request} (its entity must be strict); completes with the response once its headers (or, for a non-stream, its whole body) arrived. */
  CompletionStage<HttpResponse> request(HttpRequest request) {
    CompletableFuture<HttpResponse> promise = new CompletableFuture<>();
    DefaultFullHttpRequest out;
    try {
      out = NettyMessages.toNetty(request, hostHeader);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    loop.execute(() -> dispatch(new Exchange(out, promise)));
    return promise;
  }

  /** No new requests; idle connections close now, busy ones once their response is read. */
  void close() {
    loop.execute(() -> {
      closed = true;
      // Copied first: a promise's continuation or a channel's close listener may touch them.
      List<Exchange> refused = new ArrayList<>(waiting);
      waiting.clear();
      List<Channel> unused = new ArrayList<>(idle);
      idle.clear();
      for (Exchange x : refused) {
        x.request.release();
        x.promise.completeExceptionally(new IllegalStateException("the transport is closed"));
      }
      unused.forEach(Channel::close);
    });
  }

  /** Open connections, busy or idle (tests). */
  CompletionStage<Integer> openConnections() {
    CompletableFuture<Integer> n = new CompletableFuture<>();
    loop.execute(() -> n.complete(connections.size()));
    return n;
  }

  // ------------------------------------------------------------- on the event loop from here on

  private void dispatch(Exchange x) {
    if (closed) {
      x.request.release();
      x.promise.completeExceptionally(new IllegalStateException("the transport is closed"));
      return;
    }
    Channel ch;
    long now = System.nanoTime();
    while ((ch = idle.pollFirst()) != null) {
      if (ch.isActive() && now - ch.attr(IDLE_SINCE).get() < keepAliveNanos) {
        send(ch, x);
        return;
      }
      // Idle too long: the server may be closing it right now (HTTP's keep-alive race), and a
      // request it resets cannot safely be sent again. The most recent come first: all the rest
      // are older still.
      ch.close();
    }
    if (connections.size() + connecting >= MAX_CONNECTIONS) {
      if (waiting.size() >= MAX_WAITING) {
        // As Pekko's pool's max-open-requests: a stalled upstream must not queue without bound.
        x.request.release();
        x.promise.completeExceptionally(new IOException("more than " + MAX_WAITING
            + " requests waiting for a connection to the upstream"));
        return;
      }
      waiting.addLast(x);
      return;
    }
    connecting++;
    bootstrap.connect().addListener((io.netty.channel.ChannelFutureListener) f -> {
      connecting--;
      if (!f.isSuccess()) {
        x.request.release();
        x.promise.completeExceptionally(f.cause());
        next();
        return;
      }
      connections.add(f.channel());
      f.channel().closeFuture().addListener(c -> {
        connections.remove(f.channel());
        idle.remove(f.channel());
        next();
      });
      send(f.channel(), x);
    });
  }

  private void send(Channel ch, Exchange x) {
    ch.pipeline().get(ResponseReader.class).begin(x);
    ch.writeAndFlush(x.request).addListener(f -> {
      if (!f.isSuccess()) {
        ch.close();
      }
    });
  }

  /** A connection is free again: it takes the next waiting request, or waits itself. */
  private void release(Channel ch, boolean reusable) {
    if (!reusable || closed || !ch.isActive()) {
      ch.close(); // its close listener dispatches the next waiting request
      return;
    }
    Exchange x = waiting.pollFirst();
    if (x != null) {
      send(ch, x);
    } else {
      ch.attr(IDLE_SINCE).set(System.nanoTime());
      idle.addFirst(ch); // the most recently used first: the others may idle out
    }
  }

  /** A connection closed or failed to open: a waiting request may open a new one. */
  private void next() {
    Exchange x = waiting.pollFirst();
    if (x != null) {
      dispatch(x);
    }
  }

  /** Reads the responses of one connection, one exchange at a time. */
  private final class ResponseReader extends ChannelInboundHandlerAdapter {
    private final Channel ch;
    private Exchange current;
    private boolean keepAlive;
    /** The body of a non-stream response, or null. */
    private ByteArrayOutputStream body;
    private long bodyLimit;
    private io.netty.handler.codec.http.HttpResponse head;
    /** The queue of a streamed body, or null. */
    private BoundedSourceQueue<ByteString> stream;

    ResponseReader(Channel ch) {
      this.ch = ch;
    }

    void begin(Exchange x) {
      current = x;
      head = null;
      body = null;
      stream = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (current == null) {
          // Bytes no request asked for (e.g. a server's 408 on an idle connection): the connection
          // is out of step with its requests, so it is closed, never reused.
          ctx.close();
          return;
        }
        if (msg instanceof io.netty.handler.codec.http.HttpResponse r) {
          onHead(r);
        }
        if (msg instanceof HttpContent c) {
          onContent(c.content());
          if (msg instanceof LastHttpContent) {
            onEnd();
          }
        }
      } finally {
        io.netty.util.ReferenceCountUtil.release(msg);
      }
    }

    private void onHead(io.netty.handler.codec.http.HttpResponse r) {
      head = r;
      keepAlive = HttpUtil.isKeepAlive(r);
      int status = r.status().code();
      String type = r.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
      if (status / 100 == 2 && type.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
        Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> q =
            Source.<ByteString>queue(MAX_BUFFERED_CHUNKS).preMaterialize(mat);
        stream = q.first();
        Exchange x = current;
        Source<ByteString, NotUsed> chunks = q.second().watchTermination((m, done) -> {
          // The reader stopped (it had its answer, or failed): a body it did not finish reading
          // cannot be skipped on a kept-alive connection, so the connection goes.
          done.whenComplete((ok, err) -> loop.execute(() -> {
            if (current == x) {
              current = null;
              ch.close();
            }
          }));
          return m;
        });
        current.promise.complete(NettyMessages.toPekko(r, HttpEntities.createChunked(NettyMessages.contentType(type), chunks)));
      } else {
        body = new ByteArrayOutputStream();
        bodyLimit = status / 100 == 2 ? maxBodyBytes : MAX_ERROR_BODY;
      }
    }

    private void onContent(ByteBuf content) {
      int n = content.readableBytes();
      if (n == 0) {
        return;
      }
      byte[] bytes = new byte[n];
      content.readBytes(bytes);
      if (stream != null) {
        if (stream.offer(ByteString.fromArrayUnsafe(bytes)) != QueueOfferResult.enqueued()) {
          fail(new IOException("more than " + MAX_BUFFERED_CHUNKS + " unread chunks of a streamed response"));
        }
      } else if (body != null && body.size() < bodyLimit) {
        body.write(bytes, 0, (int) Math.min(n, bodyLimit - body.size()));
        if (body.size() >= bodyLimit && bodyLimit == maxBodyBytes) {
          fail(new IOException("the response body is larger than " + maxBodyBytes + " bytes"));
        }
      }
    }

    private void onEnd() {
      Exchange x = current;
      current = null;
      if (stream != null) {
        stream.complete();
      } else if (head != null) {
        String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        byte[] bytes = body.toByteArray();
        HttpEntity.Strict entity = type == null
            ? HttpEntities.create(bytes)
            : HttpEntities.create(NettyMessages.contentType(type), bytes);
        x.promise.complete(NettyMessages.toPekko(head, entity));
      }
      release(ch, keepAlive);
    }

    private void fail(Throwable cause) {
      Exchange x = current;
      current = null;
      if (x != null) {
        if (stream != null) {
          stream.fail(cause);
        }
        x.promise.completeExceptionally(cause);
      }
      ch.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (current != null) {
        fail(new IOException("the upstream closed the connection before the response ended"));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(cause);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        fail(new IOException("no bytes from the upstream for the idle timeout"));
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }
  }
}
