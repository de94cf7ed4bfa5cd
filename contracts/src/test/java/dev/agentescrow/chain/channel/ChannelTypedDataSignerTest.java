package dev.agentescrow.chain.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.StructuredDataEncoder;

class ChannelTypedDataSignerTest {
    private static final Address CONTRACT = Address.of("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    private static final ChannelTypedDataSigner SIGNER = new ChannelTypedDataSigner(ChannelDomain.of(31337, CONTRACT));
    private static final Bytes32 CHANNEL = new Bytes32(Hash.sha3("channel".getBytes(StandardCharsets.UTF_8)));
    private static final BigInteger CURVE_ORDER =
            new BigInteger("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16);

    private final Credentials alice = DevAccounts.account(1);

    @Test
    void digestsMatchWeb3jsStructuredDataEncoder() throws Exception {
        List<ChannelTypedData> messages = List.of(
                new BalanceProof(CHANNEL, ChannelNonce.of(7), Amount.of(1_000)),
                new BalanceProof(CHANNEL, new ChannelNonce(ChannelNonce.MAX_UINT256), new Amount(Amount.MAX_UINT256)),
                new CooperativeClose(CHANNEL, Amount.of(400), Amount.of(1_100), Instant.ofEpochSecond(1_900_000_000L)),
                new Withdrawal(CHANNEL, Address.of(alice.getAddress()), Amount.of(300),
                        Instant.ofEpochSecond(1_900_000_000L)));
        for (ChannelTypedData message : messages) {
            byte[] expected = new StructuredDataEncoder(typedDataJson(message)).hashStructuredData();
            assertThat(SIGNER.digest(message)).as(message.typeString()).isEqualTo(new Bytes32(expected));
        }
    }

    @Test
    void signaturesRecoverTheirSignerAndNothingElse() {
        BalanceProof proof = new BalanceProof(CHANNEL, ChannelNonce.of(1), Amount.of(10));
        ChannelSignature signature = SIGNER.sign(proof, alice);

        assertThat(signature.bytes()).hasSize(65);
        assertThat(signature.v()).isIn((byte) 27, (byte) 28);
        assertThat(SIGNER.recover(proof, signature)).isEqualTo(Address.of(alice.getAddress()));
        assertThat(SIGNER.verify(proof, signature, Address.of(alice.getAddress()))).isTrue();

        BalanceProof other = new BalanceProof(CHANNEL, ChannelNonce.of(2), Amount.of(10));
        assertThat(SIGNER.verify(other, signature, Address.of(alice.getAddress()))).isFalse();
        CooperativeClose otherType = new CooperativeClose(CHANNEL, Amount.of(1), Amount.of(10), Instant.EPOCH);
        assertThat(SIGNER.verify(otherType, signature, Address.of(alice.getAddress()))).isFalse();
        ChannelTypedDataSigner otherChain = new ChannelTypedDataSigner(ChannelDomain.of(1, CONTRACT));
        assertThat(otherChain.verify(proof, signature, Address.of(alice.getAddress()))).isFalse();
    }

    @Test
    void rejectsSignaturesTheContractRejects() {
        BalanceProof proof = new BalanceProof(CHANNEL, ChannelNonce.of(1), Amount.of(10));
        byte[] good = SIGNER.sign(proof, alice).bytes();

        byte[] badV = good.clone();
        badV[64] = 5;
        assertThatThrownBy(() -> SIGNER.recover(proof, new ChannelSignature(badV)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("v must be 27 or 28");

        byte[] highS = good.clone();
        byte[] s = CURVE_ORDER.subtract(new BigInteger(1, Arrays.copyOfRange(good, 32, 64))).toByteArray();
        byte[] s32 = new byte[32];
        System.arraycopy(s, Math.max(0, s.length - 32), s32, Math.max(0, 32 - s.length), Math.min(32, s.length));
        System.arraycopy(s32, 0, highS, 32, 32);
        highS[64] = (byte) (good[64] == 27 ? 28 : 27);
        assertThatThrownBy(() -> SIGNER.recover(proof, new ChannelSignature(highS)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("upper half");
        assertThat(SIGNER.verify(proof, new ChannelSignature(highS), Address.of(alice.getAddress()))).isFalse();

        assertThatThrownBy(() -> ChannelSignature.fromHex("0x1234")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChannelNonce(BigInteger.ONE.negate()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The message as eth_signTypedData_v4 JSON, for web3j's independent encoder. */
    private static String typedDataJson(ChannelTypedData message) {
        String primary = message.typeString().substring(0, message.typeString().indexOf('('));
        String fields = switch (message) {
            case BalanceProof p -> """
                    "channelId":"%s","nonce":"%s","transferred":"%s"\
                    """.formatted(p.channelId().hex(), p.nonce(), p.transferred());
            case CooperativeClose c -> """
                    "channelId":"%s","totalWithdrawnA":"%s","totalWithdrawnB":"%s","expiry":"%s"\
                    """.formatted(c.channelId().hex(), c.totalWithdrawnA(), c.totalWithdrawnB(), c.expirySeconds());
            case Withdrawal w -> """
                    "channelId":"%s","participant":"%s","totalWithdrawn":"%s","expiry":"%s"\
                    """.formatted(w.channelId().hex(), w.participant().hex(), w.totalWithdrawn(), w.expirySeconds());
        };
        String typeFields = switch (message) {
            case BalanceProof p -> """
                    [{"name":"channelId","type":"bytes32"},{"name":"nonce","type":"uint256"},\
                    {"name":"transferred","type":"uint256"}]""";
            case CooperativeClose c -> """
                    [{"name":"channelId","type":"bytes32"},{"name":"totalWithdrawnA","type":"uint256"},\
                    {"name":"totalWithdrawnB","type":"uint256"},{"name":"expiry","type":"uint256"}]""";
            case Withdrawal w -> """
                    [{"name":"channelId","type":"bytes32"},{"name":"participant","type":"address"},\
                    {"name":"totalWithdrawn","type":"uint256"},{"name":"expiry","type":"uint256"}]""";
        };
        return """
                {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},\
                {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],\
                "%s":%s},"primaryType":"%s",\
                "domain":{"name":"PaymentChannels","version":"1","chainId":31337,"verifyingContract":"%s"},\
                "message":{%s}}""".formatted(primary, typeFields, primary, CONTRACT.hex(), fields);
    }
}
