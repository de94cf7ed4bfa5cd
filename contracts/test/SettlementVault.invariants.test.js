const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const fc = require("fast-check");
const { ethers } = require("hardhat");
const { encodeBatch, netTransfers } = require("./SettlementVault.encoding.js");

// Seeds are random per run and printed; replay a run with FC_SEED=<seed> (FC_RUNS=<n> for more runs).
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const NUM_RUNS = Number(process.env.FC_RUNS || 25);
const DELAY = 3_600n;
const WINDOW = 1_800n;
const ROOT = ethers.keccak256(ethers.toUtf8Bytes("root"));
const USERS = 5;

/**
 * Random operation sequences against an independent JS model of the vault: settled balances per
 * (token, account) and pending payouts per (token, recipient). After every step, per token:
 * vault token balance == sum of settled balances + pending payouts, and every on-chain figure
 * equals the model's.
 */
describe("SettlementVault invariants", function () {
  async function fixture() {
    const signers = await ethers.getSigners();
    const [admin, operator] = signers;
    const users = signers.slice(2, 2 + USERS);
    const blocked = signers[2 + USERS];
    const vault = await ethers.deployContract("SettlementVault", [admin.address, operator.address, DELAY, WINDOW, 2n * WINDOW]);
    const plain = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const hostile = await ethers.deployContract("HostileToken");
    for (const token of [plain, hostile]) await vault.connect(admin).listToken(token, 1n, (1n << 96n) - 1n);
    await hostile.setFailMode(blocked.address, 1);
    for (const token of [plain, hostile]) {
      for (const user of users) {
        await token.mint(user.address, 10n ** 15n);
        await token.connect(user).approve(vault, ethers.MaxUint256);
      }
    }
    // the first three users start with a settled balance in both tokens (account ids 1..3, token ids 1, 2)
    for (const token of [plain, hostile]) {
      for (const user of users.slice(0, 3)) await vault.connect(user).deposit(token, 1_000_000n);
    }
    return { vault, tokens: [plain, hostile], admin, operator, users, recipients: [...users, blocked] };
  }

  class Model {
    constructor() {
      this.settled = new Map();
      this.pending = new Map();
      this.accountIds = new Map();
      this.tokenIds = new Map();
      this.batchId = 0n;
      this.frozen = false;
    }
    key(token, account) {
      return `${token}:${account}`;
    }
    settledOf(token, account) {
      return this.settled.get(this.key(token, account)) || 0n;
    }
    pendingOf(token, recipient) {
      return this.pending.get(this.key(token, recipient)) || 0n;
    }
    add(map, token, account, delta) {
      map.set(this.key(token, account), (map.get(this.key(token, account)) || 0n) + delta);
    }
  }

  const opArb = fc.oneof(
    fc.record({ kind: fc.constant("deposit"), user: fc.nat(USERS - 1), token: fc.nat(1), amount: fc.bigInt(1n, 10n ** 9n) }),
    fc.record({
      kind: fc.constant("settle"),
      token: fc.nat(1),
      bothTokens: fc.boolean(),
      transfers: fc.array(fc.record({ from: fc.nat(USERS - 1), to: fc.nat(USERS - 1), permille: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 8 }),
      payouts: fc.array(fc.record({ user: fc.nat(USERS - 1), recipient: fc.oneof(fc.constant(USERS), fc.nat(USERS - 1)), permille: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant("overdraw"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("claim"), recipient: fc.nat(USERS), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("escape"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("paused"), user: fc.nat(USERS - 1), token: fc.nat(1) }),
    fc.record({ kind: fc.constant("register"), users: fc.array(fc.nat(USERS - 1), { minLength: 1, maxLength: 4 }), token: fc.nat(1) }),
  );

  async function step(f, model, op) {
    const { vault, operator, admin } = f;
    const token = f.tokens[op.token];
    const tokenAddress = await token.getAddress();
    if (model.frozen && ["deposit", "settle", "overdraw", "paused", "register"].includes(op.kind)) {
      // a frozen vault takes no deposits, batches or registrations; the model proves it once
      await expect(vault.connect(operator).settleBatch(model.batchId + 1n, ROOT, "0x")).to.be.revertedWithCustomError(vault, "VaultFrozen");
      return;
    }
    switch (op.kind) {
      case "deposit": {
        const user = f.users[op.user];
        await vault.connect(user).deposit(token, op.amount);
        if (!model.tokenIds.has(tokenAddress)) model.tokenIds.set(tokenAddress, model.tokenIds.size + 1);
        if (!model.accountIds.has(user.address)) model.accountIds.set(user.address, model.accountIds.size + 1);
        model.add(model.settled, tokenAddress, user.address, op.amount);
        break;
      }
      case "settle": {
        // one section for the chosen token, or one per token
        const chosen = op.bothTokens ? [0, 1] : [op.token];
        const sections = [];
        const updates = [];
        for (const index of chosen) {
          const address = await f.tokens[index].getAddress();
          const working = new Map(f.users.map((u) => [u.address, model.settledOf(address, u.address)]));
          const transfers = [];
          for (const t of op.transfers) {
            const from = f.users[t.from].address;
            const to = f.users[t.to].address;
            if (from === to || !model.accountIds.has(from) || !model.accountIds.has(to)) continue;
            const amount = (working.get(from) * BigInt(t.permille)) / 1000n;
            working.set(from, working.get(from) - amount);
            working.set(to, working.get(to) + amount);
            transfers.push({ from: model.accountIds.get(from), to: model.accountIds.get(to), amount });
          }
          const payouts = [];
          for (const p of op.payouts) {
            const user = f.users[p.user].address;
            const amount = (working.get(user) * BigInt(p.permille)) / 1000n;
            if (!model.accountIds.has(user) || amount === 0n) continue;
            working.set(user, working.get(user) - amount);
            payouts.push({ accountId: model.accountIds.get(user), amount, recipient: f.recipients[p.recipient].address });
          }
          sections.push({ tokenId: model.tokenIds.get(address), deltas: netTransfers(transfers), payouts });
          updates.push({ index, address, working, payouts });
        }
        model.batchId += 1n;
        await vault.connect(operator).settleBatch(model.batchId, ROOT, encodeBatch(sections));
        for (const { index, address, working, payouts } of updates) {
          for (const [account, balance] of working) model.settled.set(model.key(address, account), balance);
          for (const { amount, recipient } of payouts) {
            // the hostile token (index 1) refuses the blocked recipient: the payout stays pending
            if (recipient === f.recipients[USERS].address && index === 1) model.add(model.pending, address, recipient, amount);
          }
        }
        break;
      }
      case "overdraw": {
        const user = f.users[op.user].address;
        if (!model.tokenIds.has(tokenAddress) || !model.accountIds.has(user)) return;
        const balance = model.settledOf(tokenAddress, user);
        const batch = encodeBatch([{ tokenId: model.tokenIds.get(tokenAddress), payouts: [{ accountId: model.accountIds.get(user), amount: balance + 1n, recipient: user }] }]);
        await expect(vault.connect(operator).settleBatch(model.batchId + 1n, ROOT, batch))
          .to.be.revertedWithCustomError(vault, "VaultInsufficientBalance")
          .withArgs(tokenAddress, user, balance, balance + 1n);
        break;
      }
      case "claim": {
        const recipient = f.recipients[op.recipient];
        const pending = model.pendingOf(tokenAddress, recipient.address);
        if (pending === 0n) {
          await expect(vault.connect(recipient).claimPayout(token, f.users[0].address))
            .to.be.revertedWithCustomError(vault, "VaultNoPendingPayout").withArgs(tokenAddress, recipient.address);
        } else {
          await vault.connect(recipient).claimPayout(token, f.users[0].address);
          model.pending.set(model.key(tokenAddress, recipient.address), 0n);
        }
        break;
      }
      case "escape": {
        const user = f.users[op.user];
        const opensAt = await vault.escapeOpensAt();
        if (opensAt > BigInt(await time.latest())) await time.increaseTo(opensAt);
        const balance = model.settledOf(tokenAddress, user.address);
        if (balance === 0n) {
          await expect(vault.connect(user).escapeWithdraw(token))
            .to.be.revertedWithCustomError(vault, "VaultNothingToWithdraw").withArgs(tokenAddress, user.address);
        } else {
          await vault.connect(user).escapeWithdraw(token);
          model.settled.set(model.key(tokenAddress, user.address), 0n);
          model.frozen = true;
        }
        break;
      }
      case "paused": {
        await time.increase(WINDOW); // past any pause cooldown
        await vault.connect(admin).pause();
        await expect(vault.connect(f.users[op.user]).deposit(token, 1n)).to.be.revertedWithCustomError(vault, "VaultPaused");
        await expect(vault.connect(operator).settleBatch(model.batchId + 1n, ROOT, "0x")).to.be.revertedWithCustomError(vault, "VaultPaused");
        await vault.connect(admin).unpause();
        break;
      }
      case "register": {
        // users that never deposited get ids in call order; known ones (and repeats) are skipped
        const accounts = op.users.map((i) => f.users[i].address);
        const fresh = [...new Set(accounts)].filter((a) => !model.accountIds.has(a));
        expect(await vault.connect(operator).registerAccounts.staticCall(accounts)).to.equal(BigInt(fresh.length));
        await vault.connect(operator).registerAccounts(accounts);
        for (const account of fresh) model.accountIds.set(account, model.accountIds.size + 1);
        for (const account of accounts) {
          expect(await vault.accountIdOf(account)).to.equal(BigInt(model.accountIds.get(account)));
        }
        break;
      }
      default:
        throw new Error(`unknown op ${op.kind}`);
    }
  }

  async function checkInvariants(f, model) {
    for (const token of f.tokens) {
      const tokenAddress = await token.getAddress();
      let settled = 0n;
      for (const user of f.users) {
        const onChain = await f.vault.settledBalance(token, user.address);
        expect(onChain).to.equal(model.settledOf(tokenAddress, user.address), `settled ${user.address}`);
        settled += onChain;
      }
      let pending = 0n;
      for (const recipient of f.recipients) {
        const onChain = await f.vault.pendingPayout(token, recipient.address);
        expect(onChain).to.equal(model.pendingOf(tokenAddress, recipient.address), `pending ${recipient.address}`);
        pending += onChain;
      }
      expect(await token.balanceOf(f.vault)).to.equal(settled + pending, "vault balance == settled + pending");
    }
    expect(await f.vault.lastBatchId()).to.equal(model.batchId);
  }

  it("keeps vault balance == settled balances + pending payouts over random operations", async function () {
    console.log(`      SettlementVault invariants seed: FC_SEED=${SEED} (FC_RUNS=${NUM_RUNS})`);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 10 }), async (ops) => {
          const f = await loadFixture(fixture);
          const model = new Model();
          for (const token of f.tokens) {
            const tokenAddress = await token.getAddress();
            model.tokenIds.set(tokenAddress, model.tokenIds.size + 1);
            for (const user of f.users.slice(0, 3)) {
              if (!model.accountIds.has(user.address)) model.accountIds.set(user.address, model.accountIds.size + 1);
              model.add(model.settled, tokenAddress, user.address, 1_000_000n);
            }
          }
          for (const op of ops) {
            await step(f, model, op);
            await checkInvariants(f, model);
          }
        }),
        { seed: SEED, numRuns: NUM_RUNS },
      );
    } catch (error) {
      console.error(`SettlementVault invariants failed with FC_SEED=${SEED} (FC_RUNS=${NUM_RUNS})`);
      throw error;
    }
  });
});
