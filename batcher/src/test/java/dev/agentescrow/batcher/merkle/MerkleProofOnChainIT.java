package dev.agentescrow.batcher.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Calls;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.wrappers.SettlementVault;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Java-built leaves and proofs against the deployed SettlementVault: its {@code transferLeaf}
 * hashes a leaf as {@link TransferLeaf#hash()} does, and its {@code verifyTransfer} (OpenZeppelin
 * {@code MerkleProof}) accepts every Java proof and rejects altered ones.
 */
@ExtendWith(LocalChainExtension.class)
class MerkleProofOnChainIT {
    private static final long SEED = Long.getLong("merkle.seed", 20261122L);

    @Test
    void theVaultAcceptsJavaProofsAndRejectsAlteredOnes(LocalChain chain) throws IOException {
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), chain.account(0),
                chain.account(0).address(), chain.account(1).address(), Duration.ofHours(1));
        SettlementVault reader = SettlementVault.load(vault.address().hex(), chain.client().web3j(),
                chain.client().readOnly(), chain.client().readGasProvider());

        List<List<TransferLeaf>> trees = new ArrayList<>(List.of(edgeValueLeaves()));
        Random random = new Random(SEED);
        for (int n : new int[] {1, 2, 5, 64, 129}) {
            trees.add(StandardMerkleTreeTest.randomLeaves(random, n));
        }
        long batchId = 0;
        for (List<TransferLeaf> leaves : trees) {
            StandardMerkleTree tree = StandardMerkleTree.of(leaves);
            // the vault checks proofs only against roots it keeps: settle an empty batch with this root
            vault.settleBatch(chain.account(1), new SettlementBatch(++batchId, tree.root(), List.of()));
            long rootBatch = batchId;
            for (int i = 0; i < leaves.size(); i++) {
                TransferLeaf leaf = leaves.get(i);
                List<Bytes32> proof = tree.proof(i);
                String what = "seed " + SEED + ", tree of " + leaves.size() + ", leaf " + i;
                if (i < 4) {
                    byte[] onChainLeaf = Calls.call(() -> reader.transferLeaf(leaf.transferId().toBytes32().bytes(),
                            leaf.token().hex(), leaf.from().hex(), leaf.to().hex(), leaf.amount().baseUnits()).send());
                    assertThat(new Bytes32(onChainLeaf)).as(what).isEqualTo(leaf.hash());
                }
                assertThat(verify(vault, rootBatch, proof, leaf)).as(what).isTrue();
                if (i % 16 == 0) {
                    TransferLeaf otherAmount = new TransferLeaf(leaf.transferId(), leaf.token(), leaf.from(), leaf.to(),
                            leaf.amount().plus(Amount.of(1)));
                    assertThat(verify(vault, rootBatch, proof, otherAmount)).as(what + " other amount").isFalse();
                    TransferLeaf swapped = new TransferLeaf(leaf.transferId(), leaf.token(), leaf.to(), leaf.from(),
                            leaf.amount());
                    assertThat(verify(vault, rootBatch, proof, swapped)).as(what + " swapped parties").isFalse();
                    if (!proof.isEmpty()) {
                        assertThat(verify(vault, rootBatch, proof.subList(1, proof.size()), leaf))
                                .as(what + " shortened proof").isFalse();
                    }
                }
            }
        }
    }

    private static boolean verify(SettlementVaultGateway vault, long batchId, List<Bytes32> proof, TransferLeaf leaf) {
        return vault.verifyTransfer(batchId, proof, leaf.transferId().toBytes32(), leaf.token(), leaf.from(), leaf.to(),
                leaf.amount());
    }

    /** The "edge-values" case of the library vectors: id 0 and 2^128 - 1, amount 0 and 2^256 - 1, zero address. */
    private static List<TransferLeaf> edgeValueLeaves() throws IOException {
        try (InputStream in = MerkleProofOnChainIT.class.getResourceAsStream("/merkle/standard-merkle-vectors.json")) {
            for (JsonNode c : new ObjectMapper().readTree(in).get("cases")) {
                if (c.get("name").asText().equals("edge-values")) {
                    List<TransferLeaf> leaves = new ArrayList<>();
                    c.get("values").forEach(v -> leaves.add(StandardMerkleTreeVectorsTest.leaf(v)));
                    return leaves;
                }
            }
        }
        throw new AssertionError("no edge-values case in the vectors");
    }
}
