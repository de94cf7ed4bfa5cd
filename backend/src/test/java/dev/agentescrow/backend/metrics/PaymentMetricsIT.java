package dev.agentescrow.backend.metrics;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.Funder;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.batcher.runtime.Batcher;
import java.math.BigDecimal;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The payment metrics over {@code /actuator/prometheus} follow what happened: a deposit credited,
 * a withdrawal debited and the batch that paid it confirmed, each counted with its amount.
 */
class PaymentMetricsIT extends BackendITSupport {
    @Autowired
    PaymentMetrics metrics;
    @Autowired
    Batcher batcher;

    @Test
    void a_deposit_a_withdrawal_and_its_settled_batch_move_the_payment_metrics_by_their_amounts() {
        String token = CHAIN.deployment().token().checksummed();
        metrics.refresh();
        Map<String, BigDecimal> before = scrape();

        Funder funder = Funder.deposit(api(), CHAIN, new LedgerBalances(api(), batcher.reads(), token), 5_000_000);
        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", funder.agent().accessToken(), key(),
                Map.of("token", token, "amount", "1000000"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        String id = withdrawal.json().path("id").asString();
        awaitUntil("the withdrawal paid", () -> "PAID".equals(
                api().get("/api/v1/withdrawals/" + id, funder.agent().accessToken()).json().path("state").asString()));
        metrics.refresh();
        Map<String, BigDecimal> after = scrape();

        assertThat(delta(before, after, "agentescrow_deposits_count_total")).isGreaterThanOrEqualTo(BigDecimal.ONE);
        assertThat(delta(before, after, "agentescrow_deposits_amount_total"))
                .isGreaterThanOrEqualTo(new BigDecimal(5_000_000));
        assertThat(delta(before, after, "agentescrow_withdrawals_count")).isEqualByComparingTo(BigDecimal.ONE);
        assertThat(delta(before, after, "agentescrow_withdrawals_amount")).isEqualByComparingTo(new BigDecimal(1_000_000));
        assertThat(delta(before, after, "agentescrow_settlements_count_total")).isGreaterThanOrEqualTo(BigDecimal.ONE);
        assertThat(delta(before, after, "agentescrow_settlements_amount_total"))
                .as("the paid withdrawal's movement is in a confirmed batch")
                .isGreaterThanOrEqualTo(new BigDecimal(1_000_000));
    }

    private static BigDecimal delta(Map<String, BigDecimal> before, Map<String, BigDecimal> after, String name) {
        assertThat(after).as("exposed: " + name).containsKey(name);
        return after.get(name).subtract(before.getOrDefault(name, BigDecimal.ZERO));
    }

    /** The payment meters' values (their only series each), by name. */
    private Map<String, BigDecimal> scrape() {
        Map<String, BigDecimal> values = new java.util.HashMap<>();
        for (String line : api().get("/actuator/prometheus", null).raw().body().split("\n")) {
            if (line.startsWith("agentescrow_deposits_") || line.startsWith("agentescrow_withdrawals_")
                    || line.startsWith("agentescrow_settlements_")) {
                String name = line.split("[ {]", 2)[0];
                values.put(name, new BigDecimal(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return values;
    }
}
