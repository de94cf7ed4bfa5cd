package dev.agentescrow.backend.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.chain.Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.crypto.Keys;

/** {@link EventPublisher#publishAllOnce}: one batch, each fact at most once, the same checks as one by one. */
class EventPublisherIT extends BackendITSupport {
    @Autowired
    EventPublisher publisher;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    TransactionTemplate transactions;

    @Test
    void a_batch_publishes_each_fact_once_and_a_replay_of_it_writes_nothing() throws Exception {
        Address a = Address.of("0x" + Keys.getAddress(Keys.createEcKeyPair()));
        Address b = Address.of("0x" + Keys.getAddress(Keys.createEcKeyPair()));
        String run = UUID.randomUUID().toString();
        List<EventPublisher.Publication> events = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String id = run + ":" + i;
            events.add(new EventPublisher.Publication("transfer.settled:" + id, EventType.TRANSFER_SETTLED, List.of(a, b),
                    "object-" + i, Map.of("id", id, "amount", Integer.toString(i))));
        }
        // one already published one by one before: the batch must not write it again
        UUID first = publisher.publishOnce("transfer.settled:" + run + ":7", EventType.TRANSFER_SETTLED, List.of(a, b),
                "object-7", Map.of("id", run + ":7", "amount", "7"));

        int inserted = transactions.execute(status -> publisher.publishAllOnce(events));
        int again = transactions.execute(status -> publisher.publishAllOnce(events));

        assertThat(inserted).isEqualTo(299);
        assertThat(again).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.events WHERE dedupe_key LIKE ?", Long.class,
                "transfer.settled:" + run + ":%")).isEqualTo(300);
        assertThat(jdbc.queryForObject("SELECT id FROM backend.events WHERE dedupe_key = ?", UUID.class,
                "transfer.settled:" + run + ":7")).isEqualTo(first);
        assertThat(jdbc.queryForObject("SELECT CAST(data AS jsonb)->>'amount' FROM backend.events WHERE dedupe_key = ?", String.class,
                "transfer.settled:" + run + ":123")).isEqualTo("123");
        assertThat(jdbc.queryForObject("SELECT array_length(recipients, 1) FROM backend.events WHERE dedupe_key = ?",
                Integer.class, "transfer.settled:" + run + ":0")).isEqualTo(2);
    }

    @Test
    void a_batch_with_an_invalid_event_writes_none_of_it() throws Exception {
        Address a = Address.of("0x" + Keys.getAddress(Keys.createEcKeyPair()));
        String run = UUID.randomUUID().toString();
        List<EventPublisher.Publication> events = List.of(
                new EventPublisher.Publication("transfer.settled:" + run + ":0", EventType.TRANSFER_SETTLED, List.of(a),
                        "object-0", Map.of("id", "0")),
                new EventPublisher.Publication("transfer.settled:" + run + ":1", EventType.TRANSFER_SETTLED, List.of(),
                        "object-1", Map.of("id", "1")));

        assertThatThrownBy(() -> publisher.publishAllOnce(events)).isInstanceOf(IllegalArgumentException.class);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.events WHERE dedupe_key LIKE ?", Long.class,
                "transfer.settled:" + run + ":%")).isZero();
    }
}
