package dev.agentescrow.backend.chainlog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.OwnChain;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import java.time.Clock;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

/**
 * The contract-log follower against a Hardhat node of its own (its reorganisations, made with
 * {@code evm_snapshot}/{@code evm_revert}, must not disturb the service's chain) and the service's
 * PostgreSQL: a handler that derives one row per ERC-20 Transfer log and "publishes" each once by
 * its key. Bounded ranges; a reorganisation undone (rows of dropped blocks gone) and the new chain's
 * logs applied, a transaction mined again in the new chain published once.
 */
class ChainLogFollowerIT extends BackendITSupport {
    static final String TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    private static OwnChain own;
    private static ChainClient client;

    @Autowired
    DataSource dataSource;

    @BeforeAll
    static void startOwnChain() {
        own = OwnChain.start();
        client = own.client();
    }

    @AfterAll
    static void stopOwnChain() {
        own.close();
    }

    /** Rows derived from Transfer logs (undone by block), and publications keyed by log (never undone). */
    static final class TransferRows implements ChainLogHandler {
        private final JdbcTemplate jdbc;
        private final Address token;
        private final String name;

        TransferRows(JdbcTemplate jdbc, Address token, String name) {
            this.jdbc = jdbc;
            this.token = token;
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Address contract() {
            return token;
        }

        @Override
        public List<String> topics() {
            return List.of(TRANSFER_TOPIC);
        }

        @Override
        public void apply(List<ChainLog> logs) {
            for (ChainLog log : logs) {
                jdbc.update("INSERT INTO backend.chainlog_it_rows (follower, log_key, block_number, amount)"
                                + " VALUES (?, ?, ?, ?)", name, log.key(), log.blockNumber(),
                        new java.math.BigDecimal(new BigInteger(log.log().getData().substring(2), 16)));
                jdbc.update("INSERT INTO backend.chainlog_it_published (follower, log_key) VALUES (?, ?)"
                        + " ON CONFLICT DO NOTHING", name, log.key());
            }
        }

        @Override
        public void undo(long fromBlock) {
            jdbc.update("DELETE FROM backend.chainlog_it_rows WHERE follower = ? AND block_number >= ?", name,
                    fromBlock);
        }
    }

    @Test
    void follows_in_bounded_ranges_and_undoes_a_reorganisation() {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        jdbc.execute("CREATE TABLE IF NOT EXISTS backend.chainlog_it_rows (follower VARCHAR(64), log_key VARCHAR(100),"
                + " block_number BIGINT, amount NUMERIC(78,0), UNIQUE (follower, log_key))");
        jdbc.execute("CREATE TABLE IF NOT EXISTS backend.chainlog_it_published (follower VARCHAR(64),"
                + " log_key VARCHAR(100), PRIMARY KEY (follower, log_key))");
        Signer owner = client.signer(DevAccounts.account(0));
        Erc20Token token = Erc20Token.deployTestToken(client, owner, "Test USD", "TUSD", 6);
        Credentials sender = Credentials.create(uncheckedKey());
        client.rawRequest("hardhat_setBalance", List.of(sender.getAddress(), "0x56BC75E2D63100000"));
        token.mint(owner, Address.of(sender.getAddress()), Amount.of(1_000_000));
        Address to = Address.of(Credentials.create(uncheckedKey()).getAddress());
        String name = "it-" + Long.toHexString(System.nanoTime());
        ChainLogFollower follower = new ChainLogFollower(client, new TransferRows(jdbc, token.address(), name),
                dataSource, Clock.systemUTC(), 0, new ChainLogSettings(java.time.Duration.ofSeconds(1), 3, 64));

        long nonce = client.pendingNonce(Address.of(sender.getAddress()));
        send(sender, token.address(), to, 1, nonce++);
        send(sender, token.address(), to, 2, nonce++);
        // Bounded ranges: three blocks per poll until up to date.
        drain(follower);
        assertThat(amounts(jdbc, name)).containsExactly(1_000_000L, 1L, 2L);
        long before = follower.cursorBlock();

        String snapshot = client.rawRequest("evm_snapshot", List.of());
        PreparedTransaction dropped = send(sender, token.address(), to, 3, nonce);
        send(sender, token.address(), to, 4, nonce + 1);
        drain(follower);
        assertThat(amounts(jdbc, name)).containsExactly(1_000_000L, 1L, 2L, 3L, 4L);
        assertThat(follower.cursorBlock()).isEqualTo(before + 2);

        // The two blocks are dropped; the new chain mines the first transaction again (same bytes) later,
        // after an empty block, and other transfers, and grows past the old head.
        assertThat(client.rawRequest("evm_revert", List.of(snapshot))).isEqualTo("true");
        client.rawRequest("evm_mine", List.of());
        client.broadcastAndPoll(dropped);
        send(sender, token.address(), to, 5, nonce + 1);
        send(sender, token.address(), to, 6, nonce + 2);

        ChainLogFollower.PollResult rewound = follower.poll();
        assertThat(rewound.outcome()).isEqualTo(ChainLogFollower.Outcome.REWOUND);
        assertThat(rewound.toBlock()).isEqualTo(before);
        assertThat(amounts(jdbc, name)).containsExactly(1_000_000L, 1L, 2L);
        drain(follower);
        assertThat(amounts(jdbc, name)).containsExactly(1_000_000L, 1L, 2L, 3L, 5L, 6L);
        assertThat(follower.cursorBlock()).isEqualTo(client.blockNumber());
        // Published: once per log key; the transaction mined again is the same key, the dropped 4 stays once.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.chainlog_it_published WHERE follower = ?",
                Long.class, name)).isEqualTo(7L);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.chainlog_it_published WHERE follower = ?"
                + " AND log_key LIKE ?", Long.class, name, dropped.txHash().value() + ":%")).isEqualTo(1L);
        assertThat(follower.poll().outcome()).isEqualTo(ChainLogFollower.Outcome.UP_TO_DATE);
    }

    private static void drain(ChainLogFollower follower) {
        for (int i = 0; i < 100; i++) {
            ChainLogFollower.PollResult result = follower.poll();
            if (result.outcome() == ChainLogFollower.Outcome.UP_TO_DATE) {
                return;
            }
            assertThat(result.toBlock() - result.fromBlock()).isLessThan(3);
        }
        throw new AssertionError("the follower did not catch up in 100 polls");
    }

    private static List<Long> amounts(JdbcTemplate jdbc, String name) {
        return jdbc.queryForList("SELECT amount FROM backend.chainlog_it_rows WHERE follower = ?"
                + " ORDER BY block_number, log_key", Long.class, name);
    }

    private static PreparedTransaction send(Credentials from, Address token, Address to, long amount, long nonce) {
        String data = FunctionEncoder.encode(new Function("transfer", List.of(
                new org.web3j.abi.datatypes.Address(to.hex()), new Uint256(amount)), List.of()));
        PreparedTransaction tx = client.prepare(from, token, data, nonce);
        client.broadcastAndPoll(tx);
        return tx;
    }

    private static org.web3j.crypto.ECKeyPair uncheckedKey() {
        try {
            return Keys.createEcKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
