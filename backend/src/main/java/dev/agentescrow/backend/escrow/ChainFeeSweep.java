package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.backend.config.OperatorKeys;
import dev.agentescrow.backend.fee.FeeCharge;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.backend.fee.FeeType;
import dev.agentescrow.backend.fee.Fees;
import dev.agentescrow.backend.gateway.LedgerUnavailableException;
import dev.agentescrow.batcher.command.ServiceRule;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ContractLogs;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Permit;
import dev.agentescrow.chain.Erc20PermitSigner;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.methods.response.Log;

/**
 * Carries the chain escrows' fees into the ledger, on the leader, every
 * {@code agentescrow.escrow.chain.fee-sweep-interval}: for each token of chain escrows with fees owed
 * to the service's fee-recipient key, one sweep ({@code fee_sweeps}, created before its first
 * transaction) claims them from the TaskEscrow to the fee recipient ({@code claimFees}), deposits
 * exactly what was claimed into the vault with a permit the key signs ({@code depositWithPermit}),
 * and once the vault indexer has credited the deposit to the fee recipient's ledger account, moves it
 * to the ledger's FEES account with one audited transfer (rule {@code PLATFORM_FEE}, id derived from
 * the sweep). Each transaction goes through {@link ChainSends} (stored before sent, once per sweep
 * and step) and each step is recorded before the next, so a crash anywhere is finished by the next
 * sweep without a second claim, deposit or booking. Without the key, or when the key is not the
 * contract's fee recipient, fees stay in the contract and the service says so in its log.
 */
@Component
public class ChainFeeSweep {
    private static final Logger log = LoggerFactory.getLogger(ChainFeeSweep.class);
    private static final String TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    private final ChainEscrows escrows;
    private final ChainSends sends;
    private final ChainClient client;
    private final Batcher batcher;
    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final ChainEscrowSettings settings;
    private final SettlementVaultGateway vault;
    private final Optional<Credentials> key;
    private final Fees fees;
    private volatile String lastWarning;

    public ChainFeeSweep(ChainEscrows escrows, ChainSends sends, ChainClient client, Batcher batcher, JdbcTemplate jdbc,
                         Clock clock, ChainEscrowSettings settings, ChainDeployment deployment, Fees fees) {
        this.escrows = escrows;
        this.fees = fees;
        this.sends = sends;
        this.client = client;
        this.batcher = batcher;
        this.jdbc = jdbc;
        this.clock = clock;
        this.settings = settings;
        this.vault = new SettlementVaultGateway(client, deployment.vault());
        this.key = OperatorKeys.load(settings.feeRecipientPrivateKey(), settings.feeRecipientKeystore(),
                settings.feeRecipientKeystorePassword(), "ESCROW_FEE_RECIPIENT");
    }

    /** The fee recipient the sweep claims for (the key's address), if configured. */
    public Optional<Address> recipient() {
        return key.map(k -> Address.of(k.getAddress()));
    }

    @Scheduled(fixedDelayString = "${agentescrow.escrow.chain.fee-sweep-interval:PT30S}")
    public void sweep() {
        if (escrows.gateway().isEmpty() || batcher.role() != Role.LEADER) {
            return;
        }
        TaskEscrowGateway gateway = escrows.gateway().get();
        try {
            if (key.isEmpty()) {
                warnOnce("no fee-recipient key (ESCROW_FEE_RECIPIENT_PRIVATE_KEY or _KEYSTORE): the fees of chain"
                        + " escrows accrue to the TaskEscrow's fee recipient " + gateway.feeRecipient().checksummed()
                        + " and do not reach the ledger's FEES account until that key claims them");
                return;
            }
            Address recipient = recipient().orElseThrow();
            Address contractRecipient = gateway.feeRecipient();
            if (!contractRecipient.equals(recipient)) {
                warnOnce("the TaskEscrow's fee recipient is " + contractRecipient.checksummed() + ", not the service's"
                        + " fee-recipient key " + recipient.checksummed() + ": fees of escrows created from now on accrue"
                        + " to " + contractRecipient.checksummed() + " and do not reach the ledger; only fees owed to"
                        + " the service's key are swept");
            }
            for (Address token : tokens()) {
                sweepToken(gateway, token, recipient);
            }
        } catch (RuntimeException e) {
            log.warn("fee sweep failed, tried again at the next sweep", e);
        }
    }

    /** Runs the token's open sweep to its end, or opens one if fees are owed to the recipient. */
    public void sweepToken(TaskEscrowGateway gateway, Address token, Address recipient) {
        Optional<Sweep> open = open(token);
        if (open.isEmpty()) {
            BigInteger owed = gateway.feesOwed(token, recipient).baseUnits();
            if (owed.signum() == 0) {
                return;
            }
            UUID id = UUID.randomUUID();
            Timestamp now = Timestamp.from(clock.instant());
            int inserted = jdbc.update("INSERT INTO backend.fee_sweeps (id, token, recipient, amount, state, created_at,"
                    + " updated_at) VALUES (?, ?, ?, ?, 'CLAIMING', ?, ?) ON CONFLICT DO NOTHING", id, token.hex(),
                    recipient.hex(), new BigDecimal(owed), now, now);
            if (inserted == 0) {
                return;
            }
            open = open(token);
        }
        Sweep sweep = open.orElseThrow();
        Credentials credentials = key.orElseThrow();
        if (sweep.state().equals("CLAIMING")) {
            String purpose = "fee-claim:" + sweep.id();
            ChainSends.Sent sent;
            try {
                sent = sends.find(purpose).map(sends::complete).orElseGet(() -> sends.send(purpose, credentials,
                        gateway.address(), gateway.encodeClaimFees(token, recipient)));
            } catch (ContractRevertedException nothing) {
                // Nothing owed any more (claimed by the key elsewhere): this sweep has nothing to carry.
                log.warn("fee sweep {}: the claim reverts ({}); sweep abandoned", sweep.id(), nothing.getMessage());
                jdbc.update("DELETE FROM backend.fee_sweeps WHERE id = ? AND state = 'CLAIMING'", sweep.id());
                return;
            }
            if (sent.state() != ChainSends.State.SUCCEEDED) {
                log.warn("fee sweep {}: claim {} is {}", sweep.id(), sent.txHash(), sent.state());
                return;
            }
            BigInteger claimed = claimed(sent, gateway.address(), token, recipient);
            if (claimed.signum() == 0) {
                jdbc.update("DELETE FROM backend.fee_sweeps WHERE id = ?", sweep.id());
                return;
            }
            jdbc.update("UPDATE backend.fee_sweeps SET amount = ?, state = 'DEPOSITING', updated_at = ? WHERE id = ?",
                    new BigDecimal(claimed), Timestamp.from(clock.instant()), sweep.id());
            sweep = open(token).orElseThrow();
        }
        if (sweep.state().equals("DEPOSITING")) {
            String purpose = "fee-deposit:" + sweep.id();
            Sweep depositing = sweep;
            ChainSends.Sent sent = sends.find(purpose).map(sends::complete).orElseGet(() -> {
                Erc20Permit permit = new Erc20PermitSigner(client).sign(client.signer(credentials), token,
                        vault.address(), Amount.of(depositing.amount()), clock.instant().plus(settings.permitValidity()));
                return sends.send(purpose, credentials, vault.address(), vault.encodeDepositWithPermit(token, permit));
            });
            if (sent.state() != ChainSends.State.SUCCEEDED) {
                log.warn("fee sweep {}: deposit {} is {}", sweep.id(), sent.txHash(), sent.state());
                return;
            }
            jdbc.update("UPDATE backend.fee_sweeps SET state = 'BOOKING', updated_at = ? WHERE id = ?",
                    Timestamp.from(clock.instant()), sweep.id());
            sweep = open(token).orElseThrow();
        }
        if (sweep.state().equals("BOOKING")) {
            TransferRequest move = TransferRequest.single(EscrowIds.feeSweepTransfer(sweep.id()),
                    AccountKey.user(recipient, token), AccountKey.fees(token), Amount.of(sweep.amount()))
                    .withReference("fee-sweep:" + sweep.id());
            List<TransferReceipt> receipts;
            try {
                receipts = batcher.serviceCommands().execute(ServiceRule.PLATFORM_FEE, "fee-sweep",
                        "fees:" + token.hex(), "chain escrow fees claimed and deposited", List.of(move));
            } catch (RuntimeException e) {
                throw new LedgerUnavailableException(e.getMessage(), e);
            }
            TransferResult result = receipts.getFirst().result();
            if (result.committed()) {
                fees.record(List.of(new FeeCharge(move.id().toUuid(), FeeType.PLATFORM, FeeSource.CHAIN_SWEEP,
                        "fee-sweep:" + sweep.id(), null, token, sweep.amount(), null, receipts.getFirst().seq(),
                        clock.instant())));
                jdbc.update("UPDATE backend.fee_sweeps SET state = 'BOOKED', updated_at = ? WHERE id = ?",
                        Timestamp.from(clock.instant()), sweep.id());
                log.info("fee sweep {}: {} of {} in the ledger's FEES account", sweep.id(), sweep.amount(), token);
            } else {
                // INSUFFICIENT_FUNDS until the vault indexer credits the deposit (after its confirmations).
                log.debug("fee sweep {}: booking waits ({})", sweep.id(), result);
            }
        }
    }

    private record Sweep(UUID id, String state, BigInteger amount) {
    }

    private Optional<Sweep> open(Address token) {
        return jdbc.query("SELECT id, state, amount FROM backend.fee_sweeps WHERE token = ? AND state <> 'BOOKED'",
                (rs, n) -> new Sweep(rs.getObject(1, UUID.class), rs.getString(2),
                        rs.getBigDecimal(3).toBigIntegerExact()), token.hex()).stream().findFirst();
    }

    /** Tokens of chain escrows (fees accrue per token). */
    private List<Address> tokens() {
        return jdbc.queryForList("SELECT DISTINCT token FROM backend.escrows WHERE custody = 'CHAIN'", String.class)
                .stream().map(Address::of).toList();
    }

    /** What the claim moved: the token's Transfer from the TaskEscrow to the recipient in the claim's transaction. */
    private BigInteger claimed(ChainSends.Sent sent, Address escrow, Address token, Address recipient) {
        BigInteger total = BigInteger.ZERO;
        for (Log log : new ContractLogs(client, token).inTransaction(sent.txHash())) {
            List<String> topics = log.getTopics();
            if (topics.size() == 3 && topics.get(0).equalsIgnoreCase(TRANSFER_TOPIC)
                    && Address.of("0x" + topics.get(1).substring(26)).equals(escrow)
                    && Address.of("0x" + topics.get(2).substring(26)).equals(recipient)) {
                total = total.add(new BigInteger(log.getData().substring(2), 16));
            }
        }
        return total;
    }

    private void warnOnce(String message) {
        if (!message.equals(lastWarning)) {
            lastWarning = message;
            log.warn(message);
        }
    }
}
