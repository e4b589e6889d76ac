package io.bastion.node;

import com.typesafe.config.Config;
import java.net.BindException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns the exceptions of a failed start into {@link StartupException}s an operator can act on. */
final class StartupFailures {
  private static final String DB = "pekko-persistence-jdbc.shared-databases.bastion.db";

  private StartupFailures() {}

  /** The ActorSystem could not be created: most often Artery's port is taken. */
  static StartupException describe(Throwable err, Config pekko) {
    if (isBindFailure(err)) {
      String host = pekko.getString("pekko.remote.artery.canonical.hostname");
      int port = pekko.getInt("pekko.remote.artery.canonical.port");
      String bindHost = pekko.getString("pekko.remote.artery.bind.hostname");
      String bindPort = pekko.getString("pekko.remote.artery.bind.port");
      return new StartupException(inUse(bindPort.isEmpty() ? port : Integer.parseInt(bindPort),
          bindHost.isEmpty() ? host : bindHost, "cluster"), err);
    }
    return new StartupException("could not create the actor system: " + message(unwrap(err)), err);
  }

  /** A bind of the HTTP edge or of management HTTP failed. */
  static StartupException portInUse(Throwable err, String host, int port, String what) {
    if (err instanceof StartupException s) {
      return s;
    }
    if (isBindFailure(err)) {
      return new StartupException(inUse(port, host, what), err);
    }
    return new StartupException("could not bind the " + what + " endpoint on " + host + ":" + port
        + ": " + message(unwrap(err)), err);
  }

  static String inUse(int port, String host, String what) {
    return "port " + port + " on " + host + " is already in use (" + what + ")";
  }

  /** The schema check failed: the store's URL is wrong, the server is down, or it refused us. */
  static StartupException storeUnreachable(Throwable err, Config root) {
    String url = root.hasPath(DB + ".url") ? root.getString(DB + ".url") : "(no url)";
    String user = root.hasPath(DB + ".user") ? root.getString(DB + ".user") : "";
    String password = root.hasPath(DB + ".password") ? root.getString(DB + ".password") : "";
    String cause = message(unwrap(err));
    if (!password.isEmpty()) {
      cause = cause.replace(password, "***");
    }
    return new StartupException("the store is unreachable: " + redact(url)
        + (user.isEmpty() ? "" : " (user " + user + ")") + ": " + cause, null);
  }

  /**
   * The admin API's overlay (keys, teams, customers, groups changed through the API) could not be
   * read within {@code patience}: the node must not serve with keys the API deleted.
   */
  static StartupException registryUnreadable(Throwable err, Duration patience) {
    Throwable t = unwrap(err);
    if (t instanceof StartupException s) {
      return s;
    }
    return new StartupException("could not read the admin API's key/team/customer/group changes"
        + " within " + show(patience) + ": " + message(t), err);
  }

  /** Hides {@code password=...} parameters of a JDBC URL. */
  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  static String show(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }

  private static boolean isBindFailure(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return true;
      }
      String m = t.getMessage();
      if (m != null && (m.contains("Address already in use") || m.contains("Bind failed"))) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static Throwable unwrap(Throwable err) {
    Throwable t = err;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The innermost message (JDBC drivers and Netty wrap the useful one several levels down). */
  private static String message(Throwable t) {
    String best = t.getClass().getSimpleName();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null && !c.getMessage().isBlank()) {
        best = c.getMessage().strip();
      }
    }
    int nl = best.indexOf('\n');
    return nl < 0 ? best : best.substring(0, nl);
  }
}
