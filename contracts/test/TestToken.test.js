const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { expect } = require("chai");
const { ethers } = require("hardhat");

describe("TestToken", function () {
  async function deployFixture() {
    const [owner, alice, bob] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    return { token, owner, alice, bob };
  }

  it("mints only for the owner", async function () {
    const { token, alice } = await loadFixture(deployFixture);
    await expect(token.mint(alice.address, 1_000n)).to.changeTokenBalance(token, alice, 1_000n);
    await expect(token.connect(alice).mint(alice.address, 1n))
      .to.be.revertedWithCustomError(token, "OwnableUnauthorizedAccount")
      .withArgs(alice.address);
  });

  it("reports its decimals", async function () {
    const { token } = await loadFixture(deployFixture);
    expect(await token.decimals()).to.equal(6n);
  });
});
