package dev.agentescrow.batcher.merkle;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.web3j.crypto.Hash;

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
        System.arraycopy(transferId.toBytes32().bytes(), 0, encoded, 0, WORD);
        putAddress(encoded, 1, token);
        putAddress(encoded, 2, from);
        putAddress(encoded, 3, to);
        byte[] magnitude = amount.baseUnits().toByteArray();
        int length = Math.min(magnitude.length, WORD);
        System.arraycopy(magnitude, magnitude.length - length, encoded, 5 * WORD - length, length);
        return encoded;
    }

    /** The standard leaf hash: keccak256 applied twice to the ABI encoding. */
    public Bytes32 hash() {
        return new Bytes32(Hash.sha3(Hash.sha3(abiEncoded())));
    }

    private static void putAddress(byte[] encoded, int word, Address address) {
        byte[] raw = HexFormat.of().parseHex(address.hex().substring(2));
        System.arraycopy(raw, 0, encoded, word * WORD + WORD - raw.length, raw.length);
    }
}
