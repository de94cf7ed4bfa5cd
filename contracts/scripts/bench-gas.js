// Gas benchmark of SettlementVault.settleBatch against plain ERC-20 transfers and a Disperse loop.
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

  const erc20 = Number(erc20Gas);
  const perTransfer = (gas, n) => Math.round(Number(gas) / n);
  const result = {
    erc20_transfer_gas: erc20,
    disperse_gas_per_transfer_n100: perTransfer(disperseGas, 100),
    batch_gas_per_transfer_n100_p20: perTransfer(n100p20.gas, 100),
    batch_gas_per_transfer_n1000_p20: perTransfer(n1000p20.gas, 1000),
    batch_gas_per_transfer_n100_distinct: perTransfer(distinct.gas, 100),
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
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
