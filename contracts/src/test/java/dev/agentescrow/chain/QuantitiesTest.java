package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;
import org.web3j.exceptions.MessageDecodingException;
import org.web3j.utils.Numeric;

class QuantitiesTest {
    @Test
    void decodesWhatWeb3jDecodes() {
        for (String hex : new String[] {"0x0", "0x1", "0x1b", "0x2F", "0x3b9aca00", "0xfffffffffffffff",
                "0x1000000000000000", "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
            assertThat(Quantities.of(hex)).as(hex).isEqualTo(Numeric.decodeQuantity(hex));
        }
        assertThat(Quantities.longOf("0x2e438a")).isEqualTo(0x2e438aL);
    }

    @Test
    void refusesWhatIsNotAHexQuantity() {
        for (String bad : new String[] {null, "", "0x", "12", "x1", "0xg1", "0x-1", "0x 1", "0X1",
                "0x\u0661", "0x\uff11", "0x1\uff41"}) {
            assertThatThrownBy(() -> Quantities.of(bad)).as(String.valueOf(bad))
                    .isInstanceOf(MessageDecodingException.class);
        }
    }

    @Test
    void aReceiptWithoutStatusOrWithStatusOneSucceeded() {
        assertThat(Quantities.statusOk(null)).isTrue();
        assertThat(Quantities.statusOk("0x1")).isTrue();
        assertThat(Quantities.statusOk("0x0")).isFalse();
        assertThat(Quantities.longOf("0x10")).isEqualTo(BigInteger.valueOf(16).longValueExact());
    }
}
