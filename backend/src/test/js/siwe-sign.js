// Builds an EIP-4361 message with the npm siwe package and signs it (personal_sign) with an ethers
// wallet, for the backend's integration tests. Reads JSON on stdin:
//   {"privateKey", "domain", "uri", "chainId", "nonce", "statement"?, "issuedAt"?, "expirationTime"?,
//    "notBefore"?, "address"?, "recoveryByte": 27 | 0}
// and prints {"message", "signature"} as JSON. Test use only.
const { Wallet, Signature } = require("ethers");
const { SiweMessage } = require("siwe");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const request = JSON.parse(input);
  const wallet = new Wallet(request.privateKey);
  const fields = {
    domain: request.domain,
    address: request.address || wallet.address,
    uri: request.uri,
    version: "1",
    chainId: Number(request.chainId),
    nonce: request.nonce,
    issuedAt: request.issuedAt || new Date().toISOString(),
  };
  if (request.statement) fields.statement = request.statement;
  if (request.expirationTime) fields.expirationTime = request.expirationTime;
  if (request.notBefore) fields.notBefore = request.notBefore;
  const message = new SiweMessage(fields).prepareMessage();
  let signature = await wallet.signMessage(message);
  if (request.recoveryByte === 0) {
    const parsed = Signature.from(signature);
    signature = parsed.r + parsed.s.slice(2) + (parsed.yParity === 0 ? "00" : "01");
  }
  process.stdout.write(JSON.stringify({ message, signature }) + "\n");
});
