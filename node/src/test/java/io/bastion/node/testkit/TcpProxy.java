package io.bastion.node.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 in front of a real server (PostgreSQL in the store-outage tests), that
 * a test can {@link #cut} — every open connection is reset and new ones are refused, as when the
 * server stops — and {@link #restore} on the same port. A test part, not a fake: the bytes are the
 * real server's.
 */
public final class TcpProxy implements AutoCloseable {
  private final InetSocketAddress target;
  private final int port;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  public TcpProxy(String host, int targetPort) throws IOException {
    this.target = new InetSocketAddress(host, targetPort);
    this.server = bind(0);
    this.port = server.getLocalPort();
    accept(server);
  }

  public int port() {
    return port;
  }

  /** The server "goes away": open connections are reset and the port refuses connections. */
  public synchronized void cut() throws IOException {
    server.close();
    for (Socket s : open) {
      try {
        s.setSoLinger(true, 0); // RST, as a crashed server's host would send
        s.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
    open.clear();
  }

  /** The server is back, on the same port. */
  public synchronized void restore() throws IOException {
    server = bind(port);
    accept(server);
  }

  @Override
  public void close() throws IOException {
    cut();
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return s;
  }

  private void accept(ServerSocket listening) {
    Thread t = new Thread(() -> {
      while (!listening.isClosed()) {
        try {
          Socket client = listening.accept();
          Socket upstream = new Socket();
          try {
            upstream.connect(target, 5_000);
          } catch (IOException e) {
            closeQuietly(client);
            continue;
          }
          open.add(client);
          open.add(upstream);
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException e) {
          // closed by cut(), or the target refused: the client sees its connection end
        }
      }
    }, "tcp-proxy-accept-" + port);
    t.setDaemon(true);
    t.start();
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // either side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        open.remove(from);
        open.remove(to);
      }
    }, "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
