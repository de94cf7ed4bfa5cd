// Checks a Merkle tree built elsewhere (the Java StandardMerkleTree) with @openzeppelin/merkle-tree.
//
//   node scripts/verify-merkle.js <input.json>
//
// input: { "root": "0x..", "leaves": [[transferId, token, from, to, amount], ...],
//          "proofs": [["0x..", ...], ...], "forged": [{ "leaf": [...], "proof": [...] }, ...] }
// with leaf types ["bytes32", "address", "address", "address", "uint256"]. It checks that
// StandardMerkleTree.of(leaves) has the same root, that every proofs[i] verifies for leaves[i]
// with StandardMerkleTree.verify and equals the library's own getProof(i), and that no forged
// entry verifies. Prints one line per failure and a summary; exits 0 only if everything holds.
const fs = require("fs");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const LEAF_ENCODING = ["bytes32", "address", "address", "address", "uint256"];

function main(file) {
  if (!file) {
    console.error("usage: node scripts/verify-merkle.js <input.json>");
    return 2;
  }
  const input = JSON.parse(fs.readFileSync(file, "utf8"));
  const failures = [];
  const tree = StandardMerkleTree.of(input.leaves, LEAF_ENCODING);
  if (tree.root !== input.root) {
    failures.push(`root mismatch: library ${tree.root}, input ${input.root}`);
  }
  if (input.proofs.length !== input.leaves.length) {
    failures.push(`${input.leaves.length} leaves but ${input.proofs.length} proofs`);
  }
  let verified = 0;
  input.leaves.forEach((leaf, i) => {
    const proof = input.proofs[i] || [];
    if (!StandardMerkleTree.verify(input.root, LEAF_ENCODING, leaf, proof)) {
      failures.push(`proof ${i} does not verify for leaf ${JSON.stringify(leaf)}`);
      return;
    }
    const expected = tree.getProof(i);
    if (JSON.stringify(expected) !== JSON.stringify(proof)) {
      failures.push(`proof ${i} verifies but differs from the library's ${JSON.stringify(expected)}`);
      return;
    }
    verified++;
  });
  let rejected = 0;
  for (const [i, { leaf, proof }] of (input.forged || []).entries()) {
    if (StandardMerkleTree.verify(input.root, LEAF_ENCODING, leaf, proof)) {
      failures.push(`forged entry ${i} verifies: ${JSON.stringify(leaf)}`);
    } else {
      rejected++;
    }
  }
  failures.forEach((f) => console.log(`FAIL ${f}`));
  const status = failures.length === 0 ? "OK" : "FAILED";
  console.log(`${status} root ${tree.root}: ${verified}/${input.leaves.length} proofs verified, ` +
    `${rejected}/${(input.forged || []).length} forged rejected`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv[2]);
