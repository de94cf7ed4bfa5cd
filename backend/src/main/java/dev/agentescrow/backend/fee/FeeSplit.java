package dev.agentescrow.backend.fee;

import java.math.BigInteger;
import java.util.Objects;

/**
 * One gross payout split into what the payee receives and the two fees; {@code net + platform +
 * protocol == gross} always (no base unit lost or created).
 */
public record FeeSplit(BigInteger gross, BigInteger platform, BigInteger protocol) {
    public FeeSplit {
        Objects.requireNonNull(gross, "gross");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(protocol, "protocol");
        if (gross.signum() < 0 || platform.signum() < 0 || protocol.signum() < 0
                || platform.add(protocol).compareTo(gross) > 0) {
            throw new IllegalArgumentException("fees " + platform + " + " + protocol + " do not fit in " + gross);
        }
    }

    /** What the payee receives: the gross less both fees. */
    public BigInteger net() {
        return gross.subtract(platform).subtract(protocol);
    }

    /** Both fees. */
    public BigInteger fees() {
        return platform.add(protocol);
    }

    /** The fee of {@code type}. */
    public BigInteger fee(FeeType type) {
        return type == FeeType.PLATFORM ? platform : protocol;
    }
}
