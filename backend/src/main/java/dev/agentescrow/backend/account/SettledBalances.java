package dev.agentescrow.backend.account;

import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * An account's settled balance in the vault ({@code settledOnChain}) as of the chain's newest
 * block, read once per block: the head is asked for at most every {@link #HEAD_MAX_AGE} (one
 * {@code eth_blockNumber} shared by every request), and the balance is an {@code eth_call} pinned
 * to that block, kept until the head moves. The value is exact for the block it names, never
 * older than {@link #HEAD_MAX_AGE} plus one call. Before, every balance read made an
 * {@code eth_call} at {@code latest}: the chain node answered every {@code GET /accounts/me}, and
 * its single thread set the rate of that read (about 180-350 per second on the local node).
 * A block number the chain reorganises keeps its first answer until the next block.
 */
@Component
public class SettledBalances {
    /** How old the known head may be before a read asks the chain again. */
    public static final Duration HEAD_MAX_AGE = Duration.ofMillis(100);
    /** A bound on the kept balances (one per account and token). */
    static final int MAX_KEPT = 100_000;

    private final ChainGateway chain;
    private final Map<Key, Settled> kept = new ConcurrentHashMap<>();
    private final Object headLock = new Object();
    private volatile Head head;

    private record Key(Address token, Address account) {
    }

    private record Settled(long block, Amount amount) {
    }

    private record Head(long block, long readAtNanos) {
        boolean fresh(long now) {
            return now - readAtNanos < HEAD_MAX_AGE.toNanos();
        }
    }

    public SettledBalances(ChainGateway chain) {
        this.chain = chain;
    }

    /** {@code account}'s settled balance in {@code token} as of the newest block known. */
    public Amount of(Address token, Address account) {
        long block = head();
        Key key = new Key(token, account);
        Settled known = kept.get(key);
        if (known != null && known.block() == block) {
            return known.amount();
        }
        Amount amount = chain.settledBalanceAt(token, account, block);
        if (kept.size() >= MAX_KEPT) {
            kept.clear();
        }
        kept.merge(key, new Settled(block, amount), (old, fresh) -> fresh.block() >= old.block() ? fresh : old);
        return amount;
    }

    private long head() {
        Head known = head;
        if (known != null && known.fresh(System.nanoTime())) {
            return known.block();
        }
        synchronized (headLock) {
            known = head;
            if (known != null && known.fresh(System.nanoTime())) {
                return known.block();
            }
            long block = chain.blockNumber();
            head = new Head(known == null ? block : Math.max(block, known.block()), System.nanoTime());
            return head.block();
        }
    }
}
