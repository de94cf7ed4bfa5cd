// Shared helpers of the PaymentChannels tests: the EIP-712 types, signing with ethers and opening
// a channel (open + accept). Not a test file itself.
const { ethers } = require("hardhat");

const State = { None: 0n, Pending: 1n, Open: 2n, Closing: 3n, Settled: 4n };
/** The protocol minimum the tests deploy with; production uses one day (86,400 s) or more. */
const MIN_PERIOD = 600n;
const MAX_PERIOD = 30n * 24n * 3600n;
const PERIOD = 3600n;
const MAX = ethers.MaxUint256;

const TYPES = {
  BalanceProof: [
    { name: "channelId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "transferred", type: "uint256" },
  ],
  CooperativeClose: [
    { name: "channelId", type: "bytes32" },
    { name: "totalWithdrawnA", type: "uint256" },
    { name: "totalWithdrawnB", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  Withdrawal: [
    { name: "channelId", type: "bytes32" },
    { name: "participant", type: "address" },
    { name: "totalWithdrawn", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

async function domainOf(channels, chainId = 31337n) {
  return { name: "PaymentChannels", version: "1", chainId, verifyingContract: await channels.getAddress() };
}

/** Signs `value` as EIP-712 type `type` (one of TYPES) for `domain` with ethers' signTypedData. */
function sign(signer, domain, type, value) {
  return signer.signTypedData(domain, { [type]: TYPES[type] }, value);
}

async function signProof(signer, channels, channelId, nonce, transferred) {
  return sign(signer, await domainOf(channels), "BalanceProof", { channelId, nonce, transferred });
}

async function signClose(signer, channels, channelId, totalWithdrawnA, totalWithdrawnB, expiry = MAX) {
  return sign(signer, await domainOf(channels), "CooperativeClose", {
    channelId,
    totalWithdrawnA,
    totalWithdrawnB,
    expiry,
  });
}

async function signWithdrawal(signer, channels, channelId, participant, totalWithdrawn, expiry = MAX) {
  return sign(signer, await domainOf(channels), "Withdrawal", { channelId, participant, totalWithdrawn, expiry });
}

/** The channel id of `receipt`'s ChannelOpened event. */
function openedId(channels, receipt) {
  const log = receipt.logs.map((l) => channels.interface.parseLog(l)).find((l) => l && l.name === "ChannelOpened");
  return log.args.channelId;
}

/** Opens a channel from `a` to `b` (a deposits `depositA`) and, unless `depositB` is null, b accepts it. */
async function openChannel(channels, token, a, b, depositA, depositB = 0n, period = PERIOD) {
  const tx = await channels.connect(a).open(b.address, await token.getAddress(), ethers.ZeroAddress, depositA, period);
  const id = openedId(channels, await tx.wait());
  if (depositB !== null) {
    await (await channels.connect(b).accept(id, ethers.ZeroAddress, depositB)).wait();
  }
  return id;
}

function deployChannels(minPeriod = MIN_PERIOD) {
  return ethers.deployContract("PaymentChannels", [minPeriod]);
}

module.exports = {
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
};
