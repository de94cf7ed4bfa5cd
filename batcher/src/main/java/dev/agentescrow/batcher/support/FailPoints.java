package dev.agentescrow.batcher.support;

import java.util.concurrent.locks.LockSupport;

/**
 * Named crash points for the crash tests. {@link #reached(String)} does nothing unless the
 * system property {@code batcher.failpoint} names that point; then it prints
 * {@code FAILPOINT <name>} on standard output and parks the calling thread forever, so the test
 * can kill the process with SIGKILL at exactly that step. Production never sets the property,
 * and then every call is a comparison against {@code null}: the facility is inert.
 */
public final class FailPoints {
    /** The system property that arms one point by name. */
    public static final String PROPERTY = "batcher.failpoint";

    private static final String ARMED = System.getProperty(PROPERTY);

    private FailPoints() {
    }

    /** Parks the thread forever if {@code name} is the armed point; otherwise returns at once. */
    public static void reached(String name) {
        if (ARMED == null || !ARMED.equals(name)) {
            return;
        }
        System.out.println("FAILPOINT " + name);
        System.out.flush();
        while (true) {
            LockSupport.park(FailPoints.class);
        }
    }
}
