package dev.agentescrow.backend.transfer;

import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * Amount limits per account: one transfer at most {@code maxTransferAmount}; what an account sends
 * per token in one UTC day at most {@code maxDailyAmount}. The day's totals are counted in this
 * process (they start again at a restart; several instances each count their own).
 */
@Component
public class AmountLimits {
    private final BigInteger maxTransfer;
    private final BigInteger maxDaily;
    private final Clock clock;
    private final Map<String, BigInteger> spent = new ConcurrentHashMap<>();
    private volatile LocalDate day;

    public AmountLimits(BackendProperties properties, Clock clock) {
        this.maxTransfer = properties.limits().maxTransferAmount();
        this.maxDaily = properties.limits().maxDailyAmount();
        this.clock = clock;
        this.day = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    }

    public enum Verdict { OK, TRANSFER_LIMIT_EXCEEDED, DAILY_LIMIT_EXCEEDED }

    public boolean withinTransferLimit(BigInteger amount) {
        return amount.compareTo(maxTransfer) <= 0;
    }

    /** Reserves {@code amount} of today's allowance; {@link #release} gives it back if the transfer is not committed. */
    public Verdict reserve(Address owner, Address token, BigInteger amount) {
        if (!withinTransferLimit(amount)) {
            return Verdict.TRANSFER_LIMIT_EXCEEDED;
        }
        rollDay();
        boolean[] ok = {true};
        spent.compute(key(owner, token), (k, total) -> {
            BigInteger current = total == null ? BigInteger.ZERO : total;
            BigInteger next = current.add(amount);
            if (next.compareTo(maxDaily) > 0) {
                ok[0] = false;
                return total;
            }
            return next;
        });
        return ok[0] ? Verdict.OK : Verdict.DAILY_LIMIT_EXCEEDED;
    }

    public void release(Address owner, Address token, BigInteger amount) {
        spent.computeIfPresent(key(owner, token), (k, total) -> total.subtract(amount).max(BigInteger.ZERO));
    }

    private void rollDay() {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        if (!today.equals(day)) {
            synchronized (this) {
                if (!today.equals(day)) {
                    spent.clear();
                    day = today;
                }
            }
        }
    }

    private static String key(Address owner, Address token) {
        return owner.hex() + token.hex();
    }
}
