package dev.agentescrow.backend.account.web;

import dev.agentescrow.backend.account.SettledBalances;
import dev.agentescrow.backend.common.web.MinSequence;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/accounts")
@Tag(name = "accounts")
public class AccountController {
    private final LedgerGateway ledger;
    private final TokenCatalog tokens;
    private final SettledBalances settled;

    public AccountController(LedgerGateway ledger, TokenCatalog tokens, SettledBalances settled) {
        this.ledger = ledger;
        this.tokens = tokens;
        this.settled = settled;
    }

    /**
     * One token's balances: {@code available} to spend now, {@code held} by the caller's pending
     * transfers, {@code incoming} pending to the caller, {@code pendingWithdrawal} debited and not
     * yet paid on chain, {@code settledOnChain} the caller's balance in the vault as of the last batch
     * (read at the chain's newest block, known to within 100 ms: {@link SettledBalances}).
     */
    public record Balance(String token, String available, String held, String incoming, String pendingWithdrawal,
                          String settledOnChain) {
    }

    /** @param sequence the ledger position the balances are at: every write up to it is included */
    public record Account(String address, long sequence, List<Balance> balances) {
    }

    @GetMapping("/me")
    @Operation(summary = "The caller's balances per token (one index lookup each, on any instance); "
            + "X-Min-Sequence / minSequence: include the caller's write with that sequence")
    public Account me(
            @Parameter(in = ParameterIn.HEADER, name = MinSequence.HEADER, description = "a write's sequence to include")
            @RequestHeader(name = MinSequence.HEADER, required = false) String minSequenceHeader,
            @Parameter(description = "a write's sequence to include (as the header)")
            @RequestParam(name = MinSequence.PARAMETER, required = false) String minSequence) {
        Address me = Principals.current();
        long atLeast = MinSequence.parse(minSequenceHeader, minSequence);
        List<Balance> out = new ArrayList<>();
        long position = 0;
        for (Token token : tokens.tokens()) {
            var read = ledger.account(me, token.address(), atLeast);
            Optional<AccountView> account = MinSequence.require(read);
            position = Math.max(position, read.position());
            BigInteger zero = BigInteger.ZERO;
            out.add(new Balance(token.address().checksummed(),
                    account.map(AccountView::available).orElse(zero).toString(),
                    account.map(AccountView::held).orElse(zero).toString(),
                    account.map(AccountView::incoming).orElse(zero).toString(),
                    account.map(AccountView::pendingWithdrawal).orElse(zero).toString(),
                    settled.of(token.address(), me).baseUnits().toString()));
        }
        return new Account(me.checksummed(), position, out);
    }
}
