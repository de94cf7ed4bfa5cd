// Batch encoding of the SettlementVault, shared by its tests and the gas benchmark.
// Layout (see ISettlementVault): per token section
//   tokenId:uint32 deltaCount:uint16 payoutCount:uint16
//   delta  := account:uint32 (bit 31 = debit) amount:uint128
//   payout := account:uint32 (bit 31 = serves the account's forced withdrawal) amount:uint128 recipient:address
const MAX_UINT128 = (1n << 128n) - 1n;
const DEBIT_FLAG = 1n << 31n;

function hex(value, bytes) {
  if (value < 0n || value >= 1n << BigInt(8 * bytes)) throw new Error(`${value} does not fit ${bytes} bytes`);
  return value.toString(16).padStart(2 * bytes, "0");
}

/**
 * Encodes sections [{ tokenId, deltas: [{ accountId, delta }], payouts: [{ accountId, amount, recipient, forced }] }]
 * (bigint deltas, signed; `forced` marks a payout that serves the account's forced withdrawal,
 * whose `amount` is the requested amount) into the `bytes` argument of settleBatch.
 */
function encodeBatch(sections) {
  let out = "0x";
  for (const section of sections) {
    const deltas = section.deltas || [];
    const payouts = section.payouts || [];
    out += hex(BigInt(section.tokenId), 4) + hex(BigInt(deltas.length), 2) + hex(BigInt(payouts.length), 2);
    for (const { accountId, delta } of deltas) {
      const negative = delta < 0n;
      out += hex(BigInt(accountId) | (negative ? DEBIT_FLAG : 0n), 4) + hex(negative ? -delta : delta, 16);
    }
    for (const { accountId, amount, recipient, forced } of payouts) {
      out += hex(BigInt(accountId) | (forced ? DEBIT_FLAG : 0n), 4) + hex(BigInt(amount), 16) + recipient.toLowerCase().replace(/^0x/, "");
    }
  }
  return out;
}

/**
 * Nets transfers [{ from, to, amount }] (account ids, bigint amounts) into deltas sorted by
 * account id, leaving out accounts whose net is zero: what the batcher sends per token.
 */
function netTransfers(transfers) {
  const net = new Map();
  for (const { from, to, amount } of transfers) {
    net.set(from, (net.get(from) || 0n) - amount);
    net.set(to, (net.get(to) || 0n) + amount);
  }
  return [...net.entries()]
    .filter(([, delta]) => delta !== 0n)
    .sort(([a], [b]) => a - b)
    .map(([accountId, delta]) => ({ accountId, delta }));
}

/** A small seeded PRNG (mulberry32): deterministic workloads for tests and benchmarks. */
function prng(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { encodeBatch, netTransfers, prng, MAX_UINT128, DEBIT_FLAG };
