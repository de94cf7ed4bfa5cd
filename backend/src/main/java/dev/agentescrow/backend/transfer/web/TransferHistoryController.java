package dev.agentescrow.backend.transfer.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.MinSequence;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.read.HistoryPage;
import dev.agentescrow.batcher.read.SettlementStatus;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The caller's history, newest first, with keyset pagination: the cursor is an opaque token for
 * "transfers committed before this one". Sequences are assigned by the ledger's single writer and
 * committed in order, so pages never repeat or skip a transfer while others commit (new transfers
 * show on a new first page).
 */
@RestController
@RequestMapping("/api/v1/accounts/me/transfers")
@Tag(name = "accounts")
public class TransferHistoryController {
    public static final int MAX_LIMIT = 500;
    private static final String CURSOR_PREFIX = "h1:";

    private final LedgerGateway ledger;

    public TransferHistoryController(LedgerGateway ledger) {
        this.ledger = ledger;
    }

    /** @param nextCursor pass as {@code cursor} for the next page; absent on the last page */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record History(List<TransferView> items, String nextCursor) {
    }

    @GetMapping
    @Operation(summary = "The caller's transfers (sent, received, deposits credited, withdrawals), newest first; "
            + "keyset pages: pass nextCursor as cursor")
    public History history(
            @Parameter(description = "nextCursor of the previous page (opaque); absent for the first page")
            @RequestParam(required = false) String cursor,
            @Parameter(description = "page size, 1 to 500") @RequestParam(required = false) String limit,
            @Parameter(description = "only this token") @RequestParam(required = false) String token,
            @Parameter(in = ParameterIn.HEADER, name = MinSequence.HEADER, description = "a write's sequence to include")
            @RequestHeader(name = MinSequence.HEADER, required = false) String minSequenceHeader,
            @RequestParam(name = MinSequence.PARAMETER, required = false) String minSequence) {
        Address me = Principals.current();
        long before = cursor == null ? Long.MAX_VALUE : decode(cursor);
        Inputs inputs = Inputs.check();
        int size = 50;
        if (limit != null) {
            size = limit.matches("[0-9]{1,4}") ? Integer.parseInt(limit) : 0;
            if (size < 1 || size > MAX_LIMIT) {
                inputs.error("limit", "OUT_OF_RANGE", "1 to " + MAX_LIMIT);
            }
        }
        Optional<Address> only = Optional.ofNullable(token == null ? null : inputs.address("token", token));
        inputs.orThrow();
        long atLeast = MinSequence.parse(minSequenceHeader, minSequence);
        HistoryPage page = MinSequence.require(ledger.history(me, only, before, size, atLeast)).orElseThrow();
        Map<TransferId, SettlementStatus> states = ledger.settlementStates(
                page.entries().stream().map(TransferRecord::id).toList());
        return new History(page.entries().stream().map(t -> TransferView.item(t, states.get(t.id()))).toList(),
                page.nextCursor().isPresent() ? encode(page.nextCursor().getAsLong()) : null);
    }

    static String encode(long beforeSequence) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((CURSOR_PREFIX + beforeSequence).getBytes(StandardCharsets.US_ASCII));
    }

    /** The sequence a cursor stands for; anything else is 400 INVALID_CURSOR. */
    static long decode(String cursor) {
        try {
            String text = cursor.length() <= 64
                    ? new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII) : "";
            if (text.startsWith(CURSOR_PREFIX) && text.substring(CURSOR_PREFIX.length()).matches("[1-9][0-9]{0,17}")) {
                return Long.parseLong(text.substring(CURSOR_PREFIX.length()));
            }
        } catch (IllegalArgumentException e) {
            throw invalidCursor();
        }
        throw invalidCursor();
    }

    private static ApiException invalidCursor() {
        return new ApiException(HttpStatus.BAD_REQUEST, "INVALID_CURSOR",
                "cursor is not a nextCursor this service gave out");
    }
}
