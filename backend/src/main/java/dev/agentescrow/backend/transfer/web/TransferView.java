package dev.agentescrow.backend.transfer.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.gateway.LedgerTransfer;
import dev.agentescrow.backend.gateway.MovementState;
import dev.agentescrow.backend.gateway.SettledMovement;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;

/** A transfer as the API shows it: status COMMITTED, BATCHED (with batchId) or SETTLED (with settlement). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransferView(String id, String status, long sequence, Instant committedAt, String from, String to,
                           String token, String amount, String reference, Long batchId, Settlement settlement) {

    public record Leaf(String transferId, String token, String from, String to, String amount) {
    }

    public record Settlement(long batchId, String txHash, long blockNumber, String merkleRoot, Leaf leaf,
                             List<String> proof) {
    }

    public static TransferView of(LedgerTransfer transfer, MovementState state) {
        Settlement settlement = state.settled().map(TransferView::settlement).orElse(null);
        return new TransferView(transfer.id().toUuid().toString(), state.stage().name(), transfer.sequence(),
                transfer.committedAt(), name(transfer.debit()), name(transfer.credit()),
                transfer.token().checksummed(), transfer.amount().toString(), transfer.reference(),
                state.batchId().isPresent() ? state.batchId().getAsLong() : null, settlement);
    }

    static String name(AccountKey key) {
        return key.owner() != null ? key.owner().checksummed() : key.kind().name();
    }

    private static Settlement settlement(SettledMovement settled) {
        TransferLeaf leaf = settled.proof().leaf();
        return new Settlement(settled.proof().batchId(), settled.txHash().value(), settled.blockNumber(),
                settled.proof().merkleRoot().hex(),
                new Leaf(leaf.transferId().toBytes32().hex(), leaf.token().checksummed(), leaf.from().checksummed(),
                        leaf.to().checksummed(), leaf.amount().baseUnits().toString()),
                settled.proof().proof().stream().map(Bytes32::hex).toList());
    }
}
