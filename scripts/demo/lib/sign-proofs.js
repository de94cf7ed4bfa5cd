// Worker thread of scripts/bench-channels: signs `count` BalanceProofs of one channel (nonce and
// running total offset+1 .. offset+count, one base unit each) and posts them back as API bodies.
"use strict";
const { parentPort, workerData } = require("worker_threads");
const { ethers } = require("ethers");
const { PROOF_TYPES } = require("./channel");

const { privateKey, domain, channelId, offset, count } = workerData;
const key = new ethers.SigningKey(privateKey);
const typedDomain = { ...domain, chainId: BigInt(domain.chainId) };
const proofs = [];
for (let i = 1; i <= count; i++) {
  const n = BigInt(offset + i);
  const digest = ethers.TypedDataEncoder.hash(typedDomain, PROOF_TYPES, { channelId, nonce: n, transferred: n });
  proofs.push({ channelId, nonce: n.toString(), transferred: n.toString(), signature: key.sign(digest).serialized });
}
parentPort.postMessage(proofs);
