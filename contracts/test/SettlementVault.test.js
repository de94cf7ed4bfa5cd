const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { anyValue } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { encodeBatch, netTransfers, prng, DEBIT_FLAG } = require("./SettlementVault.encoding.js");

const DELAY = 86_400n;
const MINT = 1_000_000_000_000n;
const UNITS = 1_000_000n;
const MAX_BALANCE = (1n << 85n) - 1n;
const MAX_UINT128 = (1n << 128n) - 1n;
const ROOT = ethers.keccak256(ethers.toUtf8Bytes("root"));
const OPERATOR_ROLE = ethers.id("OPERATOR_ROLE");
const WINDOW = 3_600n;
const OPERATOR_DELAY = 2n * 3_600n;
const UNLIMITED = (1n << 96n) - 1n;

/** Lists `token` in `vault` (as its admin) with a minimum forced withdrawal of 1 and no outflow limit. */
async function list(vault, token) {
  const [admin] = await ethers.getSigners();
  await vault.connect(admin).listToken(token, 1n, UNLIMITED);
}

describe("SettlementVault", function () {
  async function deployFixture() {
    const [admin, operator, alice, bob, carol, dave, stranger] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", ["Test USD", "TUSD", 6]);
    const vault = await ethers.deployContract("SettlementVault", [admin.address, operator.address, DELAY, WINDOW, OPERATOR_DELAY]);
    await list(vault, token);
    for (const user of [alice, bob, carol, dave]) {
      await token.mint(user.address, MINT);
      await token.connect(user).approve(vault, ethers.MaxUint256);
    }
    return { vault, token, admin, operator, alice, bob, carol, dave, stranger };
  }

  /** alice, bob, carol deposited 1,000 tokens each: account ids 1, 2, 3; token id 1. */
  async function fundedFixture() {
    const f = await deployFixture();
    for (const user of [f.alice, f.bob, f.carol]) {
      await f.vault.connect(user).deposit(f.token, 1_000n * UNITS);
    }
    return f;
  }

  /** The funded vault plus a HostileToken (token id 2) that alice and bob deposited. */
  async function hostileFixture() {
    const f = await fundedFixture();
    const hostile = await ethers.deployContract("HostileToken");
    await list(f.vault, hostile);
    for (const user of [f.alice, f.bob]) {
      await hostile.mint(user.address, MINT);
      await hostile.connect(user).approve(f.vault, ethers.MaxUint256);
      await f.vault.connect(user).deposit(hostile, 100n * UNITS);
    }
    return { ...f, hostile };
  }

  function settle(f, batchId, sections, root = ROOT) {
    return f.vault.connect(f.operator).settleBatch(batchId, root, encodeBatch(sections));
  }

  describe("deployment", function () {
    it("grants the roles and starts the escape clock", async function () {
      const { vault, admin, operator } = await loadFixture(deployFixture);
      expect(await vault.hasRole(ethers.ZeroHash, admin.address)).to.equal(true);
      expect(await vault.hasRole(OPERATOR_ROLE, operator.address)).to.equal(true);
      expect(await vault.OPERATOR_ROLE()).to.equal(OPERATOR_ROLE);
      expect(await vault.escapeDelay()).to.equal(DELAY);
      expect(await vault.lastBatchId()).to.equal(0n);
      const deployment = await vault.deploymentTransaction().wait();
      const deployedAt = BigInt((await ethers.provider.getBlock(deployment.blockNumber)).timestamp);
      expect(await vault.lastSettledAt()).to.equal(deployedAt);
      expect(await vault.escapeOpensAt()).to.equal(deployedAt + DELAY);
      expect(await vault.paused()).to.equal(false);
      expect(await vault.MAX_BALANCE()).to.equal(MAX_BALANCE);
    });

    it("rejects zero role holders, delays and windows out of range, and an operator delay not above the window", async function () {
      const { vault, admin, operator } = await loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("SettlementVault");
      await expect(factory.deploy(ethers.ZeroAddress, operator.address, DELAY, WINDOW, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "AccessControlInvalidDefaultAdmin").withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, ethers.ZeroAddress, DELAY, WINDOW, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "VaultInvalidRoleHolder").withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, operator.address, 0, WINDOW, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "VaultInvalidEscapeDelay").withArgs(0);
      const tooLong = 365n * 86_400n + 1n;
      await expect(factory.deploy(admin.address, operator.address, tooLong, WINDOW, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "VaultInvalidEscapeDelay").withArgs(tooLong);
      await expect(factory.deploy(admin.address, operator.address, DELAY, 1n, OPERATOR_DELAY))
        .to.be.revertedWithCustomError(vault, "VaultInvalidForcedWithdrawalWindow").withArgs(1n);
      await expect(factory.deploy(admin.address, operator.address, DELAY, tooLong, tooLong + 1n))
        .to.be.revertedWithCustomError(vault, "VaultInvalidForcedWithdrawalWindow").withArgs(tooLong);
      await expect(factory.deploy(admin.address, operator.address, DELAY, WINDOW, WINDOW))
        .to.be.revertedWithCustomError(vault, "VaultInvalidOperatorDelay").withArgs(WINDOW, WINDOW);
    });
  });

  describe("deposit", function () {
    it("registers token and account once and credits the settled balance", async function () {
      const { vault, token, alice } = await loadFixture(deployFixture);
      const tx = await vault.connect(alice).deposit(token, 5n * UNITS);
      await expect(tx)
        .to.emit(vault, "AccountRegistered").withArgs(alice.address, 1)
        .and.to.emit(vault, "Deposited").withArgs(await token.getAddress(), alice.address, 1, 1, 5n * UNITS, 5n * UNITS);
      await expect(tx).to.changeTokenBalances(token, [alice, vault], [-5n * UNITS, 5n * UNITS]);
      await expect(vault.connect(alice).deposit(token, 2n * UNITS))
        .to.emit(vault, "Deposited").withArgs(await token.getAddress(), alice.address, 1, 1, 2n * UNITS, 7n * UNITS)
        .and.not.to.emit(vault, "AccountRegistered");
      expect(await vault.settledBalance(token, alice.address)).to.equal(7n * UNITS);
      expect(await vault.accountIdOf(alice.address)).to.equal(1n);
      expect(await vault.accountOf(1)).to.equal(alice.address);
      expect(await vault.tokenIdOf(token)).to.equal(1n);
      expect(await vault.tokenOf(1)).to.equal(await token.getAddress());
    });

    it("gives sequential account ids and keeps neighbours in one slot apart", async function () {
      const { vault, token, alice, bob, carol, dave } = await loadFixture(fundedFixture);
      expect(await vault.accountIdOf(bob.address)).to.equal(2n);
      expect(await vault.accountIdOf(carol.address)).to.equal(3n);
      expect(await vault.accountIdOf(dave.address)).to.equal(0n);
      expect(await vault.settledBalance(token, dave.address)).to.equal(0n);
      await vault.connect(bob).deposit(token, 1n);
      expect(await vault.settledBalance(token, alice.address)).to.equal(1_000n * UNITS);
      expect(await vault.settledBalance(token, bob.address)).to.equal(1_000n * UNITS + 1n);
      expect(await vault.settledBalance(token, carol.address)).to.equal(1_000n * UNITS);
    });

    it("rejects a zero amount", async function () {
      const { vault, token, alice } = await loadFixture(deployFixture);
      await expect(vault.connect(alice).deposit(token, 0)).to.be.revertedWithCustomError(vault, "VaultZeroAmount");
    });

    it("rejects deposits while paused", async function () {
      const { vault, token, admin, alice } = await loadFixture(deployFixture);
      await vault.connect(admin).pause();
      await expect(vault.connect(alice).deposit(token, 1n)).to.be.revertedWithCustomError(vault, "VaultPaused");
    });

    it("fails without allowance", async function () {
      const { vault, token, alice } = await loadFixture(deployFixture);
      await token.connect(alice).approve(vault, 0);
      await expect(vault.connect(alice).deposit(token, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await vault.getAddress(), 0, 1);
    });

    it("accepts a balance up to 2^85 - 1 and rejects one base unit more", async function () {
      const { vault, alice, bob } = await loadFixture(deployFixture);
      const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
      await list(vault, big);
      await big.mint(alice.address, MAX_BALANCE + 1n);
      await big.mint(bob.address, 5n);
      await big.connect(alice).approve(vault, ethers.MaxUint256);
      await big.connect(bob).approve(vault, ethers.MaxUint256);
      await vault.connect(bob).deposit(big, 5n);
      await vault.connect(alice).deposit(big, MAX_BALANCE);
      expect(await vault.settledBalance(big, alice.address)).to.equal(MAX_BALANCE);
      expect(await vault.settledBalance(big, bob.address)).to.equal(5n);
      await expect(vault.connect(alice).deposit(big, 1n))
        .to.be.revertedWithCustomError(vault, "VaultBalanceOverflow")
        .withArgs(await big.getAddress(), alice.address, MAX_BALANCE, 1n);
    });

    it("rejects a uint256-max deposit with VaultBalanceOverflow", async function () {
      const { vault, alice } = await loadFixture(deployFixture);
      const huge = await ethers.deployContract("TestToken", ["Huge", "HUGE", 18]);
      await list(vault, huge);
      await huge.mint(alice.address, ethers.MaxUint256);
      await huge.connect(alice).approve(vault, ethers.MaxUint256);
      await expect(vault.connect(alice).deposit(huge, ethers.MaxUint256))
        .to.be.revertedWithCustomError(vault, "VaultBalanceOverflow")
        .withArgs(await huge.getAddress(), alice.address, 0, ethers.MaxUint256);
    });

    it("rejects a token reentering deposit from its transfer", async function () {
      const { vault, alice } = await loadFixture(deployFixture);
      const hostile = await ethers.deployContract("HostileToken");
      await list(vault, hostile);
      await hostile.mint(alice.address, MINT);
      await hostile.connect(alice).approve(vault, ethers.MaxUint256);
      await hostile.armReentry(vault, vault.interface.encodeFunctionData("deposit", [await hostile.getAddress(), 1n]));
      await expect(vault.connect(alice).deposit(hostile, 1n))
        .to.be.revertedWithCustomError(vault, "ReentrancyGuardReentrantCall");
    });
  });

  describe("depositWithPermit", function () {
    async function signPermit(token, owner, spender, value, deadline) {
      const nonce = await token.nonces(owner.address);
      const { chainId } = await ethers.provider.getNetwork();
      const signature = await owner.signTypedData(
        { name: await token.name(), version: "1", chainId, verifyingContract: await token.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: owner.address, spender: await spender.getAddress(), value, nonce, deadline },
      );
      return ethers.Signature.from(signature);
    }

    it("deposits in one call with an EIP-2612 permit", async function () {
      const { vault, token, dave } = await loadFixture(deployFixture);
      await token.connect(dave).approve(vault, 0);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, dave, vault, 3n * UNITS, deadline);
      await expect(vault.connect(dave).depositWithPermit(token, 3n * UNITS, deadline, v, r, s))
        .to.emit(vault, "Deposited").withArgs(await token.getAddress(), dave.address, 1, 1, 3n * UNITS, 3n * UNITS);
      expect(await vault.settledBalance(token, dave.address)).to.equal(3n * UNITS);
    });

    it("still deposits when a front-runner used the permit first", async function () {
      const { vault, token, dave, stranger } = await loadFixture(deployFixture);
      await token.connect(dave).approve(vault, 0);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, dave, vault, 3n * UNITS, deadline);
      await token.connect(stranger).permit(dave.address, vault, 3n * UNITS, deadline, v, r, s);
      await expect(vault.connect(dave).depositWithPermit(token, 3n * UNITS, deadline, v, r, s))
        .to.emit(vault, "Deposited");
    });

    it("fails with a bad permit and no allowance", async function () {
      const { vault, token, dave, stranger } = await loadFixture(deployFixture);
      await token.connect(dave).approve(vault, 0);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, stranger, vault, 3n * UNITS, deadline);
      await expect(vault.connect(dave).depositWithPermit(token, 3n * UNITS, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await vault.getAddress(), 0, 3n * UNITS);
    });

    it("rejects permit deposits while paused", async function () {
      const { vault, token, admin, dave } = await loadFixture(deployFixture);
      await vault.connect(admin).pause();
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, dave, vault, 1n, deadline);
      await expect(vault.connect(dave).depositWithPermit(token, 1n, deadline, v, r, s))
        .to.be.revertedWithCustomError(vault, "VaultPaused");
    });
  });

  describe("registerAccounts", function () {
    it("gives ids to new accounts only, so that a batch can credit an account that never deposited", async function () {
      const f = await loadFixture(fundedFixture);
      const { vault, operator, alice, dave, stranger } = f;
      expect(await vault.connect(operator).registerAccounts.staticCall([alice.address, dave.address, stranger.address]))
        .to.equal(2n);
      await expect(vault.connect(operator).registerAccounts([alice.address, dave.address, stranger.address, dave.address]))
        .to.emit(vault, "AccountRegistered").withArgs(dave.address, 4)
        .and.to.emit(vault, "AccountRegistered").withArgs(stranger.address, 5);
      expect(await vault.accountIdOf(alice.address)).to.equal(1n);
      expect(await vault.accountIdOf(dave.address)).to.equal(4n);
      expect(await vault.accountOf(5)).to.equal(stranger.address);

      // Repeating the call (a retried transaction) registers nothing.
      await expect(vault.connect(operator).registerAccounts([dave.address, stranger.address]))
        .not.to.emit(vault, "AccountRegistered");

      // dave never deposited, yet earns in a batch and is paid out in the next.
      await settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -7n * UNITS }, { accountId: 4, delta: 7n * UNITS }] }]);
      expect(await vault.settledBalance(f.token, dave.address)).to.equal(7n * UNITS);
      const before = await f.token.balanceOf(dave.address);
      await settle(f, 2n, [{ tokenId: 1, payouts: [{ accountId: 4, amount: 7n * UNITS, recipient: dave.address }] }]);
      expect(await f.token.balanceOf(dave.address)).to.equal(before + 7n * UNITS);
      expect(await vault.settledBalance(f.token, dave.address)).to.equal(0n);
    });

    it("keeps deposits and registrations on one id sequence", async function () {
      const { vault, token, operator, dave, stranger } = await loadFixture(fundedFixture);
      await vault.connect(operator).registerAccounts([stranger.address]);
      await expect(vault.connect(dave).deposit(token, 1n)).to.emit(vault, "AccountRegistered").withArgs(dave.address, 5);
      expect(await vault.accountIdOf(stranger.address)).to.equal(4n);
    });

    it("is for the operator only, never while paused, never for the zero address, and bounded", async function () {
      const { vault, admin, operator, alice, stranger } = await loadFixture(fundedFixture);
      await expect(vault.connect(stranger).registerAccounts([stranger.address]))
        .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount").withArgs(stranger.address, OPERATOR_ROLE);
      await expect(vault.connect(operator).registerAccounts([stranger.address, ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(vault, "VaultInvalidAccount").withArgs(ethers.ZeroAddress);
      expect(await vault.accountIdOf(stranger.address)).to.equal(0n);
      const max = await vault.MAX_REGISTER_ACCOUNTS();
      const tooMany = Array.from({ length: Number(max) + 1 }, (_, i) => ethers.toBeHex(0x1000 + i, 20));
      await expect(vault.connect(operator).registerAccounts(tooMany))
        .to.be.revertedWithCustomError(vault, "VaultTooManyAccounts").withArgs(max + 1n, max);
      await vault.connect(admin).pause();
      await expect(vault.connect(operator).registerAccounts([alice.address]))
        .to.be.revertedWithCustomError(vault, "VaultPaused");
    });
  });

  describe("settleBatch", function () {
    it("applies netted deltas and pays out, emitting the Merkle root", async function () {
      const f = await loadFixture(fundedFixture);
      const { vault, token, alice, bob, carol, dave } = f;
      const tokenAddress = await token.getAddress();
      const transfers = [
        [ethers.id("t1"), tokenAddress, alice.address, bob.address, 30n * UNITS],
        [ethers.id("t2"), tokenAddress, bob.address, carol.address, 10n * UNITS],
        [ethers.id("t3"), tokenAddress, carol.address, alice.address, 5n * UNITS],
      ];
      const tree = StandardMerkleTree.of(transfers, ["bytes32", "address", "address", "address", "uint256"]);
      const deltas = netTransfers([
        { from: 1, to: 2, amount: 30n * UNITS },
        { from: 2, to: 3, amount: 10n * UNITS },
        { from: 3, to: 1, amount: 5n * UNITS },
      ]);
      const tx = await settle(f, 1n, [{ tokenId: 1, deltas, payouts: [{ accountId: 2, amount: 7n * UNITS, recipient: dave.address }] }], tree.root);
      await expect(tx).to.emit(vault, "BatchSettled").withArgs(1n, tree.root, 4n)
        .and.to.emit(vault, "PayoutSent").withArgs(1n, tokenAddress, dave.address, 2, 7n * UNITS);
      await expect(tx).to.changeTokenBalances(token, [dave, vault], [7n * UNITS, -7n * UNITS]);
      expect(await vault.settledBalance(token, alice.address)).to.equal(975n * UNITS);
      expect(await vault.settledBalance(token, bob.address)).to.equal(1_013n * UNITS);
      expect(await vault.settledBalance(token, carol.address)).to.equal(1_005n * UNITS);
      expect(await vault.lastBatchId()).to.equal(1n);
      expect(await vault.lastSettledAt()).to.equal(BigInt(await time.latest()));

      const [index, values] = [...tree.entries()][1];
      expect(await vault.transferLeaf(...values)).to.equal(tree.leafHash(values));
      expect(await vault.verifyTransfer(1n, tree.getProof(index), ...values)).to.equal(true);
      expect(await vault.verifyTransfer(1n, tree.getProof(0), ...values)).to.equal(false);
      expect(await vault.batchRoot(1n)).to.equal(tree.root);
    });

    it("applies unsorted and repeated accounts across balance slots", async function () {
      const f = await loadFixture(fundedFixture);
      const { vault, token, alice, bob, carol, dave } = f;
      await vault.connect(dave).deposit(token, 10n);
      await settle(f, 1n, [{ tokenId: 1, deltas: [
        { accountId: 1, delta: 5n }, { accountId: 4, delta: -3n }, { accountId: 2, delta: -4n },
        { accountId: 4, delta: 1n }, { accountId: 3, delta: 1n },
      ] }]);
      expect(await vault.settledBalance(token, alice.address)).to.equal(1_000n * UNITS + 5n);
      expect(await vault.settledBalance(token, bob.address)).to.equal(1_000n * UNITS - 4n);
      expect(await vault.settledBalance(token, carol.address)).to.equal(1_000n * UNITS + 1n);
      expect(await vault.settledBalance(token, dave.address)).to.equal(8n);
    });

    it("accepts an empty batch as a heartbeat", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x"))
        .to.emit(f.vault, "BatchSettled").withArgs(1n, ROOT, 0n);
    });

    it("settles several tokens in one batch", async function () {
      const f = await loadFixture(hostileFixture);
      const { vault, token, hostile, alice, bob } = f;
      await settle(f, 1n, [
        { tokenId: 1, deltas: [{ accountId: 1, delta: 4n }, { accountId: 3, delta: -4n }] },
        { tokenId: 2, deltas: [{ accountId: 1, delta: -9n }, { accountId: 2, delta: 9n }] },
      ]);
      expect(await vault.settledBalance(token, alice.address)).to.equal(1_000n * UNITS + 4n);
      expect(await vault.settledBalance(hostile, alice.address)).to.equal(100n * UNITS - 9n);
      expect(await vault.settledBalance(hostile, bob.address)).to.equal(100n * UNITS + 9n);
    });

    it("is for the operator only", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.vault.connect(f.stranger).settleBatch(1n, ROOT, "0x"))
        .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, OPERATOR_ROLE);
    });

    it("is blocked while paused", async function () {
      const f = await loadFixture(fundedFixture);
      await f.vault.connect(f.admin).pause();
      await expect(settle(f, 1n, [])).to.be.revertedWithCustomError(f.vault, "VaultPaused");
    });

    it("rejects a replayed batch id", async function () {
      const f = await loadFixture(fundedFixture);
      const sections = [{ tokenId: 1, deltas: [{ accountId: 1, delta: -1n }, { accountId: 2, delta: 1n }] }];
      await settle(f, 1n, sections);
      await expect(settle(f, 1n, sections)).to.be.revertedWithCustomError(f.vault, "VaultBatchIdMismatch").withArgs(2n, 1n);
      expect(await f.vault.settledBalance(f.token, f.bob.address)).to.equal(1_000n * UNITS + 1n);
    });

    it("rejects a skipped batch id", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(settle(f, 2n, [])).to.be.revertedWithCustomError(f.vault, "VaultBatchIdMismatch").withArgs(1n, 2n);
    });

    it("rejects deltas that do not sum to zero", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -5n }, { accountId: 2, delta: 6n }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultBatchNotBalanced")
        .withArgs(await f.token.getAddress(), 6n, 5n);
    });

    it("rejects a debit beyond the settled balance", async function () {
      const f = await loadFixture(fundedFixture);
      const balance = 1_000n * UNITS;
      await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 2, delta: balance + 1n }, { accountId: 3, delta: -(balance + 1n) }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultInsufficientBalance")
        .withArgs(await f.token.getAddress(), f.carol.address, balance, balance + 1n);
      await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 1, delta: -MAX_UINT128 }, { accountId: 2, delta: MAX_UINT128 }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultInsufficientBalance")
        .withArgs(await f.token.getAddress(), f.alice.address, balance, MAX_UINT128);
    });

    it("rejects a payout beyond the settled balance", async function () {
      const f = await loadFixture(fundedFixture);
      const balance = 1_000n * UNITS;
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 2, amount: balance + 1n, recipient: f.dave.address }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultInsufficientBalance")
        .withArgs(await f.token.getAddress(), f.bob.address, balance, balance + 1n);
    });

    it("credits up to exactly 2^85 - 1 and keeps any excess as a pending payout", async function () {
      const { vault, operator, alice, bob } = await loadFixture(deployFixture);
      const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
      await list(vault, big);
      await big.mint(alice.address, MAX_BALANCE);
      await big.mint(bob.address, 2n);
      await big.connect(alice).approve(vault, ethers.MaxUint256);
      await big.connect(bob).approve(vault, ethers.MaxUint256);
      await vault.connect(alice).deposit(big, MAX_BALANCE - 1n);
      await vault.connect(bob).deposit(big, 2n);
      const f = { vault, operator };
      await settle(f, 1n, [{ tokenId: 2, deltas: [{ accountId: 1, delta: 1n }, { accountId: 2, delta: -1n }] }]);
      expect(await vault.settledBalance(big, alice.address)).to.equal(MAX_BALANCE);
      await expect(settle(f, 2n, [{ tokenId: 2, deltas: [{ accountId: 1, delta: 1n }, { accountId: 2, delta: -1n }] }]))
        .to.emit(vault, "BalanceCapExceeded").withArgs(await big.getAddress(), alice.address, 1n);
      expect(await vault.settledBalance(big, alice.address)).to.equal(MAX_BALANCE);
      expect(await vault.pendingPayout(big, alice.address)).to.equal(1n);
    });

    it("rejects unknown token and account ids", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(settle(f, 1n, [{ tokenId: 0, deltas: [] }])).to.be.revertedWithCustomError(f.vault, "VaultUnknownToken").withArgs(0);
      await expect(settle(f, 1n, [{ tokenId: 2, deltas: [] }])).to.be.revertedWithCustomError(f.vault, "VaultUnknownToken").withArgs(2);
      await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 0, delta: 0n }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultUnknownAccount").withArgs(0);
      await expect(settle(f, 1n, [{ tokenId: 1, deltas: [{ accountId: 4, delta: 0n }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultUnknownAccount").withArgs(4);
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 4, amount: 1n, recipient: f.dave.address }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultUnknownAccount").withArgs(4);
      const flagged = "0x" + "00000001" + "0000" + "0001" + (DEBIT_FLAG | 1n).toString(16) + "01".padStart(32, "0") + f.dave.address.slice(2);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, flagged))
        .to.be.revertedWithCustomError(f.vault, "VaultNoForcedWithdrawal").withArgs(await f.token.getAddress(), f.alice.address);
    });

    it("rejects malformed encodings", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x00000001000100"))
        .to.be.revertedWithCustomError(f.vault, "VaultMalformedBatch").withArgs(0);
      const truncated = encodeBatch([{ tokenId: 1, deltas: [{ accountId: 1, delta: -1n }, { accountId: 2, delta: 1n }] }]).slice(0, -2);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, truncated))
        .to.be.revertedWithCustomError(f.vault, "VaultMalformedBatch").withArgs(8);
    });

    it("bounds entries, payouts and token sections", async function () {
      const f = await loadFixture(fundedFixture);
      expect(await f.vault.MAX_BATCH_ENTRIES()).to.equal(1_024n);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x00000001" + "0401" + "0000"))
        .to.be.revertedWithCustomError(f.vault, "VaultBatchTooLarge").withArgs(1_025n, 1_024n);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x00000001" + "0000" + "0041"))
        .to.be.revertedWithCustomError(f.vault, "VaultTooManyPayouts").withArgs(65n, 64n);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x" + "0000000100000000".repeat(33)))
        .to.be.revertedWithCustomError(f.vault, "VaultBatchTooLarge").withArgs(33n, 32n);
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, "0x" + "0000000100000000".repeat(32)))
        .to.emit(f.vault, "BatchSettled");
    });

    it("rejects zero payouts and recipients that are zero or the vault", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 1, amount: 0n, recipient: f.dave.address }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultZeroAmount");
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 1, amount: 1n, recipient: ethers.ZeroAddress }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidRecipient").withArgs(ethers.ZeroAddress);
      const self = await f.vault.getAddress();
      await expect(settle(f, 1n, [{ tokenId: 1, payouts: [{ accountId: 1, amount: 1n, recipient: self }] }]))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidRecipient").withArgs(self);
    });

    for (const [mode, name] of [[1, "reverts"], [2, "returns false"]]) {
      it(`defers a payout whose token ${name} for the recipient, then lets it be claimed`, async function () {
        const f = await loadFixture(hostileFixture);
        const { vault, hostile, dave, stranger } = f;
        const hostileAddress = await hostile.getAddress();
        await hostile.setFailMode(dave.address, mode);
        await expect(settle(f, 1n, [{ tokenId: 2, payouts: [
          { accountId: 1, amount: 5n, recipient: dave.address },
          { accountId: 2, amount: 6n, recipient: stranger.address },
        ] }]))
          .to.emit(vault, "PayoutDeferred").withArgs(1n, hostileAddress, dave.address, 1, 5n)
          .and.to.emit(vault, "PayoutSent").withArgs(1n, hostileAddress, stranger.address, 2, 6n);
        expect(await vault.pendingPayout(hostile, dave.address)).to.equal(5n);
        expect(await vault.settledBalance(hostile, f.alice.address)).to.equal(100n * UNITS - 5n);

        const claim = await vault.connect(dave).claimPayout(hostile, stranger.address);
        await expect(claim).to.emit(vault, "PayoutClaimed").withArgs(hostileAddress, dave.address, stranger.address, 5n);
        await expect(claim).to.changeTokenBalance(hostile, stranger, 5n);
        expect(await vault.pendingPayout(hostile, dave.address)).to.equal(0n);
      });
    }

    it("defers a payout whose token reenters the vault", async function () {
      const f = await loadFixture(hostileFixture);
      const { vault, hostile, dave } = f;
      const batch = encodeBatch([{ tokenId: 2, payouts: [{ accountId: 1, amount: 5n, recipient: dave.address }] }]);
      await hostile.armReentry(vault, vault.interface.encodeFunctionData("settleBatch", [2n, ROOT, batch]));
      await expect(f.vault.connect(f.operator).settleBatch(1n, ROOT, batch))
        .to.emit(vault, "PayoutDeferred").withArgs(1n, await hostile.getAddress(), dave.address, 1, 5n);
      expect(await vault.lastBatchId()).to.equal(1n);
      expect(await vault.settledBalance(hostile, f.alice.address)).to.equal(100n * UNITS - 5n);
      expect(await hostile.balanceOf(vault)).to.equal(200n * UNITS);
    });
  });

  describe("claimPayout", function () {
    it("rejects a claim with nothing pending or to the zero address or the vault", async function () {
      const f = await loadFixture(hostileFixture);
      await expect(f.vault.connect(f.dave).claimPayout(f.hostile, f.dave.address))
        .to.be.revertedWithCustomError(f.vault, "VaultNoPendingPayout")
        .withArgs(await f.hostile.getAddress(), f.dave.address);
      await expect(f.vault.connect(f.dave).claimPayout(f.hostile, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidRecipient").withArgs(ethers.ZeroAddress);
      await expect(f.vault.connect(f.dave).claimPayout(f.hostile, f.vault))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidRecipient").withArgs(await f.vault.getAddress());
    });

    it("keeps the payout pending when the token refuses the destination too", async function () {
      const f = await loadFixture(hostileFixture);
      await f.hostile.setFailMode(f.dave.address, 1);
      await settle(f, 1n, [{ tokenId: 2, payouts: [{ accountId: 1, amount: 5n, recipient: f.dave.address }] }]);
      await expect(f.vault.connect(f.dave).claimPayout(f.hostile, f.dave.address))
        .to.be.revertedWithCustomError(f.hostile, "HostileTokenBlocked").withArgs(f.dave.address);
      expect(await f.vault.pendingPayout(f.hostile, f.dave.address)).to.equal(5n);
    });

    it("works while paused", async function () {
      const f = await loadFixture(hostileFixture);
      await f.hostile.setFailMode(f.dave.address, 1);
      await settle(f, 1n, [{ tokenId: 2, payouts: [{ accountId: 1, amount: 5n, recipient: f.dave.address }] }]);
      await f.vault.connect(f.admin).pause();
      await expect(f.vault.connect(f.dave).claimPayout(f.hostile, f.stranger.address)).to.emit(f.vault, "PayoutClaimed");
    });
  });

  describe("roles", function () {
    it("lets the admin hand the operator role to another key, active only after the operator delay", async function () {
      const f = await loadFixture(fundedFixture);
      const grant = await f.vault.connect(f.admin).grantRole(OPERATOR_ROLE, f.stranger.address);
      const activeFrom = BigInt(await time.latest()) + OPERATOR_DELAY;
      await expect(grant).to.emit(f.vault, "OperatorScheduled").withArgs(f.stranger.address, activeFrom);
      expect(await f.vault.operatorActiveFrom(f.stranger.address)).to.equal(activeFrom);
      await f.vault.connect(f.admin).revokeRole(OPERATOR_ROLE, f.operator.address);
      await expect(f.vault.connect(f.stranger).settleBatch(1n, ROOT, "0x"))
        .to.be.revertedWithCustomError(f.vault, "VaultOperatorNotActive").withArgs(f.stranger.address, activeFrom);
      await time.increaseTo(activeFrom);
      await expect(f.vault.connect(f.stranger).settleBatch(1n, ROOT, "0x")).to.emit(f.vault, "BatchSettled");
      await expect(f.vault.connect(f.operator).settleBatch(2n, ROOT, "0x"))
        .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
        .withArgs(f.operator.address, OPERATOR_ROLE);
    });

    it("uses AccessControlDefaultAdminRules: the admin cannot be granted directly, a transfer waits", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.vault.connect(f.admin).grantRole(ethers.ZeroHash, f.stranger.address))
        .to.be.revertedWithCustomError(f.vault, "AccessControlEnforcedDefaultAdminRules");
      expect(await f.vault.defaultAdminDelay()).to.equal(OPERATOR_DELAY);
      await f.vault.connect(f.admin).beginDefaultAdminTransfer(f.stranger.address);
      await expect(f.vault.connect(f.stranger).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(f.vault, "AccessControlEnforcedDefaultAdminDelay");
    });
  });

  describe("escapeWithdraw", function () {
    it("stays closed until escapeDelay passed without a batch", async function () {
      const f = await loadFixture(fundedFixture);
      const opensAt = await f.vault.escapeOpensAt();
      await expect(f.vault.connect(f.alice).escapeWithdraw(f.token))
        .to.be.revertedWithCustomError(f.vault, "VaultEscapeNotOpen").withArgs(opensAt);
      await time.increaseTo(opensAt - 10n);
      await settle(f, 1n, []);
      const reopensAt = BigInt(await time.latest()) + DELAY;
      expect(await f.vault.escapeOpensAt()).to.equal(reopensAt);
      await time.increaseTo(reopensAt - 2n);
      await expect(f.vault.connect(f.alice).escapeWithdraw(f.token))
        .to.be.revertedWithCustomError(f.vault, "VaultEscapeNotOpen").withArgs(reopensAt);
    });

    it("pays the whole settled balance once open, even while paused", async function () {
      const f = await loadFixture(fundedFixture);
      await f.vault.connect(f.admin).pause();
      await time.increaseTo(await f.vault.escapeOpensAt());
      const tx = await f.vault.connect(f.bob).escapeWithdraw(f.token);
      await expect(tx).to.emit(f.vault, "EscapeWithdrawn").withArgs(await f.token.getAddress(), f.bob.address, 1_000n * UNITS);
      await expect(tx).to.changeTokenBalances(f.token, [f.bob, f.vault], [1_000n * UNITS, -1_000n * UNITS]);
      expect(await f.vault.settledBalance(f.token, f.bob.address)).to.equal(0n);
      expect(await f.vault.settledBalance(f.token, f.alice.address)).to.equal(1_000n * UNITS);
      expect(await f.vault.settledBalance(f.token, f.carol.address)).to.equal(1_000n * UNITS);
      await expect(f.vault.connect(f.bob).escapeWithdraw(f.token))
        .to.be.revertedWithCustomError(f.vault, "VaultNothingToWithdraw").withArgs(await f.token.getAddress(), f.bob.address);
    });

    it("has nothing for unknown accounts and tokens", async function () {
      const f = await loadFixture(fundedFixture);
      await time.increaseTo(await f.vault.escapeOpensAt());
      await expect(f.vault.connect(f.dave).escapeWithdraw(f.token))
        .to.be.revertedWithCustomError(f.vault, "VaultNothingToWithdraw").withArgs(await f.token.getAddress(), f.dave.address);
      await expect(f.vault.connect(f.alice).escapeWithdraw(f.stranger.address))
        .to.be.revertedWithCustomError(f.vault, "VaultNothingToWithdraw").withArgs(f.stranger.address, f.alice.address);
    });

    it("reverts when the token refuses the transfer, keeping the balance", async function () {
      const f = await loadFixture(hostileFixture);
      await time.increaseTo(await f.vault.escapeOpensAt());
      await f.hostile.setFailMode(f.alice.address, 2);
      await expect(f.vault.connect(f.alice).escapeWithdraw(f.hostile))
        .to.be.revertedWithCustomError(f.vault, "SafeERC20FailedOperation").withArgs(await f.hostile.getAddress());
      expect(await f.vault.settledBalance(f.hostile, f.alice.address)).to.equal(100n * UNITS);
    });

    it("rejects a token reentering escapeWithdraw", async function () {
      const f = await loadFixture(hostileFixture);
      await time.increaseTo(await f.vault.escapeOpensAt());
      await f.hostile.armReentry(f.vault, f.vault.interface.encodeFunctionData("escapeWithdraw", [await f.hostile.getAddress()]));
      await expect(f.vault.connect(f.alice).escapeWithdraw(f.hostile))
        .to.be.revertedWithCustomError(f.vault, "ReentrancyGuardReentrantCall");
      expect(await f.vault.settledBalance(f.hostile, f.alice.address)).to.equal(100n * UNITS);
    });
  });

  describe("pause and unpause", function () {
    it("are for the admin only and flip the flag", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.vault.connect(f.operator).pause())
        .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
        .withArgs(f.operator.address, ethers.ZeroHash);
      await expect(f.vault.connect(f.admin).pause()).to.emit(f.vault, "Paused")
        .withArgs(f.admin.address, BigInt(await time.latest()) + 1n + WINDOW / 2n);
      expect(await f.vault.paused()).to.equal(true);
      await expect(f.vault.connect(f.admin).pause()).to.be.revertedWithCustomError(f.vault, "VaultPaused");
      await expect(f.vault.connect(f.stranger).unpause())
        .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, ethers.ZeroHash);
      await expect(f.vault.connect(f.admin).unpause()).to.emit(f.vault, "Unpaused").withArgs(f.admin.address);
      await expect(f.vault.connect(f.admin).unpause()).to.be.revertedWithCustomError(f.vault, "VaultNotPaused");
      await expect(settle(f, 1n, [])).to.emit(f.vault, "BatchSettled");
    });

    it("ends by itself after maxPauseDuration and needs as long a cooldown before the next", async function () {
      const f = await loadFixture(fundedFixture);
      expect(await f.vault.maxPauseDuration()).to.equal(WINDOW / 2n);
      await f.vault.connect(f.admin).pause();
      const endsAt = BigInt(await time.latest()) + WINDOW / 2n;
      await expect(settle(f, 1n, [])).to.be.revertedWithCustomError(f.vault, "VaultPaused");
      await time.increaseTo(endsAt);
      expect(await f.vault.paused()).to.equal(false);
      await expect(settle(f, 1n, [])).to.emit(f.vault, "BatchSettled");
      await expect(f.vault.connect(f.admin).pause())
        .to.be.revertedWithCustomError(f.vault, "VaultPauseCooldown").withArgs(endsAt + WINDOW / 2n);
      await time.increaseTo(endsAt + WINDOW / 2n);
      await expect(f.vault.connect(f.admin).pause()).to.emit(f.vault, "Paused");
    });
  });

  describe("benchmark workload", function () {
    it("settles 100 netted transfers among 20 accounts correctly", async function () {
      const { vault, token, operator } = await loadFixture(deployFixture);
      const signers = (await ethers.getSigners()).slice(0, 20);
      for (const signer of signers) {
        await token.mint(signer.address, MINT);
        await token.connect(signer).approve(vault, ethers.MaxUint256);
        await vault.connect(signer).deposit(token, 10_000n * UNITS);
      }
      const next = prng(100_20);
      const transfers = [];
      for (let i = 0; i < 100; i++) {
        const from = 1 + Math.floor(next() * 20);
        let to = 1 + Math.floor(next() * 19);
        if (to >= from) to += 1;
        transfers.push({ from, to, amount: BigInt(1 + Math.floor(next() * 1_000_000)) });
      }
      const expected = new Map(signers.map((_, i) => [i + 1, 10_000n * UNITS]));
      for (const { from, to, amount } of transfers) {
        expected.set(from, expected.get(from) - amount);
        expected.set(to, expected.get(to) + amount);
      }
      const deltas = netTransfers(transfers);
      expect(deltas.length).to.be.at.most(20);
      await vault.connect(operator).settleBatch(1n, ROOT, encodeBatch([{ tokenId: 1, deltas }]));
      for (const signer of signers) {
        const id = Number(await vault.accountIdOf(signer.address));
        expect(await vault.settledBalance(token, signer.address)).to.equal(expected.get(id));
      }
      expect(await token.balanceOf(vault)).to.equal(20n * 10_000n * UNITS);
    });
  });
});
