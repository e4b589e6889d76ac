package io.bastion.deploy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A relay on a 127.0.0.1 port in front of a real TCP server (the chaos scenario puts it before
 * PostgreSQL). {@link #cut} makes the server vanish as a crashed host does: every relayed
 * connection is reset and the port refuses new ones until {@link #reopen}, on the same port.
 */
final class TcpRelay implements AutoCloseable {
  private final InetSocketAddress target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final int port;
  private volatile ServerSocket listener;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "tcp-relay");
    t.setDaemon(true);
    return t;
  });

  TcpRelay(int targetPort) throws IOException {
    target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
    listener = listen(0);
    port = listener.getLocalPort();
  }

  int port() {
    return port;
  }

  synchronized void cut() {
    quietly(listener);
    for (Socket s : sockets) {
      try {
        s.setSoLinger(true, 0); // close with RST
      } catch (IOException ignored) {
        // already gone
      }
      quietly(s);
    }
    sockets.clear();
  }

  synchronized void reopen() throws IOException {
    listener = listen(port);
  }

  @Override
  public void close() {
    cut();
    threads.shutdownNow();
  }

  private ServerSocket listen(int on) throws IOException {
    ServerSocket ss = new ServerSocket();
    ss.setReuseAddress(true);
    ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), on));
    threads.execute(() -> {
      while (!ss.isClosed()) {
        try {
          Socket in = ss.accept();
          Socket out = new Socket();
          sockets.add(in);
          sockets.add(out);
          threads.execute(() -> {
            try {
              out.connect(target, 5000);
              threads.execute(() -> copy(in, out));
              copy(out, in);
            } catch (IOException e) {
              quietly(in);
              quietly(out);
            }
          });
        } catch (IOException e) {
          return; // the listener was closed by cut()
        }
      }
    });
    return ss;
  }

  /** Copies until either side ends, then closes both. */
  private void copy(Socket from, Socket to) {
    try {
      from.getInputStream().transferTo(to.getOutputStream());
    } catch (IOException ignored) {
      // reset or closed
    } finally {
      quietly(from);
      quietly(to);
      sockets.remove(from);
      sockets.remove(to);
    }
  }

  private static void quietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }
}
