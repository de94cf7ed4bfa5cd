package dev.agentescrow.batcher.merkle;

import dev.agentescrow.chain.Bytes32;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A Merkle tree of {@link TransferLeaf}s, byte for byte the tree that {@code @openzeppelin/merkle-tree}
 * v1 builds with {@code StandardMerkleTree.of(values, ["bytes32", "address", "address", "address",
 * "uint256"])} and its default {@code sortLeaves: true}:
 * <ul>
 *   <li>each value's leaf is {@link TransferLeaf#hash()} (keccak256 twice over the ABI encoding);</li>
 *   <li>the leaf hashes are sorted ascending as unsigned 256-bit integers (a stable sort: equal
 *       hashes keep their input order);</li>
 *   <li>the tree is a flat array of {@code 2n - 1} nodes, node {@code i} has children
 *       {@code 2i + 1} and {@code 2i + 2}; the {@code k}-th sorted leaf is node
 *       {@code 2n - 2 - k} (leaves fill the array from its end), every other node is
 *       {@code keccak256} of its two children sorted ascending (OpenZeppelin's commutative
 *       {@code MerkleProof} hashing), and node 0 is the root;</li>
 *   <li>a proof lists the sibling of the leaf's node, then of its parent, up to (not including)
 *       the root.</li>
 * </ul>
 * Values are addressed by their index in the input list, as in the JavaScript library. Proofs
 * verify with {@code StandardMerkleTree.verify} in JavaScript, with OpenZeppelin's
 * {@code MerkleProof.verify} in Solidity and with the vault's {@code verifyTransfer}.
 * Instances are immutable.
 */
public final class StandardMerkleTree {
    /** The most leaves one tree takes; 2^20 leaves need 64 MiB of nodes. */
    public static final int MAX_LEAVES = 1 << 20;

    private static final int NODE = 32;

    private final List<TransferLeaf> values;
    /** All {@code 2n - 1} nodes, 32 bytes each, in the library's array order. */
    private final byte[] nodes;
    /** Tree index of the value at each input index. */
    private final int[] treeIndexOfValue;
    /** Input index of the value at each tree index {@code n - 1 .. 2n - 2} (offset by {@code n - 1}). */
    private final int[] valueOfLeafNode;

    private StandardMerkleTree(List<TransferLeaf> values, byte[] nodes, int[] treeIndexOfValue, int[] valueOfLeafNode) {
        this.values = values;
        this.nodes = nodes;
        this.treeIndexOfValue = treeIndexOfValue;
        this.valueOfLeafNode = valueOfLeafNode;
    }

    /**
     * Builds the tree of {@code leaves}, in the order given (the order fixes the value indices,
     * not the root: leaves are sorted by hash). Throws {@link IllegalArgumentException} for no
     * leaves (as the JavaScript library does) or more than {@link #MAX_LEAVES}.
     */
    public static StandardMerkleTree of(List<TransferLeaf> leaves) {
        List<TransferLeaf> values = List.copyOf(leaves);
        int n = values.size();
        if (n == 0) {
            throw new IllegalArgumentException("a Merkle tree needs at least one leaf");
        }
        if (n > MAX_LEAVES) {
            throw new IllegalArgumentException("a Merkle tree takes at most " + MAX_LEAVES + " leaves, got " + n);
        }
        // One digest for every hash of the tree (Keccak): a batch has thousands of leaves.
        Keccak keccak = new Keccak();
        byte[] hashes = new byte[n * NODE];
        Integer[] sorted = new Integer[n];
        for (int i = 0; i < n; i++) {
            keccak.leafHash(values.get(i), hashes, i * NODE);
            sorted[i] = i;
        }
        // Arrays.sort on objects is stable, like Array.prototype.sort in the JavaScript library
        Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(hashes, a * NODE, a * NODE + NODE,
                hashes, b * NODE, b * NODE + NODE));

        int nodeCount = 2 * n - 1;
        byte[] nodes = new byte[nodeCount * NODE];
        int[] treeIndexOfValue = new int[n];
        int[] valueOfLeafNode = new int[n];
        for (int k = 0; k < n; k++) {
            int treeIndex = nodeCount - 1 - k;
            int valueIndex = sorted[k];
            System.arraycopy(hashes, valueIndex * NODE, nodes, treeIndex * NODE, NODE);
            treeIndexOfValue[valueIndex] = treeIndex;
            valueOfLeafNode[treeIndex - (n - 1)] = valueIndex;
        }
        byte[] pair = new byte[2 * NODE];
        for (int i = nodeCount - 1 - n; i >= 0; i--) {
            hashSortedPair(keccak, nodes, 2 * i + 1, 2 * i + 2, pair, nodes, i * NODE);
        }
        return new StandardMerkleTree(values, nodes, treeIndexOfValue, valueOfLeafNode);
    }

    /** The root, node 0; for one leaf the root is that leaf's hash. */
    public Bytes32 root() {
        return node(0);
    }

    /** Number of values (leaves). */
    public int size() {
        return values.size();
    }

    /** The value at input index {@code index}. */
    public TransferLeaf leaf(int index) {
        return values.get(index);
    }

    /** The values in input order. */
    public List<TransferLeaf> leaves() {
        return values;
    }

    /** All nodes in the library's array order ({@code dump().tree}): root first, leaves last. */
    public List<Bytes32> nodes() {
        List<Bytes32> out = new ArrayList<>(nodes.length / NODE);
        for (int i = 0; i < nodes.length / NODE; i++) {
            out.add(node(i));
        }
        return Collections.unmodifiableList(out);
    }

    /** Tree index (position in {@link #nodes()}) of the value at input index {@code index}. */
    public int treeIndex(int index) {
        Objects.checkIndex(index, values.size());
        return treeIndexOfValue[index];
    }

    /**
     * The input index of {@code leaf}, if the tree holds it. When the same leaf occurs more than
     * once this is its last input index, as the JavaScript library's {@code leafLookup} returns.
     */
    public OptionalInt indexOf(TransferLeaf leaf) {
        byte[] hash = leaf.hash().bytes();
        int n = values.size();
        // sorted leaf k sits at node 2n - 2 - k; find the last k whose hash equals `hash`
        int low = 0;
        int high = n;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (compareNode(2 * n - 2 - mid, hash) <= 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if (low == 0 || compareNode(2 * n - 2 - (low - 1), hash) != 0) {
            return OptionalInt.empty();
        }
        int treeIndex = 2 * n - 2 - (low - 1);
        return OptionalInt.of(valueOfLeafNode[treeIndex - (n - 1)]);
    }

    /** The inclusion proof of the value at input index {@code index}: siblings from leaf to root. */
    public List<Bytes32> proof(int index) {
        int treeIndex = treeIndex(index);
        List<Bytes32> proof = new ArrayList<>();
        while (treeIndex > 0) {
            int sibling = treeIndex % 2 == 1 ? treeIndex + 1 : treeIndex - 1;
            proof.add(node(sibling));
            treeIndex = (treeIndex - 1) / 2;
        }
        return Collections.unmodifiableList(proof);
    }

    /** The inclusion proof of {@code leaf}; throws {@link IllegalArgumentException} if it is not in the tree. */
    public List<Bytes32> proof(TransferLeaf leaf) {
        OptionalInt index = indexOf(leaf);
        if (index.isEmpty()) {
            throw new IllegalArgumentException("leaf is not in the tree: " + leaf);
        }
        return proof(index.getAsInt());
    }

    /** Whether {@code proof} shows {@code leaf} under {@code root} (JavaScript {@code StandardMerkleTree.verify}). */
    public static boolean verify(Bytes32 root, TransferLeaf leaf, List<Bytes32> proof) {
        return processProof(leaf.hash(), proof).equals(root);
    }

    /** Folds {@code proof} into {@code leafHash} with sorted-pair hashing, as {@code MerkleProof.processProof}. */
    public static Bytes32 processProof(Bytes32 leafHash, List<Bytes32> proof) {
        Bytes32 computed = leafHash;
        for (Bytes32 sibling : proof) {
            computed = hashPair(computed, sibling);
        }
        return computed;
    }

    /** {@code keccak256} of the two nodes concatenated in ascending (unsigned) order. */
    public static Bytes32 hashPair(Bytes32 a, Bytes32 b) {
        byte[] both = new byte[2 * NODE];
        System.arraycopy(a.bytes(), 0, both, 0, NODE);
        System.arraycopy(b.bytes(), 0, both, NODE, NODE);
        byte[] parent = new byte[NODE];
        hashSortedPair(new Keccak(), both, 0, 1, new byte[2 * NODE], parent, 0);
        return new Bytes32(parent);
    }

    /** keccak256 of the two nodes in ascending order into {@code out} at {@code at}. */
    private static void hashSortedPair(Keccak keccak, byte[] nodes, int left, int right, byte[] pair, byte[] out,
            int at) {
        int first = left;
        int second = right;
        if (Arrays.compareUnsigned(nodes, left * NODE, left * NODE + NODE, nodes, right * NODE, right * NODE + NODE) > 0) {
            first = right;
            second = left;
        }
        System.arraycopy(nodes, first * NODE, pair, 0, NODE);
        System.arraycopy(nodes, second * NODE, pair, NODE, NODE);
        keccak.hash(pair, 0, 2 * NODE, out, at);
    }

    private int compareNode(int treeIndex, byte[] hash) {
        return Arrays.compareUnsigned(nodes, treeIndex * NODE, treeIndex * NODE + NODE, hash, 0, NODE);
    }

    private Bytes32 node(int treeIndex) {
        return new Bytes32(Arrays.copyOfRange(nodes, treeIndex * NODE, treeIndex * NODE + NODE));
    }

    @Override
    public String toString() {
        return "StandardMerkleTree[root=" + root() + ", leaves=" + values.size() + "]";
    }
}
