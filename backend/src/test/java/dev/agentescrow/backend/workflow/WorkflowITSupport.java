package dev.agentescrow.backend.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.Funder;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.batcher.runtime.Batcher;
import java.math.BigInteger;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * What the workflows' integration tests share: fresh funded agents, the ledger's balances, the fee
 * arithmetic at the test profile's 100 bps, and the workflow calls over HTTP with their checks.
 * Each subclass deposits its own {@link #funding} before its tests.
 */
abstract class WorkflowITSupport extends BackendITSupport {
    static final BigInteger FEE_BPS = BigInteger.valueOf(100);

    @Autowired
    Batcher batcher;

    String token;
    Funder funding;

    /** Deposits {@code amount} for the class's funded agents. */
    void deposit(long amount) {
        token = CHAIN.deployment().token().checksummed();
        funding = Funder.deposit(api(), CHAIN, balances(), amount);
    }

    FreshAgents.FreshAgent funded(long amount) {
        return funding.fresh(amount);
    }

    BigInteger available(FreshAgents.FreshAgent agent) {
        return balances().available(agent.accessToken());
    }

    LedgerBalances balances() {
        return new LedgerBalances(api(), batcher.reads(), token);
    }

    static BigInteger big(long value) {
        return BigInteger.valueOf(value);
    }

    static BigInteger fee(long gross) {
        return big(gross).multiply(FEE_BPS).divide(big(10_000));
    }

    static BigInteger net(long gross) {
        return big(gross).subtract(fee(gross));
    }

    ApiClient.Response create(FreshAgents.FreshAgent payer, Map<String, Object> body) {
        return api().post("/api/v1/workflows", payer.accessToken(), key(), body);
    }

    JsonNode created(FreshAgents.FreshAgent payer, Map<String, Object> body) {
        ApiClient.Response response = create(payer, body);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("state").asString()).isEqualTo("RUNNING");
        return response.json();
    }

    ApiClient.Response report(FreshAgents.FreshAgent who, String id, String step, String outcome) {
        return api().post("/api/v1/workflows/" + id + "/steps/" + step + "/report", who.accessToken(), key(),
                Map.of("outcome", outcome));
    }

    JsonNode reported(FreshAgents.FreshAgent who, String id, String step, String outcome) {
        ApiClient.Response response = report(who, id, step, outcome);
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    JsonNode get(FreshAgents.FreshAgent who, String id) {
        ApiClient.Response response = api().get("/api/v1/workflows/" + id, who.accessToken());
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    static JsonNode stepOf(JsonNode workflow, String key) {
        for (JsonNode step : workflow.path("steps")) {
            if (step.path("key").asString().equals(key)) {
                return step;
            }
        }
        throw new AssertionError("no step " + key + " in " + workflow);
    }

    static void refused(ApiClient.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.code()).as(response.toString()).isEqualTo(code);
        assertThat(response.header("Content-Type")).startsWith("application/problem+json");
    }
}
