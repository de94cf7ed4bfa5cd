package dev.agentescrow.backend.testing;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh agent with test tokens deposited in the vault (faucet, approve, deposit, credited), which
 * gives other fresh agents their starting balances by ledger transfers. The dev accounts all belong
 * to other tests, so the funder signs with a fresh key given ETH.
 */
public final class Funder {
    private final ApiClient api;
    private final String token;
    private final FreshAgents.FreshAgent agent;

    private Funder(ApiClient api, String token, FreshAgents.FreshAgent agent) {
        this.api = api;
        this.token = token;
        this.agent = agent;
    }

    /** Signs in a fresh funded key, mints {@code amount} of the deployment's token and deposits it. */
    public static Funder deposit(ApiClient api, TestChain chain, LedgerBalances balances, long amount) {
        String token = chain.deployment().token().checksummed();
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api, TestChain.fundedFreshKey());
        ApiClient.Response minted = api.post("/api/v1/faucet", agent.accessToken(), UUID.randomUUID().toString(),
                Map.of("token", token, "amount", Long.toString(amount)));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        var signer = chain.client().signer(agent.key());
        var vault = chain.deployment().vault(chain.client());
        chain.deployment().token(chain.client()).approve(signer, vault.address(), Amount.of(amount));
        vault.deposit(signer, Address.of(token), Amount.of(amount));
        awaitUntil("the funder's deposit credited", () -> balances.available(agent.accessToken()).signum() > 0);
        return new Funder(api, token, agent);
    }

    public FreshAgents.FreshAgent agent() {
        return agent;
    }

    /** A fresh signed-in agent paid {@code amount} base units by the funder (none if 0). */
    public FreshAgents.FreshAgent fresh(long amount) {
        FreshAgents.FreshAgent fresh = FreshAgents.signIn(api);
        if (amount > 0) {
            ApiClient.Response paid = api.post("/api/v1/transfers", agent.accessToken(), UUID.randomUUID().toString(),
                    Map.of("to", fresh.address(), "token", token, "amount", Long.toString(amount)));
            assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        }
        return fresh;
    }
}
