package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.chain.Bytes32;
import java.util.List;
import java.util.Objects;

/**
 * Evidence that a movement was settled in batch {@code batchId}: its leaf and the sibling path to
 * {@code merkleRoot}, the root the vault emitted in {@code BatchSettled}. Anyone can check it with
 * {@code StandardMerkleTree.verify} (JavaScript), {@code MerkleProof.verify} (Solidity) or the
 * vault's {@code verifyTransfer}.
 */
public record InclusionProof(long batchId, Bytes32 merkleRoot, TransferLeaf leaf, List<Bytes32> proof) {
    public InclusionProof {
        Objects.requireNonNull(merkleRoot, "merkleRoot");
        Objects.requireNonNull(leaf, "leaf");
        proof = List.copyOf(proof);
    }

    /** Whether the proof leads from the leaf to the root. */
    public boolean verify() {
        return StandardMerkleTree.verify(merkleRoot, leaf, proof);
    }
}
