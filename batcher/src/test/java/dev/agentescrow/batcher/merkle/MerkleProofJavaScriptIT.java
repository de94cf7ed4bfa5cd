package dev.agentescrow.batcher.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.local.HardhatNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trees and proofs built in Java, checked at test time by {@code @openzeppelin/merkle-tree}
 * itself: {@code contracts/scripts/verify-merkle.js} rebuilds the tree from the leaves, compares
 * the root and every proof and verifies each with {@code StandardMerkleTree.verify}.
 */
class MerkleProofJavaScriptIT {
    private static final long SEED = Long.getLong("merkle.seed", 20261122L);
    private static final Path CONTRACTS = HardhatNode.locateContractsDir();

    @Test
    void theJavaScriptLibraryAcceptsJavaRootsAndProofs(@TempDir Path dir) throws Exception {
        Random random = new Random(SEED);
        for (int n : new int[] {1, 2, 3, 6, 31, 250}) {
            List<TransferLeaf> leaves = StandardMerkleTreeTest.randomLeaves(random, n);
            leaves.set(0, new TransferLeaf(TransferId.of(TransferId.MAX_VALUE),
                    leaves.get(0).token(), leaves.get(0).from(), leaves.get(0).to(), Amount.of(Amount.MAX_UINT256)));
            StandardMerkleTree tree = StandardMerkleTree.of(leaves);
            Path input = write(dir.resolve("tree-" + n + ".json"), tree, false);

            NodeRun run = verifyMerkle(input);

            assertThat(run.exitCode()).as("seed %d, n %d: %s", SEED, n, run.output()).isZero();
            assertThat(run.output()).as("seed %d, n %d", SEED, n).contains(
                    "OK root " + tree.root().hex() + ": " + n + "/" + n + " proofs verified, "
                            + Math.min(n, 3) + "/" + Math.min(n, 3) + " forged rejected");
        }
    }

    @Test
    void theScriptFailsAWrongRoot(@TempDir Path dir) throws Exception {
        StandardMerkleTree tree = StandardMerkleTree.of(StandardMerkleTreeTest.randomLeaves(new Random(SEED), 5));
        Path input = write(dir.resolve("wrong-root.json"), tree, true);

        NodeRun run = verifyMerkle(input);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(run.output()).contains("FAIL root mismatch").contains("FAILED");
    }

    private static Path write(Path file, StandardMerkleTree tree, boolean corruptRoot) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("root", corruptRoot ? StandardMerkleTree.hashPair(tree.root(), tree.root()).hex() : tree.root().hex());
        ArrayNode leaves = root.putArray("leaves");
        ArrayNode proofs = root.putArray("proofs");
        for (int i = 0; i < tree.size(); i++) {
            leaves.add(values(json, tree.leaf(i)));
            ArrayNode proof = proofs.addArray();
            tree.proof(i).forEach(node -> proof.add(node.hex()));
        }
        ArrayNode forged = root.putArray("forged");
        for (int i = 0; i < Math.min(tree.size(), 3); i++) {
            TransferLeaf leaf = tree.leaf(i);
            TransferLeaf changed = new TransferLeaf(leaf.transferId(), leaf.token(), leaf.to(), leaf.from(), leaf.amount());
            ObjectNode entry = forged.addObject();
            entry.set("leaf", values(json, changed));
            ArrayNode proof = entry.putArray("proof");
            tree.proof(i).forEach(node -> proof.add(node.hex()));
        }
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        return file;
    }

    private static ArrayNode values(ObjectMapper json, TransferLeaf leaf) {
        ArrayNode values = json.createArrayNode();
        values.add(leaf.transferId().toBytes32().hex());
        values.add(leaf.token().checksummed());
        values.add(leaf.from().hex());
        values.add(leaf.to().hex());
        values.add(leaf.amount().baseUnits().toString());
        return values;
    }

    private record NodeRun(int exitCode, String output) {
    }

    private static NodeRun verifyMerkle(Path input) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("node", "scripts/verify-merkle.js", input.toString())
                .directory(CONTRACTS.toFile())
                .redirectErrorStream(true)
                .start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("node scripts/verify-merkle.js did not finish: " + output);
        }
        return new NodeRun(process.exitValue(), output);
    }
}
