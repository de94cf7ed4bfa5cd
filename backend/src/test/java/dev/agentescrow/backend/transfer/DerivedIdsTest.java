package dev.agentescrow.backend.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import org.junit.jupiter.api.Test;

class DerivedIdsTest {
    private static final Address ALICE = Address.of("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    private static final Address BOB = Address.of("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

    @Test
    void the_same_request_derives_the_same_id_and_any_difference_another() {
        TransferId id = DerivedIds.of("transfer", ALICE, "key-1", 0);
        assertThat(DerivedIds.of("transfer", ALICE, "key-1", 0)).isEqualTo(id);
        assertThat(DerivedIds.of("transfer", BOB, "key-1", 0)).isNotEqualTo(id);
        assertThat(DerivedIds.of("transfer", ALICE, "key-2", 0)).isNotEqualTo(id);
        assertThat(DerivedIds.of("transfer", ALICE, "key-1", 1)).isNotEqualTo(id);
        assertThat(DerivedIds.of("withdrawal", ALICE, "key-1", 0)).isNotEqualTo(id);
    }

    @Test
    void derived_ids_never_fall_in_the_ledgers_reserved_namespace() {
        for (int i = 0; i < 20_000; i++) {
            assertThat(DerivedIds.of("transfer", ALICE, "k" + i, i).isReserved()).isFalse();
        }
    }

    @Test
    void a_secret_is_32_hex_digits_and_never_the_same_twice() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            String secret = DerivedIds.newSecret();
            assertThat(secret).matches("[0-9a-f]{32}");
            assertThat(seen.add(secret)).isTrue();
        }
    }
}
