package dev.agentescrow.batcher.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP proxy for one upstream (a PostgreSQL) that can go silent: after {@link #blackhole()} it
 * reads and drops every byte in both directions and closes nothing, as a half-open connection or a
 * partition does; after {@link #resume()} it forwards again (what was dropped stays lost, so a
 * connection that had bytes in flight hangs until its socket timeout). A connection whose other end
 * closed while silent stays open and silent on this side until the proxy closes: its client never
 * learns that the server ended the session.
 */
public final class BlackholeProxy implements AutoCloseable {
    private final String upstreamHost;
    private final int upstreamPort;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean silent;

    public BlackholeProxy(String upstreamHost, int upstreamPort) {
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        try {
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("could not open the proxy's port", e);
        }
        Thread.ofVirtual().name("proxy-accept").start(this::accept);
    }

    /** The local port clients connect to. */
    public int port() {
        return listener.getLocalPort();
    }

    /** From now on every byte, in both directions, is read and dropped; nothing is closed. */
    public void blackhole() {
        silent = true;
    }

    /** Forwards again. */
    public void resume() {
        silent = false;
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    throw new UncheckedIOException("proxy accept failed", e);
                }
                return;
            }
            try {
                Socket upstream = new Socket(upstreamHost, upstreamPort);
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofVirtual().name("proxy-up").start(() -> pump(client, upstream));
                Thread.ofVirtual().name("proxy-down").start(() -> pump(upstream, client));
            } catch (IOException e) {
                closeSocket(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16_384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) != -1) {
                if (!silent) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
            if (silent) {
                // The other end closed while the line is silent: this end never hears of it.
                closed.await();
            }
        } catch (IOException e) {
            if (silent) {
                awaitClose();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeSocket(from);
            closeSocket(to);
        }
    }

    private void awaitClose() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeSocket(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not close a proxied socket", e);
        }
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
