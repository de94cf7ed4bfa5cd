package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.chainlog.ChainLogFollower;
import dev.agentescrow.backend.chainlog.ChainLogHandler;
import dev.agentescrow.backend.chainlog.ChainLogs;
import dev.agentescrow.backend.config.OperatorKeys;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import java.time.Clock;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Credentials;

/**
 * Runs the {@link ChainEscrowKeeper} of the service's TaskEscrow on the ledger's leader every
 * {@code agentescrow.escrow.chain.keeper-interval}, with the keeper key
 * ({@code ESCROW_KEEPER_PRIVATE_KEY} or {@code _KEYSTORE}) if configured: without it, pending
 * escrows still expire, and refunds and fallbacks wait for a party (anyone may send them).
 */
@Component
public class ChainEscrowKeeping {
    private static final Logger log = LoggerFactory.getLogger(ChainEscrowKeeping.class);
    /** Escrows of each kind acted on per run at most; the rest at the next. */
    static final int MAX_PER_RUN = 50;

    private final Optional<ChainEscrowKeeper> keeper;
    private final Batcher batcher;

    public ChainEscrowKeeping(ChainEscrows escrows, ObjectProvider<ChainLogHandler> handlers, ChainLogs logs,
                              ChainClient client, ChainSends sends, ChainEscrowStore chain, EscrowStore store,
                              ChainEscrowSettings settings, AuditLog audit, Clock clock, DataSource dataSource,
                              Batcher batcher) {
        this.batcher = batcher;
        Optional<Credentials> key = OperatorKeys.load(settings.keeperPrivateKey(), settings.keeperKeystore(),
                settings.keeperKeystorePassword(), "ESCROW_KEEPER");
        Optional<ChainEscrowEvents> events = handlers.orderedStream().filter(ChainEscrowEvents.class::isInstance)
                .map(ChainEscrowEvents.class::cast).filter(h -> h.name().equals(ChainEscrowEvents.NAME)).findFirst();
        this.keeper = escrows.gateway().flatMap(gateway -> events.map(e -> new ChainEscrowKeeper(gateway, client, sends,
                key, chain, store, e, () -> logs.follower(ChainEscrowEvents.NAME)
                        .map(ChainLogFollower::cursorBlock).orElse(-1L), audit, clock, settings.keeperLag(),
                MAX_PER_RUN, dataSource)));
        if (keeper.isPresent()) {
            log.info("chain escrow keeper: {}", key.map(k -> "refunds and fallbacks sent with "
                    + Address.of(k.getAddress()).checksummed()).orElse("no key (ESCROW_KEEPER_PRIVATE_KEY): pending"
                    + " escrows expire; refunds and fallbacks wait for a party"));
        }
    }

    public Optional<ChainEscrowKeeper> keeper() {
        return keeper;
    }

    @Scheduled(fixedDelayString = "${agentescrow.escrow.chain.keeper-interval:PT10S}")
    public void run() {
        if (keeper.isEmpty() || batcher.role() != Role.LEADER) {
            return;
        }
        try {
            keeper.get().run();
        } catch (RuntimeException e) {
            log.warn("chain escrow keeper failed, tried again at the next run", e);
        }
    }
}
