// Deploys the contracts to the network Hardhat is pointed at (scripts/chain uses a local node),
// prints their addresses and writes them to deployments/<network>.json.
//
// Local defaults, all overridable by environment:
//   ADMIN (default: signer #0) holds the admin roles, OPERATOR (signer #1) posts settlement
//   batches, FEE_RECIPIENT (signer #2) receives escrow fees at FEE_BPS (default 100 = 1%),
//   ESCAPE_DELAY_SECONDS (default 7 days) opens the vault's escape hatch,
//   CHANNEL_MIN_CHALLENGE_SECONDS (default 600 for local chains; use 86,400 or more in production)
//   is PaymentChannels' protocol minimum challenge period, and a TestToken
//   ("Test USD", 6 decimals) is minted to the first ten signers (MINT_TOKENS whole tokens each).
const fs = require("fs");
const path = require("path");
const hre = require("hardhat");

/** Deploys the contract set, writes deployments/<network>.json unless `write` is false, returns it. */
async function deploy({ write = true } = {}) {
  const { ethers, network } = hre;
  const signers = await ethers.getSigners();
  const admin = process.env.ADMIN || signers[0].address;
  const operator = process.env.OPERATOR || signers[1].address;
  const feeRecipient = process.env.FEE_RECIPIENT || signers[2].address;
  const feeBps = Number(process.env.FEE_BPS || 100);
  const escapeDelay = BigInt(process.env.ESCAPE_DELAY_SECONDS || 7 * 24 * 3600);
  const mintTokens = BigInt(process.env.MINT_TOKENS || 1_000_000);
  const channelMinChallenge = BigInt(process.env.CHANNEL_MIN_CHALLENGE_SECONDS || 600);

  const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
  const vault = await ethers.deployContract("SettlementVault", [admin, operator, escapeDelay]);
  const escrow = await ethers.deployContract("TaskEscrow", [admin, feeRecipient, feeBps]);
  const channels = await ethers.deployContract("PaymentChannels", [channelMinChallenge]);
  await Promise.all([token, vault, escrow, channels].map((c) => c.waitForDeployment()));

  const decimals = await token.decimals();
  for (const signer of signers.slice(0, 10)) {
    await (await token.mint(signer.address, mintTokens * 10n ** decimals)).wait();
  }

  const deployment = {
    network: network.name,
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    admin,
    operator,
    feeRecipient,
    feeBps,
    escapeDelaySeconds: escapeDelay.toString(),
    channelMinChallengeSeconds: channelMinChallenge.toString(),
    contracts: {
      TestToken: await token.getAddress(),
      SettlementVault: await vault.getAddress(),
      TaskEscrow: await escrow.getAddress(),
      PaymentChannels: await channels.getAddress(),
    },
  };
  if (write) {
    const dir = path.join(__dirname, "..", "deployments");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${network.name}.json`), JSON.stringify(deployment, null, 2) + "\n");
  }
  return deployment;
}

async function main() {
  const deployment = await deploy();
  console.log(`Deployed to ${deployment.network} (chain id ${deployment.chainId}):`);
  for (const [name, address] of Object.entries(deployment.contracts)) {
    console.log(`  ${name.padEnd(16)} ${address}`);
  }
  const { admin, operator, feeRecipient, feeBps } = deployment;
  console.log(`  admin ${admin}, operator ${operator}, fee recipient ${feeRecipient} (${feeBps} bps)`);
  console.log(`Addresses written to deployments/${deployment.network}.json`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}

module.exports = { deploy };
