// Deploys the contracts to the network Hardhat is pointed at (scripts/chain uses a local node),
// prints their addresses and writes them to deployments/<network>.json (or to the file named by
// DEPLOYMENT_FILE, the variable the backend reads the addresses from).
//
// Local defaults, all overridable by environment:
//   ADMIN (default: signer #0) holds the admin roles, OPERATOR (signer #1) posts settlement
//   batches, FEE_RECIPIENT (signer #2) receives escrow fees at FEE_BPS (default 100 = 1%),
//   ESCAPE_DELAY_SECONDS (default 7 days, at least the window) opens the vault's escape hatch,
//   FORCED_WITHDRAWAL_WINDOW_SECONDS (default 1 day) is how long the operator has to serve a forced
//   withdrawal, OPERATOR_DELAY_SECONDS (default 2 days, must exceed the window) delays a new
//   operator (and an admin transfer), and a TestToken ("Test USD", 6 decimals) is minted to the
//   first ten signers (MINT_TOKENS whole tokens each) and listed in the vault with a minimum forced
//   withdrawal of MIN_FORCED_WITHDRAWAL_TOKENS (default 1) and an outflow limit of
//   OUTFLOW_LIMIT_TOKENS (default 1,000,000) per day. Listing needs the admin's key among the signers.
//   CHANNEL_MIN_CHALLENGE_SECONDS (default 600 for local chains; use 86,400 or more in production)
//   is PaymentChannels' protocol minimum challenge period.
//
// TaskEscrow roles (E-6: no single key holds them all):
//   DEFAULT_ADMIN_ROLE  ESCROW_ADMIN (default: ADMIN). OpenZeppelin AccessControlDefaultAdminRules:
//                       one holder, handed over in two steps (begin, then accept after
//                       ESCROW_ADMIN_DELAY_SECONDS, default 2 days); it only grants and revokes
//                       the fee manager role. Production: a multisig (e.g. Safe 3-of-5) behind a
//                       TimelockController, with a delay of several days.
//   FEE_MANAGER_ROLE    ESCROW_FEE_MANAGER (default: signer #3). Sets fee (<= 10%, and never above
//                       an escrow's own maxFeeBps) and fee recipient for future escrows only.
//                       Production: an operations multisig, separate from the admin.
//   fee recipient       FEE_RECIPIENT: not a role, an account whose fees accrue and are claimed
//                       (pull). Production: a treasury multisig.
// Neither role can move escrowed funds or change an existing escrow.
const fs = require("fs");
const path = require("path");
const hre = require("hardhat");

/** Deploys the contract set, writes it (see deploymentPath) unless `write` is false, returns it. */
async function deploy({ write = true } = {}) {
  const { ethers, network } = hre;
  const signers = await ethers.getSigners();
  const admin = process.env.ADMIN || signers[0].address;
  const operator = process.env.OPERATOR || signers[1].address;
  const feeRecipient = process.env.FEE_RECIPIENT || signers[2].address;
  const feeBps = Number(process.env.FEE_BPS || 100);
  const escapeDelay = BigInt(process.env.ESCAPE_DELAY_SECONDS || 7 * 24 * 3600);
  const mintTokens = BigInt(process.env.MINT_TOKENS || 1_000_000);
  const forcedWithdrawalWindow = BigInt(process.env.FORCED_WITHDRAWAL_WINDOW_SECONDS || 24 * 3600);
  const operatorDelay = BigInt(process.env.OPERATOR_DELAY_SECONDS || 2 * 24 * 3600);
  const minForcedWithdrawalTokens = BigInt(process.env.MIN_FORCED_WITHDRAWAL_TOKENS || 1);
  const outflowLimitTokens = BigInt(process.env.OUTFLOW_LIMIT_TOKENS || 1_000_000);
  const channelMinChallenge = BigInt(process.env.CHANNEL_MIN_CHALLENGE_SECONDS || 600);

  const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
  const vault = await ethers.deployContract("SettlementVault", [admin, operator, escapeDelay, forcedWithdrawalWindow, operatorDelay]);
  const escrowAdmin = process.env.ESCROW_ADMIN || admin;
  const escrowAdminDelay = Number(process.env.ESCROW_ADMIN_DELAY_SECONDS || 2 * 24 * 3600);
  if (!process.env.ESCROW_FEE_MANAGER && signers.length < 4) {
    throw new Error("set ESCROW_FEE_MANAGER: the network has no fourth signer for the escrow's fee manager role");
  }
  const escrowFeeManager = process.env.ESCROW_FEE_MANAGER || signers[3].address;
  const escrow = await ethers.deployContract("TaskEscrow",
    [escrowAdmin, escrowAdminDelay, escrowFeeManager, feeRecipient, feeBps]);
  const channels = await ethers.deployContract("PaymentChannels", [channelMinChallenge]);
  await Promise.all([token, vault, escrow, channels].map((c) => c.waitForDeployment()));

  const decimals = await token.decimals();
  const adminSigner = signers.find((s) => s.address.toLowerCase() === admin.toLowerCase());
  if (adminSigner) {
    await (await vault.connect(adminSigner).listToken(await token.getAddress(),
      minForcedWithdrawalTokens * 10n ** decimals, outflowLimitTokens * 10n ** decimals)).wait();
  } else {
    console.warn(`admin ${admin} is not a local signer: list the token in the vault with its key (listToken)`);
  }
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
    escrowRoles: { admin: escrowAdmin, adminDelaySeconds: escrowAdminDelay, feeManager: escrowFeeManager },
    escapeDelaySeconds: escapeDelay.toString(),
    channelMinChallengeSeconds: channelMinChallenge.toString(),
    forcedWithdrawalWindowSeconds: forcedWithdrawalWindow.toString(),
    operatorDelaySeconds: operatorDelay.toString(),
    contracts: {
      TestToken: await token.getAddress(),
      SettlementVault: await vault.getAddress(),
      TaskEscrow: await escrow.getAddress(),
      PaymentChannels: await channels.getAddress(),
    },
  };
  if (write) {
    const file = deploymentPath(network.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
  }
  return deployment;
}

/** DEPLOYMENT_FILE if set, else deployments/<network>.json in the Hardhat project. */
function deploymentPath(networkName) {
  return process.env.DEPLOYMENT_FILE
    ? path.resolve(process.env.DEPLOYMENT_FILE)
    : path.join(__dirname, "..", "deployments", `${networkName}.json`);
}

async function main() {
  const deployment = await deploy();
  console.log(`Deployed to ${deployment.network} (chain id ${deployment.chainId}):`);
  for (const [name, address] of Object.entries(deployment.contracts)) {
    console.log(`  ${name.padEnd(16)} ${address}`);
  }
  const { admin, operator, feeRecipient, feeBps } = deployment;
  console.log(`  admin ${admin}, operator ${operator}, fee recipient ${feeRecipient} (${feeBps} bps)`);
  const roles = deployment.escrowRoles;
  console.log(`  TaskEscrow admin ${roles.admin} (transfer delay ${roles.adminDelaySeconds} s), fee manager ${roles.feeManager}`);
  console.log(`Addresses written to ${deploymentPath(deployment.network)}`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}

module.exports = { deploy };
