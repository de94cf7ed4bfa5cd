package dev.agentescrow.batcher.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java tree against fixed vectors written once by {@code contracts/scripts/merkle-vectors.js}
 * with {@code @openzeppelin/merkle-tree}: same root, same node array, same leaf positions, same
 * proofs, for trees of 1 to 100 leaves, extreme values and repeated leaves.
 */
class StandardMerkleTreeVectorsTest {
    private static JsonNode vectors;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = StandardMerkleTreeVectorsTest.class.getResourceAsStream("/merkle/standard-merkle-vectors.json")) {
            assertThat(in).as("test resource merkle/standard-merkle-vectors.json").isNotNull();
            vectors = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void vectorsUseTheBatchLeafEncoding() {
        List<String> encoding = new ArrayList<>();
        vectors.get("leafEncoding").forEach(type -> encoding.add(type.asText()));
        assertThat(encoding).isEqualTo(TransferLeaf.LEAF_ENCODING);
        assertThat(vectors.get("cases").size()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void everyCaseHasTheLibrarysRootNodesAndProofs() {
        for (JsonNode c : vectors.get("cases")) {
            String name = c.get("name").asText();
            List<TransferLeaf> values = new ArrayList<>();
            c.get("values").forEach(v -> values.add(leaf(v)));

            StandardMerkleTree tree = StandardMerkleTree.of(values);

            assertThat(tree.root()).as(name + " root").isEqualTo(bytes32(c.get("root")));
            assertThat(tree.nodes()).as(name + " node array").isEqualTo(bytes32List(c.get("tree")));
            assertThat(tree.size()).isEqualTo(values.size());
            for (int i = 0; i < values.size(); i++) {
                JsonNode expected = c.get("leaves").get(i);
                String what = name + " value " + i;
                assertThat(values.get(i).hash()).as(what + " leaf hash").isEqualTo(bytes32(expected.get("hash")));
                assertThat(tree.treeIndex(i)).as(what + " tree index").isEqualTo(expected.get("treeIndex").asInt());
                List<Bytes32> proof = tree.proof(i);
                assertThat(proof).as(what + " proof").isEqualTo(bytes32List(expected.get("proof")));
                assertThat(StandardMerkleTree.verify(tree.root(), values.get(i), proof)).as(what + " verifies").isTrue();
            }
        }
    }

    @Test
    void aRepeatedLeafIsFoundAtItsLastIndexAsInTheLibrary() {
        JsonNode c = caseNamed("duplicate-leaves");
        List<TransferLeaf> values = new ArrayList<>();
        c.get("values").forEach(v -> values.add(leaf(v)));
        StandardMerkleTree tree = StandardMerkleTree.of(values);

        // the script inserted value 0 again at index 2 and value 3 again at the end
        assertThat(values.get(2)).isEqualTo(values.get(0));
        assertThat(tree.indexOf(values.get(0))).hasValue(2);
        assertThat(tree.proof(values.get(0))).isEqualTo(tree.proof(2));
        assertThat(tree.indexOf(values.get(3))).hasValue(values.size() - 1);
        assertThat(tree.indexOf(values.get(1))).hasValue(1);
    }

    private static JsonNode caseNamed(String name) {
        for (JsonNode c : vectors.get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no vector case " + name);
    }

    static TransferLeaf leaf(JsonNode v) {
        return new TransferLeaf(TransferId.fromBytes32(Bytes32.fromHex(v.get(0).asText())),
                Address.of(v.get(1).asText()), Address.of(v.get(2).asText()), Address.of(v.get(3).asText()),
                Amount.parse(v.get(4).asText()));
    }

    private static Bytes32 bytes32(JsonNode hex) {
        return Bytes32.fromHex(hex.asText());
    }

    private static List<Bytes32> bytes32List(JsonNode array) {
        List<Bytes32> out = new ArrayList<>();
        array.forEach(node -> out.add(bytes32(node)));
        return out;
    }
}
