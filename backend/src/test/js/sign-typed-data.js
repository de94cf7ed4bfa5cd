// Signs EIP-712 typed data with ethers' Wallet.signTypedData, as a client of the backend's deposit
// instructions does: reads {"privateKey", "domain", "types", "message"} as JSON on stdin and prints
// the 65-byte signature as 0x-hex. Test use only.
const { Wallet } = require("ethers");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const { privateKey, domain, types, message } = JSON.parse(input);
  process.stdout.write((await new Wallet(privateKey).signTypedData(domain, types, message)) + "\n");
});
