package dev.agentescrow.backend.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs the test clients in src/test/js (siwe + ethers) with JSON on standard input. */
public final class NodeScripts {
    private NodeScripts() {
    }

    public static String run(String script, String inputJson) {
        Path dir = Path.of(System.getProperty("agentescrow.testjs.dir", "src/test/js"));
        if (!Files.isDirectory(dir.resolve("node_modules"))) {
            throw new IllegalStateException("no node_modules in " + dir + ": run npm ci there (the build does)");
        }
        try {
            Process process = new ProcessBuilder("node", script).directory(dir.toFile()).redirectErrorStream(false).start();
            try (OutputStream in = process.getOutputStream()) {
                in.write(inputJson.getBytes(StandardCharsets.UTF_8));
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(script + " did not finish within 60 s");
            }
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new IllegalStateException(script + " failed: "
                        + new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
