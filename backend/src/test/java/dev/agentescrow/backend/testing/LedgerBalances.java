package dev.agentescrow.backend.testing;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * Exact balances of one token for ITs, each read with every ledger write committed so far: an
 * agent's through the API ({@code minSequence}), the service's own accounts through the read side.
 */
public final class LedgerBalances {
    private final ApiClient api;
    private final LedgerReads reads;
    private final String token;

    public LedgerBalances(ApiClient api, LedgerReads reads, String token) {
        this.api = api;
        this.reads = reads;
        this.token = token;
    }

    /** The agent's available balance, as {@code GET /accounts/me} shows it. */
    public BigInteger available(String accessToken) {
        long seen = reads.lastCommittedSeq();
        for (JsonNode balance : api.get("/api/v1/accounts/me?minSequence=" + seen, accessToken).json()
                .path("balances")) {
            if (balance.path("token").asString().equalsIgnoreCase(token)) {
                return new BigInteger(balance.path("available").asString());
            }
        }
        return BigInteger.ZERO;
    }

    /** Any ledger account's available balance. */
    public BigInteger account(AccountKey key) {
        return reads.account(key, reads.lastCommittedSeq(), Duration.ofSeconds(10)).get()
                .map(AccountView::available).orElse(BigInteger.ZERO);
    }

    /** The platform fee account. */
    public BigInteger fees() {
        return account(AccountKey.fees(Address.of(token)));
    }

    /** An escrow's own funds account. */
    public BigInteger escrowAccount(String escrowId) {
        return account(AccountKey.escrowFunds(escrowId, Address.of(token)));
    }
}
