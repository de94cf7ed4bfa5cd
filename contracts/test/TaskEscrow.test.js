const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { anyValue } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const fc = require("fast-check");

const FEE_BPS = 250n; // 2.5%
const BPS = 10_000n;
const DAY = 24n * 60n * 60n;
const MAX_UINT256 = ethers.MaxUint256;

const State = { None: 0n, Open: 1n, Funded: 2n, Disputed: 3n, Completed: 4n, Rejected: 5n, Expired: 6n, Resolved: 7n };
const Fallback = { RefundPayer: 0n, PayPayees: 1n, SplitEvenly: 2n };
const GRACE = DAY;
const ARBITRATION = 7n * DAY;
const ADMIN_DELAY = 2n * DAY;

/** A payer's task id (what the payer passes to create). */
function taskId(label) {
  return ethers.id(`task:${label}`);
}

/** The escrow id the contract derives for `payer`'s task `task`: keccak256(abi.encode(payer, task)). */
function idOf(payer, task) {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [payer, task]));
}

function feeOf(amount, bps = FEE_BPS) {
  return (amount * bps) / BPS;
}

async function deployEscrowFixture() {
  const [admin, payer, payee1, payee2, payee3, arbiter, evaluator, feeRecipient, stranger, feeManager] =
    await ethers.getSigners();
  const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
  const escrow = await ethers.deployContract("TaskEscrow",
    [admin.address, ADMIN_DELAY, feeManager.address, feeRecipient.address, FEE_BPS]);
  await token.mint(payer.address, 1_000_000_000n);
  await token.connect(payer).approve(await escrow.getAddress(), MAX_UINT256);
  const now = BigInt(await time.latest());
  const deadline = now + DAY;

  function terms(overrides = {}) {
    return {
      token: token.target,
      payees: [payee1.address, payee2.address],
      shares: [600_000n, 400_000n],
      arbiter: arbiter.address,
      evaluator: evaluator.address,
      deadline,
      maxFeeBps: 1_000,
      fallbackRule: Fallback.RefundPayer,
      atomic: false,
      termsHash: ethers.id("terms v1"),
      ...overrides,
    };
  }

  /** Every payee of escrow `id` accepts, by a call. */
  async function acceptAll(id) {
    const [accounts, , , accepted] = await escrow.getPayees(id);
    const signers = await ethers.getSigners();
    for (let i = 0; i < accounts.length; i++) {
      if (accepted[i]) continue;
      const signer = signers.find((x) => x.address === accounts[i]);
      await escrow.connect(signer).accept(id, i);
    }
  }

  return {
    admin, payer, payee1, payee2, payee3, arbiter, evaluator, feeRecipient, stranger, feeManager, token, escrow,
    deadline, terms, acceptAll,
  };
}

/** The fixture plus one funded per-payee escrow `ID` (600,000 + 400,000) and one atomic escrow `ATOMIC_ID`. */
async function fundedEscrowFixture() {
  const f = await deployEscrowFixture();
  await f.escrow.connect(f.payer).create(TASK, f.terms());
  await f.escrow.connect(f.payer).create(ATOMIC_TASK, f.terms({ atomic: true }));
  await f.acceptAll(ID);
  await f.acceptAll(ATOMIC_ID);
  return f;
}

const TASK = taskId("1");
const ATOMIC_TASK = taskId("atomic");
const UNKNOWN_ID = ethers.id("no escrow has this id");
// The payer's escrow ids for TASK and ATOMIC_TASK; set once the signers are known.
let ID;
let ATOMIC_ID;

const ACCEPTANCE_TYPES = {
  Acceptance: [
    { name: "escrowId", type: "bytes32" },
    { name: "index", type: "uint256" },
    { name: "payee", type: "address" },
    { name: "token", type: "address" },
    { name: "share", type: "uint256" },
    { name: "arbiter", type: "address" },
    { name: "evaluator", type: "address" },
    { name: "deadline", type: "uint64" },
    { name: "maxFeeBps", type: "uint16" },
    { name: "fallbackRule", type: "uint8" },
    { name: "termsHash", type: "bytes32" },
  ],
};

/**
 * `signer`'s EIP-712 acceptance of payee `index` of escrow `id`, built from the escrow as stored;
 * `domain` and `message` override fields (to build replayed or forged acceptances).
 */
async function signAcceptance(escrow, signer, id, index, { domain = {}, message = {} } = {}) {
  const info = await escrow.getEscrow(id);
  const [accounts, shares] = await escrow.getPayees(id);
  const { chainId } = await ethers.provider.getNetwork();
  return signer.signTypedData(
    { name: "TaskEscrow", version: "1", chainId, verifyingContract: escrow.target, ...domain },
    ACCEPTANCE_TYPES,
    {
      escrowId: id, index, payee: accounts[index], token: info.token, share: shares[index], arbiter: info.arbiter,
      evaluator: info.evaluator, deadline: info.deadline, maxFeeBps: info.maxFeeBps, fallbackRule: info.fallbackRule,
      termsHash: info.termsHash, ...message,
    });
}

async function signPermit(token, owner, spender, value, deadline) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: await token.name(),
    version: "1",
    chainId,
    verifyingContract: await token.getAddress(),
  };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const message = { owner: owner.address, spender, value, nonce: await token.nonces(owner.address), deadline };
  return ethers.Signature.from(await owner.signTypedData(domain, types, message));
}

describe("TaskEscrow", function () {
  before(async function () {
    const [, payer] = await ethers.getSigners();
    ID = idOf(payer.address, TASK);
    ATOMIC_ID = idOf(payer.address, ATOMIC_TASK);
  });

  describe("deployment and fee administration", function () {
    it("grants the roles and sets fee and recipient, emitting both", async function () {
      const { escrow, admin, feeManager, feeRecipient } = await loadFixture(deployEscrowFixture);
      expect(await escrow.hasRole(await escrow.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await escrow.hasRole(await escrow.FEE_MANAGER_ROLE(), feeManager.address)).to.equal(true);
      expect(await escrow.hasRole(await escrow.FEE_MANAGER_ROLE(), admin.address)).to.equal(false);
      expect(await escrow.defaultAdmin()).to.equal(admin.address);
      expect(await escrow.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await escrow.feeBps()).to.equal(FEE_BPS);
      expect(await escrow.feeRecipient()).to.equal(feeRecipient.address);
      expect(await escrow.MAX_PAYEES()).to.equal(16n);
      expect(await escrow.MAX_FEE_BPS()).to.equal(1_000n);
      expect(await escrow.GRACE_PERIOD()).to.equal(GRACE);
      expect(await escrow.ARBITRATION_PERIOD()).to.equal(ARBITRATION);
      const deployment = escrow.deploymentTransaction();
      await expect(deployment).to.emit(escrow, "FeeBpsSet").withArgs(FEE_BPS);
      await expect(deployment).to.emit(escrow, "FeeRecipientSet").withArgs(feeRecipient.address);
    });

    it("rejects a fee above the maximum or a zero recipient at deployment", async function () {
      const { escrow, admin, feeManager, feeRecipient } = await loadFixture(deployEscrowFixture);
      const factory = await ethers.getContractFactory("TaskEscrow");
      await expect(factory.deploy(admin.address, ADMIN_DELAY, feeManager.address, feeRecipient.address, 1_001))
        .to.be.revertedWithCustomError(escrow, "EscrowFeeTooHigh").withArgs(1_001n, 1_000n);
      await expect(factory.deploy(admin.address, ADMIN_DELAY, feeManager.address, ethers.ZeroAddress, 0))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidFeeRecipient").withArgs(ethers.ZeroAddress);
    });

    it("lets the fee manager set the fee up to the maximum", async function () {
      const { escrow, feeManager } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(feeManager).setFeeBps(1_000)).to.emit(escrow, "FeeBpsSet").withArgs(1_000n);
      expect(await escrow.feeBps()).to.equal(1_000n);
      await expect(escrow.connect(feeManager).setFeeBps(0)).to.emit(escrow, "FeeBpsSet").withArgs(0n);
      await expect(escrow.connect(feeManager).setFeeBps(1_001))
        .to.be.revertedWithCustomError(escrow, "EscrowFeeTooHigh").withArgs(1_001n, 1_000n);
    });

    it("rejects fee changes from anyone without the fee manager role, the admin included", async function () {
      const { escrow, admin, stranger } = await loadFixture(deployEscrowFixture);
      const role = await escrow.FEE_MANAGER_ROLE();
      for (const caller of [stranger, admin]) {
        await expect(escrow.connect(caller).setFeeBps(10))
          .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount").withArgs(caller.address, role);
        await expect(escrow.connect(caller).setFeeRecipient(stranger.address))
          .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount").withArgs(caller.address, role);
      }
    });

    it("lets the fee manager change the fee recipient, never to zero or the escrow itself", async function () {
      const { escrow, feeManager, stranger } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(feeManager).setFeeRecipient(stranger.address))
        .to.emit(escrow, "FeeRecipientSet").withArgs(stranger.address);
      expect(await escrow.feeRecipient()).to.equal(stranger.address);
      await expect(escrow.connect(feeManager).setFeeRecipient(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidFeeRecipient").withArgs(ethers.ZeroAddress);
      await expect(escrow.connect(feeManager).setFeeRecipient(escrow.target))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidFeeRecipient").withArgs(escrow.target);
    });

    it("keeps the fee and fee recipient an escrow was created with when they change later", async function () {
      const { escrow, feeManager, payer, payee1, feeRecipient, stranger, token, terms, acceptAll } =
        await loadFixture(deployEscrowFixture);
      await escrow.connect(payer).create(TASK, terms());
      await acceptAll(ID);
      await escrow.connect(feeManager).setFeeBps(1_000);
      await escrow.connect(feeManager).setFeeRecipient(stranger.address);
      expect((await escrow.getEscrow(ID)).feeBps).to.equal(FEE_BPS);
      expect((await escrow.getEscrow(ID)).feeRecipient).to.equal(feeRecipient.address);
      await expect(escrow.connect(payer).release(ID, 0, 100_000n)).to.changeTokenBalances(
        token, [payee1, feeRecipient], [100_000n - feeOf(100_000n), 0n]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(feeOf(100_000n));
      expect(await escrow.feesOwed(token.target, stranger.address)).to.equal(0n);
      await escrow.connect(payer).create(taskId("later"), terms());
      const later = await escrow.getEscrow(idOf(payer.address, taskId("later")));
      expect(later.feeBps).to.equal(1_000n);
      expect(later.feeRecipient).to.equal(stranger.address);
    });
  });

  describe("create", function () {
    it("funds the escrow from the payer and records the terms", async function () {
      const { escrow, payer, payee1, payee2, arbiter, evaluator, token, terms, deadline } =
        await loadFixture(deployEscrowFixture);
      const tx = escrow.connect(payer).create(TASK, terms());
      await expect(tx).to.emit(escrow, "Created")
        .withArgs(ID, payer.address, token.target, TASK, 1_000_000n, FEE_BPS, deadline, false, ethers.id("terms v1"));
      await expect(tx).to.changeTokenBalances(token, [payer, escrow], [-1_000_000n, 1_000_000n]);

      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Open);
      expect(info.token).to.equal(token.target);
      expect(info.payer).to.equal(payer.address);
      expect(info.arbiter).to.equal(arbiter.address);
      expect(info.evaluator).to.equal(evaluator.address);
      expect(info.deadline).to.equal(deadline);
      expect(info.feeBps).to.equal(FEE_BPS);
      expect(info.atomic).to.equal(false);
      expect(info.termsHash).to.equal(ethers.id("terms v1"));
      expect(info.amount).to.equal(1_000_000n);
      expect(info.held).to.equal(1_000_000n);
      expect(info.payeeCount).to.equal(2n);
      expect(info.maxFeeBps).to.equal(1_000n);
      expect(info.fallbackRule).to.equal(Fallback.RefundPayer);
      expect(info.acceptedCount).to.equal(0n);
      expect(info.arbitrationDeadline).to.equal(0n);
      const [accounts, shares, released, accepted] = await escrow.getPayees(ID);
      expect(accounts).to.deep.equal([payee1.address, payee2.address]);
      expect(shares).to.deep.equal([600_000n, 400_000n]);
      expect(released).to.deep.equal([0n, 0n]);
      expect(accepted).to.deep.equal([false, false]);
    });

    it("stores the escrow under keccak256(abi.encode(payer, taskId)) and returns that id", async function () {
      const { escrow, payer, stranger, terms } = await loadFixture(deployEscrowFixture);
      expect(await escrow.escrowId(payer.address, TASK)).to.equal(ID);
      expect(await escrow.escrowId(stranger.address, TASK)).to.equal(idOf(stranger.address, TASK));
      expect(await escrow.escrowId(ethers.ZeroAddress, ethers.ZeroHash))
        .to.equal(idOf(ethers.ZeroAddress, ethers.ZeroHash));
      expect(await escrow.connect(payer).create.staticCall(TASK, terms())).to.equal(ID);
      await escrow.connect(payer).create(TASK, terms());
      expect((await escrow.getEscrow(ID)).payer).to.equal(payer.address);
      expect((await escrow.getEscrow(TASK)).state).to.equal(State.None);
    });

    it("computes escrowId like clients do, for random payers and task ids", async function () {
      const { escrow } = await loadFixture(deployEscrowFixture);
      const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261122;
      const property = fc.asyncProperty(fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }), async (payerBytes, taskBytes) => {
          const payer = ethers.getAddress(ethers.hexlify(payerBytes));
          const task = ethers.hexlify(taskBytes);
          expect(await escrow.escrowId(payer, task)).to.equal(idOf(payer, task));
        });
      try {
        await fc.assert(property, { seed, numRuns: 50 });
      } catch (error) {
        console.error(`escrowId property failed with FC_SEED=${seed}`);
        throw error;
      }
    });

    it("binds the id to the payer: another account using the same task id cannot block the payer", async function () {
      const { escrow, token, payer, stranger, terms } = await loadFixture(deployEscrowFixture);
      await token.mint(stranger.address, 2_000_000n);
      await token.connect(stranger).approve(escrow.target, MAX_UINT256);
      // The attacker sees the payer's pending create and races it with the same task id, and
      // with the payer's escrow id as its own task id, both ordered first by a higher fee.
      const attackerId = idOf(stranger.address, TASK);
      expect(attackerId).to.not.equal(ID);
      await network.provider.send("evm_setAutomine", [false]);
      let sent;
      try {
        const payerTx = await escrow.connect(payer).create(TASK, terms(), { maxPriorityFeePerGas: 1n });
        const attackTx = await escrow.connect(stranger).create(TASK, terms(), { maxPriorityFeePerGas: 10n ** 9n });
        const attackWithId = await escrow.connect(stranger).create(ID, terms(), { maxPriorityFeePerGas: 10n ** 9n });
        sent = [payerTx, attackTx, attackWithId];
        await network.provider.send("evm_mine");
      } finally {
        await network.provider.send("evm_setAutomine", [true]);
      }
      const [payerReceipt, attackReceipt, attackWithIdReceipt] = await Promise.all(sent.map((tx) => tx.wait()));
      expect(attackReceipt.blockNumber).to.equal(payerReceipt.blockNumber);
      expect(attackReceipt.index).to.be.lessThan(payerReceipt.index);
      expect(attackWithIdReceipt.index).to.be.lessThan(payerReceipt.index);

      await expect(payerReceipt).to.emit(escrow, "Created")
        .withArgs(ID, payer.address, token.target, TASK, 1_000_000n, FEE_BPS, anyValue, false, anyValue);
      await expect(attackReceipt).to.emit(escrow, "Created")
        .withArgs(attackerId, stranger.address, token.target, TASK, 1_000_000n, FEE_BPS, anyValue, false, anyValue);
      expect((await escrow.getEscrow(ID)).payer).to.equal(payer.address);
      expect((await escrow.getEscrow(attackerId)).payer).to.equal(stranger.address);
      expect((await escrow.getEscrow(idOf(stranger.address, ID))).payer).to.equal(stranger.address);
      expect(await token.balanceOf(escrow.target)).to.equal(3_000_000n);
      await expect(escrow.connect(payer).create(TASK, terms()))
        .to.be.revertedWithCustomError(escrow, "EscrowAlreadyExists").withArgs(ID);
    });

    it("reports an unknown id as all zero in state None", async function () {
      const { escrow } = await loadFixture(deployEscrowFixture);
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.None);
      expect(info.payer).to.equal(ethers.ZeroAddress);
      expect(info.amount).to.equal(0n);
      const [accounts] = await escrow.getPayees(ID);
      expect(accounts).to.deep.equal([]);
    });

    it("accepts exactly MAX_PAYEES payees and no more", async function () {
      const { escrow, payer, terms } = await loadFixture(deployEscrowFixture);
      const signers = await ethers.getSigners();
      // Any 17 accounts but the arbiter (index 5), which may never be a payee.
      const payees = signers.filter((_, i) => i !== 5).slice(0, 17).map((s) => s.address);
      const shares = payees.map(() => 10n);
      await expect(escrow.connect(payer).create(taskId("17"), terms({ payees, shares })))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayeeCount")
        .withArgs(idOf(payer.address, taskId("17")), 17n);
      await expect(escrow.connect(payer).create(TASK, terms({ payees: payees.slice(0, 16), shares: shares.slice(0, 16) })))
        .to.emit(escrow, "Created");
      expect((await escrow.getEscrow(ID)).payeeCount).to.equal(16n);
    });

    it("rejects a task id the payer used before, in any state, so a retry never funds twice", async function () {
      const { escrow, payer, token, terms } = await loadFixture(deployEscrowFixture);
      await escrow.connect(payer).create(TASK, terms());
      await expect(escrow.connect(payer).create(TASK, terms()))
        .to.be.revertedWithCustomError(escrow, "EscrowAlreadyExists").withArgs(ID);
      await escrow.connect(payer).cancel(ID);
      await expect(escrow.connect(payer).create(TASK, terms()))
        .to.be.revertedWithCustomError(escrow, "EscrowAlreadyExists").withArgs(ID);
      expect(await token.balanceOf(escrow.target)).to.equal(0n);
    });

    it("rejects invalid terms with the matching error", async function () {
      const { escrow, payer, payee1, terms, deadline } = await loadFixture(deployEscrowFixture);
      const create = (t) => escrow.connect(payer).create(TASK, terms(t));
      await expect(create({ token: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidToken").withArgs(ID, ethers.ZeroAddress);
      await expect(create({ payees: [], shares: [] }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayeeCount").withArgs(ID, 0n);
      await expect(create({ shares: [1n] }))
        .to.be.revertedWithCustomError(escrow, "EscrowLengthMismatch").withArgs(ID, 2n, 1n);
      await expect(create({ payees: [payee1.address, ethers.ZeroAddress] }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayee").withArgs(ID, 1n);
      await expect(create({ payees: [escrow.target, payee1.address] }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayee").withArgs(ID, 0n);
      await expect(create({ shares: [0n, 1n] }))
        .to.be.revertedWithCustomError(escrow, "EscrowZeroShare").withArgs(ID, 0n);
      await expect(create({ arbiter: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(ID, ethers.ZeroAddress);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 10n);
      await expect(create({ deadline: now + 10n }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidDeadline").withArgs(ID, now + 10n);
      await expect(create({ deadline: 0n }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidDeadline").withArgs(ID, 0n);
      expect(deadline).to.be.greaterThan(now);
    });

    it("rejects shares whose sum exceeds uint256 with a clear error, not a panic", async function () {
      const { escrow, payer, payee1, payee2, payee3, terms } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(payer).create(TASK, terms({ shares: [MAX_UINT256, 1n] })))
        .to.be.revertedWithCustomError(escrow, "EscrowAmountOverflow").withArgs(ID, 1n);
      await expect(escrow.connect(payer).create(TASK, terms({
        payees: [payee1.address, payee2.address, payee3.address],
        shares: [MAX_UINT256 / 2n, MAX_UINT256 / 2n, 2n],
      }))).to.be.revertedWithCustomError(escrow, "EscrowAmountOverflow").withArgs(ID, 2n);
    });

    it("holds and releases the largest amount, uint256 max, without overflow in the fee", async function () {
      const { escrow, feeManager, payer, payee1, feeRecipient, terms, acceptAll } = await loadFixture(deployEscrowFixture);
      const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
      await big.mint(payer.address, MAX_UINT256);
      await big.connect(payer).approve(escrow.target, MAX_UINT256);
      await escrow.connect(feeManager).setFeeBps(1_000);
      await escrow.connect(payer).create(TASK, terms({ token: big.target, payees: [payee1.address], shares: [MAX_UINT256] }));
      expect((await escrow.getEscrow(ID)).amount).to.equal(MAX_UINT256);
      await acceptAll(ID);
      const fee = (MAX_UINT256 * 1_000n) / BPS;
      await expect(escrow.connect(payer).releaseAll(ID))
        .to.emit(escrow, "Released").withArgs(ID, payee1.address, MAX_UINT256 - fee, fee);
      expect(await big.balanceOf(payee1.address)).to.equal(MAX_UINT256 - fee);
      expect(await escrow.feesOwed(big.target, feeRecipient.address)).to.equal(fee);
      await expect(escrow.connect(feeRecipient).claimFees(big.target, feeRecipient.address))
        .to.emit(escrow, "FeesClaimed").withArgs(feeRecipient.address, big.target, feeRecipient.address, fee);
      expect(await big.balanceOf(feeRecipient.address)).to.equal(fee);
      expect(await big.balanceOf(escrow.target)).to.equal(0n);
    });

    it("rejects a fee-on-transfer token: what arrived differs from the amount", async function () {
      const { escrow, payer, terms } = await loadFixture(deployEscrowFixture);
      const fot = await ethers.deployContract("FeeOnTransferEscrowToken");
      await fot.mint(payer.address, 1_000_000n);
      await fot.connect(payer).approve(escrow.target, MAX_UINT256);
      await expect(escrow.connect(payer).create(TASK, terms({ token: fot.target, shares: [600n, 400n] })))
        .to.be.revertedWithCustomError(escrow, "EscrowTransferMismatch").withArgs(ID, 1_000n, 990n);
    });

    it("fails without allowance and leaves no escrow behind", async function () {
      const { escrow, token, stranger, terms } = await loadFixture(deployEscrowFixture);
      await token.mint(stranger.address, 1_000_000n);
      await expect(escrow.connect(stranger).create(TASK, terms()))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance").withArgs(escrow.target, 0n, 1_000_000n);
      expect((await escrow.getEscrow(idOf(stranger.address, TASK))).state).to.equal(State.None);
    });
  });

  describe("createWithPermit", function () {
    async function permitFixture() {
      const f = await deployEscrowFixture();
      await f.token.mint(f.stranger.address, 1_000_000n);
      return f;
    }

    it("funds the escrow with a signed EIP-2612 permit and no prior approval", async function () {
      const { escrow, token, stranger, terms } = await loadFixture(permitFixture);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const sig = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      const tx = escrow.connect(stranger).createWithPermit(TASK, terms(), permitDeadline, sig.v, sig.r, sig.s);
      await expect(tx).to.emit(escrow, "Created").withArgs(idOf(stranger.address, TASK), stranger.address,
        token.target, TASK, 1_000_000n, FEE_BPS, anyValue, false, anyValue);
      await expect(tx).to.changeTokenBalances(token, [stranger, escrow], [-1_000_000n, 1_000_000n]);
      expect(await token.nonces(stranger.address)).to.equal(1n);
      expect(await token.allowance(stranger.address, escrow.target)).to.equal(0n);
    });

    it("still creates when someone submitted the permit first", async function () {
      const { escrow, token, stranger, payee3, terms } = await loadFixture(permitFixture);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const sig = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      await token.connect(payee3).permit(stranger.address, escrow.target, 1_000_000n, permitDeadline, sig.v, sig.r, sig.s);
      await expect(escrow.connect(stranger).createWithPermit(TASK, terms(), permitDeadline, sig.v, sig.r, sig.s))
        .to.changeTokenBalances(token, [stranger, escrow], [-1_000_000n, 1_000_000n]);
    });

    it("fails with a bad permit and no allowance", async function () {
      const { escrow, token, stranger, payee3, terms } = await loadFixture(permitFixture);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const sig = await signPermit(token, payee3, escrow.target, 1_000_000n, permitDeadline);
      await expect(escrow.connect(stranger).createWithPermit(TASK, terms(), permitDeadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance").withArgs(escrow.target, 0n, 1_000_000n);
    });

    it("rejects a task id the payer used before without touching the permit", async function () {
      const { escrow, token, stranger, terms } = await loadFixture(permitFixture);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const first = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      await escrow.connect(stranger).createWithPermit(TASK, terms(), permitDeadline, first.v, first.r, first.s);
      await token.mint(stranger.address, 1_000_000n);
      const retry = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      await expect(escrow.connect(stranger).createWithPermit(TASK, terms(), permitDeadline, retry.v, retry.r, retry.s))
        .to.be.revertedWithCustomError(escrow, "EscrowAlreadyExists").withArgs(idOf(stranger.address, TASK));
      expect(await token.nonces(stranger.address)).to.equal(1n);
      expect(await token.balanceOf(escrow.target)).to.equal(1_000_000n);
    });

    it("returns the id derived from the caller and the task id", async function () {
      const { escrow, token, stranger, terms } = await loadFixture(permitFixture);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const sig = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      const create = escrow.connect(stranger).createWithPermit;
      expect(await create.staticCall(TASK, terms(), permitDeadline, sig.v, sig.r, sig.s))
        .to.equal(idOf(stranger.address, TASK));
    });
  });

  describe("release", function () {
    it("pays part of a share to the payee and the fee to the fee recipient", async function () {
      const { escrow, payer, payee1, feeRecipient, token } = await loadFixture(fundedEscrowFixture);
      const fee = feeOf(100_000n);
      const tx = escrow.connect(payer).release(ID, 0, 100_000n);
      await expect(tx).to.emit(escrow, "Released").withArgs(ID, payee1.address, 100_000n - fee, fee);
      await expect(tx).to.changeTokenBalances(token, [payee1, feeRecipient, escrow], [100_000n - fee, 0n, -(100_000n - fee)]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(fee);
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Funded);
      expect(info.held).to.equal(900_000n);
      const [, , released] = await escrow.getPayees(ID);
      expect(released).to.deep.equal([100_000n, 0n]);
    });

    it("lets the evaluator release and closes the escrow when every share is released", async function () {
      const { escrow, payer, evaluator, payee2 } = await loadFixture(fundedEscrowFixture);
      await escrow.connect(evaluator).release(ID, 0, 600_000n);
      await expect(escrow.connect(payer).release(ID, 1, 399_999n)).to.emit(escrow, "Released");
      expect((await escrow.getEscrow(ID)).state).to.equal(State.Funded);
      await expect(escrow.connect(evaluator).release(ID, 1, 1n))
        .to.emit(escrow, "Released").withArgs(ID, payee2.address, 1n, 0n);
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Completed);
      expect(info.held).to.equal(0n);
    });

    it("rounds the fee down: tiny releases pay no fee", async function () {
      const { escrow, payer, payee1, feeRecipient, token } = await loadFixture(fundedEscrowFixture);
      await expect(escrow.connect(payer).release(ID, 0, 39n)).to.changeTokenBalances(token, [payee1, escrow], [39n, -39n]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(0n);
      await expect(escrow.connect(payer).release(ID, 0, 40n)).to.changeTokenBalances(token, [payee1, escrow], [39n, -39n]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(1n);
    });

    it("rejects callers other than payer and evaluator", async function () {
      const { escrow, payee1, arbiter, stranger } = await loadFixture(fundedEscrowFixture);
      for (const caller of [payee1, arbiter, stranger]) {
        await expect(escrow.connect(caller).release(ID, 0, 1n))
          .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(ID, caller.address);
      }
    });

    it("rejects a partial release on an atomic escrow", async function () {
      const { escrow, payer } = await loadFixture(fundedEscrowFixture);
      await expect(escrow.connect(payer).release(ATOMIC_ID, 0, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowAtomicOnly").withArgs(ATOMIC_ID);
    });

    it("rejects an unknown payee index and a zero amount", async function () {
      const { escrow, payer } = await loadFixture(fundedEscrowFixture);
      await expect(escrow.connect(payer).release(ID, 2, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayee").withArgs(ID, 2n);
      await expect(escrow.connect(payer).release(ID, MAX_UINT256, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayee").withArgs(ID, MAX_UINT256);
      await expect(escrow.connect(payer).release(ID, 0, 0n))
        .to.be.revertedWithCustomError(escrow, "EscrowZeroAmount").withArgs(ID);
    });

    it("rejects a release beyond the remaining share, up to uint256 max", async function () {
      const { escrow, payer } = await loadFixture(fundedEscrowFixture);
      await expect(escrow.connect(payer).release(ID, 0, 600_001n))
        .to.be.revertedWithCustomError(escrow, "EscrowExceedsShare").withArgs(ID, 0n, 600_001n, 600_000n);
      await escrow.connect(payer).release(ID, 0, 500_000n);
      await expect(escrow.connect(payer).release(ID, 0, 100_001n))
        .to.be.revertedWithCustomError(escrow, "EscrowExceedsShare").withArgs(ID, 0n, 100_001n, 100_000n);
      await expect(escrow.connect(payer).release(ID, 1, MAX_UINT256))
        .to.be.revertedWithCustomError(escrow, "EscrowExceedsShare").withArgs(ID, 1n, MAX_UINT256, 400_000n);
    });

    it("rejects releases on unknown, disputed and closed escrows", async function () {
      const { escrow, payer } = await loadFixture(fundedEscrowFixture);
      const unknown = UNKNOWN_ID;
      await expect(escrow.connect(payer).release(unknown, 0, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unknown, State.None);
      await escrow.connect(payer).dispute(ID);
      await expect(escrow.connect(payer).release(ID, 0, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Disputed);
      await escrow.connect(payer).releaseAll(ATOMIC_ID);
      await expect(escrow.connect(payer).release(ATOMIC_ID, 0, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ATOMIC_ID, State.Completed);
    });
  });

  describe("releaseAll", function () {
    it("pays every payee its whole share at once on an atomic escrow", async function () {
      const { escrow, evaluator, payee1, payee2, feeRecipient, token } = await loadFixture(fundedEscrowFixture);
      const tx = escrow.connect(evaluator).releaseAll(ATOMIC_ID);
      await expect(tx).to.emit(escrow, "Released").withArgs(ATOMIC_ID, payee1.address, 600_000n - feeOf(600_000n), feeOf(600_000n));
      await expect(tx).to.emit(escrow, "Released").withArgs(ATOMIC_ID, payee2.address, 400_000n - feeOf(400_000n), feeOf(400_000n));
      await expect(tx).to.emit(escrow, "Completed").withArgs(ATOMIC_ID);
      await expect(tx).to.changeTokenBalances(token, [payee1, payee2, feeRecipient, escrow],
        [600_000n - feeOf(600_000n), 400_000n - feeOf(400_000n), 0n, -(1_000_000n - feeOf(1_000_000n))]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(feeOf(1_000_000n));
      const info = await escrow.getEscrow(ATOMIC_ID);
      expect(info.state).to.equal(State.Completed);
      expect(info.held).to.equal(0n);
      const [, , released] = await escrow.getPayees(ATOMIC_ID);
      expect(released).to.deep.equal([600_000n, 400_000n]);
    });

    it("pays only what remains after partial releases, skipping paid-out payees", async function () {
      const { escrow, payer, payee1, payee2, token } = await loadFixture(fundedEscrowFixture);
      await escrow.connect(payer).release(ID, 0, 600_000n);
      await escrow.connect(payer).release(ID, 1, 100_000n);
      const tx = escrow.connect(payer).releaseAll(ID);
      await expect(tx).to.emit(escrow, "Released").withArgs(ID, payee2.address, 300_000n - feeOf(300_000n), feeOf(300_000n));
      await expect(tx).to.changeTokenBalances(token, [payee1, escrow], [0n, -(300_000n - feeOf(300_000n))]);
      const receipt = await (await tx).wait();
      const released = receipt.logs.map((log) => escrow.interface.parseLog(log)).filter((e) => e?.name === "Released");
      expect(released.map((e) => e.args.payee)).to.deep.equal([payee2.address]);
    });

    it("rejects callers other than payer and evaluator", async function () {
      const { escrow, payee2, arbiter, stranger } = await loadFixture(fundedEscrowFixture);
      for (const caller of [payee2, arbiter, stranger]) {
        await expect(escrow.connect(caller).releaseAll(ATOMIC_ID))
          .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(ATOMIC_ID, caller.address);
      }
    });

    it("rejects unknown, open, disputed, refunded and released escrows", async function () {
      const { escrow, payer, payee1, deadline, terms, acceptAll } = await loadFixture(fundedEscrowFixture);
      const unknown = UNKNOWN_ID;
      await expect(escrow.connect(payer).releaseAll(unknown))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unknown, State.None);
      await escrow.connect(payee1).dispute(ATOMIC_ID);
      await expect(escrow.connect(payer).releaseAll(ATOMIC_ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ATOMIC_ID, State.Disputed);
      await time.increaseTo(deadline + 1n);
      await escrow.connect(payer).refund(ID);
      await expect(escrow.connect(payer).releaseAll(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Expired);
      const second = idOf(payer.address, taskId("2"));
      await escrow.connect(payer).create(taskId("2"), terms({ deadline: deadline + DAY }));
      await expect(escrow.connect(payer).releaseAll(second))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(second, State.Open);
      await acceptAll(second);
      await escrow.connect(payer).releaseAll(second);
      await expect(escrow.connect(payer).releaseAll(second))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(second, State.Completed);
    });
  });

  describe("refund", function () {
    it("rejects a refund up to and at the deadline, even by the payer", async function () {
      const { escrow, payer, stranger, deadline } = await loadFixture(fundedEscrowFixture);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 1n);
      await expect(escrow.connect(stranger).refund(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowDeadlineNotReached").withArgs(ID, deadline, now + 1n);
      await time.setNextBlockTimestamp(deadline);
      await expect(escrow.connect(payer).refund(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowDeadlineNotReached").withArgs(ID, deadline, deadline);
    });

    it("lets only the payer refund during the grace period, and anyone after it", async function () {
      const { escrow, payer, stranger, payee1, feeRecipient, token, deadline } = await loadFixture(fundedEscrowFixture);
      await escrow.connect(payer).release(ID, 1, 400_000n);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(escrow.connect(payee1).refund(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInGracePeriod").withArgs(ID, deadline + GRACE, deadline + 1n);
      await time.setNextBlockTimestamp(deadline + GRACE);
      await expect(escrow.connect(stranger).refund(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInGracePeriod").withArgs(ID, deadline + GRACE, deadline + GRACE);
      const tx = escrow.connect(stranger).refund(ID);
      await expect(tx).to.emit(escrow, "Expired").withArgs(ID, payer.address, 600_000n);
      await expect(tx).to.changeTokenBalances(token, [payer, stranger, feeRecipient, escrow], [600_000n, 0n, 0n, -600_000n]);
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Expired);
      expect(info.held).to.equal(0n);
      await time.setNextBlockTimestamp(deadline + 1n + 3n * DAY);
      await expect(escrow.connect(payer).refund(ATOMIC_ID)).to.emit(escrow, "Expired").withArgs(ATOMIC_ID, payer.address, 1_000_000n);
    });

    it("refunds an open escrow after the deadline, whatever acceptances it has", async function () {
      const { escrow, payer, payee1, token, terms, deadline } = await loadFixture(deployEscrowFixture);
      await escrow.connect(payer).create(TASK, terms());
      await escrow.connect(payee1).accept(ID, 0);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(escrow.connect(payer).refund(ID)).to.changeTokenBalances(token, [payer, escrow], [1_000_000n, -1_000_000n]);
      expect((await escrow.getEscrow(ID)).state).to.equal(State.Expired);
    });

    it("rejects refunds of unknown, disputed, refunded and released escrows", async function () {
      const { escrow, payer, payee2, stranger, deadline, terms, acceptAll } = await loadFixture(fundedEscrowFixture);
      await escrow.connect(payee2).dispute(ATOMIC_ID);
      await time.increaseTo(deadline + GRACE + 1n);
      const unknown = UNKNOWN_ID;
      await expect(escrow.connect(stranger).refund(unknown))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unknown, State.None);
      await expect(escrow.connect(stranger).refund(ATOMIC_ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ATOMIC_ID, State.Disputed);
      await escrow.connect(stranger).refund(ID);
      await expect(escrow.connect(stranger).refund(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Expired);
      const later = idOf(payer.address, taskId("later"));
      await escrow.connect(payer).create(taskId("later"), terms({ deadline: deadline + 2n * DAY }));
      await acceptAll(later);
      await escrow.connect(payer).releaseAll(later);
      await time.increase(4n * DAY);
      await expect(escrow.connect(stranger).refund(later))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(later, State.Completed);
    });
  });

  describe("dispute", function () {
    it("lets the payer or any payee freeze a funded escrow", async function () {
      const { escrow, payer, payee2 } = await loadFixture(fundedEscrowFixture);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 10n);
      await expect(escrow.connect(payer).dispute(ID)).to.emit(escrow, "Disputed").withArgs(ID, payer.address, now + 10n + ARBITRATION);
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Disputed);
      expect(info.arbitrationDeadline).to.equal(now + 10n + ARBITRATION);
      await expect(escrow.connect(payee2).dispute(ATOMIC_ID)).to.emit(escrow, "Disputed").withArgs(ATOMIC_ID, payee2.address, anyValue);
    });

    it("lets a party dispute until the end of the grace period, never later", async function () {
      const { escrow, payer, payee1, deadline } = await loadFixture(fundedEscrowFixture);
      await time.setNextBlockTimestamp(deadline + GRACE);
      await escrow.connect(payee1).dispute(ID);
      await time.setNextBlockTimestamp(deadline + GRACE + 1n);
      await expect(escrow.connect(payer).dispute(ATOMIC_ID))
        .to.be.revertedWithCustomError(escrow, "EscrowDisputeClosed").withArgs(ATOMIC_ID, deadline + GRACE, deadline + GRACE + 1n);
    });

    it("rejects a dispute of an escrow that not every payee accepted", async function () {
      const { escrow, payer, payee1, terms } = await loadFixture(deployEscrowFixture);
      await escrow.connect(payer).create(TASK, terms());
      await escrow.connect(payee1).accept(ID, 0);
      for (const caller of [payer, payee1]) {
        await expect(escrow.connect(caller).dispute(ID))
          .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Open);
      }
    });

    it("rejects the evaluator, the arbiter and strangers", async function () {
      const { escrow, evaluator, arbiter, stranger } = await loadFixture(fundedEscrowFixture);
      for (const caller of [evaluator, arbiter, stranger]) {
        await expect(escrow.connect(caller).dispute(ID))
          .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(ID, caller.address);
      }
    });

    it("rejects disputes on unknown, disputed and closed escrows", async function () {
      const { escrow, payer, payee1 } = await loadFixture(fundedEscrowFixture);
      const unknown = UNKNOWN_ID;
      await expect(escrow.connect(payer).dispute(unknown))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unknown, State.None);
      await escrow.connect(payer).dispute(ID);
      await expect(escrow.connect(payee1).dispute(ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Disputed);
      await escrow.connect(payer).releaseAll(ATOMIC_ID);
      await expect(escrow.connect(payee1).dispute(ATOMIC_ID))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ATOMIC_ID, State.Completed);
    });
  });

  describe("resolve", function () {
    async function disputedFixture() {
      const f = await fundedEscrowFixture();
      await f.escrow.connect(f.payer).release(ID, 0, 100_000n);
      await f.escrow.connect(f.payee1).dispute(ID);
      return f;
    }

    it("splits what is held among payees (minus fees) and the payer", async function () {
      const { escrow, arbiter, payer, payee1, payee2, feeRecipient, token } = await loadFixture(disputedFixture);
      // held 900,000: payee1 may still get 500,000, payee2 400,000
      const tx = escrow.connect(arbiter).resolve(ID, [300_000n, 200_000n], 400_000n);
      await expect(tx).to.emit(escrow, "Released").withArgs(ID, payee1.address, 300_000n - feeOf(300_000n), feeOf(300_000n));
      await expect(tx).to.emit(escrow, "Released").withArgs(ID, payee2.address, 200_000n - feeOf(200_000n), feeOf(200_000n));
      await expect(tx).to.emit(escrow, "Resolved").withArgs(ID, arbiter.address, 400_000n);
      await expect(tx).to.changeTokenBalances(token, [payee1, payee2, payer, feeRecipient, escrow],
        [300_000n - feeOf(300_000n), 200_000n - feeOf(200_000n), 400_000n, 0n, -900_000n + feeOf(500_000n)]);
      expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(feeOf(100_000n) + feeOf(500_000n));
      const info = await escrow.getEscrow(ID);
      expect(info.state).to.equal(State.Resolved);
      expect(info.held).to.equal(0n);
      const [, , released] = await escrow.getPayees(ID);
      expect(released).to.deep.equal([400_000n, 200_000n]);
    });

    it("may give everything back to the payer, with no fee", async function () {
      const { escrow, arbiter, payer, feeRecipient, token } = await loadFixture(disputedFixture);
      const tx = escrow.connect(arbiter).resolve(ID, [0n, 0n], 900_000n);
      await expect(tx).not.to.emit(escrow, "Released");
      await expect(tx).to.changeTokenBalances(token, [payer, feeRecipient], [900_000n, 0n]);
    });

    it("may give every payee its whole remaining share", async function () {
      const { escrow, arbiter, payer, payee1, token } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolve(ID, [500_000n, 400_000n], 0n))
        .to.changeTokenBalances(token, [payee1, payer], [500_000n - feeOf(500_000n), 0n]);
    });

    it("rejects anyone but the arbiter", async function () {
      const { escrow, payer, payee1, evaluator } = await loadFixture(disputedFixture);
      for (const caller of [payer, payee1, evaluator]) {
        await expect(escrow.connect(caller).resolve(ID, [0n, 0n], 900_000n))
          .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(ID, caller.address);
      }
    });

    it("rejects escrows that are not disputed", async function () {
      const { escrow, arbiter } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolve(ATOMIC_ID, [0n, 0n], 1_000_000n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ATOMIC_ID, State.Funded);
      await escrow.connect(arbiter).resolve(ID, [0n, 0n], 900_000n);
      await expect(escrow.connect(arbiter).resolve(ID, [0n, 0n], 0n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(ID, State.Resolved);
      const unknown = UNKNOWN_ID;
      await expect(escrow.connect(arbiter).resolve(unknown, [], 0n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unknown, State.None);
    });

    it("rejects a split with the wrong number of payees", async function () {
      const { escrow, arbiter } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolve(ID, [900_000n], 0n))
        .to.be.revertedWithCustomError(escrow, "EscrowLengthMismatch").withArgs(ID, 2n, 1n);
    });

    it("rejects splits that do not sum exactly to what is held, including at uint256 bounds", async function () {
      const { escrow, arbiter } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolve(ID, [300_000n, 200_000n], 399_999n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidSplit").withArgs(ID, 900_000n);
      await expect(escrow.connect(arbiter).resolve(ID, [300_000n, 200_000n], 400_001n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidSplit").withArgs(ID, 900_000n);
      await expect(escrow.connect(arbiter).resolve(ID, [500_000n, 400_000n], MAX_UINT256))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidSplit").withArgs(ID, 900_000n);
    });

    it("rejects a payee amount beyond its remaining share", async function () {
      const { escrow, arbiter } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolve(ID, [500_001n, 0n], 399_999n))
        .to.be.revertedWithCustomError(escrow, "EscrowExceedsShare").withArgs(ID, 0n, 500_001n, 500_000n);
      await expect(escrow.connect(arbiter).resolve(ID, [0n, MAX_UINT256], 0n))
        .to.be.revertedWithCustomError(escrow, "EscrowExceedsShare").withArgs(ID, 1n, MAX_UINT256, 400_000n);
    });
  });

  describe("gas of the hot paths", function () {
    // Upper bounds guard against regressions; the measured figures are printed and go to docs/escrow.md.
    const BOUNDS = {
      "create, 1 payee": 300_000n,
      "create, 2 payees": 330_000n,
      "create, 16 payees": 1_050_000n,
      "createWithPermit, 2 payees": 360_000n,
      "accept": 60_000n,
      "acceptWithSignature (last payee)": 70_000n,
      "cancel": 60_000n,
      "release, partial": 130_000n,
      "releaseAll, 2 payees": 135_000n,
      "dispute": 45_000n,
      "resolve, 2 payees + payer": 150_000n,
      "applyFallback, 2 payees": 150_000n,
      "refund": 72_000n,
      "claimFees": 60_000n,
    };

    it("stays within its bounds", async function () {
      const { escrow, token, payer, payee1, payee2, arbiter, stranger, feeRecipient, terms, deadline, acceptAll } =
        await loadFixture(deployEscrowFixture);
      const gas = {};
      const measure = async (name, txPromise) => {
        gas[name] = (await (await txPromise).wait()).gasUsed;
      };
      const signers = await ethers.getSigners();
      const g2 = idOf(payer.address, taskId("g2"));
      const gd = idOf(payer.address, taskId("gd"));
      const gf = idOf(payer.address, taskId("gf"));
      const gp = idOf(stranger.address, taskId("gp"));
      await measure("create, 1 payee", escrow.connect(payer).create(taskId("g1"), terms({ payees: [payee1.address], shares: [1_000n] })));
      await measure("cancel", escrow.connect(payer).cancel(idOf(payer.address, taskId("g1"))));
      await measure("create, 2 payees", escrow.connect(payer).create(taskId("g2"), terms()));
      const sixteen = signers.filter((_, i) => i !== 5).slice(0, 16);
      await measure("create, 16 payees", escrow.connect(payer).create(taskId("g16"), terms({
        payees: sixteen.map((s) => s.address), shares: sixteen.map(() => 1_000n),
      })));
      await token.mint(stranger.address, 1_000_000n);
      const permitDeadline = BigInt(await time.latest()) + 3_600n;
      const sig = await signPermit(token, stranger, escrow.target, 1_000_000n, permitDeadline);
      await measure("createWithPermit, 2 payees",
        escrow.connect(stranger).createWithPermit(taskId("gp"), terms(), permitDeadline, sig.v, sig.r, sig.s));
      await measure("accept", escrow.connect(payee1).accept(g2, 0));
      const acceptance = await signAcceptance(escrow, payee2, g2, 1);
      await measure("acceptWithSignature (last payee)", escrow.connect(stranger).acceptWithSignature(g2, 1, acceptance));
      await measure("release, partial", escrow.connect(payer).release(g2, 0, 100_000n));
      await measure("releaseAll, 2 payees", escrow.connect(payer).releaseAll(g2));
      await escrow.connect(payer).create(taskId("gd"), terms());
      await acceptAll(gd);
      await measure("dispute", escrow.connect(payee2).dispute(gd));
      await measure("resolve, 2 payees + payer",
        escrow.connect(arbiter).resolve(gd, [300_000n, 200_000n], 500_000n));
      await escrow.connect(payer).create(taskId("gf"), terms({ fallbackRule: Fallback.SplitEvenly }));
      await acceptAll(gf);
      await escrow.connect(payee1).dispute(gf);
      await time.increase(ARBITRATION + 1n);
      await measure("applyFallback, 2 payees", escrow.connect(stranger).applyFallback(gf));
      expect(BigInt(await time.latest())).to.be.greaterThan(deadline + GRACE);
      await measure("refund", escrow.connect(stranger).refund(gp));
      await measure("claimFees", escrow.connect(feeRecipient).claimFees(token.target, feeRecipient.address));
      console.log("      TaskEscrow gas used:", Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, Number(v)])));
      for (const [name, bound] of Object.entries(BOUNDS)) {
        expect(gas[name], name).to.be.lessThanOrEqual(bound);
      }
    });
  });

  describe("attacks", function () {
    async function reentrantFixture() {
      const f = await deployEscrowFixture();
      const evil = await ethers.deployContract("ReentrantEscrowToken");
      await evil.mint(f.payer.address, 10_000_000n);
      await evil.connect(f.payer).approve(f.escrow.target, MAX_UINT256);
      await f.escrow.connect(f.payer).create(TASK, f.terms({ token: evil.target }));
      await f.acceptAll(ID);
      return { ...f, evil };
    }

    it("blocks a token that reenters release from its transfer", async function () {
      const { escrow, evil, payer } = await loadFixture(reentrantFixture);
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("release", [ID, 0, 1n]), false);
      await expect(escrow.connect(payer).release(ID, 0, 100_000n))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      expect((await escrow.getEscrow(ID)).held).to.equal(1_000_000n);
    });

    it("pays exactly once when the token swallows its failed reentry", async function () {
      const { escrow, evil, payer, payee1, feeRecipient } = await loadFixture(reentrantFixture);
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("releaseAll", [ID]), true);
      await escrow.connect(payer).releaseAll(ID);
      expect(await evil.lastReentryFailed()).to.equal(true);
      expect(await evil.lastRevertData()).to.equal(escrow.interface.getError("ReentrancyGuardReentrantCall").selector);
      expect(await evil.balanceOf(payee1.address)).to.equal(600_000n - feeOf(600_000n));
      expect(await escrow.feesOwed(evil.target, feeRecipient.address)).to.equal(feeOf(1_000_000n));
      expect(await evil.balanceOf(escrow.target)).to.equal(feeOf(1_000_000n));
    });

    it("blocks reentry into resolve, applyFallback, cancel, refund, claimFees and create", async function () {
      const { escrow, evil, payer, payee1, arbiter, stranger, feeRecipient, deadline, terms, acceptAll } =
        await loadFixture(reentrantFixture);
      await escrow.connect(payee1).dispute(ID);
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("resolve", [ID, [0n, 0n], 1_000_000n]), false);
      await expect(escrow.connect(arbiter).resolve(ID, [0n, 0n], 1_000_000n))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");

      const open = idOf(payer.address, taskId("open"));
      await evil.disarm();
      await escrow.connect(payer).create(taskId("open"), terms({ token: evil.target }));
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("cancel", [open]), false);
      await expect(escrow.connect(payer).cancel(open)).to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");

      const late = idOf(payer.address, taskId("late"));
      await evil.disarm();
      await escrow.connect(payer).create(taskId("late"), terms({ token: evil.target, fallbackRule: Fallback.PayPayees }));
      await acceptAll(late);
      await escrow.connect(payer).release(late, 0, 100_000n);
      await time.increaseTo(deadline + GRACE + 1n);
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("refund", [late]), false);
      await expect(escrow.connect(stranger).refund(late))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      await time.increase(ARBITRATION);
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("applyFallback", [ID]), false);
      await expect(escrow.connect(stranger).applyFallback(ID))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      await evil.arm(escrow.target,
        escrow.interface.encodeFunctionData("claimFees", [evil.target, feeRecipient.address]), false);
      await expect(escrow.connect(feeRecipient).claimFees(evil.target, feeRecipient.address))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");

      const other = taskId("other");
      const otherTerms = terms({ token: evil.target, deadline: BigInt(await time.latest()) + DAY });
      await evil.arm(escrow.target, escrow.interface.encodeFunctionData("create", [taskId("nested"), otherTerms]), false);
      await expect(escrow.connect(payer).create(other, otherTerms))
        .to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
    });
  });
});
