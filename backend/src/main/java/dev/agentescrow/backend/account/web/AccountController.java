package dev.agentescrow.backend.account.web;

import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.backend.withdrawal.Withdrawals;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/accounts")
@Tag(name = "accounts")
public class AccountController {
    private final LedgerGateway ledger;
    private final TokenCatalog tokens;
    private final ChainGateway chain;
    private final Withdrawals withdrawals;

    public AccountController(LedgerGateway ledger, TokenCatalog tokens, ChainGateway chain, Withdrawals withdrawals) {
        this.ledger = ledger;
        this.tokens = tokens;
        this.chain = chain;
        this.withdrawals = withdrawals;
    }

    /**
     * One token's balances: {@code available} to spend now, {@code held} by the caller's pending
     * transfers, {@code incoming} pending to the caller, {@code pendingWithdrawal} debited and not
     * yet paid on chain, {@code settledOnChain} the caller's balance in the vault as of the last batch.
     */
    public record Balance(String token, String available, String held, String incoming, String pendingWithdrawal,
                          String settledOnChain) {
    }

    public record Account(String address, List<Balance> balances) {
    }

    @GetMapping("/me")
    @Operation(summary = "The caller's balances per token")
    public Account me() {
        Address me = Principals.current();
        Map<Address, AccountBalance> balances = ledger.balancesOf(me);
        Map<Address, BigInteger> pending = new HashMap<>();
        for (Withdrawals.Withdrawal w : withdrawals.of(me)) {
            Withdrawals.State state = withdrawals.status(w).state();
            if (state == Withdrawals.State.REQUESTED || state == Withdrawals.State.BATCHED) {
                pending.merge(w.token(), w.amount(), BigInteger::add);
            }
        }
        List<Balance> out = new ArrayList<>();
        for (Token token : tokens.tokens()) {
            AccountBalance balance = balances.get(token.address());
            BigInteger available = balance == null ? BigInteger.ZERO : balance.available();
            BigInteger held = balance == null ? BigInteger.ZERO : balance.debitsPending();
            BigInteger incoming = balance == null ? BigInteger.ZERO : balance.creditsPending();
            out.add(new Balance(token.address().checksummed(), available.toString(), held.toString(),
                    incoming.toString(), pending.getOrDefault(token.address(), BigInteger.ZERO).toString(),
                    chain.settledBalance(token.address(), me).baseUnits().toString()));
        }
        return new Account(me.checksummed(), out);
    }
}
