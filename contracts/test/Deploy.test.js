const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { deploy } = require("../scripts/deploy.js");

describe("scripts/deploy.js", function () {
  async function deployFixture() {
    const signers = await ethers.getSigners();
    const deployment = await deploy({ write: false });
    return { signers, deployment };
  }

  it("deploys the contract set with its roles and funds the dev accounts", async function () {
    const { signers, deployment } = await loadFixture(deployFixture);
    const [admin, operator, feeRecipient] = signers;
    const vault = await ethers.getContractAt("SettlementVault", deployment.contracts.SettlementVault);
    const escrow = await ethers.getContractAt("TaskEscrow", deployment.contracts.TaskEscrow);
    const token = await ethers.getContractAt("TestToken", deployment.contracts.TestToken);

    expect(await vault.hasRole(await vault.OPERATOR_ROLE(), operator.address)).to.equal(true);
    expect(await vault.hasRole(await vault.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    expect(await vault.forcedWithdrawalWindow()).to.equal(86_400n);
    expect(await vault.operatorDelay()).to.equal(2n * 86_400n);
    const [tokenId, minForced, outflowLimit] = await vault.tokenConfig(token);
    expect([tokenId, minForced, outflowLimit]).to.deep.equal([1n, 10n ** 6n, 1_000_000n * 10n ** 6n]);
    expect(await escrow.feeRecipient()).to.equal(feeRecipient.address);
    expect(await escrow.feeBps()).to.equal(100n);
    expect(await token.balanceOf(signers[9].address)).to.equal(1_000_000n * 10n ** 6n);
    const channels = await ethers.getContractAt("PaymentChannels", deployment.contracts.PaymentChannels);
    expect(await channels.minChallengePeriod()).to.equal(600n);
  });
});
