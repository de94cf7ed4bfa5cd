package dev.agentescrow.backend.testing;

import dev.agentescrow.backend.BackendApplication;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.deploy.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import tools.jackson.databind.JsonNode;

/**
 * The service in a JVM of its own ({@link BackendApplication} on the test's class path, local
 * profile, a fixed free port), for tests that kill it with SIGKILL, stop it with SIGTERM or run two
 * instances on one database. Its output goes to a file of its own.
 */
public final class BackendProcess implements AutoCloseable {
    /** Shared by every instance of a test: a token one instance issues is valid on the others. */
    /** How long a start may take before the test fails. */
    public static final Duration START_LIMIT = Duration.ofSeconds(240);
    public static final String JWT_SECRET = "cluster-test-jwt-secret-0123456789abcdef0123456789";

    private final String name;
    private final int port;
    private final Process process;
    private final Path log;

    private BackendProcess(String name, int port, Process process, Path log) {
        this.name = name;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts an instance named {@code name} on a free port with {@code env} on top of the local
     * profile's settings (the caller gives the chain, the deployment file, the operator key and
     * either {@code DATABASE_URL} or {@code DATA_DIR}).
     */
    public static BackendProcess start(String name, Map<String, String> env) {
        int port = env.containsKey("PORT") ? Integer.parseInt(env.get("PORT")) : freePort();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx384m", "-Xss512k",
                "-cp", System.getProperty("java.class.path"), BackendApplication.class.getName()));
        Path log;
        try {
            log = Files.createTempFile("backend-" + name + "-", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // A file, not a pipe: a pipe's last lines may be lost when the process exits while they are read.
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> environment = builder.environment();
        Map<String, String> settings = new HashMap<>(Map.of(
                "SPRING_PROFILES_ACTIVE", "local",
                "PORT", Integer.toString(port),
                "BIND_ADDRESS", "127.0.0.1",
                "INSTANCE_ID", name,
                "JWT_SECRET", JWT_SECRET,
                "BATCH_INTERVAL_SECONDS", "1",
                "CONFIRMATIONS", "0",
                "RATE_LIMIT_PER_PRINCIPAL", "100000",
                "RATE_LIMIT_PER_IP", "100000"));
        settings.put("SPRING_MAIN_BANNER_MODE", "off");
        settings.putAll(env);
        environment.putAll(settings);
        try {
            return new BackendProcess(name, port, builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start instance " + name, e);
        }
    }

    /** Writes {@code deployment} in deploy.js's format to {@code file}. */
    public static Path writeDeploymentFile(Deployment deployment, Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, """
                    {
                      "network": "localhost",
                      "chainId": %d,
                      "admin": "%s",
                      "operator": "%s",
                      "feeRecipient": "%s",
                      "contracts": {
                        "TestToken": "%s",
                        "SettlementVault": "%s",
                        "TaskEscrow": "%s",
                        "PaymentChannels": "%s"
                      }
                    }
                    """.formatted(ChainSettings.LOCAL_CHAIN_ID, deployment.admin().checksummed(),
                    deployment.operator().checksummed(), deployment.feeRecipient().checksummed(),
                    deployment.token().checksummed(), deployment.vault().checksummed(),
                    deployment.escrow().checksummed(), deployment.channels().checksummed()));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public ApiClient api() {
        return new ApiClient(port);
    }

    /**
     * Waits until {@code /actuator/health} answers 200 (at most {@link #START_LIMIT}: a Spring start
     * on a loaded 2-core machine takes far longer than its usual 10 to 20 s); fails with the output
     * if the process ends first.
     */
    public BackendProcess awaitReady() {
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        while (!healthy()) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + "; output:\n" + output());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " not ready within " + START_LIMIT + "; output:\n" + output());
            }
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        return this;
    }

    private boolean healthy() {
        try {
            return api().get("/actuator/health", null).status() == 200;
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** The {@code leadership} health component: role, epoch, instance id, the leader's row. */
    public JsonNode leadership() {
        return api().get("/actuator/health", null).json().path("components").path("leadership").path("details");
    }

    public String role() {
        return leadership().path("role").asString();
    }

    /** SIGKILL: no shutdown hook, no graceful anything; returns once the process is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** SIGTERM: Spring's shutdown (graceful web server stop, beans closed, embedded PostgreSQL last); returns the exit code. */
    public int stop() {
        process.destroy();
        return awaitExit();
    }

    private int awaitExit() {
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(name + " did not exit within 90 s; output:\n" + output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + name + " to exit", e);
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public List<String> lines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String output() {
        return String.join("\n", lines());
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
