// Randomized operation sequences against PaymentChannels, checked after every step against an
// independent JS model of channels and wallets. Replay a failure with FC_SEED=<seed>.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const fc = require("fast-check");

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261122;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 40;
const PERIOD = 3600n;
const START_BALANCE = 1_000_000n;
const State = { None: 0n, Open: 1n, Closing: 2n, Settled: 3n };
const PROOF = [
  { name: "channelId", type: "bytes32" },
  { name: "nonce", type: "uint256" },
  { name: "balanceA", type: "uint256" },
  { name: "balanceB", type: "uint256" },
];
const TYPES = {
  BalanceProof: PROOF,
  CooperativeClose: PROOF,
  Withdrawal: [
    { name: "channelId", type: "bytes32" },
    { name: "participant", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

const amount = fc.bigInt({ min: 0n, max: 5_000n });
const pick = fc.nat({ max: 1_000 });
const op = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("open"),
      who: fc.nat({ max: 2 }),
      off: fc.integer({ min: 1, max: 2 }),
      amount,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("deposit"), ch: pick, sideA: fc.boolean(), amount }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("pay"), ch: pick, sideA: fc.boolean(), amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("withdraw"), ch: pick, sideA: fc.boolean(), amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cooperativeClose"), ch: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("close"), ch: pick, sideA: fc.boolean(), proof: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("challenge"), ch: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("advance"), seconds: fc.bigInt({ min: 1n, max: 2n * PERIOD }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("settle"), ch: pick }) }
);

describe("PaymentChannels (randomized sequences)", function () {
  async function fixture() {
    const [, alice, bob, carol, relayer] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const channels = await ethers.deployContract("PaymentChannels");
    const people = [alice, bob, carol];
    for (const p of people) {
      await token.mint(p.address, START_BALANCE);
      await token.connect(p).approve(await channels.getAddress(), ethers.MaxUint256);
    }
    return { token, channels, people, relayer };
  }

  it("keeps every channel's money accounted for under random operations", async function () {
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 8, maxLength: 30, size: "max" }), async (ops) => {
          const f = await loadFixture(fixture);
          await runSequence(f, ops);
        }),
        { seed: SEED, numRuns: RUNS }
      );
    } catch (e) {
      console.error(`PaymentChannels fuzz failed; replay with FC_SEED=${SEED}`);
      throw e;
    }
  });
});

/** The model: channels as plain objects, wallets as bigints, pair nonces for the ids. */
async function runSequence({ token, channels, people, relayer }, ops) {
  const address = await channels.getAddress();
  const tokenAddress = await token.getAddress();
  const domain = { name: "PaymentChannels", version: "1", chainId: 31337n, verifyingContract: address };
  const wallets = people.map(() => START_BALANCE);
  const pairNonces = new Map();
  const model = [];

  const sign = (signer, type, value) => signer.signTypedData(domain, { [type]: TYPES[type] }, value);
  const funds = (c) => c.depositA + c.depositB - c.withdrawn;
  const latest = (c) => c.history[c.history.length - 1];
  const nextTimestamp = async () => {
    const next = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(next);
    return next;
  };
  const expectState = (promise, c) =>
    expect(promise).to.be.revertedWithCustomError(channels, "ChannelInvalidState").withArgs(c.id, c.state);

  for (const o of ops) {
    const c = o.ch === undefined || model.length === 0 ? undefined : model[o.ch % model.length];
    if (o.kind !== "open" && o.kind !== "advance" && c === undefined) {
      continue;
    }
    switch (o.kind) {
      case "open": {
        const a = o.who;
        const b = (o.who + o.off) % people.length;
        const key = `${a}-${b}`;
        const pairNonce = pairNonces.get(key) ?? 0n;
        const id = ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(
            ["uint256", "address", "address", "address", "address", "uint256"],
            [31337n, address, people[a].address, people[b].address, tokenAddress, pairNonce]
          )
        );
        await expect(channels.connect(people[a]).open(people[b].address, tokenAddress, o.amount, PERIOD))
          .to.emit(channels, "ChannelOpened")
          .withArgs(id, people[a].address, people[b].address, tokenAddress, o.amount, PERIOD);
        pairNonces.set(key, pairNonce + 1n);
        wallets[a] -= o.amount;
        model.push({
          id,
          a,
          b,
          state: State.Open,
          depositA: o.amount,
          depositB: 0n,
          withdrawn: 0n,
          floor: 0n,
          history: [{ nonce: 0n, balA: o.amount, balB: 0n }],
          closingNonce: 0n,
          closingBalA: 0n,
          closedByA: false,
          closesAt: 0n,
        });
        break;
      }
      case "deposit": {
        const who = o.sideA ? c.a : c.b;
        const value = o.amount === 0n ? 1n : o.amount;
        if (c.state !== State.Open) {
          await expectState(channels.connect(people[who]).deposit(c.id, value), c);
          break;
        }
        // the counterparty signs the proof of the new total before the deposit is sent
        const l = latest(c);
        await channels.connect(people[who]).deposit(c.id, value);
        wallets[who] -= value;
        if (o.sideA) c.depositA += value;
        else c.depositB += value;
        c.history.push({
          nonce: l.nonce + 1n,
          balA: l.balA + (o.sideA ? value : 0n),
          balB: l.balB + (o.sideA ? 0n : value),
        });
        break;
      }
      case "pay": {
        if (c.state !== State.Open) break;
        const l = latest(c);
        const value = o.amount % ((o.sideA ? l.balA : l.balB) + 1n);
        const delta = o.sideA ? -value : value;
        c.history.push({ nonce: l.nonce + 1n, balA: l.balA + delta, balB: l.balB - delta });
        break;
      }
      case "withdraw": {
        const who = o.sideA ? c.a : c.b;
        const l = latest(c);
        const value = o.amount % ((o.sideA ? l.balA : l.balB) + 1n);
        const w = {
          channelId: c.id,
          participant: people[who].address,
          amount: value,
          nonce: l.nonce + 1n,
          expiry: BigInt(await time.latest()) + 100n,
        };
        const send = async () =>
          channels
            .connect(relayer)
            .withdraw(
              w.channelId,
              w.participant,
              w.amount,
              w.nonce,
              w.expiry,
              await sign(people[c.a], "Withdrawal", w),
              await sign(people[c.b], "Withdrawal", w)
            );
        if (c.state !== State.Open) {
          await expectState(send(), c);
        } else if (value === 0n) {
          await expect(send()).to.be.revertedWithCustomError(channels, "ChannelZeroAmount").withArgs(c.id);
        } else {
          await nextTimestamp();
          await expect(send()).to.emit(channels, "ChannelWithdrawn").withArgs(c.id, w.participant, value, w.nonce);
          wallets[who] += value;
          c.withdrawn += value;
          c.floor = w.nonce;
          c.history.push({
            nonce: w.nonce + 1n,
            balA: l.balA - (o.sideA ? value : 0n),
            balB: l.balB - (o.sideA ? 0n : value),
          });
        }
        break;
      }
      case "cooperativeClose": {
        const l = latest(c);
        const v = { channelId: c.id, nonce: l.nonce + 1n, balanceA: l.balA, balanceB: l.balB };
        const tx = channels
          .connect(relayer)
          .cooperativeClose(
            c.id,
            v.nonce,
            v.balanceA,
            v.balanceB,
            await sign(people[c.a], "CooperativeClose", v),
            await sign(people[c.b], "CooperativeClose", v)
          );
        if (c.state !== State.Open) {
          await expectState(tx, c);
          break;
        }
        await expect(tx).to.emit(channels, "ChannelSettled").withArgs(c.id, l.balA, l.balB, true);
        wallets[c.a] += l.balA;
        wallets[c.b] += l.balB;
        c.state = State.Settled;
        c.payout = l.balA + l.balB;
        break;
      }
      case "close": {
        const closer = people[o.sideA ? c.a : c.b];
        const other = people[o.sideA ? c.b : c.a];
        const entry = c.history[o.proof % c.history.length];
        if (entry.nonce === 0n) {
          const now = await nextTimestamp();
          const tx = channels.connect(closer).closeWithoutProof(c.id);
          if (c.state !== State.Open) {
            await expectState(tx, c);
          } else if (c.floor !== 0n) {
            await expect(tx).to.be.revertedWithCustomError(channels, "ChannelStaleNonce").withArgs(c.id, 0n, c.floor);
          } else {
            await expect(tx)
              .to.emit(channels, "ChannelClosed")
              .withArgs(c.id, closer.address, 0n, c.depositA, c.depositB, now + PERIOD);
            Object.assign(c, {
              state: State.Closing,
              closingNonce: 0n,
              closingBalA: c.depositA,
              closedByA: o.sideA,
              closesAt: now + PERIOD,
            });
          }
          break;
        }
        const v = { channelId: c.id, nonce: entry.nonce, balanceA: entry.balA, balanceB: entry.balB };
        const sig = await sign(other, "BalanceProof", v);
        if (c.state !== State.Open) {
          await expectState(channels.connect(closer).closeUnilaterally(c.id, v.nonce, v.balanceA, v.balanceB, sig), c);
        } else if (entry.nonce <= c.floor) {
          await expect(channels.connect(closer).closeUnilaterally(c.id, v.nonce, v.balanceA, v.balanceB, sig))
            .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
            .withArgs(c.id, entry.nonce, c.floor);
        } else if (entry.balA + entry.balB !== funds(c)) {
          await expect(channels.connect(closer).closeUnilaterally(c.id, v.nonce, v.balanceA, v.balanceB, sig))
            .to.be.revertedWithCustomError(channels, "ChannelBalanceMismatch")
            .withArgs(c.id, entry.balA, entry.balB, funds(c));
        } else {
          const now = await nextTimestamp();
          await expect(channels.connect(closer).closeUnilaterally(c.id, v.nonce, v.balanceA, v.balanceB, sig))
            .to.emit(channels, "ChannelClosed")
            .withArgs(c.id, closer.address, entry.nonce, entry.balA, entry.balB, now + PERIOD);
          Object.assign(c, {
            state: State.Closing,
            closingNonce: entry.nonce,
            closingBalA: entry.balA,
            closedByA: o.sideA,
            closesAt: now + PERIOD,
          });
        }
        break;
      }
      case "challenge": {
        const closerIndex = c.closedByA ? c.a : c.b;
        const challenger = people[c.closedByA ? c.b : c.a];
        const l = latest(c);
        const v = { channelId: c.id, nonce: l.nonce, balanceA: l.balA, balanceB: l.balB };
        const sig = await sign(people[closerIndex], "BalanceProof", v);
        const now = await nextTimestamp();
        const tx = channels.connect(challenger).challenge(c.id, v.nonce, v.balanceA, v.balanceB, sig);
        if (c.state !== State.Closing) {
          await expectState(tx, c);
        } else if (now >= c.closesAt) {
          await expect(tx)
            .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodOver")
            .withArgs(c.id, c.closesAt);
        } else if (l.nonce <= c.closingNonce) {
          await expect(tx)
            .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
            .withArgs(c.id, l.nonce, c.closingNonce);
        } else {
          await expect(tx)
            .to.emit(channels, "ChannelChallenged")
            .withArgs(c.id, challenger.address, l.nonce, l.balA, l.balB);
          c.closingNonce = l.nonce;
          c.closingBalA = l.balA;
        }
        break;
      }
      case "advance":
        await time.increase(o.seconds);
        break;
      case "settle": {
        const now = await nextTimestamp();
        const tx = channels.connect(relayer).settle(c.id);
        if (c.state !== State.Closing) {
          await expectState(tx, c);
        } else if (now < c.closesAt) {
          await expect(tx)
            .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodActive")
            .withArgs(c.id, c.closesAt);
        } else {
          const payoutB = funds(c) - c.closingBalA;
          await expect(tx).to.emit(channels, "ChannelSettled").withArgs(c.id, c.closingBalA, payoutB, false);
          wallets[c.a] += c.closingBalA;
          wallets[c.b] += payoutB;
          c.state = State.Settled;
          c.payout = c.closingBalA + payoutB;
        }
        break;
      }
      default:
        throw new Error(`unknown operation ${o.kind}`);
    }
    await checkInvariants(token, channels, people, wallets, model, funds);
  }
}

async function checkInvariants(token, channels, people, wallets, model, funds) {
  let held = 0n;
  for (const c of model) {
    const onChain = await channels.getChannel(c.id);
    expect(onChain.state).to.equal(c.state);
    expect([onChain.depositA, onChain.depositB, onChain.withdrawn, onChain.nonceFloor]).to.deep.equal([
      c.depositA,
      c.depositB,
      c.withdrawn,
      c.floor,
    ]);
    if (c.state === State.Closing) {
      expect([onChain.closingNonce, onChain.closingBalanceA, onChain.closesAt, onChain.closedByA]).to.deep.equal([
        c.closingNonce,
        c.closingBalA,
        c.closesAt,
        c.closedByA,
      ]);
    }
    if (c.state === State.Settled) {
      // per channel: deposits == withdrawals + final payouts
      expect(c.depositA + c.depositB).to.equal(c.withdrawn + c.payout);
    } else {
      held += funds(c);
    }
  }
  expect(await token.balanceOf(await channels.getAddress())).to.equal(held);
  for (let i = 0; i < people.length; i++) {
    expect(await token.balanceOf(people[i].address)).to.equal(wallets[i]);
  }
}
