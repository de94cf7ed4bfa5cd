package dev.agentescrow.chain;

import java.math.BigInteger;
import org.web3j.exceptions.MessageDecodingException;

/**
 * JSON-RPC hex quantities ({@code "0x1b"}) decoded without an exception on the way: web3j's
 * {@code Numeric.decodeQuantity}, behind every typed getter ({@code getBlockNumber()},
 * {@code getGasUsed()}, {@code isStatusOK()}, ...), first tries the text as a decimal long and
 * catches the {@code NumberFormatException} that every hex value throws (about ten a second in
 * the settlement lane). These take the raw text of the response instead.
 */
public final class Quantities {
    private Quantities() {
    }

    /** A hex quantity as the JSON-RPC spec writes it: {@code 0x} and at least one hex digit. */
    public static BigInteger of(String value) {
        if (value == null || value.length() < 3 || !value.startsWith("0x")) {
            throw new MessageDecodingException("not a hex quantity: " + value);
        }
        for (int i = 2; i < value.length(); i++) {
            char c = value.charAt(i);
            // ASCII hex digits only (Character.digit, and so Long.parseLong, take other scripts' digits too)
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                throw new MessageDecodingException("not a hex quantity: " + value);
            }
        }
        if (value.length() <= 17) {
            // up to 15 hex digits: fits a long, without a BigInteger's parse
            return BigInteger.valueOf(Long.parseLong(value, 2, value.length(), 16));
        }
        return new BigInteger(value.substring(2), 16);
    }

    /** {@link #of} as a long; fails if it does not fit. */
    public static long longOf(String value) {
        return of(value).longValueExact();
    }

    /**
     * A receipt's status as web3j's {@code TransactionReceipt.isStatusOK()} reads it: no status
     * (a pre-Byzantium receipt) counts as success, otherwise {@code 0x1}.
     */
    public static boolean statusOk(String status) {
        return status == null || BigInteger.ONE.equals(of(status));
    }
}
