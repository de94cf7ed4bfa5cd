package dev.agentescrow.backend.deposit.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.read.CustodyHoldKey;
import dev.agentescrow.batcher.read.CustodyHoldView;
import dev.agentescrow.batcher.read.CustodyHolds;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.vault.VaultDeposit;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/deposits")
@Tag(name = "deposits", description = "Deposits into the vault: what to sign and send, and what arrived")
public class DepositController {
    /** The largest page. */
    static final int MAX_LIMIT = 500;

    /** How long a permit from the instructions stays valid. */
    static final Duration PERMIT_VALIDITY = Duration.ofHours(1);
    static final String DEPOSIT_FUNCTION = "depositWithPermit(address,uint256,uint256,uint8,bytes32,bytes32)";

    private final ChainGateway chain;
    private final LedgerGateway ledger;
    private final TokenCatalog tokens;
    private final Clock clock;

    public DepositController(ChainGateway chain, LedgerGateway ledger, TokenCatalog tokens, Clock clock) {
        this.chain = chain;
        this.ledger = ledger;
        this.tokens = tokens;
        this.clock = clock;
    }

    public record Permit(Map<String, Object> domain, Map<String, List<Map<String, String>>> types, String primaryType,
                         Map<String, String> message) {
    }

    public record Call(String to, String function, List<String> args) {
    }

    public record Instructions(String vault, String token, String amount, Permit permit, Call call) {
    }

    public record Deposit(String txHash, long logIndex, long blockNumber, String token, String amount,
                          long confirmations, String state) {
    }

    /** @param nextCursor pass as {@code cursor} for the next page; absent on the last page */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DepositList(List<Deposit> items, String nextCursor) {
    }

    @GetMapping("/instructions")
    @Operation(summary = "The EIP-2612 permit to sign (signTypedData(domain, types, message)) and the vault call to send")
    public Instructions instructions(@RequestParam(required = false) String token,
                                     @RequestParam(required = false) String amount) {
        Address owner = Principals.current();
        Inputs inputs = Inputs.check();
        Address tokenAddress = inputs.address("token", token);
        BigInteger value = inputs.amount("amount", amount);
        inputs.orThrow();
        if (tokens.find(tokenAddress).isEmpty()) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_TOKEN", "the service does not accept this token");
        }
        ChainGateway.PermitDomain domain = chain.permitDomain(tokenAddress);
        String deadline = Long.toString(clock.instant().plus(PERMIT_VALIDITY).getEpochSecond());
        Map<String, String> message = new LinkedHashMap<>();
        message.put("owner", owner.checksummed());
        message.put("spender", chain.vault().checksummed());
        message.put("value", value.toString());
        message.put("nonce", chain.permitNonce(tokenAddress, owner).toString());
        message.put("deadline", deadline);
        List<Map<String, String>> permitType = List.of(
                Map.of("name", "owner", "type", "address"), Map.of("name", "spender", "type", "address"),
                Map.of("name", "value", "type", "uint256"), Map.of("name", "nonce", "type", "uint256"),
                Map.of("name", "deadline", "type", "uint256"));
        return new Instructions(chain.vault().checksummed(), tokenAddress.checksummed(), value.toString(),
                new Permit(domain.domain(), Map.of("Permit", permitType), "Permit", message),
                new Call(chain.vault().checksummed(), DEPOSIT_FUNCTION,
                        List.of(tokenAddress.checksummed(), value.toString(), deadline, "<v>", "<r>", "<s>")));
    }

    @GetMapping
    @Operation(summary = "The caller's deposits into the vault, newest first, in keyset pages (pass nextCursor as "
            + "cursor): PENDING (on chain, not yet booked), HELD (booked at the confirmations, not yet spendable), "
            + "CREDITED (spendable), VOIDED (its block left the chain), REJECTED (the ledger refused it: a token it "
            + "does not accept)")
    public DepositList deposits(
            @Parameter(description = "nextCursor of the previous page (opaque); absent for the first page")
            @RequestParam(required = false) String cursor,
            @Parameter(description = "page size, 1 to 500 (default 50)") @RequestParam(required = false) String limit) {
        Address owner = Principals.current();
        Optional<CustodyHoldKey> before = cursor == null ? Optional.empty() : Optional.of(DepositCursor.decode(cursor));
        int size = Paging.limit(limit, MAX_LIMIT);
        long head = chain.blockNumber();
        // One booking more than the page: a page whose bookings are all distinct events is then known complete.
        CustodyHolds booked = ledger.deposits(owner, before, size + 1);
        long from = booked.checkpointBlock().isPresent() ? booked.checkpointBlock().getAsLong() + 1 : 0;
        return page(list(owner, head, booked, chain.depositsBetween(from, head)), booked.cut(), before, size);
    }

    /**
     * The page of {@code items} below {@code before}: an item shows where its event's shown booking
     * sorts, so every event is on exactly one page however its bookings spread over blocks. Items
     * below the bookings' {@code cut} may lack bookings not read yet and wait for the next page.
     */
    static DepositList page(List<Item> items, Optional<CustodyHoldKey> cut, Optional<CustodyHoldKey> before,
                            int size) {
        List<Item> kept = items.stream()
                .filter(item -> before.isEmpty() || item.key().compareTo(before.get()) < 0)
                .filter(item -> cut.isEmpty() || item.key().compareTo(cut.get()) >= 0)
                .sorted(Comparator.comparing(Item::key).reversed())
                .toList();
        if (kept.size() > size) {
            List<Item> shown = kept.subList(0, size);
            return new DepositList(shown.stream().map(Item::deposit).toList(),
                    DepositCursor.encode(shown.getLast().key()));
        }
        return new DepositList(kept.stream().map(Item::deposit).toList(), cut.map(DepositCursor::encode).orElse(null));
    }

    /** A listed deposit with where it sorts. */
    public record Item(CustodyHoldKey key, Deposit deposit) {
    }

    /**
     * The deposit list from the indexer's bookings of {@code owner}'s deposits and the vault's
     * deposits the chain shows after the indexer's checkpoint ({@code recent}, anyone's): a booking
     * that stands gives HELD, CREDITED or REJECTED; a recent deposit of the owner with no standing
     * booking of the same tx hash and log index is PENDING; an event whose bookings were all voided
     * and that the chain does not show again is VOIDED (at its newest booking). Unsorted.
     */
    static List<Item> list(Address owner, long head, CustodyHolds booked, List<VaultDeposit> recent) {
        Map<String, CustodyHoldView> live = new LinkedHashMap<>();
        Map<String, CustodyHoldView> voided = new LinkedHashMap<>();
        for (CustodyHoldView hold : booked.holds()) {
            String event = hold.txHash().value() + "#" + hold.ordinal();
            if (hold.live()) {
                live.put(event, hold);
            } else {
                voided.merge(event, hold, (a, b) -> CustodyHoldKey.of(a).compareTo(CustodyHoldKey.of(b)) >= 0 ? a : b);
            }
        }
        List<VaultDeposit> unbooked = new ArrayList<>();
        for (VaultDeposit deposit : recent) {
            boolean held = live.values().stream().anyMatch(hold -> sameLog(hold, deposit));
            if (deposit.account().equals(owner) && !held) {
                unbooked.add(deposit);
            }
        }
        List<Item> items = new ArrayList<>();
        unbooked.forEach(d -> items.add(new Item(
                new CustodyHoldKey(d.position().blockNumber(), d.position().logIndex(), d.position().txHash()),
                new Deposit(d.position().txHash().value(), d.position().logIndex(), d.position().blockNumber(),
                        d.token().checksummed(), d.amount().baseUnits().toString(),
                        confirmations(head, d.position().blockNumber()), DepositState.PENDING.name()))));
        live.values().forEach(hold -> items.add(item(hold, confirmations(head, hold.blockNumber()), state(hold))));
        voided.forEach((event, hold) -> {
            boolean minedAgain = live.containsKey(event)
                    || unbooked.stream().anyMatch(d -> d.position().txHash().equals(hold.txHash()));
            if (!minedAgain) {
                items.add(item(hold, 0, DepositState.VOIDED));
            }
        });
        return items;
    }

    /** What the deposit list says of a deposit. */
    public enum DepositState { PENDING, HELD, CREDITED, VOIDED, REJECTED }

    /** A booking's state as the list says it (an if-chain: a switch on another class's enum adds a synthetic class). */
    static DepositState state(CustodyHoldView hold) {
        if (hold.state() == CustodyHold.State.PENDING) {
            return DepositState.HELD;
        }
        if (hold.state() == CustodyHold.State.POSTED) {
            return DepositState.CREDITED;
        }
        return hold.state() == CustodyHold.State.REJECTED ? DepositState.REJECTED : DepositState.VOIDED;
    }

    private static boolean sameLog(CustodyHoldView hold, VaultDeposit deposit) {
        return hold.txHash().equals(deposit.position().txHash()) && hold.logIndex() == deposit.position().logIndex();
    }

    private static long confirmations(long head, long block) {
        return Math.max(0, head - block + 1);
    }

    private static Item item(CustodyHoldView hold, long confirmations, DepositState state) {
        return new Item(CustodyHoldKey.of(hold), new Deposit(hold.txHash().value(), hold.logIndex(),
                hold.blockNumber(), hold.token().checksummed(), hold.amount().toString(), confirmations, state.name()));
    }
}
