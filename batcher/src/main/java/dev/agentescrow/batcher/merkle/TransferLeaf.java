package dev.agentescrow.batcher.merkle;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One leaf of a batch's Merkle tree: the values of leaf types
 * {@code ["bytes32", "address", "address", "address", "uint256"]} = (transferId, token, from, to,
 * amount). {@link #hash()} is OpenZeppelin's standard leaf hash,
 * {@code keccak256(bytes.concat(keccak256(abi.encode(transferId, token, from, to, amount))))},
 * the same as the vault's {@code transferLeaf}.
 */
public record TransferLeaf(TransferId transferId, Address token, Address from, Address to, Amount amount) {
    /** The leaf types as the JavaScript library and Solidity name them. */
    public static final List<String> LEAF_ENCODING = List.of("bytes32", "address", "address", "address", "uint256");

    private static final int WORD = 32;

    public TransferLeaf {
        Objects.requireNonNull(transferId, "transferId");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(amount, "amount");
    }

    /** {@code abi.encode(transferId, token, from, to, amount)}: five 32-byte words. */
    public byte[] abiEncoded() {
        byte[] encoded = new byte[5 * WORD];
        encodeInto(encoded);
        return encoded;
    }

    /** The standard leaf hash: keccak256 applied twice to the ABI encoding. */
    public Bytes32 hash() {
        byte[] out = new byte[WORD];
        new Keccak().leafHash(this, out, 0);
        return new Bytes32(out);
    }

    /** {@link #abiEncoded()} into {@code encoded} (five words, every byte written). */
    void encodeInto(byte[] encoded) {
        Arrays.fill(encoded, 0, 5 * WORD, (byte) 0);
        putLong(encoded, WORD / 2, transferId.high());
        putLong(encoded, WORD / 2 + 8, transferId.low());
        putAddress(encoded, 1, token);
        putAddress(encoded, 2, from);
        putAddress(encoded, 3, to);
        byte[] magnitude = amount.baseUnits().toByteArray();
        int length = Math.min(magnitude.length, WORD);
        System.arraycopy(magnitude, magnitude.length - length, encoded, 5 * WORD - length, length);
    }

    private static void putLong(byte[] encoded, int at, long value) {
        for (int i = 7; i >= 0; i--) {
            encoded[at + i] = (byte) value;
            value >>>= 8;
        }
    }

    /** The address's 20 bytes, right-aligned in word {@code word}, parsed from its hex without a copy. */
    private static void putAddress(byte[] encoded, int word, Address address) {
        String hex = address.hex();
        int at = word * WORD + WORD - 20;
        for (int i = 0; i < 20; i++) {
            encoded[at + i] = (byte) (Character.digit(hex.charAt(2 + 2 * i), 16) << 4
                    | Character.digit(hex.charAt(3 + 2 * i), 16));
        }
    }
}
