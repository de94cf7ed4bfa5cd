package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.ledger.db.ExistingTransfer;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import dev.agentescrow.batcher.ledger.db.LoadedAccount;
import dev.agentescrow.batcher.ledger.db.TransferRow;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * The one place the service talks to the batcher's ledger. Writes go through {@link dev.agentescrow.batcher.ledger.Ledger}; reads
 * use what the batcher exposes today ({@link dev.agentescrow.batcher.ledger.Ledger#balances()}, which reads every account, and
 * {@link LedgerStore#findTransfers}), so that moving to the batcher's read API (O(1) balances,
 * transfer by id, history) changes this class only.
 */
@Component
public class LedgerGateway {
    private final Batcher batcher;
    private final LedgerConfig ledgerConfig;
    private final DataSource dataSource;
    private final LedgerStore store = new LedgerStore();
    /** Account ids never change once assigned: the keys of ids seen so far. */
    private final Map<Long, AccountKey> accountKeys = new ConcurrentHashMap<>();

    public LedgerGateway(Batcher batcher, DataSource dataSource, LedgerConfig ledgerConfig) {
        this.batcher = batcher;
        this.ledgerConfig = ledgerConfig;
        this.dataSource = dataSource;
    }

    /** Whether this instance runs the ledger's writer now (else it stands by for another instance). */
    public boolean leads() {
        return batcher.role() == dev.agentescrow.batcher.leadership.Role.LEADER;
    }

    /** The tokens the ledger accepts, by address. */
    public List<Token> tokens() {
        return guarded(() -> batcher.ledger().tokens());
    }

    public Optional<Token> token(Address address) {
        return tokens().stream().filter(token -> token.address().equals(address)).findFirst();
    }

    public TokenRegistration register(Token token, String actor, String reason) {
        return guarded(() -> batcher.ledger().registerToken(token, actor, reason));
    }

    /** Submits transfers (at most the ledger's submission size) and waits until they are durable. */
    public List<TransferResult> submit(List<TransferRequest> requests) {
        return guarded(() -> batcher.ledger().submit(requests));
    }

    /** The largest number of transfers one submission may hold. */
    public int maxSubmissionSize() {
        return ledgerConfig.maxSubmissionSize();
    }

    /** {@code owner}'s user accounts by token. Reads every account until the batcher has per-account reads. */
    public Map<Address, AccountBalance> balancesOf(Address owner) {
        Map<Address, AccountBalance> mine = new LinkedHashMap<>();
        guarded(() -> batcher.ledger().balances()).forEach((key, balance) -> {
            if (key.kind() == AccountKind.USER && owner.equals(key.owner())) {
                mine.put(key.token(), balance);
            }
        });
        return mine;
    }

    /** Every account's committed totals (admin views, verification). */
    public Map<AccountKey, AccountBalance> allBalances() {
        return guarded(() -> batcher.ledger().balances());
    }

    /** The committed transfer with this id, if any. */
    public Optional<LedgerTransfer> transfer(TransferId id) {
        try (Connection c = dataSource.getConnection()) {
            ExistingTransfer found = store.findTransfers(c, List.of(id)).get(id);
            if (found == null) {
                return Optional.empty();
            }
            TransferRow row = found.row();
            AccountKey debit = accountKey(c, row.debitAccountId());
            AccountKey credit = accountKey(c, row.creditAccountId());
            return Optional.of(new LedgerTransfer(row.id(), row.seq(), row.kind(), debit, credit, row.token(),
                    row.amount(), row.reference(), row.createdAt()));
        } catch (SQLException e) {
            throw new LedgerUnavailableException("could not read transfer " + id, e);
        }
    }

    private AccountKey accountKey(Connection c, long accountId) throws SQLException {
        AccountKey key = accountKeys.get(accountId);
        if (key == null) {
            for (LoadedAccount account : store.loadAccounts(c)) {
                accountKeys.put(account.row().id(), account.row().key());
            }
            key = accountKeys.get(accountId);
        }
        if (key == null) {
            throw new IllegalStateException("transfer names account " + accountId + ", which the ledger does not hold");
        }
        return key;
    }

    private static <T> T guarded(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (LedgerException e) {
            throw new LedgerUnavailableException(e.getMessage(), e);
        }
    }
}
