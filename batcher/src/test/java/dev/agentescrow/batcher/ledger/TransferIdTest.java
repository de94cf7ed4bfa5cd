package dev.agentescrow.batcher.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TransferIdTest {
    @Test
    void parsesHexUuidAndBigIntegerToTheSameId() {
        TransferId fromHex = TransferId.parse("0x0123456789abcdef0123456789abcdef");
        TransferId fromUuid = TransferId.of(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        TransferId fromInt = TransferId.of(new BigInteger("0123456789abcdef0123456789abcdef", 16));
        assertThat(fromHex).isEqualTo(fromUuid).isEqualTo(fromInt);
        assertThat(fromHex.toBigInteger()).isEqualTo(new BigInteger("0123456789abcdef0123456789abcdef", 16));
        assertThat(TransferId.parse(fromUuid.toUuid().toString())).isEqualTo(fromHex);
    }

    @Test
    void isUnsignedAcrossThe128Bits() {
        BigInteger max = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
        TransferId id = TransferId.of(max);
        assertThat(id.toBigInteger()).isEqualTo(max);
        assertThat(id.hex()).isEqualTo("0x" + "f".repeat(32));
        assertThat(TransferId.parse("0x1").compareTo(id)).isNegative();
        assertThatThrownBy(() -> TransferId.of(max.add(BigInteger.ONE))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TransferId.of(BigInteger.ONE.negate())).isInstanceOf(IllegalArgumentException.class);
        assertThat(TransferId.isValid("0x" + "f".repeat(33))).isFalse();
        assertThat(TransferId.isValid("xyz")).isFalse();
    }

    @Test
    void asBytes32IsLeftPaddedWithZeros() {
        TransferId id = TransferId.parse("0xabc");
        assertThat(id.toBytes32().hex()).isEqualTo("0x" + "0".repeat(61) + "abc");
    }

    @Test
    void oneIdTypeForALedgerTransferAndItsMerkleLeaf() {
        TransferId id = TransferId.parse("0x8000000000000001ffffffffffffffff");
        assertThat(TransferId.fromBytes32(id.toBytes32())).isEqualTo(id);
        assertThat(TransferId.of(id.toUuid())).isEqualTo(id);
        assertThat(TransferId.of(TransferId.MAX_VALUE).toBytes32().hex()).isEqualTo("0x" + "0".repeat(32) + "f".repeat(32));
        assertThat(TransferId.of(7)).isEqualTo(TransferId.of(BigInteger.valueOf(7)));
        assertThatThrownBy(() -> TransferId.of(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TransferId.fromBytes32(Bytes32.fromHex(TransferId.of(1).toBytes32().hex().replace("0x0", "0x1"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
