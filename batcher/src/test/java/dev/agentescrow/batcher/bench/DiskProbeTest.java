package dev.agentescrow.batcher.bench;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskProbeTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void a_probe_flushes_and_leaves_no_file_behind(@TempDir Path dir) throws Exception {
        long from = System.nanoTime();
        DiskProbe probe = DiskProbe.start(dir);
        awaitUntil("five flushes", () -> probe.report(from, System.nanoTime(), from, 1, new long[0], 50).flushes() >= 5);
        probe.close();
        DiskProbe.Report report = probe.report(from, System.nanoTime(), from, 1, new long[0], 50);
        assertThat(report.flushes()).isGreaterThanOrEqualTo(5);
        assertThat(report.maxMs()).isPositive();
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void transfers_in_a_stall_or_while_its_queue_clears_are_left_out_of_the_clear_p99() {
        // Flushes every 10 ms over 2 s; the one at 1,000 ms stalled for 100 ms.
        List<long[]> flushes = new ArrayList<>();
        for (long at = 0; at < 2_000; at += 10) {
            flushes.add(new long[] {at * MS, (at == 1_000 ? 100 : 1) * MS});
        }
        // 10 transfers per second from t = 0: the one scheduled at 900 ms was in flight when the
        // stall began, the one at 1,100 ms queued while it cleared (up to 1,200 ms), the one at
        // 1,900 ms never ended.
        long[] latencies = new long[20];
        for (int i = 0; i < latencies.length; i++) {
            latencies[i] = (i + 1) * MS;
        }
        latencies[9] = 150 * MS;
        latencies[11] = 60 * MS;
        latencies[19] = 0;
        DiskProbe.Report report = DiskProbe.report(flushes, 0, 2_000 * MS, 0, 10, latencies, 50);
        assertThat(report.flushes()).isEqualTo(200);
        assertThat(report.stalls()).isEqualTo(1);
        assertThat(report.maxMs()).isEqualTo(100.0);
        assertThat(report.stalledShare()).isCloseTo(0.05, within(1e-9));
        assertThat(report.transfersEnded()).isEqualTo(19);
        // #9 (900 ms) overlaps the stall, #10 (1,000 ms) starts in it, #11 (1,100 ms) runs in its clearing time.
        assertThat(report.transfersClear()).isEqualTo(16);
        assertThat(report.clearP99Ms()).isEqualTo(19.0);
    }
}
