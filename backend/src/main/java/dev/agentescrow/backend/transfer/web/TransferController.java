package dev.agentescrow.backend.transfer.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.gateway.LedgerTransfer;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.backend.transfer.Payments;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/transfers")
@Tag(name = "transfers", description = "Micropayments between accounts, final once acknowledged")
public class TransferController {
    private final Payments payments;
    private final LedgerGateway ledger;
    private final SettlementGateway settlement;
    private final int maxBatch;

    public TransferController(Payments payments, LedgerGateway ledger, SettlementGateway settlement,
                              BackendProperties properties) {
        this.payments = payments;
        this.ledger = ledger;
        this.settlement = settlement;
        this.maxBatch = Math.min(properties.limits().maxBatchTransfers(), ledger.maxSubmissionSize());
    }

    /** A payment order; {@code id} (a UUID) is optional: without it the id derives from the Idempotency-Key. */
    public record TransferOrder(String to, String token, String amount, String reference, String id) {
    }

    public record BatchOrder(List<TransferOrder> transfers, Boolean atomic) {
    }

    public record ItemResult(int index, String status, String id, String code) {
    }

    public record BatchResult(List<ItemResult> results) {
    }

    @PostMapping
    @Operation(summary = "Pays from the caller's account; 201 once durable. Idempotency-Key required.")
    public ResponseEntity<TransferView> transfer(
            @Parameter(description = "IETF Idempotency-Key") @RequestHeader("Idempotency-Key") String idempotencyKey,
            @RequestBody TransferOrder order) {
        Address from = Principals.current();
        Inputs inputs = Inputs.check();
        Payments.Order parsed = parse(inputs, from, order, idempotencyKey, 0);
        inputs.orThrow();
        Payments.Outcome outcome = payments.pay(from, List.of(parsed), false).getFirst();
        if (!outcome.committed()) {
            throw refusal(outcome);
        }
        LedgerTransfer committed = ledger.transfer(outcome.id())
                .orElseThrow(() -> new IllegalStateException("committed transfer " + outcome.id() + " is not readable"));
        return ResponseEntity.status(HttpStatus.CREATED)
                .body(TransferView.of(committed, dev.agentescrow.backend.gateway.MovementState.committed()));
    }

    @PostMapping("/batch")
    @Operation(summary = "Up to 1,000 payments in one request, one result each; atomic: all or none")
    public ResponseEntity<BatchResult> batch(@RequestHeader("Idempotency-Key") String idempotencyKey,
                                             @RequestBody BatchOrder batch) {
        Address from = Principals.current();
        if (batch.transfers() == null || batch.transfers().isEmpty()) {
            throw ApiException.invalidField("transfers", "REQUIRED", "at least one transfer");
        }
        if (batch.transfers().size() > maxBatch) {
            throw ApiException.invalidField("transfers", "TOO_MANY", "at most " + maxBatch + " transfers");
        }
        boolean atomic = Boolean.TRUE.equals(batch.atomic());
        List<Payments.Order> orders = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        ItemResult[] results = new ItemResult[batch.transfers().size()];
        Inputs all = Inputs.check();
        for (int i = 0; i < batch.transfers().size(); i++) {
            TransferOrder item = batch.transfers().get(i);
            Inputs inputs = Inputs.check("transfers[" + i + "].");
            Payments.Order parsed = item == null ? inputs.error("", "REQUIRED", "required")
                    : parse(inputs, from, item, idempotencyKey, i);
            if (inputs.ok()) {
                orders.add(parsed);
                positions.add(i);
            } else {
                results[i] = new ItemResult(i, "REJECTED", null, "VALIDATION_FAILED");
                inputs.errors().forEach(e -> all.error(e.get("field"), e.get("code"), e.get("message")));
            }
        }
        if (atomic) {
            all.orThrow();
        }
        List<Payments.Outcome> outcomes = payments.pay(from, orders, atomic);
        boolean allCommitted = orders.size() == results.length;
        for (int k = 0; k < outcomes.size(); k++) {
            Payments.Outcome outcome = outcomes.get(k);
            int index = positions.get(k);
            String id = outcome.id().toUuid().toString();
            results[index] = outcome.committed() ? new ItemResult(index, "COMMITTED", id, null)
                    : new ItemResult(index, "REJECTED", id, outcome.code());
            allCommitted &= outcome.committed();
        }
        return ResponseEntity.status(allCommitted ? HttpStatus.CREATED : HttpStatus.OK)
                .body(new BatchResult(List.of(results)));
    }

    @GetMapping("/{id}")
    @Operation(summary = "A transfer the caller sent or received, with its settlement proof once SETTLED")
    public TransferView get(@PathVariable String id) {
        Address me = Principals.current();
        if (!TransferId.isValid(id)) {
            throw ApiException.notFound("transfer");
        }
        TransferId transferId = TransferId.parse(id);
        LedgerTransfer transfer = ledger.transfer(transferId).filter(t -> t.involves(me))
                .orElseThrow(() -> ApiException.notFound("transfer"));
        return TransferView.of(transfer, settlement.stage(transferId));
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
