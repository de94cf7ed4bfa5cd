package dev.agentescrow.chain.channel;

/** Life cycle of a channel; mirrors {@code IPaymentChannels.State} in order. */
public enum ChannelState {
    /** Never opened: the id is unknown. */
    NONE,
    /** Deposits, withdrawals and closes are possible. */
    OPEN,
    /** A unilateral close started the challenge window; a newer proof may still win. */
    CLOSING,
    /** Paid out; nothing more can happen. */
    SETTLED;

    static ChannelState fromOrdinal(int ordinal) {
        ChannelState[] states = values();
        if (ordinal < 0 || ordinal >= states.length) {
            throw new IllegalArgumentException("unknown channel state " + ordinal);
        }
        return states[ordinal];
    }
}
