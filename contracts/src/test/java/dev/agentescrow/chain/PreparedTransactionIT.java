package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.ChainClient.Broadcast;
import dev.agentescrow.chain.ChainClient.BroadcastOutcome;
import dev.agentescrow.chain.testing.FaultyRpcProxy;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint256;

/**
 * The signed-then-sent path the settlement submitter uses: {@link ChainClient#prepare} (estimate
 * and gas price in one JSON-RPC batch) and {@link ChainClient#broadcastAndPoll} (send and first
 * receipt poll in one batch), against a Hardhat node.
 */
@ExtendWith(LocalChainExtension.class)
class PreparedTransactionIT {

    @Test
    void sendsOnceAndReturnsTheReceiptInTheSameRoundTrip(LocalChain chain) {
        Setup s = setup(chain, 5, 6);
        long nonce = chain.client().pendingNonce(s.sender.address());
        PreparedTransaction prepared = chain.client().prepare(s.sender.credentials(), s.token.address(),
                transfer(s.receiver, 40), nonce);
        assertThat(prepared.nonce()).isEqualTo(nonce);
        assertThat(chain.client().receipt(prepared.txHash())).as("signing sends nothing").isEmpty();

        Broadcast first = chain.client().broadcastAndPoll(prepared);
        assertThat(first.outcome()).isEqualTo(BroadcastOutcome.ACCEPTED);
        // Hardhat runs the calls of a batch concurrently: the receipt usually comes along, and
        // when it does not, the next poll has it (the node mines on arrival).
        Optional<MinedReceipt> mined = first.receipt().or(() -> chain.client().receipt(prepared.txHash()));
        assertThat(mined).hasValueSatisfying(r -> {
            assertThat(r.succeeded()).isTrue();
            assertThat(r.txHash()).isEqualTo(prepared.txHash());
            assertThat(r.gasUsed()).isPositive();
        });

        Broadcast again = chain.client().broadcastAndPoll(prepared);
        assertThat(again.outcome()).isEqualTo(BroadcastOutcome.ALREADY_KNOWN);
        assertThat(again.receipt()).as("mined before the second send").isEqualTo(mined);
        assertThat(s.token.balanceOf(s.receiver)).isEqualTo(Amount.of(40));
        assertThat(chain.client().pendingNonce(s.sender.address())).isEqualTo(nonce + 1);
    }

    @Test
    void otherBytesAtAConsumedNonceAreReportedAndNeverMined(LocalChain chain) {
        Setup s = setup(chain, 7, 8);
        long nonce = chain.client().pendingNonce(s.sender.address());
        PreparedTransaction mined = chain.client().prepare(s.sender.credentials(), s.token.address(),
                transfer(s.receiver, 10), nonce);
        PreparedTransaction rival = chain.client().prepare(s.sender.credentials(), s.token.address(),
                transfer(s.receiver, 11), nonce);
        assertThat(chain.client().broadcastAndPoll(mined).outcome()).isEqualTo(BroadcastOutcome.ACCEPTED);

        Broadcast late = chain.client().broadcastAndPoll(rival);
        assertThat(late.outcome()).isEqualTo(BroadcastOutcome.NONCE_CONSUMED);
        assertThat(late.receipt()).isEmpty();
        assertThat(chain.client().receipt(rival.txHash())).isEmpty();
        assertThat(s.token.balanceOf(s.receiver)).isEqualTo(Amount.of(10));
    }

    @Test
    void aCallThatWouldRevertFailsAtPreparationWithItsDecodedError(LocalChain chain) {
        Setup s = setup(chain, 9, 10);
        long nonce = chain.client().pendingNonce(s.sender.address());
        assertThatThrownBy(() -> chain.client().prepare(s.sender.credentials(), s.token.address(),
                transfer(s.receiver, 1_000_001), nonce))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ERC20InsufficientBalance"));
        assertThat(chain.client().pendingNonce(s.sender.address())).as("nothing was sent").isEqualTo(nonce);
    }

    @Test
    void aLostAnswerToTheBatchIsRecoveredBySendingTheSameBytes(LocalChain chain) {
        Setup s = setup(chain, 11, 12);
        try (FaultyRpcProxy proxy = FaultyRpcProxy.start(chain.rpcUrl());
             ChainClient viaProxy = ChainClient.connect(ChainSettings.local(proxy.rpcUrl()), Duration.ofSeconds(10))) {
            long nonce = viaProxy.pendingNonce(s.sender.address());
            PreparedTransaction prepared = viaProxy.prepare(s.sender.credentials(), s.token.address(),
                    transfer(s.receiver, 25), nonce);

            proxy.loseResponseNext("eth_sendRawTransaction", 1);
            assertThatThrownBy(() -> viaProxy.broadcastAndPoll(prepared)).isInstanceOf(ChainException.class);
            assertThat(proxy.forwardedCount("eth_sendRawTransaction")).as("the node got the batch").isEqualTo(1);
            assertThat(proxy.forwardedCount("eth_getTransactionReceipt")).isEqualTo(1);

            Broadcast retried = viaProxy.broadcastAndPoll(prepared);
            assertThat(retried.outcome()).isEqualTo(BroadcastOutcome.ALREADY_KNOWN);
            assertThat(retried.receipt()).hasValueSatisfying(r -> assertThat(r.succeeded()).isTrue());

            proxy.failNext("eth_getTransactionReceipt", 1);
            assertThatThrownBy(() -> viaProxy.broadcastAndPoll(prepared))
                    .as("a fault armed for any call of a batch hits the whole batch")
                    .isInstanceOf(ChainException.class);
            assertThat(proxy.forwardedCount("eth_sendRawTransaction")).isEqualTo(2);
        }
        assertThat(s.token.balanceOf(s.receiver)).as("sent exactly once").isEqualTo(Amount.of(25));
    }

    @Test
    void anEip1559TransactionIsReplacedAtItsNonceWithOtherFeesAndTheSameCall(LocalChain chain) {
        Setup s = setup(chain, 15, 16);
        ChainClient client = chain.client();
        long nonce = client.pendingNonce(s.sender.address());
        FeeMarket market = client.feeMarket();
        assertThat(market.maxPriorityFeePerGas()).isPositive();
        GasFees fees = new GasFees(market.baseFeePerGas().shiftLeft(1).add(market.maxPriorityFeePerGas()),
                market.maxPriorityFeePerGas());
        PreparedTransaction first = client.prepare(s.sender.credentials(), s.token.address(), transfer(s.receiver, 30),
                nonce, fees);
        assertThat(first.rawTransactionHex()).as("type 2").startsWith("0x02");
        assertThat(first.fees()).isEqualTo(fees);

        GasFees raised = new GasFees(fees.maxFeePerGas().multiply(BigInteger.TWO),
                fees.maxPriorityFeePerGas().multiply(BigInteger.TWO));
        PreparedTransaction replacement = client.replace(s.sender.credentials(), first, raised);
        assertThat(replacement.nonce()).isEqualTo(nonce);
        assertThat(replacement.to()).isEqualTo(first.to());
        assertThat(replacement.fees()).isEqualTo(raised);
        assertThat(replacement.txHash()).isNotEqualTo(first.txHash());
        assertThat(client.receipt(replacement.txHash())).as("signing sends nothing").isEmpty();
        assertThatThrownBy(() -> client.replace(chain.account(LocalChain.ADMIN).credentials(), first, raised))
                .as("only the key that signed it replaces it").isInstanceOf(IllegalArgumentException.class);

        Broadcast sent = client.broadcastAndPoll(replacement);
        assertThat(sent.outcome()).isEqualTo(BroadcastOutcome.ACCEPTED);
        Optional<MinedReceipt> mined = sent.receipt().or(() -> client.receipt(replacement.txHash()));
        assertThat(mined).hasValueSatisfying(r -> assertThat(r.succeeded()).isTrue());
        assertThat(client.receipts(List.of(first.txHash(), replacement.txHash()))).as("one of the two is mined")
                .extracting(MinedReceipt::txHash).containsExactly(replacement.txHash());
        assertThat(client.broadcast(first)).isEqualTo(BroadcastOutcome.NONCE_CONSUMED);
        assertThat(client.minedNonce(s.sender.address())).isEqualTo(nonce + 1);
        assertThat(s.token.balanceOf(s.receiver)).as("the same call, once").isEqualTo(Amount.of(30));
    }

    private record Setup(Erc20Token token, Signer sender, Address receiver) {
    }

    /** A fresh token; {@code sender} holds 1,000,000 base units, {@code receiver} none. */
    private static Setup setup(LocalChain chain, int sender, int receiver) {
        Signer owner = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        Signer from = chain.account(sender);
        token.mint(owner, from.address(), Amount.of(1_000_000));
        return new Setup(token, from, chain.account(receiver).address());
    }

    private static String transfer(Address to, long amount) {
        return FunctionEncoder.encode(new Function("transfer",
                List.of(new org.web3j.abi.datatypes.Address(to.hex()), new Uint256(BigInteger.valueOf(amount))),
                List.of()));
    }
}
