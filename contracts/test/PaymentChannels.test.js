const fs = require("fs");
const path = require("path");
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");

const State = { None: 0n, Open: 1n, Closing: 2n, Settled: 3n };
const MIN_PERIOD = 600n;
const MAX_PERIOD = 30n * 24n * 3600n;
const PERIOD = 3600n;
const MAX = ethers.MaxUint256;

const TYPES = {
  BalanceProof: [
    { name: "channelId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "balanceA", type: "uint256" },
    { name: "balanceB", type: "uint256" },
  ],
  CooperativeClose: [
    { name: "channelId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "balanceA", type: "uint256" },
    { name: "balanceB", type: "uint256" },
  ],
  Withdrawal: [
    { name: "channelId", type: "bytes32" },
    { name: "participant", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

async function domainOf(channels, chainId = 31337n) {
  return { name: "PaymentChannels", version: "1", chainId, verifyingContract: await channels.getAddress() };
}

/** Signs `value` as EIP-712 type `type` (one of TYPES) for `domain` with ethers' signTypedData. */
function sign(signer, domain, type, value) {
  return signer.signTypedData(domain, { [type]: TYPES[type] }, value);
}

async function signProof(signer, channels, channelId, nonce, balanceA, balanceB) {
  return sign(signer, await domainOf(channels), "BalanceProof", { channelId, nonce, balanceA, balanceB });
}

async function signClose(signer, channels, channelId, nonce, balanceA, balanceB) {
  return sign(signer, await domainOf(channels), "CooperativeClose", { channelId, nonce, balanceA, balanceB });
}

async function signWithdrawal(signer, channels, w) {
  return sign(signer, await domainOf(channels), "Withdrawal", w);
}

/** Opens a channel from `a` to `b` and returns its id (read from the ChannelOpened event). */
async function openChannel(channels, token, a, b, depositA, period = PERIOD) {
  const tx = await channels.connect(a).open(b.address, await token.getAddress(), depositA, period);
  const receipt = await tx.wait();
  const log = receipt.logs.map((l) => channels.interface.parseLog(l)).find((l) => l && l.name === "ChannelOpened");
  return log.args.channelId;
}

describe("PaymentChannels", function () {
  async function deployFixture() {
    const [deployer, alice, bob, carol, relayer] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const channels = await ethers.deployContract("PaymentChannels");
    const channelsAddress = await channels.getAddress();
    for (const s of [alice, bob, carol]) {
      await token.mint(s.address, 1_000_000n);
      await token.connect(s).approve(channelsAddress, MAX);
    }
    return { token, channels, channelsAddress, deployer, alice, bob, carol, relayer };
  }

  /** A channel alice -> bob with 1,000 from alice and 500 from bob. */
  async function openChannelFixture() {
    const f = await deployFixture();
    const id = await openChannel(f.channels, f.token, f.alice, f.bob, 1_000n);
    await f.channels.connect(f.bob).deposit(id, 500n);
    return { ...f, id };
  }

  /** The channel above, closed by alice with bob's proof of nonce 3 (alice 700, bob 800). */
  async function closingFixture() {
    const f = await openChannelFixture();
    const sig = await signProof(f.bob, f.channels, f.id, 3n, 700n, 800n);
    await f.channels.connect(f.alice).closeUnilaterally(f.id, 3n, 700n, 800n, sig);
    const closesAt = (await f.channels.getChannel(f.id)).closesAt;
    return { ...f, closesAt };
  }

  describe("open", function () {
    it("opens a channel with a deterministic id, pulls the deposit and emits ChannelOpened", async function () {
      const { token, channels, channelsAddress, alice, bob } = await loadFixture(deployFixture);
      const tokenAddress = await token.getAddress();
      const expected = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["uint256", "address", "address", "address", "address", "uint256"],
          [31337n, channelsAddress, alice.address, bob.address, tokenAddress, 0n]
        )
      );
      expect(await channels.nextChannelId(alice.address, bob.address, tokenAddress)).to.equal(expected);
      const tx = channels.connect(alice).open(bob.address, tokenAddress, 1_000n, PERIOD);
      await expect(tx)
        .to.emit(channels, "ChannelOpened")
        .withArgs(expected, alice.address, bob.address, tokenAddress, 1_000n, PERIOD);
      await expect(tx).to.changeTokenBalances(token, [alice, channels], [-1_000n, 1_000n]);

      const c = await channels.getChannel(expected);
      expect(c.participantA).to.equal(alice.address);
      expect(c.participantB).to.equal(bob.address);
      expect(c.token).to.equal(tokenAddress);
      expect(c.state).to.equal(State.Open);
      expect(c.challengePeriod).to.equal(PERIOD);
      expect(c.depositA).to.equal(1_000n);
      expect(c.depositB).to.equal(0n);
      expect(c.nonceFloor).to.equal(0n);

      const next = await channels.nextChannelId(alice.address, bob.address, tokenAddress);
      expect(next).to.not.equal(expected);
      await expect(channels.connect(alice).open(bob.address, tokenAddress, 0n, PERIOD))
        .to.emit(channels, "ChannelOpened")
        .withArgs(next, alice.address, bob.address, tokenAddress, 0n, PERIOD);
    });

    it("accepts the challenge period bounds exactly", async function () {
      const { token, channels, alice, bob } = await loadFixture(deployFixture);
      expect(await channels.MIN_CHALLENGE_PERIOD()).to.equal(MIN_PERIOD);
      expect(await channels.MAX_CHALLENGE_PERIOD()).to.equal(MAX_PERIOD);
      const idMin = await openChannel(channels, token, alice, bob, 1n, MIN_PERIOD);
      const idMax = await openChannel(channels, token, alice, bob, 1n, MAX_PERIOD);
      expect((await channels.getChannel(idMin)).challengePeriod).to.equal(MIN_PERIOD);
      expect((await channels.getChannel(idMax)).challengePeriod).to.equal(MAX_PERIOD);
    });

    it("rejects a zero or self counterparty, a zero token and out-of-bounds periods", async function () {
      const { token, channels, alice, bob } = await loadFixture(deployFixture);
      const t = await token.getAddress();
      await expect(channels.connect(alice).open(ethers.ZeroAddress, t, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidParticipant")
        .withArgs(ethers.ZeroAddress);
      await expect(channels.connect(alice).open(alice.address, t, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidParticipant")
        .withArgs(alice.address);
      await expect(channels.connect(alice).open(bob.address, ethers.ZeroAddress, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidToken")
        .withArgs(ethers.ZeroAddress);
      await expect(channels.connect(alice).open(bob.address, t, 1n, MIN_PERIOD - 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidChallengePeriod")
        .withArgs(MIN_PERIOD - 1n, MIN_PERIOD, MAX_PERIOD);
      await expect(channels.connect(alice).open(bob.address, t, 1n, MAX_PERIOD + 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidChallengePeriod")
        .withArgs(MAX_PERIOD + 1n, MIN_PERIOD, MAX_PERIOD);
    });

    it("fails when the deposit is not approved or not held", async function () {
      const { token, channels, channelsAddress, alice, bob, relayer } = await loadFixture(deployFixture);
      const t = await token.getAddress();
      await expect(channels.connect(relayer).open(bob.address, t, 1n, PERIOD))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(channelsAddress, 0n, 1n);
      await expect(channels.connect(alice).open(bob.address, t, 1_000_001n, PERIOD))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(alice.address, 1_000_000n, 1_000_001n);
    });
  });

  describe("openWithPermit", function () {
    async function permit(token, owner, spender, value, deadline) {
      const domain = {
        name: "Test USD",
        version: "1",
        chainId: 31337n,
        verifyingContract: await token.getAddress(),
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const nonce = await token.nonces(owner.address);
      return ethers.Signature.from(
        await owner.signTypedData(domain, types, { owner: owner.address, spender, value, nonce, deadline })
      );
    }

    it("opens with an EIP-2612 permit instead of an approval", async function () {
      const { token, channels, channelsAddress, relayer, bob } = await loadFixture(deployFixture);
      await token.mint(relayer.address, 100n);
      const deadline = (await time.latest()) + 3600;
      const sig = await permit(token, relayer, channelsAddress, 100n, deadline);
      const t = await token.getAddress();
      const id = await channels.nextChannelId(relayer.address, bob.address, t);
      const tx = channels.connect(relayer).openWithPermit(bob.address, t, 100n, PERIOD, deadline, sig.v, sig.r, sig.s);
      await expect(tx).to.emit(channels, "ChannelOpened").withArgs(id, relayer.address, bob.address, t, 100n, PERIOD);
      await expect(tx).to.changeTokenBalances(token, [relayer, channels], [-100n, 100n]);
    });

    it("still opens when a front-runner used the permit first", async function () {
      const { token, channels, channelsAddress, relayer, bob } = await loadFixture(deployFixture);
      await token.mint(relayer.address, 100n);
      const deadline = (await time.latest()) + 3600;
      const sig = await permit(token, relayer, channelsAddress, 100n, deadline);
      await token.permit(relayer.address, channelsAddress, 100n, deadline, sig.v, sig.r, sig.s);
      const t = await token.getAddress();
      await expect(
        channels.connect(relayer).openWithPermit(bob.address, t, 100n, PERIOD, deadline, sig.v, sig.r, sig.s)
      ).to.changeTokenBalance(token, channels, 100n);
    });

    it("fails with the token's error when the permit is bad and nothing is approved", async function () {
      const { token, channels, channelsAddress, relayer, bob } = await loadFixture(deployFixture);
      await token.mint(relayer.address, 100n);
      const deadline = (await time.latest()) + 3600;
      const sig = await permit(token, bob, channelsAddress, 100n, deadline);
      const t = await token.getAddress();
      await expect(
        channels.connect(relayer).openWithPermit(bob.address, t, 100n, PERIOD, deadline, sig.v, sig.r, sig.s)
      )
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(channelsAddress, 0n, 100n);
      await expect(
        channels.connect(relayer).openWithPermit(relayer.address, t, 100n, PERIOD, deadline, sig.v, sig.r, sig.s)
      )
        .to.be.revertedWithCustomError(channels, "ChannelInvalidParticipant")
        .withArgs(relayer.address);
    });
  });

  describe("deposit", function () {
    it("tops up either side and emits ChannelDeposited with the new total", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      await expect(channels.connect(alice).deposit(id, 250n))
        .to.emit(channels, "ChannelDeposited")
        .withArgs(id, alice.address, 250n, 1_250n);
      const tx = channels.connect(bob).deposit(id, 50n);
      await expect(tx).to.emit(channels, "ChannelDeposited").withArgs(id, bob.address, 50n, 550n);
      await expect(tx).to.changeTokenBalances(token, [bob, channels], [-50n, 50n]);
      const c = await channels.getChannel(id);
      expect([c.depositA, c.depositB]).to.deep.equal([1_250n, 550n]);
    });

    it("rejects unknown and closing channels", async function () {
      const { channels, id, alice } = await loadFixture(closingFixture);
      const unknown = ethers.id("unknown");
      await expect(channels.connect(alice).deposit(unknown, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(unknown, State.None);
      await expect(channels.connect(alice).deposit(id, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Closing);
    });

    it("rejects zero amounts and strangers on an open channel", async function () {
      const { channels, id, alice, carol } = await loadFixture(openChannelFixture);
      await expect(channels.connect(alice).deposit(id, 0n))
        .to.be.revertedWithCustomError(channels, "ChannelZeroAmount")
        .withArgs(id);
      await expect(channels.connect(carol).deposit(id, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
    });
  });

  describe("withdraw", function () {
    async function authorize(f, w) {
      return [await signWithdrawal(f.alice, f.channels, w), await signWithdrawal(f.bob, f.channels, w)];
    }

    async function withdrawal(f, overrides = {}) {
      const expiry = BigInt(await time.latest()) + 3600n;
      return { channelId: f.id, participant: f.bob.address, amount: 300n, nonce: 4n, expiry, ...overrides };
    }

    function send(f, w, sigA, sigB, from = f.relayer) {
      return f.channels.connect(from).withdraw(w.channelId, w.participant, w.amount, w.nonce, w.expiry, sigA, sigB);
    }

    it("pays out with both signatures, raises the nonce floor and cannot be replayed", async function () {
      const f = await loadFixture(openChannelFixture);
      const w = await withdrawal(f);
      const [sigA, sigB] = await authorize(f, w);
      const tx = send(f, w, sigA, sigB);
      await expect(tx).to.emit(f.channels, "ChannelWithdrawn").withArgs(f.id, f.bob.address, 300n, 4n);
      await expect(tx).to.changeTokenBalances(f.token, [f.bob, f.channels], [300n, -300n]);
      const c = await f.channels.getChannel(f.id);
      expect([c.withdrawn, c.nonceFloor, c.state]).to.deep.equal([300n, 4n, State.Open]);

      await expect(send(f, w, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelStaleNonce")
        .withArgs(f.id, 4n, 4n);
      // proofs up to the floor are void, even with balances that add up to the funds left
      const stale = await signProof(f.bob, f.channels, f.id, 4n, 1_000n, 200n);
      await expect(f.channels.connect(f.alice).closeUnilaterally(f.id, 4n, 1_000n, 200n, stale))
        .to.be.revertedWithCustomError(f.channels, "ChannelStaleNonce")
        .withArgs(f.id, 4n, 4n);
      await expect(f.channels.connect(f.alice).closeWithoutProof(f.id))
        .to.be.revertedWithCustomError(f.channels, "ChannelStaleNonce")
        .withArgs(f.id, 0n, 4n);
      const fresh = await signProof(f.bob, f.channels, f.id, 5n, 1_000n, 200n);
      await expect(f.channels.connect(f.alice).closeUnilaterally(f.id, 5n, 1_000n, 200n, fresh)).to.emit(
        f.channels,
        "ChannelClosed"
      );
    });

    it("may withdraw everything, up to the expiry second", async function () {
      const f = await loadFixture(openChannelFixture);
      const w = await withdrawal(f, { participant: f.alice.address, amount: 1_500n, nonce: 1n });
      const [sigA, sigB] = await authorize(f, w);
      await time.setNextBlockTimestamp(w.expiry);
      await expect(send(f, w, sigA, sigB)).to.changeTokenBalances(f.token, [f.alice, f.channels], [1_500n, -1_500n]);
    });

    it("rejects a channel that is not open, a stranger as payee and a zero amount", async function () {
      const f = await loadFixture(closingFixture);
      const w = await withdrawal(f);
      const [sigA, sigB] = await authorize(f, w);
      await expect(send(f, w, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidState")
        .withArgs(f.id, State.Closing);
      const g = await loadFixture(openChannelFixture);
      const toCarol = await withdrawal(g, { participant: g.carol.address });
      await expect(send(g, toCarol, ...(await authorize(g, toCarol))))
        .to.be.revertedWithCustomError(g.channels, "ChannelNotParticipant")
        .withArgs(g.id, g.carol.address);
      const zero = await withdrawal(g, { amount: 0n });
      await expect(send(g, zero, ...(await authorize(g, zero))))
        .to.be.revertedWithCustomError(g.channels, "ChannelZeroAmount")
        .withArgs(g.id);
    });

    it("rejects an expired authorization, a stale nonce and more than the funds", async function () {
      const f = await loadFixture(openChannelFixture);
      const expired = await withdrawal(f);
      const sigs = await authorize(f, expired);
      await time.setNextBlockTimestamp(expired.expiry + 1n);
      await expect(send(f, expired, ...sigs))
        .to.be.revertedWithCustomError(f.channels, "ChannelWithdrawalExpired")
        .withArgs(f.id, expired.expiry, expired.expiry + 1n);
      const zeroNonce = await withdrawal(f, { nonce: 0n });
      await expect(send(f, zeroNonce, ...(await authorize(f, zeroNonce))))
        .to.be.revertedWithCustomError(f.channels, "ChannelStaleNonce")
        .withArgs(f.id, 0n, 0n);
      const tooMuch = await withdrawal(f, { amount: 1_501n });
      await expect(send(f, tooMuch, ...(await authorize(f, tooMuch))))
        .to.be.revertedWithCustomError(f.channels, "ChannelWithdrawalExceedsFunds")
        .withArgs(f.id, 1_501n, 1_500n);
    });

    it("needs A's signature first and B's second", async function () {
      const f = await loadFixture(openChannelFixture);
      const w = await withdrawal(f);
      const [sigA, sigB] = await authorize(f, w);
      await expect(send(f, w, sigB, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
      await expect(send(f, w, sigA, sigA))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.bob.address);
      const other = { ...w, amount: 301n };
      await expect(send(f, other, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
    });
  });

  describe("cooperativeClose", function () {
    it("settles at once with both signatures, anyone submitting", async function () {
      const { token, channels, id, alice, bob, relayer } = await loadFixture(openChannelFixture);
      const sigA = await signClose(alice, channels, id, 9n, 400n, 1_100n);
      const sigB = await signClose(bob, channels, id, 9n, 400n, 1_100n);
      const tx = channels.connect(relayer).cooperativeClose(id, 9n, 400n, 1_100n, sigA, sigB);
      await expect(tx).to.emit(channels, "ChannelSettled").withArgs(id, 400n, 1_100n, true);
      await expect(tx).to.changeTokenBalances(token, [alice, bob, channels], [400n, 1_100n, -1_500n]);
      expect((await channels.getChannel(id)).state).to.equal(State.Settled);
      await expect(channels.connect(relayer).cooperativeClose(id, 9n, 400n, 1_100n, sigA, sigB))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Settled);
    });

    it("pays nothing to a side whose balance is zero", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const sigA = await signClose(alice, channels, id, 1n, 0n, 1_500n);
      const sigB = await signClose(bob, channels, id, 1n, 0n, 1_500n);
      await expect(channels.cooperativeClose(id, 1n, 0n, 1_500n, sigA, sigB)).to.changeTokenBalances(
        token,
        [alice, bob],
        [0n, 1_500n]
      );
    });

    it("rejects nonce 0, balances that do not add up and wrong signatures", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const zA = await signClose(alice, channels, id, 0n, 1_000n, 500n);
      const zB = await signClose(bob, channels, id, 0n, 1_000n, 500n);
      await expect(channels.cooperativeClose(id, 0n, 1_000n, 500n, zA, zB))
        .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
        .withArgs(id, 0n, 0n);
      const mA = await signClose(alice, channels, id, 1n, 1_000n, 501n);
      const mB = await signClose(bob, channels, id, 1n, 1_000n, 501n);
      await expect(channels.cooperativeClose(id, 1n, 1_000n, 501n, mA, mB))
        .to.be.revertedWithCustomError(channels, "ChannelBalanceMismatch")
        .withArgs(id, 1_000n, 501n, 1_500n);
      const sigA = await signClose(alice, channels, id, 1n, 1_000n, 500n);
      const sigB = await signClose(bob, channels, id, 1n, 1_000n, 500n);
      await expect(channels.cooperativeClose(id, 1n, 1_000n, 500n, sigB, sigB))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, alice.address);
      await expect(channels.cooperativeClose(id, 1n, 1_000n, 500n, sigA, sigA))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, bob.address);
    });

    it("does not accept balance proofs in place of a cooperative close", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const pA = await signProof(alice, channels, id, 1n, 1_000n, 500n);
      const pB = await signProof(bob, channels, id, 1n, 1_000n, 500n);
      await expect(channels.cooperativeClose(id, 1n, 1_000n, 500n, pA, pB))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, alice.address);
    });
  });

  describe("closeUnilaterally", function () {
    it("starts the challenge window with the counterparty's proof, from either side", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const sig = await signProof(bob, channels, id, 3n, 700n, 800n);
      const tx = channels.connect(alice).closeUnilaterally(id, 3n, 700n, 800n, sig);
      const closesAt = BigInt(await time.latest()) + 1n + PERIOD;
      await expect(tx).to.emit(channels, "ChannelClosed").withArgs(id, alice.address, 3n, 700n, 800n, closesAt);
      const c = await channels.getChannel(id);
      expect([c.state, c.closesAt, c.closedByA, c.closingNonce, c.closingBalanceA]).to.deep.equal([
        State.Closing,
        closesAt,
        true,
        3n,
        700n,
      ]);
    });

    it("lets B close with A's signature", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const sig = await signProof(alice, channels, id, 2n, 100n, 1_400n);
      await expect(channels.connect(bob).closeUnilaterally(id, 2n, 100n, 1_400n, sig)).to.emit(
        channels,
        "ChannelClosed"
      );
      expect((await channels.getChannel(id)).closedByA).to.equal(false);
    });

    it("rejects strangers, nonce 0, mismatched balances, the closer's own signature and a closing channel", async function () {
      const { channels, id, alice, bob, carol } = await loadFixture(openChannelFixture);
      const sig = await signProof(bob, channels, id, 3n, 700n, 800n);
      await expect(channels.connect(carol).closeUnilaterally(id, 3n, 700n, 800n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
      const zero = await signProof(bob, channels, id, 0n, 700n, 800n);
      await expect(channels.connect(alice).closeUnilaterally(id, 0n, 700n, 800n, zero))
        .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
        .withArgs(id, 0n, 0n);
      const off = await signProof(bob, channels, id, 3n, 700n, 801n);
      await expect(channels.connect(alice).closeUnilaterally(id, 3n, 700n, 801n, off))
        .to.be.revertedWithCustomError(channels, "ChannelBalanceMismatch")
        .withArgs(id, 700n, 801n, 1_500n);
      const own = await signProof(alice, channels, id, 3n, 700n, 800n);
      await expect(channels.connect(alice).closeUnilaterally(id, 3n, 700n, 800n, own))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, bob.address);
      await channels.connect(alice).closeUnilaterally(id, 3n, 700n, 800n, sig);
      await expect(channels.connect(alice).closeUnilaterally(id, 3n, 700n, 800n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Closing);
    });
  });

  describe("closeWithoutProof", function () {
    it("closes with the deposits as balances", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const tx = channels.connect(bob).closeWithoutProof(id);
      const closesAt = BigInt(await time.latest()) + 1n + PERIOD;
      await expect(tx).to.emit(channels, "ChannelClosed").withArgs(id, bob.address, 0n, 1_000n, 500n, closesAt);
      await time.increaseTo(closesAt);
      await expect(channels.settle(id)).to.changeTokenBalances(token, [alice, bob], [1_000n, 500n]);
    });

    it("rejects strangers and channels that are not open", async function () {
      const { channels, id, carol, alice } = await loadFixture(openChannelFixture);
      await expect(channels.connect(carol).closeWithoutProof(id))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
      await channels.connect(alice).closeWithoutProof(id);
      await expect(channels.connect(alice).closeWithoutProof(id))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Closing);
    });
  });

  describe("challenge", function () {
    it("replaces the closing balances with a newer proof signed by the closer", async function () {
      const { token, channels, id, alice, bob, closesAt } = await loadFixture(closingFixture);
      const sig = await signProof(alice, channels, id, 5n, 200n, 1_300n);
      await expect(channels.connect(bob).challenge(id, 5n, 200n, 1_300n, sig))
        .to.emit(channels, "ChannelChallenged")
        .withArgs(id, bob.address, 5n, 200n, 1_300n);
      const c = await channels.getChannel(id);
      expect([c.state, c.closesAt, c.closingNonce, c.closingBalanceA]).to.deep.equal([
        State.Closing,
        closesAt,
        5n,
        200n,
      ]);
      await time.increaseTo(closesAt);
      await expect(channels.settle(id)).to.changeTokenBalances(token, [alice, bob], [200n, 1_300n]);
    });

    it("works up to the last second before the window ends", async function () {
      const { channels, id, alice, bob, closesAt } = await loadFixture(closingFixture);
      const sig = await signProof(alice, channels, id, 4n, 0n, 1_500n);
      await time.setNextBlockTimestamp(closesAt - 1n);
      await expect(channels.connect(bob).challenge(id, 4n, 0n, 1_500n, sig)).to.emit(channels, "ChannelChallenged");
    });

    it("rejects the closer, strangers and a channel that is not closing", async function () {
      const { channels, id, alice, bob, carol } = await loadFixture(closingFixture);
      const sig = await signProof(alice, channels, id, 5n, 200n, 1_300n);
      await expect(channels.connect(alice).challenge(id, 5n, 200n, 1_300n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, alice.address);
      await expect(channels.connect(carol).challenge(id, 5n, 200n, 1_300n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
      const open = await loadFixture(openChannelFixture);
      await expect(open.channels.connect(open.bob).challenge(open.id, 5n, 200n, 1_300n, sig))
        .to.be.revertedWithCustomError(open.channels, "ChannelInvalidState")
        .withArgs(open.id, State.Open);
    });

    it("rejects a challenge after the window", async function () {
      const { channels, id, alice, bob, closesAt } = await loadFixture(closingFixture);
      const sig = await signProof(alice, channels, id, 5n, 200n, 1_300n);
      await time.setNextBlockTimestamp(closesAt);
      await expect(channels.connect(bob).challenge(id, 5n, 200n, 1_300n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodOver")
        .withArgs(id, closesAt);
    });

    it("rejects stale proofs, including an older one after a newer one won", async function () {
      const { channels, id, alice, bob } = await loadFixture(closingFixture);
      const same = await signProof(alice, channels, id, 3n, 200n, 1_300n);
      await expect(channels.connect(bob).challenge(id, 3n, 200n, 1_300n, same))
        .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
        .withArgs(id, 3n, 3n);
      const newer = await signProof(alice, channels, id, 7n, 100n, 1_400n);
      await channels.connect(bob).challenge(id, 7n, 100n, 1_400n, newer);
      const older = await signProof(alice, channels, id, 6n, 50n, 1_450n);
      await expect(channels.connect(bob).challenge(id, 6n, 50n, 1_450n, older))
        .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
        .withArgs(id, 6n, 7n);
    });

    it("rejects mismatched balances and signatures not by the closer", async function () {
      const { channels, id, alice, bob } = await loadFixture(closingFixture);
      const off = await signProof(alice, channels, id, 5n, 200n, 1_200n);
      await expect(channels.connect(bob).challenge(id, 5n, 200n, 1_200n, off))
        .to.be.revertedWithCustomError(channels, "ChannelBalanceMismatch")
        .withArgs(id, 200n, 1_200n, 1_500n);
      const own = await signProof(bob, channels, id, 5n, 200n, 1_300n);
      await expect(channels.connect(bob).challenge(id, 5n, 200n, 1_300n, own))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, alice.address);
    });
  });

  describe("settle", function () {
    it("pays the closing balances from the end of the window on, for any caller", async function () {
      const { token, channels, id, alice, bob, relayer, closesAt } = await loadFixture(closingFixture);
      await time.setNextBlockTimestamp(closesAt);
      const tx = channels.connect(relayer).settle(id);
      await expect(tx).to.emit(channels, "ChannelSettled").withArgs(id, 700n, 800n, false);
      await expect(tx).to.changeTokenBalances(token, [alice, bob, channels], [700n, 800n, -1_500n]);
      expect((await channels.getChannel(id)).state).to.equal(State.Settled);
      await expect(channels.settle(id))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Settled);
    });

    it("rejects a settle before the window ends", async function () {
      const { channels, id, closesAt } = await loadFixture(closingFixture);
      await time.setNextBlockTimestamp(closesAt - 1n);
      await expect(channels.settle(id))
        .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodActive")
        .withArgs(id, closesAt);
    });

    it("rejects unknown and open channels", async function () {
      const { channels, id } = await loadFixture(openChannelFixture);
      await expect(channels.settle(id))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Open);
      await expect(channels.settle(ethers.ZeroHash))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(ethers.ZeroHash, State.None);
    });
  });

  describe("EIP-712", function () {
    it("exposes digests equal to ethers' TypedDataEncoder hashes", async function () {
      const { channels, id, alice } = await loadFixture(openChannelFixture);
      const domain = await domainOf(channels);
      const proof = { channelId: id, nonce: 12n, balanceA: MAX - 1n, balanceB: 1n };
      const hash = (type, value) => ethers.TypedDataEncoder.hash(domain, { [type]: TYPES[type] }, value);
      expect(await channels.balanceProofDigest(id, 12n, MAX - 1n, 1n)).to.equal(hash("BalanceProof", proof));
      expect(await channels.cooperativeCloseDigest(id, 12n, MAX - 1n, 1n)).to.equal(hash("CooperativeClose", proof));
      const w = { channelId: id, participant: alice.address, amount: 5n, nonce: 2n, expiry: MAX };
      expect(await channels.withdrawalDigest(id, alice.address, 5n, 2n, MAX)).to.equal(hash("Withdrawal", w));
      const [, name, version, chainId, verifyingContract] = await channels.eip712Domain();
      expect({ name, version, chainId, verifyingContract }).to.deep.equal(domain);
      expect(await channels.BALANCE_PROOF_TYPEHASH()).to.equal(
        ethers.id("BalanceProof(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)")
      );
      expect(await channels.COOPERATIVE_CLOSE_TYPEHASH()).to.equal(
        ethers.id("CooperativeClose(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)")
      );
      expect(await channels.WITHDRAWAL_TYPEHASH()).to.equal(
        ethers.id("Withdrawal(bytes32 channelId,address participant,uint256 amount,uint256 nonce,uint256 expiry)")
      );
    });

    it("writes fixed-domain proofs signed with ethers for the Java interop check", async function () {
      const signers = await ethers.getSigners();
      const domain = {
        name: "PaymentChannels",
        version: "1",
        chainId: 31337n,
        verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      };
      const channelId = ethers.id("interop channel");
      const values = [
        ["BalanceProof", 0, { channelId, nonce: 1n, balanceA: 1_000n, balanceB: 500n }],
        ["BalanceProof", 1, { channelId, nonce: 2n, balanceA: 0n, balanceB: 1_500n }],
        ["BalanceProof", 2, { channelId: ethers.ZeroHash, nonce: MAX, balanceA: MAX, balanceB: 0n }],
        ["CooperativeClose", 1, { channelId, nonce: 3n, balanceA: 400n, balanceB: 1_100n }],
        [
          "Withdrawal",
          0,
          { channelId, participant: signers[1].address, amount: 300n, nonce: 4n, expiry: 1_900_000_000n },
        ],
      ];
      const cases = [];
      for (const [type, signerIndex, value] of values) {
        const signer = signers[signerIndex];
        const signature = await sign(signer, domain, type, value);
        const digest = ethers.TypedDataEncoder.hash(domain, { [type]: TYPES[type] }, value);
        expect(ethers.recoverAddress(digest, signature)).to.equal(signer.address);
        cases.push({
          type,
          signer: signer.address,
          signerIndex,
          message: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v.toString()])),
          digest,
          signature,
        });
      }
      const json = {
        domain: { ...domain, chainId: domain.chainId.toString() },
        types: TYPES,
        cases,
      };
      const dir = path.join(__dirname, "..", "target", "interop");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "channel-proofs.json"), JSON.stringify(json, null, 2) + "\n");
    });
  });

  describe("attacks", function () {
    it("rejects a proof replayed on another channel of the same pair", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const other = await openChannel(channels, token, alice, bob, 1_500n);
      const sig = await signProof(bob, channels, id, 3n, 1_500n, 0n);
      await expect(channels.connect(alice).closeUnilaterally(other, 3n, 1_500n, 0n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(other, bob.address);
    });

    it("rejects a proof signed for another PaymentChannels contract", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const second = await ethers.deployContract("PaymentChannels");
      await token.connect(alice).approve(await second.getAddress(), MAX);
      const id2 = await openChannel(second, token, alice, bob, 1_500n);
      // signed over the second contract's channel id, but in the first contract's domain
      const sig = await signProof(bob, channels, id2, 3n, 1_500n, 0n);
      await expect(second.connect(alice).closeUnilaterally(id2, 3n, 1_500n, 0n, sig))
        .to.be.revertedWithCustomError(second, "ChannelInvalidSignature")
        .withArgs(id2, bob.address);
      // and a proof for the first contract's channel names no channel of the second
      const sig1 = await signProof(bob, channels, id, 3n, 1_500n, 0n);
      await expect(second.connect(alice).closeUnilaterally(id, 3n, 1_500n, 0n, sig1))
        .to.be.revertedWithCustomError(second, "ChannelInvalidState")
        .withArgs(id, State.None);
    });

    it("rejects a proof signed for another chain id", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const domain = await domainOf(channels, 1n);
      const sig = await sign(bob, domain, "BalanceProof", { channelId: id, nonce: 3n, balanceA: 1_500n, balanceB: 0n });
      await expect(channels.connect(alice).closeUnilaterally(id, 3n, 1_500n, 0n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, bob.address);
    });

    it("rejects forged and malformed signatures", async function () {
      const { channels, id, alice, bob, carol } = await loadFixture(openChannelFixture);
      const forged = await signProof(carol, channels, id, 3n, 1_500n, 0n);
      const good = ethers.Signature.from(await signProof(bob, channels, id, 3n, 1_500n, 0n));
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = ethers.concat([good.r, ethers.toBeHex(n - BigInt(good.s), 32), good.v === 27 ? "0x1c" : "0x1b"]);
      const malformed = [
        forged,
        "0x",
        ethers.dataSlice(good.serialized, 0, 64),
        ethers.concat([good.serialized, "0x00"]),
        ethers.concat([good.r, good.s, "0x05"]),
        ethers.concat([ethers.ZeroHash, ethers.ZeroHash, "0x1b"]),
        highS,
      ];
      for (const sig of malformed) {
        await expect(channels.connect(alice).closeUnilaterally(id, 3n, 1_500n, 0n, sig))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
          .withArgs(id, bob.address);
      }
      await expect(channels.connect(alice).closeUnilaterally(id, 3n, 1_500n, 0n, good.serialized)).to.emit(
        channels,
        "ChannelClosed"
      );
    });

    it("accepts ERC-1271 signatures of a contract wallet participant", async function () {
      const { token, channels, alice, bob, carol, relayer } = await loadFixture(deployFixture);
      const wallet = await ethers.deployContract("ChannelSmartWallet", [bob.address]);
      const walletAddress = await wallet.getAddress();
      const id = await openChannel(channels, token, alice, { address: walletAddress }, 1_000n);
      const byCarol = await signProof(carol, channels, id, 1n, 900n, 100n);
      await expect(channels.connect(alice).closeUnilaterally(id, 1n, 900n, 100n, byCarol))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, walletAddress);
      const sigA = await signClose(alice, channels, id, 1n, 900n, 100n);
      const byOwner = await signClose(bob, channels, id, 1n, 900n, 100n);
      await expect(
        channels.connect(relayer).cooperativeClose(id, 1n, 900n, 100n, sigA, byOwner)
      ).to.changeTokenBalances(token, [alice, walletAddress], [900n, 100n]);
    });

    it("handles amounts and nonces at and beyond the uint256 bounds", async function () {
      const { channels, alice, bob, deployer } = await loadFixture(deployFixture);
      const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
      await big.mint(alice.address, MAX - 1n);
      await big.mint(bob.address, 1n);
      await big.connect(alice).approve(await channels.getAddress(), MAX);
      await big.connect(bob).approve(await channels.getAddress(), MAX);
      const id = await openChannel(channels, big, alice, bob, MAX - 1n);
      await channels.connect(bob).deposit(id, 1n);
      const c = await channels.getChannel(id);
      expect(c.depositA + c.depositB).to.equal(MAX);

      for (const [a, b] of [
        [MAX, 1n],
        [MAX, MAX],
        [1n, MAX],
        [0n, MAX - 1n],
      ]) {
        const sig = await signProof(bob, channels, id, 1n, a, b);
        await expect(channels.connect(alice).closeUnilaterally(id, 1n, a, b, sig))
          .to.be.revertedWithCustomError(channels, "ChannelBalanceMismatch")
          .withArgs(id, a, b, MAX);
      }
      const sig = await signProof(bob, channels, id, MAX, MAX, 0n);
      await channels.connect(alice).closeUnilaterally(id, MAX, MAX, 0n, sig);
      const higher = await signProof(alice, channels, id, MAX, 0n, MAX);
      await expect(channels.connect(bob).challenge(id, MAX, 0n, MAX, higher))
        .to.be.revertedWithCustomError(channels, "ChannelStaleNonce")
        .withArgs(id, MAX, MAX);
      await time.increase(PERIOD);
      await expect(channels.connect(deployer).settle(id)).to.changeTokenBalances(big, [alice, bob], [MAX, 0n]);
    });

    it("rejects a deposit that would overflow the channel's total", async function () {
      const { channels, alice, bob } = await loadFixture(deployFixture);
      const evil = await ethers.deployContract("ReentrantChannelToken");
      await evil.mint(alice.address, MAX);
      await evil.connect(alice).approve(await channels.getAddress(), MAX);
      const id = await openChannel(channels, evil, alice, bob, MAX);
      await expect(channels.connect(alice).deposit(id, 1n)).to.be.revertedWithPanic(0x11);
    });

    it("blocks reentrant calls from a token callback", async function () {
      const { channels, alice, bob, relayer } = await loadFixture(deployFixture);
      const evil = await ethers.deployContract("ReentrantChannelToken");
      for (const s of [alice, bob]) {
        await evil.mint(s.address, 10_000n);
        await evil.connect(s).approve(await channels.getAddress(), MAX);
      }
      const id = await openChannel(channels, evil, alice, bob, 1_000n);
      const reenter = [
        channels.interface.encodeFunctionData("deposit", [id, 1n]),
        channels.interface.encodeFunctionData("settle", [id]),
        channels.interface.encodeFunctionData("closeWithoutProof", [id]),
      ];
      for (const data of reenter) {
        await evil.arm(await channels.getAddress(), data);
        await expect(channels.connect(bob).deposit(id, 10n)).to.be.revertedWithCustomError(
          channels,
          "ReentrancyGuardReentrantCall"
        );
      }
      await evil.arm(await channels.getAddress(), reenter[0]);
      const sigA = await signClose(alice, channels, id, 1n, 600n, 400n);
      const sigB = await signClose(bob, channels, id, 1n, 600n, 400n);
      await expect(
        channels.connect(relayer).cooperativeClose(id, 1n, 600n, 400n, sigA, sigB)
      ).to.be.revertedWithCustomError(channels, "ReentrancyGuardReentrantCall");
      await evil.arm(ethers.ZeroAddress, "0x");
      await expect(channels.connect(relayer).cooperativeClose(id, 1n, 600n, 400n, sigA, sigB)).to.changeTokenBalances(
        evil,
        [alice, bob],
        [600n, 400n]
      );
    });
  });
});
