// The vault set-up shared by the findings and review tests: three depositors and a listed token
// with a forced-withdrawal minimum and an outflow limit.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { encodeBatch } = require("./SettlementVault.encoding.js");

const DELAY = 7n * 86_400n; // escape hatch
const WINDOW = 86_400n; // forced-withdrawal window
const OPERATOR_DELAY = 2n * 86_400n;
const UNITS = 1_000_000n;
const MIN_FORCED = 10n * UNITS;
const LIMIT = 500n * UNITS; // outflow per day
const ROOT = ethers.keccak256(ethers.toUtf8Bytes("root"));

/** alice, bob, carol deposited 1,000 TUSD each (account ids 1..3, token id 1); outflow limit 500/day. */
async function depositedVault() {
  const [admin, operator, alice, bob, carol, dave, mallory] = await ethers.getSigners();
  const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
  const vault = await ethers.deployContract("SettlementVault", [admin.address, operator.address, DELAY, WINDOW, OPERATOR_DELAY]);
  await vault.connect(admin).listToken(token, MIN_FORCED, LIMIT);
  for (const user of [alice, bob, carol, dave]) {
    await token.mint(user.address, 10_000n * UNITS);
    await token.connect(user).approve(vault, ethers.MaxUint256);
  }
  for (const user of [alice, bob, carol]) await vault.connect(user).deposit(token, 1_000n * UNITS);
  return { vault, token, admin, operator, alice, bob, carol, dave, mallory };
}

function settle(f, batchId, sections, root = ROOT) {
  return f.vault.connect(f.operator).settleBatch(batchId, root, encodeBatch(sections));
}

async function expectCustody(f, token) {
  expect(await token.balanceOf(f.vault)).to.equal(await f.vault.custody(token), "vault balance == settled + pending");
}

module.exports = { DELAY, WINDOW, OPERATOR_DELAY, UNITS, MIN_FORCED, LIMIT, ROOT, depositedVault, settle, expectCustody };
