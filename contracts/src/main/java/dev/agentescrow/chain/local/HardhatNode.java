package dev.agentescrow.chain.local;

import dev.agentescrow.chain.ChainException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A local Hardhat node as a child process on a free loopback port. {@link #close()} stops it and
 * every process it started; a shutdown hook does the same if the JVM exits first.
 */
public final class HardhatNode implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
    /** System property: the niceness {@link #start(Path)} runs the node at (default 0, as started). */
    public static final String NICENESS_PROPERTY = "agentescrow.hardhat.nice";

    private final Process process;
    private final int port;
    private final Path logFile;
    private final Thread shutdownHook;
    private volatile boolean suspended;

    private HardhatNode(Process process, int port, Path logFile) {
        this.process = process;
        this.port = port;
        this.logFile = logFile;
        this.shutdownHook = new Thread(this::stopProcessTree, "hardhat-node-stop-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts {@code node_modules/.bin/hardhat node} of the Hardhat project in {@code contractsDir}
     * on a free loopback port and returns once it answers {@code eth_chainId}.
     */
    public static HardhatNode start(Path contractsDir) {
        return start(contractsDir, Integer.getInteger(NICENESS_PROPERTY, 0));
    }

    /**
     * As {@link #start(Path)}, the node's process at {@code niceness} (the {@code nice} command's
     * {@code -n}, 0 for none): a benchmark that stands the local node for a remote one runs it at
     * 19 so that its CPU does not compete with the code measured on the same cores.
     */
    public static HardhatNode start(Path contractsDir, int niceness) {
        Path hardhat = contractsDir.resolve("node_modules/.bin/hardhat");
        if (!Files.isExecutable(hardhat)) {
            throw new ChainException("no Hardhat at " + hardhat + ": run `npm ci` in " + contractsDir);
        }
        int port = freeLoopbackPort();
        try {
            Path logFile = Files.createTempFile("hardhat-node-" + port + "-", ".log");
            List<String> command = new ArrayList<>();
            if (niceness != 0) {
                // nice execs the node, so the process (and its pid) is the node's.
                command.addAll(List.of("nice", "-n", Integer.toString(niceness)));
            }
            command.addAll(List.of(hardhat.toString(), "node", "--hostname", "127.0.0.1", "--port",
                    Integer.toString(port)));
            Process process = new ProcessBuilder(command)
                    .directory(contractsDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            HardhatNode node = new HardhatNode(process, port, logFile);
            node.awaitReady();
            return node;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a Hardhat node in " + contractsDir, e);
        }
    }

    /**
     * The Hardhat project folder: the system property {@code agentescrow.contracts.dir} if set,
     * else {@code contracts/} in the working folder or one of its parents, or the working folder
     * itself when it is the Hardhat project.
     */
    public static Path locateContractsDir() {
        String configured = System.getProperty("agentescrow.contracts.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("hardhat.config.js"))) {
                return dir;
            }
            if (Files.exists(dir.resolve("contracts/hardhat.config.js"))) {
                return dir.resolve("contracts");
            }
        }
        throw new ChainException("cannot find the Hardhat project: set -Dagentescrow.contracts.dir");
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return logFile;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Freezes the node (SIGSTOP to it and its children): it keeps its whole state but answers
     * nothing, as a node that hangs or a network that drops. {@link #resume()} continues it.
     */
    public void suspend() {
        signal("STOP");
        suspended = true;
    }

    /** Continues a node frozen by {@link #suspend()} (SIGCONT). */
    public void resume() {
        signal("CONT");
        suspended = false;
    }

    private void signal(String name) {
        List<String> pids = new ArrayList<>();
        pids.add(Long.toString(process.pid()));
        process.descendants().forEach(child -> pids.add(Long.toString(child.pid())));
        List<String> command = new ArrayList<>(List.of("kill", "-" + name));
        command.addAll(pids);
        try {
            int exit = new ProcessBuilder(command).redirectErrorStream(true).start().waitFor();
            if (exit != 0) {
                throw new ChainException("kill -" + name + " " + pids + " exited with " + exit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot signal the Hardhat node", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChainException("interrupted while signalling the Hardhat node", e);
        }
    }

    @Override
    public void close() {
        stopProcessTree();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or ran: the process tree is stopped either way
        }
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(rpcUrl()))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(2))
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}"))
                .build();
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new ChainException("Hardhat node exited with " + process.exitValue() + "; see " + logFile);
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && response.body().contains("\"result\"")) {
                    return;
                }
            } catch (IOException notYetListening) {
                LockSupport.parkNanos(POLL_INTERVAL.toNanos());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new ChainException("interrupted while waiting for the Hardhat node", e);
            }
        }
        close();
        throw new ChainException("Hardhat node did not answer within " + START_TIMEOUT + "; see " + logFile);
    }

    private void stopProcessTree() {
        if (suspended && process.isAlive()) {
            resume(); // a stopped process ignores SIGTERM until it is continued
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
