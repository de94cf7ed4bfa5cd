// Randomized operation sequences against TaskEscrow, checked after every step against an
// independent model of the escrows and of every account's token balance.
// Replay a failure with FC_SEED=<seed printed on failure> npx hardhat test test/TaskEscrow.invariants.test.js
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const fc = require("fast-check");

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261122;
const NUM_RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 40;
const MAX_OPS = 30;
const SLOTS = 4; // escrows used by a sequence: two task ids, each used by both payers
const PAYEE_POOL = 4;
const INITIAL_FEE_BPS = 250n;
const BPS = 10_000n;
const MAX_FEE_BPS = 1_000n;
const PAYER_FUNDS = 1n << 200n;

const State = { None: 0n, Funded: 1n, Disputed: 2n, Released: 3n, Refunded: 4n, Resolved: 5n };

async function invariantFixture() {
  const signers = await ethers.getSigners();
  const [admin, payerA, payerB, arbiter, evaluator, feeRecipient, stranger] = signers;
  const payees = signers.slice(7, 7 + PAYEE_POOL);
  const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
  const escrow = await ethers.deployContract("TaskEscrow", [admin.address, feeRecipient.address, INITIAL_FEE_BPS]);
  for (const payer of [payerA, payerB]) {
    await token.mint(payer.address, PAYER_FUNDS);
    await token.connect(payer).approve(escrow.target, ethers.MaxUint256);
  }
  const start = BigInt(await time.latest());
  return { admin, payers: [payerA, payerB], arbiter, evaluator, feeRecipient, stranger, payees, token, escrow, start };
}

/** The independent model: escrows by slot, token balances by address, the fee and the clock. */
class Model {
  constructor(f) {
    this.f = f;
    this.now = f.start;
    this.feeBps = INITIAL_FEE_BPS;
    this.escrows = new Map();
    this.balances = new Map();
    for (const payer of f.payers) this.balances.set(payer.address, PAYER_FUNDS);
  }

  credit(account, amount) {
    this.balances.set(account, (this.balances.get(account) ?? 0n) + amount);
  }

  debit(account, amount) {
    const balance = this.balances.get(account) ?? 0n;
    if (balance < amount) throw new Error(`model: ${account} would go negative`);
    this.balances.set(account, balance - amount);
  }

  /** Pays `gross` to payee `i` of `e`: the fee to the fee recipient, the rest to the payee. */
  pay(e, i, gross) {
    if (gross === 0n) return;
    const fee = (gross * e.feeBps) / BPS;
    e.payees[i].released += gross;
    e.held -= gross;
    e.paidNet += gross - fee;
    e.fees += fee;
    this.credit(e.payees[i].account, gross - fee);
    this.credit(this.f.feeRecipient.address, fee);
  }
}

// Slot s is payer s % 2's escrow for task s >> 1: slots 0 and 1 (2 and 3) are two payers' escrows
// under the same task id, which must not interfere.
const payerOf = (f, slot) => f.payers[slot % 2];
const taskOf = (slot) => ethers.id(`invariant-task:${slot >> 1}`);
const id = (f, slot) => ethers.keccak256(
  ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [payerOf(f, slot).address, taskOf(slot)]));

const shareArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt(1n, 1_000_000n) },
  { weight: 1, arbitrary: fc.bigInt(1n << 150n, 1n << 190n) },
);
const amountArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant("rest") },
  { weight: 1, arbitrary: fc.constant("half") },
  { weight: 3, arbitrary: fc.bigInt(0n, 1_100_000n) },
);
const slotArb = fc.nat(SLOTS - 1);
const aimArb = fc.constantFrom(true, true, true, false);
// Callers drawn with a bias towards those allowed to act, so that most operations succeed.
const releaserArb = fc.constantFrom("payer", "payer", "evaluator", "evaluator", "payee", "arbiter", "stranger");
const disputerArb = fc.constantFrom("payer", "payee", "payee", "evaluator", "stranger");

const createArb = fc.record({
  kind: fc.constant("create"),
  slot: slotArb,
  payees: fc.array(fc.nat(PAYEE_POOL - 1), { minLength: 1, maxLength: 4 }),
  shares: fc.array(shareArb, { minLength: 4, maxLength: 4 }),
  atomic: fc.constantFrom(false, false, true),
  deadlineOffset: fc.integer({ min: 5, max: 200 }),
});

const opArb = fc.oneof(
  { weight: 2, arbitrary: createArb },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("release"), slot: slotArb, aim: aimArb, role: releaserArb, index: fc.nat(3), amount: amountArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("releaseAll"), slot: slotArb, aim: aimArb, role: releaserArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund"), slot: slotArb, aim: aimArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("dispute"), slot: slotArb, aim: aimArb, role: disputerArb, index: fc.nat(3) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("resolve"),
      slot: slotArb,
      aim: aimArb,
      role: fc.constantFrom("arbiter", "arbiter", "arbiter", "payer"),
      weights: fc.array(fc.nat(10), { minLength: 5, maxLength: 5 }),
      skew: fc.constantFrom(0n, 0n, 0n, 1n, -1n),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("setFee"), bps: fc.integer({ min: 0, max: 1_200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance"), seconds: fc.integer({ min: 1, max: 120 }) }) },
);

// Every sequence starts by creating escrows, so that later operations find something to act on.
const sequenceArb = fc
  .tuple(
    fc.array(createArb, { minLength: 2, maxLength: SLOTS }),
    fc.array(opArb, { minLength: 1, maxLength: MAX_OPS, size: "max" }),
  )
  .map(([creates, ops]) => [...creates.map((create, slot) => ({ ...create, slot })), ...ops]);

const FITTING_STATE = {
  release: State.Funded, releaseAll: State.Funded, refund: State.Funded, dispute: State.Funded, resolve: State.Disputed,
};

/**
 * Most operations aim at an escrow in a state that suits them (the slot then picks among those);
 * the rest keep their raw slot, which exercises the state checks.
 */
function target(model, op) {
  const wanted = FITTING_STATE[op.kind];
  if (wanted === undefined || !op.aim) return op;
  const fitting = [...model.escrows].filter(([, e]) => e.state === wanted).map(([slot]) => slot);
  return fitting.length === 0 ? op : { ...op, slot: fitting[op.slot % fitting.length] };
}

/** Who performs `role` on escrow `e` (or on a slot with no escrow yet). */
function actor(f, e, role, index = 0) {
  switch (role) {
    case "payer": return e ? e.payer : f.payers[0];
    case "evaluator": return f.evaluator;
    case "arbiter": return f.arbiter;
    case "payee": return e ? e.payees[index % e.payees.length].signer : f.payees[0];
    default: return f.stranger;
  }
}

/**
 * Applies `op` to the model if the contract should accept it; otherwise returns the custom error
 * the contract must revert with. Returns { error, args? } or { send, apply }: send() submits the
 * transaction, apply() updates the model once it is mined. `model.now` is the block's timestamp.
 */
function plan(model, op) {
  const f = model.f;
  const { escrow } = f;
  if (op.kind === "setFee") {
    if (BigInt(op.bps) > MAX_FEE_BPS) return { error: "EscrowFeeTooHigh" };
    return { send: () => escrow.connect(f.admin).setFeeBps(op.bps), apply: () => { model.feeBps = BigInt(op.bps); } };
  }
  const e = model.escrows.get(op.slot);
  const state = e ? e.state : State.None;
  const escrowId = id(f, op.slot);

  if (op.kind === "create") {
    if (e) return { error: "EscrowAlreadyExists" };
    const payer = payerOf(f, op.slot);
    const payees = op.payees.map((p, i) => ({ signer: f.payees[p], account: f.payees[p].address, share: op.shares[i], released: 0n }));
    const funded = payees.reduce((sum, p) => sum + p.share, 0n);
    const deadline = model.now + BigInt(op.deadlineOffset);
    const terms = {
      token: f.token.target,
      payees: payees.map((p) => p.account),
      shares: payees.map((p) => p.share),
      arbiter: f.arbiter.address,
      evaluator: f.evaluator.address,
      deadline,
      atomic: op.atomic,
      termsHash: ethers.id(`terms:${op.slot}`),
    };
    return {
      send: () => escrow.connect(payer).create(taskOf(op.slot), terms),
      apply: () => {
        model.debit(payer.address, funded);
        model.escrows.set(op.slot, {
          payer, payees, funded, held: funded, paidNet: 0n, fees: 0n, refunded: 0n,
          feeBps: model.feeBps, deadline, atomic: op.atomic, state: State.Funded,
        });
      },
    };
  }

  if (op.kind === "release") {
    if (state !== State.Funded) return { error: "EscrowInvalidState" };
    const caller = actor(f, e, op.role);
    if (caller.address !== e.payer.address && caller.address !== f.evaluator.address) return { error: "EscrowUnauthorized" };
    if (e.atomic) return { error: "EscrowAtomicOnly" };
    if (op.index >= e.payees.length) return { error: "EscrowInvalidPayee" };
    const payee = e.payees[op.index];
    const remaining = payee.share - payee.released;
    const amount = op.amount === "rest" ? remaining : op.amount === "half" ? remaining / 2n : op.amount;
    if (amount === 0n) return { error: "EscrowZeroAmount", args: [amount] };
    if (amount > remaining) return { error: "EscrowExceedsShare", args: [amount] };
    return {
      send: () => escrow.connect(caller).release(escrowId, op.index, amount),
      apply: () => {
        model.pay(e, op.index, amount);
        if (e.held === 0n) e.state = State.Released;
      },
    };
  }

  if (op.kind === "releaseAll") {
    if (state !== State.Funded) return { error: "EscrowInvalidState" };
    const caller = actor(f, e, op.role);
    if (caller.address !== e.payer.address && caller.address !== f.evaluator.address) return { error: "EscrowUnauthorized" };
    return {
      send: () => escrow.connect(caller).releaseAll(escrowId),
      apply: () => {
        e.payees.forEach((p, i) => model.pay(e, i, p.share - p.released));
        e.state = State.Released;
      },
    };
  }

  if (op.kind === "refund") {
    if (state !== State.Funded) return { error: "EscrowInvalidState" };
    if (model.now <= e.deadline) return { error: "EscrowDeadlineNotReached" };
    return {
      send: () => escrow.connect(f.stranger).refund(escrowId),
      apply: () => {
        model.credit(e.payer.address, e.held);
        e.refunded += e.held;
        e.held = 0n;
        e.state = State.Refunded;
      },
    };
  }

  if (op.kind === "dispute") {
    if (state !== State.Funded) return { error: "EscrowInvalidState" };
    const caller = actor(f, e, op.role, op.index);
    const isPayee = e.payees.some((p) => p.account === caller.address);
    if (caller.address !== e.payer.address && !isPayee) return { error: "EscrowUnauthorized" };
    return { send: () => escrow.connect(caller).dispute(escrowId), apply: () => { e.state = State.Disputed; } };
  }

  if (op.kind === "resolve") {
    if (state !== State.Disputed) return { error: "EscrowInvalidState" };
    const caller = actor(f, e, op.role);
    if (caller.address !== f.arbiter.address) return { error: "EscrowUnauthorized" };
    // A split proportional to the weights, capped at each remaining share; the payer gets the rest.
    const totalWeight = BigInt(op.weights.reduce((a, b) => a + b, 0)) || 1n;
    const amounts = e.payees.map((p, i) => {
      const remaining = p.share - p.released;
      const wanted = (e.held * BigInt(op.weights[i])) / totalWeight;
      return wanted < remaining ? wanted : remaining;
    });
    const toPayees = amounts.reduce((a, b) => a + b, 0n);
    let payerAmount = e.held - toPayees + op.skew;
    if (payerAmount < 0n) payerAmount = 1n; // a skew below zero becomes an over-allocation instead
    if (payerAmount !== e.held - toPayees) return { error: "EscrowInvalidSplit", args: [amounts, payerAmount] };
    return {
      send: () => escrow.connect(caller).resolve(escrowId, amounts, payerAmount),
      apply: () => {
        amounts.forEach((amount, i) => model.pay(e, i, amount));
        model.credit(e.payer.address, payerAmount);
        e.refunded += payerAmount;
        e.held = 0n;
        e.state = State.Resolved;
      },
    };
  }

  throw new Error(`unknown op ${op.kind}`);
}

/** Submits the call the plan describes for a failing op, so that its revert can be checked. */
function failingCall(model, op, planned) {
  const f = model.f;
  const { escrow } = f;
  if (op.kind === "setFee") return escrow.connect(f.admin).setFeeBps(op.bps);
  const e = model.escrows.get(op.slot);
  const escrowId = id(f, op.slot);
  switch (op.kind) {
    case "create": return escrow.connect(payerOf(f, op.slot)).create(taskOf(op.slot), {
      token: f.token.target, payees: [f.payees[0].address], shares: [1n], arbiter: f.arbiter.address,
      evaluator: f.evaluator.address, deadline: model.now + 100n, atomic: false, termsHash: ethers.ZeroHash,
    });
    case "release": {
      const [amount] = planned.args ?? [1n];
      return escrow.connect(actor(f, e, op.role)).release(escrowId, op.index, amount);
    }
    case "releaseAll": return escrow.connect(actor(f, e, op.role)).releaseAll(escrowId);
    case "refund": return escrow.connect(f.stranger).refund(escrowId);
    case "dispute": return escrow.connect(actor(f, e, op.role, op.index)).dispute(escrowId);
    case "resolve": {
      const [amounts, payerAmount] = planned.args ?? [(e?.payees ?? []).map(() => 0n), e?.held ?? 0n];
      return escrow.connect(actor(f, e, op.role)).resolve(escrowId, amounts, payerAmount);
    }
    default: throw new Error(`no failing call for ${op.kind}`);
  }
}

async function checkInvariants(model) {
  const { escrow, token } = model.f;
  let heldTotal = 0n;
  for (const [slot, e] of model.escrows) {
    expect(e.funded, `slot ${slot}: funded == paid + fees + refunded + held`)
      .to.equal(e.paidNet + e.fees + e.refunded + e.held);
    const info = await escrow.getEscrow(id(model.f, slot));
    expect(info.state, `slot ${slot} state`).to.equal(e.state);
    expect(info.payer, `slot ${slot} payer`).to.equal(e.payer.address);
    expect(info.held, `slot ${slot} held`).to.equal(e.held);
    expect(info.amount, `slot ${slot} amount`).to.equal(e.funded);
    const [, , released] = await escrow.getPayees(id(model.f, slot));
    expect(released, `slot ${slot} released`).to.deep.equal(e.payees.map((p) => p.released));
    heldTotal += e.held;
  }
  expect(await token.balanceOf(escrow.target), "contract balance == sum of held").to.equal(heldTotal);
  for (const [account, balance] of model.balances) {
    expect(await token.balanceOf(account), `balance of ${account}`).to.equal(balance);
  }
}

describe("TaskEscrow invariants (randomized)", function () {
  it("keeps every escrow's books and the contract balance exact over random operation sequences", async function () {
    const property = fc.asyncProperty(sequenceArb, async (ops) => {
      const f = await loadFixture(invariantFixture);
      const model = new Model(f);
      for (const generated of ops) {
        const op = target(model, generated);
        if (op.kind === "advance") {
          model.now += BigInt(op.seconds);
          await time.increaseTo(model.now);
          continue;
        }
        model.now += 1n; // the block this operation lands in
        const planned = plan(model, op);
        await time.setNextBlockTimestamp(model.now);
        if (planned.error) {
          await expect(failingCall(model, op, planned), `${op.kind} must fail with ${planned.error}`)
            .to.be.revertedWithCustomError(f.escrow, planned.error);
        } else {
          await (await planned.send()).wait();
          planned.apply();
        }
        await checkInvariants(model);
      }
    });
    try {
      await fc.assert(property, { seed: SEED, numRuns: NUM_RUNS, endOnFailure: !process.env.FC_SHRINK });
    } catch (error) {
      console.error(`TaskEscrow invariants failed with FC_SEED=${SEED} (FC_SHRINK=1 to shrink)`);
      throw error;
    }
  });
});
