package dev.agentescrow.backend.transfer.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.batcher.read.SettlementState;
import dev.agentescrow.batcher.read.SettlementStatus;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;

/**
 * A transfer as the API shows it: status COMMITTED, BATCHED (with batchId), SETTLED (with
 * settlement) or QUARANTINED; {@code sequence} is its commit position (pass it as
 * {@code X-Min-Sequence} to read your own write on any instance). History items carry the status
 * and batch too, without the settlement proof.
 *
 * @param kind SINGLE for a payment, withdrawal or settled deposit credit; PENDING, POST, VOID, EXPIRE for holds
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransferView(String id, String status, long sequence, Instant committedAt, String kind, String from,
                           String to, String token, String amount, String reference, Long batchId,
                           Settlement settlement) {

    public record Leaf(String transferId, String token, String from, String to, String amount) {
    }

    public record Settlement(long batchId, String txHash, Long blockNumber, String merkleRoot, Leaf leaf,
                             List<String> proof) {
    }

    /** A transfer with its status (and its settlement once SETTLED). */
    public static TransferView of(TransferRecord transfer, String status, Long batchId, Settlement settlement) {
        return new TransferView(transfer.id().toUuid().toString(), status, transfer.seq(), transfer.createdAt(),
                transfer.kind().name(), name(transfer.debit()), name(transfer.credit()),
                transfer.debit().token().checksummed(), transfer.amount().toString(), transfer.reference(), batchId,
                settlement);
    }

    /** A history item: the transfer with its status (COMMITTED, BATCHED, SETTLED, QUARANTINED) and batch, no proof. */
    public static TransferView item(TransferRecord transfer, SettlementStatus status) {
        if (status == null) {
            return of(transfer, SettlementState.COMMITTED.name(), null, null);
        }
        return of(transfer, status.state().name(), status.batchId().isPresent() ? status.batchId().getAsLong() : null,
                null);
    }

    static String name(AccountKey key) {
        return key.owner() != null ? key.owner().checksummed() : key.kind().name();
    }

    static Settlement settlement(InclusionProof proof, String txHash, Long blockNumber) {
        TransferLeaf leaf = proof.leaf();
        return new Settlement(proof.batchId(), txHash, blockNumber, proof.merkleRoot().hex(),
                new Leaf(leaf.transferId().toBytes32().hex(), leaf.token().checksummed(), leaf.from().checksummed(),
                        leaf.to().checksummed(), leaf.amount().baseUnits().toString()),
                proof.proof().stream().map(Bytes32::hex).toList());
    }
}
