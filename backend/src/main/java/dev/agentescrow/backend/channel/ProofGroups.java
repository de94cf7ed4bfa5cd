package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.ApiSteps;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.ChannelState;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;

/**
 * The writer of balance proofs: one lane per channel on this instance. A proof's request verifies
 * its signature on its own thread (the recovered key, in parallel), then queues the proof on its
 * channel's lane; the lane's writer (the request itself if the lane was idle, else the lane's
 * thread: see {@link #store}) writes the proofs that queued while its previous group was
 * committing as one group, in one transaction: the channel's row locked ({@link ChannelStore#lockForProofs}), each
 * proof checked in nonce order (they were all in flight at once: any order is one the requests could
 * have had) against the state as the proofs before it in the group leave it
 * (state, key, deposit bound, newer or a replay or stale, exactly as one at a time), then one
 * statement writes every accepted proof's receipt (its digest) and the newest proof of each
 * direction (only the newest: the ones it overtook in the group are receipts only), the first
 * proof's registration, and one commit. Only after the commit does any request of the
 * group get its answer; a group whose transaction fails answers all its requests that nothing was
 * stored. The row lock keeps groups of several instances (and the indexer's folds) in turn; the
 * grouping is this instance's way to share one commit's flush among many proofs.
 *
 * <p>Bounded: at most {@code queueCapacity} proofs wait per channel and {@code 8 x queueCapacity}
 * on the instance; beyond that a proof is refused at once (503 {@code CHANNEL_PROOFS_BUSY}).
 */
@Component
public class ProofGroups {
    private static final Logger log = LoggerFactory.getLogger(ProofGroups.class);

    /** What a request brings to the lane: the proof as signed and the key its signature recovers (null: none). */
    record Pending(Bytes32 channelId, Address caller, BigInteger nonce, BigInteger transferred, String signature,
                   Bytes32 digest, Address recovered, CompletableFuture<Channels.ProofResult> answer) {
    }

    /** Thrown when the queue of a channel (or of the instance) is full. */
    static final class Busy extends RuntimeException {
        Busy(String message) {
            super(message, null, false, false);
        }
    }

    private static final Channels.ProofResult NOT_STORED = Channels.ProofResult.refused(503,
            "CHANNEL_PROOFS_NOT_STORED", "the write of the proof's group failed (rolled back, or its commit's outcome"
                    + " unknown): send the proof again (a stored one answers 200, replayed)");

    private final ChannelStore store;
    private final AuditLog audit;
    private final Clock clock;
    private final PlatformTransactionManager transactions;
    private final int queueCapacity;
    private final int groupMax;
    private final int instanceCapacity;
    private final ConcurrentHashMap<Bytes32, Lane> lanes = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final DistributionSummary groupSizes;
    private final Timer groupWrites;
    private final Timer groupReads;
    private final Timer groupStatements;
    private final Timer commits;

    public ProofGroups(ChannelStore store, AuditLog audit, Clock clock, DataSource dataSource,
                       ChannelSettings settings, MeterRegistry registry) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.transactions = new DataSourceTransactionManager(dataSource);
        this.queueCapacity = Math.max(1, settings.proofQueueCapacity());
        this.groupMax = Math.max(1, settings.proofGroupMax());
        this.instanceCapacity = 8 * queueCapacity;
        this.groupSizes = DistributionSummary.builder("agentescrow.channel.proof.group.size")
                .description("balance proofs written per group commit").register(registry);
        this.groupWrites = ApiSteps.timer(registry, "proof-group");
        this.groupReads = ApiSteps.timer(registry, "proof-group-read");
        this.groupStatements = ApiSteps.timer(registry, "proof-group-write");
        this.commits = ApiSteps.timer(registry, "proof-group-commit");
        registry.gauge("agentescrow.channel.proof.queued", waiting);
    }

    /**
     * Stores {@code batch} (one request's proofs, all of one channel) with the proofs of its channel
     * that wait with it, and answers them, in the batch's order, after their groups' commits. The
     * batch joins its lane in nonce order and all at once, so its proofs are written in one group or
     * in consecutive ones. A batch that finds its channel's lane idle (no writer, nothing waiting) is
     * written at once on the caller's thread (groups of at most {@code groupMax}): no hand-off to
     * another thread. Else it queues, and the lane's writer (a virtual thread, started by the request
     * that wrote alone when proofs had queued behind it, gone when the queue is empty) takes it into
     * its next groups. A lane has one writer at a time, so the groups of a channel on this instance
     * take their turns.
     *
     * @throws Busy the channel's (or the instance's) queue has no room for the whole batch: nothing queued
     * @throws TimeoutException not all answered within {@code timeoutNanos} (the proofs stay queued and may yet be written)
     */
    List<Channels.ProofResult> store(List<Pending> batch, long timeoutNanos)
            throws TimeoutException, InterruptedException {
        List<Pending> ordered = batch.size() == 1 ? batch
                : batch.stream().sorted(java.util.Comparator.comparing(Pending::nonce)).toList();
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            Lane lane = lanes.computeIfAbsent(ordered.getFirst().channelId(), Lane::new);
            boolean writer = false;
            lane.lock.lock();
            try {
                if (lane.retired) {
                    continue;
                }
                if (!lane.running) {
                    // an idle lane's queue is empty (a writer stops only once it is): written at once, by the caller
                    lane.running = true;
                    writer = true;
                } else {
                    if (lane.queue.size() + ordered.size() > queueCapacity) {
                        throw new Busy(queueCapacity + " proofs of this channel are waiting to be written");
                    }
                    if (waiting.addAndGet(ordered.size()) > instanceCapacity) {
                        waiting.addAndGet(-ordered.size());
                        throw new Busy(instanceCapacity + " proofs are waiting to be written on this instance");
                    }
                    lane.queue.addAll(ordered);
                }
            } finally {
                lane.lock.unlock();
            }
            if (writer) {
                lane.writeOwn(ordered);
            }
            List<Channels.ProofResult> answers = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                try {
                    answers.add(p.answer().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (ExecutionException e) {
                    throw new IllegalStateException("writing the proof's group failed", e.getCause());
                }
            }
            return answers;
        }
    }

    /** One channel's queue and its single writer (the request writing alone, or a virtual thread; none while idle). */
    private final class Lane {
        private final Bytes32 channelId;
        private final ReentrantLock lock = new ReentrantLock();
        private final ArrayDeque<Pending> queue = new ArrayDeque<>();
        private boolean running;
        private boolean retired;

        Lane(Bytes32 channelId) {
            this.channelId = channelId;
        }

        /**
         * The caller is the lane's writer for its own proofs (in groups of at most {@code groupMax},
         * each answered after its commit); the proofs that queued meanwhile go to a writer thread of
         * the lane (the caller's answer does not wait for them).
         */
        void writeOwn(List<Pending> own) {
            try {
                for (int from = 0; from < own.size(); from += groupMax) {
                    List<Pending> group = own.subList(from, Math.min(own.size(), from + groupMax));
                    answer(group, write(channelId, group));
                }
            } catch (Error e) {
                own.forEach(p -> p.answer().complete(NOT_STORED));
                abandon();
                throw e;
            }
            lock.lock();
            try {
                if (queue.isEmpty()) {
                    running = false;
                    retired = true;
                    lanes.remove(channelId, this);
                } else {
                    Thread.ofVirtual().name("channel-proofs-" + channelId.hex().substring(2, 10)).start(this::drain);
                }
            } finally {
                lock.unlock();
            }
        }

        /** Writes the queued proofs group after group until the queue is empty; then the lane retires. */
        void drain() {
            while (true) {
                List<Pending> group = new ArrayList<>();
                lock.lock();
                try {
                    while (!queue.isEmpty() && group.size() < groupMax) {
                        group.add(queue.poll());
                    }
                    if (group.isEmpty()) {
                        running = false;
                        retired = true;
                        lanes.remove(channelId, this);
                        return;
                    }
                } finally {
                    lock.unlock();
                }
                waiting.addAndGet(-group.size());
                List<Channels.ProofResult> results;
                try {
                    results = write(channelId, group);
                } catch (Error e) {
                    group.forEach(p -> p.answer().completeExceptionally(e));
                    abandon();
                    throw e;
                }
                answer(group, results);
            }
        }

        private static void answer(List<Pending> group, List<Channels.ProofResult> results) {
            for (int i = 0; i < group.size(); i++) {
                group.get(i).answer().complete(results.get(i));
            }
        }

        /** After an error that ended the writer: the lane is retired and what still waits is answered "not stored". */
        private void abandon() {
            List<Pending> left = new ArrayList<>();
            lock.lock();
            try {
                running = false;
                retired = true;
                lanes.remove(channelId, this);
                left.addAll(queue);
                queue.clear();
            } finally {
                lock.unlock();
            }
            waiting.addAndGet(-left.size());
            left.forEach(p -> p.answer().complete(NOT_STORED));
        }
    }

    /** Writes one group in one transaction: its answers, in its order (all "not stored" if the transaction failed). */
    private List<Channels.ProofResult> write(Bytes32 channelId, List<Pending> group) {
        List<Channels.ProofResult> results;
        long start = System.nanoTime();
        try {
            results = inTransaction(channelId, group);
        } catch (RuntimeException e) {
            log.warn("a group of {} proofs of channel {} was not stored: {}", group.size(), channelId, e.toString());
            return java.util.Collections.nCopies(group.size(), NOT_STORED);
        } finally {
            groupWrites.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        groupSizes.record(group.size());
        return results;
    }

    /** The group decided and written in one transaction, then committed (its commit timed on its own). */
    private List<Channels.ProofResult> inTransaction(Bytes32 channelId, List<Pending> group) {
        TransactionStatus status = transactions.getTransaction(TransactionDefinition.withDefaults());
        List<Channels.ProofResult> results;
        try {
            results = decideAndWrite(channelId, group);
        } catch (RuntimeException | Error e) {
            try {
                transactions.rollback(status);
            } catch (RuntimeException | Error rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        }
        long start = System.nanoTime();
        transactions.commit(status);
        commits.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return results;
    }

    /**
     * The group's answers, in its order; the writes done in the caller's transaction: one locked
     * read, a read of receipts only if some proof is not newer than the stored one (a replay or a
     * stale proof), one write (receipts and the newest of each direction), a registration only with
     * a participant's first proof.
     */
    private List<Channels.ProofResult> decideAndWrite(Bytes32 channelId, List<Pending> group) {
        List<Channels.ProofResult> results = new ArrayList<>(group.size());
        long readStart = System.nanoTime();
        Optional<ChannelStore.ProofState> found = store.lockForProofs(channelId);
        if (found.isEmpty()) {
            group.forEach(p -> results.add(Channels.ProofResult.refused(404, "NOT_FOUND", "channel not found")));
            return results;
        }
        Channel channel = found.get().channel();
        Map<Address, ChannelStore.StoredProof> newest = new HashMap<>();
        for (ChannelStore.StoredProof p : found.get().newest()) {
            newest.put(p.signer(), p);
        }
        // a proof accepted before this group is not newer than the stored one: only such may be a replay
        Set<Bytes32> maybeReplayed = new LinkedHashSet<>();
        Set<Address> replayedSigners = new LinkedHashSet<>();
        for (Pending p : group) {
            if (channel.isParticipant(p.caller())) {
                Address signer = channel.counterparty(p.caller());
                ChannelStore.StoredProof current = newest.get(signer);
                if (current != null && !newer(p, current)) {
                    maybeReplayed.add(p.digest());
                    replayedSigners.add(signer);
                }
            }
        }
        Map<String, ChannelStore.StoredProof> receipts = new HashMap<>();
        for (ChannelStore.StoredProof r : store.receipts(channelId, replayedSigners, maybeReplayed)) {
            receipts.put(receiptKey(r.signer(), r.digest()), r);
        }
        groupReads.record(System.nanoTime() - readStart, TimeUnit.NANOSECONDS);
        Set<Address> registered = new LinkedHashSet<>(found.get().registered());
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        List<ChannelStore.StoredProof> accepted = new ArrayList<>();
        Map<Address, ChannelStore.StoredProof> changed = new LinkedHashMap<>();
        List<Address> registering = new ArrayList<>();
        // the proofs of a group were all in flight at once, so any order of them is one the requests
        // could have had: by nonce, so that proofs a network reordered do not overtake each other here
        Channels.ProofResult[] answers = new Channels.ProofResult[group.size()];
        Integer[] order = new Integer[group.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparing(i -> group.get(i).nonce()));
        for (int i : order) {
            Pending p = group.get(i);
            Channels.ProofResult result = decide(channel, newest, receipts, p, now);
            if (result.created()) {
                ChannelStore.StoredProof stored = result.proof();
                newest.put(stored.signer(), stored);
                receipts.put(receiptKey(stored.signer(), stored.digest()), stored);
                changed.put(stored.signer(), stored);
                accepted.add(stored);
                if (registered.add(p.caller())) {
                    registering.add(p.caller());
                }
            }
            answers[i] = result;
        }
        results.addAll(java.util.Arrays.asList(answers));
        long writeStart = System.nanoTime();
        if (!accepted.isEmpty()) {
            int written = store.writeGroup(channelId, List.copyOf(changed.values()), accepted);
            if (written != changed.size()) {
                throw new IllegalStateException("the stored proofs of channel " + channelId
                        + " changed under the channel's lock");
            }
        }
        for (Address who : registering) {
            ChannelStore.Registration registration = store.register(channelId, who, null, now);
            audit.record(who.hex(), registration.watchtower() ? "CHANNEL_REGISTERED"
                    : "CHANNEL_REGISTERED_NO_WATCHTOWER", "channel", channelId.hex(), null, null);
        }
        groupStatements.record(System.nanoTime() - writeStart, TimeUnit.NANOSECONDS);
        return results;
    }

    /** The one rule "newer" in Java (as {@link ChannelStore#writeGroup} has it in SQL): a larger nonce, a total not smaller. */
    private static boolean newer(Pending p, ChannelStore.StoredProof current) {
        return p.nonce().compareTo(current.nonce()) > 0 && p.transferred().compareTo(current.transferred()) >= 0;
    }

    /** A receipt's key: the digest names no signer (both directions may sign the same nonce and total). */
    private static String receiptKey(Address signer, Bytes32 digest) {
        return signer.hex() + digest.hex();
    }

    /**
     * One proof against the state the proofs before it left: refused unless the caller is a
     * participant (404), the channel open or closing (409), the signature the counterparty's key
     * (422), the total within the counterparty's deposit less withdrawals plus what it received
     * (422); then stored if newer (201), the stored one again if this very proof was accepted before
     * (200), else stale (409).
     */
    private static Channels.ProofResult decide(Channel channel, Map<Address, ChannelStore.StoredProof> newest,
                                               Map<String, ChannelStore.StoredProof> receipts, Pending p,
                                               Instant now) {
        Address caller = p.caller();
        if (!channel.isParticipant(caller)) {
            return Channels.ProofResult.refused(404, "NOT_FOUND", "channel not found");
        }
        if (channel.state() != ChannelState.OPEN && channel.state() != ChannelState.CLOSING) {
            return Channels.ProofResult.refused(409, "CHANNEL_INVALID_STATE", "the channel is " + channel.state()
                    + ": proofs count only while it is OPEN or CLOSING");
        }
        Address counterparty = channel.counterparty(caller);
        Address key = channel.signingKey(counterparty).orElseThrow();
        if (p.recovered() == null || !p.recovered().equals(key)) {
            return Channels.ProofResult.refused(422, "CHANNEL_PROOF_INVALID_SIGNATURE", "the signature is not "
                    + counterparty.checksummed() + "'s key (" + key.checksummed()
                    + ") over this channel's BalanceProof(channelId, nonce, transferred)");
        }
        ChannelStore.StoredProof sentByCaller = newest.get(caller);
        BigInteger received = (sentByCaller == null ? BigInteger.ZERO : sentByCaller.transferred())
                .max(channel.side(caller).transferred());
        Channel.Side side = channel.side(counterparty);
        BigInteger capacity = side.deposit().subtract(side.withdrawn()).add(received);
        if (p.transferred().compareTo(capacity) > 0) {
            return Channels.ProofResult.refused(422, "CHANNEL_PROOF_EXCEEDS_DEPOSIT", "the proof states "
                    + p.transferred() + " sent, more than the signer deposited less withdrawals plus what it received ("
                    + capacity + ")");
        }
        ChannelStore.StoredProof current = newest.get(counterparty);
        if (current == null || newer(p, current)) {
            ChannelStore.StoredProof stored = new ChannelStore.StoredProof(channel.id(), counterparty, p.nonce(),
                    p.transferred(), p.signature(), p.digest(), caller, now);
            return new Channels.ProofResult(stored, true, 201, null, null);
        }
        ChannelStore.StoredProof before = receipts.get(receiptKey(counterparty, p.digest()));
        if (before == null && current.digest().equals(p.digest())) {
            before = current;
        }
        if (before != null) {
            return new Channels.ProofResult(before, false, 200, null, null);
        }
        return Channels.ProofResult.refused(409, "CHANNEL_PROOF_STALE", "the stored proof (nonce " + current.nonce()
                + ", transferred " + current.transferred() + ") is not older than this one: a newer proof needs a larger"
                + " nonce and a transferred total at least as large");
    }
}
