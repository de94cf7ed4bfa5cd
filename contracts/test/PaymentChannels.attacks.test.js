// One test per finding of the review of issue 7 (named after it), each showing that the attack
// fails: the attacker gets nothing and the honest side gets what its newest proof says. Then the
// replay, overflow and reentrancy attacks.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const {
  State,
  PERIOD,
  MAX,
  domainOf,
  sign,
  signProof,
  signClose,
  signWithdrawal,
  openedId,
  openChannel,
  deployChannels,
} = require("./PaymentChannels.helpers.js");

describe("PaymentChannels attacks", function () {
  async function deployFixture() {
    const [deployer, alice, bob, carol, relayer, dave] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const channels = await deployChannels();
    const channelsAddress = await channels.getAddress();
    for (const s of [alice, bob, carol]) {
      await token.mint(s.address, 1_000_000n);
      await token.connect(s).approve(channelsAddress, MAX);
    }
    return { token, channels, channelsAddress, deployer, alice, bob, carol, relayer, dave };
  }

  /** alice (the payer) opened 1,000 to bob, bob accepted with 0, alice paid bob 600 in proofs up to nonce 5. */
  async function paidFixture() {
    const f = await deployFixture();
    const id = await openChannel(f.channels, f.token, f.alice, f.bob, 1_000n, 0n);
    const proofs = [];
    for (let n = 1n; n <= 5n; n++) {
      proofs.push({ nonce: n, transferred: 120n * n, sig: await signProof(f.alice, f.channels, id, n, 120n * n) });
    }
    return { ...f, id, newest: proofs[4], proofs };
  }

  async function settleAfterWindow(channels, id) {
    await time.increase(PERIOD);
    return channels.settle(id);
  }

  describe("findings", function () {
    it("C-1: a payer's 1-unit deposit and proofless close cannot take back what it paid", async function () {
      const { token, channels, id, alice, bob, newest } = await loadFixture(paidFixture);
      await channels.connect(alice).deposit(id, 1n);
      await channels.connect(alice).close(id, 0n, 0n, "0x");
      // bob's newest proof of alice still counts: a deposit changed nothing about it
      await channels.connect(bob).updateBalanceProof(id, alice.address, newest.nonce, newest.transferred, newest.sig);
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [alice, bob], [401n, 600n]);
    });

    it("C-1b: a proof signed before a late deposit cannot be replayed against newer proofs", async function () {
      const { token, channels, id, alice, bob, proofs, newest } = await loadFixture(paidFixture);
      // bob pays alice back 50 (his own proofs), deposits late, closes with alice's OLDEST proof
      const bobPaid = await signProof(bob, channels, id, 1n, 50n);
      await channels.connect(bob).deposit(id, 500n);
      await channels.connect(bob).close(id, proofs[0].nonce, proofs[0].transferred, proofs[0].sig);
      await channels.connect(alice).updateBalanceProof(id, bob.address, 1n, 50n, bobPaid);
      await channels.connect(alice).updateBalanceProof(id, alice.address, newest.nonce, newest.transferred, newest.sig);
      // neither an older proof nor a later-nonce proof with a smaller total brings back the old state
      await expect(
        channels.updateBalanceProof(id, alice.address, proofs[1].nonce, proofs[1].transferred, proofs[1].sig)
      )
        .to.be.revertedWithCustomError(channels, "ChannelStaleProof")
        .withArgs(id, alice.address, proofs[1].transferred, 600n);
      // alice: 1,000 - 600 + 50 = 450; bob: 500 - 50 + 600 = 1,050
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [alice, bob], [450n, 1_050n]);
    });

    it("C-2: after a withdrawal a 1-unit deposit still leaves a closable state with the right payouts", async function () {
      const { token, channels, id, alice, bob, newest } = await loadFixture(paidFixture);
      const w = [
        await signWithdrawal(alice, channels, id, bob.address, 200n),
        await signWithdrawal(bob, channels, id, bob.address, 200n),
      ];
      await channels.withdraw(id, bob.address, 200n, MAX, ...w);
      await channels.connect(alice).deposit(id, 1n);
      await channels.connect(bob).close(id, newest.nonce, newest.transferred, newest.sig);
      // alice: 1,001 - 600 = 401; bob: 0 - 200 + 600 = 400 (he took 200 already)
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [alice, bob], [401n, 400n]);
      // and with no proof at all, anyone can still close and settle at the deposits
      const f = await loadFixture(paidFixture);
      await f.channels.withdraw(f.id, f.alice.address, 100n, MAX,
        await signWithdrawal(f.alice, f.channels, f.id, f.alice.address, 100n),
        await signWithdrawal(f.bob, f.channels, f.id, f.alice.address, 100n));
      await f.channels.connect(f.bob).deposit(f.id, 1n);
      await f.channels.connect(f.bob).close(f.id, 0n, 0n, "0x");
      await expect(settleAfterWindow(f.channels, f.id)).to.changeTokenBalances(f.token, [f.alice, f.bob], [900n, 1n]);
    });

    it("C-3: a payer whose EOA gets code (hardhat_setCode) cannot void its past ECDSA proofs", async function () {
      const { token, channels, id, alice, bob, newest } = await loadFixture(paidFixture);
      const delegate = await ethers.deployContract("TestToken", ["No 1271", "NO", 6]); // no isValidSignature
      await network.provider.send("hardhat_setCode", [alice.address, "0xef0100" + (await delegate.getAddress()).slice(2)]);
      expect(await ethers.provider.getCode(alice.address)).to.not.equal("0x");
      await channels.connect(alice).close(id, 0n, 0n, "0x");
      // full contract code now: still nothing changes which signatures count
      const wallet = await ethers.deployContract("ChannelSmartWallet", [ethers.ZeroAddress]);
      await network.provider.send("hardhat_setCode", [alice.address, await ethers.provider.getCode(await wallet.getAddress())]);
      await channels.connect(bob).updateBalanceProof(id, alice.address, newest.nonce, newest.transferred, newest.sig);
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [alice, bob], [400n, 600n]);
    });

    it("C-3: a payer delegating with a real EIP-7702 type-4 transaction cannot void its past proofs", async function () {
      const { token, channels, channelsAddress, bob } = await loadFixture(deployFixture);
      const payer = ethers.Wallet.createRandom().connect(ethers.provider);
      await network.provider.send("hardhat_setBalance", [payer.address, "0x56BC75E2D63100000"]);
      await token.mint(payer.address, 1_000n);
      await (await token.connect(payer).approve(channelsAddress, MAX)).wait();
      const opened = await (await channels.connect(payer).open(bob.address, await token.getAddress(), ethers.ZeroAddress, 1_000n, PERIOD)).wait();
      const id = openedId(channels, opened);
      await channels.connect(bob).accept(id, ethers.ZeroAddress, 0n);
      const paid = await signProof(payer, channels, id, 7n, 700n);

      const delegate = await ethers.deployContract("TestToken", ["No 1271", "NO", 6]);
      const nonce = await ethers.provider.getTransactionCount(payer.address);
      const auth = await payer.authorize({ address: await delegate.getAddress(), nonce: nonce + 1, chainId: 31337n });
      const tx = await payer.sendTransaction({ type: 4, to: bob.address, authorizationList: [auth], gasLimit: 100_000n });
      expect((await tx.wait()).type).to.equal(4);
      expect(await ethers.provider.getCode(payer.address)).to.equal(
        ("0xef0100" + (await delegate.getAddress()).slice(2)).toLowerCase()
      );

      await (await channels.connect(payer).close(id, 0n, 0n, "0x")).wait();
      await channels.connect(bob).updateBalanceProof(id, payer.address, 7n, 700n, paid);
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [payer, bob], [300n, 700n]);
    });

    it("C-3: a smart wallet that rotates its owner key cannot void the proofs of the key it named", async function () {
      const { token, channels, bob, carol, dave } = await loadFixture(deployFixture);
      const wallet = await ethers.deployContract("ChannelSmartWallet", [carol.address]);
      const w = await wallet.getAddress();
      const t = await token.getAddress();
      await token.mint(w, 1_000n);
      const call = (signer, data) => wallet.connect(signer).execute.staticCall(channels, data).then(() => wallet.connect(signer).execute(channels, data));
      await wallet.connect(carol).execute(t, token.interface.encodeFunctionData("approve", [await channels.getAddress(), MAX]));
      const id = await channels.nextChannelId(w, bob.address, t);
      // the wallet names carol's EOA as its signing key
      await call(carol, channels.interface.encodeFunctionData("open", [bob.address, t, carol.address, 1_000n, PERIOD]));
      await channels.connect(bob).accept(id, ethers.ZeroAddress, 0n);
      expect((await channels.getChannel(id)).a.signingKey).to.equal(carol.address);
      const paid = await signProof(carol, channels, id, 3n, 800n);

      await wallet.connect(carol).setOwner(dave.address);
      await call(dave, channels.interface.encodeFunctionData("close", [id, 0n, 0n, "0x"]));
      // the new owner's key is not the channel's key, ERC-1271 is not consulted
      const byNewOwner = await signProof(dave, channels, id, 9n, 10n);
      await expect(channels.updateBalanceProof(id, w, 9n, 10n, byNewOwner))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, carol.address);
      await channels.connect(bob).updateBalanceProof(id, w, 3n, 800n, paid);
      await expect(settleAfterWindow(channels, id)).to.changeTokenBalances(token, [w, bob.address], [200n, 800n]);
    });

    it("C-4: a monitoring service defends an offline payee; the window is the accepted one, at least the minimum", async function () {
      const { token, channels, id, alice, bob, relayer, newest } = await loadFixture(paidFixture);
      await channels.connect(alice).close(id, 0n, 0n, "0x");
      // bob is offline; his monitoring service (relayer) submits alice's newest proof
      await expect(channels.connect(relayer).updateBalanceProof(id, alice.address, newest.nonce, newest.transferred, newest.sig))
        .to.emit(channels, "ChannelBalanceProofUpdated")
        .withArgs(id, alice.address, relayer.address, newest.nonce, newest.transferred);
      const tx = settleAfterWindow(channels, id);
      await expect(tx).to.changeTokenBalances(token, [alice, bob, relayer], [400n, 600n, 0n]);
      // the opener cannot pick a window below the protocol minimum, and no proof counts before B accepted
      const t = await token.getAddress();
      await expect(channels.connect(alice).open(bob.address, t, ethers.ZeroAddress, 1n, 599n))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidChallengePeriod")
        .withArgs(599n, 600n, 30n * 24n * 3600n);
      const pending = await openChannel(channels, token, alice, bob, 100n, null);
      const early = await signProof(alice, channels, pending, 1n, 100n);
      await expect(channels.connect(bob).close(pending, 1n, 100n, early)).to.changeTokenBalances(token, [alice, bob], [100n, 0n]);
      await expect(channels.updateBalanceProof(pending, alice.address, 1n, 100n, early))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidState")
        .withArgs(pending, State.Settled);
    });

    it("C-6: a token that refuses one side never blocks the other side's payout", async function () {
      const { channels, alice, bob, carol } = await loadFixture(deployFixture);
      const hostile = await ethers.deployContract("HostileToken");
      for (const s of [alice, bob]) {
        await hostile.mint(s.address, 10_000n);
        await hostile.connect(s).approve(await channels.getAddress(), MAX);
      }
      const id = await openChannel(channels, hostile, alice, bob, 1_000n, 500n);
      const paid = await signProof(alice, channels, id, 1n, 300n);
      await channels.connect(bob).close(id, 1n, 300n, paid);
      await hostile.setFailMode(alice.address, 1); // alice is blocklisted: transfers to her revert
      await time.increase(PERIOD);
      const tx = channels.settle(id);
      await expect(tx).to.emit(channels, "ChannelPayoutRefused").withArgs(id, alice.address, 700n);
      await expect(tx).to.changeTokenBalances(hostile, [alice, bob], [0n, 800n]);
      expect((await channels.getChannel(id)).a.unclaimed).to.equal(700n);
      // alice claims to an address the token accepts, once
      await expect(channels.connect(carol).claim(id, carol.address))
        .to.be.revertedWithCustomError(channels, "ChannelNotParticipant")
        .withArgs(id, carol.address);
      // never to an address where the payout would be stranded
      await expect(channels.connect(alice).claim(id, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidRecipient").withArgs(id, ethers.ZeroAddress);
      await expect(channels.connect(alice).claim(id, await channels.getAddress()))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidRecipient").withArgs(id, await channels.getAddress());
      await expect(channels.connect(alice).claim(id, carol.address)).to.changeTokenBalance(hostile, carol, 700n);
      await expect(channels.connect(alice).claim(id, carol.address))
        .to.be.revertedWithCustomError(channels, "ChannelNothingToClaim")
        .withArgs(id, alice.address);
      // a token returning false for B does not block a cooperative close for A
      const id2 = await openChannel(channels, hostile, alice, bob, 100n, 100n);
      await hostile.setFailMode(alice.address, 0);
      await hostile.setFailMode(bob.address, 2);
      const sigA = await signClose(alice, channels, id2, 150n, 50n);
      const sigB = await signClose(bob, channels, id2, 150n, 50n);
      const coop = channels.cooperativeClose(id2, 150n, 50n, MAX, sigA, sigB);
      await expect(coop).to.emit(channels, "ChannelPayoutRefused").withArgs(id2, bob.address, 50n);
      await expect(coop).to.changeTokenBalances(hostile, [alice, bob], [150n, 0n]);
      expect(await hostile.balanceOf(await channels.getAddress())).to.equal(50n);
    });

    it("C-7: a replacement withdrawal never pays twice: totals, not amounts", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(paidFixture);
      const auth = async (total) => [
        await signWithdrawal(alice, channels, id, bob.address, total),
        await signWithdrawal(bob, channels, id, bob.address, total),
      ];
      const first = await auth(300n);
      const replacement = await auth(350n);
      await expect(channels.withdraw(id, bob.address, 300n, MAX, ...first)).to.changeTokenBalance(token, bob, 300n);
      await expect(channels.withdraw(id, bob.address, 350n, MAX, ...replacement)).to.changeTokenBalance(token, bob, 50n);
      await expect(channels.withdraw(id, bob.address, 300n, MAX, ...first))
        .to.be.revertedWithCustomError(channels, "ChannelStaleWithdrawal")
        .withArgs(id, bob.address, 300n, 350n);
      // in the other order the first is simply stale
      const f = await loadFixture(paidFixture);
      const a = [await signWithdrawal(f.alice, f.channels, f.id, f.bob.address, 300n), await signWithdrawal(f.bob, f.channels, f.id, f.bob.address, 300n)];
      const r = [await signWithdrawal(f.alice, f.channels, f.id, f.bob.address, 250n), await signWithdrawal(f.bob, f.channels, f.id, f.bob.address, 250n)];
      await f.channels.withdraw(f.id, f.bob.address, 250n, MAX, ...r);
      await expect(f.channels.withdraw(f.id, f.bob.address, 300n, MAX, ...a)).to.changeTokenBalance(f.token, f.bob, 50n);
      expect((await f.channels.getChannel(f.id)).b.withdrawn).to.equal(300n);
    });
  });

  describe("replays", function () {
    it("refuses a proof on another channel of the same pair and on a reopened channel", async function () {
      const { token, channels, id, alice, bob, newest } = await loadFixture(paidFixture);
      const other = await openChannel(channels, token, alice, bob, 1_000n, 0n);
      await expect(channels.connect(bob).close(other, newest.nonce, newest.transferred, newest.sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(other, alice.address);
      await channels.connect(alice).close(id, 0n, 0n, "0x");
      await settleAfterWindow(channels, id);
      const reopened = await openChannel(channels, token, alice, bob, 1_000n, 0n);
      expect(reopened).to.not.equal(id);
      await expect(channels.connect(bob).close(reopened, newest.nonce, newest.transferred, newest.sig))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(reopened, alice.address);
    });

    it("refuses proofs for another contract, another chain and another type", async function () {
      const { token, channels, id, alice, bob } = await loadFixture(paidFixture);
      const second = await deployChannels();
      await token.connect(alice).approve(await second.getAddress(), MAX);
      const id2 = await openChannel(second, token, alice, bob, 1_000n, 0n);
      const forFirst = await signProof(alice, channels, id2, 1n, 900n);
      await expect(second.connect(bob).close(id2, 1n, 900n, forFirst))
        .to.be.revertedWithCustomError(second, "ChannelInvalidSignature")
        .withArgs(id2, alice.address);
      const otherChain = await sign(alice, await domainOf(channels, 1n), "BalanceProof", { channelId: id, nonce: 1n, transferred: 900n });
      await expect(channels.connect(bob).close(id, 1n, 900n, otherChain))
        .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
        .withArgs(id, alice.address);
      // a withdrawal or cooperative close signature is not a balance proof
      const asWithdrawal = await signWithdrawal(alice, channels, id, alice.address, 900n, 1n);
      const asClose = await signClose(alice, channels, id, 1n, 900n, 0n);
      for (const sig of [asWithdrawal, asClose]) {
        await expect(channels.connect(bob).close(id, 1n, 900n, sig))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
          .withArgs(id, alice.address);
      }
    });

    it("refuses forged, malformed and high-s signatures", async function () {
      const { channels, id, bob, carol, alice } = await loadFixture(paidFixture);
      const forged = await signProof(carol, channels, id, 1n, 900n);
      const good = ethers.Signature.from(await signProof(alice, channels, id, 1n, 900n));
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = ethers.concat([good.r, ethers.toBeHex(n - BigInt(good.s), 32), good.v === 27 ? "0x1c" : "0x1b"]);
      for (const sig of [
        forged,
        "0x",
        ethers.dataSlice(good.serialized, 0, 64),
        ethers.concat([good.serialized, "0x00"]),
        ethers.concat([good.r, good.s, "0x05"]),
        ethers.concat([ethers.ZeroHash, ethers.ZeroHash, "0x1b"]),
        highS,
      ]) {
        await expect(channels.connect(bob).close(id, 1n, 900n, sig))
          .to.be.revertedWithCustomError(channels, "ChannelInvalidSignature")
          .withArgs(id, alice.address);
      }
      await expect(channels.connect(bob).close(id, 1n, 900n, good.serialized)).to.emit(channels, "ChannelClosed");
    });
  });

  describe("bounds and reentrancy", function () {
    it("refuses deposits past 2^256 - 1 together and settles transferred totals at the bounds", async function () {
      const { channels, alice, bob } = await loadFixture(deployFixture);
      const big = await ethers.deployContract("ReentrantChannelToken");
      await big.mint(alice.address, MAX - 1n);
      await big.mint(bob.address, 1n);
      await big.connect(alice).approve(await channels.getAddress(), MAX);
      await big.connect(bob).approve(await channels.getAddress(), MAX);
      const id = await openChannel(channels, big, alice, bob, MAX - 1n, 0n);
      await channels.connect(bob).deposit(id, 1n);
      await expect(channels.connect(bob).deposit(id, 1n))
        .to.be.revertedWithCustomError(channels, "ChannelDepositOverflow")
        .withArgs(id, 1n);
      // transferred totals at the bounds settle without overflow
      const a = await signProof(alice, channels, id, MAX, MAX);
      const b = await signProof(bob, channels, id, MAX, MAX);
      await channels.connect(bob).close(id, MAX, MAX, a);
      await channels.updateBalanceProof(id, bob.address, MAX, MAX, b);
      await time.increase(PERIOD);
      await expect(channels.settle(id)).to.changeTokenBalances(big, [alice, bob], [MAX - 1n, 1n]);
    });

    it("blocks reentrant calls from token callbacks; a reentrant payout stays claimable", async function () {
      const { channels, alice, bob } = await loadFixture(deployFixture);
      const evil = await ethers.deployContract("ReentrantChannelToken");
      for (const s of [alice, bob]) {
        await evil.mint(s.address, 10_000n);
        await evil.connect(s).approve(await channels.getAddress(), MAX);
      }
      const id = await openChannel(channels, evil, alice, bob, 1_000n, 0n);
      const address = await channels.getAddress();
      for (const data of [
        channels.interface.encodeFunctionData("deposit", [id, 1n]),
        channels.interface.encodeFunctionData("close", [id, 0n, 0n, "0x"]),
        channels.interface.encodeFunctionData("claim", [id, alice.address]),
      ]) {
        await evil.arm(address, data);
        await expect(channels.connect(bob).deposit(id, 10n)).to.be.revertedWithCustomError(
          channels,
          "ReentrancyGuardReentrantCall"
        );
      }
      await evil.arm(ethers.ZeroAddress, "0x");
      await channels.connect(alice).close(id, 0n, 0n, "0x");
      await time.increase(PERIOD);
      await evil.arm(address, channels.interface.encodeFunctionData("claim", [id, alice.address]));
      const tx = channels.settle(id);
      await expect(tx).to.emit(channels, "ChannelPayoutRefused").withArgs(id, alice.address, 1_000n);
      await evil.arm(ethers.ZeroAddress, "0x"); // the refused transfer rolled the token's disarming back
      await expect(channels.connect(alice).claim(id, alice.address)).to.changeTokenBalance(evil, alice, 1_000n);
      expect(await evil.balanceOf(address)).to.equal(0n);
    });
  });

  // Review "ce" (after issue 7): each test is named after the attack it tries and shows it fails.
  describe("review R", function () {
    it("R-1: a fee-on-transfer deposit cannot credit a channel more than arrived and so drain other channels", async function () {
      const { channels, channelsAddress, alice, bob, carol, dave } = await loadFixture(deployFixture);
      const fot = await ethers.deployContract("FeeOnTransferEscrowToken"); // burns 1% of each transfer
      const fotAddress = await fot.getAddress();
      for (const s of [alice, bob, carol, dave]) {
        await fot.mint(s.address, 100_000n);
        await fot.connect(s).approve(channelsAddress, MAX);
      }
      // Before the fix: an honest channel credited 1,000 holds 990, and carol (with dave, her own
      // second account) deposits 10,000 credited / 9,900 held and settles first with 10,000,
      // 100 of which belong to the honest channel; its last payout is refused forever.
      const honest = await channels.nextChannelId(alice.address, bob.address, fotAddress);
      await expect(channels.connect(alice).open(bob.address, fotAddress, ethers.ZeroAddress, 1_000n, PERIOD))
        .to.be.revertedWithCustomError(channels, "ChannelTransferMismatch")
        .withArgs(honest, 1_000n, 990n);
      const id = await openChannel(channels, fot, carol, dave, 0n, null);
      await expect(channels.connect(dave).accept(id, ethers.ZeroAddress, 10_000n))
        .to.be.revertedWithCustomError(channels, "ChannelTransferMismatch")
        .withArgs(id, 10_000n, 9_900n);
      await channels.connect(dave).accept(id, ethers.ZeroAddress, 0n);
      await expect(channels.connect(carol).deposit(id, 10_000n))
        .to.be.revertedWithCustomError(channels, "ChannelTransferMismatch")
        .withArgs(id, 10_000n, 9_900n);
      expect((await channels.getChannel(id)).a.deposit).to.equal(0n);
      expect(await fot.balanceOf(channelsAddress)).to.equal(0n);
    });
  });
});
