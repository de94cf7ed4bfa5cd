package dev.agentescrow.chain.escrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Hash;

/** The locally derived escrow id against vectors computed with ethers' ABI coder and keccak256. */
class EscrowIdTest {
    private static final Address PAYER = Address.of("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static final Address OTHER = Address.of("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static final TaskId TASK = TaskId.of(new Bytes32(Hash.sha3("task:1".getBytes(StandardCharsets.UTF_8))));

    @Test
    void isKeccakOfTheAbiEncodedPayerAndTaskId() {
        assertThat(TaskEscrowGateway.escrowId(PAYER, TASK)).isEqualTo(
                Bytes32.fromHex("0x90f0cc6c7c2300896706fa132cf259e6f46e3d6e59f6cae2f6b3c3e08b177fad"));
        assertThat(TaskEscrowGateway.escrowId(Address.ZERO, TaskId.of(Bytes32.ZERO))).isEqualTo(
                Bytes32.fromHex("0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"));
        assertThat(TaskEscrowGateway.escrowId(Address.of("0xffffffffffffffffffffffffffffffffffffffff"),
                TaskId.of(Bytes32.fromHex("ff".repeat(32))))).isEqualTo(
                Bytes32.fromHex("0xcdcdfaf640ccaa746456591f72b9aab9064a3ce6a2a22e2355139c8e948612eb"));
    }

    @Test
    void differsPerPayerForTheSameTaskId() {
        assertThat(TaskEscrowGateway.escrowId(OTHER, TASK)).isEqualTo(
                Bytes32.fromHex("0xff4ccf1b4dc48f861d643c173c4986a583c2753484664f3c8c279bb76d6c8f67"));
        assertThat(TaskEscrowGateway.escrowId(OTHER, TASK)).isNotEqualTo(TaskEscrowGateway.escrowId(PAYER, TASK));
        assertThat(TaskEscrowGateway.escrowId(PAYER, TASK)).isNotEqualTo(TASK.value());
    }

    @Test
    void taskIdNeedsAValue() {
        assertThatThrownBy(() -> TaskId.of(null)).isInstanceOf(NullPointerException.class);
    }
}
