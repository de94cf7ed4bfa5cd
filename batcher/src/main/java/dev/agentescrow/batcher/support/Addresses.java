package dev.agentescrow.batcher.support;

import dev.agentescrow.chain.Address;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Addresses read back from the ledger's own tables (checked when they were written), parsed
 * through a bounded cache. {@link Address#of} checks its text with a regular expression; in the
 * open-loop benchmark that was the largest share of the CPU and of the allocation of history reads
 * and of settlement's scans (docs/ledger.md), which name the same few thousand accounts and tokens
 * again and again. The cache is cleared whole when it reaches {@value #MAX} entries.
 */
public final class Addresses {
    static final int MAX = 65_536;
    private static final ConcurrentHashMap<String, Address> CACHE = new ConcurrentHashMap<>();

    private Addresses() {
    }

    /** {@link Address#of}{@code (hex)}, the same value, parsed once while it stays cached. */
    public static Address of(String hex) {
        Address cached = CACHE.get(hex);
        if (cached != null) {
            return cached;
        }
        Address parsed = Address.of(hex);
        if (CACHE.size() >= MAX) {
            CACHE.clear();
        }
        CACHE.put(hex, parsed);
        return parsed;
    }
}
