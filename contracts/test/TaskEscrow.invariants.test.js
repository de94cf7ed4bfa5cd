// Randomized operation sequences against TaskEscrow with adversarial actors, checked after every
// step against an independent model of the escrows, the fees owed and every account's balance.
//
// Actors: two payers (that also dispute late, cancel, refund early), payees that accept by call or
// by a signature a stranger submits (or a forged / replayed one), an evaluator, an arbiter that is
// absent for a whole sequence half of the time, a fee manager that changes the fee in the same
// block in front of a create and moves the fee recipient, a fee recipient that the token
// blocklists (USDC-style), and a stranger that triggers every public exit.
//
// Seeds: random per run and printed; FC_SEED=<seed> replays a run. Budget: FC_RUNS runs (default
// 40) within FC_BUDGET_MS (default 60 s of CI time; runs past it are skipped, not failed).
// FC_PROFILE=large: 400 runs of up to 80 operations within 20 minutes. FC_SHRINK=1 shrinks a
// counterexample.
//   FC_SEED=123 npx hardhat test test/TaskEscrow.invariants.test.js
//   FC_PROFILE=large npx hardhat test test/TaskEscrow.invariants.test.js
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const fc = require("fast-check");

const LARGE = process.env.FC_PROFILE === "large";
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const NUM_RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : LARGE ? 400 : 40;
const BUDGET_MS = process.env.FC_BUDGET_MS ? Number(process.env.FC_BUDGET_MS) : LARGE ? 20 * 60_000 : 60_000;
const MAX_OPS = LARGE ? 80 : 30;
const SLOTS = 4; // escrows used by a sequence: two task ids, each used by both payers
const PAYEE_POOL = 4;
const INITIAL_FEE_BPS = 250n;
const BPS = 10_000n;
const MAX_FEE_BPS = 1_000n;
const PAYER_FUNDS = 1n << 200n;
const DAY = 86_400n;
const GRACE = DAY;
const ARBITRATION = 7n * DAY;

const State = { None: 0n, Open: 1n, Funded: 2n, Disputed: 3n, Completed: 4n, Rejected: 5n, Expired: 6n, Resolved: 7n };
const FINAL = new Set([State.Completed, State.Rejected, State.Expired, State.Resolved]);
const Fallback = { RefundPayer: 0n, PayPayees: 1n, SplitEvenly: 2n };

const ACCEPTANCE_TYPES = {
  Acceptance: [
    { name: "escrowId", type: "bytes32" }, { name: "index", type: "uint256" }, { name: "payee", type: "address" },
    { name: "token", type: "address" }, { name: "share", type: "uint256" }, { name: "arbiter", type: "address" },
    { name: "evaluator", type: "address" }, { name: "deadline", type: "uint64" }, { name: "maxFeeBps", type: "uint16" },
    { name: "fallbackRule", type: "uint8" }, { name: "termsHash", type: "bytes32" },
  ],
};

/** Outcomes per operation kind over the whole run, printed at the end (what the run exercised). */
const stats = new Map();
const count = (key) => stats.set(key, (stats.get(key) ?? 0) + 1);

async function invariantFixture() {
  const signers = await ethers.getSigners();
  const [admin, payerA, payerB, arbiter, evaluator, feeRecipient, stranger, feeManager, feeRecipient2, treasury] = signers;
  const payees = signers.slice(10, 10 + PAYEE_POOL);
  const token = await ethers.deployContract("BlocklistEscrowToken");
  const escrow = await ethers.deployContract("TaskEscrow",
    [admin.address, 2n * DAY, feeManager.address, feeRecipient.address, INITIAL_FEE_BPS]);
  for (const payer of [payerA, payerB]) {
    await token.mint(payer.address, PAYER_FUNDS);
    await token.connect(payer).approve(escrow.target, ethers.MaxUint256);
  }
  // The fee recipient is blocklisted by the token from the start: it can never receive a transfer.
  await token.setBlocked(feeRecipient.address, true);
  const { chainId } = await ethers.provider.getNetwork();
  const start = BigInt(await time.latest());
  return {
    admin, payers: [payerA, payerB], arbiter, evaluator, feeRecipient, feeRecipient2, treasury, stranger, feeManager,
    payees, token, escrow, start, chainId,
  };
}

/** The independent model: escrows by slot, token balances and fees owed by address, fee settings, the clock. */
class Model {
  constructor(f, arbiterPresent) {
    this.f = f;
    this.arbiterPresent = arbiterPresent;
    this.now = f.start;
    this.feeBps = INITIAL_FEE_BPS;
    this.feeRecipient = f.feeRecipient.address;
    this.escrows = new Map();
    this.balances = new Map();
    this.feesOwed = new Map();
    this.totals = { funded: 0n, releasedNet: 0n, refunded: 0n, feesClaimed: 0n };
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

  /** Pays `gross` to payee `i` of `e`: the payee gets it minus the fee, which accrues to e's fee recipient. */
  pay(e, i, gross) {
    if (gross === 0n) return;
    const fee = (gross * e.feeBps) / BPS;
    e.payees[i].released += gross;
    e.held -= gross;
    e.paidNet += gross - fee;
    e.fees += fee;
    this.totals.releasedNet += gross - fee;
    this.credit(e.payees[i].account, gross - fee);
    this.feesOwed.set(e.feeRecipient, (this.feesOwed.get(e.feeRecipient) ?? 0n) + fee);
  }

  refund(e, amount) {
    this.credit(e.payer.address, amount);
    e.refunded += amount;
    this.totals.refunded += amount;
  }

  /** The latest time by which a stranger alone can close `e`: deadline + grace + arbitration + 1. */
  static bound(e) {
    return e.deadline + GRACE + ARBITRATION + 1n;
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
const disputerArb = fc.constantFrom("payer", "payer", "payee", "payee", "evaluator", "stranger");
const refunderArb = fc.constantFrom("payer", "stranger", "stranger", "payee");

const createArb = fc.record({
  kind: fc.constant("create"),
  slot: slotArb,
  payees: fc.array(fc.nat(PAYEE_POOL - 1), { minLength: 1, maxLength: 4 }),
  shares: fc.array(shareArb, { minLength: 4, maxLength: 4 }),
  atomic: fc.constantFrom(false, false, true),
  deadlineOffset: fc.oneof({ weight: 1, arbitrary: fc.bigInt(5n, 600n) }, { weight: 3, arbitrary: fc.bigInt(DAY / 2n, 3n * DAY) }),
  maxFeeBps: fc.oneof(fc.constant(1_000), fc.integer({ min: 0, max: 1_000 })),
  fallbackRule: fc.constantFrom(Fallback.RefundPayer, Fallback.PayPayees, Fallback.SplitEvenly),
  selfArbiter: fc.constantFrom(false, false, false, false, false, true),
  // The fee manager's fee change mined in the same block just before the create, or none.
  frontRunBps: fc.option(fc.integer({ min: 0, max: 1_000 }), { freq: 3 }),
});

const acceptAllArb = fc.record({
  kind: fc.constant("acceptAll"), slot: slotArb, aim: fc.constant(true), how: fc.constantFrom("call", "signature"),
});

const opArb = fc.oneof(
  { weight: 2, arbitrary: createArb },
  { weight: 2, arbitrary: acceptAllArb },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("accept"), slot: slotArb, aim: aimArb, index: fc.nat(3),
      how: fc.constantFrom("call", "call", "signature", "signature", "forged", "replayed", "wrongCaller"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel"), slot: slotArb, aim: aimArb, role: fc.constantFrom("payer", "payer", "stranger") }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("release"), slot: slotArb, aim: aimArb, role: releaserArb, index: fc.nat(3), amount: amountArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("releaseAll"), slot: slotArb, aim: aimArb, role: releaserArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund"), slot: slotArb, aim: aimArb, role: refunderArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("dispute"), slot: slotArb, aim: aimArb, role: disputerArb, index: fc.nat(3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("resolve"),
      slot: slotArb,
      aim: aimArb,
      role: fc.constantFrom("arbiter", "arbiter", "arbiter", "payer"),
      weights: fc.array(fc.nat(10), { minLength: 5, maxLength: 5 }),
      skew: fc.constantFrom(0n, 0n, 0n, 1n, -1n),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("applyFallback"), slot: slotArb, aim: aimArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("claimFees"), who: fc.constantFrom("recipient", "recipient2"), to: fc.constantFrom("self", "treasury"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("setFee"), bps: fc.integer({ min: 0, max: 1_200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("setFeeRecipient"), which: fc.constantFrom(0, 1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance"),
      seconds: fc.oneof(fc.bigInt(1n, 120n), fc.bigInt(1n, 120n), fc.constant(DAY), fc.constant(ARBITRATION)),
    }),
  },
);

// Every sequence starts by creating escrows, so that later operations find something to act on.
const sequenceArb = fc
  .tuple(
    fc.boolean(),
    fc.array(createArb, { minLength: 2, maxLength: SLOTS }),
    fc.array(fc.constantFrom(true, true, true, false), { minLength: SLOTS, maxLength: SLOTS }),
    fc.array(opArb, { minLength: 1, maxLength: MAX_OPS, size: "max" }),
  )
  .map(([arbiterPresent, creates, accepted, ops]) => ({
    arbiterPresent,
    ops: [
      ...creates.map((create, slot) => ({ ...create, slot, selfArbiter: false, frontRunBps: null })),
      // Most escrows are accepted by all their payees right away, so that the rest of the
      // sequence finds funded escrows to release, dispute and resolve.
      ...creates.flatMap((_, slot) => (accepted[slot] ? [{ kind: "acceptAll", slot, aim: false, how: "call" }] : [])),
      ...ops,
    ],
  }));

const FITTING_STATE = {
  accept: [State.Open], acceptAll: [State.Open], cancel: [State.Open], release: [State.Funded], releaseAll: [State.Funded],
  refund: [State.Open, State.Funded], dispute: [State.Funded], resolve: [State.Disputed], applyFallback: [State.Disputed],
};

/**
 * Most operations aim at an escrow in a state that suits them (the slot then picks among those);
 * the rest keep their raw slot, which exercises the state checks.
 */
function target(model, op) {
  const wanted = FITTING_STATE[op.kind];
  if (wanted === undefined || !op.aim) return op;
  const fitting = [...model.escrows].filter(([, e]) => wanted.includes(e.state)).map(([slot]) => slot);
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

function signAcceptance(f, signer, escrowId, e, index, domainOverride = {}) {
  const p = e.payees[index];
  return signer.signTypedData(
    { name: "TaskEscrow", version: "1", chainId: f.chainId, verifyingContract: f.escrow.target, ...domainOverride },
    ACCEPTANCE_TYPES,
    {
      escrowId, index, payee: p.account, token: f.token.target, share: p.share, arbiter: e.arbiter, evaluator: f.evaluator.address,
      deadline: e.deadline, maxFeeBps: e.maxFeeBps, fallbackRule: e.fallbackRule, termsHash: e.termsHash,
    });
}

/** The payees' gross payouts that `rule` gives for `e`. */
function fallbackPayouts(e) {
  return e.payees.map((p) => {
    const remaining = p.share - p.released;
    if (e.fallbackRule === Fallback.PayPayees) return remaining;
    if (e.fallbackRule === Fallback.SplitEvenly) return remaining / 2n;
    return 0n;
  });
}

/**
 * Plans `op` against the model: returns { error, errorOf?, call } if the contract must revert
 * (`call()` submits the failing transaction), or { send, apply } if it must succeed: send()
 * submits it, apply() updates the model once it is mined. `model.now` is the block's timestamp.
 */
function plan(model, op) {
  const f = model.f;
  const { escrow } = f;
  if (op.kind === "setFee") {
    const send = () => escrow.connect(f.feeManager).setFeeBps(op.bps);
    if (BigInt(op.bps) > MAX_FEE_BPS) return { error: "EscrowFeeTooHigh", call: send };
    return { send, apply: () => { model.feeBps = BigInt(op.bps); } };
  }
  if (op.kind === "setFeeRecipient") {
    const next = [f.feeRecipient, f.feeRecipient2][op.which].address;
    return { send: () => escrow.connect(f.feeManager).setFeeRecipient(next), apply: () => { model.feeRecipient = next; } };
  }
  if (op.kind === "claimFees") {
    const who = op.who === "recipient" ? f.feeRecipient : f.feeRecipient2;
    const to = op.to === "self" ? who : f.treasury;
    const call = () => escrow.connect(who).claimFees(f.token.target, to.address);
    const owed = model.feesOwed.get(who.address) ?? 0n;
    if (owed === 0n) return { error: "EscrowNothingToClaim", call };
    // The blocklisted fee recipient cannot receive its fees itself, but can send them elsewhere.
    if (to.address === f.feeRecipient.address) return { error: "BlocklistEscrowTokenBlocked", errorOf: f.token, call };
    return {
      send: call,
      apply: () => {
        model.feesOwed.set(who.address, 0n);
        model.credit(to.address, owed);
        model.totals.feesClaimed += owed;
      },
    };
  }
  const e = model.escrows.get(op.slot);
  const state = e ? e.state : State.None;
  const escrowId = id(f, op.slot);
  const invalidState = (call) => ({ error: "EscrowInvalidState", call });

  if (op.kind === "create") {
    const payer = payerOf(f, op.slot);
    const payees = op.payees.map((p, i) => ({
      signer: f.payees[p], account: f.payees[p].address, share: op.shares[i], released: 0n, accepted: false,
    }));
    const funded = payees.reduce((sum, p) => sum + p.share, 0n);
    const deadline = model.now + op.deadlineOffset;
    const arbiter = op.selfArbiter ? payer.address : f.arbiter.address;
    const terms = {
      token: f.token.target,
      payees: payees.map((p) => p.account),
      shares: payees.map((p) => p.share),
      arbiter,
      evaluator: f.evaluator.address,
      deadline,
      maxFeeBps: op.maxFeeBps,
      fallbackRule: op.fallbackRule,
      atomic: op.atomic,
      termsHash: ethers.id(`terms:${op.slot}`),
    };
    const fee = op.frontRunBps === null ? model.feeBps : BigInt(op.frontRunBps);
    let error = null;
    if (e) error = "EscrowAlreadyExists";
    else if (op.selfArbiter) error = "EscrowInvalidArbiter";
    else if (fee > BigInt(op.maxFeeBps)) error = "EscrowFeeAboveMax";
    const create = (overrides = {}) => escrow.connect(payer).create(taskOf(op.slot), terms, overrides);
    const record = () => {
      model.debit(payer.address, funded);
      model.totals.funded += funded;
      model.escrows.set(op.slot, {
        payer, payees, funded, held: funded, paidNet: 0n, fees: 0n, refunded: 0n, feeBps: fee,
        feeRecipient: model.feeRecipient, maxFeeBps: BigInt(op.maxFeeBps), fallbackRule: op.fallbackRule, arbiter,
        deadline, atomic: op.atomic, state: State.Open, arbitrationDeadline: 0n, termsHash: terms.termsHash,
      });
    };
    if (op.frontRunBps !== null) return { frontRun: { bps: op.frontRunBps, create, succeeds: error === null, error }, apply: record };
    if (error) return { error, call: create };
    return { send: create, apply: record };
  }

  if (op.kind === "accept") {
    const payee = e ? e.payees[op.index % e.payees.length] : null;
    const index = e ? op.index % e.payees.length : op.index;
    const caller = op.how === "wrongCaller" ? f.stranger : payee ? payee.signer : f.payees[0];
    const byCall = op.how === "call" || op.how === "wrongCaller";
    let call;
    if (byCall) {
      call = () => escrow.connect(caller).accept(escrowId, index);
    } else {
      call = async () => {
        let signature;
        if (!e) signature = await f.stranger.signMessage("no escrow");
        else if (op.how === "forged") signature = await signAcceptance(f, f.stranger, escrowId, e, index);
        // A replay: the payee's acceptance signed for another chain.
        else if (op.how === "replayed") signature = await signAcceptance(f, payee.signer, escrowId, e, index, { chainId: 1n });
        else signature = await signAcceptance(f, payee.signer, escrowId, e, index);
        return escrow.connect(f.stranger).acceptWithSignature(escrowId, index, signature);
      };
    }
    if (state !== State.Open) return invalidState(call);
    if (model.now > e.deadline) return { error: "EscrowDeadlinePassed", call };
    if (payee.accepted) return { error: "EscrowAlreadyAccepted", call };
    if (op.how === "wrongCaller") return { error: "EscrowUnauthorized", call };
    if (op.how === "forged" || op.how === "replayed") return { error: "EscrowInvalidSignature", call };
    return {
      send: call,
      apply: () => {
        payee.accepted = true;
        if (e.payees.every((p) => p.accepted)) e.state = State.Funded;
      },
    };
  }

  if (op.kind === "cancel") {
    const caller = actor(f, e, op.role);
    const call = () => escrow.connect(caller).cancel(escrowId);
    if (state !== State.Open) return invalidState(call);
    if (caller.address !== e.payer.address) return { error: "EscrowUnauthorized", call };
    if (e.payees.some((p) => p.accepted)) return { error: "EscrowAccepted", call };
    return { send: call, apply: () => { model.refund(e, e.held); e.held = 0n; e.state = State.Rejected; } };
  }

  if (op.kind === "release") {
    const caller = actor(f, e, op.role);
    const payee = e && op.index < e.payees.length ? e.payees[op.index] : null;
    const remaining = payee ? payee.share - payee.released : 0n;
    const amount = op.amount === "rest" ? remaining : op.amount === "half" ? remaining / 2n : op.amount;
    const call = () => escrow.connect(caller).release(escrowId, op.index, amount === 0n && !payee ? 1n : amount);
    if (state !== State.Funded) return invalidState(call);
    if (caller.address !== e.payer.address && caller.address !== f.evaluator.address) return { error: "EscrowUnauthorized", call };
    if (e.atomic) return { error: "EscrowAtomicOnly", call };
    if (!payee) return { error: "EscrowInvalidPayee", call };
    if (amount === 0n) return { error: "EscrowZeroAmount", call };
    if (amount > remaining) return { error: "EscrowExceedsShare", call };
    return {
      send: call,
      apply: () => {
        model.pay(e, op.index, amount);
        if (e.held === 0n) e.state = State.Completed;
      },
    };
  }

  if (op.kind === "releaseAll") {
    const caller = actor(f, e, op.role);
    const call = () => escrow.connect(caller).releaseAll(escrowId);
    if (state !== State.Funded) return invalidState(call);
    if (caller.address !== e.payer.address && caller.address !== f.evaluator.address) return { error: "EscrowUnauthorized", call };
    return {
      send: call,
      apply: () => {
        e.payees.forEach((p, i) => model.pay(e, i, p.share - p.released));
        e.state = State.Completed;
      },
    };
  }

  if (op.kind === "refund") {
    const caller = actor(f, e, op.role);
    const call = () => escrow.connect(caller).refund(escrowId);
    if (state !== State.Open && state !== State.Funded) return invalidState(call);
    if (model.now <= e.deadline) return { error: "EscrowDeadlineNotReached", call };
    if (caller.address !== e.payer.address && model.now <= e.deadline + GRACE) return { error: "EscrowInGracePeriod", call };
    return { send: call, apply: () => { model.refund(e, e.held); e.held = 0n; e.state = State.Expired; } };
  }

  if (op.kind === "dispute") {
    const caller = actor(f, e, op.role, op.index);
    const call = () => escrow.connect(caller).dispute(escrowId);
    if (state !== State.Funded) return invalidState(call);
    const isPayee = e.payees.some((p) => p.account === caller.address);
    if (caller.address !== e.payer.address && !isPayee) return { error: "EscrowUnauthorized", call };
    if (model.now > e.deadline + GRACE) return { error: "EscrowDisputeClosed", call };
    return {
      send: call,
      apply: () => { e.state = State.Disputed; e.arbitrationDeadline = model.now + ARBITRATION; },
    };
  }

  if (op.kind === "resolve") {
    const caller = actor(f, e, op.role);
    // A split proportional to the weights, capped at each remaining share; the payer gets the rest.
    const payees = e ? e.payees : [];
    const held = e ? e.held : 0n;
    const totalWeight = BigInt(op.weights.reduce((a, b) => a + b, 0)) || 1n;
    const amounts = payees.map((p, i) => {
      const remaining = p.share - p.released;
      const wanted = (held * BigInt(op.weights[i])) / totalWeight;
      return wanted < remaining ? wanted : remaining;
    });
    const toPayees = amounts.reduce((a, b) => a + b, 0n);
    let payerAmount = held - toPayees + op.skew;
    if (payerAmount < 0n) payerAmount = 1n; // a skew below zero becomes an over-allocation instead
    const call = () => escrow.connect(caller).resolve(escrowId, amounts, payerAmount);
    if (state !== State.Disputed) return invalidState(call);
    if (caller.address !== f.arbiter.address) return { error: "EscrowUnauthorized", call };
    if (model.now > e.arbitrationDeadline) return { error: "EscrowArbitrationClosed", call };
    if (payerAmount !== held - toPayees) return { error: "EscrowInvalidSplit", call };
    return {
      send: call,
      apply: () => {
        amounts.forEach((amount, i) => model.pay(e, i, amount));
        model.refund(e, payerAmount);
        e.held = 0n;
        e.state = State.Resolved;
      },
    };
  }

  if (op.kind === "applyFallback") {
    const call = () => escrow.connect(f.stranger).applyFallback(escrowId);
    if (state !== State.Disputed) return invalidState(call);
    if (model.now <= e.arbitrationDeadline) return { error: "EscrowArbitrationOpen", call };
    return {
      send: call,
      apply: () => {
        fallbackPayouts(e).forEach((amount, i) => model.pay(e, i, amount));
        model.refund(e, e.held);
        e.held = 0n;
        e.state = State.Resolved;
      },
    };
  }

  throw new Error(`unknown op ${op.kind}`);
}

/** The fee manager's fee change and the payer's create in one block, the fee change first. */
async function frontRun(model, planned) {
  const f = model.f;
  const { bps, create, succeeds } = planned.frontRun;
  await network.provider.send("evm_setAutomine", [false]);
  let sent;
  try {
    const feeTx = await f.escrow.connect(f.feeManager).setFeeBps(bps, { gasLimit: 200_000 });
    // Explicit gas limits: nothing is estimated against the pending block.
    const createTx = await create({ gasLimit: 3_000_000 });
    sent = [feeTx, createTx];
  } catch (error) {
    await network.provider.send("evm_setAutomine", [true]);
    throw error;
  }
  await time.setNextBlockTimestamp(model.now);
  await network.provider.send("evm_mine");
  await network.provider.send("evm_setAutomine", [true]);
  const [feeReceipt, createReceipt] = await Promise.all(sent.map((tx) => ethers.provider.getTransactionReceipt(tx.hash)));
  expect(feeReceipt.status, "front-running fee change").to.equal(1);
  expect(createReceipt.blockNumber).to.equal(feeReceipt.blockNumber);
  expect(createReceipt.index).to.be.greaterThan(feeReceipt.index);
  model.feeBps = BigInt(bps);
  expect(createReceipt.status, `create behind a fee change to ${bps} bp`).to.equal(succeeds ? 1 : 0);
  if (succeeds) planned.apply();
}

async function checkInvariants(model) {
  const { escrow, token, stranger } = model.f;
  let heldTotal = 0n;
  for (const [slot, e] of model.escrows) {
    const escrowId = id(model.f, slot);
    expect(e.funded, `slot ${slot}: funded == paid + fees + refunded + held`)
      .to.equal(e.paidNet + e.fees + e.refunded + e.held);
    const info = await escrow.getEscrow(escrowId);
    expect(info.state, `slot ${slot} state`).to.equal(e.state);
    expect(info.payer, `slot ${slot} payer`).to.equal(e.payer.address);
    expect(info.held, `slot ${slot} held`).to.equal(e.held);
    expect(info.amount, `slot ${slot} amount`).to.equal(e.funded);
    expect(info.feeBps, `slot ${slot} fee`).to.equal(e.feeBps);
    expect(info.feeRecipient, `slot ${slot} fee recipient`).to.equal(e.feeRecipient);
    const [, , released, accepted] = await escrow.getPayees(escrowId);
    expect(released, `slot ${slot} released`).to.deep.equal(e.payees.map((p) => p.released));
    expect(accepted, `slot ${slot} accepted`).to.deep.equal(e.payees.map((p) => p.accepted));
    heldTotal += e.held;
    // Liveness: past its bound, a stranger alone closes any escrow that is still open.
    if (!FINAL.has(e.state) && model.now >= Model.bound(e)) {
      const exit = e.state === State.Disputed ? escrow.connect(stranger).applyFallback : escrow.connect(stranger).refund;
      await exit.staticCall(escrowId);
    }
  }
  let owedTotal = 0n;
  for (const [recipient, owed] of model.feesOwed) {
    expect(await escrow.feesOwed(token.target, recipient), `fees owed to ${recipient}`).to.equal(owed);
    owedTotal += owed;
  }
  expect(await token.balanceOf(escrow.target), "contract balance == sum of held + fees owed").to.equal(heldTotal + owedTotal);
  const t = model.totals;
  expect(t.funded, "funded == released + refunded + fees claimed + fees owed + held")
    .to.equal(t.releasedNet + t.refunded + t.feesClaimed + owedTotal + heldTotal);
  for (const [account, balance] of model.balances) {
    expect(await token.balanceOf(account), `balance of ${account}`).to.equal(balance);
  }
}

/**
 * Liveness at the end of a sequence: every escrow still open is closed by a stranger alone at
 * its bound (deadline + grace + arbitration + 1) at the latest, without the arbiter, the payer or
 * a payee acting; then every fee owed is claimed to the treasury and the contract holds nothing.
 */
async function drain(model) {
  const f = model.f;
  const open = [...model.escrows].filter(([, e]) => !FINAL.has(e.state)).sort(([, a], [, b]) =>
    (Model.bound(a) < Model.bound(b) ? -1 : Model.bound(a) > Model.bound(b) ? 1 : 0));
  for (const [slot, e] of open) {
    const bound = Model.bound(e);
    model.now = model.now + 1n > bound ? model.now + 1n : bound;
    await time.setNextBlockTimestamp(model.now);
    const exit = e.state === State.Disputed ? "applyFallback" : "refund";
    const planned = plan(model, { kind: exit, slot, role: "stranger" });
    expect(planned.error, `slot ${slot} must close at its bound`).to.equal(undefined);
    await (await planned.send()).wait();
    planned.apply();
    count(`drain: stranger's ${exit} at the bound:ok`);
    await checkInvariants(model);
  }
  for (const who of [f.feeRecipient, f.feeRecipient2]) {
    model.now += 1n;
    await time.setNextBlockTimestamp(model.now);
    const planned = plan(model, { kind: "claimFees", who: who === f.feeRecipient ? "recipient" : "recipient2", to: "treasury" });
    if (planned.error) continue;
    await (await planned.send()).wait();
    planned.apply();
  }
  await checkInvariants(model);
  expect(await f.token.balanceOf(f.escrow.target), "drained contract").to.equal(0n);
}

async function runSequence({ arbiterPresent, ops }) {
  const f = await loadFixture(invariantFixture);
  const model = new Model(f, arbiterPresent);
  const queue = [...ops];
  while (queue.length > 0) {
    const op = target(model, queue.shift());
    if (op.kind === "acceptAll") {
      // Every payee of the escrow accepts, one transaction each.
      const e = model.escrows.get(op.slot);
      const accepts = (e ? e.payees : [null]).map((_, index) => ({ kind: "accept", slot: op.slot, aim: false, index, how: op.how }));
      queue.unshift(...accepts);
      continue;
    }
    if (op.kind === "advance") {
      model.now += op.seconds;
      await time.increaseTo(model.now);
      continue;
    }
    if (op.kind === "resolve" && !model.arbiterPresent) continue; // the arbiter is absent
    model.now += 1n; // the block this operation lands in
    const planned = plan(model, op);
    if (planned.frontRun) {
      count(`create behind a fee change:${planned.frontRun.succeeds ? "ok" : planned.frontRun.error}`);
      await frontRun(model, planned);
    } else {
      count(`${op.kind}${op.how ? `(${op.how})` : ""}:${planned.error ?? "ok"}`);
      await time.setNextBlockTimestamp(model.now);
      if (planned.error) {
        await expect(planned.call(), `${op.kind} must fail with ${planned.error}`)
          .to.be.revertedWithCustomError(planned.errorOf ?? f.escrow, planned.error);
      } else {
        await (await planned.send()).wait();
        planned.apply();
      }
    }
    await checkInvariants(model);
  }
  await drain(model);
}

describe("TaskEscrow invariants (randomized, adversarial)", function () {
  this.timeout(BUDGET_MS + 120_000);

  it("keeps the books exact and every escrow closable by a stranger within its bound", async function () {
    console.log(`      TaskEscrow invariants: FC_SEED=${SEED} FC_RUNS=${NUM_RUNS} budget ${BUDGET_MS} ms` +
      `${LARGE ? " (large profile)" : ""}`);
    const started = Date.now();
    let runs = 0;
    const property = fc.asyncProperty(sequenceArb, async (sequence) => {
      runs += 1;
      await runSequence(sequence);
    });
    try {
      await fc.assert(property, {
        seed: SEED,
        numRuns: NUM_RUNS,
        endOnFailure: !process.env.FC_SHRINK,
        interruptAfterTimeLimit: BUDGET_MS,
        markInterruptAsFailure: false,
      });
    } catch (error) {
      console.error(`TaskEscrow invariants failed: replay with FC_SEED=${SEED} (FC_SHRINK=1 to shrink)`);
      throw error;
    }
    console.log(`      ${runs} sequences in ${Date.now() - started} ms; outcomes:`,
      Object.fromEntries([...stats].sort(([a], [b]) => a.localeCompare(b))));
  });
});
