package dev.agentescrow.chain.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

/**
 * ethers and web3j sign the same channel messages the same way, and the contract accepts both.
 * <ul>
 *   <li>Fixed domain: balance proofs, cooperative closes and withdrawals signed by ethers'
 *   {@code signTypedData} in the Hardhat tests ({@code PaymentChannels.test.js} writes
 *   {@code target/interop/channel-proofs.json} in the {@code test} phase) give the same digest,
 *   signer and signature bytes in Java.</li>
 *   <li>On chain: messages signed by ethers (through {@code scripts/sign-typed-data.js}) and by
 *   web3j for a live contract are accepted together in one close, update, withdrawal and
 *   cooperative close.</li>
 * </ul>
 */
@ExtendWith(LocalChainExtension.class)
class ChannelProofInteropIT {
    private static final Path CONTRACTS_DIR = Path.of(System.getProperty("agentescrow.contracts.dir", "."));
    private static final Path PROOFS = CONTRACTS_DIR.resolve(Path.of("target", "interop", "channel-proofs.json"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NEVER = Instant.ofEpochSecond(4_000_000_000L);

    @Test
    void ethersSignaturesVerifyInJavaAndJavaSignsTheSameBytes() throws IOException {
        assertThat(PROOFS).as("written by the Hardhat tests of PaymentChannels").exists();
        JsonNode root = JSON.readTree(Files.readString(PROOFS));
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

    @Test
    void theContractAcceptsEthersAndWeb3jSignaturesSideBySide(LocalChain chain) throws Exception {
        Signer owner = chain.account(0);
        Signer alice = chain.account(1);
        Signer bob = chain.account(2);
        Signer relayer = chain.account(3);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, alice.address(), Amount.of(1_000_000));
        token.mint(owner, bob.address(), Amount.of(1_000_000));
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner, Duration.ofMinutes(10));
        ChannelTypedDataSigner web3j = channels.typedDataSigner();
        Duration period = Duration.ofMinutes(10);

        // channel 1: a withdrawal and a cooperative close, A's signatures by ethers, B's by web3j
        Bytes32 first = channels.open(alice, bob.address(), token, Amount.of(1_000), period).channelId();
        channels.accept(bob, first, Amount.of(500));
        Withdrawal withdrawal = new Withdrawal(first, bob.address(), Amount.of(100), NEVER);
        channels.withdraw(relayer, withdrawal, ethers(channels, withdrawal, alice.credentials()),
                web3j.sign(withdrawal, bob.credentials()));
        CooperativeClose close = new CooperativeClose(first, Amount.of(700), Amount.of(800), NEVER);
        channels.cooperativeClose(relayer, close, ethers(channels, close, alice.credentials()),
                web3j.sign(close, bob.credentials()));
        assertThat(token.balanceOf(alice.address())).isEqualTo(Amount.of(1_000_000 - 1_000 + 700));
        assertThat(token.balanceOf(bob.address())).isEqualTo(Amount.of(1_000_000 - 500 + 800));

        // channel 2: a close with alice's proof signed by ethers, an update with bob's signed by web3j
        Bytes32 second = channels.open(alice, bob.address(), token, Amount.of(1_000), period).channelId();
        channels.accept(bob, second, Amount.of(500));
        BalanceProof byAlice = new BalanceProof(second, ChannelNonce.of(4), Amount.of(300));
        ChannelSignature ethersSignature = ethers(channels, byAlice, alice.credentials());
        assertThat(ethersSignature).isEqualTo(web3j.sign(byAlice, alice.credentials()));
        channels.close(bob, byAlice, ethersSignature);
        BalanceProof byBob = new BalanceProof(second, ChannelNonce.of(2), Amount.of(50));
        channels.updateBalanceProof(relayer, bob.address(), byBob, web3j.sign(byBob, bob.credentials()));
        PaymentChannel closing = channels.channel(second);
        assertThat(closing.a().transferred()).isEqualTo(Amount.of(300));
        assertThat(closing.b().transferred()).isEqualTo(Amount.of(50));
        assertThat(channels.payouts(second)).containsExactly(Amount.of(750), Amount.of(750));
    }

    /** Signs {@code message} for {@code channels}' domain with ethers, in a Node.js process. */
    private static ChannelSignature ethers(PaymentChannelsGateway channels, ChannelTypedData message, Credentials key)
            throws IOException, InterruptedException {
        ChannelDomain domain = channels.typedDataSigner().domain();
        ObjectNode input = JSON.createObjectNode();
        input.put("privateKey", Numeric.toHexStringWithPrefixZeroPadded(key.getEcKeyPair().getPrivateKey(), 64));
        input.putObject("domain").put("name", domain.name()).put("version", domain.version())
                .put("chainId", Long.toString(domain.chainId()))
                .put("verifyingContract", domain.verifyingContract().hex());
        String primary = message.typeString().substring(0, message.typeString().indexOf('('));
        var fields = input.putObject("types").putArray(primary);
        ObjectNode values = input.putObject("message");
        String body = message.typeString().substring(primary.length() + 1, message.typeString().length() - 1);
        List<String> names = List.of(body.split(","));
        for (String field : names) {
            String[] typeAndName = field.split(" ");
            fields.addObject().put("type", typeAndName[0]).put("name", typeAndName[1]);
        }
        switch (message) {
            case BalanceProof p -> values.put("channelId", p.channelId().hex()).put("nonce", p.nonce().toString())
                    .put("transferred", p.transferred().toString());
            case CooperativeClose c -> values.put("channelId", c.channelId().hex())
                    .put("totalWithdrawnA", c.totalWithdrawnA().toString())
                    .put("totalWithdrawnB", c.totalWithdrawnB().toString())
                    .put("expiry", c.expirySeconds().toString());
            case Withdrawal w -> values.put("channelId", w.channelId().hex()).put("participant", w.participant().hex())
                    .put("totalWithdrawn", w.totalWithdrawn().toString()).put("expiry", w.expirySeconds().toString());
        }
        Process node = new ProcessBuilder("node", "scripts/sign-typed-data.js").directory(CONTRACTS_DIR.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        node.getOutputStream().write(JSON.writeValueAsBytes(input));
        node.getOutputStream().close();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as("node scripts/sign-typed-data.js").isZero();
        return ChannelSignature.fromHex(out);
    }

    private static ChannelTypedData message(String type, JsonNode m) {
        Bytes32 channelId = Bytes32.fromHex(m.get("channelId").asText());
        return switch (type) {
            case "BalanceProof" -> new BalanceProof(channelId, ChannelNonce.parse(m.get("nonce").asText()),
                    Amount.parse(m.get("transferred").asText()));
            case "CooperativeClose" -> new CooperativeClose(channelId, Amount.parse(m.get("totalWithdrawnA").asText()),
                    Amount.parse(m.get("totalWithdrawnB").asText()),
                    Instant.ofEpochSecond(Long.parseLong(m.get("expiry").asText())));
            case "Withdrawal" -> new Withdrawal(channelId, Address.of(m.get("participant").asText()),
                    Amount.parse(m.get("totalWithdrawn").asText()),
                    Instant.ofEpochSecond(Long.parseLong(m.get("expiry").asText())));
            default -> throw new IllegalArgumentException("unknown type " + type);
        };
    }
}
