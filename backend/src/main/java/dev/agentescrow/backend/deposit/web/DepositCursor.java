package dev.agentescrow.backend.deposit.web;

import dev.agentescrow.backend.common.web.OpaqueCursor;
import dev.agentescrow.batcher.read.CustodyHoldKey;
import dev.agentescrow.chain.TxHash;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The deposit list's opaque cursor: "deposits that sort below this one" (block, log index, tx
 * hash), base64url. Anything that is not a cursor this list gave out is 400 INVALID_CURSOR.
 */
public final class DepositCursor {
    private static final String PREFIX = "d1:";
    private static final Pattern KEY = Pattern.compile("(0|[1-9][0-9]{0,17}):(0|[1-9][0-9]{0,17}):(0x[0-9a-f]{64})");
    /** Longer than any cursor this list writes (3 + 18 + 1 + 18 + 1 + 66 characters, base64: 144). */
    private static final int MAX_LENGTH = 160;

    private DepositCursor() {
    }

    static String encode(CustodyHoldKey key) {
        return OpaqueCursor.wrap(PREFIX + key.blockNumber() + ":" + key.logIndex() + ":" + key.txHash().value());
    }

    static CustodyHoldKey decode(String cursor) {
        String text = OpaqueCursor.unwrap(cursor, MAX_LENGTH);
        Matcher m = KEY.matcher(text.startsWith(PREFIX) ? text.substring(PREFIX.length()) : "");
        if (!m.matches()) {
            throw OpaqueCursor.invalid();
        }
        return new CustodyHoldKey(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), new TxHash(m.group(3)));
    }
}
