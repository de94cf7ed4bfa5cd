// Simulated agents against a running backend (scripts/run --demo starts one and runs this):
// each agent signs in with SIWE, deposits with an EIP-2612 permit, they pay each other a few
// hundred micropayments, one escrow is disputed and split by an arbiter, the period's fees are
// distributed to two stakeholders, a task is auctioned (sealed bids, reverse Vickrey allocation
// funding the escrow, paid by performance), a flexible and an atomic workflow pay three agents, two
// open a payment channel with a permit, store off-chain proofs and close it cooperatively, in a second
// channel the service's watchtower defends an offline agent against a stale close, one withdraws, and once a batch has settled a transfer's inclusion
// proof is checked with @openzeppelin/merkle-tree and by the vault on chain. Prints a summary;
// exits 0 only if every step held, else 1 with the first step that failed.
//
// Environment: API_URL (default http://127.0.0.1:8080), CHAIN_RPC_URL (default
// http://127.0.0.1:8545), AGENT_PRIVATE_KEYS (comma-separated; default Hardhat dev accounts #4..#7),
// DEMO_TRANSFERS (default 300), DEMO_CHANNEL_PROOFS (default 200), DEMO_SEED (default random), DEMO_SETTLE_TIMEOUT_SECONDS (default 120),
// DEMO_DEFENCE_TIMEOUT_SECONDS (default 90: how long the watchtower may take to challenge a stale close),
// DEMO_ADMIN_PRIVATE_KEY (default Hardhat dev account #0, an admin in scripts/run's local setup).
"use strict";
const crypto = require("crypto");
const { ethers } = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { Agent, Api, ApiError, agentKeys, waitFor, VAULT_ABI, TOKEN_ABI } = require("./lib/agent");
const { openChannel, signProof, closeCooperatively, sendPrepared, awaitChannel, channelOf, eventsAfter, CHANNELS_ABI } = require("./lib/channel");

const API_URL = process.env.API_URL || "http://127.0.0.1:8080";
const RPC_URL = process.env.CHAIN_RPC_URL || "http://127.0.0.1:8545";
const TRANSFERS = Number(process.env.DEMO_TRANSFERS || 300);
const CHANNEL_PROOFS = Number(process.env.DEMO_CHANNEL_PROOFS || 200);
const SEED = Number(process.env.DEMO_SEED || crypto.randomInt(1, 2 ** 31));
const DEFENCE_SECONDS = Number(process.env.DEMO_DEFENCE_TIMEOUT_SECONDS || 90);
const SETTLE_SECONDS = Number(process.env.DEMO_SETTLE_TIMEOUT_SECONDS || 120);
const CREDIT_SECONDS = Number(process.env.DEMO_CREDIT_TIMEOUT_SECONDS || 60);
const CONCURRENCY = 8;
const LEAF_ENCODING = ["bytes32", "address", "address", "address", "uint256"];

/** mulberry32: a small seeded generator, so that a run's workload can be replayed (DEMO_SEED). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let stepNumber = 0;
async function step(title, action) {
  stepNumber += 1;
  const started = Date.now();
  process.stdout.write(`[demo] ${String(stepNumber).padStart(2)}. ${title} ... `);
  try {
    const note = await action();
    console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)${note ? `: ${note}` : ""}`);
  } catch (error) {
    console.log("FAILED");
    console.error(`[demo] FAILED at step ${stepNumber} "${title}": ${error.message}`);
    if (process.env.DEMO_DEBUG) console.error(error);
    process.exit(1);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  const api = new Api(API_URL);
  const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, pollingInterval: 250 });
  const names = ["alice", "bob", "carol", "dave"];
  const keys = agentKeys([4, 5, 6, 7]);
  const agents = keys.slice(0, names.length).map((key, i) => new Agent(names[i] || `agent${i}`, key, api, provider));
  check(agents.length >= 2, "the demo needs at least two agent keys");
  const ctx = { agents };
  console.log(`[demo] API ${API_URL}, chain ${RPC_URL}, ${agents.length} agents, ${TRANSFERS} transfers, seed ${SEED} (DEMO_SEED=${SEED} replays it)`);

  await step("sign in every agent with Sign-In with Ethereum (EIP-4361)", async () => {
    await Promise.all(agents.map((agent) => agent.login()));
    const replay = await replaySiwe(api, agents[0]);
    return `${agents.length} JWTs; a replayed SIWE message is refused (${replay})`;
  });

  await step("read the accepted tokens", async () => {
    const { body } = await agents[0].get("/tokens");
    check(Array.isArray(body.tokens) && body.tokens.length > 0, "GET /tokens lists no token");
    const wanted = process.env.DEMO_TOKEN_SYMBOL;
    const token = wanted ? body.tokens.find((t) => t.symbol === wanted) : body.tokens[0];
    check(token, `GET /tokens lists no ${wanted}`);
    ctx.token = ethers.getAddress(token.address);
    ctx.vaultAddress = ethers.getAddress(token.vault);
    ctx.decimals = Number(token.decimals);
    ctx.symbol = token.symbol;
    ctx.vault = new ethers.Contract(ctx.vaultAddress, VAULT_ABI, provider);
    ctx.erc20 = new ethers.Contract(ctx.token, TOKEN_ABI, provider);
    ctx.unit = 10n ** BigInt(ctx.decimals);
    const code = await provider.getCode(ctx.vaultAddress);
    check(code !== "0x", `the vault ${ctx.vaultAddress} has no code on ${RPC_URL}`);
    return `${ctx.symbol} ${ctx.token} (${ctx.decimals} decimals), vault ${ctx.vaultAddress}`;
  });
  const fmt = (v) => `${ethers.formatUnits(v, ctx.decimals)} ${ctx.symbol}`;

  ctx.deposit = BigInt(process.env.DEMO_DEPOSIT_TOKENS || 100) * ctx.unit;
  ctx.withdrawal = BigInt(process.env.DEMO_WITHDRAW_TOKENS || 25) * ctx.unit;
  await step("balances before (service, wallets, vault)", async () => {
    ctx.before = await snapshot(ctx);
  });

  await step(`deposit ${fmt(ctx.deposit)} per agent with an EIP-2612 permit (depositWithPermit)`, async () => {
    for (const agent of agents) {
      const wallet = ctx.before.get(agent).wallet;
      check(wallet >= ctx.deposit, `${agent.name} (${agent.address}) holds only ${fmt(wallet)} on chain`);
    }
    const results = await Promise.all(agents.map((agent) => agent.depositWithPermit(ctx.token, ctx.vaultAddress, ctx.deposit)));
    ctx.depositTxs = new Map(agents.map((agent, i) => [agent, results[i].receipt.hash]));
    return `permit typed data from ${results[0].source}; txs ${results.map((r) => short(r.receipt.hash)).join(", ")}`;
  });

  await step("wait until the service credits every deposit", async () => {
    const started = Date.now();
    for (const agent of agents) {
      const txHash = ctx.depositTxs.get(agent).toLowerCase();
      await waitFor(`${agent.name}'s deposit ${txHash} to be CREDITED`, CREDIT_SECONDS, async () => {
        const { body } = await agent.get("/deposits");
        const item = (body.items || []).find((d) => String(d.txHash).toLowerCase() === txHash);
        return item && item.state === "CREDITED" && item;
      });
      const balance = await agent.balance(ctx.token);
      const expected = BigInt(ctx.before.get(agent).api.available) + ctx.deposit;
      check(BigInt(balance.available) === expected,
        `${agent.name}'s available balance is ${balance.available}, expected ${expected} after the deposit`);
    }
    return `credited within ${((Date.now() - started) / 1000).toFixed(1)} s of the last receipt`;
  });

  ctx.expected = new Map(agents.map((agent) => [agent, BigInt(ctx.before.get(agent).api.available) + ctx.deposit]));
  await step(`${TRANSFERS} micropayments between the agents (POST /transfers, ${CONCURRENCY} in flight)`, async () => {
    const next = random(SEED);
    const spendable = new Map(ctx.expected);
    const plan = [];
    for (let i = 0; i < TRANSFERS; i++) {
      const amount = BigInt(1 + Math.floor(next() * 500_000)) * ctx.unit / 1_000_000n || 1n;
      const candidates = agents.filter((agent) => spendable.get(agent) >= amount);
      check(candidates.length > 0, "no agent can afford the next transfer");
      const from = candidates[Math.floor(next() * candidates.length)];
      const others = agents.filter((agent) => agent !== from);
      const to = others[Math.floor(next() * others.length)];
      spendable.set(from, spendable.get(from) - amount);
      plan.push({ from, to, amount, key: crypto.randomUUID(), reference: `demo-${SEED}-${i}` });
    }
    const started = Date.now();
    let cursor = 0;
    const worker = async () => {
      while (cursor < plan.length) {
        const item = plan[cursor++];
        const body = { to: item.to.address, token: ctx.token, amount: item.amount.toString(), reference: item.reference };
        item.body = body;
        const { status, body: response } = await item.from.post("/transfers", body, { idempotencyKey: item.key, expect: [201] });
        check(response.status === "COMMITTED", `transfer ${item.reference} answered ${status} with status ${response.status}`);
        item.id = response.id;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    for (const item of plan) {
      ctx.expected.set(item.from, ctx.expected.get(item.from) - item.amount);
      ctx.expected.set(item.to, ctx.expected.get(item.to) + item.amount);
    }
    ctx.plan = plan;
    ctx.volume = plan.reduce((sum, item) => sum + item.amount, 0n);
    const first = plan[0];
    const replay = await first.from.post("/transfers", first.body, { idempotencyKey: first.key, expect: [201] });
    check(replay.body.id === first.id, `a replay of ${first.reference} with its Idempotency-Key returned id ${replay.body.id}, not ${first.id}`);
    return `${fmt(ctx.volume)} in ${seconds.toFixed(1)} s (${Math.round(plan.length / seconds)}/s); a replay returns the first id`;
  });

  await step(`ledger balances after the micropayments`, async () => {
    for (const agent of agents) {
      const balance = await agent.balance(ctx.token);
      check(BigInt(balance.available) === ctx.expected.get(agent),
        `${agent.name}'s available balance is ${balance.available}, expected ${ctx.expected.get(agent)}`);
    }
    return "every agent's available balance is what the transfers imply";
  });

  if (agents.length >= 4) {
    const [payer, payeeA, payeeB, arbiter] = agents;
    await step(`an escrow with a dispute: ${payer.name} pays ${payeeA.name} and ${payeeB.name}, ${arbiter.name} arbitrates a split`, async () => {
      const shareA = 6n * ctx.unit;
      const shareB = 4n * ctx.unit;
      const { body: quote } = await payer.get(`/escrows/quote?token=${ctx.token}&amount=${(shareA + shareB).toString()}`);
      const feeBps = BigInt(quote.feeBps);
      const protocolFeeBps = BigInt(quote.protocolFeeBps || 0);
      const deadline = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000).toISOString().replace(".000Z", "Z");
      const { body: created } = await payer.post("/escrows", {
        token: ctx.token, payees: [{ address: payeeA.address, share: shareA.toString() }, { address: payeeB.address, share: shareB.toString() }],
        deadline, arbiter: arbiter.address, termsHash: ethers.id(`demo escrow ${SEED}`), maxFeeBps: Number(quote.totalFeeBps ?? feeBps),
        fallback: "REFUND_PAYER", custody: "ledger",
      }, { expect: [201] });
      const id = created.id;
      check(created.state === "OPEN", `a new escrow is ${created.state}, not OPEN`);
      await payeeA.post(`/escrows/${id}/accept`, {}, { expect: [200] });
      const { body: funded } = await payeeB.post(`/escrows/${id}/accept`, {}, { expect: [200] });
      check(funded.state === "FUNDED", `after both acceptances the escrow is ${funded.state}, not FUNDED`);
      const { body: disputed } = await payer.post(`/escrows/${id}/dispute`, { reason: "the second half was late" }, { expect: [200] });
      check(disputed.state === "DISPUTED", `after the dispute the escrow is ${disputed.state}`);
      const toA = shareA;
      const toB = 1n * ctx.unit;
      const back = shareA + shareB - toA - toB;
      const { body: resolved } = await arbiter.post(`/escrows/${id}/resolve`, {
        payees: [{ index: 0, amount: toA.toString() }, { index: 1, amount: toB.toString() }], payer: back.toString(),
      }, { expect: [200] });
      check(resolved.state === "RESOLVED", `after the arbiter's split the escrow is ${resolved.state}, not RESOLVED`);
      // each fee floored on its own, the rest to the payee (docs/fees.md)
      const fee = (gross) => (gross * feeBps) / 10_000n + (gross * protocolFeeBps) / 10_000n;
      ctx.expected.set(payer, ctx.expected.get(payer) - shareA - shareB + back);
      ctx.expected.set(payeeA, ctx.expected.get(payeeA) + toA - fee(toA));
      ctx.expected.set(payeeB, ctx.expected.get(payeeB) + toB - fee(toB));
      for (const agent of [payer, payeeA, payeeB]) {
        const balance = await agent.balance(ctx.token);
        check(BigInt(balance.available) === ctx.expected.get(agent),
          `${agent.name}'s available balance is ${balance.available} after the escrow, expected ${ctx.expected.get(agent)}`);
      }
      const { body: read } = await arbiter.get(`/escrows/${id}`);
      const actions = (read.history || []).map((h) => h.action);
      check(JSON.stringify(actions) === JSON.stringify(["CREATED", "ACCEPTED", "ACCEPTED", "DISPUTED", "RESOLVED"]),
        `the escrow's history is ${JSON.stringify(actions)}`);
      ctx.escrow = `${id}: ${fmt(shareA + shareB)} escrowed, disputed, resolved ${fmt(toA)} / ${fmt(toB)} / ${fmt(back)} back, ` +
        `fees ${fmt(fee(toA) + fee(toB))} (platform ${feeBps} + protocol ${protocolFeeBps} bps)`;
      return ctx.escrow;
    });

    await step(`fees: the admin makes ${payeeB.name} (1 share) and ${arbiter.name} (3 shares) the stakeholders and distributes the period`, async () => {
      const admin = new Agent("admin", agentKeys([0], "DEMO_ADMIN_PRIVATE_KEY")[0], api, provider);
      await admin.login();
      let listed;
      try {
        listed = (await admin.get("/admin/fees/stakeholders")).body;
      } catch (error) {
        if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
          ctx.fees = `skipped: ${admin.address} is no admin (ADMIN_ADDRESSES)`;
          return ctx.fees;
        }
        throw error;
      }
      for (const s of listed.items.filter((x) => x.active)) {
        await admin.api.call("DELETE", `/admin/fees/stakeholders/${s.id}`, { token: admin.token, expect: [200] });
      }
      const holders = [{ agent: payeeB, shares: 1n }, { agent: arbiter, shares: 3n }];
      for (const h of holders) {
        await admin.post("/admin/fees/stakeholders", { account: h.agent.address, name: `demo ${h.agent.name}`, shares: Number(h.shares) },
          { expect: [201] });
      }
      const { body: report } = await admin.post("/admin/fees/distributions", {}, { expect: [201] });
      check(report.period.state === "DISTRIBUTED", `the period is ${report.period.state}, not DISTRIBUTED`);
      const escrowFees = report.collected.filter((c) => c.source === "ESCROW").reduce((sum, c) => sum + BigInt(c.amount), 0n);
      check(escrowFees > 0n, `the period collected no escrow fee: ${JSON.stringify(report.collected)}`);
      // floor(pool * shares / total) per stakeholder, token and type; the remainder is carried
      const total = holders.reduce((sum, h) => sum + h.shares, 0n);
      let distributed = 0n;
      for (const t of report.totals) {
        const pool = BigInt(t.collected) + BigInt(t.carriedIn);
        let paid = 0n;
        for (const h of holders) {
          const part = (pool * h.shares) / total;
          const row = report.received.find((r) => r.account === h.agent.address && r.feeType === t.feeType && r.token === t.token);
          check(part === (row ? BigInt(row.amount) : 0n), `${h.agent.name} received ${row ? row.amount : 0} of ${t.feeType}, expected ${part}`);
          if (ethers.getAddress(t.token) === ethers.getAddress(ctx.token)) ctx.expected.set(h.agent, ctx.expected.get(h.agent) + part);
          paid += part;
        }
        check(BigInt(t.distributed) === paid && BigInt(t.carriedOut) === pool - paid,
          `period ${report.period.number} ${t.feeType}: distributed ${t.distributed}, carried ${t.carriedOut}; expected ${paid} and ${pool - paid}`);
        distributed += paid;
      }
      for (const h of holders) {
        const balance = await h.agent.balance(ctx.token);
        check(BigInt(balance.available) === ctx.expected.get(h.agent),
          `${h.agent.name}'s available balance is ${balance.available} after the distribution, expected ${ctx.expected.get(h.agent)}`);
      }
      const again = await admin.post("/admin/fees/distributions", {}, { expect: [422] });
      check(again.body.code === "FEE_NOTHING_TO_DISTRIBUTE", `a second distribution answered ${JSON.stringify(again.body)}`);
      const csv = await fetch(`${api.baseUrl}/api/v1/admin/fees/periods/${report.period.number}`,
        { headers: { Accept: "text/csv", Authorization: `Bearer ${admin.token}` }, signal: AbortSignal.timeout(30_000) });
      const lines = (await csv.text()).trim().split(/\r?\n/);
      check(csv.status === 200 && lines[0].startsWith("period,section,fee_type"), `the CSV report answered ${csv.status}: ${lines[0]}`);
      check(lines.filter((l) => l.split(",")[1] === "received").length === report.received.length,
        "the CSV report's received rows differ from the JSON report's");
      ctx.fees = `period ${report.period.number}: collected ` +
        report.collected.map((c) => `${c.feeType.toLowerCase()} ${c.source.toLowerCase()} ${fmt(BigInt(c.amount))}`).join(", ") +
        `; distributed ${fmt(distributed)} to ${holders.map((h) => `${h.agent.name} (${h.shares})`).join(" and ")}; ` +
        `a second distribution has nothing to pay; CSV ${lines.length - 1} rows`;
      return ctx.fees;
    });
  }

  if (agents.length >= 4) {
    const [poster, ...bidders] = agents;
    await step(`an auction from posting to payout: ${poster.name} posts a task, ${bidders.map((b) => b.name).join(", ")} bid sealed, ` +
      "the reverse Vickrey auction allocates and funds the escrow, the winner is paid by performance", async () => {
      ctx.auction = await auction(ctx, poster, bidders, fmt);
      return ctx.auction;
    });
  }

  if (agents.length >= 4) {
    const [payer, a, b, c] = agents;
    const deadline = () => new Date(Date.now() + 3_600_000).toISOString();
    const stepOf = (workflow, key) => workflow.steps.find((s) => s.key === key);
    const checkBalances = async (what) => {
      for (const agent of [payer, a, b, c]) {
        const balance = await agent.balance(ctx.token);
        check(BigInt(balance.available) === ctx.expected.get(agent),
          `${agent.name}'s available balance is ${balance.available} after ${what}, expected ${ctx.expected.get(agent)}`);
      }
    };
    await step(`a flexible workflow: ${payer.name} funds three steps up front, ${b.name}'s fails, ${a.name} and ${c.name} are paid as they succeed`, async () => {
      const amount = 3n * ctx.unit;
      const { body: created } = await payer.post("/workflows", {
        token: ctx.token, mode: "FLEXIBLE", amount: amount.toString(), maxFeeBps: 10_000,
        steps: [
          { key: "extract", agent: a.address, capability: "etl", deadline: deadline(), dependsOn: [] },
          { key: "transform", agent: b.address, capability: "etl", deadline: deadline(), dependsOn: [] },
          { key: "load", agent: c.address, capability: "etl", deadline: deadline(), dependsOn: ["extract"] },
        ],
      }, { expect: [201] });
      const fee = (gross) => (gross * BigInt(created.platformFeeBps)) / 10_000n + (gross * BigInt(created.protocolFeeBps)) / 10_000n;
      const share = amount / 3n;
      ctx.expected.set(payer, ctx.expected.get(payer) - amount);
      await checkBalances("the workflow's funding");
      check(stepOf(created, "load").state === "WAITING", `the load step is ${stepOf(created, "load").state}, not WAITING`);
      await a.post(`/workflows/${created.id}/steps/extract/report`, { outcome: "SUCCEEDED" }, { expect: [200] });
      ctx.expected.set(a, ctx.expected.get(a) + share - fee(share));
      await checkBalances("the first step's success");
      await b.post(`/workflows/${created.id}/steps/transform/report`, { outcome: "FAILED", reason: "bad input" }, { expect: [200] });
      ctx.expected.set(payer, ctx.expected.get(payer) + share);
      const second = await b.post(`/workflows/${created.id}/steps/transform/report`, { outcome: "SUCCEEDED" }, { expect: [409] });
      check(second.body.code === "WORKFLOW_STEP_FINISHED", `a second report answered ${second.body.code}`);
      const { body: done } = await c.post(`/workflows/${created.id}/steps/load/report`, { outcome: "SUCCEEDED" }, { expect: [200] });
      ctx.expected.set(c, ctx.expected.get(c) + share - fee(share));
      check(done.state === "PARTIAL", `the flexible workflow is ${done.state}, not PARTIAL`);
      check(done.held === "0" && BigInt(done.refunded) === share, `the workflow holds ${done.held} and refunded ${done.refunded}`);
      await checkBalances("the flexible workflow");
      return `${created.id}: ${fmt(amount)} held, two steps paid ${fmt(share - fee(share))} each (fee ${fmt(fee(share))}), ${fmt(share)} refunded`;
    });
    await step(`an atomic pipeline: ${a.name} -> ${b.name} -> ${c.name}, paid all at once when the last step succeeds`, async () => {
      const amount = 3n * ctx.unit;
      const { body: created } = await payer.post("/workflows", {
        token: ctx.token, mode: "ATOMIC", amount: amount.toString(), maxFeeBps: 10_000,
        steps: [
          { key: "a", agent: a.address, capability: "etl", deadline: deadline(), dependsOn: [] },
          { key: "b", agent: b.address, capability: "etl", deadline: deadline(), dependsOn: ["a"] },
          { key: "c", agent: c.address, capability: "etl", deadline: deadline(), dependsOn: ["b"] },
        ],
      }, { expect: [201] });
      const fee = (gross) => (gross * BigInt(created.platformFeeBps)) / 10_000n + (gross * BigInt(created.protocolFeeBps)) / 10_000n;
      const share = amount / 3n;
      ctx.expected.set(payer, ctx.expected.get(payer) - amount);
      await a.post(`/workflows/${created.id}/steps/a/report`, { outcome: "SUCCEEDED" }, { expect: [200] });
      await b.post(`/workflows/${created.id}/steps/b/report`, { outcome: "SUCCEEDED" }, { expect: [200] });
      await checkBalances("two of three atomic steps (nothing paid yet)");
      const { body: done } = await c.post(`/workflows/${created.id}/steps/c/report`, { outcome: "SUCCEEDED" }, { expect: [200] });
      check(done.state === "SUCCEEDED", `the atomic workflow is ${done.state}, not SUCCEEDED`);
      for (const agent of [a, b, c]) ctx.expected.set(agent, ctx.expected.get(agent) + share - fee(share));
      await checkBalances("the atomic workflow");
      const seqs = done.transfers.filter((t) => t.kind !== "FUND").map((t) => t.sequence);
      check(Math.max(...seqs) - Math.min(...seqs) === seqs.length - 1, `the atomic payouts are not one group: ${seqs}`);
      ctx.workflows = `flexible PARTIAL, atomic ${created.id} SUCCEEDED (${seqs.length} transfers in one linked group)`;
      return `${created.id}: three agents paid ${fmt(share - fee(share))} each in one linked group`;
    });
  }

  await channelSteps(ctx, fmt);
  await defendedCloseSteps(ctx, fmt, provider);

  const withdrawer = agents[1];
  await step(`${withdrawer.name} withdraws ${fmt(ctx.withdrawal)} (POST /withdrawals)`, async () => {
    const { body } = await withdrawer.post("/withdrawals", { token: ctx.token, amount: ctx.withdrawal.toString() }, { expect: [201] });
    check(body.id, "POST /withdrawals returned no id");
    ctx.withdrawalId = body.id;
    ctx.expected.set(withdrawer, ctx.expected.get(withdrawer) - ctx.withdrawal);
    const balance = await withdrawer.balance(ctx.token);
    check(BigInt(balance.available) === ctx.expected.get(withdrawer),
      `${withdrawer.name}'s available balance is ${balance.available} after the withdrawal, expected ${ctx.expected.get(withdrawer)}`);
    return `withdrawal ${body.id} ${body.state}; debited at once`;
  });

  await step("wait for the batches to settle every transfer and pay the withdrawal", async () => {
    const started = Date.now();
    const last = ctx.plan[ctx.plan.length - 1];
    await waitFor(`transfer ${last.id} to be SETTLED`, SETTLE_SECONDS, async () => {
      const { body } = await last.from.get(`/transfers/${last.id}`);
      return body.status === "SETTLED";
    }, 500);
    ctx.batchIds = new Set();
    for (const item of ctx.plan) {
      const { body } = await waitFor(`transfer ${item.id} to be SETTLED`, 30, async () => {
        const response = await item.from.get(`/transfers/${item.id}`);
        return response.body.status === "SETTLED" && response;
      }, 500);
      check(body.settlement && body.settlement.batchId !== undefined, `transfer ${item.id} is SETTLED without a settlement`);
      item.settlement = body.settlement;
      ctx.batchIds.add(String(body.settlement.batchId));
    }
    ctx.withdrawalState = await waitFor(`withdrawal ${ctx.withdrawalId} to be PAID`, SETTLE_SECONDS, async () => {
      const { body } = await withdrawer.get(`/withdrawals/${ctx.withdrawalId}`);
      return (body.state === "PAID" || body.state === "CLAIMABLE") && body;
    }, 500);
    if (ctx.withdrawalState.state === "CLAIMABLE") {
      const vault = ctx.vault.connect(withdrawer.wallet);
      await (await vault.claimPayout(ctx.token, withdrawer.address)).wait();
    }
    return `${ctx.plan.length} transfers in batch(es) ${[...ctx.batchIds].join(", ")}; withdrawal ${ctx.withdrawalState.state}` +
      `${ctx.withdrawalState.batchId !== undefined ? ` in batch ${ctx.withdrawalState.batchId}` : ""} after ${((Date.now() - started) / 1000).toFixed(1)} s`;
  });

  await step("batches: roots on chain and gas per transfer", async () => {
    ctx.batches = [];
    const ids = new Set(ctx.batchIds);
    if (ctx.withdrawalState.batchId !== undefined) ids.add(String(ctx.withdrawalState.batchId));
    for (const id of [...ids].sort((a, b) => Number(a) - Number(b))) {
      const { body } = await agents[0].get(`/batches/${id}`);
      check(body.txHash, `batch ${id} has no txHash`);
      const receipt = await provider.getTransactionReceipt(body.txHash);
      check(receipt && receipt.status === 1, `batch ${id}'s transaction ${body.txHash} is not a successful receipt on chain`);
      check(BigInt(body.gasUsed) === receipt.gasUsed, `batch ${id} reports gasUsed ${body.gasUsed}, the receipt says ${receipt.gasUsed}`);
      const root = await ctx.vault.batchRoot(BigInt(id));
      check(root.toLowerCase() === String(body.merkleRoot).toLowerCase(), `batch ${id}'s root ${body.merkleRoot} is not the vault's ${root}`);
      ctx.batches.push(body);
    }
    const withTransfers = ctx.batches.filter((b) => Number(b.transferCount) > 0);
    const gas = withTransfers.reduce((sum, b) => sum + BigInt(b.gasUsed), 0n);
    const count = withTransfers.reduce((sum, b) => sum + Number(b.transferCount), 0);
    ctx.gasPerTransfer = count ? Number(gas) / count : 0;
    return `${ctx.batches.length} batch(es), ${count} transfers, ${Math.round(ctx.gasPerTransfer)} gas per transfer in the batches that carry transfers`;
  });

  await step("a transfer's inclusion proof: @openzeppelin/merkle-tree and the vault's verifyTransfer", async () => {
    const item = ctx.plan[Math.floor(random(SEED + 1)() * ctx.plan.length)];
    const s = item.settlement;
    const { leaf } = s;
    check(ethers.getAddress(leaf.from) === item.from.address && ethers.getAddress(leaf.to) === item.to.address
      && ethers.getAddress(leaf.token) === ctx.token && BigInt(leaf.amount) === item.amount,
      `the proof's leaf ${JSON.stringify(leaf)} is not transfer ${item.id}`);
    const values = [leaf.transferId, leaf.token, leaf.from, leaf.to, BigInt(leaf.amount)];
    check(StandardMerkleTree.verify(s.merkleRoot, LEAF_ENCODING, values, s.proof),
      "StandardMerkleTree.verify rejects the proof against the batch root");
    check(await ctx.vault.verifyTransfer(BigInt(s.batchId), s.proof, ...values),
      "the vault's verifyTransfer rejects the proof");
    const forged = [...values.slice(0, 4), BigInt(leaf.amount) + 1n];
    check(!(await ctx.vault.verifyTransfer(BigInt(s.batchId), s.proof, ...forged)),
      "the vault's verifyTransfer accepts the proof for a changed amount");
    ctx.proofItem = item;
    return `transfer ${item.id} in batch ${s.batchId}; a changed amount is refused`;
  });

  await step("balances after: ledger, wallets and the vault agree", async () => {
    ctx.after = await snapshot(ctx);
    for (const agent of agents) {
      const before = ctx.before.get(agent);
      const after = ctx.after.get(agent);
      check(BigInt(after.api.available) === ctx.expected.get(agent),
        `${agent.name}'s available balance is ${after.api.available}, expected ${ctx.expected.get(agent)}`);
      const paidOut = agent === withdrawer ? ctx.withdrawal : 0n;
      // The channel paid on chain, outside the ledger: what its close moved between the two wallets.
      const channel = (ctx.channelNet && ctx.channelNet.get(agent)) || 0n;
      check(after.wallet - before.wallet === paidOut - ctx.deposit + channel,
        `${agent.name}'s wallet changed by ${after.wallet - before.wallet}, expected ${paidOut - ctx.deposit + channel}`);
      check(BigInt(after.api.settledOnChain) === after.vault,
        `${agent.name}: the service says ${after.api.settledOnChain} is settled on chain, the vault holds ${after.vault}`);
    }
    return "available = before + deposit + transfers - withdrawal; wallets moved by deposit and payout; settledOnChain = vault";
  });

  await step("the service's own check: POST /admin/verify (ledger invariant, reconciliation with the chain)", async () => {
    const admin = new Agent("admin", agentKeys([0], "DEMO_ADMIN_PRIVATE_KEY")[0], api, provider);
    await admin.login();
    let verdict;
    try {
      verdict = await waitFor("a verification that is not skipped for a batch in flight", 30, async () => {
        const { body } = await admin.post("/admin/verify", {});
        return !body.reconciliationSkipped && body;
      }, 1000);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        ctx.verify = `skipped: ${admin.address} is no admin (ADMIN_ADDRESSES)`;
        return ctx.verify;
      }
      throw error;
    }
    check(verdict.ok === true, `POST /admin/verify answered ${JSON.stringify(verdict)}`);
    ctx.verify = `ok (ledger balanced: ${verdict.ledgerBalanced}, reconciled: ${verdict.reconciled})`;
    return ctx.verify;
  });

  summary(ctx, fmt, withdrawer);
}

/**
 * The marketplace's auction: the bidders list a service, the poster posts a task (budget 15 tokens
 * at the default largest multiplier 1.5x: maximum base price 10), three sealed bids, the allocation
 * at the Vickrey price with the poster's escrow funded, the winner's completion and the poster's
 * scoring, paid by performance within the cap and the rest refunded. Balances checked at each step.
 */
async function auction(ctx, poster, bidders, fmt) {
  const capability = `summarize-${SEED}`;
  for (const bidder of bidders) {
    await bidder.post("/market/services", { capabilities: [capability], description: `${bidder.name} summarizes`,
      token: ctx.token, price: ctx.unit.toString(), maxDeliverySeconds: 3600 }, { expect: [201] });
  }
  const budget = 15n * ctx.unit;
  const { body: task } = await poster.post("/market/tasks", { capabilities: [capability], description: "summarize the demo's log",
    token: ctx.token, budget: budget.toString(), biddingSeconds: 5, workSeconds: 600 }, { expect: [201] });
  check(task.state === "OPEN" && BigInt(task.maxBasePrice) === 10n * ctx.unit,
    `the posted task is ${task.state} with maximum base price ${task.maxBasePrice}, expected OPEN and ${10n * ctx.unit}`);
  const asks = [6n, 4n, 5n].map((tokens) => tokens * ctx.unit);
  for (let i = 0; i < bidders.length && i < asks.length; i++) {
    await bidders[i].post(`/market/tasks/${task.id}/bids`, { ask: asks[i].toString() }, { expect: [201] });
  }
  const { body: listed } = await bidders[0].get(`/market/tasks?capability=${capability}`);
  const sealed = (listed.items || []).find((t) => t.id === task.id);
  const { body: seen } = await poster.get(`/market/tasks/${task.id}`);
  if (seen.state === "OPEN" && sealed) {
    check(seen.bids.every((b) => b.sealed && b.ask === undefined), "the poster sees a bid's amount while bidding is open");
  }
  const before = BigInt((await poster.balance(ctx.token)).available);
  const allocated = await waitFor(`task ${task.id} to be allocated`, 60, async () => {
    const { body } = await poster.get(`/market/tasks/${task.id}`);
    return body.state !== "OPEN" && body;
  }, 500);
  check(allocated.state === "ALLOCATED", `the task closed ${allocated.state} (${allocated.reason || ""})`);
  const winner = bidders.find((b) => b.address === ethers.getAddress(allocated.winner));
  check(winner, `the winner ${allocated.winner} is none of the bidders`);
  const ask = asks[bidders.indexOf(winner)];
  const price = BigInt(allocated.clearingPrice);
  const escrowed = BigInt(allocated.escrowed);
  check(price >= ask && price <= 10n * ctx.unit, `the clearing price ${price} is not between the winner's ask ${ask} and the maximum`);
  check(escrowed === (price * 15000n) / 10000n, `the escrow holds ${escrowed}, expected the clearing price times 1.5`);
  const { body: escrow } = await poster.get(`/escrows/${allocated.escrowId}`);
  check(escrow.state === "FUNDED", `the task's escrow is ${escrow.state}, not FUNDED`);
  const afterAllocation = BigInt((await poster.balance(ctx.token)).available);
  check(before - afterAllocation === escrowed, `the poster paid ${before - afterAllocation} into the escrow, expected ${escrowed}`);

  const winnerBefore = BigInt((await winner.balance(ctx.token)).available);
  const { body: done } = await winner.post(`/market/tasks/${task.id}/complete`, { resultRef: `ipfs://demo-${SEED}` }, { expect: [200] });
  check(done.state === "COMPLETED", `after the completion the task is ${done.state}`);
  // quality 110 (1.1x), early (1.5x), accuracy 80 (0.8x): 1.32x of the price, a reputation bonus adds at most 10 %
  const { body: scored } = await poster.post(`/market/tasks/${task.id}/score`, { quality: 110, accuracy: 80 }, { expect: [200] });
  const payout = BigInt(scored.payout);
  const refund = BigInt(scored.refund);
  check(scored.state === "SCORED" && payout + refund === escrowed, `scored ${scored.state}: payout ${payout} + refund ${refund} != ${escrowed}`);
  check(payout > price && refund > 0n, `the payout ${payout} is not above the base ${price} with something refunded`);
  const { body: quote } = await poster.get(`/escrows/quote?token=${ctx.token}&amount=${payout.toString()}`);
  // each fee floored on its own, the rest to the payee (docs/fees.md)
  const fee = (payout * BigInt(quote.feeBps)) / 10_000n + (payout * BigInt(quote.protocolFeeBps || 0)) / 10_000n;
  const winnerAfter = BigInt((await winner.balance(ctx.token)).available);
  check(winnerAfter - winnerBefore === payout - fee, `the winner received ${winnerAfter - winnerBefore}, expected ${payout - fee}`);
  const posterAfter = BigInt((await poster.balance(ctx.token)).available);
  check(posterAfter === afterAllocation + refund, `the poster holds ${posterAfter}, expected ${afterAllocation + refund} after the refund`);
  ctx.expected.set(poster, ctx.expected.get(poster) - payout);
  ctx.expected.set(winner, ctx.expected.get(winner) + payout - fee);
  const { body: reputation } = await winner.get(`/market/agents/${winner.address}/reputation`);
  check((reputation.history || []).some((o) => o.subjectId === task.id && o.result === "SCORED"),
    `${winner.name}'s reputation history does not show task ${task.id}`);
  return `${task.id}: ${winner.name} won (ask ${fmt(ask)}) at ${fmt(price)}, escrow ${fmt(escrowed)}; ` +
    `paid ${fmt(payout)} (${scored.breakdown.arithmetic}), ${fmt(refund)} back to ${poster.name}; reputation ${reputation.reputationBps} bps`;
}

/** A SIWE message whose nonce was used must not log in again (EIP-4361 replay protection). */
async function replaySiwe(api, agent) {
  const { body: nonce } = await api.call("POST", "/auth/nonce", { body: {} });
  const base = new URL(api.baseUrl);
  const { SiweMessage } = require("siwe");
  const message = new SiweMessage({
    domain: nonce.domain || base.host, address: agent.address, uri: nonce.uri || base.origin, version: "1",
    chainId: Number(nonce.chainId), nonce: nonce.nonce, issuedAt: new Date().toISOString(),
  }).prepareMessage();
  const signature = await agent.wallet.signMessage(message);
  await api.call("POST", "/auth/login", { body: { message, signature } });
  try {
    await api.call("POST", "/auth/login", { body: { message, signature } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return (error.body && error.body.code) || "401";
    throw error;
  }
  throw new Error("a SIWE message logged in twice with one nonce");
}

async function snapshot(ctx) {
  const rows = new Map();
  for (const agent of ctx.agents) {
    const [api, wallet, vault] = await Promise.all([
      agent.balance(ctx.token), ctx.erc20.balanceOf(agent.address), ctx.vault.settledBalance(ctx.token, agent.address),
    ]);
    rows.set(agent, { api, wallet, vault });
  }
  return rows;
}

function short(hex) {
  return `${hex.slice(0, 10)}…`;
}

function summary(ctx, fmt, withdrawer) {
  const line = "-".repeat(100);
  console.log(`\n${line}\nSummary (${ctx.symbol}, ${ctx.decimals} decimals)`);
  console.log(`${"agent".padEnd(7)} ${"address".padEnd(43)} ${"available before".padStart(18)} ${"after".padStart(18)} ${"wallet change".padStart(16)} ${"vault settled".padStart(14)}`);
  for (const agent of ctx.agents) {
    const before = ctx.before.get(agent);
    const after = ctx.after.get(agent);
    console.log(`${agent.name.padEnd(7)} ${agent.address.padEnd(43)} ${ethers.formatUnits(before.api.available, ctx.decimals).padStart(18)} ` +
      `${ethers.formatUnits(after.api.available, ctx.decimals).padStart(18)} ${ethers.formatUnits(after.wallet - before.wallet, ctx.decimals).padStart(16)} ` +
      `${ethers.formatUnits(after.vault, ctx.decimals).padStart(14)}`);
  }
  console.log(`deposits: ${fmt(ctx.deposit)} each; transfers: ${ctx.plan.length}, ${fmt(ctx.volume)} in total; ` +
    `withdrawal: ${fmt(ctx.withdrawal)} by ${withdrawer.name} (${ctx.withdrawalState.state}${ctx.withdrawalState.txHash ? `, tx ${ctx.withdrawalState.txHash}` : ""})`);
  console.log("batches:");
  for (const b of ctx.batches) {
    console.log(`  #${b.id} ${b.state} tx ${b.txHash}: ${b.transferCount} transfers, ${b.accountCount} accounts, ` +
      `gas ${b.gasUsed} (${b.gasPerTransfer} per transfer), root ${b.merkleRoot}`);
  }
  console.log(`  gas per transfer over the batches that carry transfers: ${Math.round(ctx.gasPerTransfer)} (an ERC-20 transfer costs about 34,500-51,600)`);
  const s = ctx.proofItem.settlement;
  console.log(`inclusion proof of transfer ${ctx.proofItem.id} (batch ${s.batchId}, block ${s.blockNumber}, tx ${s.txHash}):`);
  console.log(`  root  ${s.merkleRoot}`);
  console.log(`  leaf  transferId ${s.leaf.transferId}\n        token ${s.leaf.token} from ${s.leaf.from}\n        to ${s.leaf.to} amount ${s.leaf.amount}`);
  s.proof.forEach((node, i) => console.log(`  proof[${i}] ${node}`));
  console.log("  StandardMerkleTree.verify: true; SettlementVault.verifyTransfer: true; with amount + 1: false");
  if (ctx.escrow) console.log(`escrow with a dispute: ${ctx.escrow}`);
  if (ctx.workflows) console.log(`workflows: ${ctx.workflows}`);
  if (ctx.fees) console.log(`fee distribution: ${ctx.fees}`);
  if (ctx.auction) console.log(`auction: ${ctx.auction}`);
  if (ctx.channel) console.log(`payment channel: ${ctx.channel}`);
  if (ctx.defence) console.log(`defended stale close: ${ctx.defence}`);
  console.log(`admin verification: ${ctx.verify}`);
  console.log(`${line}\n[demo] every step held`);
}

/**
 * A payment channel between the first two agents, on chain and off the ledger: A opens it with a
 * permit and B accepts (calls prepared by the service, sent from their own keys), they pay each other
 * with signed balance proofs the receiver stores in the service (a stale one refused), the service's
 * "if closed now" matches the proofs, both sign the cooperative close, and their wallets end with
 * exactly what the proofs say.
 */
async function channelSteps(ctx, fmt) {
  const [a, b] = ctx.agents;
  const depositA = 10n * ctx.unit;
  const depositB = 5n * ctx.unit;
  const wallet = async (agent) => ctx.erc20.balanceOf(agent.address);
  await step(`${a.name} opens a payment channel to ${b.name} with a permit (${fmt(depositA)}), ${b.name} accepts (${fmt(depositB)})`, async () => {
    ctx.channelWallets = { a: await wallet(a), b: await wallet(b) };
    check(ctx.channelWallets.a >= depositA && ctx.channelWallets.b >= depositB,
      `the agents' wallets hold ${fmt(ctx.channelWallets.a)} and ${fmt(ctx.channelWallets.b)}, not enough for the channel`);
    ctx.ch = await openChannel(a, b, ctx.token, depositA, depositB);
    const view = ctx.ch.channel;
    check(view.a.deposit === depositA.toString() && view.b.deposit === depositB.toString(),
      `the service shows deposits ${view.a.deposit} / ${view.b.deposit}`);
    check(await wallet(a) === ctx.channelWallets.a - depositA, `${a.name}'s wallet did not pay the deposit`);
    return `channel ${short(ctx.ch.id)} OPEN on ${short(ctx.ch.contract)}`;
  });

  const payAtoB = ctx.unit / 100n || 1n;
  const payBtoA = ctx.unit / 200n || 1n;
  await step(`${CHANNEL_PROOFS} off-chain payments as signed balance proofs, each stored by its receiver (POST /channels/{id}/proofs)`, async () => {
    let sentA = 0n;
    let sentB = 0n;
    let nonceA = 0n;
    let nonceB = 0n;
    const started = Date.now();
    for (let i = 0; i < CHANNEL_PROOFS; i++) {
      const aPays = i % 4 !== 3;
      if (aPays) {
        nonceA += 1n;
        sentA += payAtoB;
        const proof = await signProof(a.wallet, ctx.ch.domain, ctx.ch.id, nonceA, sentA);
        await b.post(`/channels/${ctx.ch.id}/proofs`, proof, { expect: [201] });
      } else {
        nonceB += 1n;
        sentB += payBtoA;
        const proof = await signProof(b.wallet, ctx.ch.domain, ctx.ch.id, nonceB, sentB);
        await a.post(`/channels/${ctx.ch.id}/proofs`, proof, { expect: [201] });
      }
    }
    const seconds = (Date.now() - started) / 1000;
    // The proof stored before the newest one, sent again, is a replay (200, what was stored); a
    // proof of an older nonce that was never stored is stale.
    const previous = await signProof(a.wallet, ctx.ch.domain, ctx.ch.id, nonceA - 1n, sentA - payAtoB);
    const replayed = await b.post(`/channels/${ctx.ch.id}/proofs`, previous, { expect: [200] });
    check(replayed.body.replayed === true && replayed.body.proof.transferred === (sentA - payAtoB).toString(),
      `the overtaken proof replayed ${JSON.stringify(replayed.body)}`);
    const stale = await signProof(a.wallet, ctx.ch.domain, ctx.ch.id, nonceA - 1n, sentA - payAtoB - 1n);
    const refused = await b.post(`/channels/${ctx.ch.id}/proofs`, stale, { expect: [409] });
    check(refused.body.code === "CHANNEL_PROOF_STALE", `a stale proof answered ${refused.body.code}`);
    const forged = await signProof(b.wallet, ctx.ch.domain, ctx.ch.id, nonceA + 1n, sentA + payAtoB);
    const forgedAnswer = await b.post(`/channels/${ctx.ch.id}/proofs`, forged, { expect: [422] });
    check(forgedAnswer.body.code === "CHANNEL_PROOF_INVALID_SIGNATURE", `a proof signed by the wrong key answered ${forgedAnswer.body.code}`);
    ctx.channelSent = { a: sentA, b: sentB };
    const { body: view } = await a.get(`/channels/${ctx.ch.id}`);
    const expectA = depositA - sentA + sentB;
    const expectB = depositB - sentB + sentA;
    check(view.proofs.sentByA && view.proofs.sentByA.transferred === sentA.toString(),
      `the newest proof of ${a.name} stored is ${JSON.stringify(view.proofs.sentByA)}`);
    check(view.ifClosedNow.a === expectA.toString() && view.ifClosedNow.b === expectB.toString(),
      `if closed now the service says ${view.ifClosedNow.a} / ${view.ifClosedNow.b}, the proofs say ${expectA} / ${expectB}`);
    return `${(CHANNEL_PROOFS / seconds).toFixed(0)} proofs/s one at a time; ${a.name} sent ${fmt(sentA)}, ${b.name} ${fmt(sentB)}; ` +
      `an overtaken proof replayed, a stale and a forged one refused; if closed now ${fmt(expectA)} / ${fmt(expectB)}`;
  });

  await step("both sign the cooperative close the service prepares; wallets end with what the proofs say", async () => {
    const { receipt, settled } = await closeCooperatively(a, b, b, ctx.ch.id);
    const expectA = depositA - ctx.channelSent.a + ctx.channelSent.b;
    const expectB = depositB - ctx.channelSent.b + ctx.channelSent.a;
    check(settled.settled && settled.settled.a === expectA.toString() && settled.settled.b === expectB.toString(),
      `the service shows payouts ${JSON.stringify(settled.settled)}, expected ${expectA} / ${expectB}`);
    const walletA = await wallet(a);
    const walletB = await wallet(b);
    check(walletA === ctx.channelWallets.a - depositA + expectA,
      `${a.name}'s wallet holds ${fmt(walletA)}, expected ${fmt(ctx.channelWallets.a - depositA + expectA)}`);
    check(walletB === ctx.channelWallets.b - depositB + expectB,
      `${b.name}'s wallet holds ${fmt(walletB)}, expected ${fmt(ctx.channelWallets.b - depositB + expectB)}`);
    ctx.channelNet = new Map([[a, expectA - depositA], [b, expectB - depositB]]);
    ctx.channel = `${short(ctx.ch.id)}: ${fmt(depositA)} + ${fmt(depositB)} deposited, ${CHANNEL_PROOFS} proofs stored, ` +
      `closed cooperatively in tx ${short(receipt.hash)}: ${a.name} ${fmt(expectA)}, ${b.name} ${fmt(expectB)}, wallets checked`;
    return ctx.channel;
  });
}

/**
 * A defended stale close: C opens a second channel to D and pays it in signed proofs that D stores
 * in the service; D registers the channel with the watchtower on and goes offline. C closes
 * unilaterally with the service's prepared call and then pushes one of its OLDER proofs on chain
 * (what it would like to have paid). The service's watchtower (its own key) submits D's newest
 * proof within the challenge period; the demo then moves the chain past the period (a local Hardhat
 * node only), D comes back, settles through the prepared call, and its wallet ends with exactly what
 * the newest proof says.
 */
async function defendedCloseSteps(ctx, fmt, provider) {
  const [c, d] = ctx.agents.length >= 4 ? [ctx.agents[2], ctx.agents[3]] : [ctx.agents[0], ctx.agents[1]];
  const depositC = 10n * ctx.unit;
  const depositD = 1n * ctx.unit;
  const payCtoD = ctx.unit / 10n || 1n;
  const payDtoC = ctx.unit / 20n || 1n;
  const proofs = 10n;
  const staleNonce = proofs / 2n;
  const wallet = async (agent) => ctx.erc20.balanceOf(agent.address);
  const def = { sentC: payCtoD * proofs, staleC: payCtoD * staleNonce, sentD: payDtoC };
  ctx.defenceDetail = def;

  await step(`a second channel: ${c.name} opens to ${d.name} (${fmt(depositC)} / ${fmt(depositD)}), pays ${proofs} proofs that ${d.name} stores; ` +
      `${d.name} registers with the watchtower on`, async () => {
    def.wallets = { c: await wallet(c), d: await wallet(d) };
    check(def.wallets.c >= depositC && def.wallets.d >= depositD,
      `the agents' wallets hold ${fmt(def.wallets.c)} and ${fmt(def.wallets.d)}, not enough for the channel`);
    def.ch = await openChannel(c, d, ctx.token, depositC, depositD);
    const id = def.ch.id;
    def.proofs = [];
    for (let n = 1n; n <= proofs; n++) {
      const proof = await signProof(c.wallet, def.ch.domain, id, n, payCtoD * n);
      def.proofs.push(proof);
      const stored = await d.post(`/channels/${id}/proofs`, proof, { expect: [201] });
      check(stored.body.replayed !== true, `${d.name}'s proof ${n} answered as a replay`);
    }
    // one payment back, which C keeps (C's close will carry it)
    const back = await signProof(d.wallet, def.ch.domain, id, 1n, payDtoC);
    await c.post(`/channels/${id}/proofs`, back, { expect: [201] });
    const { body: registration } = await d.post(`/channels/${id}/register`, { watchtower: true }, { expect: [200, 201] });
    const view = await channelOf(d, id);
    check(view.watchtower && view.watchtower.registered && view.watchtower.enabled,
      `${d.name}'s registration shows ${JSON.stringify(view.watchtower || registration)}`);
    check(view.watchtower.active && view.watchtower.defended && view.watchtower.address,
      "the service runs no watchtower (WATCHTOWER_ENABLED=false, or no WATCHTOWER_PRIVATE_KEY or keystore configured)");
    def.watchtower = ethers.getAddress(view.watchtower.address);
    check(view.proofs.sentByA && view.proofs.sentByA.nonce === proofs.toString() && view.proofs.sentByA.transferred === def.sentC.toString(),
      `the newest stored proof of ${c.name} is ${JSON.stringify(view.proofs.sentByA)}, expected nonce ${proofs}, ${def.sentC}`);
    def.eventsFrom = (await eventsAfter(d)).last;
    return `channel ${short(id)}; newest proof of ${c.name}: nonce ${proofs}, ${fmt(def.sentC)}; watchtower ${def.watchtower}; ${d.name} now offline`;
  });

  await step(`${c.name} closes unilaterally (prepared call) and pushes an older proof of its own (nonce ${staleNonce}, ${fmt(def.staleC)}) on chain`, async () => {
    const id = def.ch.id;
    const { body: call } = await c.post(`/channels/${id}/calls/close`, {}, { expect: [200] });
    check(call.calldata && call.args.nonce === "1" && call.args.transferred === def.sentD.toString(),
      `the prepared close carries ${JSON.stringify(call.args)}, not ${d.name}'s proof 1 of ${def.sentD}`);
    def.closeReceipt = await sendPrepared(c, call);
    const stale = def.proofs[Number(staleNonce) - 1];
    const data = new ethers.Interface(CHANNELS_ABI).encodeFunctionData("updateBalanceProof",
      [id, c.address, BigInt(stale.nonce), BigInt(stale.transferred), stale.signature]);
    try {
      def.staleReceipt = await sendPrepared(c, { to: def.ch.contract, calldata: data, function: "updateBalanceProof" });
      def.staleOnChain = def.staleC;
      def.staleNote = `the older proof mined in ${short(def.staleReceipt.hash)}`;
    } catch (error) {
      // the watchtower may be faster than the cheat: then the contract refuses the older proof as stale
      const staleSelector = ethers.id("ChannelStaleProof(bytes32,address,uint256,uint256)").slice(0, 10);
      const said = `${error.data || ""} ${(error.info && error.info.error && error.info.error.data) || ""} ${error.message}`;
      if (!said.includes(staleSelector) && !said.includes("ChannelStaleProof")) throw error;
      c.nextChannelNonce = 0;
      def.staleOnChain = 0n;
      def.staleNote = "the watchtower was first: the contract refused the older proof (ChannelStaleProof)";
    }
    const view = await awaitChannel(c, id, "CLOSING", 60);
    def.closesAt = view.closesAt;
    return `close tx ${short(def.closeReceipt.hash)}, closes at ${view.closesAt}; ${def.staleNote}`;
  });

  await step(`the service's watchtower challenges with ${d.name}'s newest proof within the window (polling, at most ${DEFENCE_SECONDS} s)`, async () => {
    const id = def.ch.id;
    const started = Date.now();
    const view = await waitFor(`the watchtower's proof of ${c.name} in channel ${id}`, DEFENCE_SECONDS, async () => {
      const v = await channelOf(d, id);
      const done = v && (v.watchtower.submissions || []).find((s) => s.state === "SUCCEEDED" && s.transferred === def.sentC.toString());
      return done && v.a.proofTransferred === def.sentC.toString() && v;
    }, 500);
    const submission = view.watchtower.submissions.find((s) => s.state === "SUCCEEDED");
    check(view.state === "CLOSING", `the channel is ${view.state}, not CLOSING, after the challenge`);
    check(view.a.proofNonce === proofs.toString(), `the contract holds ${c.name}'s nonce ${view.a.proofNonce}, not ${proofs}`);
    // the chain itself: the last proof of C stored in the contract is the newest, sent by the watchtower
    const iface = new ethers.Interface(CHANNELS_ABI);
    const logs = await provider.getLogs({
      address: def.ch.contract, fromBlock: def.closeReceipt.blockNumber, toBlock: "latest",
      topics: [iface.getEvent("ChannelBalanceProofUpdated").topicHash, id, ethers.zeroPadValue(c.address, 32)],
    });
    check(logs.length > 0, `no ChannelBalanceProofUpdated of ${c.name} on chain since the close`);
    const last = iface.parseLog(logs[logs.length - 1]);
    check(ethers.getAddress(last.args.submitter) === def.watchtower && last.args.transferred === def.sentC && last.args.nonce === proofs,
      `the last proof of ${c.name} on chain is nonce ${last.args.nonce}, ${last.args.transferred}, sent by ${last.args.submitter}`);
    check(logs[logs.length - 1].transactionHash.toLowerCase() === String(submission.txHash).toLowerCase(),
      `the watchtower's submission names tx ${submission.txHash}, the chain's proof came in ${logs[logs.length - 1].transactionHash}`);
    const block = await provider.getBlock(logs[logs.length - 1].blockNumber);
    check(BigInt(block.timestamp) < BigInt(Math.floor(Date.parse(def.closesAt) / 1000)),
      `the challenge was mined at ${block.timestamp}, not before the channel closes at ${def.closesAt}`);
    const events = await waitFor(`channel.defended and channel.challenged in ${d.name}'s events`, 30, async () => {
      const { items } = await eventsAfter(d, def.eventsFrom);
      const mine = items.filter((e) => e.objectId === id);
      const defended = mine.find((e) => e.type === "channel.defended");
      const challenged = mine.find((e) => e.type === "channel.challenged" && e.data && e.data.submitter
        && ethers.getAddress(e.data.submitter) === def.watchtower);
      return defended && challenged && { defended, challenged };
    });
    def.challengeTx = submission.txHash;
    return `tx ${short(submission.txHash)} (gas ${submission.gasUsed}) after ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
      `before closesAt; ${d.name} got ${events.defended.type} and ${events.challenged.type} (submitter = the watchtower)`;
  });

  const expectC = depositC - def.sentC + def.sentD;
  const expectD = depositD - def.sentD + def.sentC;
  const version = await provider.send("web3_clientVersion", []).catch(() => "");
  const local = /hardhat/i.test(String(version));
  if (!local) {
    await step("advance the chain past the challenge period, settle and check the wallets", async () => {
      // the channel's deposits stay in the contract until someone settles after closesAt
      ctx.channelNet.set(c, (ctx.channelNet.get(c) || 0n) - depositC);
      ctx.channelNet.set(d, (ctx.channelNet.get(d) || 0n) - depositD);
      ctx.defence = `${short(def.ch.id)}: stale close by ${c.name} challenged by the watchtower in tx ${short(def.challengeTx)}; ` +
        `settlement skipped (not a local Hardhat node)`;
      return `skipped: ${RPC_URL} is not a local Hardhat node (${version || "no web3_clientVersion"}), so the challenge period ` +
        `(until ${def.closesAt}) cannot be skipped; settle later with POST /channels/${def.ch.id}/calls/settle`;
    });
    return;
  }

  await step(`move the local Hardhat chain past the challenge period (evm_increaseTime, evm_mine); ${d.name} settles (prepared call) and claims if owed`, async () => {
    const id = def.ch.id;
    const latest = await provider.getBlock("latest");
    const wait = Math.floor(Date.parse(def.closesAt) / 1000) - Number(latest.timestamp) + 1;
    await provider.send("evm_increaseTime", [Math.max(wait, 1)]);
    await provider.send("evm_mine", []);
    const { body: call } = await d.post(`/channels/${id}/calls/settle`, {}, { expect: [200] });
    const receipt = await sendPrepared(d, call);
    const settled = await awaitChannel(d, id, "SETTLED", 60);
    check(settled.settled && settled.settled.a === expectC.toString() && settled.settled.b === expectD.toString(),
      `the service shows payouts ${JSON.stringify(settled.settled)}, expected ${expectC} / ${expectD}`);
    let claimed = "nothing left to claim (the token paid both at settlement)";
    if (settled.b.unclaimed && settled.b.unclaimed !== "0") {
      const { body: claim } = await d.post(`/channels/${id}/calls/claim`, {}, { expect: [200] });
      await sendPrepared(d, claim);
      claimed = `claimed ${fmt(BigInt(settled.b.unclaimed))}`;
    } else {
      const refused = await d.post(`/channels/${id}/calls/claim`, {}, { expect: [409] });
      check(refused.body.code === "CHANNEL_NOTHING_TO_CLAIM", `a claim with nothing owed answered ${refused.body.code}`);
    }
    def.settleTx = receipt.hash;
    def.claimed = claimed;
    return `moved ${wait} s; settle tx ${short(receipt.hash)}; ${claimed}`;
  });

  await step(`${d.name}'s wallet ends with exactly what ${c.name}'s newest proof says`, async () => {
    const walletC = await wallet(c);
    const walletD = await wallet(d);
    const withStale = depositD - def.sentD + def.staleOnChain;
    check(walletD === def.wallets.d - depositD + expectD,
      `${d.name}'s wallet holds ${fmt(walletD)}, expected ${fmt(def.wallets.d - depositD + expectD)}` +
      (walletD === def.wallets.d - depositD + withStale ? " (the stale close won)" : ""));
    check(walletC === def.wallets.c - depositC + expectC,
      `${c.name}'s wallet holds ${fmt(walletC)}, expected ${fmt(def.wallets.c - depositC + expectC)}`);
    ctx.channelNet.set(c, (ctx.channelNet.get(c) || 0n) + expectC - depositC);
    ctx.channelNet.set(d, (ctx.channelNet.get(d) || 0n) + expectD - depositD);
    const cheat = def.staleReceipt ? `pushed its older proof ${staleNonce} (${fmt(def.staleC)})` : `tried its older proof ${staleNonce} too late`;
    ctx.defence = `${short(def.ch.id)}: ${c.name} closed and ${cheat} while ${d.name} was offline; ` +
      `the watchtower submitted proof ${proofs} (${fmt(def.sentC)}) in tx ${short(def.challengeTx)}; settled in tx ${short(def.settleTx)}: ` +
      `${d.name} ${fmt(expectD)} (the stale state would have paid ${fmt(withStale)}), ${c.name} ${fmt(expectC)}, wallets checked`;
    return `${d.name} received ${fmt(expectD)} = ${fmt(depositD)} - ${fmt(def.sentD)} + ${fmt(def.sentC)}`;
  });
}

main().catch((error) => {
  console.error(`[demo] FAILED: ${error.message}`);
  if (process.env.DEMO_DEBUG) console.error(error);
  process.exit(1);
});
