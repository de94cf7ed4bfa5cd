package dev.agentescrow.batcher.indexer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.reconcile.ExpectedBalances;
import dev.agentescrow.batcher.reconcile.Mismatch;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The vault indexer against a real Hardhat node, with restarts, reorganisations and escape withdrawals. */
@ExtendWith(LocalChainExtension.class)
class VaultIndexerIT {
    private static final int CONFIRMATIONS = 2;

    /** Books each hold once, as the ledger does with its idempotency key; records what was posted and voided. */
    static final class RecordingSink implements VaultEventSink {
        final Map<CustodyHold, Boolean> held = new ConcurrentHashMap<>();
        final Map<CustodyEvent.Key, CustodyEvent> credited = new ConcurrentHashMap<>();
        final Map<CustodyEvent.Key, CustodyEvent> debited = new ConcurrentHashMap<>();
        final List<CustodyHold> voided = new CopyOnWriteArrayList<>();
        final List<LogPosition> order = new CopyOnWriteArrayList<>();

        private static CustodyHold identity(CustodyHold hold) {
            return hold.with(CustodyHold.State.PENDING);
        }

        @Override
        public Outcome hold(CustodyHold hold) {
            return held.putIfAbsent(identity(hold), true) == null ? Outcome.HELD : Outcome.ALREADY_BOOKED;
        }

        @Override
        public Outcome post(CustodyHold hold) {
            CustodyEvent event = hold.event();
            order.add(event.position());
            Map<CustodyEvent.Key, CustodyEvent> posted = event.kind() == CustodyEvent.Kind.DEPOSIT ? credited : debited;
            if (posted.putIfAbsent(event.key(), event) != null) {
                return Outcome.ALREADY_BOOKED;
            }
            return event.kind() == CustodyEvent.Kind.DEPOSIT ? Outcome.CREDITED : Outcome.DEBITED;
        }

        @Override
        public Outcome release(CustodyHold hold) {
            voided.add(hold);
            return held.remove(identity(hold)) != null ? Outcome.VOIDED : Outcome.ALREADY_BOOKED;
        }

        Map<Address, Amount> totals() {
            return credited.values().stream().collect(Collectors.toMap(CustodyEvent::account, CustodyEvent::amount,
                    Amount::plus));
        }
    }

    /** The indexer's state in memory, with the store's rule of one live hold per event. */
    static final class MemoryCheckpoints implements CheckpointStore {
        final Map<String, IndexerCheckpoint> saved = new ConcurrentHashMap<>();
        final List<CustodyHold> holds = new CopyOnWriteArrayList<>();

        @Override
        public Optional<IndexerCheckpoint> load(String stream) {
            return Optional.ofNullable(saved.get(stream));
        }

        @Override
        public void save(String stream, IndexerCheckpoint checkpoint) {
            saved.put(stream, checkpoint);
        }

        @Override
        public Optional<CustodyHold> liveHold(String stream, CustodyEvent.Key key) {
            return holds.stream().filter(h -> h.event().key().equals(key) && h.state().live()).findFirst();
        }

        @Override
        public int holdCount(String stream, CustodyEvent.Key key) {
            return (int) holds.stream().filter(h -> h.event().key().equals(key)).count();
        }

        @Override
        public synchronized void saveHold(String stream, CustodyHold hold) {
            Optional<CustodyHold> same = holds.stream().filter(h -> h.event().key().equals(hold.event().key())
                    && h.incarnation() == hold.incarnation()).findFirst();
            same.ifPresent(holds::remove);
            if (hold.state().live() && liveHold(stream, hold.event().key()).isPresent()) {
                throw new IllegalStateException("a second live hold of " + hold.event().key());
            }
            holds.add(hold);
        }

        @Override
        public List<CustodyHold> openHolds(String stream, long finalBlock) {
            return holds.stream().filter(h -> h.state() == CustodyHold.State.PENDING
                    || h.state() == CustodyHold.State.REJECTED && h.event().position().blockNumber() > finalBlock)
                    .toList();
        }
    }

    private record Setup(SettlementVaultGateway vault, Erc20Token token, long startBlock) {
    }

    private static Setup freshVault(LocalChain chain, int... depositors) {
        Signer admin = chain.account(LocalChain.ADMIN);
        long startBlock = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(LocalChain.OPERATOR).address(), Duration.ofDays(1));
        Erc20Token token = chain.deployment().token(chain.client());
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        for (int depositor : depositors) {
            token.mint(admin, chain.account(depositor).address(), Amount.of(1_000_000));
        }
        return new Setup(vault, token, startBlock);
    }

    private static VaultIndexer indexer(ChainClient client, Setup setup, CheckpointStore checkpoints, VaultEventSink sink) {
        return new VaultIndexer(client, new SettlementVaultGateway(client, setup.vault().address()),
                new ResilientRpc("indexer", RpcResilienceConfig.defaults()), checkpoints, sink,
                new IndexerSettings(CONFIRMATIONS, setup.startBlock(), 1_000));
    }

    private static void mine(LocalChain chain, int blocks) {
        for (int i = 0; i < blocks; i++) {
            chain.client().rawRequest("evm_mine", List.of());
        }
    }

    @Test
    void creditsEachConfirmedDepositExactlyOnceAcrossRestarts(LocalChain chain) {
        Setup setup = freshVault(chain, 14, 15);
        Signer alice = chain.account(14);
        Signer bob = chain.account(15);
        RecordingSink sink = new RecordingSink();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();

        setup.vault().deposit(alice, setup.token().address(), Amount.of(100));
        setup.vault().deposit(bob, setup.token().address(), Amount.of(250));
        setup.vault().deposit(alice, setup.token().address(), Amount.of(7));

        // The last deposit has no confirmations yet: it waits.
        var first = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(first.credited()).isEqualTo(2);
        assertThat(sink.totals()).containsEntry(alice.address(), Amount.of(100))
                .containsEntry(bob.address(), Amount.of(250));

        mine(chain, CONFIRMATIONS);
        IndexerCheckpoint beforeCrash = checkpoints.saved.get(VaultIndexer.STREAM);
        var second = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(second.credited()).isEqualTo(1);

        // A crash after crediting but before the checkpoint was saved: the blocks are scanned again.
        checkpoints.save(VaultIndexer.STREAM, new IndexerCheckpoint(setup.startBlock() - 1,
                chain.client().blockHash(setup.startBlock() - 1)));
        var replay = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(replay.credited()).isZero();
        assertThat(replay.alreadyBooked()).isEqualTo(3);
        assertThat(beforeCrash.blockNumber()).isLessThan(checkpoints.saved.get(VaultIndexer.STREAM).blockNumber());

        assertThat(sink.credited).hasSize(3);
        assertThat(sink.totals()).containsEntry(alice.address(), Amount.of(107))
                .containsEntry(bob.address(), Amount.of(250));
        assertThat(indexer(chain.client(), setup, checkpoints, sink).poll().scannedNothing()).isTrue();
    }

    @Test
    void escapeWithdrawalsAreDebitedOnceInChainOrderWithTheDeposits(LocalChain chain) {
        Setup setup = freshVault(chain, 14, 15);
        Signer alice = chain.account(14);
        Signer bob = chain.account(15);
        Address token = setup.token().address();
        RecordingSink sink = new RecordingSink();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();

        setup.vault().deposit(alice, token, Amount.of(100));
        setup.vault().deposit(bob, token, Amount.of(250));
        setup.vault().deposit(bob, token, Amount.of(5));
        // No batch for longer than the escape delay: the hatch opens and alice takes her balance out
        // (which freezes the vault: no deposit can follow).
        chain.increaseTime(Duration.ofDays(1).toSeconds() + 1);
        setup.vault().escapeWithdraw(alice, token);
        mine(chain, CONFIRMATIONS);

        var poll = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(poll.credited()).isEqualTo(3);
        assertThat(poll.debited()).isEqualTo(1);
        assertThat(poll.rejected()).isZero();
        assertThat(sink.debited.values()).singleElement().satisfies(escape -> {
            assertThat(escape.account()).isEqualTo(alice.address());
            assertThat(escape.token()).isEqualTo(token);
            assertThat(escape.amount()).isEqualTo(Amount.of(100));
        });
        assertThat(sink.order).as("booked in chain order").isSortedAccordingTo(LogPosition.CHAIN_ORDER);
        LogPosition escapePosition = sink.debited.values().iterator().next().position();
        assertThat(sink.order.indexOf(escapePosition)).isEqualTo(3);

        checkpoints.save(VaultIndexer.STREAM, new IndexerCheckpoint(setup.startBlock() - 1,
                chain.client().blockHash(setup.startBlock() - 1)));
        var replay = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(replay.alreadyBooked()).isEqualTo(4);
        assertThat(replay.credited() + replay.debited()).isZero();
        assertThat(sink.debited).hasSize(1);
        assertThat(setup.vault().settledBalance(token, alice.address())).isEqualTo(Amount.ZERO);
    }

    @Test
    void aDepositWaitingForItsConfirmationsIsInFlightForTheReconcilerNotAMismatch(LocalChain chain) {
        Setup setup = freshVault(chain, 16);
        Signer dora = chain.account(16);
        Address token = setup.token().address();
        RecordingSink sink = new RecordingSink();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        VaultIndexer indexer = indexer(chain.client(), setup, checkpoints, sink);
        ExpectedBalances booked = t -> sink.totals().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().baseUnits()));
        Reconciler plain = reconciler(chain, setup, booked);
        Reconciler withInFlight = reconciler(chain, setup, booked.plus(indexer::unbookedCustody));

        setup.vault().deposit(dora, token, Amount.of(300));
        mine(chain, CONFIRMATIONS);
        assertThat(indexer.poll().credited()).isEqualTo(1);
        long beforeDeposit = chain.client().blockNumber();
        setup.vault().deposit(dora, token, Amount.of(45));
        assertThat(indexer.poll().credited()).as("one confirmation short").isZero();

        assertThat(indexer.unbookedCustody(token)).containsExactly(Map.entry(dora.address(), BigInteger.valueOf(45)));
        // Asked up to a block before that deposit (the block a reconciliation's balance reads were
        // pinned to before it landed), none is unbooked: the vault's state there has none either.
        assertThat(indexer.unbookedCustody(token, beforeDeposit)).isEmpty();
        assertThat(indexer.checkpointBlock()).isLessThan(beforeDeposit + 1);
        assertThat(plain.reconcile(List.of(token)).mismatches()).containsExactly(
                new Mismatch.Account(token, dora.address(), BigInteger.valueOf(345), BigInteger.valueOf(300)));
        assertThat(withInFlight.reconcile(List.of(token)).mismatches()).isEmpty();

        mine(chain, CONFIRMATIONS);
        assertThat(indexer.poll().credited()).isEqualTo(1);
        assertThat(indexer.unbookedCustody(token)).isEmpty();
        assertThat(plain.reconcile(List.of(token)).mismatches()).isEmpty();
        assertThat(withInFlight.reconcile(List.of(token)).mismatches()).isEmpty();
    }

    private static Reconciler reconciler(LocalChain chain, Setup setup, ExpectedBalances expected) {
        return new Reconciler(chain.client(), setup.vault(), new ResilientRpc("reconciler",
                RpcResilienceConfig.defaults()), expected, setup.startBlock(), Clock.systemUTC(),
                new SimpleMeterRegistry());
    }

    @Test
    void aReorganisationShallowerThanTheConfirmationsNeverReachesTheLedger(LocalChain chain) {
        Setup setup = freshVault(chain, 16, 17);
        RecordingSink sink = new RecordingSink();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        indexer(chain.client(), setup, checkpoints, sink).poll();
        String snapshot = chain.client().rawRequest("evm_snapshot", List.of());

        // On the branch that will be dropped: a deposit that gets one confirmation only.
        try (ChainClient doomed = ChainClient.connect(ChainSettings.local(chain.rpcUrl()))) {
            new SettlementVaultGateway(doomed, setup.vault().address())
                    .deposit(doomed.signer(DevAccounts.account(16)), setup.token().address(), Amount.of(500));
        }
        var onDoomedBranch = indexer(chain.client(), setup, checkpoints, sink).poll();
        assertThat(onDoomedBranch.credited()).isZero();

        chain.client().rawRequest("evm_revert", List.of(snapshot));
        try (ChainClient canonical = ChainClient.connect(ChainSettings.local(chain.rpcUrl()))) {
            new SettlementVaultGateway(canonical, setup.vault().address())
                    .deposit(canonical.signer(DevAccounts.account(17)), setup.token().address(), Amount.of(42));
        }
        mine(chain, CONFIRMATIONS + 1);
        var afterReorg = indexer(chain.client(), setup, checkpoints, sink).poll();

        assertThat(afterReorg.credited()).isEqualTo(1);
        assertThat(sink.totals()).containsOnlyKeys(chain.account(17).address())
                .containsEntry(chain.account(17).address(), Amount.of(42));
        assertThat(setup.vault().settledBalance(setup.token().address(), chain.account(16).address()))
                .isEqualTo(Amount.ZERO);
    }

    @Test
    void aReorganisationDeeperThanTheConfirmationsStopsTheIndexer(LocalChain chain) {
        Setup setup = freshVault(chain, 18);
        RecordingSink sink = new RecordingSink();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        String snapshot = chain.client().rawRequest("evm_snapshot", List.of());
        mine(chain, CONFIRMATIONS + 3);
        indexer(chain.client(), setup, checkpoints, sink).poll();
        IndexerCheckpoint checkpoint = checkpoints.saved.get(VaultIndexer.STREAM);

        chain.client().rawRequest("evm_revert", List.of(snapshot));
        // Other timestamps than the dropped branch had, so that the replacement blocks differ.
        chain.increaseTime(3_600);
        mine(chain, CONFIRMATIONS + 5);

        assertThatThrownBy(() -> indexer(chain.client(), setup, checkpoints, sink).poll())
                .isInstanceOfSatisfying(ReorgDetectedException.class,
                        e -> assertThat(e.blockNumber()).isEqualTo(checkpoint.blockNumber()));
        assertThat(checkpoints.saved.get(VaultIndexer.STREAM)).isEqualTo(checkpoint);
    }
}
