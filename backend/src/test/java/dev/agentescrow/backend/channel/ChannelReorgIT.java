package dev.agentescrow.backend.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.chainlog.ChainLog;
import dev.agentescrow.backend.chainlog.ChainLogFollower;
import dev.agentescrow.backend.chainlog.ChainLogHandler;
import dev.agentescrow.backend.chainlog.ChainLogSettings;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.ChannelState;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import dev.agentescrow.chain.local.HardhatNode;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

/**
 * The channel indexer under a reorganisation, on a Hardhat node of its own (its
 * {@code evm_snapshot}/{@code evm_revert} must not disturb the service's chain, whose vault indexer
 * refuses a reorganisation deeper than its confirmations) and the service's PostgreSQL: the
 * contract-log follower drives a {@link ChannelIndexer} for a PaymentChannels deployed there. An
 * indexed acceptance is undone with its block (its published event retracted), and applied again
 * when it is mined again (published anew).
 */
class ChannelReorgIT extends BackendITSupport {
    private static HardhatNode node;
    private static ChainClient client;

    @Autowired
    DataSource dataSource;
    @Autowired
    ChannelStore store;
    @Autowired
    EventPublisher events;
    @Autowired
    ChannelSettings settings;
    @Autowired
    ChainLogSettings chainLogSettings;

    @BeforeAll
    static void startOwnChain() {
        node = HardhatNode.start(HardhatNode.locateContractsDir());
        client = ChainClient.connect(ChainSettings.local(node.rpcUrl()));
    }

    @AfterAll
    static void stopOwnChain() {
        client.close();
        node.close();
    }

    private static Credentials funded(ChainClient on) throws Exception {
        Credentials key = Credentials.create(Keys.createEcKeyPair());
        on.rawRequest("hardhat_setBalance", List.of(key.getAddress(), "0x56BC75E2D63100000"));
        return key;
    }

    private static void catchUp(ChainLogFollower follower) {
        for (int i = 0; i < 20; i++) {
            if (follower.poll().outcome() == ChainLogFollower.Outcome.UP_TO_DATE) {
                return;
            }
        }
        throw new AssertionError("the follower did not catch up in 20 polls");
    }

    @Test
    void an_indexed_event_dropped_by_a_reorganisation_is_undone_and_applied_again_when_mined_again() throws Exception {
        Credentials deployer = funded(client);
        Credentials a = funded(client);
        Credentials b = funded(client);
        PaymentChannelsGateway gateway = PaymentChannelsGateway.deploy(client, client.signer(deployer),
                Duration.ofMinutes(10));
        ChannelIndexer indexer = new ChannelIndexer(store, events, gateway, settings);
        ChainLogHandler handler = new ChainLogHandler() {
            @Override
            public String name() {
                return "channels-reorg-it";
            }

            @Override
            public Address contract() {
                return gateway.address();
            }

            @Override
            public void apply(List<ChainLog> logs) {
                indexer.apply(logs);
            }

            @Override
            public void undo(long fromBlock) {
                indexer.undo(fromBlock);
            }
        };
        ChainLogFollower follower = new ChainLogFollower(client, handler, dataSource, Clock.systemUTC(), 0,
                chainLogSettings);
        // a deposit of 0 moves no token, so any token address does
        Erc20Token token = new Erc20Token(client, Address.of("0x" + "77".repeat(20)));
        Bytes32 id = gateway.open(client.signer(a), Address.of(b.getAddress()), token, Amount.ZERO,
                Duration.ofMinutes(10)).channelId();
        catchUp(follower);
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(ChannelState.PENDING);

        String snapshot = client.rawRequest("evm_snapshot", List.of()).replace("\"", "");
        gateway.accept(client.signer(b), id, Amount.ZERO);
        catchUp(follower);
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(ChannelState.OPEN);
        assertThat(store.find(id).orElseThrow().keyB()).isEqualTo(Address.of(b.getAddress()));

        assertThat(published(id)).containsExactly("channel.opened", "channel.accepted");
        String acceptedEvent = eventId(id, "channel.accepted");

        client.rawRequest("evm_revert", List.of(snapshot));
        client.rawRequest("evm_mine", List.of());
        client.rawRequest("evm_mine", List.of());
        catchUp(follower);
        assertThat(store.find(id).orElseThrow().state()).as("the acceptance went with its block")
                .isEqualTo(ChannelState.PENDING);
        assertThat(store.events(id)).hasSize(1).allMatch(e -> e instanceof ChannelEvent.Opened);
        // Published for a block deeper than the confirmations (0 here): retracted once, naming the event.
        assertThat(published(id)).containsExactly("channel.opened", "channel.accepted", "channel.retracted");
        assertThat(new org.springframework.jdbc.core.JdbcTemplate(dataSource).queryForObject(
                "SELECT data FROM backend.events WHERE object_id = ? AND type = 'channel.retracted'", String.class,
                id.hex())).contains(acceptedEvent).contains("channel.accepted");

        // the acceptance mined again in the new chain (a fresh connection: the old signer's nonce is past the revert)
        try (ChainClient again = ChainClient.connect(ChainSettings.local(node.rpcUrl()))) {
            new PaymentChannelsGateway(again, gateway.address()).accept(again.signer(b), id, Amount.ZERO);
        }
        catchUp(follower);
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(ChannelState.OPEN);
        assertThat(store.events(id)).hasSize(2);
        // The acceptance mined again is a new event; nothing is retracted or published twice.
        assertThat(published(id)).containsExactly("channel.opened", "channel.accepted", "channel.retracted",
                "channel.accepted");
        catchUp(follower);
        assertThat(published(id)).hasSize(4);
    }

    private List<String> published(Bytes32 id) {
        return new org.springframework.jdbc.core.JdbcTemplate(dataSource).queryForList("SELECT type FROM backend.events"
                + " WHERE object_id = ? ORDER BY inserted", String.class, id.hex());
    }

    private String eventId(Bytes32 id, String type) {
        return new org.springframework.jdbc.core.JdbcTemplate(dataSource).queryForObject("SELECT id::text FROM"
                + " backend.events WHERE object_id = ? AND type = ?", String.class, id.hex(), type);
    }
}
