package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class AmountTest {
    @Test
    void acceptsTheWholeUint256Range() {
        assertThat(Amount.of(BigInteger.ZERO).isZero()).isTrue();
        assertThat(Amount.of(Amount.MAX_UINT256).baseUnits()).isEqualTo(BigInteger.TWO.pow(256).subtract(BigInteger.ONE));
        assertThat(Amount.parse("1000000")).isEqualTo(Amount.of(1_000_000));
        assertThat(Amount.tokens(5, 6)).isEqualTo(Amount.of(5_000_000));
    }

    @Test
    void rejectsNegativeOverflowingAndMalformedAmounts() {
        assertThatThrownBy(() -> Amount.of(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.of(Amount.MAX_UINT256.add(BigInteger.ONE))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.of(Amount.MAX_UINT256).plus(Amount.of(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.of(1).minus(Amount.of(2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.parse("1.5")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.parse("-3")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addressesValidateHexAndChecksum() {
        Address a = Address.of("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assertThat(a.hex()).isEqualTo("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        assertThat(a.toString()).isEqualTo("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assertThat(Address.isValid("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266")).isTrue();
        assertThat(Address.isValid("0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266")).isFalse(); // checksum broken
        assertThat(Address.isValid("0x1234")).isFalse();
        assertThat(Address.isValid("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")).isFalse();
    }

    @Test
    void devAccountsAreTheWellKnownHardhatAccounts() {
        assertThat(Address.of(DevAccounts.account(0).getAddress()))
                .isEqualTo(Address.of("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assertThat(Address.of(DevAccounts.account(1).getAddress()))
                .isEqualTo(Address.of("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
    }
}
