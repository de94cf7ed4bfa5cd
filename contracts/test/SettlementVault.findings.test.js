// One test per finding of the SettlementVault review (issue 8), each named after it and showing
// the attack failing, plus the forced-withdrawal, freeze and pause rules they rely on.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const {
  WINDOW, OPERATOR_DELAY, UNITS, MIN_FORCED, LIMIT, ROOT, depositedVault, settle, expectCustody,
} = require("./SettlementVault.fixtures.js");

const UNLIMITED = (1n << 96n) - 1n;
const MAX_BALANCE = (1n << 85n) - 1n;
const OPERATOR_ROLE = ethers.id("OPERATOR_ROLE");

describe("SettlementVault findings", function () {
  it("V-1: a stolen operator key drains at most the outflow limit, and a newly granted operator waits past the forced-withdrawal window", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, admin, operator, mallory } = f;
    // the stolen key pays every balance to the attacker: only LIMIT leaves, the rest waits as a pending payout
    const tx = await settle(f, 1n, [{ tokenId: 1, payouts: [
      { accountId: 1, amount: 400n * UNITS, recipient: mallory.address },
      { accountId: 2, amount: 1_000n * UNITS, recipient: mallory.address },
      { accountId: 3, amount: 1_000n * UNITS, recipient: mallory.address },
    ] }]);
    await expect(tx).to.changeTokenBalance(token, mallory, 400n * UNITS);
    expect(await vault.pendingPayout(token, mallory.address)).to.equal(2_000n * UNITS);
    expect(await vault.outflowAvailable(token)).to.equal(100n * UNITS);
    // claiming is rate-limited as well: 100 more today, then nothing until the window ends
    await vault.connect(mallory).claimPayout(token, mallory.address);
    const windowEnds = BigInt(await time.latest()) - 1n + 86_400n;
    await expect(vault.connect(mallory).claimPayout(token, mallory.address))
      .to.be.revertedWithCustomError(vault, "VaultOutflowLimited").withArgs(await token.getAddress(), windowEnds);
    expect(await token.balanceOf(mallory.address)).to.equal(LIMIT);
    await expectCustody(f, token);
    // governance reacts: the admin revokes the key; a replacement acts only after OPERATOR_DELAY > WINDOW
    await vault.connect(admin).revokeRole(OPERATOR_ROLE, operator.address);
    await vault.connect(admin).grantRole(OPERATOR_ROLE, mallory.address);
    const activeFrom = await vault.operatorActiveFrom(mallory.address);
    expect(activeFrom - BigInt(await time.latest())).to.equal(OPERATOR_DELAY);
    expect(OPERATOR_DELAY).to.be.greaterThan(await vault.forcedWithdrawalWindow());
    await expect(vault.connect(mallory).settleBatch(2n, ROOT, "0x"))
      .to.be.revertedWithCustomError(vault, "VaultOperatorNotActive").withArgs(mallory.address, activeFrom);
    await expect(vault.connect(mallory).registerAccounts([mallory.address]))
      .to.be.revertedWithCustomError(vault, "VaultOperatorNotActive").withArgs(mallory.address, activeFrom);
  });

  it("V-2: heartbeats cannot keep the exit shut: a censoring operator meets a forced withdrawal, the vault freezes and every account exits with its settled balance", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, alice, bob, carol, dave } = f;
    await settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -300n * UNITS }, { accountId: 2, delta: 300n * UNITS }] }]);
    await vault.connect(alice).requestForcedWithdrawal(token, 600n * UNITS);
    const [, deadline] = await vault.forcedWithdrawal(token, alice.address);
    // the operator stays and censors: a heartbeat every day for 30 days keeps the escape hatch shut
    for (let day = 0; day < 30; day++) {
      await time.increase(86_400);
      await settle(f, BigInt(day + 2), []);
      if (BigInt(await time.latest()) <= deadline) {
        await expect(vault.connect(dave).freeze(token, alice.address))
          .to.be.revertedWithCustomError(vault, "VaultForcedWithdrawalNotOverdue").withArgs(await token.getAddress(), alice.address, deadline);
        continue;
      }
      await expect(vault.connect(dave).freeze(token, alice.address))
        .to.emit(vault, "Frozen").withArgs(dave.address, await token.getAddress(), alice.address);
      break;
    }
    expect(await vault.frozen()).to.equal(true);
    await expect(settle(f, await vault.lastBatchId() + 1n, [])).to.be.revertedWithCustomError(vault, "VaultFrozen");
    await expect(vault.connect(dave).deposit(token, 1n)).to.be.revertedWithCustomError(vault, "VaultFrozen");
    for (const [user, balance] of [[alice, 700n], [bob, 1_300n], [carol, 1_000n]]) {
      await expect(vault.connect(user).escapeWithdraw(token)).to.changeTokenBalance(token, user, balance * UNITS);
      await expect(vault.connect(user).escapeWithdraw(token))
        .to.be.revertedWithCustomError(vault, "VaultNothingToWithdraw").withArgs(await token.getAddress(), user.address);
    }
    expect(await token.balanceOf(vault)).to.equal(0n);
    await expectCustody(f, token);
  });

  it("V-2: tokens the admin did not list cannot be deposited", async function () {
    const f = await loadFixture(depositedVault);
    const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
    await other.mint(f.alice.address, 1_000n);
    await other.connect(f.alice).approve(f.vault, 1_000n);
    await expect(f.vault.connect(f.alice).deposit(other, 1_000n))
      .to.be.revertedWithCustomError(f.vault, "VaultTokenNotListed").withArgs(await other.getAddress());
    await expect(f.vault.connect(f.alice).listToken(other, 1n, 1n))
      .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount");
    await expect(f.vault.connect(f.admin).listToken(f.token, 1n, 1n))
      .to.be.revertedWithCustomError(f.vault, "VaultTokenAlreadyListed").withArgs(await f.token.getAddress());
    await expect(f.vault.connect(f.admin).listToken(other, 0n, 1n))
      .to.be.revertedWithCustomError(f.vault, "VaultInvalidTokenLimits").withArgs(0n, 1n);
  });

  it("V-3: a credit past 2^85 - 1 never reverts the batch: the excess becomes a pending payout and every token and payout settles", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, admin, alice, bob, dave } = f;
    const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
    await vault.connect(admin).listToken(big, 1n, UNLIMITED);
    await big.mint(alice.address, MAX_BALANCE);
    await big.mint(bob.address, 10n ** 20n);
    await big.connect(alice).approve(vault, ethers.MaxUint256);
    await big.connect(bob).approve(vault, ethers.MaxUint256);
    await vault.connect(alice).deposit(big, MAX_BALANCE - 5n);
    await vault.connect(bob).deposit(big, 10n ** 20n);
    const tx = await settle(f, 1n, [
      { tokenId: 1, deltas: [{ accountId: 1, delta: -UNITS }, { accountId: 2, delta: UNITS }], payouts: [{ accountId: 3, amount: UNITS, recipient: dave.address }] },
      { tokenId: 2, deltas: [{ accountId: 1, delta: 100n }, { accountId: 2, delta: -100n }] },
    ]);
    await expect(tx).to.emit(vault, "BalanceCapExceeded").withArgs(await big.getAddress(), alice.address, 95n)
      .and.to.emit(vault, "BatchSettled").withArgs(1n, ROOT, 5n)
      .and.to.emit(vault, "PayoutSent");
    expect(await vault.settledBalance(big, alice.address)).to.equal(MAX_BALANCE);
    expect(await vault.pendingPayout(big, alice.address)).to.equal(95n);
    expect(await vault.settledBalance(token, bob.address)).to.equal(1_001n * UNITS);
    await vault.connect(alice).claimPayout(big, alice.address);
    await expectCustody(f, big);
    await expectCustody(f, token);
  });

  it("V-4: once the escape hatch is used the vault is frozen and the operator can never settle again", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, operator, alice, bob } = f;
    await time.increaseTo(await vault.escapeOpensAt());
    await expect(vault.connect(alice).escapeWithdraw(token))
      .to.emit(vault, "Frozen").withArgs(alice.address, await token.getAddress(), alice.address)
      .and.to.emit(vault, "EscapeWithdrawn").withArgs(await token.getAddress(), alice.address, 1_000n * UNITS);
    // the operator comes back with off-chain spends alice made before her escape: refused for good
    await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -UNITS }, { accountId: 2, delta: UNITS }] }]))
      .to.be.revertedWithCustomError(vault, "VaultFrozen");
    await expect(vault.connect(operator).registerAccounts([f.dave.address])).to.be.revertedWithCustomError(vault, "VaultFrozen");
    await expect(vault.connect(bob).requestForcedWithdrawal(token, MIN_FORCED)).to.be.revertedWithCustomError(vault, "VaultFrozen");
    await expect(vault.connect(bob).escapeWithdraw(token)).to.changeTokenBalance(token, bob, 1_000n * UNITS);
    await expectCustody(f, token);
  });

  it("V-5: a fee-on-transfer token is credited by what the vault received, so its last holder can still get out", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, admin, alice, bob } = f;
    const fot = await ethers.deployContract("FeeOnTransferEscrowToken");
    await vault.connect(admin).listToken(fot, 1n, UNLIMITED);
    for (const user of [alice, bob]) {
      await fot.mint(user.address, 1_000n);
      await fot.connect(user).approve(vault, ethers.MaxUint256);
    }
    await expect(vault.connect(alice).deposit(fot, 1_000n))
      .to.emit(vault, "Deposited").withArgs(await fot.getAddress(), alice.address, 1, 2, 990n, 990n);
    await vault.connect(bob).deposit(fot, 500n);
    expect(await vault.settledBalance(fot, bob.address)).to.equal(495n);
    expect(await fot.balanceOf(vault)).to.equal(1_485n);
    await expectCustody(f, fot);
    // both leave: the last one out is paid in full
    await time.increaseTo(await vault.escapeOpensAt());
    await vault.connect(alice).escapeWithdraw(fot);
    await vault.connect(bob).escapeWithdraw(fot);
    expect(await fot.balanceOf(vault)).to.equal(0n);
  });

  it("V-6: verifyTransfer checks a proof against the root the vault keeps for the batch, not one the caller supplies", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, alice, bob, mallory } = f;
    const tokenAddress = await token.getAddress();
    const real = StandardMerkleTree.of([[ethers.id("t1"), tokenAddress, alice.address, bob.address, 5n], [ethers.id("t2"), tokenAddress, bob.address, alice.address, 2n]],
      ["bytes32", "address", "address", "address", "uint256"]);
    await settle(f, 1n, [], real.root);
    // the attacker builds a tree of its own with a transfer that never happened
    const forged = [ethers.id("t9"), tokenAddress, alice.address, mallory.address, 1_000n];
    const fake = StandardMerkleTree.of([forged, [ethers.id("t1"), tokenAddress, alice.address, bob.address, 5n]], ["bytes32", "address", "address", "address", "uint256"]);
    expect(await vault.verifyTransfer(1n, fake.getProof(0), ...forged)).to.equal(false);
    expect(await vault.verifyTransfer(1n, real.getProof(0), ...real.at(0))).to.equal(true);
    expect(await vault.batchRoot(1n)).to.equal(real.root);
    await expect(vault.verifyTransfer(2n, fake.getProof(0), ...forged)).to.be.revertedWithCustomError(vault, "VaultRootUnavailable").withArgs(2n);
    await expect(vault.batchRoot(0n)).to.be.revertedWithCustomError(vault, "VaultRootUnavailable").withArgs(0n);
    expect(await vault.ROOT_HISTORY()).to.equal(4_096n);
  });

  it("U-1: an unclaimable payout stays its recipient's (the admin cannot take it); only stray tokens can be swept", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, admin, alice, dave } = f;
    const hostile = await ethers.deployContract("HostileToken");
    await vault.connect(admin).listToken(hostile, 1n, UNLIMITED);
    await hostile.mint(alice.address, 1_000n);
    await hostile.connect(alice).approve(vault, ethers.MaxUint256);
    await vault.connect(alice).deposit(hostile, 1_000n);
    await hostile.setFailMode(dave.address, 1); // a recipient the token refuses, like a contract that cannot claim
    await settle(f, 1n, [{ tokenId: 2, payouts: [{ accountId: 1, amount: 300n, recipient: dave.address }] }]);
    expect(await vault.pendingPayout(hostile, dave.address)).to.equal(300n);
    // nothing is stray: the admin cannot sweep the pending payout
    await expect(vault.connect(admin).sweepStray(hostile, admin.address))
      .to.be.revertedWithCustomError(vault, "VaultNothingToWithdraw").withArgs(await hostile.getAddress(), await vault.getAddress());
    // tokens sent to the vault directly are stray, and so is all of an unlisted token
    await token.connect(alice).transfer(vault, 7n);
    await expect(vault.connect(admin).sweepStray(token, admin.address))
      .to.emit(vault, "StraySwept").withArgs(await token.getAddress(), admin.address, 7n);
    const unlisted = await ethers.deployContract("TestToken", ["Lost", "LOST", 6]);
    await unlisted.mint(await vault.getAddress(), 42n);
    await expect(vault.connect(admin).sweepStray(unlisted, admin.address)).to.changeTokenBalance(unlisted, admin, 42n);
    await expect(vault.connect(dave).sweepStray(token, dave.address)).to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount");
    await expectCustody(f, token);
    await expectCustody(f, hostile);
    expect(await vault.pendingPayout(hostile, dave.address)).to.equal(300n);
  });

  describe("forced withdrawal", function () {
    it("is served by a batch that debits min(requested, balance after the deltas) and books the payout", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, alice, bob } = f;
      const tokenAddress = await token.getAddress();
      const request = await vault.connect(alice).requestForcedWithdrawal(token, 800n * UNITS);
      const deadline = BigInt(await time.latest()) + WINDOW;
      await expect(request).to.emit(vault, "ForcedWithdrawalRequested").withArgs(tokenAddress, alice.address, 1, 800n * UNITS, deadline);
      await expect(vault.connect(alice).requestForcedWithdrawal(token, 20n * UNITS))
        .to.be.revertedWithCustomError(vault, "VaultForcedWithdrawalPending").withArgs(tokenAddress, alice.address, deadline);
      // the batch also moves 700 away from alice: she is paid what is left, 300 (within the limit)
      const tx = await settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -700n * UNITS }, { accountId: 2, delta: 700n * UNITS }],
        payouts: [{ accountId: 1, amount: 800n * UNITS, recipient: alice.address, forced: true }] }]);
      await expect(tx).to.emit(vault, "ForcedWithdrawalServed").withArgs(1n, tokenAddress, alice.address, 800n * UNITS, 300n * UNITS)
        .and.to.emit(vault, "PayoutSent").withArgs(1n, tokenAddress, alice.address, 1, 300n * UNITS);
      await expect(tx).to.changeTokenBalance(token, alice, 300n * UNITS);
      expect(await vault.forcedWithdrawal(token, alice.address)).to.deep.equal([0n, 0n]);
      await expect(vault.connect(bob).freeze(token, alice.address))
        .to.be.revertedWithCustomError(vault, "VaultNoForcedWithdrawal").withArgs(tokenAddress, alice.address);
      await expectCustody(f, token);
    });

    it("counts a payout deferred by the outflow limit as served, so the limit never makes a request miss its deadline", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, alice, bob, carol } = f;
      for (const user of [alice, bob, carol]) await vault.connect(user).requestForcedWithdrawal(token, 1_000n * UNITS);
      const tx = await settle(f, 1n, [{ tokenId: 1, payouts: [alice, bob, carol].map((u, i) => ({ accountId: i + 1, amount: 1_000n * UNITS, recipient: u.address, forced: true })) }]);
      await expect(tx).to.emit(vault, "PayoutDeferred").withArgs(1n, await token.getAddress(), alice.address, 1, 1_000n * UNITS);
      await time.increase(WINDOW + 1n);
      for (const user of [alice, bob, carol]) {
        await expect(vault.freeze(token, user.address)).to.be.revertedWithCustomError(vault, "VaultNoForcedWithdrawal");
        expect(await vault.pendingPayout(token, user.address)).to.equal(1_000n * UNITS);
      }
      await vault.connect(alice).claimPayout(token, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(9_000n * UNITS + LIMIT);
      await expectCustody(f, token);
    });

    it("needs the minimum amount and balance, so dust requests cannot force a freeze", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, alice, dave } = f;
      await expect(vault.connect(alice).requestForcedWithdrawal(token, MIN_FORCED - 1n))
        .to.be.revertedWithCustomError(vault, "VaultForcedWithdrawalAmount").withArgs(MIN_FORCED - 1n, 1_000n * UNITS, MIN_FORCED);
      await expect(vault.connect(dave).requestForcedWithdrawal(token, MIN_FORCED))
        .to.be.revertedWithCustomError(vault, "VaultNothingToWithdraw");
      await vault.connect(dave).deposit(token, MIN_FORCED - 1n);
      await expect(vault.connect(dave).requestForcedWithdrawal(token, MIN_FORCED))
        .to.be.revertedWithCustomError(vault, "VaultForcedWithdrawalAmount").withArgs(MIN_FORCED, MIN_FORCED - 1n, MIN_FORCED);
    });

    it("refuses a serving payout for the wrong amount, recipient or account", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, alice, bob } = f;
      const tokenAddress = await token.getAddress();
      await vault.connect(alice).requestForcedWithdrawal(token, 100n * UNITS);
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 1, amount: 99n * UNITS, recipient: alice.address, forced: true }] }]))
        .to.be.revertedWithCustomError(vault, "VaultForcedWithdrawalMismatch").withArgs(tokenAddress, alice.address, 100n * UNITS, 99n * UNITS);
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 1, amount: 100n * UNITS, recipient: bob.address, forced: true }] }]))
        .to.be.revertedWithCustomError(vault, "VaultInvalidRecipient").withArgs(bob.address);
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 2, amount: 100n * UNITS, recipient: bob.address, forced: true }] }]))
        .to.be.revertedWithCustomError(vault, "VaultNoForcedWithdrawal").withArgs(tokenAddress, bob.address);
    });

    it("runs its deadline on through a pause, and the freeze works while paused", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, admin, alice, dave } = f;
      await vault.connect(alice).requestForcedWithdrawal(token, 100n * UNITS);
      await vault.connect(admin).pause();
      await expect(settle(f, 1n, [])).to.be.revertedWithCustomError(vault, "VaultPaused");
      // the pause ends by itself after half the window; an operator that then does not serve loses
      await time.increase(WINDOW / 2n);
      expect(await vault.paused()).to.equal(false);
      await expect(vault.connect(admin).unpause()).to.be.revertedWithCustomError(vault, "VaultNotPaused");
      await settle(f, 1n, []);
      await time.increase(WINDOW / 2n + 1n);
      await expect(vault.connect(dave).freeze(token, alice.address)).to.emit(vault, "Frozen");
      await expect(vault.connect(dave).freeze(token, alice.address)).to.be.revertedWithCustomError(vault, "VaultFrozen");
    });

    it("can be asked while paused, and a paused-then-frozen vault still lets everyone out", async function () {
      const f = await loadFixture(depositedVault);
      const { vault, token, admin, alice, bob } = f;
      await vault.connect(admin).pause();
      await vault.connect(alice).requestForcedWithdrawal(token, 100n * UNITS);
      await time.increase(WINDOW + 1n);
      await vault.freeze(token, alice.address);
      await expect(vault.connect(bob).escapeWithdraw(token)).to.changeTokenBalance(token, bob, 1_000n * UNITS);
      await expectCustody(f, token);
    });
  });
});
