package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * Keeps the chain escrows of one TaskEscrow from staying stuck when their parties are offline; one
 * {@link #run()} does, by the chain's clock (block timestamps, the contract's clock):
 * <ul>
 *   <li><b>funding expiry</b>: a PENDING_FUNDING escrow whose deadline is before the timestamp of the
 *       follower's confirmed block, with no Created event stored, becomes EXPIRED (history entry
 *       {@code FUNDING_EXPIRED}, event {@code escrow.funding_expired}; nothing moves, it held nothing).
 *       Every block up to that one was applied, and from its timestamp on the contract refuses to
 *       create an escrow with that deadline, so the expiry is final;</li>
 *   <li><b>refund</b>: with the keeper key, {@code refund(id)} of an OPEN or FUNDED escrow once the
 *       latest block is past its deadline, the grace period and {@code lag} (the contract lets anyone
 *       refund to the payer after the grace period);</li>
 *   <li><b>fallback</b>: with the keeper key, {@code applyFallback(id)} of a DISPUTED escrow once the
 *       latest block is past its arbitration deadline and {@code lag}.</li>
 * </ul>
 * Both sends go through {@link ChainSends} under the purposes {@code keeper-refund:<escrow>} and
 * {@code keeper-fallback:<escrow>} on the keeper key's own lane (nonce sequence): stored before the
 * first broadcast, so once per escrow across retries, instances and restarts; a call the contract
 * refuses now (a party acted first) is not stored. The escrow's state changes when the follower sees
 * the transaction's events, like any party's call. At most {@code maxPerRun} escrows of each kind per run.
 */
public final class ChainEscrowKeeper {
    private static final Logger log = LoggerFactory.getLogger(ChainEscrowKeeper.class);

    private final TaskEscrowGateway gateway;
    private final ChainClient client;
    private final ChainSends sends;
    private final Optional<Credentials> key;
    private final ChainEscrowStore chain;
    private final EscrowStore escrows;
    private final ChainEscrowEvents events;
    private final LongSupplier confirmedBlock;
    private final AuditLog audit;
    private final Clock clock;
    private final Duration lag;
    private final int maxPerRun;
    private final TransactionTemplate tx;

    /**
     * @param key the keeper's key (its own lane), or empty: then only funding expiries happen
     * @param confirmedBlock the TaskEscrow follower's cursor: the last block whose logs it applied
     * @param lag how long after a deadline the keeper waits (so that a party's own call comes first)
     */
    public ChainEscrowKeeper(TaskEscrowGateway gateway, ChainClient client, ChainSends sends, Optional<Credentials> key,
                             ChainEscrowStore chain, EscrowStore escrows, ChainEscrowEvents events,
                             LongSupplier confirmedBlock, AuditLog audit, Clock clock, Duration lag, int maxPerRun,
                             DataSource dataSource) {
        this.gateway = gateway;
        this.client = client;
        this.sends = sends;
        this.key = key;
        this.chain = chain;
        this.escrows = escrows;
        this.events = events;
        this.confirmedBlock = confirmedBlock;
        this.audit = audit;
        this.clock = clock;
        this.lag = lag;
        this.maxPerRun = maxPerRun;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** What one run did. */
    public record Run(List<String> fundingExpired, List<ChainSends.Sent> refunds, List<ChainSends.Sent> fallbacks) {
    }

    public Run run() {
        List<String> expired = expireFunding();
        if (key.isEmpty()) {
            return new Run(expired, List.of(), List.of());
        }
        Instant latest = blockTime(DefaultBlockParameterName.LATEST);
        List<ChainSends.Sent> refunds = send(chain.due(gateway.address(), List.of(EscrowState.OPEN, EscrowState.FUNDED),
                "deadline", latest.minus(ChainEscrows.GRACE).minus(lag), maxPerRun), "keeper-refund",
                gateway::encodeRefund);
        List<ChainSends.Sent> fallbacks = send(chain.due(gateway.address(), List.of(EscrowState.DISPUTED),
                "arbitration_deadline", latest.minus(lag), maxPerRun), "keeper-fallback", gateway::encodeApplyFallback);
        return new Run(expired, refunds, fallbacks);
    }

    private List<String> expireFunding() {
        long confirmed = confirmedBlock.getAsLong();
        if (confirmed < 0) {
            return List.of();
        }
        Instant confirmedTime = blockTime(DefaultBlockParameter.valueOf(BigInteger.valueOf(confirmed)));
        List<String> expired = new java.util.ArrayList<>();
        for (String id : chain.due(gateway.address(), List.of(EscrowState.PENDING_FUNDING), "deadline", confirmedTime,
                maxPerRun)) {
            Boolean done = tx.execute(status -> {
                Escrow e = escrows.lock(id, true).orElse(null);
                if (e == null || e.state() != EscrowState.PENDING_FUNDING || !chain.events(id).isEmpty()
                        || !chain.expireFunding(id, clock.instant())) {
                    return false;
                }
                events.rebuild(id);
                audit.record("service", "ESCROW_FUNDING_EXPIRED", "escrow", id, e.token().hex(), null);
                return true;
            });
            if (Boolean.TRUE.equals(done)) {
                log.info("chain escrow {}: not funded by its deadline (confirmed block {} at {}): EXPIRED", id,
                        confirmed, confirmedTime);
                expired.add(id);
            }
        }
        return expired;
    }

    private List<ChainSends.Sent> send(List<String> ids, String kind,
                                       java.util.function.Function<dev.agentescrow.chain.Bytes32, String> encode) {
        Credentials credentials = key.orElseThrow();
        List<ChainSends.Sent> out = new java.util.ArrayList<>();
        for (String id : ids) {
            Optional<ChainEscrowStore.ChainInfo> info = chain.find(id);
            if (info.isEmpty()) {
                continue;
            }
            String purpose = kind + ":" + id;
            try {
                Optional<ChainSends.Sent> stored = sends.find(purpose);
                ChainSends.Sent sent;
                if (stored.isPresent()) {
                    if (stored.get().mined()) {
                        continue;
                    }
                    sent = sends.complete(stored.get(), credentials);
                } else {
                    sent = sends.send(purpose, credentials, gateway.address(), encode.apply(info.get().chainEscrowId()));
                    audit.record(sent.signer().hex(), "ESCROW_CHAIN_SENT", "escrow", id, null, null);
                }
                log.info("chain escrow {}: the keeper sent {} ({}: {})", id, kind, sent.txHash(), sent.state());
                out.add(sent);
            } catch (ContractRevertedException refused) {
                log.debug("chain escrow {}: {} refused by the contract now ({})", id, kind, refused.getMessage());
            } catch (ChainException e) {
                log.warn("chain escrow {}: {} failed, tried again at the next run: {}", id, kind, e.getMessage());
            }
        }
        return out;
    }

    private Instant blockTime(DefaultBlockParameter block) {
        try {
            return Instant.ofEpochSecond(client.web3j().ethGetBlockByNumber(block, false).send().getBlock()
                    .getTimestamp().longValueExact());
        } catch (IOException e) {
            throw new ChainException("eth_getBlockByNumber failed", e);
        }
    }
}
