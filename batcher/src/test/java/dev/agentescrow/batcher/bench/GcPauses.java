package dev.agentescrow.batcher.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The benchmark JVM's stop-the-world collections, as they happen (JMX GC notifications): when each
 * ended ({@link System#nanoTime()} at the notification) and how long it took. Every thread of the
 * JVM (writer, readers, settlement, senders) stands still during one, so each pause lands in the
 * latency of whatever was in flight or scheduled meanwhile. Collectors' concurrent cycles (ZGC's
 * {@code Cycles}, G1's {@code Concurrent GC}) are not pauses and are left out.
 */
final class GcPauses implements AutoCloseable {
    /** One pause: it ended at {@code endNanos} and took {@code millis}. */
    record Pause(long endNanos, long millis, String collector) {
    }

    private final List<Pause> pauses = new ArrayList<>();
    private final List<Runnable> removers = new ArrayList<>();

    static GcPauses start() {
        GcPauses gc = new GcPauses();
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!(bean instanceof NotificationEmitter emitter) || isConcurrent(bean.getName())) {
                continue;
            }
            NotificationListener listener = (notification, handback) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    return;
                }
                GarbageCollectionNotificationInfo info =
                        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                if (isConcurrent(info.getGcName())) {
                    return;
                }
                synchronized (gc.pauses) {
                    gc.pauses.add(new Pause(System.nanoTime(), info.getGcInfo().getDuration(), info.getGcName()));
                }
            };
            emitter.addNotificationListener(listener, null, null);
            gc.removers.add(() -> {
                try {
                    emitter.removeNotificationListener(listener);
                } catch (javax.management.ListenerNotFoundException ignored) {
                    // already gone
                }
            });
        }
        return gc;
    }

    private static boolean isConcurrent(String name) {
        return name.contains("Cycles") || name.contains("Concurrent");
    }

    /** The pauses that ended in [from, to). */
    List<Pause> between(long from, long to) {
        synchronized (pauses) {
            return pauses.stream().filter(p -> p.endNanos() - from >= 0 && p.endNanos() - to < 0).toList();
        }
    }

    static long totalMillis(List<Pause> pauses) {
        return pauses.stream().mapToLong(Pause::millis).sum();
    }

    static long maxMillis(List<Pause> pauses) {
        return pauses.stream().mapToLong(Pause::millis).max().orElse(0);
    }

    @Override
    public void close() {
        removers.forEach(Runnable::run);
    }
}
