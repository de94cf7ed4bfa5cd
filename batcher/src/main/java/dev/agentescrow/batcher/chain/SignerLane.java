package dev.agentescrow.batcher.chain;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Signer;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One kind of transaction the backend signs, with a key of its own: settlement's batches now;
 * the watchtower's challenges and the arbiter's rulings get lanes of their own when they are
 * built. A key's nonces form one sequence, and a transaction stuck at nonce n holds back every
 * later nonce of that key until it is mined or replaced. One key per kind gives each kind its
 * own sequence, so an underpriced settlement batch never delays a watchtower challenge whose
 * deadline is on chain, and the reverse. {@link SignerLanes} refuses two kinds on one key.
 *
 * @param kind the lane's name, lower case ({@value #SETTLEMENT}, ...)
 * @param signer the lane's key (and, from {@link dev.agentescrow.chain.ChainClient#signer}, the
 *               transaction manager every sender of this key in the process shares)
 */
public record SignerLane(String kind, Signer signer) {
    /** The lane of settlement batches (and the account registrations they need): the vault operator's key. */
    public static final String SETTLEMENT = "settlement";
    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    public SignerLane {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(signer, "signer");
        if (!KIND.matcher(kind).matches()) {
            throw new IllegalArgumentException("a lane's kind is 1 to 32 lower-case letters, digits or '-': " + kind);
        }
    }

    /** The lane's account. */
    public Address address() {
        return signer.address();
    }

    @Override
    public String toString() {
        return "SignerLane[" + kind + ", " + address() + "]";
    }
}
