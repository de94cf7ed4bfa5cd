package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.LogPosition;

/**
 * A {@code Frozen} event: the vault froze for good, because {@code by} named {@code account}'s
 * overdue forced withdrawal of {@code token}, or used the open escape hatch ({@code account} =
 * {@code by}). No batch settles afterwards; every account takes its settled balance out alone.
 */
public record VaultFrozen(Address by, Address token, Address account, LogPosition position) {
}
