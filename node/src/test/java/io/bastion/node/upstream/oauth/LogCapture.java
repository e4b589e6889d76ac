package io.bastion.node.upstream.oauth;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Records every log line of the JVM (formatted message, MDC and stack trace) while open, with
 * Bastion's loggers at DEBUG, so that a test can look for secrets in what a node would log.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Logger root;
  private final Logger bastion;
  private final Level bastionLevel;

  private LogCapture() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    bastion = ctx.getLogger("io.bastion");
    bastionLevel = bastion.getLevel();
    setContext(ctx);
    setName("oauth-log-capture");
    start();
    root.addAppender(this);
    bastion.setLevel(Level.DEBUG);
  }

  static LogCapture open() {
    return new LogCapture();
  }

  @Override
  protected void append(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
    e.getMDCPropertyMap().forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    if (e.getThrowableProxy() != null) {
      b.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
    }
    lines.add(b.toString());
  }

  List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    root.detachAppender(this);
    bastion.setLevel(bastionLevel);
    stop();
  }
}
