package dev.agentescrow.backend.transfer.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.common.web.MinSequence;
import dev.agentescrow.backend.gateway.BatchView;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.backend.idempotency.ClaimedWithFirstWrite;
import dev.agentescrow.backend.idempotency.IdempotencyFilter;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.backend.transfer.Payments;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.SettlementState;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.math.BigInteger;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/transfers")
@Tag(name = "transfers", description = "Micropayments between accounts, final once acknowledged")
public class TransferController {
    private final Payments payments;
    private final LedgerGateway ledger;
    private final SettlementGateway settlement;
    private final int maxBatchTransfers;
    /** Confirmed batches never change: their transaction and block, kept after the first read. */
    private final java.util.Map<Long, BatchView> confirmedBatches = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_CACHED_BATCHES = 10_000;

    public TransferController(Payments payments, LedgerGateway ledger, SettlementGateway settlement,
                              BackendProperties properties) {
        this.payments = payments;
        this.ledger = ledger;
        this.settlement = settlement;
        this.maxBatchTransfers = properties.limits().maxBatchTransfers();
    }

    /** A payment order; {@code id} (a UUID) is optional: without it the id derives from the Idempotency-Key. */
    public record TransferOrder(String to, String token, String amount, String reference, String id) {
    }

    public record BatchOrder(List<TransferOrder> transfers, Boolean atomic) {
    }

    /** One item's outcome: COMMITTED with its {@code sequence}, or REJECTED with a {@code code}. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record ItemResult(int index, String status, String id, String code, Long sequence) {
    }

    public record BatchResult(List<ItemResult> results) {
    }

    @PostMapping
    @ClaimedWithFirstWrite
    @Operation(summary = "Pays from the caller's account; 201 once durable. Idempotency-Key required.")
    public ResponseEntity<TransferView> transfer(
            @Parameter(description = "IETF Idempotency-Key") @RequestHeader("Idempotency-Key") String idempotencyKey,
            @RequestBody TransferOrder order, HttpServletRequest request) {
        Address from = Principals.current();
        Inputs inputs = Inputs.check();
        Payments.Order parsed = parse(inputs, from, order, idempotencyKey, 0);
        inputs.orThrow();
        // The id is the client's or derives from the key; the answer is the ledger's receipt of it.
        IdempotencyFilter.rederivableFromTheLedger(request);
        Payments.Outcome outcome = payments.pay(from, List.of(parsed), false, IdempotencyFilter.pendingClaim(request))
                .getFirst();
        if (!outcome.committed()) {
            throw refusal(outcome);
        }
        // The time as the ledger keeps it (microseconds), so the answer equals every later read of the
        // transfer and a run again after a lost stored response answers the same body.
        return ResponseEntity.status(HttpStatus.CREATED).body(new TransferView(parsed.id().toUuid().toString(),
                SettlementState.COMMITTED.name(), outcome.receipt().seq(),
                outcome.receipt().committedAt().truncatedTo(ChronoUnit.MICROS),
                "SINGLE", from.checksummed(), parsed.to().checksummed(), parsed.token().checksummed(),
                parsed.amount().toString(), parsed.reference(), null, null));
    }

    @PostMapping("/batch")
    @ClaimedWithFirstWrite
    @Operation(summary = "Up to 1,000 payments in one request, one result each; atomic: all or none")
    public ResponseEntity<BatchResult> batch(@RequestHeader("Idempotency-Key") String idempotencyKey,
                                             @RequestBody BatchOrder batch, HttpServletRequest request) {
        Address from = Principals.current();
        IdempotencyFilter.rederivableFromTheLedger(request);
        if (batch.transfers() == null || batch.transfers().isEmpty()) {
            throw ApiException.invalidField("transfers", "REQUIRED", "at least one transfer");
        }
        int maxBatch = Math.min(maxBatchTransfers, ledger.maxSubmissionSize());
        if (batch.transfers().size() > maxBatch) {
            throw ApiException.invalidField("transfers", "TOO_MANY", "at most " + maxBatch + " transfers");
        }
        boolean atomic = Boolean.TRUE.equals(batch.atomic());
        List<Payments.Order> orders = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        ItemResult[] results = new ItemResult[batch.transfers().size()];
        Inputs all = Inputs.check();
        java.util.Map<TransferId, Integer> indexOfId = new java.util.HashMap<>();
        for (int i = 0; i < batch.transfers().size(); i++) {
            TransferOrder item = batch.transfers().get(i);
            Inputs inputs = Inputs.check("transfers[" + i + "].");
            Payments.Order parsed = item == null ? inputs.error("", "REQUIRED", "required")
                    : parse(inputs, from, item, idempotencyKey, i);
            if (parsed != null) {
                Integer earlier = indexOfId.putIfAbsent(parsed.id(), i);
                if (earlier != null) {
                    // One id is one transfer: a repeat would be answered as the first or, in a
                    // linked group, fail the group for a reason that is not the client's amounts.
                    parsed = inputs.error("id", "DUPLICATE_ID", "repeats transfers[" + earlier + "].id");
                }
            }
            if (inputs.ok()) {
                orders.add(parsed);
                positions.add(i);
            } else {
                results[i] = new ItemResult(i, "REJECTED", null, "VALIDATION_FAILED", null);
                inputs.errors().forEach(e -> all.error(e.get("field"), e.get("code"), e.get("message")));
            }
        }
        if (atomic) {
            all.orThrow();
        }
        List<Payments.Outcome> outcomes = payments.pay(from, orders, atomic, IdempotencyFilter.pendingClaim(request));
        boolean allCommitted = orders.size() == results.length;
        for (int k = 0; k < outcomes.size(); k++) {
            Payments.Outcome outcome = outcomes.get(k);
            int index = positions.get(k);
            String id = outcome.id().toUuid().toString();
            results[index] = outcome.committed() ? new ItemResult(index, "COMMITTED", id, null, outcome.receipt().seq())
                    : new ItemResult(index, "REJECTED", id, outcome.code(), null);
            allCommitted &= outcome.committed();
        }
        return ResponseEntity.status(allCommitted ? HttpStatus.CREATED : HttpStatus.OK)
                .body(new BatchResult(List.of(results)));
    }

    @GetMapping("/{id}")
    @Operation(summary = "A transfer the caller sent or received, with its settlement proof once SETTLED; "
            + "X-Min-Sequence / minSequence: wait for the caller's write with that sequence")
    public TransferView get(@PathVariable String id,
                            @Parameter(in = ParameterIn.HEADER, name = MinSequence.HEADER,
                                    description = "a write's sequence to include")
                            @RequestHeader(name = MinSequence.HEADER, required = false) String minSequenceHeader,
                            @RequestParam(name = MinSequence.PARAMETER, required = false) String minSequence) {
        Address me = Principals.current();
        long atLeast = MinSequence.parse(minSequenceHeader, minSequence);
        if (!TransferId.isValid(id)) {
            throw ApiException.notFound("transfer");
        }
        var view = MinSequence.require(ledger.transfer(TransferId.parse(id), atLeast))
                .filter(v -> involves(v.transfer(), me))
                .orElseThrow(() -> ApiException.notFound("transfer"));
        Long batchId = view.batchId().isPresent() ? view.batchId().getAsLong() : null;
        TransferView.Settlement settled = view.proof().map(proof -> {
            Optional<BatchView> batch = confirmedBatch(proof.batchId());
            return TransferView.settlement(proof, batch.map(b -> b.txHash() == null ? null : b.txHash().value())
                    .orElse(null), batch.flatMap(b -> b.blockNumber().isPresent()
                    ? Optional.of(b.blockNumber().getAsLong()) : Optional.empty()).orElse(null));
        }).orElse(null);
        return TransferView.of(view.transfer(), view.state().name(), batchId, settled);
    }

    /** Whether {@code owner}'s own account is the payer or the payee. */
    static boolean involves(TransferRecord transfer, Address owner) {
        return owner.equals(transfer.debit().owner()) || owner.equals(transfer.credit().owner());
    }

    private Optional<BatchView> confirmedBatch(long batchId) {
        BatchView known = confirmedBatches.get(batchId);
        if (known != null) {
            return Optional.of(known);
        }
        Optional<BatchView> batch = settlement.batch(batchId);
        batch.filter(b -> b.state() == BatchState.CONFIRMED).ifPresent(b -> {
            if (confirmedBatches.size() > MAX_CACHED_BATCHES) {
                confirmedBatches.clear();
            }
            confirmedBatches.put(batchId, b);
        });
        return batch;
    }

    private static Payments.Order parse(Inputs inputs, Address from, TransferOrder order, String idempotencyKey,
                                        int index) {
        Address to = inputs.address("to", order.to());
        Address token = inputs.address("token", order.token());
        BigInteger amount = inputs.amount("amount", order.amount());
        String reference = inputs.reference("reference", order.reference());
        UUID id = inputs.uuid("id", order.id());
        if (to != null && to.equals(from)) {
            inputs.error("to", "SAME_ACCOUNT", "cannot pay yourself");
        }
        TransferId transferId = id != null ? TransferId.of(id) : DerivedIds.of("transfer", from, idempotencyKey, index);
        if (transferId.isReserved()) {
            inputs.error("id", "RESERVED_ID", "ids starting ffffffff are reserved; choose another");
        }
        return inputs.ok() ? new Payments.Order(transferId, to, token, amount, reference) : null;
    }

    static ApiException refusal(Payments.Outcome outcome) {
        String code = outcome.code();
        if (outcome.result() == TransferResult.EXISTS_WITH_DIFFERENT_CONTENT) {
            return new ApiException(HttpStatus.CONFLICT, "TRANSFER_ID_CONFLICT",
                    "a different transfer with this id was committed earlier");
        }
        if (outcome.result() == TransferResult.TOO_MANY_ACCOUNTS || outcome.result() == TransferResult.TOO_MANY_PENDING) {
            return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, code, "the ledger is at its configured capacity");
        }
        return new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, code, describe(code), List.of(), Map.of());
    }

    private static String describe(String code) {
        return switch (code) {
            case "INSUFFICIENT_FUNDS" -> "the available balance is smaller than the amount";
            case "UNKNOWN_TOKEN" -> "the service does not accept this token";
            case "TRANSFER_LIMIT_EXCEEDED" -> "the amount is above the per-transfer limit";
            case "DAILY_LIMIT_EXCEEDED" -> "the amount would pass today's limit for this account";
            case "AMOUNT_EXCEEDS_LIMIT" -> "the amount is above the token's transfer limit";
            case "BALANCE_EXCEEDS_LIMIT" -> "the payee's balance would pass the token's balance limit";
            default -> "the ledger refused the transfer: " + code;
        };
    }
}
