package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A settlement batch as stored: its state, Merkle root, how many movements it carries and, once
 * confirmed, the transaction, block and gas. A batch id with a REVERTED row and a later row shows the later.
 *
 * @param movements       transfers plus withdrawals
 * @param gasUsed         gas of the transaction that applied it, once confirmed
 * @param accountCount    distinct addresses its movements name (payers, payees, withdrawers)
 * @param movedAmount     the sum of its movements' amounts (any tokens, base units)
 * @param lastSentTxHash  the last settlement transaction signed for this row, if any (the applying one once confirmed)
 */
public record BatchView(long batchId, BatchState state, Bytes32 merkleRoot, int movements,
                        Optional<String> confirmedTxHash, OptionalLong confirmedBlock, Optional<String> failure,
                        Instant createdAt, Instant updatedAt, OptionalLong gasUsed, int transferCount,
                        int withdrawalCount, int accountCount, BigInteger movedAmount, Optional<String> lastSentTxHash) {
}
