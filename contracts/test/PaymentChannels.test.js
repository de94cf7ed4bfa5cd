const fs = require("fs");
const path = require("path");
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const {
  State,
  MIN_PERIOD,
  MAX_PERIOD,
  PERIOD,
  MAX,
  TYPES,
  domainOf,
  sign,
  signProof,
  signClose,
  signWithdrawal,
  openedId,
  openChannel,
  deployChannels,
} = require("./PaymentChannels.helpers.js");

describe("PaymentChannels", function () {
  async function deployFixture() {
    const [deployer, alice, bob, carol, relayer] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const channels = await deployChannels();
    const channelsAddress = await channels.getAddress();
    for (const s of [alice, bob, carol]) {
      await token.mint(s.address, 1_000_000n);
      await token.connect(s).approve(channelsAddress, MAX);
    }
    return { token, channels, channelsAddress, deployer, alice, bob, carol, relayer };
  }

  /** A channel alice -> bob, accepted, with 1,000 from alice and 500 from bob. */
  async function openChannelFixture() {
    const f = await deployFixture();
    const id = await openChannel(f.channels, f.token, f.alice, f.bob, 1_000n, 500n);
    return { ...f, id };
  }

  /** The channel above, closed by alice with bob's proof (nonce 3: bob transferred 300). */
  async function closingFixture() {
    const f = await openChannelFixture();
    const sig = await signProof(f.bob, f.channels, f.id, 3n, 300n);
    await f.channels.connect(f.alice).close(f.id, 3n, 300n, sig);
    const closesAt = (await f.channels.getChannel(f.id)).closesAt;
    return { ...f, closesAt };
  }

  describe("deployment", function () {
    it("fixes the protocol's minimum challenge period and refuses 0 or more than the maximum", async function () {
      const { channels } = await loadFixture(deployFixture);
      expect(await channels.minChallengePeriod()).to.equal(MIN_PERIOD);
      expect(await channels.MAX_CHALLENGE_PERIOD()).to.equal(MAX_PERIOD);
      const factory = await ethers.getContractFactory("PaymentChannels");
      for (const bad of [0n, MAX_PERIOD + 1n]) {
        await expect(factory.deploy(bad))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidChallengePeriod")
          .withArgs(bad, 1n, MAX_PERIOD);
      }
      const day = await deployChannels(86_400n);
      expect(await day.minChallengePeriod()).to.equal(86_400n);
    });
  });

  describe("open and accept", function () {
    it("opens a pending channel with a deterministic id, pulls the deposit and emits ChannelOpened", async function () {
      const { token, channels, channelsAddress, alice, bob } = await loadFixture(deployFixture);
      const t = await token.getAddress();
      const expected = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["uint256", "address", "address", "address", "address", "uint256"],
          [31337n, channelsAddress, alice.address, bob.address, t, 0n]
        )
      );
      expect(await channels.nextChannelId(alice.address, bob.address, t)).to.equal(expected);
      const tx = channels.connect(alice).open(bob.address, t, ethers.ZeroAddress, 1_000n, PERIOD);
      await expect(tx)
        .to.emit(channels, "ChannelOpened")
        .withArgs(expected, alice.address, bob.address, t, alice.address, 1_000n, PERIOD);
      await expect(tx).to.changeTokenBalances(token, [alice, channels], [-1_000n, 1_000n]);
      const c = await channels.getChannel(expected);
      expect([c.state, c.token, c.challengePeriod, c.closesAt]).to.deep.equal([State.Pending, t, PERIOD, 0n]);
      expect([c.a.account, c.a.signingKey, c.a.deposit]).to.deep.equal([alice.address, alice.address, 1_000n]);
      expect([c.b.account, c.b.signingKey, c.b.deposit]).to.deep.equal([bob.address, ethers.ZeroAddress, 0n]);
      expect(await channels.nextChannelId(alice.address, bob.address, t)).to.not.equal(expected);
    });

    it("lets B accept with its own key or a named key and a deposit", async function () {
      const { token, channels, alice, bob, carol } = await loadFixture(deployFixture);
      const id = await openChannel(channels, token, alice, bob, 1_000n, null);
      const tx = channels.connect(bob).accept(id, carol.address, 500n);
      await expect(tx).to.emit(channels, "ChannelAccepted").withArgs(id, bob.address, carol.address, 500n);
      await expect(tx).to.changeTokenBalances(token, [bob, channels], [-500n, 500n]);
      const c = await channels.getChannel(id);
      expect([c.state, c.b.signingKey, c.b.deposit]).to.deep.equal([State.Open, carol.address, 500n]);
      await expect(channels.connect(bob).accept(id, ethers.ZeroAddress, 0n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Open);
    });

    it("refuses an accept by anyone but B, and signing keys that are the other side or its key", async function () {
      const { token, channels, alice, bob, carol } = await loadFixture(deployFixture);
      const id = await openChannel(channels, token, alice, bob, 1_000n, null);
      for (const who of [alice, carol]) {
        await expect(channels.connect(who).accept(id, ethers.ZeroAddress, 0n))
          .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
          .withArgs(id, who.address);
      }
      await expect(channels.connect(bob).accept(id, alice.address, 0n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSigningKey")
        .withArgs(alice.address);
      // A with a named key: B may name neither that key nor A's account; A may not name B
      const t = await token.getAddress();
      const named = await channels.nextChannelId(alice.address, bob.address, t);
      await channels.connect(alice).open(bob.address, t, carol.address, 1n, PERIOD);
      for (const key of [carol.address, alice.address]) {
        await expect(channels.connect(bob).accept(named, key, 0n))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidSigningKey")
          .withArgs(key);
      }
      await expect(channels.connect(alice).open(bob.address, t, bob.address, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSigningKey")
        .withArgs(bob.address);
    });

    it("returns A's deposit at once when a pending channel is closed", async function () {
      const { token, channels, alice, bob } = await loadFixture(deployFixture);
      const id = await openChannel(channels, token, alice, bob, 1_000n, null);
      await channels.connect(alice).deposit(id, 10n);
      const tx = channels.connect(bob).close(id, 0n, 0n, "0x");
      await expect(tx).to.emit(channels, "ChannelSettled").withArgs(id, 1_010n, 0n, false);
      await expect(tx).to.changeTokenBalances(token, [alice, channels], [1_010n, -1_010n]);
      await expect(channels.connect(bob).accept(id, ethers.ZeroAddress, 0n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Settled);
    });

    it("rejects a zero or self counterparty, a zero token and out-of-bounds periods", async function () {
      const { token, channels, alice, bob } = await loadFixture(deployFixture);
      const t = await token.getAddress();
      const z = ethers.ZeroAddress;
      await expect(channels.connect(alice).open(z, t, z, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidParticipant")
        .withArgs(z);
      await expect(channels.connect(alice).open(alice.address, t, z, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidParticipant")
        .withArgs(alice.address);
      await expect(channels.connect(alice).open(bob.address, z, z, 1n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidToken")
        .withArgs(z);
      for (const p of [MIN_PERIOD - 1n, MAX_PERIOD + 1n]) {
        await expect(channels.connect(alice).open(bob.address, t, z, 1n, p))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidChallengePeriod")
          .withArgs(p, MIN_PERIOD, MAX_PERIOD);
      }
      await openChannel(channels, token, alice, bob, 1n, 0n, MIN_PERIOD);
      await openChannel(channels, token, alice, bob, 1n, 0n, MAX_PERIOD);
    });

    describe("openWithPermit", function () {
      async function permit(token, owner, spender, value, deadline) {
        const domain = { name: "Test USD", version: "1", chainId: 31337n, verifyingContract: await token.getAddress() };
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

      it("opens with a permit instead of an approval, also after a front-runner used it", async function () {
        const { token, channels, channelsAddress, relayer, bob } = await loadFixture(deployFixture);
        await token.mint(relayer.address, 200n);
        const t = await token.getAddress();
        const z = ethers.ZeroAddress;
        let deadline = (await time.latest()) + 3600;
        let sig = await permit(token, relayer, channelsAddress, 100n, deadline);
        const id = await channels.nextChannelId(relayer.address, bob.address, t);
        const tx = channels.connect(relayer).openWithPermit(bob.address, t, z, 100n, PERIOD, deadline, sig.v, sig.r, sig.s);
        await expect(tx).to.emit(channels, "ChannelOpened").withArgs(id, relayer.address, bob.address, t, relayer.address, 100n, PERIOD);
        await expect(tx).to.changeTokenBalances(token, [relayer, channels], [-100n, 100n]);
        sig = await permit(token, relayer, channelsAddress, 100n, deadline);
        await token.permit(relayer.address, channelsAddress, 100n, deadline, sig.v, sig.r, sig.s);
        await expect(
          channels.connect(relayer).openWithPermit(bob.address, t, z, 100n, PERIOD, deadline, sig.v, sig.r, sig.s)
        ).to.changeTokenBalance(token, channels, 100n);
        deadline += 1;
        sig = await permit(token, bob, channelsAddress, 100n, deadline);
        await expect(
          channels.connect(relayer).openWithPermit(bob.address, t, z, 100n, PERIOD, deadline, sig.v, sig.r, sig.s)
        )
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(channelsAddress, 0n, 100n);
      });
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
    });

    it("rejects B before it accepted, unknown and closing channels, zero amounts and strangers", async function () {
      const { token, channels, id, alice, bob, carol } = await loadFixture(closingFixture);
      const pending = await openChannel(channels, token, alice, bob, 1n, null);
      await expect(channels.connect(bob).deposit(pending, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(pending, State.Pending);
      await expect(channels.connect(alice).deposit(ethers.ZeroHash, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(ethers.ZeroHash, State.None);
      await expect(channels.connect(alice).deposit(id, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Closing);
      await expect(channels.connect(alice).deposit(pending, 0n))
        .to.be.revertedWithCustomError(channels, "ChannelZeroAmount")
        .withArgs(pending);
      await expect(channels.connect(carol).deposit(pending, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(pending, carol.address);
    });
  });

  describe("withdraw", function () {
    async function both(f, participant, total, expiry = MAX) {
      return [
        await signWithdrawal(f.alice, f.channels, f.id, participant, total, expiry),
        await signWithdrawal(f.bob, f.channels, f.id, participant, total, expiry),
      ];
    }

    it("pays the difference to a new withdrawn total under both signatures, anyone submitting", async function () {
      const f = await loadFixture(openChannelFixture);
      const sigs = await both(f, f.bob.address, 300n);
      const tx = f.channels.connect(f.relayer).withdraw(f.id, f.bob.address, 300n, MAX, ...sigs);
      await expect(tx).to.emit(f.channels, "ChannelWithdrawn").withArgs(f.id, f.bob.address, 300n, 300n);
      await expect(tx).to.changeTokenBalances(f.token, [f.bob, f.channels], [300n, -300n]);
      await expect(f.channels.withdraw(f.id, f.bob.address, 300n, MAX, ...sigs))
        .to.be.revertedWithCustomError(f.channels, "ChannelStaleWithdrawal")
        .withArgs(f.id, f.bob.address, 300n, 300n);
      const more = await both(f, f.bob.address, 450n);
      await expect(f.channels.withdraw(f.id, f.bob.address, 450n, MAX, ...more)).to.changeTokenBalance(f.token, f.bob, 150n);
      expect((await f.channels.getChannel(f.id)).b.withdrawn).to.equal(450n);
    });

    it("accepts up to the expiry second and everything the other side has not withdrawn", async function () {
      const f = await loadFixture(openChannelFixture);
      const expiry = BigInt(await time.latest()) + 100n;
      const sigs = await both(f, f.alice.address, 1_500n, expiry);
      await time.setNextBlockTimestamp(expiry);
      await expect(f.channels.withdraw(f.id, f.alice.address, 1_500n, expiry, ...sigs)).to.changeTokenBalance(
        f.token,
        f.alice,
        1_500n
      );
    });

    it("rejects expired, excessive, misordered and foreign authorizations and non-open channels", async function () {
      const f = await loadFixture(openChannelFixture);
      const expiry = BigInt(await time.latest()) + 100n;
      const expired = await both(f, f.bob.address, 100n, expiry);
      await time.setNextBlockTimestamp(expiry + 1n);
      await expect(f.channels.withdraw(f.id, f.bob.address, 100n, expiry, ...expired))
        .to.be.revertedWithCustomError(f.channels, "ChannelAuthorizationExpired")
        .withArgs(f.id, expiry, expiry + 1n);
      const tooMuch = await both(f, f.bob.address, 1_501n);
      await expect(f.channels.withdraw(f.id, f.bob.address, 1_501n, MAX, ...tooMuch))
        .to.be.revertedWithCustomError(f.channels, "ChannelWithdrawalExceedsFunds")
        .withArgs(f.id, 1_501n, 1_500n);
      const [sigA, sigB] = await both(f, f.bob.address, 100n);
      await expect(f.channels.withdraw(f.id, f.bob.address, 100n, MAX, sigB, sigA))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
      await expect(f.channels.withdraw(f.id, f.bob.address, 100n, MAX, sigA, sigA))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.bob.address);
      await expect(f.channels.withdraw(f.id, f.alice.address, 100n, MAX, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
      const toCarol = await both(f, f.carol.address, 100n);
      await expect(f.channels.withdraw(f.id, f.carol.address, 100n, MAX, ...toCarol))
        .to.be.revertedWithCustomError(f.channels, "ChannelNotParticipant")
        .withArgs(f.id, f.carol.address);
      // withdraw after close
      await f.channels.connect(f.alice).close(f.id, 0n, 0n, "0x");
      await expect(f.channels.withdraw(f.id, f.bob.address, 100n, MAX, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidState")
        .withArgs(f.id, State.Closing);
    });
  });

  describe("cooperativeClose", function () {
    it("settles at once with both signatures over the final withdrawn totals, anyone submitting", async function () {
      const f = await loadFixture(openChannelFixture);
      const w = [
        await signWithdrawal(f.alice, f.channels, f.id, f.bob.address, 100n),
        await signWithdrawal(f.bob, f.channels, f.id, f.bob.address, 100n),
      ];
      await f.channels.withdraw(f.id, f.bob.address, 100n, MAX, ...w);
      const sigA = await signClose(f.alice, f.channels, f.id, 400n, 1_100n);
      const sigB = await signClose(f.bob, f.channels, f.id, 400n, 1_100n);
      const tx = f.channels.connect(f.relayer).cooperativeClose(f.id, 400n, 1_100n, MAX, sigA, sigB);
      await expect(tx).to.emit(f.channels, "ChannelSettled").withArgs(f.id, 400n, 1_000n, true);
      await expect(tx).to.changeTokenBalances(f.token, [f.alice, f.bob, f.channels], [400n, 1_000n, -1_400n]);
      await expect(f.channels.cooperativeClose(f.id, 400n, 1_100n, MAX, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidState")
        .withArgs(f.id, State.Settled);
    });

    it("rejects totals that do not pay out the deposits, expired or misordered signatures and balance proofs", async function () {
      const f = await loadFixture(openChannelFixture);
      const mA = await signClose(f.alice, f.channels, f.id, 1_000n, 501n);
      const mB = await signClose(f.bob, f.channels, f.id, 1_000n, 501n);
      await expect(f.channels.cooperativeClose(f.id, 1_000n, 501n, MAX, mA, mB))
        .to.be.revertedWithCustomError(f.channels, "ChannelCooperativeCloseMismatch")
        .withArgs(f.id, 1_000n, 501n, 1_500n);
      await expect(f.channels.cooperativeClose(f.id, MAX, 1n, MAX, mA, mB))
        .to.be.revertedWithCustomError(f.channels, "ChannelCooperativeCloseMismatch")
        .withArgs(f.id, MAX, 1n, 1_500n);
      const expiry = BigInt(await time.latest()) + 10n;
      const eA = await signClose(f.alice, f.channels, f.id, 1_000n, 500n, expiry);
      const eB = await signClose(f.bob, f.channels, f.id, 1_000n, 500n, expiry);
      await time.setNextBlockTimestamp(expiry + 1n);
      await expect(f.channels.cooperativeClose(f.id, 1_000n, 500n, expiry, eA, eB))
        .to.be.revertedWithCustomError(f.channels, "ChannelAuthorizationExpired")
        .withArgs(f.id, expiry, expiry + 1n);
      const sigA = await signClose(f.alice, f.channels, f.id, 1_000n, 500n);
      const sigB = await signClose(f.bob, f.channels, f.id, 1_000n, 500n);
      await expect(f.channels.cooperativeClose(f.id, 1_000n, 500n, MAX, sigB, sigA))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
      // a withdrawal authorization with the same numbers is another type
      const wA = await signWithdrawal(f.alice, f.channels, f.id, f.alice.address, 1_000n, MAX);
      await expect(f.channels.cooperativeClose(f.id, 1_000n, 500n, MAX, wA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelInvalidSignature")
        .withArgs(f.id, f.alice.address);
    });

    it("rejects totals below a participant's withdrawals so far", async function () {
      const f = await loadFixture(openChannelFixture);
      const w = [
        await signWithdrawal(f.alice, f.channels, f.id, f.bob.address, 600n),
        await signWithdrawal(f.bob, f.channels, f.id, f.bob.address, 600n),
      ];
      await f.channels.withdraw(f.id, f.bob.address, 600n, MAX, ...w);
      const sigA = await signClose(f.alice, f.channels, f.id, 1_000n, 500n);
      const sigB = await signClose(f.bob, f.channels, f.id, 1_000n, 500n);
      await expect(f.channels.cooperativeClose(f.id, 1_000n, 500n, MAX, sigA, sigB))
        .to.be.revertedWithCustomError(f.channels, "ChannelCooperativeCloseMismatch")
        .withArgs(f.id, 1_000n, 500n, 1_500n);
    });
  });

  describe("close, updateBalanceProof, settle", function () {
    it("starts the challenge period with the counterparty's proof, from either side", async function () {
      const { channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const sig = await signProof(alice, channels, id, 2n, 400n);
      const tx = channels.connect(bob).close(id, 2n, 400n, sig);
      const closesAt = BigInt(await time.latest()) + 1n + PERIOD;
      await expect(tx).to.emit(channels, "ChannelClosed").withArgs(id, bob.address, 2n, 400n, closesAt);
      const c = await channels.getChannel(id);
      expect([c.state, c.closesAt, c.closedByA, c.a.nonce, c.a.transferred]).to.deep.equal([
        State.Closing,
        closesAt,
        false,
        2n,
        400n,
      ]);
      expect(await channels.payouts(id)).to.deep.equal([600n, 900n]);
    });

    it("rejects strangers, nonce 0 with an amount, the closer's own signature and a closing channel", async function () {
      const { channels, id, alice, bob, carol } = await loadFixture(openChannelFixture);
      const sig = await signProof(bob, channels, id, 3n, 300n);
      await expect(channels.connect(carol).close(id, 3n, 300n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
      await expect(channels.connect(alice).close(id, 0n, 300n, sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidProof")
        .withArgs(id, 0n, 300n);
      const own = await signProof(alice, channels, id, 3n, 300n);
      await expect(channels.connect(alice).close(id, 3n, 300n, own))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, bob.address);
      await channels.connect(alice).close(id, 3n, 300n, sig);
      await expect(channels.connect(bob).close(id, 0n, 0n, "0x"))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Closing);
    });

    it("keeps each side's proof with the largest transferred total, submitted by anyone in the window", async function () {
      const { channels, id, alice, bob, relayer, closesAt } = await loadFixture(closingFixture);
      const a5 = await signProof(alice, channels, id, 5n, 200n);
      await expect(channels.connect(relayer).updateBalanceProof(id, alice.address, 5n, 200n, a5))
        .to.emit(channels, "ChannelBalanceProofUpdated")
        .withArgs(id, alice.address, relayer.address, 5n, 200n);
      // a later nonce with a smaller total never undoes a payment
      const a9 = await signProof(alice, channels, id, 9n, 100n);
      await expect(channels.connect(alice).updateBalanceProof(id, alice.address, 9n, 100n, a9))
        .to.be.revertedWithCustomError(channels, "ChannelStaleProof")
        .withArgs(id, alice.address, 100n, 200n);
      // the closer may raise the counterparty's total too (it only gains what bob signed)
      const b4 = await signProof(bob, channels, id, 4n, 350n);
      await channels.connect(alice).updateBalanceProof(id, bob.address, 4n, 350n, b4);
      const wrong = await signProof(bob, channels, id, 6n, 250n);
      await expect(channels.updateBalanceProof(id, alice.address, 6n, 250n, wrong))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, alice.address);
      await expect(channels.updateBalanceProof(id, relayer.address, 6n, 250n, wrong))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, relayer.address);
      await time.setNextBlockTimestamp(closesAt);
      const a10 = await signProof(alice, channels, id, 10n, 500n);
      await expect(channels.updateBalanceProof(id, alice.address, 10n, 500n, a10))
        .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodOver")
        .withArgs(id, closesAt);
    });

    it("settles with deposit - withdrawn - transferred + received from the end of the window on", async function () {
      const { token, channels, id, alice, bob, relayer, closesAt } = await loadFixture(closingFixture);
      const a5 = await signProof(alice, channels, id, 5n, 200n);
      await channels.connect(bob).updateBalanceProof(id, alice.address, 5n, 200n, a5);
      await time.setNextBlockTimestamp(closesAt - 1n);
      await expect(channels.settle(id))
        .to.be.revertedWithCustomError(channels, "ChannelChallengePeriodActive")
        .withArgs(id, closesAt);
      // alice: 1,000 - 200 + 300 = 1,100; bob: 500 - 300 + 200 = 400
      const tx = channels.connect(relayer).settle(id);
      await expect(tx).to.emit(channels, "ChannelSettled").withArgs(id, 1_100n, 400n, false);
      await expect(tx).to.emit(channels, "ChannelPaidOut").withArgs(id, bob.address, bob.address, 400n);
      await expect(tx).to.changeTokenBalances(token, [alice, bob, channels], [1_100n, 400n, -1_500n]);
      await expect(channels.settle(id))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(id, State.Settled);
      await expect(channels.connect(alice).claim(id, alice.address))
        .to.be.revertedWithCustomError(channels, "ChannelNothingToClaim")
        .withArgs(id, alice.address);
    });

    it("clamps a side that signed away more than it had to zero (Raiden's rule)", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(openChannelFixture);
      const huge = await signProof(alice, channels, id, 1n, MAX);
      await channels.connect(bob).close(id, 1n, MAX, huge);
      expect(await channels.payouts(id)).to.deep.equal([0n, 1_500n]);
      const bobHuge = await signProof(bob, channels, id, 1n, MAX - 1n);
      await channels.updateBalanceProof(id, bob.address, 1n, MAX - 1n, bobHuge);
      // alice sent 1 more than she received: 1,000 - 1 = 999
      expect(await channels.payouts(id)).to.deep.equal([999n, 501n]);
      await time.increase(PERIOD);
      await expect(channels.settle(id)).to.changeTokenBalances(token, [alice, bob], [999n, 501n]);
    });
  });

  describe("EIP-712", function () {
    it("exposes digests equal to ethers' TypedDataEncoder hashes", async function () {
      const { channels, id, alice } = await loadFixture(openChannelFixture);
      const domain = await domainOf(channels);
      const hash = (type, value) => ethers.TypedDataEncoder.hash(domain, { [type]: TYPES[type] }, value);
      expect(await channels.balanceProofDigest(id, 12n, MAX)).to.equal(
        hash("BalanceProof", { channelId: id, nonce: 12n, transferred: MAX })
      );
      expect(await channels.cooperativeCloseDigest(id, 1n, 2n, 3n)).to.equal(
        hash("CooperativeClose", { channelId: id, totalWithdrawnA: 1n, totalWithdrawnB: 2n, expiry: 3n })
      );
      expect(await channels.withdrawalDigest(id, alice.address, 5n, MAX)).to.equal(
        hash("Withdrawal", { channelId: id, participant: alice.address, totalWithdrawn: 5n, expiry: MAX })
      );
      const [, name, version, chainId, verifyingContract] = await channels.eip712Domain();
      expect({ name, version, chainId, verifyingContract }).to.deep.equal(domain);
      expect(await channels.BALANCE_PROOF_TYPEHASH()).to.equal(
        ethers.id("BalanceProof(bytes32 channelId,uint256 nonce,uint256 transferred)")
      );
      expect(await channels.COOPERATIVE_CLOSE_TYPEHASH()).to.equal(
        ethers.id("CooperativeClose(bytes32 channelId,uint256 totalWithdrawnA,uint256 totalWithdrawnB,uint256 expiry)")
      );
      expect(await channels.WITHDRAWAL_TYPEHASH()).to.equal(
        ethers.id("Withdrawal(bytes32 channelId,address participant,uint256 totalWithdrawn,uint256 expiry)")
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
        ["BalanceProof", 0, { channelId, nonce: 1n, transferred: 1_000n }],
        ["BalanceProof", 1, { channelId, nonce: 2n, transferred: 0n }],
        ["BalanceProof", 2, { channelId: ethers.ZeroHash, nonce: MAX, transferred: MAX }],
        ["CooperativeClose", 1, { channelId, totalWithdrawnA: 400n, totalWithdrawnB: 1_100n, expiry: 1_900_000_000n }],
        ["Withdrawal", 0, { channelId, participant: signers[1].address, totalWithdrawn: 300n, expiry: 1_900_000_000n }],
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
      const json = { domain: { ...domain, chainId: domain.chainId.toString() }, types: TYPES, cases };
      const dir = path.join(__dirname, "..", "target", "interop");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "channel-proofs.json"), JSON.stringify(json, null, 2) + "\n");
    });
  });
});
