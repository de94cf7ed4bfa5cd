package dev.agentescrow.backend.escrow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.chainlog.ChainLogFollower;
import dev.agentescrow.backend.chainlog.ChainLogSettings;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.OwnChain;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.escrow.TaskId;
import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

/**
 * The TaskEscrow follower through a reorganisation, on a Hardhat node of its own (so that
 * {@code evm_snapshot}/{@code evm_revert} cannot disturb the service's chain) with the service's
 * PostgreSQL: an acceptance confirmed, its block dropped (the escrow goes back to OPEN, the history
 * entry goes, its published event is retracted), the same transaction mined again in the new chain
 * (FUNDED again, its event published anew) and every event published once per generation.
 */
class ChainEscrowReorgIT extends BackendITSupport {
    private static OwnChain own;
    private static ChainClient client;

    @Autowired
    DataSource dataSource;

    @Autowired
    EscrowStore escrows;

    @Autowired
    ChainEscrowStore chain;

    @Autowired
    AuditLog audit;

    @BeforeAll
    static void startOwnChain() {
        own = OwnChain.start();
        client = own.client();
    }

    @AfterAll
    static void stopOwnChain() {
        own.close();
    }

    @Test
    void a_dropped_acceptance_is_undone_retracted_and_published_again_once_mined_again() throws Exception {
        Signer owner = client.signer(DevAccounts.account(0));
        Erc20Token token = Erc20Token.deployTestToken(client, owner, "Test USD", "TUSD", 6);
        TaskEscrowGateway contract = TaskEscrowGateway.deploy(client, owner, owner.address(),
                client.signer(DevAccounts.account(2)).address(), BasisPoints.of(100));
        Credentials payerKey = Credentials.create(Keys.createEcKeyPair());
        Credentials payeeKey = Credentials.create(Keys.createEcKeyPair());
        for (Credentials key : List.of(payerKey, payeeKey)) {
            client.rawRequest("hardhat_setBalance", List.of(key.getAddress(), "0x56BC75E2D63100000"));
        }
        Address payer = Address.of(payerKey.getAddress());
        Address payee = Address.of(payeeKey.getAddress());
        token.mint(owner, payer, Amount.of(10_000));

        // The escrow as the service prepares it (PENDING_FUNDING), then funded by the payer on this chain.
        String id = "esc_" + UUID.randomUUID().toString().replace("-", "");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Escrow prepared = new Escrow(id, EscrowState.PENDING_FUNDING, payer, token.address(),
                Address.of(Credentials.create(Keys.createEcKeyPair()).getAddress()), null, now.plusSeconds(3600), 86_400,
                604_800, null, 100, 100, FallbackRule.REFUND_PAYER, false, "0x" + "00".repeat(32),
                BigInteger.valueOf(1_000), BigInteger.ZERO, BigInteger.ZERO, 1, now, now,
                List.of(new Escrow.Payee(0, payee, BigInteger.valueOf(1_000), BigInteger.ZERO, null)));
        Bytes32 taskId = new Bytes32(EscrowIds.taskId(id));
        Bytes32 onChainId = TaskEscrowGateway.escrowId(payer, TaskId.of(taskId));
        new org.springframework.transaction.support.TransactionTemplate(
                new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource)).executeWithoutResult(s -> {
                    assertThat(escrows.insertChain(prepared)).isTrue();
                    chain.insert(new ChainEscrowStore.ChainInfo(id, contract.address(), onChainId, taskId,
                            now.plusSeconds(3600)));
                });
        String follower = "it-escrow-" + Long.toHexString(System.nanoTime());
        ChainLogFollower follow = new ChainLogFollower(client, new ChainEscrowEvents(follower, contract, 0, chain, escrows,
                audit, Clock.systemUTC()), dataSource, Clock.systemUTC(), 0,
                new ChainLogSettings(Duration.ofSeconds(1), 1000, 64));
        contract.create(client.signer(payerKey), TaskId.of(taskId), ChainEscrows.terms(prepared));
        drain(follow);
        assertThat(escrows.find(id).orElseThrow().state()).isEqualTo(EscrowState.OPEN);

        String snapshot = client.rawRequest("evm_snapshot", List.of());
        PreparedTransaction accept = client.prepare(payeeKey, contract.address(), contract.encodeAccept(onChainId, 0),
                client.pendingNonce(payee));
        client.broadcastAndPoll(accept);
        drain(follow);
        assertThat(escrows.find(id).orElseThrow().state()).isEqualTo(EscrowState.FUNDED);
        long firstBlock = escrows.history(id).get(1).blockNumber();
        assertThat(published(id)).containsExactly("escrow.created", "escrow.accepted");

        // Drop the acceptance's block; the new chain mines an empty block, then the same transaction.
        assertThat(client.rawRequest("evm_revert", List.of(snapshot))).isEqualTo("true");
        client.rawRequest("evm_mine", List.of());
        client.rawRequest("evm_mine", List.of());
        assertThat(follow.poll().outcome()).isEqualTo(ChainLogFollower.Outcome.REWOUND);
        Escrow undone = escrows.find(id).orElseThrow();
        assertThat(undone.state()).isEqualTo(EscrowState.OPEN);
        assertThat(undone.payees().getFirst().accepted()).isFalse();
        assertThat(escrows.history(id)).extracting(EscrowStore.HistoryEntry::action).containsExactly(EscrowAction.CREATED);
        // The acceptance was published for a block deeper than the confirmations (0 here): it is retracted.
        assertThat(published(id)).containsExactly("escrow.created", "escrow.accepted", "escrow.retracted");
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        String acceptedEvent = jdbc.queryForObject("SELECT id::text FROM backend.events WHERE object_id = ?"
                + " AND type = 'escrow.accepted'", String.class, id);
        String retraction = jdbc.queryForObject("SELECT data FROM backend.events WHERE object_id = ?"
                + " AND type = 'escrow.retracted'", String.class, id);
        assertThat(retraction).contains(acceptedEvent).contains(accept.txHash().value()).contains("escrow.accepted");
        assertThat(follow.poll().outcome()).isNotEqualTo(ChainLogFollower.Outcome.REWOUND);
        assertThat(published(id)).containsExactly("escrow.created", "escrow.accepted", "escrow.retracted");

        client.broadcastAndPoll(accept);
        drain(follow);
        assertThat(escrows.find(id).orElseThrow().state()).isEqualTo(EscrowState.FUNDED);
        List<EscrowStore.HistoryEntry> history = escrows.history(id);
        assertThat(history).extracting(EscrowStore.HistoryEntry::action)
                .containsExactly(EscrowAction.CREATED, EscrowAction.ACCEPTED);
        assertThat(history.get(1).txHash()).isEqualTo(accept.txHash().value());
        assertThat(history.get(1).blockNumber()).isGreaterThan(firstBlock);
        // The acceptance mined again is a new event (after its retraction); nothing else is published twice.
        assertThat(published(id)).containsExactly("escrow.created", "escrow.accepted", "escrow.retracted",
                "escrow.accepted");
        drain(follow);
        assertThat(published(id)).hasSize(4);
    }

    private List<String> published(String id) {
        return new JdbcTemplate(dataSource).queryForList("SELECT type FROM backend.events WHERE object_id = ?"
                + " ORDER BY inserted", String.class, id);
    }

    private static void drain(ChainLogFollower follower) {
        for (int i = 0; i < 20; i++) {
            if (follower.poll().outcome() == ChainLogFollower.Outcome.UP_TO_DATE) {
                return;
            }
        }
        throw new AssertionError("the follower did not catch up");
    }
}
