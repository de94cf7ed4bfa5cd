// Payment channels through the service, for the demo and the channel benchmark: open with an
// EIP-2612 permit and accept through the service's prepared calls, sign balance proofs (EIP-712
// BalanceProof in the PaymentChannels domain, docs/channels.md), close cooperatively. Every call is
// sent from the agent's own key; the service never holds one.
"use strict";
const { ethers } = require("ethers");
const { waitFor } = require("./agent");

const PROOF_TYPES = {
  BalanceProof: [
    { name: "channelId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "transferred", type: "uint256" },
  ],
};

/** Signs typed data as the service answers it ({domain, types, message}; EIP712Domain left to ethers). */
async function signTyped(wallet, typedData) {
  const types = { ...typedData.types };
  delete types.EIP712Domain;
  return wallet.signTypedData(typedData.domain, types, typedData.message);
}

/**
 * The agent's next nonce: the chain's pending count, or past the last one this process used (ethers
 * answers the same request from a cache for a moment, so two sends in a row would get one nonce).
 */
async function nextNonce(agent) {
  const pending = await agent.wallet.provider.getTransactionCount(agent.address, "pending");
  const next = Math.max(pending, agent.nextChannelNonce || 0);
  agent.nextChannelNonce = next + 1;
  return next;
}

/** Sends a prepared call ({to, calldata, approve?}) from the agent's own key; returns the call's receipt. */
async function sendPrepared(agent, call) {
  if (call.approve && call.approve.calldata) {
    const approval = await agent.wallet.sendTransaction({ to: call.approve.to, data: call.approve.calldata, nonce: await nextNonce(agent) });
    const mined = await approval.wait();
    if (mined.status !== 1) throw new Error(`${agent.name}'s approve ${approval.hash} reverted`);
  }
  const sent = await agent.wallet.sendTransaction({ to: call.to, data: call.calldata, nonce: await nextNonce(agent) });
  const receipt = await sent.wait();
  if (receipt.status !== 1) throw new Error(`${agent.name}'s ${call.function || "call"} ${sent.hash} reverted`);
  return receipt;
}

/** The channel as `agent` sees it through GET /channels/{id} (null while not indexed). */
async function channelOf(agent, id) {
  const { status, body } = await agent.get(`/channels/${id}`, { expect: [200, 404] });
  return status === 200 ? body : null;
}

async function awaitChannel(agent, id, state, seconds) {
  return waitFor(`channel ${id} ${state} for ${agent.name}`, seconds, async () => {
    const channel = await channelOf(agent, id);
    return channel && channel.state === state && channel;
  });
}

/**
 * A opens a channel to B with a permit for `depositA` (the permit signed from the typed data the
 * service answers), B accepts with `depositB`; resolves once the service shows it OPEN to both.
 * Returns {id, contract, domain}: the proofs' EIP-712 domain.
 */
async function openChannel(a, b, token, depositA, depositB, seconds = 60) {
  const request = { counterparty: b.address, token, deposit: depositA.toString() };
  const { body: unsigned } = await a.post("/channels/calls/open", request, { expect: [200] });
  if (unsigned.calldata !== null || !unsigned.typedData || unsigned.typedData.primaryType !== "Permit") {
    throw new Error(`POST /channels/calls/open without a signature answered no Permit to sign: ${JSON.stringify(unsigned).slice(0, 300)}`);
  }
  const permitSignature = await signTyped(a.wallet, unsigned.typedData);
  const { body: open } = await a.post("/channels/calls/open", {
    ...request, permitDeadline: String(unsigned.typedData.message.deadline), permitSignature,
  }, { expect: [200] });
  const id = open.channelId;
  await sendPrepared(a, open);
  await awaitChannel(a, id, "PENDING", seconds);
  const { body: accept } = await b.post(`/channels/${id}/calls/accept`, { amount: depositB.toString() }, { expect: [200] });
  await sendPrepared(b, accept);
  const channel = await awaitChannel(b, id, "OPEN", seconds);
  const chainId = (await a.wallet.provider.getNetwork()).chainId;
  const contract = ethers.getAddress(open.to);
  return { id, contract, channel, domain: { name: "PaymentChannels", version: "1", chainId, verifyingContract: contract } };
}

/** `signer`'s BalanceProof: it has sent `transferred` in total in its `nonce`-th proof. Returns the API body. */
async function signProof(signer, domain, channelId, nonce, transferred) {
  const signature = await signer.signTypedData(domain, PROOF_TYPES, { channelId, nonce, transferred });
  return { channelId, nonce: nonce.toString(), transferred: transferred.toString(), signature };
}

/**
 * Both sign the CooperativeClose the service prepares from the newest stored proofs; `sender`
 * sends it. Resolves with the receipt once the service shows the channel SETTLED.
 */
async function closeCooperatively(a, b, sender, id, seconds = 60) {
  const { body: unsigned } = await a.post(`/channels/${id}/calls/cooperative-close`, {}, { expect: [200] });
  const message = unsigned.typedData.message;
  const signatureA = await signTyped(a.wallet, unsigned.typedData);
  const signatureB = await signTyped(b.wallet, unsigned.typedData);
  const { body: call } = await sender.post(`/channels/${id}/calls/cooperative-close`, {
    totalWithdrawnA: String(message.totalWithdrawnA), totalWithdrawnB: String(message.totalWithdrawnB),
    expiry: String(message.expiry), signatureA, signatureB,
  }, { expect: [200] });
  const receipt = await sendPrepared(sender, call);
  const settled = await awaitChannel(a, id, "SETTLED", seconds);
  return { receipt, settled, message };
}

/** What the demo reads and (as a dishonest counterparty) sends to PaymentChannels without the service. */
const CHANNELS_ABI = [
  "function updateBalanceProof(bytes32 channelId, address participant, uint256 nonce, uint256 transferred, bytes signature)",
  "event ChannelBalanceProofUpdated(bytes32 indexed channelId, address indexed participant, address indexed submitter, uint256 nonce, uint256 transferred)",
];

/** The caller's events after sequence `after` (all pages, oldest first) and the last sequence seen. */
async function eventsAfter(agent, after = 0, maxPages = 100) {
  const items = [];
  let cursor = String(after);
  let last = Number(after);
  for (let page = 0; page < maxPages; page++) {
    const { body } = await agent.get(`/events?after=${cursor}&limit=500`);
    for (const item of body.items || []) {
      items.push(item);
      last = Math.max(last, Number(item.sequence));
    }
    if (!body.nextCursor) return { items, last };
    cursor = body.nextCursor;
  }
  throw new Error(`${agent.name} has more than ${maxPages * 500} events after ${after}`);
}

module.exports = { PROOF_TYPES, CHANNELS_ABI, eventsAfter, openChannel, signProof, closeCooperatively, channelOf, awaitChannel, sendPrepared, signTyped };
