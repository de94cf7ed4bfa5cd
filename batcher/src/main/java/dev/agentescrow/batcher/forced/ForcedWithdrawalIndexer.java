package dev.agentescrow.batcher.forced;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.indexer.IndexerSettings;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.vault.ForcedWithdrawalRequest;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * Follows the vault's {@code ForcedWithdrawalRequested} events and books each confirmed request in
 * the ledger as a withdrawal of the account (USER -> PAYOUTS) of the lesser of the requested amount
 * and what the account has available, with the id {@link ForcedWithdrawalIds#transferId} of the
 * request, so that the next scheduled batch pays it out and {@link ForcedWithdrawalServing} marks
 * that payout as serving the request. Booking is idempotent (a replay is the ledger's
 * {@code EXISTS}), so the indexer keeps no checkpoint: after a start it scans again from the vault's
 * deployment block, {@code maxBlocksPerPoll} blocks per poll, and so also learns the requests still
 * open.
 *
 * <p>Reorganisations (issue 10, F8): a request is booked only once its block has the settings'
 * {@code depth} blocks after it, the depth at which custody holds are posted, so a shallower
 * reorganisation never reaches the ledger. A deeper one that drops a booked request leaves a
 * withdrawal the account asked for, paid to the account itself by an ordinary payout (the vault's
 * open request is checked again when the batch is built, {@link ForcedWithdrawalServing}), and never
 * more than the account had available; a request mined again carries another deadline, so it is a
 * new request, booked from what is still available.
 *
 * <p>It also watches every open request until the vault closes it: when less than half the
 * forced-withdrawal window is left, it logs a warning each poll and the gauge
 * {@code vault.forced.withdrawals.due.soon} counts it; {@code vault.forced.withdrawals.open} counts
 * all open requests and {@code vault.forced.withdrawal.seconds.left} is the least time left
 * (negative once a deadline has passed: anyone may then freeze the vault). Not thread-safe: one
 * scheduler thread polls it.
 */
public final class ForcedWithdrawalIndexer {
    private static final Logger log = LoggerFactory.getLogger(ForcedWithdrawalIndexer.class);
    /** Upper bound of open requests watched; more are still booked and served, not all watched. */
    public static final int MAX_WATCHED = 100_000;

    private final ChainClient client;
    private final SettlementVaultGateway vault;
    private final ResilientRpc rpc;
    private final Ledger ledger;
    private final IndexerSettings settings;
    private final Map<Key, ForcedWithdrawalRequest> open = new LinkedHashMap<>();
    private final AtomicLong openGauge;
    private final AtomicLong dueSoonGauge;
    private final AtomicLong secondsLeftGauge;
    private long nextBlock;
    private Duration window;

    private record Key(Address token, Address account) {
    }

    /**
     * What one poll did.
     *
     * @param booked requests booked as ledger withdrawals now
     * @param alreadyBooked requests booked before (a rescan)
     * @param unbooked requests the ledger could not book (nothing available, unknown token): the
     *     operator cannot serve them through a batch; they stay watched and alarm as their deadline nears
     * @param open requests the vault still has open
     * @param dueSoon open requests with less than half the window left
     */
    public record PollResult(int booked, int alreadyBooked, int unbooked, int open, int dueSoon) {
    }

    public ForcedWithdrawalIndexer(ChainClient client, SettlementVaultGateway vault, ResilientRpc rpc, Ledger ledger,
                                   IndexerSettings settings, MeterRegistry registry) {
        this.client = Objects.requireNonNull(client, "client");
        this.vault = Objects.requireNonNull(vault, "vault");
        this.rpc = Objects.requireNonNull(rpc, "rpc");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.nextBlock = settings.startBlock();
        this.openGauge = registry.gauge("vault.forced.withdrawals.open", new AtomicLong());
        this.dueSoonGauge = registry.gauge("vault.forced.withdrawals.due.soon", new AtomicLong());
        this.secondsLeftGauge = registry.gauge("vault.forced.withdrawal.seconds.left", new AtomicLong(Long.MAX_VALUE));
    }

    /** Books the next confirmed requests, then checks every open one against the vault and its deadline. */
    public PollResult poll() {
        if (window == null) {
            window = rpc.call(vault::forcedWithdrawalWindow);
        }
        int booked = 0;
        int alreadyBooked = 0;
        int unbooked = 0;
        // Booked at the confirmation depth only: a request is final by then (see the class comment).
        long confirmedHead = rpc.call(client::blockNumber) - settings.depth();
        long toBlock = Math.min(confirmedHead, nextBlock + settings.maxBlocksPerPoll() - 1);
        if (toBlock >= nextBlock) {
            long from = nextBlock;
            for (ForcedWithdrawalRequest request : rpc.call(() -> vault.forcedWithdrawalRequestsBetween(from, toBlock))) {
                switch (book(request)) {
                    case OK -> booked++;
                    case EXISTS -> alreadyBooked++;
                    default -> unbooked++;
                }
                if (open.size() < MAX_WATCHED) {
                    open.put(new Key(request.token(), request.account()), request);
                }
            }
            nextBlock = toBlock + 1;
        }
        int dueSoon = watch();
        return new PollResult(booked, alreadyBooked, unbooked, open.size(), dueSoon);
    }

    /** The open requests this indexer watches (requests the vault closed are dropped at each poll). */
    public List<ForcedWithdrawalRequest> openRequests() {
        return List.copyOf(open.values());
    }

    private TransferResult book(ForcedWithdrawalRequest request) {
        AccountKey user = AccountKey.user(request.account(), request.token());
        BigInteger available = ledger.balance(user).map(AccountBalance::available).orElse(BigInteger.ZERO);
        BigInteger amount = request.amount().baseUnits().min(available);
        String reference = "forced:" + request.position().txHash().value() + ":" + request.position().logIndex();
        if (amount.signum() <= 0) {
            log.error("forced withdrawal {} of {} {} by {}: the ledger has nothing available to book; no batch "
                    + "can serve it before {}", reference, request.amount(), request.token(), request.account(),
                    request.deadline());
            return TransferResult.INSUFFICIENT_FUNDS;
        }
        TransferResult result = ledger.submitSystem(List.of(TransferRequest.single(ForcedWithdrawalIds.transferId(
                        request.token(), request.account(), request.amount(), request.deadline()), user,
                AccountKey.payouts(request.token()), Amount.of(amount)).withReference(reference))).get(0);
        switch (result) {
            case OK -> log.info("forced withdrawal {} of {} {} by {} booked as a withdrawal of {}, due by {}",
                    reference, request.amount(), request.token(), request.account(), amount, request.deadline());
            case EXISTS -> log.debug("forced withdrawal {} was booked before", reference);
            default -> log.error("forced withdrawal {} of {} {} by {} not booked: {}", reference, request.amount(),
                    request.token(), request.account(), result);
        }
        return result;
    }

    /** Drops the requests the vault closed; alarms on those near or past their deadline. Returns how many are due soon. */
    private int watch() {
        if (open.isEmpty()) {
            publish(0, Long.MAX_VALUE);
            return 0;
        }
        Instant now = Instant.ofEpochSecond(rpc.call(this::chainTime));
        Duration alarmLead = window.dividedBy(2);
        int dueSoon = 0;
        long leastLeft = Long.MAX_VALUE;
        for (var it = open.entrySet().iterator(); it.hasNext(); ) {
            ForcedWithdrawalRequest request = it.next().getValue();
            var onChain = rpc.call(() -> vault.forcedWithdrawal(request.token(), request.account()));
            if (onChain.isEmpty() || !onChain.get().deadline().equals(request.deadline())) {
                it.remove();
                continue;
            }
            Duration left = Duration.between(now, request.deadline());
            leastLeft = Math.min(leastLeft, left.toSeconds());
            if (left.compareTo(alarmLead) < 0) {
                dueSoon++;
                log.warn("forced withdrawal of {} {} by {} is unserved {} before its deadline {}: serve it or anyone "
                        + "may freeze the vault", request.amount(), request.token(), request.account(), left,
                        request.deadline());
            }
        }
        publish(dueSoon, leastLeft);
        return dueSoon;
    }

    private void publish(int dueSoon, long leastLeft) {
        openGauge.set(open.size());
        dueSoonGauge.set(dueSoon);
        secondsLeftGauge.set(leastLeft);
    }

    private long chainTime() {
        try {
            return client.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock()
                    .getTimestamp().longValueExact();
        } catch (IOException e) {
            throw new ChainException("eth_getBlockByNumber(latest) failed", e);
        }
    }
}
