package dev.agentescrow.backend.batch.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.gateway.BatchView;
import dev.agentescrow.backend.gateway.SettlementGateway;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/batches")
@Tag(name = "batches", description = "Settlement batches: state, transaction, gas, Merkle root")
public class BatchController {
    private final SettlementGateway settlement;

    public BatchController(SettlementGateway settlement) {
        this.settlement = settlement;
    }

    /**
     * A settlement batch. {@code gasPerTransfer} is gas per movement: the applying transaction's gas
     * divided by {@code transferCount + withdrawalCount} (each movement is one Merkle leaf and one
     * netted delta), so a withdrawal-only batch shows gas per withdrawal; absent until confirmed.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Batch(long id, String state, String txHash, Long gasUsed,
                        @Schema(description = "gas per movement: gasUsed / (transferCount + withdrawalCount), "
                                + "integer division; absent until CONFIRMED") Long gasPerTransfer,
                        int transferCount, int withdrawalCount, int accountCount, String merkleRoot) {
        static Batch of(BatchView view) {
            return new Batch(view.id(), view.state().name(), view.txHash() == null ? null : view.txHash().value(),
                    view.gasUsed().isPresent() ? view.gasUsed().getAsLong() : null,
                    view.gasPerMovement().isPresent() ? view.gasPerMovement().getAsLong() : null,
                    view.transferCount(), view.withdrawalCount(), view.accountCount(), view.merkleRoot().hex());
        }
    }

    public record BatchList(List<Batch> items) {
    }

    @GetMapping
    @Operation(summary = "Settlement batches, newest first (any instance)")
    public BatchList list(@Parameter(description = "1 to 500") @RequestParam(defaultValue = "50") int limit,
                          @Parameter(description = "only batches with an id below this one (keyset paging)")
                          @RequestParam(required = false) Long before) {
        if (limit < 1 || limit > 500) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to 500");
        }
        if (before != null && before < 1) {
            throw ApiException.invalidField("before", "OUT_OF_RANGE", "a batch id, at least 1");
        }
        return new BatchList(settlement.batches(before == null ? Long.MAX_VALUE : before, limit).stream()
                .map(Batch::of).toList());
    }

    @GetMapping("/{id}")
    @Operation(summary = "One settlement batch (any instance)")
    public Batch get(@PathVariable long id) {
        return settlement.batch(id).map(Batch::of).orElseThrow(() -> ApiException.notFound("batch"));
    }
}
