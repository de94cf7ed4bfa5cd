package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

/**
 * A payee's EIP-712 acceptance of its escrow's terms, as {@code TaskEscrow.acceptWithSignature}
 * checks it: type {@link #TYPE} in the domain {@code ("TaskEscrow", "1", chainId, contract)}.
 * The escrow id binds the payer and task; the domain binds the chain and the contract; the
 * fields bind the terms, so a signature cannot be replayed for another escrow, contract or chain,
 * nor for terms the payee did not see.
 */
public record EscrowAcceptance(Bytes32 escrowId, int index, Address payee, Address token, Amount share,
                               Address arbiter, Address evaluator, Instant deadline, BasisPoints maxFee,
                               FallbackRule fallbackRule, Bytes32 termsHash) {
    public static final String DOMAIN_NAME = "TaskEscrow";
    public static final String DOMAIN_VERSION = "1";
    public static final String DOMAIN_TYPE =
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
    public static final String TYPE = "Acceptance(bytes32 escrowId,uint256 index,address payee,address token,"
            + "uint256 share,address arbiter,address evaluator,uint64 deadline,uint16 maxFeeBps,uint8 fallbackRule,"
            + "bytes32 termsHash)";
    /** Length of a signature {@code r || s || v}. */
    public static final int SIGNATURE_LENGTH = 65;

    public EscrowAcceptance {
        Objects.requireNonNull(escrowId, "escrowId");
        Objects.requireNonNull(payee, "payee");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(share, "share");
        Objects.requireNonNull(arbiter, "arbiter");
        Objects.requireNonNull(evaluator, "evaluator");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(maxFee, "maxFee");
        Objects.requireNonNull(fallbackRule, "fallbackRule");
        Objects.requireNonNull(termsHash, "termsHash");
        if (index < 0) {
            throw new IllegalArgumentException("payee index must not be negative: " + index);
        }
    }

    /** The acceptance of payee {@code index} of {@code escrow}, with the terms as stored. */
    public static EscrowAcceptance of(Escrow escrow, int index) {
        PayeePosition payee = escrow.payees().get(index);
        return new EscrowAcceptance(escrow.id(), index, payee.account(), escrow.token(), payee.share(),
                escrow.arbiter(), escrow.evaluator(), escrow.deadline(), escrow.maxFee(), escrow.fallbackRule(),
                escrow.termsHash());
    }

    /** {@code hashStruct(Acceptance)}. */
    public Bytes32 structHash() {
        return keccak(new Words().word(keccak(TYPE)).word(escrowId).uint(BigInteger.valueOf(index)).address(payee)
                .address(token).uint(share.baseUnits()).address(arbiter).address(evaluator)
                .uint(BigInteger.valueOf(deadline.getEpochSecond())).uint(maxFee.toBigInteger())
                .uint(BigInteger.valueOf(fallbackRule.ordinal())).word(termsHash).bytes());
    }

    /** The separator of the domain of the TaskEscrow at {@code contract} on chain {@code chainId}. */
    public static Bytes32 domainSeparator(long chainId, Address contract) {
        return keccak(new Words().word(keccak(DOMAIN_TYPE)).word(keccak(DOMAIN_NAME)).word(keccak(DOMAIN_VERSION))
                .uint(BigInteger.valueOf(chainId)).address(contract).bytes());
    }

    /** The digest the payee signs: {@code keccak256(0x19 0x01 || domainSeparator || structHash)}. */
    public Bytes32 digest(long chainId, Address contract) {
        ByteArrayOutputStream data = new ByteArrayOutputStream(66);
        data.write(0x19);
        data.write(0x01);
        data.writeBytes(domainSeparator(chainId, contract).bytes());
        data.writeBytes(structHash().bytes());
        return keccak(data.toByteArray());
    }

    /** Signs the acceptance with the payee's {@code key}: 65 bytes {@code r || s || v}, v in {27, 28}. */
    public byte[] sign(Credentials key, long chainId, Address contract) {
        Sign.SignatureData signature = Sign.signMessage(digest(chainId, contract).bytes(), key.getEcKeyPair(), false);
        byte[] bytes = new byte[SIGNATURE_LENGTH];
        System.arraycopy(signature.getR(), 0, bytes, 0, 32);
        System.arraycopy(signature.getS(), 0, bytes, 32, 32);
        bytes[64] = signature.getV()[0];
        return bytes;
    }

    private static Bytes32 keccak(byte[] data) {
        return new Bytes32(Hash.sha3(data));
    }

    private static Bytes32 keccak(String text) {
        return keccak(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The 32-byte words of {@code abi.encode} of static values. */
    private static final class Words {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Words word(Bytes32 value) {
            out.writeBytes(value.bytes());
            return this;
        }

        Words uint(BigInteger value) {
            out.writeBytes(Numeric.toBytesPadded(value, 32));
            return this;
        }

        Words address(Address value) {
            return uint(Numeric.toBigInt(value.hex()));
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
