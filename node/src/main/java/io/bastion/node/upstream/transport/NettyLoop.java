package io.bastion.node.upstream.transport;

import io.netty.channel.EventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The node's one Netty event loop for its {@link NettyHttpClient}s (a thread named {@code
 * bastion-upstream-http}; epoll on Linux, NIO elsewhere). One thread: a 2-core node spends a
 * fraction of one on upstream I/O, and one loop means every connection's state is touched by one
 * thread. It stops when the actor system terminates.
 */
final class NettyLoop implements Extension {

  private final MultiThreadIoEventLoopGroup group;
  private final Class<? extends SocketChannel> channelType;

  private NettyLoop(ActorSystem<?> system) {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bastion-upstream-http", true), io);
    this.channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    system.getWhenTerminated().thenRun(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS));
  }

  static NettyLoop get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  EventLoop next() {
    return group.next();
  }

  Class<? extends SocketChannel> channelType() {
    return channelType;
  }

  /** One per ActorSystem. */
  static final class Id extends ExtensionId<NettyLoop> {
    static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public NettyLoop createExtension(ActorSystem<?> system) {
      return new NettyLoop(system);
    }
  }
}
