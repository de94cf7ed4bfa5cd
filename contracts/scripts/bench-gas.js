// Gas benchmark of SettlementVault.settleBatch against plain ERC-20 transfers and a Disperse loop,
// and of a PaymentChannels life cycle (open with a permit, one counterparty deposit, cooperative
// close after 1,000 off-chain updates) against one ERC-20 transfer.
// Run through scripts/bench-gas (in-process Hardhat chain, fresh each run). Its last output line
// is one JSON object with the measured figures.
const hre = require("hardhat");
const { encodeBatch, netTransfers, prng } = require("../test/SettlementVault.encoding.js");

const { ethers } = hre;
const SEED = Number(process.env.BENCH_SEED || 20261122);
const DEPOSIT = 1_000_000_000_000n; // 1,000,000 tokens of 6 decimals per account
const ERC20_REFERENCE_TWO_WRITES = 10_300; // two cold non-zero storage writes plus hashing

async function gasOf(txPromise) {
  const receipt = await (await txPromise).wait();
  return receipt.gasUsed;
}

function randomAmount(next) {
  return BigInt(1 + Math.floor(next() * 1_000_000)); // 1..1,000,000 base units
}

async function main() {
  const next = prng(SEED);
  const [deployer, holder] = await ethers.getSigners();
  const token = await ethers.deployContract("TestToken", ["Bench USD", "BUSD", 6]);
  const disperse = await ethers.deployContract("Disperse");
  // escape delay 1 day, forced-withdrawal window 1 day, operator delay 2 days
  const vault = await ethers.deployContract("SettlementVault", [deployer.address, deployer.address, 86_400, 86_400, 172_800]);
  const tokenAddress = await token.getAddress();
  await (await vault.listToken(tokenAddress, 1_000_000n, (1n << 96n) - 1n)).wait();
  const vaultAddress = await vault.getAddress();

  // 1. ERC-20 transfer to an existing holder
  await (await token.mint(deployer.address, 10n ** 18n)).wait();
  await (await token.mint(holder.address, 1n)).wait();
  const erc20Gas = await gasOf(token.transfer(holder.address, randomAmount(next)));

  // 220 accounts with a balance, both as token holders and as vault depositors
  const wallets = [];
  for (let i = 0; i < 220; i++) {
    const wallet = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`bench-account-${SEED}-${i}`)), ethers.provider);
    await hre.network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
    await (await token.mint(wallet.address, 2n * DEPOSIT)).wait();
    await (await token.connect(wallet).approve(vaultAddress, DEPOSIT)).wait();
    await (await vault.connect(wallet).deposit(tokenAddress, DEPOSIT)).wait();
    wallets.push(wallet);
  }
  const tokenId = Number(await vault.tokenIdOf(tokenAddress));
  const ids = await Promise.all(wallets.map((w) => vault.accountIdOf(w.address)));

  // reference figures: deposits of a new and of a known account
  const newcomer = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`bench-newcomer-${SEED}`)), ethers.provider);
  await hre.network.provider.send("hardhat_setBalance", [newcomer.address, "0x56BC75E2D63100000"]);
  await (await token.mint(newcomer.address, 2n * DEPOSIT)).wait();
  await (await token.connect(newcomer).approve(vaultAddress, 2n * DEPOSIT)).wait();
  const depositNewGas = await gasOf(vault.connect(newcomer).deposit(tokenAddress, DEPOSIT));
  const depositAgainGas = await gasOf(vault.connect(newcomer).deposit(tokenAddress, DEPOSIT));

  // 2. Disperse: N=100 transfers to 20 existing holders
  const recipients = [];
  const values = [];
  for (let i = 0; i < 100; i++) {
    recipients.push(wallets[Math.floor(next() * 20)].address);
    values.push(randomAmount(next));
  }
  await (await token.approve(await disperse.getAddress(), 10n ** 18n)).wait();
  const disperseGas = await gasOf(disperse.disperseToken(tokenAddress, recipients, values));
  // reference only: Disperse to 100 distinct existing holders (every recipient a cold slot)
  const distinctRecipients = wallets.slice(20, 120).map((w) => w.address);
  const disperseDistinctGas = await gasOf(disperse.disperseToken(tokenAddress, distinctRecipients, values));
  // reference only: the other Disperse pattern, one transferFrom per transfer, same 20 holders
  const disperseSimpleGas = await gasOf(disperse.disperseTokenSimple(tokenAddress, recipients, values));

  // 3. settleBatch of netted transfers
  let batchId = 0n;
  async function settle(transfers) {
    const deltas = netTransfers(transfers);
    const batch = encodeBatch([{ tokenId, deltas }]);
    batchId += 1n;
    const root = ethers.keccak256(ethers.toUtf8Bytes(`batch-${batchId}`));
    const gas = await gasOf(vault.settleBatch(batchId, root, batch));
    for (const { accountId, delta } of deltas) {
      const wallet = wallets[ids.findIndex((id) => Number(id) === accountId)];
      const expected = balances.get(accountId) + delta;
      balances.set(accountId, expected);
      const actual = await vault.settledBalance(tokenAddress, wallet.address);
      if (actual !== expected) throw new Error(`account ${accountId}: settled ${actual}, expected ${expected}`);
    }
    return { gas, entries: deltas.length };
  }
  const balances = new Map(ids.map((id) => [Number(id), DEPOSIT]));

  function amongFirst(count, n) {
    const transfers = [];
    for (let i = 0; i < n; i++) {
      const from = Math.floor(next() * count);
      let to = Math.floor(next() * (count - 1));
      if (to >= from) to += 1;
      transfers.push({ from: Number(ids[from]), to: Number(ids[to]), amount: randomAmount(next) });
    }
    return transfers;
  }
  function allDistinct() {
    // every transfer its own sender and receiver: accounts 20..219 in a seeded random order
    const order = ids.slice(20).map(Number);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const transfers = [];
    for (let i = 0; i < 100; i++) {
      transfers.push({ from: order[2 * i], to: order[2 * i + 1], amount: randomAmount(next) });
    }
    return transfers;
  }
  // first use: each batch writes its root into a root-ring slot that was still zero
  const cold100 = await settle(amongFirst(20, 100));
  const cold1000 = await settle(amongFirst(20, 1000));
  const coldDistinct = await settle(allDistinct());

  const heartbeatRoot = ethers.keccak256(ethers.toUtf8Bytes("heartbeat"));
  // forced withdrawal: the request, and a batch that serves it (debit + payout push)
  const requester = wallets[0];
  const forcedWithdrawalGas = await gasOf(vault.connect(requester).requestForcedWithdrawal(tokenAddress, 5_000_000n));
  batchId += 1n;
  const serveBatch = encodeBatch([{ tokenId, payouts: [{ accountId: Number(ids[0]), amount: 5_000_000n, recipient: requester.address, forced: true }] }]);
  const forcedServeGas = await gasOf(vault.settleBatch(batchId, heartbeatRoot, serveBatch));
  balances.set(Number(ids[0]), balances.get(Number(ids[0])) - 5_000_000n);

  // steady state: heartbeats until the root ring has wrapped, so every ring slot is warm
  const ringSize = Number(await vault.ROOT_HISTORY());
  let lastSend;
  while (batchId < BigInt(ringSize) + 1n) {
    batchId += 1n;
    lastSend = await vault.settleBatch(batchId, heartbeatRoot, "0x");
  }
  await lastSend.wait();
  const n100p20 = await settle(amongFirst(20, 100));
  const n1000p20 = await settle(amongFirst(20, 1000));
  const distinct = await settle(allDistinct());

  const channel = await channelLifecycle(token, holder, next);

  const erc20 = Number(erc20Gas);
  const perTransfer = (gas, n) => Math.round(Number(gas) / n);
  const result = {
    erc20_transfer_gas: erc20,
    disperse_gas_per_transfer_n100: perTransfer(disperseGas, 100),
    batch_gas_per_transfer_n100_p20: perTransfer(n100p20.gas, 100),
    batch_gas_per_transfer_n1000_p20: perTransfer(n1000p20.gas, 1000),
    batch_gas_per_transfer_n100_distinct: perTransfer(distinct.gas, 100),
    channel_open_close_gas: channel.total,
    batch_gas_per_transfer_n100_p20_first_use: perTransfer(cold100.gas, 100),
    batch_gas_per_transfer_n1000_p20_first_use: perTransfer(cold1000.gas, 1000),
    batch_gas_per_transfer_n100_distinct_first_use: perTransfer(coldDistinct.gas, 100),
    forced_withdrawal_gas: Number(forcedWithdrawalGas),
    forced_withdrawal_serve_batch_gas: Number(forcedServeGas),
  };

  const rows = [
    ["ERC-20 transfer (existing holder)", erc20, 1, erc20],
    ["Disperse, N=100 to 20 holders", Number(disperseGas), 100, result.disperse_gas_per_transfer_n100],
    [`settleBatch N=100 among 20 (${n100p20.entries} entries)`, Number(n100p20.gas), 100, result.batch_gas_per_transfer_n100_p20],
    [`settleBatch N=1000 among 20 (${n1000p20.entries} entries)`, Number(n1000p20.gas), 1000, result.batch_gas_per_transfer_n1000_p20],
    [`settleBatch N=100 all distinct (${distinct.entries} entries)`, Number(distinct.gas), 100, result.batch_gas_per_transfer_n100_distinct],
    [`channel open+deposit+close, ${CHANNEL_UPDATES} updates`, channel.total, CHANNEL_UPDATES, Math.round(channel.total / CHANNEL_UPDATES)],
    [`first use: settleBatch N=100 among 20`, Number(cold100.gas), 100, result.batch_gas_per_transfer_n100_p20_first_use],
    [`first use: settleBatch N=1000 among 20`, Number(cold1000.gas), 1000, result.batch_gas_per_transfer_n1000_p20_first_use],
    [`first use: settleBatch N=100 all distinct`, Number(coldDistinct.gas), 100, result.batch_gas_per_transfer_n100_distinct_first_use],
  ];
  console.log(`seed ${SEED}, gas includes the 21,000 base of each transaction; steady state = root ring warm (after ${ringSize} batches)`);
  console.log(`forced withdrawal: request ${forcedWithdrawalGas}, serving batch (one payout, pushed) ${forcedServeGas}`);
  console.log(`reference: vault deposit (new account) ${depositNewGas}, vault deposit (known account) ${depositAgainGas}, `
    + `Disperse N=100 to 100 distinct holders ${Math.round(Number(disperseDistinctGas) / 100)}/transfer, `
    + `Disperse one transferFrom each, N=100 to 20 holders ${Math.round(Number(disperseSimpleGas) / 100)}/transfer`);
  console.log(`${"case".padEnd(48)} ${"tx gas".padStart(10)} ${"N".padStart(5)} ${"gas/transfer".padStart(13)} ${"ERC-20 / this".padStart(14)}`);
  for (const [name, gas, n, per] of rows) {
    console.log(`${name.padEnd(48)} ${String(gas).padStart(10)} ${String(n).padStart(5)} ${String(per).padStart(13)} ${(erc20 / per).toFixed(1).padStart(13)}x`);
  }
  const ratio1000 = erc20 / result.batch_gas_per_transfer_n1000_p20;
  const ratio100 = erc20 / result.batch_gas_per_transfer_n100_p20;
  const ratioDisperse = result.disperse_gas_per_transfer_n100 / result.batch_gas_per_transfer_n100_p20;
  const distinctLimit = Math.round(1.1 * ERC20_REFERENCE_TWO_WRITES);
  const verdict = (ok) => (ok ? "MET" : "NOT MET");
  console.log(`target >= 200x cheaper than ERC-20 at N=1000/p20: ${ratio1000.toFixed(1)}x ${verdict(ratio1000 >= 200)}`);
  console.log(`target >= 35x cheaper than ERC-20 at N=100/p20:   ${ratio100.toFixed(1)}x ${verdict(ratio100 >= 35)}`);
  const ratioDisperseDistinct = Number(disperseDistinctGas) / 100 / result.batch_gas_per_transfer_n100_p20;
  console.log(`reference (retired target): ${ratioDisperse.toFixed(1)}x cheaper than Disperse at N=100/p20`
    + ` (${ratioDisperseDistinct.toFixed(1)}x against Disperse to 100 distinct holders)`);
  console.log(`target all-distinct <= ${distinctLimit} gas/transfer (1.1 x two writes): ${result.batch_gas_per_transfer_n100_distinct} ${verdict(result.batch_gas_per_transfer_n100_distinct <= distinctLimit)}`);
  const channelRatio = channel.total / erc20;
  console.log(`channel: openWithPermit ${channel.open}, counterparty approve ${channel.approve} + accept with deposit ${channel.accept}, `
    + `cooperativeClose after ${CHANNEL_UPDATES} off-chain updates ${channel.close}; total ${channel.total} `
    + `= ${channelRatio.toFixed(1)}x one ERC-20 transfer, ${Math.round(channel.total / CHANNEL_UPDATES)} gas per off-chain update`);
  console.log(`target channel open + deposit + close <= 3x one ERC-20 transfer: ${channelRatio.toFixed(1)}x ${verdict(channelRatio <= 3)}`
    + ` (per off-chain update: ${(Math.round(channel.total / CHANNEL_UPDATES) / erc20).toFixed(3)}x)`);
  console.log(JSON.stringify(result));
}

const CHANNEL_UPDATES = 1_000;

/**
 * A PaymentChannels life cycle on fresh accounts: the payer opens with an EIP-2612 permit (no
 * approval transaction), the counterparty approves and accepts with a deposit, both pay each
 * other CHANNEL_UPDATES times off-chain (each update a balance proof signed by the sender), then
 * one cooperative close over the final totals. Returns the gas of each transaction and the total.
 */
async function channelLifecycle(token, funder, next) {
  const channels = await ethers.deployContract("PaymentChannels", [600]);
  const channelsAddress = await channels.getAddress();
  const tokenAddress = await token.getAddress();
  const [payer, payee] = ["payer", "payee"].map(
    (name) => new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`bench-channel-${name}-${SEED}`)), ethers.provider)
  );
  for (const w of [payer, payee]) {
    await hre.network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    await (await token.mint(w.address, DEPOSIT)).wait();
  }
  const depositA = 1_000_000_000n;
  const depositB = 100_000_000n;
  const deadline = BigInt((await ethers.provider.getBlock("latest")).timestamp) + 3_600n;
  const permit = ethers.Signature.from(await payer.signTypedData(
    { name: "Bench USD", version: "1", chainId: 31337n, verifyingContract: tokenAddress },
    { Permit: [
      { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" },
    ] },
    { owner: payer.address, spender: channelsAddress, value: depositA, nonce: await token.nonces(payer.address), deadline }
  ));
  const openReceipt = await (await channels.connect(payer).openWithPermit(payee.address, tokenAddress, ethers.ZeroAddress,
    depositA, 86_400, deadline, permit.v, permit.r, permit.s)).wait();
  const channelId = channels.interface.parseLog(openReceipt.logs.find((l) => l.address === channelsAddress)).args.channelId;
  const approve = await gasOf(token.connect(payee).approve(channelsAddress, depositB));
  const accept = await gasOf(channels.connect(payee).accept(channelId, ethers.ZeroAddress, depositB));

  const domain = { name: "PaymentChannels", version: "1", chainId: 31337n, verifyingContract: channelsAddress };
  const proofType = { BalanceProof: [
    { name: "channelId", type: "bytes32" }, { name: "nonce", type: "uint256" }, { name: "transferred", type: "uint256" },
  ] };
  const sent = [0n, 0n];
  const nonces = [0n, 0n];
  for (let i = 0; i < CHANNEL_UPDATES; i++) {
    const side = next() < 0.8 ? 0 : 1; // mostly payer -> payee
    const available = (side === 0 ? depositA : depositB) - sent[side] + sent[1 - side];
    const amount = BigInt(1 + Math.floor(next() * 1_000)) % (available + 1n);
    sent[side] += amount;
    nonces[side] += 1n;
    const proof = { channelId, nonce: nonces[side], transferred: sent[side] };
    const signature = await [payer, payee][side].signTypedData(domain, proofType, proof);
    if (ethers.verifyTypedData(domain, proofType, proof, signature) !== [payer, payee][side].address) {
      throw new Error(`update ${i} does not verify`);
    }
  }
  const totalA = depositA - sent[0] + sent[1];
  const totalB = depositB - sent[1] + sent[0];
  const closeType = { CooperativeClose: [
    { name: "channelId", type: "bytes32" }, { name: "totalWithdrawnA", type: "uint256" },
    { name: "totalWithdrawnB", type: "uint256" }, { name: "expiry", type: "uint256" },
  ] };
  const final = { channelId, totalWithdrawnA: totalA, totalWithdrawnB: totalB, expiry: deadline };
  const sigA = await payer.signTypedData(domain, closeType, final);
  const sigB = await payee.signTypedData(domain, closeType, final);
  const close = await gasOf(channels.connect(payee).cooperativeClose(channelId, totalA, totalB, deadline, sigA, sigB));
  if ((await token.balanceOf(payee.address)) !== DEPOSIT - depositB + totalB) {
    throw new Error("the cooperative close did not pay the payee its final total");
  }
  const open = Number(openReceipt.gasUsed);
  const total = open + Number(approve) + Number(accept) + Number(close);
  return { open, approve: Number(approve), accept: Number(accept), close: Number(close), total };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
