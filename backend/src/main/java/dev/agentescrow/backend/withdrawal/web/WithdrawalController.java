package dev.agentescrow.backend.withdrawal.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.CreatedCursor;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.MinSequence;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.backend.transfer.AmountLimits;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.backend.withdrawal.Withdrawals;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
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
@RequestMapping("/api/v1/withdrawals")
@Tag(name = "withdrawals", description = "Debited at once, paid on chain by the next batch")
public class WithdrawalController {
    private static final String LIST = "w1";
    private final Withdrawals withdrawals;
    private final TokenCatalog tokens;
    private final AmountLimits limits;

    public WithdrawalController(Withdrawals withdrawals, TokenCatalog tokens, AmountLimits limits) {
        this.withdrawals = withdrawals;
        this.tokens = tokens;
        this.limits = limits;
    }

    public record WithdrawalOrder(String token, String amount) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record WithdrawalView(String id, String state, long sequence, String token, String amount,
                                 Instant createdAt, Long batchId, String txHash) {
        static WithdrawalView of(Withdrawals.Status status) {
            Withdrawals.Withdrawal w = status.withdrawal();
            return new WithdrawalView(w.id().toString(), status.state().name(), status.sequence(),
                    w.token().checksummed(), w.amount().toString(), w.createdAt(), status.batchId(),
                    status.txHash() == null ? null : status.txHash().value());
        }
    }

    /** @param nextCursor pass as {@code cursor} for the next page; absent on the last page */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record WithdrawalList(List<WithdrawalView> items, String nextCursor) {
    }

    @PostMapping
    @Operation(summary = "Withdraws from the caller's account to its own address; Idempotency-Key required")
    public ResponseEntity<WithdrawalView> withdraw(@RequestHeader("Idempotency-Key") String idempotencyKey,
                                                   @RequestBody WithdrawalOrder order) {
        Address owner = Principals.current();
        Inputs inputs = Inputs.check();
        Address token = inputs.address("token", order.token());
        BigInteger amount = inputs.amount("amount", order.amount());
        inputs.orThrow();
        if (tokens.find(token).isEmpty()) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_TOKEN", "the service does not accept this token");
        }
        if (!limits.withinTransferLimit(amount)) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "TRANSFER_LIMIT_EXCEEDED",
                    "the amount is above the per-transfer limit");
        }
        TransferId id = DerivedIds.of("withdrawal", owner, idempotencyKey, 0);
        TransferReceipt receipt = withdrawals.request(id, owner, token, amount);
        TransferResult result = receipt.result();
        if (result == TransferResult.INSUFFICIENT_FUNDS) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "INSUFFICIENT_FUNDS",
                    "the available balance is smaller than the amount");
        }
        if (result == TransferResult.EXISTS_WITH_DIFFERENT_CONTENT) {
            // The id derives from the key: a payment another principal made under it first (a guessed
            // key), or an earlier withdrawal under a key used again after its record expired.
            throw new ApiException(HttpStatus.CONFLICT, "TRANSFER_ID_CONFLICT",
                    "a different transfer with this withdrawal's id was committed earlier; retry under a new key");
        }
        if (!result.committed()) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, result.name(), "the ledger refused the withdrawal");
        }
        Withdrawals.Withdrawal created = withdrawals.find(id.toUuid())
                .orElseThrow(() -> new IllegalStateException("withdrawal " + id + " is not readable"));
        return ResponseEntity.status(HttpStatus.CREATED)
                .body(WithdrawalView.of(withdrawals.status(created, receipt.seq())));
    }

    @GetMapping("/{id}")
    @Operation(summary = "One of the caller's withdrawals: REQUESTED, BATCHED, PAID or CLAIMABLE")
    public WithdrawalView get(@PathVariable String id,
                              @RequestHeader(name = MinSequence.HEADER, required = false) String minSequenceHeader,
                              @RequestParam(name = MinSequence.PARAMETER, required = false) String minSequence) {
        Address owner = Principals.current();
        long atLeast = MinSequence.parse(minSequenceHeader, minSequence);
        UUID uuid = Inputs.check().uuid("id", id);
        if (uuid == null) {
            throw ApiException.notFound("withdrawal");
        }
        return withdrawals.find(uuid).filter(w -> w.owner().equals(owner)).map(w -> withdrawals.status(w, atLeast))
                .map(WithdrawalView::of).orElseThrow(() -> ApiException.notFound("withdrawal"));
    }

    @GetMapping
    @Operation(summary = "The caller's withdrawals with their state, newest first; keyset pages: pass nextCursor as "
            + "cursor")
    public WithdrawalList list(
            @Parameter(description = "nextCursor of the previous page (opaque); absent for the first page")
            @RequestParam(required = false) String cursor,
            @Parameter(description = "page size, 1 to 100 (default 50)") @RequestParam(required = false) String limit) {
        Address owner = Principals.current();
        Optional<CreatedCursor.Position> before = cursor == null ? Optional.empty()
                : Optional.of(CreatedCursor.decode(LIST, cursor));
        int size = Paging.limit(limit, Paging.MAX_LIMIT);
        List<Withdrawals.Withdrawal> page = withdrawals.of(owner, before, size + 1);
        List<Withdrawals.Withdrawal> shown = page.size() > size ? page.subList(0, size) : page;
        return new WithdrawalList(shown.stream().map(withdrawals::status).map(WithdrawalView::of).toList(),
                page.size() > size ? CreatedCursor.encode(LIST, shown.getLast().position()) : null);
    }
}
