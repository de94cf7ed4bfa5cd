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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the vault's custody events, {@code Deposited} and {@code EscapeWithdrawn}, and books each
 * in the ledger in two phases (issue 10, F8): a hold (pending transfer) once its block has
 * {@code confirmations} blocks after it, posted once it has {@code depth}, voided if the block that
 * held it leaves the canonical chain first. A deposit's hold is the user's incoming, spendable only
 * once posted; an escape's hold freezes the account's funds at once.
 *
 * <p>One {@link #poll()}:
 * <ol>
 *   <li>checks that the checkpoint (the last final block) is still on the chain; if not, the
 *       reorganisation is deeper than {@code depth}, and it throws {@link ReorgDetectedException}
 *       without booking anything;</li>
 *   <li>voids every open hold whose block hash is no longer the chain's at its height (or whose
 *       block is gone);</li>
 *   <li>scans the blocks after the checkpoint up to the newest with {@code confirmations} blocks
 *       after it (at most {@code maxBlocksPerPoll}), holds each event not held yet and posts those
 *       whose block has {@code depth} blocks after it;</li>
 *   <li>moves the checkpoint to the last posted block (its hash read before the scan).</li>
 * </ol>
 * Rules that make every event count once: an event's identity is its {@link CustodyEvent#key()}
 * (transaction hash and ordinal in the transaction), the same in any block the transaction is mined
 * in; each booking of it is a {@link CustodyHold} stored before the ledger sees it, at most one live
 * per key (the store refuses a second); a hold is posted only when its own block is on the chain at
 * the depth, and an event from another block than its live hold's waits until that hold is voided.
 * So a deposit whose transaction is mined again after a reorganisation is held again under a fresh
 * hold id (the next incarnation) and credited once, and none is lost: every canonical event above
 * the checkpoint is rescanned by every poll until it is posted. A crash anywhere is completed by the
 * next poll, every step being idempotent. Not thread-safe: one indexer per stream, driven by one
 * scheduler thread.
 */
public final class VaultIndexer {
    private static final Logger log = LoggerFactory.getLogger(VaultIndexer.class);
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
     * What one poll did. {@code toBlock < fromBlock} when no new block had the hold confirmations.
     *
     * @param held holds booked now and not posted yet (pending: a deposit is the user's incoming)
     * @param credited deposits posted now (spendable)
     * @param debited escape withdrawals posted now
     * @param voided holds voided now because their block left the chain
     * @param alreadyBooked events booked by an earlier poll, nothing changed (replays, holds waiting)
     * @param rejected events the ledger refused (now, or before and scanned again)
     */
    public record PollResult(long fromBlock, long toBlock, int held, int credited, int debited, int voided,
                             int alreadyBooked, int rejected) {
        public boolean scannedNothing() {
            return toBlock < fromBlock;
        }
    }

    private static final class Counts {
        int held;
        int credited;
        int debited;
        int voided;
        int alreadyBooked;
        int rejected;

        PollResult result(long fromBlock, long toBlock) {
            return new PollResult(fromBlock, toBlock, held, credited, debited, voided, alreadyBooked, rejected);
        }
    }

    /** The deposits and escape withdrawals in blocks {@code [fromBlock, toBlock]}, in chain order, with their ordinals. */
    private List<CustodyEvent> custodyEvents(long fromBlock, long toBlock) {
        List<CustodyEvent> read = new ArrayList<>();
        for (VaultDeposit deposit : rpc.call(() -> vault.depositsBetween(fromBlock, toBlock))) {
            read.add(new CustodyEvent(CustodyEvent.Kind.DEPOSIT, deposit.token(), deposit.account(), deposit.amount(),
                    deposit.position(), 0));
        }
        for (EscapeWithdrawal escape : rpc.call(() -> vault.escapeWithdrawalsBetween(fromBlock, toBlock))) {
            read.add(new CustodyEvent(CustodyEvent.Kind.ESCAPE, escape.token(), escape.account(), escape.amount(),
                    escape.position(), 0));
        }
        read.sort(Comparator.comparing(CustodyEvent::position, LogPosition.CHAIN_ORDER));
        // All logs of a transaction are in one block, and the range holds whole blocks: the ordinals are complete.
        Map<CustodyEvent.Key, Integer> seen = new HashMap<>();
        List<CustodyEvent> events = new ArrayList<>(read.size());
        for (CustodyEvent event : read) {
            int ordinal = seen.merge(event.key(), 1, Integer::sum) - 1;
            events.add(new CustodyEvent(event.kind(), event.token(), event.account(), event.amount(),
                    event.position(), ordinal));
        }
        return events;
    }

    /**
     * The last block whose custody events the ledger holds as final (the checkpoint), -1 before
     * the first poll: a reconciliation that sees it move while it runs compared the chain with a
     * ledger that changed under it.
     */
    public long checkpointBlock() {
        return checkpoints.load(STREAM).map(IndexerCheckpoint::blockNumber).orElse(-1L);
    }

    /** Voids the lost holds, then holds and posts the next blocks' events once. */
    public PollResult poll() {
        Optional<IndexerCheckpoint> checkpoint = checkpoints.load(STREAM);
        checkpoint.ifPresent(this::requireStillOnChain);
        long finalBlock = checkpoint.map(IndexerCheckpoint::blockNumber).orElse(settings.startBlock() - 1);
        long head = rpc.call(client::blockNumber);
        Counts counts = new Counts();
        voidLostHolds(finalBlock, head, counts);
        long fromBlock = finalBlock + 1;
        long toBlock = Math.min(head - settings.confirmations(), finalBlock + settings.maxBlocksPerPoll());
        if (toBlock < fromBlock) {
            return counts.result(fromBlock, toBlock);
        }
        long postUpTo = Math.min(head - settings.depth(), toBlock);
        // The hash is read first: if that block is replaced after this, the next poll sees the mismatch.
        Bytes32 postHash = postUpTo >= fromBlock ? rpc.call(() -> client.blockHash(postUpTo)) : null;
        boolean complete = true;
        for (CustodyEvent event : custodyEvents(fromBlock, toBlock)) {
            complete &= book(event, event.position().blockNumber() <= postUpTo, counts);
            FailPoints.reached("indexer.mid-poll");
        }
        if (postHash != null && complete) {
            checkpoints.save(STREAM, new IndexerCheckpoint(postUpTo, postHash));
        }
        return counts.result(fromBlock, toBlock);
    }

    /** Holds {@code event} (once per key) and, when {@code due}, posts it; false if it must wait for the next poll. */
    private boolean book(CustodyEvent event, boolean due, Counts counts) {
        Optional<CustodyHold> live = checkpoints.liveHold(STREAM, event.key());
        CustodyHold hold;
        if (live.isPresent()) {
            hold = live.get();
            if (!hold.event().position().blockHash().equals(event.position().blockHash())) {
                // Held from another block that was still the chain's when the holds were checked: the
                // chain changed during this poll. The next poll voids the hold whose block is gone.
                log.warn("custody event {} seen in block {} while its hold is from block {}; waiting for the chain "
                        + "to settle", event.key(), event.position().blockHash(), hold.event().position().blockHash());
                return !due;
            }
        } else {
            hold = new CustodyHold(event, checkpoints.holdCount(STREAM, event.key()), CustodyHold.State.PENDING);
            checkpoints.saveHold(STREAM, hold);
        }
        switch (hold.state()) {
            case POSTED -> {
                counts.alreadyBooked++;
                return true;
            }
            case REJECTED -> {
                // Refused once, refused for good: counted each time a scan passes it, never retried.
                counts.rejected++;
                return true;
            }
            case VOIDED -> throw new IllegalStateException("a live hold is never voided: " + hold);
            case PENDING -> {
                // booked below
            }
        }
        VaultEventSink.Outcome held = sink.hold(hold);
        if (held == VaultEventSink.Outcome.REJECTED) {
            checkpoints.saveHold(STREAM, hold.with(CustodyHold.State.REJECTED));
            counts.rejected++;
            return true;
        }
        if (!due) {
            if (held == VaultEventSink.Outcome.HELD) {
                counts.held++;
            } else {
                counts.alreadyBooked++;
            }
            return true;
        }
        VaultEventSink.Outcome posted = sink.post(hold);
        checkpoints.saveHold(STREAM, hold.with(CustodyHold.State.POSTED));
        switch (posted) {
            case CREDITED -> counts.credited++;
            case DEBITED -> counts.debited++;
            case ALREADY_BOOKED -> counts.alreadyBooked++;
            default -> throw new IllegalStateException("posting " + hold + " answered " + posted);
        }
        return true;
    }

    /** Voids every open hold whose block is no longer the chain's block at its height. */
    private void voidLostHolds(long finalBlock, long head, Counts counts) {
        Map<Long, Bytes32> canonical = new HashMap<>();
        for (CustodyHold hold : checkpoints.openHolds(STREAM, finalBlock)) {
            LogPosition position = hold.event().position();
            long number = position.blockNumber();
            Bytes32 onChain = number > head ? null
                    : canonical.computeIfAbsent(number, n -> rpc.call(() -> client.blockHash(n)));
            if (position.blockHash().equals(onChain)) {
                continue;
            }
            if (hold.state() == CustodyHold.State.PENDING
                    && sink.release(hold) == VaultEventSink.Outcome.VOIDED) {
                counts.voided++;
            }
            checkpoints.saveHold(STREAM, hold.with(CustodyHold.State.VOIDED));
            log.info("custody event {} of block {} ({}) left the chain: its hold is void", hold.event().key(),
                    number, position.blockHash());
        }
    }

    /**
     * The net custody change per account of {@code token} events on chain that the ledger does not
     * hold as final yet (after the indexer's checkpoint, up to the chain's head, confirmed or not, held
     * or not, and not refused): deposits add, escape withdrawals subtract. The reconciler adds them to
     * what the ledger expects ({@code ExpectedBalances.plus}), so that a deposit waiting for its
     * confirmations, or held and waiting for its depth, is not reported as a mismatch, while one the
     * ledger refused is. The reconciler asks {@linkplain #unbookedCustody(Address, long) up to the
     * block its balance reads are pinned to}.
     */
    public Map<Address, BigInteger> unbookedCustody(Address token) {
        return unbookedCustody(token, rpc.call(client::blockNumber));
    }

    /**
     * {@link #unbookedCustody(Address)} of the events up to {@code upToBlock} only: what the vault's
     * state at that block holds beyond the ledger's final custody. An event of a later block would
     * be counted against balances read before it (once, as a mismatch: F6's false alarm).
     */
    public Map<Address, BigInteger> unbookedCustody(Address token, long upToBlock) {
        long fromBlock = checkpoints.load(STREAM).map(c -> c.blockNumber() + 1).orElse(settings.startBlock());
        Map<Address, BigInteger> unbooked = new HashMap<>();
        if (upToBlock < fromBlock) {
            return unbooked;
        }
        for (CustodyEvent event : custodyEvents(fromBlock, upToBlock)) {
            if (!event.token().equals(token)) {
                continue;
            }
            boolean settledInLedger = checkpoints.liveHold(STREAM, event.key())
                    .filter(hold -> hold.event().position().blockHash().equals(event.position().blockHash()))
                    .filter(hold -> hold.state() == CustodyHold.State.POSTED
                            || hold.state() == CustodyHold.State.REJECTED)
                    .isPresent();
            if (!settledInLedger) {
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
