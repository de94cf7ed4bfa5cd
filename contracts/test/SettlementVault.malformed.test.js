// Random malformed batches and random exit sequences against the SettlementVault.
//
// 1. Malformed batches (truncated, extra bytes, unknown ids, duplicates, unsorted, non-zero sums,
//    credits past the cap, forced-withdrawal flags, too many entries): every batch is either
//    refused with one of the vault's custom errors (never a panic, never an empty revert) or
//    settles; afterwards, per token, vault balance == settled balances + pending payouts == custody.
// 2. Random forced-withdrawal, serve, freeze, escape and claim sequences keep the same invariant,
//    and a frozen vault never settles again.
//
// Seeds are random per run and printed; replay with FC_SEED=<seed>. Run counts: FC_MALFORMED_RUNS
// (default 300, about 10 s, what CI runs) and FC_EXIT_RUNS (default 20), each property also cut off
// after FC_TIME_LIMIT_MS (default 60,000; the runs done by then count). The documented full profile
// (1,000 malformed batches and 100 exit sequences, about 1 minute here):
//   FC_MALFORMED_RUNS=1000 FC_EXIT_RUNS=100 FC_TIME_LIMIT_MS=600000 npx hardhat test test/SettlementVault.malformed.test.js
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const fc = require("fast-check");
const { ethers } = require("hardhat");
const { encodeBatch } = require("./SettlementVault.encoding.js");

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const MALFORMED_RUNS = Number(process.env.FC_MALFORMED_RUNS || 300);
const EXIT_RUNS = Number(process.env.FC_EXIT_RUNS || 20);
const TIME_LIMIT_MS = Number(process.env.FC_TIME_LIMIT_MS || 60_000);
const WINDOW = 3_600n;
const DELAY = 7_200n;
const MAX_BALANCE = (1n << 85n) - 1n;
const ROOT = ethers.keccak256(ethers.toUtf8Bytes("root"));
const USERS = 5;

describe("SettlementVault malformed batches and exit sequences", function () {
  before(function () {
    console.log(`      SettlementVault fuzz seed: FC_SEED=${SEED} (FC_MALFORMED_RUNS=${MALFORMED_RUNS}, FC_EXIT_RUNS=${EXIT_RUNS})`);
  });

  async function fixture() {
    const signers = await ethers.getSigners();
    const [admin, operator] = signers;
    const users = signers.slice(2, 2 + USERS);
    const vault = await ethers.deployContract("SettlementVault", [admin.address, operator.address, DELAY, WINDOW, 2n * WINDOW]);
    const plain = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
    await vault.connect(admin).listToken(plain, 1_000n, 5_000_000n); // a small outflow limit: deferrals happen
    await vault.connect(admin).listToken(big, 1n, (1n << 96n) - 1n);
    for (const [token, amount] of [[plain, 1_000_000n], [big, MAX_BALANCE - 1_000n]]) {
      for (const user of users) {
        await token.mint(user.address, amount);
        await token.connect(user).approve(vault, ethers.MaxUint256);
        await vault.connect(user).deposit(token, amount);
      }
    }
    return { vault, tokens: [plain, big], admin, operator, users };
  }

  async function checkCustody(f) {
    for (const token of f.tokens) {
      let settled = 0n;
      let pending = 0n;
      for (const user of f.users) {
        settled += await f.vault.settledBalance(token, user.address);
        pending += await f.vault.pendingPayout(token, user.address);
      }
      const balance = await token.balanceOf(f.vault);
      expect(balance).to.equal(settled + pending, "vault balance == settled balances + pending payouts");
      expect(await f.vault.custody(token)).to.equal(balance, "custody == vault balance");
    }
  }

  /** Reverts with one of the vault's (or OpenZeppelin's) custom errors, never a panic or empty data. */
  function expectCustomError(vault, error) {
    const data = error.data ?? error.error?.data;
    expect(data, `revert without data: ${error.message}`).to.be.a("string");
    expect(data.length, `empty revert: ${error.message}`).to.be.greaterThan(2);
    expect(data.slice(0, 10), `panic: ${data}`).to.not.equal("0x4e487b71");
    expect(vault.interface.parseError(data), `unknown error ${data}`).to.not.equal(null);
  }

  const amountArb = fc.oneof(
    fc.bigInt(0n, 2_000_000n),
    fc.bigInt(0n, (1n << 128n) - 1n),
    fc.constantFrom(MAX_BALANCE, MAX_BALANCE + 1n, (1n << 128n) - 1n, 1n),
  );
  const sectionArb = fc.record({
    tokenId: fc.oneof(fc.constantFrom(1, 2), fc.nat(4)),
    deltas: fc.array(fc.record({ accountId: fc.oneof(fc.integer({ min: 1, max: USERS }), fc.nat(8)), delta: amountArb, debit: fc.boolean() }), { maxLength: 6 }),
    payouts: fc.array(fc.record({ accountId: fc.oneof(fc.integer({ min: 1, max: USERS }), fc.nat(8)), amount: amountArb, recipient: fc.nat(USERS), forced: fc.boolean() }), { maxLength: 3 }),
    balanced: fc.boolean(),
  });
  const malformedArb = fc.record({
    sections: fc.array(sectionArb, { maxLength: 3 }),
    mutation: fc.constantFrom("none", "truncate", "extra", "count", "flip", "huge"),
    cut: fc.nat(200),
    extra: fc.uint8Array({ minLength: 1, maxLength: 24 }),
    flipAt: fc.nat(200),
    flipTo: fc.nat(255),
  });

  function build(f, c) {
    const sections = c.sections.map((s) => {
      const deltas = s.deltas.map((d) => ({ accountId: d.accountId, delta: d.debit ? -d.delta : d.delta }));
      if (s.balanced && deltas.length > 0) {
        // make the credits equal the debits with one last entry (still maybe over a balance or the cap)
        const sum = deltas.reduce((a, d) => a + d.delta, 0n);
        const fix = -sum;
        const abs = fix < 0n ? -fix : fix;
        if (abs < 1n << 128n) deltas.push({ accountId: 1 + (deltas.length % USERS), delta: fix });
      }
      const payouts = s.payouts.map((p) => ({ accountId: p.accountId, amount: p.amount, recipient: f.users[p.recipient % USERS].address, forced: p.forced }));
      return { tokenId: s.tokenId, deltas, payouts };
    });
    let hex = encodeBatch(sections).slice(2);
    switch (c.mutation) {
      case "truncate": hex = hex.slice(0, 2 * (c.cut % (hex.length / 2 + 1))); break;
      case "extra": hex += Buffer.from(c.extra).toString("hex"); break;
      case "count": hex = (hex.length >= 16 ? hex.slice(0, 8) + "ffff" + hex.slice(12) : "00000001ffff0000"); break;
      case "flip": if (hex.length > 0) { const at = 2 * (c.flipAt % (hex.length / 2)); hex = hex.slice(0, at) + c.flipTo.toString(16).padStart(2, "0") + hex.slice(at + 2); } break;
      case "huge": hex = "0000000103ff0000" + hex; break;
      default: break;
    }
    return "0x" + hex;
  }

  it("refuses every malformed batch with a custom error, never panics, and keeps vault balance == settled + pending", async function () {
    const f = await loadFixture(fixture);
    let batchId = 0n;
    let refused = 0;
    let settled = 0;
    // open forced withdrawals so that forced flags sometimes serve a real request
    for (const user of f.users.slice(0, 3)) await f.vault.connect(user).requestForcedWithdrawal(f.tokens[0], 10_000n);
    try {
      await fc.assert(
        fc.asyncProperty(malformedArb, async (c) => {
          const batch = build(f, c);
          try {
            await f.vault.connect(f.operator).settleBatch.staticCall(batchId + 1n, ROOT, batch);
          } catch (error) {
            expectCustomError(f.vault, error);
            refused++;
            return;
          }
          batchId += 1n;
          await f.vault.connect(f.operator).settleBatch(batchId, ROOT, batch);
          settled++;
          await checkCustody(f);
        }),
        { seed: SEED, numRuns: MALFORMED_RUNS, endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
    } catch (error) {
      console.error(`SettlementVault malformed batches failed: replay with FC_SEED=${SEED} FC_MALFORMED_RUNS=${MALFORMED_RUNS}`);
      throw error;
    }
    await checkCustody(f);
    console.log(`      ${refused} refused, ${settled} settled`);
  });

  const exitOpArb = fc.oneof(
    fc.record({ kind: fc.constant("request"), user: fc.nat(USERS - 1), token: fc.nat(1), permille: fc.integer({ min: 0, max: 1200 }) }),
    fc.record({ kind: fc.constant("serve"), users: fc.array(fc.nat(USERS - 1), { maxLength: 3 }), token: fc.nat(1), transfer: fc.bigInt(0n, 500_000n) }),
    fc.record({ kind: fc.constant("heartbeat") }),
    fc.record({ kind: fc.constant("wait"), seconds: fc.integer({ min: 1, max: 8_000 }) }),
    fc.record({ kind: fc.constant("freeze"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("escape"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("claim"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("pause") }),
  );

  async function exitStep(f, state, op) {
    const { vault, operator, admin } = f;
    const token = f.tokens[op.token ?? 0];
    const attempt = async (promise) => {
      try {
        await promise;
        return true;
      } catch (error) {
        expectCustomError(vault, error);
        return false;
      }
    };
    switch (op.kind) {
      case "request": {
        const user = f.users[op.user];
        const balance = await vault.settledBalance(token, user.address);
        await attempt(vault.connect(user).requestForcedWithdrawal(token, (balance * BigInt(op.permille)) / 1000n));
        break;
      }
      case "serve": {
        // a batch that moves some balance 1 -> 2 and serves the open requests of the chosen users
        const tokenId = op.token + 1;
        const payouts = [];
        for (const index of [...new Set(op.users)]) {
          const user = f.users[index];
          const [amount] = await vault.forcedWithdrawal(token, user.address);
          if (amount !== 0n) payouts.push({ accountId: index + 1, amount, recipient: user.address, forced: true });
        }
        const from = await vault.settledBalance(token, f.users[0].address);
        const moved = op.transfer < from ? op.transfer : from;
        const deltas = moved === 0n ? [] : [{ accountId: 1, delta: -moved }, { accountId: 2, delta: moved }];
        const ok = await attempt(vault.connect(operator).settleBatch(state.batchId + 1n, ROOT, encodeBatch([{ tokenId, deltas, payouts }])));
        if (ok) state.batchId += 1n;
        expect(ok || state.frozen || (await vault.paused())).to.equal(true, "a valid batch settles unless frozen or paused");
        break;
      }
      case "heartbeat":
        if (await attempt(vault.connect(operator).settleBatch(state.batchId + 1n, ROOT, "0x"))) state.batchId += 1n;
        break;
      case "wait":
        await time.increase(op.seconds);
        break;
      case "freeze":
        if (await attempt(vault.freeze(token, f.users[op.user].address))) state.frozen = true;
        break;
      case "escape":
        if (await attempt(vault.connect(f.users[op.user]).escapeWithdraw(token))) state.frozen = true;
        break;
      case "claim":
        await attempt(vault.connect(f.users[op.user]).claimPayout(token, f.users[op.user].address));
        break;
      case "pause":
        await attempt(vault.connect(admin).pause());
        break;
      default:
        throw new Error(`unknown op ${op.kind}`);
    }
    expect(await vault.frozen()).to.equal(state.frozen);
    if (state.frozen) {
      await expect(vault.connect(operator).settleBatch(state.batchId + 1n, ROOT, "0x")).to.be.revertedWithCustomError(vault, "VaultFrozen");
    }
  }

  it("keeps vault balance == settled + pending over random forced-withdrawal, freeze and escape sequences", async function () {
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(exitOpArb, { minLength: 1, maxLength: 14 }), async (ops) => {
          const f = await loadFixture(fixture);
          const state = { batchId: 0n, frozen: false };
          for (const op of ops) {
            await exitStep(f, state, op);
            await checkCustody(f);
          }
          if (state.frozen) {
            // every account gets its last settled balance out, once
            for (const user of f.users) {
              for (const token of f.tokens) {
                const balance = await f.vault.settledBalance(token, user.address);
                if (balance !== 0n) await expect(f.vault.connect(user).escapeWithdraw(token)).to.changeTokenBalance(token, user, balance);
              }
            }
            await checkCustody(f);
          }
        }),
        { seed: SEED, numRuns: EXIT_RUNS, endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
    } catch (error) {
      console.error(`SettlementVault exit sequences failed: replay with FC_SEED=${SEED} FC_EXIT_RUNS=${EXIT_RUNS}`);
      throw error;
    }
  });
});
