package dev.agentescrow.chain.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.local.DevAccounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Balance proofs, cooperative closes and withdrawals signed by ethers' {@code signTypedData} in the
 * Hardhat tests ({@code PaymentChannels.test.js} writes {@code target/interop/channel-proofs.json}
 * in the {@code test} phase) must give the same digest, signer and signature bytes in Java. Runs
 * in {@code mvn verify}, after the Hardhat tests.
 */
class ChannelProofInteropIT {
    private static final Path PROOFS = Path.of(System.getProperty("agentescrow.contracts.dir", "."),
            "target", "interop", "channel-proofs.json");

    @Test
    void ethersSignaturesVerifyInJavaAndJavaSignsTheSameBytes() throws IOException {
        assertThat(PROOFS).as("written by the Hardhat tests of PaymentChannels").exists();
        JsonNode root = new ObjectMapper().readTree(Files.readString(PROOFS));
        JsonNode domain = root.get("domain");
        assertThat(domain.get("name").asText()).isEqualTo(ChannelDomain.NAME);
        assertThat(domain.get("version").asText()).isEqualTo(ChannelDomain.VERSION);
        ChannelTypedDataSigner signer = new ChannelTypedDataSigner(ChannelDomain.of(
                Long.parseLong(domain.get("chainId").asText()), Address.of(domain.get("verifyingContract").asText())));

        JsonNode cases = root.get("cases");
        assertThat(cases.size()).isGreaterThanOrEqualTo(5);
        for (JsonNode c : cases) {
            ChannelTypedData message = message(c.get("type").asText(), c.get("message"));
            ChannelSignature signature = ChannelSignature.fromHex(c.get("signature").asText());
            Address expectedSigner = Address.of(c.get("signer").asText());
            String what = c.get("type").asText() + " " + c.get("message");

            assertThat(signer.digest(message)).as(what).isEqualTo(Bytes32.fromHex(c.get("digest").asText()));
            assertThat(signer.recover(message, signature)).as(what).isEqualTo(expectedSigner);
            var key = DevAccounts.account(c.get("signerIndex").asInt());
            assertThat(Address.of(key.getAddress())).isEqualTo(expectedSigner);
            // both sides use deterministic (RFC 6979) nonces with low s: the bytes are identical
            assertThat(signer.sign(message, key)).as(what).isEqualTo(signature);
        }
    }

    private static ChannelTypedData message(String type, JsonNode m) {
        Bytes32 channelId = Bytes32.fromHex(m.get("channelId").asText());
        ChannelNonce nonce = ChannelNonce.parse(m.get("nonce").asText());
        return switch (type) {
            case "BalanceProof" -> new BalanceProof(channelId, nonce, Amount.parse(m.get("balanceA").asText()),
                    Amount.parse(m.get("balanceB").asText()));
            case "CooperativeClose" -> new CooperativeClose(channelId, nonce,
                    Amount.parse(m.get("balanceA").asText()), Amount.parse(m.get("balanceB").asText()));
            case "Withdrawal" -> new Withdrawal(channelId, Address.of(m.get("participant").asText()),
                    Amount.parse(m.get("amount").asText()), nonce,
                    Instant.ofEpochSecond(Long.parseLong(m.get("expiry").asText())));
            default -> throw new IllegalArgumentException("unknown type " + type);
        };
    }
}
