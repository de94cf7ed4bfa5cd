package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/** The slice of Solidity's {@code abi.encode} and {@code keccak256} that EIP-712 hashing needs. */
final class Abi {
    private final ByteArrayOutputStream words = new ByteArrayOutputStream();

    static Bytes32 keccak(byte[] data) {
        return new Bytes32(Hash.sha3(data));
    }

    static Bytes32 keccak(String text) {
        return keccak(text.getBytes(StandardCharsets.UTF_8));
    }

    Abi word(Bytes32 value) {
        words.writeBytes(value.bytes());
        return this;
    }

    Abi uint256(BigInteger value) {
        words.writeBytes(Numeric.toBytesPadded(value, 32));
        return this;
    }

    Abi address(Address value) {
        return uint256(Numeric.toBigInt(value.hex()));
    }

    Bytes32 keccak() {
        return keccak(words.toByteArray());
    }
}
