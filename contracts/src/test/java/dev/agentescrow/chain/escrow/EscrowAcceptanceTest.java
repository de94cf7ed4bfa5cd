package dev.agentescrow.chain.escrow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;

/**
 * The Java EIP-712 acceptance against vectors computed with ethers v6 ({@code TypedDataEncoder.hash}
 * and {@code SigningKey.sign}) for the same domain and message.
 */
class EscrowAcceptanceTest {
    private static final long CHAIN_ID = 31_337;
    private static final Address CONTRACT = Address.of("0x5fbdb2315678afecb367f032d93f642f64180aa3");
    /** Hardhat's well-known dev account #1 (test use only). */
    private static final Credentials PAYEE =
            Credentials.create("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

    private static Bytes32 id(String label) {
        return new Bytes32(Hash.sha3(label.getBytes(StandardCharsets.UTF_8)));
    }

    private static EscrowAcceptance acceptance() {
        return new EscrowAcceptance(id("escrow"), 1, Address.of(PAYEE.getAddress()),
                Address.of("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"), Amount.of(400_000),
                Address.of("0x90f79bf6eb2c4f870365e785982e1f101e93b906"),
                Address.of("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"), Instant.ofEpochSecond(2_000_000_000L),
                BasisPoints.of(300), FallbackRule.SPLIT_EVENLY, id("terms"));
    }

    @Test
    void digestMatchesEthersTypedDataEncoder() {
        assertThat(acceptance().digest(CHAIN_ID, CONTRACT)).isEqualTo(
                Bytes32.fromHex("0x2ea6fc9b5f35ab2b975162ccb9d9bfcf048b4678cae9dafa64a9497e6881e573"));
    }

    @Test
    void signatureMatchesEthersByteForByte() {
        byte[] signature = acceptance().sign(PAYEE, CHAIN_ID, CONTRACT);
        assertThat(HexFormat.of().formatHex(signature)).isEqualTo("d0502e8ca23a9112e401649d3bcb67b60b588791c5e4fcf1944438666d"
                + "8c89a71348f914ab4ebf83459ad631e220cf467fccceb49bedb595964f4aa53a2414341b");
    }

    @Test
    void everyFieldAndTheDomainChangeTheDigest() {
        EscrowAcceptance base = acceptance();
        Bytes32 digest = base.digest(CHAIN_ID, CONTRACT);
        assertThat(base.digest(CHAIN_ID + 1, CONTRACT)).isNotEqualTo(digest);
        assertThat(base.digest(CHAIN_ID, Address.of("0x0000000000000000000000000000000000000001"))).isNotEqualTo(digest);
        EscrowAcceptance otherRule = new EscrowAcceptance(base.escrowId(), base.index(), base.payee(), base.token(),
                base.share(), base.arbiter(), base.evaluator(), base.deadline(), base.maxFee(), FallbackRule.PAY_PAYEES,
                base.termsHash());
        assertThat(otherRule.digest(CHAIN_ID, CONTRACT)).isNotEqualTo(digest);
        EscrowAcceptance otherEscrow = new EscrowAcceptance(id("other"), base.index(), base.payee(), base.token(),
                base.share(), base.arbiter(), base.evaluator(), base.deadline(), base.maxFee(), base.fallbackRule(),
                base.termsHash());
        assertThat(otherEscrow.digest(CHAIN_ID, CONTRACT)).isNotEqualTo(digest);
    }
}
