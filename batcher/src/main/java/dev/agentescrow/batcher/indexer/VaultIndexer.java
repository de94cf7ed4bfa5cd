package dev.agentescrow.batcher.indexer;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.support.FailPoints;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.vault.EscapeWithdrawal;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.VaultDeposit;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Follows the vault's custody events, {@code Deposited} and {@code EscapeWithdrawn}, and hands
 * each confirmed one to the ledger, exactly once per (tx hash, log index): deposits are credited,
 * escape withdrawals (an account taking its settled balance out through the escape hatch) debited.
 *
 * <p>One {@link #poll()} scans from the block after the checkpoint up to the newest block with
 * {@code confirmations} blocks after it (at most {@code maxBlocksPerPoll} blocks), books the
 * events in chain order, and only then moves the checkpoint. A crash in between makes the next
 * poll scan the same blocks again; the sink's idempotency turns those replays into
 * {@link VaultEventSink.Outcome#ALREADY_BOOKED}. Before scanning, the checkpointed block's hash is
 * compared with the chain's: a mismatch is a reorganisation deeper than the confirmation depth,
 * and the indexer throws {@link ReorgDetectedException} rather than continue on a forked history.
 * An event the sink rejects (e.g. an unregistered token) is counted in the result and left to
 * the reconciler, which reports the difference between vault and ledger; the indexer moves on.
 * Not thread-safe: one indexer per stream, driven by one scheduler thread.
 */
public final class VaultIndexer {
    /** The checkpoint stream name (kept from when only deposits were followed). */
    public static final String STREAM = "vault-deposits";

    private final ChainClient client;
    private final SettlementVaultGateway vault;
    private final ResilientRpc rpc;
    private final CheckpointStore checkpoints;
    private final VaultEventSink sink;
    private final IndexerSettings settings;

    public VaultIndexer(ChainClient client, SettlementVaultGateway vault, ResilientRpc rpc,
                        CheckpointStore checkpoints, VaultEventSink sink, IndexerSettings settings) {
        this.client = Objects.requireNonNull(client, "client");
        this.vault = Objects.requireNonNull(vault, "vault");
        this.rpc = Objects.requireNonNull(rpc, "rpc");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * What one poll did. {@code toBlock < fromBlock} when no new confirmed block was there.
     *
     * @param credited deposits credited now
     * @param debited escape withdrawals debited now
     * @param alreadyBooked events booked by an earlier poll (replays)
     * @param rejected events the ledger refused
     */
    public record PollResult(long fromBlock, long toBlock, int credited, int debited, int alreadyBooked,
                             int rejected) {
        public boolean scannedNothing() {
            return toBlock < fromBlock;
        }
    }

    /** One custody event: a deposit or an escape withdrawal. */
    private record CustodyEvent(LogPosition position, VaultDeposit deposit, EscapeWithdrawal escape) {
        Address token() {
            return deposit != null ? deposit.token() : escape.token();
        }

        Address account() {
            return deposit != null ? deposit.account() : escape.account();
        }

        /** What the event adds to the account's custody: a deposit's amount, an escape's negated. */
        BigInteger signedAmount() {
            return deposit != null ? deposit.amount().baseUnits() : escape.amount().baseUnits().negate();
        }
    }

    /** The deposits and escape withdrawals in blocks {@code [fromBlock, toBlock]}, in chain order. */
    private List<CustodyEvent> custodyEvents(long fromBlock, long toBlock) {
        List<CustodyEvent> events = new ArrayList<>();
        for (VaultDeposit deposit : rpc.call(() -> vault.depositsBetween(fromBlock, toBlock))) {
            events.add(new CustodyEvent(deposit.position(), deposit, null));
        }
        for (EscapeWithdrawal escape : rpc.call(() -> vault.escapeWithdrawalsBetween(fromBlock, toBlock))) {
            events.add(new CustodyEvent(escape.position(), null, escape));
        }
        events.sort(Comparator.comparing(CustodyEvent::position, LogPosition.CHAIN_ORDER));
        return events;
    }

    /** Scans the next confirmed blocks once. */
    public PollResult poll() {
        Optional<IndexerCheckpoint> checkpoint = checkpoints.load(STREAM);
        checkpoint.ifPresent(this::requireStillOnChain);
        long fromBlock = checkpoint.map(c -> c.blockNumber() + 1).orElse(settings.startBlock());
        long confirmedHead = rpc.call(client::blockNumber) - settings.confirmations();
        long toBlock = Math.min(confirmedHead, fromBlock + settings.maxBlocksPerPoll() - 1);
        if (toBlock < fromBlock) {
            return new PollResult(fromBlock, toBlock, 0, 0, 0, 0);
        }
        // The hash is read first: if toBlock is replaced after this, the next poll sees the mismatch.
        Bytes32 toHash = rpc.call(() -> client.blockHash(toBlock));
        List<CustodyEvent> events = custodyEvents(fromBlock, toBlock);
        int credited = 0;
        int debited = 0;
        int alreadyBooked = 0;
        int rejected = 0;
        for (CustodyEvent event : events) {
            VaultEventSink.Outcome outcome = event.deposit() != null ? sink.credit(event.deposit())
                    : sink.debit(event.escape());
            switch (outcome) {
                case CREDITED -> credited++;
                case DEBITED -> debited++;
                case ALREADY_BOOKED -> alreadyBooked++;
                case REJECTED -> rejected++;
            }
            FailPoints.reached("indexer.mid-poll");
        }
        checkpoints.save(STREAM, new IndexerCheckpoint(toBlock, toHash));
        return new PollResult(fromBlock, toBlock, credited, debited, alreadyBooked, rejected);
    }

    /**
     * The net custody change per account of {@code token} events on chain that this indexer has
     * not booked yet (after its checkpoint, up to the chain's head, confirmed or not): deposits
     * add, escape withdrawals subtract. The reconciler adds them to what the ledger expects
     * ({@code ExpectedBalances.plus}), so that a deposit waiting for its confirmations is not
     * reported as a mismatch. An event that lands between this read and the reconciler's balance
     * reads still shows, once; the next run is clean.
     */
    public Map<Address, BigInteger> unbookedCustody(Address token) {
        long fromBlock = checkpoints.load(STREAM).map(c -> c.blockNumber() + 1).orElse(settings.startBlock());
        long head = rpc.call(client::blockNumber);
        Map<Address, BigInteger> unbooked = new HashMap<>();
        if (head < fromBlock) {
            return unbooked;
        }
        for (CustodyEvent event : custodyEvents(fromBlock, head)) {
            if (event.token().equals(token)) {
                unbooked.merge(event.account(), event.signedAmount(), BigInteger::add);
            }
        }
        return unbooked;
    }

    private void requireStillOnChain(IndexerCheckpoint checkpoint) {
        Bytes32 onChain = rpc.call(() -> client.blockHash(checkpoint.blockNumber()));
        if (!onChain.equals(checkpoint.blockHash())) {
            throw new ReorgDetectedException(checkpoint.blockNumber(), checkpoint.blockHash(), onChain);
        }
    }
}
