package dev.agentescrow.backend.escrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.chainlog.ChainLogFollower;
import dev.agentescrow.backend.chainlog.ChainLogSettings;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.OwnChain;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.escrow.TaskId;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * Chain escrows never stuck, on a Hardhat node of the test's own (its clock is moved with
 * {@code evm_increaseTime}, which the shared chain's other tests must not see) with the service's
 * PostgreSQL: a pending escrow never funded expires once its deadline is confirmed (and the contract
 * then refuses to create it); with the parties offline the keeper refunds after the grace period and
 * applies the fallback after the arbitration deadline, once each, with its own key; a service send
 * whose nonce another sender of the same key used is signed again with a fresh nonce once, and not
 * when its call has become invalid.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChainEscrowKeeperIT extends BackendITSupport {
    private OwnChain own;
    private ChainClient client;
    private Erc20Token token;
    private TaskEscrowGateway contract;
    private ChainLogFollower follower;
    private ChainSends sends;
    private Credentials keeperKey;
    private ChainEscrowKeeper keeper;

    @Autowired
    DataSource dataSource;

    @Autowired
    EscrowStore escrows;

    @Autowired
    ChainEscrowStore chain;

    @Autowired
    AuditLog audit;

    @Autowired
    ChainEscrowSettings settings;

    private Signer owner;

    @BeforeAll
    void startOwnChain() throws Exception {
        own = OwnChain.start();
        client = own.client();
        // A fresh deployer: the contracts' addresses must not be the shared chain's (same dev keys, same nonces).
        owner = client.signer(funded());
        token = Erc20Token.deployTestToken(client, owner, "Test USD", "TUSD", 6);
        contract = TaskEscrowGateway.deploy(client, owner, owner.address(), owner.address(), BasisPoints.of(100));
        ChainEscrowEvents events = new ChainEscrowEvents("it-keeper-" + Long.toHexString(System.nanoTime()), contract,
                0, chain, escrows, audit, Clock.systemUTC());
        follower = new ChainLogFollower(client, events, dataSource, Clock.systemUTC(), 0,
                new ChainLogSettings(Duration.ofSeconds(1), 1000, 64));
        sends = new ChainSends(new JdbcTemplate(dataSource), client, Clock.systemUTC(), dataSource, settings);
        keeperKey = funded();
        keeper = new ChainEscrowKeeper(contract, client, sends, Optional.of(keeperKey), chain, escrows, events,
                follower::cursorBlock, audit, Clock.systemUTC(), Duration.ZERO, 50, dataSource);
    }

    @AfterAll
    void stopOwnChain() {
        own.close();
    }

    private Credentials funded() throws Exception {
        Credentials key = Credentials.create(Keys.createEcKeyPair());
        client.rawRequest("hardhat_setBalance", List.of(key.getAddress(), "0x56BC75E2D63100000"));
        return key;
    }

    private Instant chainNow() throws Exception {
        return Instant.ofEpochSecond(client.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send()
                .getBlock().getTimestamp().longValueExact());
    }

    private void travel(Duration by) {
        client.rawRequest("evm_increaseTime", List.of(by.toSeconds()));
        client.rawRequest("evm_mine", List.of());
    }

    private void drain() {
        for (int i = 0; i < 20; i++) {
            if (follower.poll().outcome() == ChainLogFollower.Outcome.UP_TO_DATE) {
                return;
            }
        }
        throw new AssertionError("the follower did not catch up");
    }

    /** A chain escrow as the service prepares it (PENDING_FUNDING) on this chain: payer -> payee, 1,000 units. */
    private record Prepared(String id, Escrow escrow, Bytes32 taskId, Bytes32 onChainId, Credentials payer,
                            Credentials payee) {
    }

    private Prepared prepare(Instant deadline, FallbackRule fallback) throws Exception {
        Credentials payerKey = funded();
        Credentials payeeKey = funded();
        Address payer = Address.of(payerKey.getAddress());
        token.mint(owner, payer, Amount.of(10_000));
        String id = "esc_" + UUID.randomUUID().toString().replace("-", "");
        Instant now = Instant.now();
        Escrow prepared = new Escrow(id, EscrowState.PENDING_FUNDING, payer, token.address(),
                Address.of(Credentials.create(Keys.createEcKeyPair()).getAddress()), null, deadline, 86_400, 604_800,
                null, 100, 100, fallback, false, "0x" + "00".repeat(32), BigInteger.valueOf(1_000), BigInteger.ZERO,
                BigInteger.ZERO, 1, now, now, List.of(new Escrow.Payee(0, Address.of(payeeKey.getAddress()),
                BigInteger.valueOf(1_000), BigInteger.ZERO, null)));
        Bytes32 taskId = new Bytes32(EscrowIds.taskId(id));
        Bytes32 onChainId = TaskEscrowGateway.escrowId(payer, TaskId.of(taskId));
        new TransactionTemplate(new DataSourceTransactionManager(dataSource)).executeWithoutResult(s -> {
            assertThat(escrows.insertChain(prepared)).isTrue();
            chain.insert(new ChainEscrowStore.ChainInfo(id, contract.address(), onChainId, taskId, deadline));
        });
        return new Prepared(id, prepared, taskId, onChainId, payerKey, payeeKey);
    }

    private List<String> published(String id) {
        return new JdbcTemplate(dataSource).queryForList("SELECT type FROM backend.events WHERE object_id = ?"
                + " ORDER BY inserted", String.class, id);
    }

    private BigInteger balance(Credentials who) {
        return token.balanceOf(Address.of(who.getAddress())).baseUnits();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void a_pending_escrow_never_funded_expires_once_its_deadline_is_confirmed() throws Exception {
        Instant deadline = chainNow().plusSeconds(600);
        Prepared p = prepare(deadline, FallbackRule.REFUND_PAYER);
        drain();
        assertThat(keeper.run().fundingExpired()).doesNotContain(p.id());
        assertThat(escrows.find(p.id()).orElseThrow().state()).isEqualTo(EscrowState.PENDING_FUNDING);

        travel(Duration.ofSeconds(601));
        // Not before the follower has confirmed a block past the deadline (a Created event could still be unread).
        assertThat(keeper.run().fundingExpired()).doesNotContain(p.id());
        drain();
        assertThat(keeper.run().fundingExpired()).containsExactly(p.id());
        Escrow expired = escrows.find(p.id()).orElseThrow();
        assertThat(expired.state()).isEqualTo(EscrowState.EXPIRED);
        assertThat(expired.held()).isZero();
        assertThat(escrows.history(p.id())).extracting(EscrowStore.HistoryEntry::action)
                .containsExactly(EscrowAction.FUNDING_EXPIRED);
        assertThat(published(p.id())).containsExactly("escrow.funding_expired");
        // Final: the contract refuses to create it now; a second run does nothing more.
        assertThatThrownBy(() -> contract.create(client.signer(p.payer()), TaskId.of(p.taskId()),
                ChainEscrows.terms(p.escrow()))).isInstanceOf(ContractRevertedException.class);
        assertThat(keeper.run().fundingExpired()).doesNotContain(p.id());
        drain();
        assertThat(published(p.id())).containsExactly("escrow.funding_expired");
        assertThat(balance(p.payer())).isEqualTo(BigInteger.valueOf(10_000));
    }

    @Test
    void with_the_parties_offline_the_keeper_refunds_after_the_grace_period_once() throws Exception {
        Prepared p = prepare(chainNow().plusSeconds(600), FallbackRule.REFUND_PAYER);
        contract.create(client.signer(p.payer()), TaskId.of(p.taskId()), ChainEscrows.terms(p.escrow()));
        drain();
        assertThat(escrows.find(p.id()).orElseThrow().state()).isEqualTo(EscrowState.OPEN);
        assertThat(balance(p.payer())).isEqualTo(BigInteger.valueOf(9_000));

        // After the deadline but within the grace period only the payer may refund: the keeper waits.
        travel(Duration.ofSeconds(601));
        assertThat(keeper.run().refunds()).isEmpty();
        assertThat(sends.find("keeper-refund:" + p.id())).isEmpty();

        travel(ChainEscrows.GRACE);
        List<ChainSends.Sent> refunds = keeper.run().refunds();
        assertThat(refunds).extracting(ChainSends.Sent::purpose).contains("keeper-refund:" + p.id());
        ChainSends.Sent sent = sends.find("keeper-refund:" + p.id()).orElseThrow();
        assertThat(sent.state()).isEqualTo(ChainSends.State.SUCCEEDED);
        assertThat(sent.signer()).isEqualTo(Address.of(keeperKey.getAddress()));
        drain();
        Escrow refunded = escrows.find(p.id()).orElseThrow();
        assertThat(refunded.state()).isEqualTo(EscrowState.EXPIRED);
        assertThat(escrows.history(p.id())).extracting(EscrowStore.HistoryEntry::action)
                .containsExactly(EscrowAction.CREATED, EscrowAction.REFUNDED);
        assertThat(balance(p.payer())).isEqualTo(BigInteger.valueOf(10_000));
        // Once: the next run neither sends nor signs again.
        assertThat(keeper.run().refunds()).extracting(ChainSends.Sent::purpose).doesNotContain("keeper-refund:" + p.id());
        assertThat(sends.find("keeper-refund:" + p.id()).orElseThrow().txHash()).isEqualTo(sent.txHash());
    }

    @Test
    void with_the_arbiter_offline_the_keeper_applies_the_fallback_after_the_arbitration_deadline_once() throws Exception {
        Prepared p = prepare(chainNow().plusSeconds(600), FallbackRule.PAY_PAYEES);
        contract.create(client.signer(p.payer()), TaskId.of(p.taskId()), ChainEscrows.terms(p.escrow()));
        contract.accept(client.signer(p.payee()), p.onChainId(), 0);
        contract.dispute(client.signer(p.payee()), p.onChainId());
        drain();
        assertThat(escrows.find(p.id()).orElseThrow().state()).isEqualTo(EscrowState.DISPUTED);
        assertThat(keeper.run().fallbacks()).extracting(ChainSends.Sent::purpose)
                .doesNotContain("keeper-fallback:" + p.id());

        travel(ChainEscrows.ARBITRATION.plusSeconds(1));
        keeper.run();
        ChainSends.Sent sent = sends.find("keeper-fallback:" + p.id()).orElseThrow();
        assertThat(sent.state()).isEqualTo(ChainSends.State.SUCCEEDED);
        drain();
        Escrow resolved = escrows.find(p.id()).orElseThrow();
        assertThat(resolved.state()).isEqualTo(EscrowState.RESOLVED);
        assertThat(escrows.history(p.id())).extracting(EscrowStore.HistoryEntry::action).containsExactly(
                EscrowAction.CREATED, EscrowAction.ACCEPTED, EscrowAction.DISPUTED, EscrowAction.FALLBACK_APPLIED);
        // PAY_PAYEES: the payee's share less the 1 % fee, the fee owed to the fee recipient.
        assertThat(balance(p.payee())).isEqualTo(BigInteger.valueOf(990));
        assertThat(resolved.feesPaid()).isEqualTo(BigInteger.TEN);
        keeper.run();
        assertThat(sends.find("keeper-fallback:" + p.id()).orElseThrow().txHash()).isEqualTo(sent.txHash());
    }

    @Test
    void a_send_whose_nonce_another_sender_used_is_signed_again_once_while_its_call_is_valid() throws Exception {
        Credentials key = funded();
        Address from = Address.of(key.getAddress());
        token.mint(owner, from, Amount.of(1_000));
        Address to = Address.of(Credentials.create(Keys.createEcKeyPair()).getAddress());
        String purpose = "it-nonce-lost:" + UUID.randomUUID();
        ChainSends.Sent stored = sends.sign(purpose, key, token.address(), transfer(to, 400));
        // Another sender of the same key takes that nonce before the service broadcasts.
        PreparedTransaction other = client.prepare(key, owner.address(), "0x", stored.nonce());
        client.broadcastAndPoll(other);

        ChainSends.Sent done = sends.complete(stored, key);
        assertThat(done.state()).isEqualTo(ChainSends.State.SUCCEEDED);
        assertThat(done.attempt()).isEqualTo(2);
        assertThat(done.nonce()).isGreaterThan(stored.nonce());
        assertThat(done.txHash()).isNotEqualTo(stored.txHash());
        assertThat(token.balanceOf(to).baseUnits()).isEqualTo(BigInteger.valueOf(400));
        assertThat(new JdbcTemplate(dataSource).queryForList("SELECT tx_hash FROM backend.chain_send_lost"
                + " WHERE purpose = ?", String.class, purpose)).containsExactly(stored.txHash().value());
        // Exactly once: completing or sending again answers the same transaction.
        assertThat(sends.complete(done, key).txHash()).isEqualTo(done.txHash());
        assertThat(sends.send(purpose, key, token.address(), transfer(to, 400)).txHash()).isEqualTo(done.txHash());
        assertThat(token.balanceOf(to).baseUnits()).isEqualTo(BigInteger.valueOf(400));

        // The intent gone: the other sender moved the tokens away, so the call would revert: not sent again.
        String gone = "it-nonce-gone:" + UUID.randomUUID();
        ChainSends.Sent stale = sends.sign(gone, key, token.address(), transfer(to, 600));
        PreparedTransaction drain = client.prepare(key, token.address(), transfer(owner.address(), 600), stale.nonce());
        client.broadcastAndPoll(drain);
        ChainSends.Sent lost = sends.complete(stale, key);
        assertThat(lost.state()).isEqualTo(ChainSends.State.NONCE_LOST);
        assertThat(lost.attempt()).isEqualTo(1);
        assertThat(token.balanceOf(to).baseUnits()).isEqualTo(BigInteger.valueOf(400));
    }

    private static String transfer(Address to, long amount) {
        return FunctionEncoder.encode(new Function("transfer", List.of(new org.web3j.abi.datatypes.Address(to.hex()),
                new Uint256(amount)), List.of()));
    }
}
