package dev.agentescrow.batcher.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class StandardMerkleTreeTest {
    private static final Address TOKEN = Address.of("0x1111111111111111111111111111111111111111");
    private static final Address ALICE = Address.of("0x2222222222222222222222222222222222222222");
    private static final Address BOB = Address.of("0x3333333333333333333333333333333333333333");

    @Test
    void theLeafIsTheDoubleKeccakOfTheAbiEncoding() {
        TransferLeaf leaf = new TransferLeaf(TransferId.of(0x0102), TOKEN, ALICE, BOB, Amount.of(7));

        byte[] encoded = leaf.abiEncoded();

        assertThat(encoded).hasSize(160);
        assertThat(Bytes32.fromHex(hex(encoded, 0))).isEqualTo(Bytes32.fromHex("0x" + "00".repeat(30) + "0102"));
        assertThat(hex(encoded, 1)).isEqualTo("000000000000000000000000" + "11".repeat(20));
        assertThat(hex(encoded, 4)).isEqualTo("00".repeat(31) + "07");
        assertThat(leaf.hash()).isEqualTo(new Bytes32(org.web3j.crypto.Hash.sha3(org.web3j.crypto.Hash.sha3(encoded))));
    }

    @Test
    void proofsOfEverySizeVerifyAndTamperingFails() {
        Random random = new Random(7);
        for (int n = 1; n <= 70; n++) {
            List<TransferLeaf> leaves = randomLeaves(random, n);
            StandardMerkleTree tree = StandardMerkleTree.of(leaves);
            for (int i = 0; i < n; i++) {
                List<Bytes32> proof = tree.proof(i);
                assertThat(StandardMerkleTree.verify(tree.root(), leaves.get(i), proof)).isTrue();
                assertThat(proof.size()).isLessThanOrEqualTo(32 - Integer.numberOfLeadingZeros(n));
                TransferLeaf other = new TransferLeaf(leaves.get(i).transferId(), TOKEN, ALICE, BOB,
                        leaves.get(i).amount().plus(Amount.of(1)));
                assertThat(StandardMerkleTree.verify(tree.root(), other, proof)).isFalse();
                if (!proof.isEmpty()) {
                    List<Bytes32> forged = new ArrayList<>(proof);
                    forged.set(0, Bytes32.ZERO);
                    assertThat(StandardMerkleTree.verify(tree.root(), leaves.get(i), forged)).isFalse();
                }
            }
        }
    }

    @Test
    void theRootDoesNotDependOnInputOrderButIndicesFollowIt() {
        List<TransferLeaf> leaves = randomLeaves(new Random(11), 20);
        List<TransferLeaf> shuffled = new ArrayList<>(leaves);
        Collections.shuffle(shuffled, new Random(12));

        StandardMerkleTree tree = StandardMerkleTree.of(leaves);
        StandardMerkleTree other = StandardMerkleTree.of(shuffled);

        assertThat(other.root()).isEqualTo(tree.root());
        assertThat(other.leaf(0)).isEqualTo(shuffled.get(0));
        assertThat(other.proof(shuffled.get(5))).isEqualTo(tree.proof(leaves.indexOf(shuffled.get(5))));
    }

    @Test
    void aSingleLeafIsItsOwnRootWithAnEmptyProof() {
        TransferLeaf leaf = new TransferLeaf(TransferId.of(1), TOKEN, ALICE, BOB, Amount.of(1));
        StandardMerkleTree tree = StandardMerkleTree.of(List.of(leaf));

        assertThat(tree.root()).isEqualTo(leaf.hash());
        assertThat(tree.proof(0)).isEmpty();
        assertThat(StandardMerkleTree.verify(tree.root(), leaf, List.of())).isTrue();
    }

    @Test
    void unknownLeavesAndIndicesAreRejected() {
        List<TransferLeaf> leaves = randomLeaves(new Random(3), 5);
        StandardMerkleTree tree = StandardMerkleTree.of(leaves);
        TransferLeaf absent = new TransferLeaf(TransferId.of(99), TOKEN, ALICE, BOB, Amount.of(1));

        assertThat(tree.indexOf(absent)).isEmpty();
        assertThatThrownBy(() -> tree.proof(absent)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not in the tree");
        assertThatThrownBy(() -> tree.proof(5)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void emptyAndOversizedTreesAreRejected() {
        assertThatThrownBy(() -> StandardMerkleTree.of(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one leaf");
        TransferLeaf leaf = new TransferLeaf(TransferId.of(1), TOKEN, ALICE, BOB, Amount.of(1));
        List<TransferLeaf> tooMany = Collections.nCopies(StandardMerkleTree.MAX_LEAVES + 1, leaf);
        assertThatThrownBy(() -> StandardMerkleTree.of(tooMany)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most " + StandardMerkleTree.MAX_LEAVES + " leaves");
    }

    @Test
    void transferIdsAreUnsigned128BitValuesLeftPadded() {
        UUID uuid = UUID.fromString("ffffffff-0000-0000-8000-000000000001");
        TransferId id = TransferId.of(uuid);

        assertThat(id.toBytes32().hex()).isEqualTo("0x" + "00".repeat(16) + "ffffffff000000008000000000000001");
        assertThat(TransferId.fromBytes32(id.toBytes32())).isEqualTo(id);
        assertThat(TransferId.of(TransferId.MAX_VALUE).toBytes32().hex())
                .isEqualTo("0x" + "00".repeat(16) + "ff".repeat(16));
        assertThatThrownBy(() -> TransferId.of(TransferId.MAX_VALUE.add(BigInteger.ONE)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TransferId.of(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TransferId.fromBytes32(Bytes32.fromHex("0x01" + "00".repeat(31))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static List<TransferLeaf> randomLeaves(Random random, int n) {
        List<TransferLeaf> leaves = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            leaves.add(new TransferLeaf(TransferId.of(new BigInteger(128, random)), TOKEN,
                    randomAddress(random), randomAddress(random), Amount.of(new BigInteger(100, random))));
        }
        return leaves;
    }

    static Address randomAddress(Random random) {
        byte[] raw = new byte[20];
        random.nextBytes(raw);
        return Address.of("0x" + java.util.HexFormat.of().formatHex(raw));
    }

    private static String hex(byte[] encoded, int word) {
        return java.util.HexFormat.of().formatHex(encoded, word * 32, word * 32 + 32);
    }
}
