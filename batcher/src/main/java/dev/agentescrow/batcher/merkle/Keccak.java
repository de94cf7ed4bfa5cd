package dev.agentescrow.batcher.merkle;

import org.bouncycastle.crypto.digests.KeccakDigest;

/**
 * keccak256 with one digest and one scratch buffer reused for a whole tree: web3j's
 * {@code Hash.sha3} builds a new digest (its state and queue) and a new result array for every
 * hash, which was a third of settlement's allocation when a batch of thousands of leaves was
 * built. Not thread-safe: one per tree build.
 */
final class Keccak {
    static final int SIZE = 32;
    private final KeccakDigest digest = new KeccakDigest(256);
    /** The ABI encoding of one leaf (five words). */
    final byte[] leaf = new byte[5 * SIZE];
    private final byte[] inner = new byte[SIZE];

    /** keccak256 of {@code in[from, from + length)} into {@code out} at {@code at}. */
    void hash(byte[] in, int from, int length, byte[] out, int at) {
        digest.update(in, from, length);
        digest.doFinal(out, at);
    }

    /** The standard leaf hash of {@code value} (keccak256 twice over its ABI encoding) into {@code out} at {@code at}. */
    void leafHash(TransferLeaf value, byte[] out, int at) {
        value.encodeInto(leaf);
        hash(leaf, 0, leaf.length, inner, 0);
        hash(inner, 0, SIZE, out, at);
    }
}
