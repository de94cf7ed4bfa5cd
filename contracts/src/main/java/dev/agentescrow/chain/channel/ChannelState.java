package dev.agentescrow.chain.channel;

/** Life cycle of a channel; mirrors {@code IPaymentChannels.State} in order. */
public enum ChannelState {
    /** Never opened: the id is unknown. */
    NONE,
    /** Opened by A; B has not accepted yet, so no proof counts. */
    PENDING,
    /** Accepted: deposits, withdrawals and closes are possible. */
    OPEN,
    /** Closed: during the challenge period anyone may submit a proof with a larger total. */
    CLOSING,
    /** Settled: paid out, apart from payouts the token refused, which stay claimable. */
    SETTLED;

    static ChannelState fromOrdinal(int ordinal) {
        ChannelState[] states = values();
        if (ordinal < 0 || ordinal >= states.length) {
            throw new IllegalArgumentException("unknown channel state " + ordinal);
        }
        return states[ordinal];
    }
}
