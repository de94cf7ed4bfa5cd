package dev.agentescrow.backend.deposit.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.vault.VaultDeposit;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/deposits")
@Tag(name = "deposits", description = "Deposits into the vault: what to sign and send, and what arrived")
public class DepositController {
    /** Reorganisations of one deposit looked through at most; more is not a real chain. */
    private static final int MAX_INCARNATIONS_SHOWN = 8;

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

    public record DepositList(List<Deposit> items) {
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
    @Operation(summary = "The caller's deposits into the vault, with confirmations and whether the ledger credited them")
    public DepositList deposits() {
        Address owner = Principals.current();
        long head = chain.blockNumber();
        List<VaultDeposit> all = chain.depositsOf(owner);
        List<Deposit> items = all.reversed().stream().map(deposit -> view(deposit, ordinal(all, deposit), head)).toList();
        return new DepositList(items);
    }

    /** The deposit's place among the deposits of its transaction (the indexer's booking key). */
    private static int ordinal(List<VaultDeposit> all, VaultDeposit deposit) {
        return (int) all.stream().filter(other -> other.position().txHash().equals(deposit.position().txHash())
                && other.position().logIndex() < deposit.position().logIndex()).count();
    }

    /** Credited once the indexer posted a hold of this deposit (any incarnation: re-mined after a reorg). */
    private boolean credited(VaultDeposit deposit, int ordinal) {
        for (int incarnation = 0; incarnation < MAX_INCARNATIONS_SHOWN; incarnation++) {
            var hold = LedgerVaultEventSink.holdId(CustodyEvent.Kind.DEPOSIT, deposit.position().txHash(), ordinal, incarnation);
            if (ledger.transfer(LedgerVaultEventSink.postId(hold)).isPresent()) {
                return true;
            }
            if (ledger.transfer(hold).isEmpty()) {
                return false;
            }
        }
        return false;
    }

    private Deposit view(VaultDeposit deposit, int ordinal, long head) {
        boolean credited = credited(deposit, ordinal);
        return new Deposit(deposit.position().txHash().value(), deposit.position().logIndex(),
                deposit.position().blockNumber(), deposit.token().checksummed(), deposit.amount().baseUnits().toString(),
                Math.max(0, head - deposit.position().blockNumber() + 1), credited ? "CREDITED" : "PENDING");
    }
}
