package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.SignatureException;
import java.util.Objects;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;

/**
 * Signs and verifies PaymentChannels messages for one EIP-712 domain, computing the digest
 * {@code keccak256(0x19 0x01 || domainSeparator || hashStruct(message))} exactly as the contract
 * does. Signatures are 65 bytes {@code r || s || v}, as ethers' {@code signTypedData} makes them.
 */
public final class ChannelTypedDataSigner {
    /** Half the secp256k1 group order: OpenZeppelin's ECDSA rejects signatures with a higher s. */
    private static final BigInteger HALF_ORDER =
            new BigInteger("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", 16);

    private final ChannelDomain domain;
    private final Bytes32 separator;

    public ChannelTypedDataSigner(ChannelDomain domain) {
        this.domain = Objects.requireNonNull(domain, "domain");
        this.separator = domain.separator();
    }

    public ChannelDomain domain() {
        return domain;
    }

    /** The EIP-712 digest of {@code message} in this domain. */
    public Bytes32 digest(ChannelTypedData message) {
        ByteArrayOutputStream data = new ByteArrayOutputStream(66);
        data.write(0x19);
        data.write(0x01);
        data.writeBytes(separator.bytes());
        data.writeBytes(message.structHash().bytes());
        return new Bytes32(Hash.sha3(data.toByteArray()));
    }

    /** Signs {@code message} with {@code key}. */
    public ChannelSignature sign(ChannelTypedData message, Credentials key) {
        Sign.SignatureData signature = Sign.signMessage(digest(message).bytes(), key.getEcKeyPair(), false);
        byte[] bytes = new byte[ChannelSignature.LENGTH];
        System.arraycopy(signature.getR(), 0, bytes, 0, 32);
        System.arraycopy(signature.getS(), 0, bytes, 32, 32);
        bytes[64] = signature.getV()[0];
        return new ChannelSignature(bytes);
    }

    /**
     * The address that signed {@code message}. Throws {@link IllegalArgumentException} for a
     * signature the contract would reject as malformed (v not 27/28, s in the upper half, no key).
     */
    public Address recover(ChannelTypedData message, ChannelSignature signature) {
        byte v = signature.v();
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("signature v must be 27 or 28, got " + v);
        }
        if (new BigInteger(1, signature.s()).compareTo(HALF_ORDER) > 0) {
            throw new IllegalArgumentException("signature s is in the upper half of the curve order");
        }
        try {
            BigInteger publicKey = Sign.signedMessageHashToKey(digest(message).bytes(),
                    new Sign.SignatureData(v, signature.r(), signature.s()));
            return Address.of("0x" + Keys.getAddress(publicKey));
        } catch (SignatureException e) {
            throw new IllegalArgumentException("signature recovers no key: " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} is {@code expectedSigner}'s signature over {@code message}. */
    public boolean verify(ChannelTypedData message, ChannelSignature signature, Address expectedSigner) {
        try {
            return recover(message, signature).equals(expectedSigner);
        } catch (IllegalArgumentException malformed) {
            return false;
        }
    }
}
