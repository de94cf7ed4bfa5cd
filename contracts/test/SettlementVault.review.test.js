// Second adversarial review of the rewritten SettlementVault (after issue 8): one test per hole
// found, named "R-V<n>: <what the attack tried>", each showing the attack failing.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const {
  WINDOW, OPERATOR_DELAY, UNITS, LIMIT, ROOT, depositedVault, settle, expectCustody,
} = require("./SettlementVault.fixtures.js");

describe("SettlementVault review", function () {
  it("R-V1: a user whose forced withdrawal was served as a deferred payout stays behind the attacker's own pending payouts after the freeze", async function () {
    const f = await loadFixture(depositedVault);
    const { vault, token, alice, bob, carol, dave, mallory } = f;
    const tokenAddress = await token.getAddress();
    await vault.connect(alice).requestForcedWithdrawal(token, 1_000n * UNITS);
    await vault.connect(bob).requestForcedWithdrawal(token, 1_000n * UNITS);
    // a stolen operator key spends the day's outflow room on itself, keeps 500 more pending for
    // itself, and "serves" alice's request as a deferred payout; bob's request it leaves unserved
    const tx = await settle(f, 1n, [{ tokenId: 1, payouts: [
      { accountId: 3, amount: 500n * UNITS, recipient: mallory.address },
      { accountId: 3, amount: 500n * UNITS, recipient: mallory.address },
      { accountId: 1, amount: 1_000n * UNITS, recipient: alice.address, forced: true },
    ] }]);
    await expect(tx).to.emit(vault, "PayoutDeferred").withArgs(1n, tokenAddress, alice.address, 1, 1_000n * UNITS);
    expect(await vault.pendingPayout(token, alice.address)).to.equal(1_000n * UNITS);
    expect(await vault.pendingPayout(token, mallory.address)).to.equal(500n * UNITS);
    // bob's request is overdue: anyone freezes; bob escapes with his whole settled balance
    await time.increase(WINDOW + 1n);
    await vault.connect(dave).freeze(token, bob.address);
    await expect(vault.connect(bob).escapeWithdraw(token)).to.changeTokenBalance(token, bob, 1_000n * UNITS);
    // the attacker claims first in the new window; alice, who used the forced withdrawal as told,
    // must still get her whole payout out of the frozen vault at once, as bob did
    await vault.connect(mallory).claimPayout(token, mallory.address);
    await expect(vault.connect(alice).claimPayout(token, alice.address))
      .to.emit(vault, "PayoutClaimed").withArgs(tokenAddress, alice.address, alice.address, 1_000n * UNITS);
    expect(await token.balanceOf(alice.address)).to.equal(10_000n * UNITS);
    expect(await vault.pendingPayout(token, alice.address)).to.equal(0n);
    await expect(vault.connect(alice).claimPayout(token, alice.address))
      .to.be.revertedWithCustomError(vault, "VaultNoPendingPayout").withArgs(tokenAddress, alice.address);
    expect(await vault.settledBalance(token, carol.address)).to.equal(0n);
    expect(await token.balanceOf(vault)).to.equal(0n);
    await expectCustody(f, token);
  });

  it("R-V2: a griefer cannot freeze the vault through an escape hatch that a maximal admin pause opened", async function () {
    const { vault, admin, operator } = await loadFixture(depositedVault);
    const factory = await ethers.getContractFactory("SettlementVault");
    // an escape delay shorter than the window lets a pause (up to half the window) that starts
    // after a quiet spell open the hatch before the operator can settle again: refused
    for (const escapeDelay of [1n, WINDOW / 2n, WINDOW - 1n]) {
      await expect(factory.deploy(admin.address, operator.address, escapeDelay, WINDOW, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "VaultInvalidEscapeDelay").withArgs(escapeDelay);
    }
    // the shortest accepted delay (the window): a batch, the longest pause, and the hatch is still
    // shut when the pause ends, so the operator settles again and nobody can freeze
    const shortest = await factory.deploy(admin.address, operator.address, WINDOW, WINDOW, OPERATOR_DELAY);
    const [, , alice] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    await shortest.connect(admin).listToken(token, 1n, LIMIT);
    await token.mint(alice.address, UNITS);
    await token.connect(alice).approve(shortest, UNITS);
    await shortest.connect(alice).deposit(token, UNITS);
    await shortest.connect(operator).settleBatch(1n, ROOT, "0x");
    await shortest.connect(admin).pause();
    await time.increaseTo(BigInt(await time.latest()) + WINDOW / 2n);
    expect(await shortest.paused()).to.equal(false);
    await expect(shortest.connect(alice).escapeWithdraw(token))
      .to.be.revertedWithCustomError(shortest, "VaultEscapeNotOpen").withArgs(await shortest.escapeOpensAt());
    await shortest.connect(operator).settleBatch(2n, ROOT, "0x");
    expect(await shortest.frozen()).to.equal(false);
  });
});
