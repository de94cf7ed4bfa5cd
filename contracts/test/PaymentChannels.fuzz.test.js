// Adversarial randomized sequences against PaymentChannels. Actors: three EOAs whose code may
// change at any time (hardhat_setCode with an EIP-7702 delegation, or cleared) and a smart wallet
// that signs with a fixed EOA key and rotates its owner. Malicious moves: dust deposits at any
// time, replacement withdrawals submitted in any order, closes with an old proof or none,
// equivocated proofs (a later nonce with a smaller total), proofs signed by the wrong key, and a
// token that blocklists participants at any time (payouts it refuses stay claimable).
//
// Expected values come from an independent model of what each side has paid off-chain (not from
// the contract's rules). After every step: every wallet's balance and the contract's balance
// (== sum over channels of deposits - withdrawals - payouts paid or claimed) match the model; at each settlement
// every participant gets exactly deposit - withdrawn - sent + received from its own newest view,
// i.e. never less than the counterparty's newest proof gives it. A monitoring service (the
// relayer) submits both sides' newest proofs before any challenge period can end.
//
// Seeds are random per run and printed on failure; FC_SEED=<n> replays one. CI runs for a fixed
// time budget (FC_TIME_MS, default 20 s, at most FC_RUNS runs, default 200); FC_PROFILE=long runs
// 2,000 sequences of up to 80 steps with a 30 minute budget.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const fc = require("fast-check");
const { State, MIN_PERIOD, MAX, TYPES, openedId, deployChannels } = require("./PaymentChannels.helpers.js");

const LONG = process.env.FC_PROFILE === "long";
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FC_RUNS || (LONG ? 2_000 : 200));
const TIME_MS = Number(process.env.FC_TIME_MS || (LONG ? 30 * 60_000 : 20_000));
const MAX_STEPS = LONG ? 80 : 30;
const PERIOD = MIN_PERIOD;
const START = 1_000_000n;

const amount = fc.bigInt({ min: 0n, max: 3_000n });
const dust = fc.bigInt({ min: 1n, max: 3n });
const pick = fc.nat({ max: 1_000 });
const side = fc.nat({ max: 1 });
const op = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("open"), who: fc.nat({ max: 3 }), off: fc.integer({ min: 1, max: 3 }), amount, accept: fc.option(amount) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("accept"), ch: pick, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("deposit"), ch: pick, side, amount: fc.oneof(dust, amount) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("pay"), ch: pick, side, amount }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("equivocate"), ch: pick, side, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("withdraw"), ch: pick, side, amount, amount2: amount, swap: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cooperativeClose"), ch: pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("close"), ch: pick, side, mode: fc.nat({ max: 2 }), proof: pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("attackUpdate"), ch: pick, side, proof: pick, wrongKey: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("monitor"), ch: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("codeChange"), who: fc.nat({ max: 2 }), clear: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rotate") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance"), seconds: fc.bigInt({ min: 1n, max: 2n * PERIOD }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("settle"), ch: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("blocklist"), who: fc.nat({ max: 3 }), mode: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("claim"), ch: pick, side }) }
);

describe("PaymentChannels (adversarial randomized sequences)", function () {
  this.timeout(TIME_MS + 120_000);

  // The sequences give the dev accounts code (EIP-7702 delegations); later test files sign with
  // the same accounts as plain EOAs, so the chain goes back to its state before this suite.
  let cleanState;
  before(async function () {
    cleanState = await network.provider.send("evm_snapshot", []);
  });
  after(async function () {
    await network.provider.send("evm_revert", [cleanState]);
  });

  async function fixture() {
    const [, alice, bob, carol, relayer, dave, erin] = await ethers.getSigners();
    const token = await ethers.deployContract("HostileToken"); // can blocklist recipients
    const channels = await deployChannels(PERIOD);
    const channelsAddress = await channels.getAddress();
    const delegate = await ethers.deployContract("TestToken", ["No 1271", "NO", 6]);
    const wallet = await ethers.deployContract("ChannelSmartWallet", [dave.address]);
    const walletAddress = await wallet.getAddress();
    for (const p of [alice, bob, carol]) {
      await token.mint(p.address, START);
      await token.connect(p).approve(channelsAddress, MAX);
    }
    await token.mint(walletAddress, START);
    await wallet.connect(dave).execute(await token.getAddress(), token.interface.encodeFunctionData("approve", [channelsAddress, MAX]));
    return { token, channels, alice, bob, carol, relayer, dave, erin, wallet, walletAddress, delegate };
  }

  it("pays every participant what its newest view says, whatever the counterparty does", async function () {
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 8, maxLength: MAX_STEPS, size: "max" }), async (ops) => {
          const f = await loadFixture(fixture);
          await runSequence(f, ops);
        }),
        { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_MS, markInterruptAsFailure: false }
      );
    } catch (e) {
      console.error(`PaymentChannels fuzz failed; replay with FC_SEED=${SEED}`);
      throw e;
    }
  });
});

async function attempt(promise) {
  try {
    await (await promise).wait();
    return true;
  } catch (e) {
    if (!/revert|VM Exception/i.test(String(e.message))) throw e;
    return false;
  }
}

const STATS = {};
after(() => process.env.FC_STATS && console.log(STATS));
async function runSequence(f, ops) {
  STATS.runs = (STATS.runs || 0) + 1;
  const { token, channels, relayer, wallet, walletAddress, delegate } = f;
  const address = await channels.getAddress();
  const domain = { name: "PaymentChannels", version: "1", chainId: 31337n, verifyingContract: address };
  const signTyped = (signer, type, value) => signer.signTypedData(domain, { [type]: TYPES[type] }, value);
  const owners = [f.dave, f.erin];
  let owner = 0;
  // people: three EOAs and the wallet (which signs with dave's key, fixed when it enters a channel)
  const people = [
    ...[f.alice, f.bob, f.carol].map((s) => ({ address: s.address, key: s, send: (fn, args) => channels.connect(s)[fn](...args) })),
    {
      address: walletAddress,
      key: f.dave,
      send: (fn, args) => wallet.connect(owners[owner]).execute(address, channels.interface.encodeFunctionData(fn, args)),
    },
  ];
  const keyArg = (i) => (i === 3 ? f.dave.address : ethers.ZeroAddress);
  const wallets = people.map(() => START);
  const blocked = people.map(() => 0); // HostileToken.FailMode: 0 none, 1 revert, 2 return false
  let relayerBalance = 0n; // where blocklisted participants claim to
  const model = [];

  const sideOf = (c, s) => (s === 0 ? c.a : c.b);
  const available = (c, s) => c.d[s] - c.w[s] - c.sent[s] + c.sent[1 - s];
  const held = (c) => c.d[0] + c.d[1] - c.w[0] - c.w[1] - c.paid[0] - c.paid[1] - c.claimed[0] - c.claimed[1];
  const signProof = (c, s, nonce, transferred, key = people[sideOf(c, s)].key) =>
    signTyped(key, "BalanceProof", { channelId: c.id, nonce, transferred });

  /** The monitoring service submits each side's newest proof that the chain does not have yet. */
  async function defend(c) {
    if (c.state !== State.Closing) return;
    const onChain = await channels.getChannel(c.id);
    for (const s of [0, 1]) {
      const stored = s === 0 ? onChain.a.transferred : onChain.b.transferred;
      const newest = c.proofs[s][c.proofs[s].length - 1];
      if (newest && newest.transferred > stored) {
        await (await channels.connect(relayer).updateBalanceProof(c.id, people[sideOf(c, s)].address, newest.nonce, newest.transferred, newest.sig)).wait();
      }
    }
  }

  /** Settlement: a payout the token refuses (blocklisted recipient) stays unclaimed. */
  function pay(c, payouts) {
    for (const s of [0, 1]) {
      if (blocked[sideOf(c, s)] !== 0) {
        c.unclaimed[s] += payouts[s];
      } else {
        wallets[sideOf(c, s)] += payouts[s];
        c.paid[s] += payouts[s];
      }
    }
    c.state = State.Settled;
  }

  for (const o of ops) {
    // mostly channels that are not settled yet, sometimes any (to try moves on settled ones)
    const live = model.filter((m) => m.state !== State.Settled);
    const among = live.length > 0 && o.ch % 8 !== 0 ? live : model;
    const c = o.ch === undefined || among.length === 0 ? undefined : among[o.ch % among.length];
    if (o.ch !== undefined && c === undefined) continue;
    await step(o, c);
    await checkInvariants();
    STATS[o.kind] = (STATS[o.kind] || 0) + 1;
  }

  async function step(o, c) {
    switch (o.kind) {
      case "open": {
        if (model.filter((m) => m.state !== State.Settled).length >= 3) break; // few channels, so that each sees many steps
        const a = o.who;
        const b = (o.who + o.off) % people.length;
        const tx = await people[a].send("open", [people[b].address, await token.getAddress(), keyArg(a), o.amount, PERIOD]);
        const id = openedId(channels, await tx.wait());
        wallets[a] -= o.amount;
        model.push({ id, a, b, state: State.Pending, d: [o.amount, 0n], w: [0n, 0n], sent: [0n, 0n], nonce: [0n, 0n],
          proofs: [[], []], equivocations: [[], []], paid: [0n, 0n], unclaimed: [0n, 0n], claimed: [0n, 0n], closesAt: 0n });
        if (o.accept !== null) {
          await (await people[b].send("accept", [id, keyArg(b), o.accept])).wait();
          Object.assign(model[model.length - 1], { state: State.Open, d: [o.amount, o.accept] });
          wallets[b] -= o.accept;
        }
        break;
      }
      case "accept": {
        const ok = await attempt(people[c.b].send("accept", [c.id, keyArg(c.b), o.amount]));
        expect(ok).to.equal(c.state === State.Pending);
        if (ok) {
          c.state = State.Open;
          c.d[1] += o.amount;
          wallets[c.b] -= o.amount;
        }
        break;
      }
      case "deposit": {
        const who = sideOf(c, o.side);
        const value = o.amount === 0n ? 1n : o.amount;
        const ok = await attempt(people[who].send("deposit", [c.id, value]));
        expect(ok).to.equal(c.state === State.Open || (c.state === State.Pending && o.side === 0));
        if (ok) {
          c.d[o.side] += value;
          wallets[who] -= value;
        }
        break;
      }
      case "pay": {
        if (c.state !== State.Open) break;
        const value = o.amount % (available(c, o.side) + 1n);
        if (value === 0n) break;
        c.nonce[o.side] += 1n;
        c.sent[o.side] += value;
        const proof = { nonce: c.nonce[o.side], transferred: c.sent[o.side] };
        c.proofs[o.side].push({ ...proof, sig: await signProof(c, o.side, proof.nonce, proof.transferred) });
        break;
      }
      case "equivocate": {
        // the sender signs a later nonce with a smaller total and keeps it for an attack
        if (c.state === State.Settled || c.sent[o.side] === 0n) break;
        c.nonce[o.side] += 1n;
        const lower = o.amount % c.sent[o.side];
        c.equivocations[o.side].push({ nonce: c.nonce[o.side], transferred: lower, sig: await signProof(c, o.side, c.nonce[o.side], lower) });
        break;
      }
      case "withdraw": {
        // both sign a total and a replacement total; the submitter sends both, in either order
        const open = c.state === State.Open;
        const room = open ? available(c, o.side) : 0n;
        const totals = [c.w[o.side] + (o.amount % (room + 1n)), c.w[o.side] + (o.amount2 % (room + 1n))];
        if (o.swap) totals.reverse();
        const participant = people[sideOf(c, o.side)].address;
        for (const total of totals) {
          const value = { channelId: c.id, participant, totalWithdrawn: total, expiry: MAX };
          const sigA = await signTyped(people[c.a].key, "Withdrawal", value);
          const sigB = await signTyped(people[c.b].key, "Withdrawal", value);
          const ok = await attempt(channels.connect(relayer).withdraw(c.id, participant, total, MAX, sigA, sigB));
          // a withdrawal pays at once, so a blocklisted participant's withdrawal reverts
          expect(ok).to.equal(open && total > c.w[o.side] && blocked[sideOf(c, o.side)] === 0);
          if (ok) {
            wallets[sideOf(c, o.side)] += total - c.w[o.side];
            c.w[o.side] = total;
          }
        }
        break;
      }
      case "cooperativeClose": {
        const totals = [c.w[0] + available(c, 0), c.w[1] + available(c, 1)];
        const value = { channelId: c.id, totalWithdrawnA: totals[0], totalWithdrawnB: totals[1], expiry: MAX };
        const sigA = await signTyped(people[c.a].key, "CooperativeClose", value);
        const sigB = await signTyped(people[c.b].key, "CooperativeClose", value);
        const ok = await attempt(channels.connect(relayer).cooperativeClose(c.id, totals[0], totals[1], MAX, sigA, sigB));
        expect(ok).to.equal(c.state === State.Open);
        if (ok) pay(c, [available(c, 0), available(c, 1)]);
        break;
      }
      case "close": {
        const other = 1 - o.side;
        const list = c.proofs[other];
        let proof = { nonce: 0n, transferred: 0n, sig: "0x" };
        if (o.mode === 0 && list.length > 0) proof = list[list.length - 1];
        if (o.mode === 1 && list.length > 0) proof = list[o.proof % list.length];
        const wasPending = c.state === State.Pending;
        const ok = await attempt(people[sideOf(c, o.side)].send("close", [c.id, proof.nonce, proof.transferred, proof.sig]));
        expect(ok).to.equal(c.state === State.Open || wasPending);
        if (ok && wasPending) {
          pay(c, [c.d[0], 0n]);
        } else if (ok) {
          c.state = State.Closing;
          c.closesAt = (await channels.getChannel(c.id)).closesAt;
          // a malicious closer at once signs and submits an equivocation: its highest nonce yet,
          // with a smaller total than it really sent
          const own = c.equivocations[o.side];
          if (o.mode !== 0 && c.sent[o.side] > 0n) {
            c.nonce[o.side] += 1n;
            const lower = BigInt(o.proof) % c.sent[o.side];
            own.push({ nonce: c.nonce[o.side], transferred: lower, sig: await signProof(c, o.side, c.nonce[o.side], lower) });
          }
          if (o.mode !== 0 && own.length > 0) {
            const e = own[own.length - 1];
            const stored = await attempt(people[sideOf(c, o.side)].send("updateBalanceProof", [c.id, people[sideOf(c, o.side)].address, e.nonce, e.transferred, e.sig]));
            if (stored) STATS.attackStored = (STATS.attackStored || 0) + 1;
          }
        }
        break;
      }
      case "attackUpdate": {
        // an older proof, an equivocation or a wrong key's signature: may be stored only if it
        // raises the total, and the monitor's newest proof still wins (checked at settlement)
        const pool = [...c.proofs[o.side], ...c.equivocations[o.side]];
        if (pool.length === 0) break;
        const p = pool[o.proof % pool.length];
        const sig = o.wrongKey ? await signProof(c, o.side, p.nonce, p.transferred, owners[1 - owner]) : p.sig;
        const participant = people[sideOf(c, o.side)].address;
        const ok = await attempt(channels.connect(relayer).updateBalanceProof(c.id, participant, p.nonce, p.transferred, sig));
        if (ok) STATS.attackStored = (STATS.attackStored || 0) + 1;
        if (o.wrongKey && people[sideOf(c, o.side)].key !== owners[1 - owner]) expect(ok).to.equal(false);
        if (c.state !== State.Closing) expect(ok).to.equal(false);
        break;
      }
      case "monitor":
        await defend(c);
        break;
      case "codeChange": {
        const code = o.clear ? "0x" : "0xef0100" + (await delegate.getAddress()).slice(2);
        await network.provider.send("hardhat_setCode", [people[o.who].address, code]);
        break;
      }
      case "rotate":
        await (await wallet.connect(owners[owner]).setOwner(owners[1 - owner].address)).wait();
        owner = 1 - owner;
        break;
      case "blocklist":
        await (await token.setFailMode(people[o.who].address, o.mode)).wait();
        blocked[o.who] = o.mode;
        break;
      case "claim": {
        // a blocklisted participant claims to the relayer's address, others to themselves
        const who = sideOf(c, o.side);
        const to = blocked[who] === 0 ? people[who].address : relayer.address;
        const ok = await attempt(people[who].send("claim", [c.id, to]));
        expect(ok).to.equal(c.state === State.Settled && c.unclaimed[o.side] > 0n);
        if (ok) {
          if (to === relayer.address) relayerBalance += c.unclaimed[o.side];
          else wallets[who] += c.unclaimed[o.side];
          c.claimed[o.side] += c.unclaimed[o.side];
          c.unclaimed[o.side] = 0n;
        }
        break;
      }
      case "advance":
        for (const m of model) await defend(m);
        await time.increase(o.seconds);
        break;
      case "settle": {
        const now = BigInt(await time.latest()) + 1n;
        await time.setNextBlockTimestamp(now);
        const ok = await attempt(channels.connect(relayer).settle(c.id));
        expect(ok).to.equal(c.state === State.Closing && now >= c.closesAt);
        if (ok && (c.sent[0] > 0n || c.sent[1] > 0n)) STATS.settledPaid = (STATS.settledPaid || 0) + 1;
        if (ok) {
          // independent expectation: each side's newest view, clamped as Raiden does
          const funds = c.d[0] + c.d[1] - c.w[0] - c.w[1];
          const clamp = (x) => (x < 0n ? 0n : x > funds ? funds : x);
          const payoutA = clamp(available(c, 0));
          pay(c, [payoutA, funds - payoutA]);
        }
        break;
      }
      default:
        throw new Error(`unknown operation ${o.kind}`);
    }
  }
  // finale: every channel still open is closed by A without a proof (the worst close for B),
  // the monitor defends, the period passes and everything settles
  const finale = [];
  for (let ch = 0; ch < model.length; ch++) {
    if (model[ch].state === State.Open || model[ch].state === State.Pending) finale.push({ kind: "close", ch, side: 0, mode: 2, proof: 0 });
  }
  finale.push({ kind: "advance", seconds: PERIOD });
  for (let ch = 0; ch < model.length; ch++) finale.push({ kind: "settle", ch, final: true });
  for (const o of finale) {
    const c = model[o.ch];
    if (o.kind === "settle" && c.state !== State.Closing) continue;
    await step(o, c);
    await checkInvariants();
  }
  for (const c of model) expect(c.state).to.equal(State.Settled);
  // everything refused is still claimable
  for (let ch = 0; ch < model.length; ch++) {
    for (const s of [0, 1]) {
      if (model[ch].unclaimed[s] > 0n) {
        await step({ kind: "claim", ch, side: s }, model[ch]);
        await checkInvariants();
        expect(model[ch].unclaimed[s]).to.equal(0n);
      }
    }
  }
  expect(await token.balanceOf(address)).to.equal(0n);

  async function checkInvariants() {
    let expected = 0n;
    for (const c of model) {
      const onChain = await channels.getChannel(c.id);
      expect(onChain.state).to.equal(c.state);
      expect([onChain.a.deposit, onChain.b.deposit, onChain.a.withdrawn, onChain.b.withdrawn]).to.deep.equal([...c.d, ...c.w]);
      expect([onChain.a.unclaimed, onChain.b.unclaimed]).to.deep.equal(c.unclaimed);
      expected += held(c);
    }
    expect(await token.balanceOf(address)).to.equal(expected);
    expect(await token.balanceOf(relayer.address)).to.equal(relayerBalance);
    for (let i = 0; i < people.length; i++) {
      expect(await token.balanceOf(people[i].address)).to.equal(wallets[i], `balance of person ${i}`);
    }
  }
}
