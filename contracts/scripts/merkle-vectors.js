// Writes fixed test vectors of @openzeppelin/merkle-tree's StandardMerkleTree with the batch
// leaf types ["bytes32", "address", "address", "address", "uint256"] = (transferId, token, from,
// to, amount): per case the values, the root, the whole node array (dump().tree), each value's
// leaf hash, tree index and proof. The Java StandardMerkleTree test compares against them.
//
// Values are derived from keccak256 of fixed strings, so the output never changes:
//   node scripts/merkle-vectors.js [output.json]
// (default: ../batcher/src/test/resources/merkle/standard-merkle-vectors.json)
const fs = require("fs");
const path = require("path");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { keccak256, toUtf8Bytes } = require("ethers");

const LEAF_ENCODING = ["bytes32", "address", "address", "address", "uint256"];
const MAX_ID = (1n << 128n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
const ZERO_ADDRESS = "0x" + "00".repeat(20);

function word(label) {
  return keccak256(toUtf8Bytes(label));
}

function id(value) {
  return "0x" + value.toString(16).padStart(64, "0");
}

function address(label) {
  return "0x" + word(label).slice(-40);
}

// the i-th pseudo-random leaf of a case: a 128-bit id, one of three tokens, one of eight accounts
function leaf(caseName, i) {
  const seed = BigInt(word(`${caseName}/${i}`));
  const transferId = id(seed & MAX_ID);
  const token = address(`token/${Number((seed >> 128n) % 3n)}`);
  const from = address(`account/${Number((seed >> 136n) % 8n)}`);
  let to = address(`account/${Number((seed >> 144n) % 8n)}`);
  if (to === from) {
    to = address("account/recipient");
  }
  const amount = ((seed >> 160n) % 10n ** 12n + 1n).toString();
  return [transferId, token, from, to, amount];
}

function generated(name, count) {
  return { name, values: Array.from({ length: count }, (_, i) => leaf(name, i)) };
}

const cases = [
  ...[1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 33, 100].map((n) => generated(`generated-${n}`, n)),
  {
    name: "edge-values",
    values: [
      [id(0n), ZERO_ADDRESS, address("account/0"), address("account/1"), "0"],
      [id(MAX_ID), address("token/0"), address("account/1"), address("account/0"), MAX_UINT256.toString()],
      [id(1n), address("token/1"), ZERO_ADDRESS, "0x" + "ff".repeat(20), "1"],
      [id(MAX_ID - 1n), address("token/2"), "0x" + "ff".repeat(20), address("account/2"), (1n << 128n).toString()],
    ],
  },
  (() => {
    const values = generated("duplicates", 5).values;
    values.splice(2, 0, values[0]);
    values.push(values[3]);
    return { name: "duplicate-leaves", values };
  })(),
];

const out = {
  generatedBy: "contracts/scripts/merkle-vectors.js",
  library: `@openzeppelin/merkle-tree ${require("@openzeppelin/merkle-tree/package.json").version}`,
  leafEncoding: LEAF_ENCODING,
  cases: cases.map(({ name, values }) => {
    const tree = StandardMerkleTree.of(values, LEAF_ENCODING);
    const dump = tree.dump();
    return {
      name,
      values,
      root: tree.root,
      tree: dump.tree,
      leaves: dump.values.map(({ treeIndex }, i) => ({
        treeIndex,
        hash: dump.tree[treeIndex],
        proof: tree.getProof(i),
      })),
    };
  }),
};

const target = path.resolve(
  process.argv[2] || path.join(__dirname, "..", "..", "batcher", "src", "test", "resources", "merkle",
    "standard-merkle-vectors.json"),
);
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, JSON.stringify(out, null, 2) + "\n");
console.log(`wrote ${out.cases.length} cases to ${target}`);
