// The findings of the TaskEscrow review (issue 9), one test each, named after the finding: every
// test replays the attack that worked at 0b05dd5 and shows it failing now, with the custom error
// and its arguments and the balances that prove no one lost anything. Then the consent rules
// (acceptance by call and by EIP-712 signature, replays, cancel) and the liveness walk over every
// state.
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { anyUint } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const { deploy } = require("../scripts/deploy.js");

const FEE_BPS = 250n;
const BPS = 10_000n;
const DAY = 86_400n;
const GRACE = DAY;
const ARBITRATION = 7n * DAY;
const ADMIN_DELAY = 2n * DAY;
const YEAR = 365n * DAY;
const State = { None: 0n, Open: 1n, Funded: 2n, Disputed: 3n, Completed: 4n, Rejected: 5n, Expired: 6n, Resolved: 7n };
const Fallback = { RefundPayer: 0n, PayPayees: 1n, SplitEvenly: 2n };

const ACCEPTANCE_TYPES = {
  Acceptance: [
    { name: "escrowId", type: "bytes32" }, { name: "index", type: "uint256" }, { name: "payee", type: "address" },
    { name: "token", type: "address" }, { name: "share", type: "uint256" }, { name: "arbiter", type: "address" },
    { name: "evaluator", type: "address" }, { name: "deadline", type: "uint64" }, { name: "maxFeeBps", type: "uint16" },
    { name: "fallbackRule", type: "uint8" }, { name: "termsHash", type: "bytes32" },
  ],
};

const taskId = (label) => ethers.id(`task:${label}`);
const idOf = (payer, task) =>
  ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [payer, task]));
const feeOf = (amount, bps = FEE_BPS) => (amount * bps) / BPS;

async function fixture() {
  const [admin, payer, payee1, payee2, arbiter, evaluator, feeRecipient, stranger, feeManager, treasury] =
    await ethers.getSigners();
  const token = await ethers.deployContract("BlocklistEscrowToken");
  const escrow = await ethers.deployContract("TaskEscrow",
    [admin.address, ADMIN_DELAY, feeManager.address, feeRecipient.address, FEE_BPS]);
  await token.mint(payer.address, 100_000_000n);
  await token.connect(payer).approve(escrow.target, ethers.MaxUint256);
  const deadline = BigInt(await time.latest()) + DAY;
  const terms = (overrides = {}) => ({
    token: token.target,
    payees: [payee1.address, payee2.address],
    shares: [600_000n, 400_000n],
    arbiter: arbiter.address,
    evaluator: evaluator.address,
    deadline,
    maxFeeBps: 1_000,
    fallbackRule: Fallback.PayPayees,
    atomic: false,
    termsHash: ethers.id("terms"),
    ...overrides,
  });
  const { chainId } = await ethers.provider.getNetwork();

  /** `signer`'s acceptance of payee `index` of escrow `id` as stored; fields and domain overridable. */
  async function signAcceptance(signer, id, index, { domain = {}, message = {} } = {}) {
    const info = await escrow.getEscrow(id);
    const [accounts, shares] = await escrow.getPayees(id);
    return signer.signTypedData({ name: "TaskEscrow", version: "1", chainId, verifyingContract: escrow.target, ...domain },
      ACCEPTANCE_TYPES, {
        escrowId: id, index, payee: accounts[index], token: info.token, share: shares[index], arbiter: info.arbiter,
        evaluator: info.evaluator, deadline: info.deadline, maxFeeBps: info.maxFeeBps, fallbackRule: info.fallbackRule,
        termsHash: info.termsHash, ...message,
      });
  }

  /** Creates the payer's escrow for `label` and has both payees accept it; returns its id. */
  async function funded(label, overrides = {}) {
    await escrow.connect(payer).create(taskId(label), terms(overrides));
    const id = idOf(payer.address, taskId(label));
    await escrow.connect(payee1).accept(id, 0);
    await escrow.connect(payee2).accept(id, 1);
    return id;
  }

  return {
    admin, payer, payee1, payee2, arbiter, evaluator, feeRecipient, stranger, feeManager, treasury, token, escrow,
    deadline, terms, chainId, signAcceptance, funded,
  };
}

describe("TaskEscrow review findings (issue 9)", function () {
  it("E-1: an absent arbiter cannot lock a disputed escrow, and no one can dispute after the grace period", async function () {
    const { escrow, token, payer, payee1, payee2, stranger, feeRecipient, deadline, funded } = await loadFixture(fixture);
    const id = await funded("e1");
    const late = await funded("e1-late");
    const t = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(t);
    await expect(escrow.connect(payee1).dispute(id)).to.emit(escrow, "Disputed").withArgs(id, payee1.address, t + ARBITRATION);

    // The arbiter never acts. Until its deadline the fallback waits; one second later anyone applies it.
    await time.setNextBlockTimestamp(t + ARBITRATION);
    await expect(escrow.connect(stranger).applyFallback(id))
      .to.be.revertedWithCustomError(escrow, "EscrowArbitrationOpen").withArgs(id, t + ARBITRATION, t + ARBITRATION);
    await time.setNextBlockTimestamp(t + ARBITRATION + 1n);
    const tx = escrow.connect(stranger).applyFallback(id);
    await expect(tx).to.emit(escrow, "FallbackApplied").withArgs(id, stranger.address, Fallback.PayPayees, 0n);
    await expect(tx).to.changeTokenBalances(token, [payee1, payee2, payer, stranger, escrow],
      [600_000n - feeOf(600_000n), 400_000n - feeOf(400_000n), 0n, 0n, -(1_000_000n - feeOf(1_000_000n))]);
    expect((await escrow.getEscrow(id)).state).to.equal(State.Resolved);
    expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(feeOf(1_000_000n));

    // A dispute after deadline + grace (which would block the refund) is refused; the refund goes through.
    await expect(escrow.connect(payee2).dispute(late))
      .to.be.revertedWithCustomError(escrow, "EscrowDisputeClosed").withArgs(late, deadline + GRACE, anyUint);
    await expect(escrow.connect(stranger).refund(late)).to.changeTokenBalances(token, [payer, escrow], [1_000_000n, -1_000_000n]);
  });

  it("E-2: the payer can neither arbitrate its own escrow nor take back accepted work by a late dispute", async function () {
    const { escrow, token, payer, payee1, payee2, arbiter, deadline, terms, funded } = await loadFixture(fixture);
    const selfArbitrated = idOf(payer.address, taskId("e2-self"));
    await expect(escrow.connect(payer).create(taskId("e2-self"), terms({ arbiter: payer.address })))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(selfArbitrated, payer.address);
    const payeeArbitrated = idOf(payer.address, taskId("e2-payee"));
    await expect(escrow.connect(payer).create(taskId("e2-payee"), terms({ arbiter: payee2.address })))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(payeeArbitrated, payee2.address);

    // An arbiter the payer controls must be accepted by the payees first: before that, no dispute.
    const unaccepted = idOf(payer.address, taskId("e2-sock"));
    await escrow.connect(payer).create(taskId("e2-sock"), terms({ arbiter: arbiter.address }));
    await expect(escrow.connect(payer).dispute(unaccepted))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(unaccepted, State.Open);

    // The work is done and the deadline and grace are over: the payer's dispute comes too late, and
    // the evaluator's release still pays the payees.
    const id = await funded("e2");
    await time.setNextBlockTimestamp(deadline + GRACE + 1n);
    await expect(escrow.connect(payer).dispute(id))
      .to.be.revertedWithCustomError(escrow, "EscrowDisputeClosed").withArgs(id, deadline + GRACE, deadline + GRACE + 1n);
    const payerBefore = await token.balanceOf(payer.address);
    await expect(escrow.connect(await ethers.getSigner((await escrow.getEscrow(id)).evaluator)).releaseAll(id))
      .to.changeTokenBalances(token, [payee1, payee2], [600_000n - feeOf(600_000n), 400_000n - feeOf(400_000n)]);
    expect(await token.balanceOf(payer.address)).to.equal(payerBefore);
  });

  it("E-3: a fee raised in front of a create in the same block cannot exceed the payer's maximum", async function () {
    const { escrow, token, payer, feeManager, terms } = await loadFixture(fixture);
    const id = idOf(payer.address, taskId("e3"));
    const payerBefore = await token.balanceOf(payer.address);
    await network.provider.send("evm_setAutomine", [false]);
    let sent;
    try {
      const raise = await escrow.connect(feeManager).setFeeBps(1_000, { maxPriorityFeePerGas: 10n ** 9n, gasLimit: 100_000 });
      const create = await escrow.connect(payer).create(taskId("e3"), terms({ maxFeeBps: 250 }),
        { maxPriorityFeePerGas: 1n, gasLimit: 1_000_000 });
      sent = [raise, create];
      await network.provider.send("evm_mine");
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
    const [raised, created] = await Promise.all(sent.map((tx) => ethers.provider.getTransactionReceipt(tx.hash)));
    expect(created.blockNumber).to.equal(raised.blockNumber);
    expect(raised.index).to.be.lessThan(created.index);
    expect(raised.status).to.equal(1);
    expect(created.status).to.equal(0);
    expect(await token.balanceOf(payer.address)).to.equal(payerBefore);
    expect((await escrow.getEscrow(id)).state).to.equal(State.None);
    // The same create, replayed now, shows the error and its arguments.
    await expect(escrow.connect(payer).create(taskId("e3"), terms({ maxFeeBps: 250 })))
      .to.be.revertedWithCustomError(escrow, "EscrowFeeAboveMax").withArgs(id, 1_000n, 250n);
    // At or below the maximum, the create goes through with the fee it saw.
    await escrow.connect(feeManager).setFeeBps(250);
    await escrow.connect(payer).create(taskId("e3"), terms({ maxFeeBps: 250 }));
    expect((await escrow.getEscrow(id)).feeBps).to.equal(250n);
  });

  it("E-4: the fee recipient is fixed per escrow, and a blocklisted one blocks no payee", async function () {
    const { escrow, token, payer, payee1, payee2, arbiter, stranger, feeRecipient, feeManager, treasury, funded } =
      await loadFixture(fixture);
    const released = await funded("e4-release");
    const resolved = await funded("e4-resolve");
    const fallback = await funded("e4-fallback", { fallbackRule: Fallback.SplitEvenly });
    // The fee manager moves the recipient after creation: existing escrows keep theirs.
    await escrow.connect(feeManager).setFeeRecipient(stranger.address);
    expect((await escrow.getEscrow(released)).feeRecipient).to.equal(feeRecipient.address);
    // The token blocklists the fee recipient (USDC-style): it can neither send nor receive.
    await token.setBlocked(feeRecipient.address, true);

    await expect(escrow.connect(payer).release(released, 0, 100_000n))
      .to.changeTokenBalances(token, [payee1], [100_000n - feeOf(100_000n)]);
    await expect(escrow.connect(payer).releaseAll(released))
      .to.changeTokenBalances(token, [payee1, payee2], [500_000n - feeOf(500_000n), 400_000n - feeOf(400_000n)]);
    await escrow.connect(payee1).dispute(resolved);
    await expect(escrow.connect(arbiter).resolve(resolved, [300_000n, 100_000n], 600_000n))
      .to.changeTokenBalances(token, [payee1, payee2, payer], [300_000n - feeOf(300_000n), 100_000n - feeOf(100_000n), 600_000n]);
    await escrow.connect(payer).dispute(fallback);
    await time.increase(ARBITRATION + 1n);
    await expect(escrow.connect(stranger).applyFallback(fallback))
      .to.changeTokenBalances(token, [payee1, payee2, payer], [300_000n - feeOf(300_000n), 200_000n - feeOf(200_000n), 500_000n]);

    const owed = feeOf(100_000n) + feeOf(500_000n) + feeOf(400_000n) + feeOf(300_000n) + feeOf(100_000n)
      + feeOf(300_000n) + feeOf(200_000n);
    expect(await escrow.feesOwed(token.target, feeRecipient.address)).to.equal(owed);
    expect(await escrow.feesOwed(token.target, stranger.address)).to.equal(0n);
    expect(await token.balanceOf(escrow.target)).to.equal(owed);
    // Its fees wait for it; claimed to itself they fail, claimed to another account they arrive.
    await expect(escrow.connect(feeRecipient).claimFees(token.target, feeRecipient.address))
      .to.be.revertedWithCustomError(token, "BlocklistEscrowTokenBlocked").withArgs(feeRecipient.address);
    await expect(escrow.connect(feeRecipient).claimFees(token.target, treasury.address))
      .to.emit(escrow, "FeesClaimed").withArgs(feeRecipient.address, token.target, treasury.address, owed);
    expect(await token.balanceOf(treasury.address)).to.equal(owed);
    expect(await token.balanceOf(escrow.target)).to.equal(0n);
    await expect(escrow.connect(feeRecipient).claimFees(token.target, treasury.address))
      .to.be.revertedWithCustomError(escrow, "EscrowNothingToClaim").withArgs(token.target, feeRecipient.address);
    await expect(escrow.connect(feeRecipient).claimFees(token.target, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidClaimRecipient").withArgs(ethers.ZeroAddress);
  });

  it("E-5: during the grace period only the payer may refund, so a late release by the evaluator still wins", async function () {
    const { escrow, token, payer, payee1, evaluator, stranger, deadline, funded } = await loadFixture(fixture);
    const id = await funded("e5");
    const other = await funded("e5-other");
    await time.setNextBlockTimestamp(deadline + 1n);
    await expect(escrow.connect(stranger).refund(id))
      .to.be.revertedWithCustomError(escrow, "EscrowInGracePeriod").withArgs(id, deadline + GRACE, deadline + 1n);
    await expect(escrow.connect(evaluator).release(id, 0, 600_000n))
      .to.changeTokenBalances(token, [payee1, payer], [600_000n - feeOf(600_000n), 0n]);
    // The payer may take its remainder back in the grace period; anyone only after it.
    await expect(escrow.connect(payer).refund(id)).to.changeTokenBalances(token, [payer], [400_000n]);
    await time.setNextBlockTimestamp(deadline + GRACE);
    await expect(escrow.connect(stranger).refund(other))
      .to.be.revertedWithCustomError(escrow, "EscrowInGracePeriod").withArgs(other, deadline + GRACE, deadline + GRACE);
    await expect(escrow.connect(stranger).refund(other)).to.emit(escrow, "Expired").withArgs(other, payer.address, 1_000_000n);
  });

  it("E-6: no zero role holders, a delayed two-step admin handover, and roles split across keys", async function () {
    const { escrow, admin, feeManager, feeRecipient, stranger } = await loadFixture(fixture);
    const factory = await ethers.getContractFactory("TaskEscrow");
    const adminRole = await escrow.DEFAULT_ADMIN_ROLE();
    const feeRole = await escrow.FEE_MANAGER_ROLE();
    await expect(factory.deploy(ethers.ZeroAddress, ADMIN_DELAY, feeManager.address, feeRecipient.address, FEE_BPS))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidRoleHolder").withArgs(adminRole, ethers.ZeroAddress);
    await expect(factory.deploy(admin.address, ADMIN_DELAY, ethers.ZeroAddress, feeRecipient.address, FEE_BPS))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidRoleHolder").withArgs(feeRole, ethers.ZeroAddress);
    await expect(factory.deploy(admin.address, ADMIN_DELAY, feeManager.address, ethers.ZeroAddress, FEE_BPS))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidFeeRecipient").withArgs(ethers.ZeroAddress);

    // Nor can the admin grant the fee manager role to the zero address later.
    await expect(escrow.connect(admin).grantRole(feeRole, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(escrow, "EscrowInvalidRoleHolder").withArgs(feeRole, ethers.ZeroAddress);

    // The admin role is never granted in one step, and a handover waits for the delay.
    await expect(escrow.connect(admin).grantRole(adminRole, stranger.address))
      .to.be.revertedWithCustomError(escrow, "AccessControlEnforcedDefaultAdminRules");
    const begun = await (await escrow.connect(admin).beginDefaultAdminTransfer(stranger.address)).wait();
    const schedule = BigInt((await ethers.provider.getBlock(begun.blockNumber)).timestamp) + ADMIN_DELAY;
    await expect(escrow.connect(stranger).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(escrow, "AccessControlEnforcedDefaultAdminDelay").withArgs(schedule);
    await time.increaseTo(schedule + 1n);
    await escrow.connect(stranger).acceptDefaultAdminTransfer();
    expect(await escrow.defaultAdmin()).to.equal(stranger.address);
    // The admin is not a fee manager, and the fee manager is not an admin.
    expect(await escrow.hasRole(feeRole, stranger.address)).to.equal(false);
    expect(await escrow.hasRole(adminRole, feeManager.address)).to.equal(false);

    // The deploy script gives the escrow's admin and fee manager roles to different keys, with a delay.
    const deployment = await deploy({ write: false });
    const deployed = await ethers.getContractAt("TaskEscrow", deployment.contracts.TaskEscrow);
    const roles = deployment.escrowRoles;
    expect(roles.feeManager).to.not.equal(roles.admin);
    expect(await deployed.defaultAdmin()).to.equal(roles.admin);
    expect(await deployed.defaultAdminDelay()).to.equal(BigInt(roles.adminDelaySeconds));
    expect(await deployed.defaultAdminDelay()).to.be.greaterThan(0n);
    expect(await deployed.hasRole(feeRole, roles.feeManager)).to.equal(true);
    expect(await deployed.hasRole(feeRole, roles.admin)).to.equal(false);
  });

  describe("consent", function () {
    it("needs every payee's acceptance before a release; a stranger may submit a payee's signature", async function () {
      const { escrow, token, payer, payee1, payee2, stranger, terms, signAcceptance } = await loadFixture(fixture);
      await escrow.connect(payer).create(taskId("c1"), terms());
      const id = idOf(payer.address, taskId("c1"));
      await expect(escrow.connect(payer).release(id, 0, 1n))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(id, State.Open);
      await expect(escrow.connect(stranger).accept(id, 0))
        .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(id, stranger.address);
      await expect(escrow.connect(payee1).accept(id, 0)).to.emit(escrow, "Accepted").withArgs(id, payee1.address, 0n);
      await expect(escrow.connect(payee1).accept(id, 0))
        .to.be.revertedWithCustomError(escrow, "EscrowAlreadyAccepted").withArgs(id, 0n);
      await expect(escrow.connect(payee1).accept(id, 2))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidPayee").withArgs(id, 2n);

      const signature = await signAcceptance(payee2, id, 1);
      const info = await escrow.getEscrow(id);
      const [accounts, shares] = await escrow.getPayees(id);
      const { chainId } = await ethers.provider.getNetwork();
      expect(await escrow.acceptanceDigest(id, 1)).to.equal(ethers.TypedDataEncoder.hash(
        { name: "TaskEscrow", version: "1", chainId, verifyingContract: escrow.target }, ACCEPTANCE_TYPES, {
          escrowId: id, index: 1, payee: accounts[1], token: info.token, share: shares[1], arbiter: info.arbiter,
          evaluator: info.evaluator, deadline: info.deadline, maxFeeBps: info.maxFeeBps, fallbackRule: info.fallbackRule,
          termsHash: info.termsHash,
        }));
      const tx = escrow.connect(stranger).acceptWithSignature(id, 1, signature);
      await expect(tx).to.emit(escrow, "Accepted").withArgs(id, payee2.address, 1n);
      await expect(tx).to.emit(escrow, "Funded").withArgs(id);
      await expect(escrow.connect(stranger).acceptWithSignature(id, 1, signature))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(id, State.Funded);
      await expect(escrow.connect(payer).release(id, 1, 400_000n)).to.changeTokenBalances(token, [payee2], [400_000n - feeOf(400_000n)]);
    });

    it("refuses acceptance signatures replayed across escrows, contracts, chains and terms", async function () {
      const { escrow, payer, payee1, payee2, stranger, arbiter, terms, signAcceptance, chainId } = await loadFixture(fixture);
      await escrow.connect(payer).create(taskId("r1"), terms());
      await escrow.connect(payer).create(taskId("r2"), terms());
      const first = idOf(payer.address, taskId("r1"));
      const second = idOf(payer.address, taskId("r2"));
      const forFirst = await signAcceptance(payee1, first, 0);
      const cases = {
        "another escrow of the same payer": forFirst,
        "another contract": await signAcceptance(payee1, second, 0, { domain: { verifyingContract: stranger.address } }),
        "another chain": await signAcceptance(payee1, second, 0, { domain: { chainId: chainId + 1n } }),
        "another arbiter": await signAcceptance(payee1, second, 0, { message: { arbiter: stranger.address } }),
        "a higher maximum fee": await signAcceptance(payee1, second, 0, { message: { maxFeeBps: 999 } }),
        "another fallback": await signAcceptance(payee1, second, 0, { message: { fallbackRule: Fallback.RefundPayer } }),
        "another payee index": await signAcceptance(payee1, second, 1, { message: { payee: payee1.address } }),
        "another signer": await signAcceptance(payee2, second, 0),
      };
      for (const [what, signature] of Object.entries(cases)) {
        const index = what === "another payee index" ? 1 : 0;
        await expect(escrow.connect(stranger).acceptWithSignature(second, index, signature), what)
          .to.be.revertedWithCustomError(escrow, "EscrowInvalidSignature").withArgs(second, index);
      }
      await expect(escrow.connect(stranger).acceptWithSignature(second, 0, "0x1234"))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidSignature").withArgs(second, 0n);
      expect((await escrow.getPayees(second))[3]).to.deep.equal([false, false]);
      await escrow.connect(stranger).acceptWithSignature(first, 0, forFirst);
      expect(arbiter.address).to.equal((await escrow.getEscrow(second)).arbiter);
    });

    it("accepts the signature of a contract-wallet payee (ERC-1271)", async function () {
      const { escrow, payer, stranger, terms } = await loadFixture(fixture);
      const owner = ethers.Wallet.createRandom();
      const wallet = await ethers.deployContract("ChannelSmartWallet", [owner.address]);
      await escrow.connect(payer).create(taskId("w"), terms({ payees: [wallet.target], shares: [1_000n] }));
      const id = idOf(payer.address, taskId("w"));
      const digest = await escrow.acceptanceDigest(id, 0);
      const signature = owner.signingKey.sign(digest).serialized;
      await expect(escrow.connect(stranger).acceptWithSignature(id, 0, await stranger.signMessage("not the wallet")))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidSignature").withArgs(id, 0n);
      await expect(escrow.connect(stranger).acceptWithSignature(id, 0, signature))
        .to.emit(escrow, "Funded").withArgs(id);
    });

    it("lets the payer cancel at once while no payee accepted, and never after; no acceptance after cancel or deadline", async function () {
      const { escrow, token, payer, payee1, payee2, stranger, deadline, terms, signAcceptance } = await loadFixture(fixture);
      await escrow.connect(payer).create(taskId("x"), terms());
      const id = idOf(payer.address, taskId("x"));
      const signature = await signAcceptance(payee1, id, 0);
      await expect(escrow.connect(stranger).cancel(id))
        .to.be.revertedWithCustomError(escrow, "EscrowUnauthorized").withArgs(id, stranger.address);
      const tx = escrow.connect(payer).cancel(id);
      await expect(tx).to.emit(escrow, "Rejected").withArgs(id, payer.address, 1_000_000n);
      await expect(tx).to.changeTokenBalances(token, [payer, escrow], [1_000_000n, -1_000_000n]);
      await expect(escrow.connect(stranger).acceptWithSignature(id, 0, signature))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(id, State.Rejected);
      await expect(escrow.connect(payee2).accept(id, 1))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidState").withArgs(id, State.Rejected);

      await escrow.connect(payer).create(taskId("y"), terms());
      const accepted = idOf(payer.address, taskId("y"));
      await escrow.connect(payee2).accept(accepted, 1);
      await expect(escrow.connect(payer).cancel(accepted))
        .to.be.revertedWithCustomError(escrow, "EscrowAccepted").withArgs(accepted, 1n);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(escrow.connect(payee1).accept(accepted, 0))
        .to.be.revertedWithCustomError(escrow, "EscrowDeadlinePassed").withArgs(accepted, deadline, deadline + 1n);
    });

    it("refuses zero, self and payee roles and deadlines beyond a year in the terms", async function () {
      const { escrow, payer, payee1, terms } = await loadFixture(fixture);
      const id = idOf(payer.address, taskId("t"));
      const create = (overrides) => escrow.connect(payer).create(taskId("t"), terms(overrides));
      await expect(create({ arbiter: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(id, ethers.ZeroAddress);
      await expect(create({ arbiter: escrow.target }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(id, escrow.target);
      await expect(create({ arbiter: payee1.address }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidArbiter").withArgs(id, payee1.address);
      await expect(create({ evaluator: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidEvaluator").withArgs(id, ethers.ZeroAddress);
      await expect(create({ evaluator: escrow.target }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidEvaluator").withArgs(id, escrow.target);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 1n);
      await expect(create({ deadline: now + 2n + YEAR }))
        .to.be.revertedWithCustomError(escrow, "EscrowInvalidDeadline").withArgs(id, now + 2n + YEAR);
      await time.setNextBlockTimestamp(now + 2n);
      await expect(create({ deadline: now + 2n + YEAR, evaluator: payer.address })).to.emit(escrow, "Created");
    });
  });

  describe("fallbacks", function () {
    for (const [name, rule, toPayee1, toPayee2, toPayer] of [
      ["RefundPayer", Fallback.RefundPayer, 0n, 0n, 900_001n],
      ["PayPayees", Fallback.PayPayees, 500_001n, 400_000n, 0n],
      // Half of the remaining shares, rounded down: 250,000 and 200,000; the odd unit stays with the payer.
      ["SplitEvenly", Fallback.SplitEvenly, 250_000n, 200_000n, 450_001n],
    ]) {
      it(`${name}: pays what the terms fixed, the rounding dust to the payer`, async function () {
        const { escrow, token, payer, payee1, payee2, stranger, feeRecipient, funded } = await loadFixture(fixture);
        const id = await funded(`f-${name}`, { shares: [600_001n, 400_000n], fallbackRule: rule });
        await escrow.connect(payer).release(id, 0, 100_000n);
        await escrow.connect(payer).dispute(id);
        await time.increase(ARBITRATION + 1n);
        const feesBefore = await escrow.feesOwed(token.target, feeRecipient.address);
        const tx = escrow.connect(stranger).applyFallback(id);
        await expect(tx).to.emit(escrow, "FallbackApplied").withArgs(id, stranger.address, rule, toPayer);
        await expect(tx).to.changeTokenBalances(token, [payee1, payee2, payer],
          [toPayee1 - feeOf(toPayee1), toPayee2 - feeOf(toPayee2), toPayer]);
        expect(await escrow.feesOwed(token.target, feeRecipient.address) - feesBefore).to.equal(feeOf(toPayee1) + feeOf(toPayee2));
        expect((await escrow.getEscrow(id)).held).to.equal(0n);
      });
    }

    it("gives the arbiter until its deadline, inclusive, and not a second more", async function () {
      const { escrow, arbiter, payee1, funded } = await loadFixture(fixture);
      const id = await funded("late-arbiter");
      await escrow.connect(payee1).dispute(id);
      const arbitrationDeadline = (await escrow.getEscrow(id)).arbitrationDeadline;
      await time.setNextBlockTimestamp(arbitrationDeadline + 1n);
      await expect(escrow.connect(arbiter).resolve(id, [0n, 0n], 1_000_000n))
        .to.be.revertedWithCustomError(escrow, "EscrowArbitrationClosed").withArgs(id, arbitrationDeadline, arbitrationDeadline + 1n);
      const onTime = await funded("on-time-arbiter", { deadline: BigInt(await time.latest()) + DAY });
      await escrow.connect(payee1).dispute(onTime);
      await time.setNextBlockTimestamp((await escrow.getEscrow(onTime)).arbitrationDeadline);
      await expect(escrow.connect(arbiter).resolve(onTime, [0n, 0n], 1_000_000n)).to.emit(escrow, "Resolved");
    });
  });

  it("liveness: from every non-final state a stranger alone closes the escrow by deadline + grace + arbitration + 1", async function () {
    const { escrow, token, payer, payee1, payee2, stranger, feeRecipient, treasury, deadline, terms, funded } =
      await loadFixture(fixture);
    const escrows = {};
    await escrow.connect(payer).create(taskId("open-none"), terms());
    escrows["Open, no acceptance"] = idOf(payer.address, taskId("open-none"));
    await escrow.connect(payer).create(taskId("open-some"), terms());
    escrows["Open, one acceptance"] = idOf(payer.address, taskId("open-some"));
    await escrow.connect(payee1).accept(escrows["Open, one acceptance"], 0);
    escrows["Funded"] = await funded("funded");
    escrows["Funded, partly released"] = await funded("partly");
    await escrow.connect(payer).release(escrows["Funded, partly released"], 1, 100_000n);
    escrows["Disputed early"] = await funded("disputed-early", { fallbackRule: Fallback.SplitEvenly });
    await escrow.connect(payer).dispute(escrows["Disputed early"]);
    escrows["Disputed at the last second"] = await funded("disputed-late", { fallbackRule: Fallback.RefundPayer });
    await time.setNextBlockTimestamp(deadline + GRACE);
    await escrow.connect(payee2).dispute(escrows["Disputed at the last second"]);

    // Nobody but the stranger acts from here on; the latest bound of all is deadline + grace + arbitration + 1.
    const bound = deadline + GRACE + ARBITRATION + 1n;
    await time.setNextBlockTimestamp(bound);
    for (const [state, id] of Object.entries(escrows)) {
      const info = await escrow.getEscrow(id);
      const exit = info.state === State.Disputed ? "applyFallback" : "refund";
      await (await escrow.connect(stranger)[exit](id)).wait();
      const after = await escrow.getEscrow(id);
      expect([State.Expired, State.Resolved], state).to.include(after.state);
      expect(after.held, state).to.equal(0n);
    }
    const owed = await escrow.feesOwed(token.target, feeRecipient.address);
    expect(await token.balanceOf(escrow.target)).to.equal(owed);
    await escrow.connect(feeRecipient).claimFees(token.target, treasury.address);
    expect(await token.balanceOf(escrow.target)).to.equal(0n);
  });
});

