package dev.agentescrow.chain.escrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class EscrowTermsTest {
    private static final Address TOKEN = Address.of("0x5fbdb2315678afecb367f032d93f642f64180aa3");
    private static final Address ARBITER = Address.of("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private static final Address PAYEE = Address.of("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static final Address PAYEE_2 = Address.of("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static final Address EVALUATOR = Address.of("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");
    private static final Instant DEADLINE = Instant.ofEpochSecond(2_000_000_000L);

    private static EscrowTerms terms(List<Payee> payees, Address arbiter) {
        return new EscrowTerms(TOKEN, payees, arbiter, EVALUATOR, DEADLINE, BasisPoints.of(1_000),
                FallbackRule.REFUND_PAYER, ReleaseMode.PER_PAYEE, Bytes32.ZERO);
    }

    @Test
    void totalIsTheSumOfTheShares() {
        EscrowTerms terms = terms(List.of(new Payee(PAYEE, Amount.of(600)), new Payee(PAYEE_2, Amount.of(400))), ARBITER);
        assertThat(terms.total()).isEqualTo(Amount.of(1_000));
    }

    @Test
    void aTotalBeyondUint256IsRejectedBeforeAnythingIsSent() {
        EscrowTerms terms = terms(List.of(new Payee(PAYEE, new Amount(Amount.MAX_UINT256)),
                new Payee(PAYEE_2, Amount.of(1))), ARBITER);
        assertThatThrownBy(terms::total).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void payeesAreBoundedAndTheArbiterIsRequired() {
        assertThatThrownBy(() -> terms(List.of(), ARBITER)).isInstanceOf(IllegalArgumentException.class);
        List<Payee> seventeen = new ArrayList<>(Collections.nCopies(17, new Payee(PAYEE, Amount.of(1))));
        assertThatThrownBy(() -> terms(seventeen, ARBITER)).isInstanceOf(IllegalArgumentException.class);
        assertThat(terms(seventeen.subList(0, 16), ARBITER).payees()).hasSize(16);
        assertThatThrownBy(() -> terms(List.of(new Payee(PAYEE, Amount.of(1))), Address.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyRoleIsNonZeroAndTheArbiterIsNoPayee() {
        List<Payee> one = List.of(new Payee(PAYEE, Amount.of(1)));
        assertThatThrownBy(() -> terms(one, PAYEE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EscrowTerms(TOKEN, one, ARBITER, Address.ZERO, DEADLINE, BasisPoints.of(0),
                FallbackRule.SPLIT_EVENLY, ReleaseMode.ATOMIC, Bytes32.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EscrowTerms(Address.ZERO, one, ARBITER, EVALUATOR, DEADLINE, BasisPoints.of(0),
                FallbackRule.SPLIT_EVENLY, ReleaseMode.ATOMIC, Bytes32.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void payeesNeedAnAccountAndAPositiveShare() {
        assertThatThrownBy(() -> new Payee(Address.ZERO, Amount.of(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Payee(PAYEE, Amount.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void statesMirrorTheSolidityEnumOrder() {
        assertThat(EscrowState.ofOrdinal(0)).isEqualTo(EscrowState.NONE);
        assertThat(EscrowState.ofOrdinal(1)).isEqualTo(EscrowState.OPEN);
        assertThat(EscrowState.ofOrdinal(3)).isEqualTo(EscrowState.DISPUTED);
        assertThat(EscrowState.ofOrdinal(6)).isEqualTo(EscrowState.EXPIRED);
        assertThat(EscrowState.ofOrdinal(7)).isEqualTo(EscrowState.RESOLVED);
        assertThatThrownBy(() -> EscrowState.ofOrdinal(8)).isInstanceOf(IllegalArgumentException.class);
        assertThat(FallbackRule.ofOrdinal(2)).isEqualTo(FallbackRule.SPLIT_EVENLY);
        assertThatThrownBy(() -> FallbackRule.ofOrdinal(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BasisPoints.of(10_001)).isInstanceOf(IllegalArgumentException.class);
    }
}
