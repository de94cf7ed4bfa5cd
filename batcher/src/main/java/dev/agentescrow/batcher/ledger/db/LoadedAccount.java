package dev.agentescrow.batcher.ledger.db;

/**
 * An account with its exact committed totals, and whether transfers after the last checkpoint
 * touched it (then its row in {@code accounts} is behind and the next checkpoint rewrites it).
 */
public record LoadedAccount(AccountRow row, boolean afterCheckpoint) {
}
