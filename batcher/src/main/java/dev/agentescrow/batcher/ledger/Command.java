package dev.agentescrow.batcher.ledger;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A unit of work queued for the writer; its future completes only after the group commits. */
sealed interface Command {
    /** How many transfers (or writes) this command may add to a group. */
    int size();

    CompletableFuture<?> future();

    /**
     * Transfers; {@code system} for the batcher's own (reserved ids allowed, no client limits);
     * {@code audit} (or null) is recorded for every transfer that commits now, in the same transaction.
     */
    record Submit(List<TransferRequest> requests, boolean system, ServiceAudit audit,
                  CompletableFuture<List<TransferReceipt>> future) implements Command {
        @Override
        public int size() {
            return requests.size();
        }
    }

    record Expire(int limit, CompletableFuture<Integer> future) implements Command {
        @Override
        public int size() {
            return limit;
        }
    }

    record RegisterToken(Token token, String actor, String reason, CompletableFuture<TokenRegistration> future)
            implements Command {
        @Override
        public int size() {
            return 1;
        }
    }
}
