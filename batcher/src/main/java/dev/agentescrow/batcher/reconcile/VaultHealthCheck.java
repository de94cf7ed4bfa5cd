package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vault's own state, next to the reconciliation of balances: whether it is frozen (then no
 * batch settles ever again and every account takes its settled balance out on chain: settlement
 * is over, a person must wind the ledger down), and, per listed token, whether the vault's token
 * balance still equals what it owes ({@code custody}: settled balances plus pending payouts). A
 * balance that moved without a vault event is the sign of a rebasing token (or of tokens sent to
 * the vault directly), which the vault cannot detect itself. Meters: {@code vault.frozen} (gauge,
 * 0 or 1) and {@code vault.custody.drifts} (gauge: tokens whose balance differs from custody).
 */
public final class VaultHealthCheck {
    private static final Logger log = LoggerFactory.getLogger(VaultHealthCheck.class);

    private final ChainClient client;
    private final SettlementVaultGateway vault;
    private final ResilientRpc rpc;
    private final Clock clock;
    private final AtomicInteger frozenGauge;
    private final AtomicInteger driftGauge;

    /** A token whose vault balance differs from what the vault owes in it. */
    public record CustodyDrift(Address token, BigInteger balance, BigInteger custody) {
    }

    /** What one check found. */
    public record VaultHealth(Instant at, boolean frozen, List<CustodyDrift> drifts) {
        public VaultHealth {
            drifts = List.copyOf(drifts);
        }

        public boolean healthy() {
            return !frozen && drifts.isEmpty();
        }
    }

    public VaultHealthCheck(ChainClient client, SettlementVaultGateway vault, ResilientRpc rpc, Clock clock,
                            MeterRegistry registry) {
        this.client = Objects.requireNonNull(client, "client");
        this.vault = Objects.requireNonNull(vault, "vault");
        this.rpc = Objects.requireNonNull(rpc, "rpc");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.frozenGauge = registry.gauge("vault.frozen", new AtomicInteger());
        this.driftGauge = registry.gauge("vault.custody.drifts", new AtomicInteger());
    }

    /** Checks the vault and {@code tokens} now; logs an error for a frozen vault and each drift. */
    public VaultHealth check(List<Address> tokens) {
        boolean frozen = rpc.call(vault::frozen);
        List<CustodyDrift> drifts = new ArrayList<>();
        for (Address token : tokens) {
            BigInteger balance = rpc.call(() -> new Erc20Token(client, token).balanceOf(vault.address())).baseUnits();
            BigInteger custody = rpc.call(() -> vault.custody(token)).baseUnits();
            if (!balance.equals(custody)) {
                drifts.add(new CustodyDrift(token, balance, custody));
                log.error("vault balance of {} is {} but the vault owes {}: it moved without a vault event "
                        + "(a rebasing token, or tokens sent to the vault directly)", token, balance, custody);
            }
        }
        if (frozen) {
            log.error("vault {} is frozen: no batch settles any more; every account takes its settled balance "
                    + "out on chain", vault.address());
        }
        frozenGauge.set(frozen ? 1 : 0);
        driftGauge.set(drifts.size());
        return new VaultHealth(clock.instant(), frozen, drifts);
    }
}
