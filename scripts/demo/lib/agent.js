// An agent of the demo and the benchmark: one Ethereum key, signed in to the backend's REST API
// with Sign-In with Ethereum, depositing into the SettlementVault with an EIP-2612 permit.
"use strict";
const crypto = require("crypto");
const { ethers } = require("ethers");
const { SiweMessage } = require("siwe");

/** Hardhat's public test mnemonic: its accounts are test accounts only, never send value to them. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const VAULT_ABI = [
  "function depositWithPermit(address token, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)",
  "function settledBalance(address token, address account) view returns (uint256)",
  "function pendingPayout(address token, address recipient) view returns (uint256)",
  "function claimPayout(address token, address to)",
  "function batchRoot(uint64 batchId) view returns (bytes32)",
  "function lastBatchId() view returns (uint64)",
  "function verifyTransfer(uint64 batchId, bytes32[] proof, bytes32 transferId, address token, address from, address to, uint256 amount) view returns (bool)",
];
const TOKEN_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function nonces(address) view returns (uint256)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
];

/** Keys from the variable `variable` (comma-separated), else Hardhat dev accounts `indexes`. */
function agentKeys(indexes, variable = "AGENT_PRIVATE_KEYS") {
  if (process.env[variable]) {
    return process.env[variable].split(",").map((key) => key.trim()).filter(Boolean);
  }
  const mnemonic = ethers.Mnemonic.fromPhrase(DEV_MNEMONIC);
  return indexes.map((i) => ethers.HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey);
}

/** A failed HTTP exchange with the API, with the problem body when there is one. */
class ApiError extends Error {
  constructor(method, path, status, body) {
    const detail = body && typeof body === "object"
      ? [body.code, body.title, body.detail].filter(Boolean).join(": ")
      : String(body || "").slice(0, 300);
    super(`${method} ${path} answered ${status}${detail ? ` (${detail})` : ""}`);
    this.status = status;
    this.body = body;
  }
}

/** A thin JSON client of the REST API; `expect` lists the statuses that count as success. */
class Api {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  async call(method, path, { token, body, idempotencyKey, expect = [200, 201] } = {}) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: ApiError shows the text
    }
    if (!expect.includes(response.status)) throw new ApiError(method, path, response.status, parsed);
    return { status: response.status, body: parsed };
  }
}

class Agent {
  constructor(name, privateKey, api, provider) {
    this.name = name;
    this.wallet = new ethers.Wallet(privateKey, provider);
    this.address = this.wallet.address;
    this.api = api;
    this.token = null;
  }

  /** EIP-4361: nonce from the service, message built by the npm `siwe` package, personal_sign. */
  async login() {
    const { body: nonce } = await this.api.call("POST", "/auth/nonce", { body: {} });
    const base = new URL(this.api.baseUrl);
    const chainId = Number(nonce.chainId ?? (await this.wallet.provider.getNetwork()).chainId);
    const message = new SiweMessage({
      domain: nonce.domain || base.host,
      address: this.address,
      statement: `Sign in to the agent escrow service as ${this.name}.`,
      uri: nonce.uri || base.origin,
      version: "1",
      chainId,
      nonce: nonce.nonce,
      issuedAt: new Date().toISOString(),
      expirationTime: new Date(Date.now() + 10 * 60_000).toISOString(),
    }).prepareMessage();
    const signature = await this.wallet.signMessage(message);
    const { body } = await this.api.call("POST", "/auth/login", { body: { message, signature } });
    if (!body.accessToken) throw new Error(`login of ${this.name} returned no accessToken`);
    if (ethers.getAddress(body.address) !== this.address) {
      throw new Error(`login of ${this.name} returned address ${body.address}, expected ${this.address}`);
    }
    this.token = body.accessToken;
    return body;
  }

  get(path, options = {}) {
    return this.api.call("GET", path, { ...options, token: this.token });
  }

  post(path, body, options = {}) {
    return this.api.call("POST", path, {
      idempotencyKey: crypto.randomUUID(),
      ...options,
      body,
      token: this.token,
    });
  }

  /** The caller's balance row for `token` from GET /accounts/me (zeros when it has none yet). */
  async balance(token) {
    const { body } = await this.get("/accounts/me");
    const row = (body.balances || []).find((b) => ethers.getAddress(b.token) === ethers.getAddress(token));
    const zero = { available: "0", held: "0", incoming: "0", pendingWithdrawal: "0", settledOnChain: "0" };
    return { ...zero, ...(row || {}) };
  }

  /**
   * Signs the EIP-2612 permit the service describes in GET /deposits/instructions (or, if the
   * service has no such endpoint, one built from the token's own EIP-712 domain) and sends
   * vault.depositWithPermit from the agent's own key. Returns the mined receipt.
   */
  async depositWithPermit(tokenAddress, vaultAddress, amount) {
    const permit = await this.permitFor(tokenAddress, vaultAddress, amount);
    const { message } = permit;
    const checks = [
      [ethers.getAddress(message.owner), this.address, "permit owner"],
      [ethers.getAddress(message.spender), ethers.getAddress(vaultAddress), "permit spender"],
      [BigInt(message.value), BigInt(amount), "permit value"],
    ];
    for (const [actual, expected, what] of checks) {
      if (actual !== expected) throw new Error(`${what} is ${actual}, expected ${expected}`);
    }
    const types = { ...permit.types };
    delete types.EIP712Domain;
    const signature = ethers.Signature.from(await this.wallet.signTypedData(permit.domain, types, message));
    const vault = new ethers.Contract(vaultAddress, VAULT_ABI, this.wallet);
    const args = [tokenAddress, BigInt(amount), BigInt(message.deadline), signature.v, signature.r, signature.s];
    // The permit runs inside try/catch, so an estimate taken while other agents' deposits are
    // being mined (new vault accounts change the state it was taken on) can fall short: give it
    // a quarter more, as wallets do.
    const estimate = await vault.depositWithPermit.estimateGas(...args);
    const tx = await vault.depositWithPermit(...args, { gasLimit: estimate + estimate / 4n });
    const receipt = await tx.wait();
    if (receipt.status !== 1) throw new Error(`depositWithPermit ${tx.hash} reverted`);
    return { receipt, source: permit.source };
  }

  async permitFor(tokenAddress, vaultAddress, amount) {
    try {
      const { body } = await this.get(`/deposits/instructions?token=${tokenAddress}&amount=${amount}`);
      if (ethers.getAddress(body.vault) !== ethers.getAddress(vaultAddress)) {
        throw new Error(`deposit instructions name vault ${body.vault}, GET /tokens says ${vaultAddress}`);
      }
      return { ...body.permit, source: "GET /deposits/instructions" };
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404 && !(error.body && error.body.code))) throw error;
    }
    const token = new ethers.Contract(tokenAddress, TOKEN_ABI, this.wallet);
    const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    return {
      domain: { name, version, chainId, verifyingContract },
      types: {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      primaryType: "Permit",
      message: {
        owner: this.address,
        spender: vaultAddress,
        value: String(amount),
        nonce: String(await token.nonces(this.address)),
        deadline: String(deadline),
      },
      source: "the token's eip712Domain() (the service has no /deposits/instructions)",
    };
  }
}

/** Polls `probe` every `intervalMs` until it returns a truthy value; fails after `seconds`. */
async function waitFor(what, seconds, probe, intervalMs = 250) {
  const until = Date.now() + seconds * 1000;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > until) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

module.exports = { Agent, Api, ApiError, agentKeys, waitFor, VAULT_ABI, TOKEN_ABI };
