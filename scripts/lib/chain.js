// Chain checks for scripts/run, with no npm dependencies (Node's fetch and JSON-RPC only).
//   node chain.js wait <rpc-url> <seconds>          exits 0 once eth_chainId answers, 1 on timeout
//   node chain.js free-port                          prints a free TCP port on 127.0.0.1
//   node chain.js check-deployment <rpc-url> <file>  exits 0 and prints "reuse" if the file's chain id
//                                                    is the chain's and every contract in it has code
//                                                    there; exits 3 and prints why not otherwise
//   node chain.js identity <rpc-url> <file>          prints "<chainId> <genesis block hash> <vault>":
//                                                    which chain and deployment a ledger belongs to
//   node chain.js chain-id <rpc-url>                 prints the chain id (decimal)
"use strict";
const fs = require("fs");
const net = require("net");

async function rpc(url, method, params = []) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function readDeployment(file) {
  if (!fs.existsSync(file)) return { problem: `no deployment file at ${file}` };
  try {
    const deployment = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!deployment.contracts || !deployment.contracts.SettlementVault) {
      return { problem: `${file} names no SettlementVault` };
    }
    return { deployment };
  } catch (error) {
    return { problem: `${file} is not JSON: ${error.message}` };
  }
}

async function wait(url, seconds) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    try {
      await rpc(url, "eth_chainId");
      return 0;
    } catch (error) {
      if (Date.now() > until) {
        console.error(`no answer from ${url} within ${seconds} s: ${error.message}`);
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function checkDeployment(url, file) {
  const { deployment, problem } = readDeployment(file);
  if (problem) {
    console.log(problem);
    return 3;
  }
  const chainId = Number(BigInt(await rpc(url, "eth_chainId")));
  if (deployment.chainId !== undefined && Number(deployment.chainId) !== chainId) {
    console.log(`${file} is for chain ${deployment.chainId}, the node at ${url} is chain ${chainId}`);
    return 3;
  }
  for (const [name, address] of Object.entries(deployment.contracts)) {
    const code = await rpc(url, "eth_getCode", [address, "latest"]);
    if (!code || code === "0x") {
      console.log(`${name} (${address}) has no code on the chain at ${url}`);
      return 3;
    }
  }
  console.log("reuse");
  return 0;
}

async function identity(url, file) {
  const { deployment, problem } = readDeployment(file);
  if (problem) throw new Error(problem);
  const chainId = Number(BigInt(await rpc(url, "eth_chainId")));
  const genesis = await rpc(url, "eth_getBlockByNumber", ["0x0", false]);
  console.log(`${chainId} ${genesis.hash} ${deployment.contracts.SettlementVault.toLowerCase()}`);
  return 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => {
        console.log(port);
        resolve(0);
      });
    });
  });
}

async function main(argv) {
  const [command, ...args] = argv;
  switch (command) {
    case "wait":
      return wait(args[0], Number(args[1] || 30));
    case "free-port":
      return freePort();
    case "check-deployment":
      return checkDeployment(args[0], args[1]);
    case "identity":
      return identity(args[0], args[1]);
    case "chain-id":
      console.log(Number(BigInt(await rpc(args[0], "eth_chainId"))));
      return 0;
    default:
      console.error(`unknown command ${command}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error.message);
    process.exitCode = 1;
  },
);
