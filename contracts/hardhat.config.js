// Hardhat configuration for the agent escrow contracts.
// The Solidity compiler comes from the npm `solc` package (soljson.js), pinned exactly in
// package.json, so that compiling never downloads anything.
require("@nomicfoundation/hardhat-toolbox");
const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    throw new Error(`only solc ${SOLC_VERSION} (npm package solc) is available offline, not ${args.solcVersion}`);
  }
  const solc = require("solc");
  return {
    compilerPath: path.join(path.dirname(require.resolve("solc")), "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version(),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      viaIR: false,
      evmVersion: "cancun",
    },
  },
  networks: {
    hardhat: { chainId: 31337 },
    localhost: { url: process.env.CHAIN_RPC_URL || "http://127.0.0.1:8545" },
  },
  gasReporter: { enabled: process.env.REPORT_GAS === "true", currency: "USD", offline: true },
  mocha: { timeout: 120_000 },
};
