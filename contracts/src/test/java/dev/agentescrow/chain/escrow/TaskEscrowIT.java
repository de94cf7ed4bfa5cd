package dev.agentescrow.chain.escrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Calls;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.wrappers.TaskEscrow;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.crypto.Hash;

@ExtendWith(LocalChainExtension.class)
class TaskEscrowIT {
    private static final BasisPoints FEE = BasisPoints.of(250);
    private static final Amount SHARE_1 = Amount.of(600_000);
    private static final Amount SHARE_2 = Amount.of(400_000);
    private static final Amount FUNDED = SHARE_1.plus(SHARE_2);
    private static final long ONE_HOUR_SECONDS = 3_600;
    private static final long GRACE_SECONDS = 86_400;
    private static final long ARBITRATION_SECONDS = 7 * 86_400;

    /** The parties, a fresh token and a fresh escrow contract for one test. */
    private record Setup(LocalChain chain, Erc20Token token, TaskEscrowGateway escrow, Signer payer, Signer payee1,
                         Signer payee2, Signer arbiter, Signer evaluator, Address feeRecipient, Signer stranger) {
        static Setup deploy(LocalChain chain) {
            Signer admin = chain.account(0);
            Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Test USD", "TUSD", 6);
            Address feeRecipient = chain.account(6).address();
            TaskEscrowGateway escrow = TaskEscrowGateway.deploy(chain.client(), admin, admin.address(), feeRecipient, FEE);
            Signer payer = chain.account(1);
            token.mint(admin, payer.address(), Amount.of(10_000_000));
            return new Setup(chain, token, escrow, payer, chain.account(2), chain.account(3), chain.account(4),
                    chain.account(5), feeRecipient, chain.account(7));
        }

        EscrowTerms terms(ReleaseMode mode) {
            return new EscrowTerms(token.address(),
                    List.of(new Payee(payee1.address(), SHARE_1), new Payee(payee2.address(), SHARE_2)),
                    arbiter.address(), evaluator.address(),
                    Instant.ofEpochSecond(chain.latestTimestamp() + ONE_HOUR_SECONDS), BasisPoints.of(1_000),
                    FallbackRule.REFUND_PAYER, mode, id("terms"));
        }

        EscrowTerms terms(ReleaseMode mode, FallbackRule fallbackRule) {
            EscrowTerms t = terms(mode);
            return new EscrowTerms(t.token(), t.payees(), t.arbiter(), t.evaluator(), t.deadline(), t.maxFee(),
                    fallbackRule, t.mode(), t.termsHash());
        }

        /** Creates the payer's escrow for {@code task} and has both payees accept it by a call. */
        CreatedEscrow createAccepted(String task, EscrowTerms terms) {
            CreatedEscrow created = escrow.create(payer, task(task), terms);
            escrow.accept(payee1, created.id(), 0);
            escrow.accept(payee2, created.id(), 1);
            return created;
        }

        Amount balance(Address holder) {
            return token.balanceOf(holder);
        }
    }

    private static Bytes32 id(String label) {
        return new Bytes32(Hash.sha3(label.getBytes(StandardCharsets.UTF_8)));
    }

    private static TaskId task(String label) {
        return TaskId.of(id(label));
    }

    private static Amount fee(Amount gross) {
        return Amount.of(gross.baseUnits().multiply(BigInteger.valueOf(FEE.value()))
                .divide(BigInteger.valueOf(BasisPoints.ONE_HUNDRED_PERCENT)));
    }

    @Test
    void createsAnEscrowAndReleasesWithTheFee(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        TaskId task = task("task-release");
        Bytes32 id = TaskEscrowGateway.escrowId(s.payer.address(), task);
        EscrowTerms terms = s.terms(ReleaseMode.PER_PAYEE);
        assertThat(s.escrow.escrow(id)).isEmpty();

        CreatedEscrow created = s.escrow.create(s.payer, task, terms);

        assertThat(created.id()).isEqualTo(id);
        assertThat(s.balance(s.escrow.address())).isEqualTo(FUNDED);
        assertThat(s.balance(s.payer.address())).isEqualTo(Amount.of(10_000_000).minus(FUNDED));
        Escrow escrow = s.escrow.escrow(id).orElseThrow();
        assertThat(escrow.state()).isEqualTo(EscrowState.OPEN);
        assertThat(escrow.payer()).isEqualTo(s.payer.address());
        assertThat(escrow.maxFee()).isEqualTo(BasisPoints.of(1_000));
        assertThat(escrow.fallbackRule()).isEqualTo(FallbackRule.REFUND_PAYER);
        assertThat(escrow.feeRecipient()).isEqualTo(s.feeRecipient);
        assertThat(escrow.arbitrationDeadline()).isEmpty();
        assertThat(escrow.arbiter()).isEqualTo(s.arbiter.address());
        assertThat(escrow.evaluator()).isEqualTo(s.evaluator.address());
        assertThat(escrow.deadline()).isEqualTo(terms.deadline());
        assertThat(escrow.fee()).isEqualTo(FEE);
        assertThat(escrow.mode()).isEqualTo(ReleaseMode.PER_PAYEE);
        assertThat(escrow.termsHash()).isEqualTo(id("terms"));
        assertThat(escrow.amount()).isEqualTo(FUNDED);
        assertThat(escrow.held()).isEqualTo(FUNDED);
        assertThat(escrow.payees()).containsExactly(
                new PayeePosition(s.payee1.address(), SHARE_1, Amount.ZERO, false),
                new PayeePosition(s.payee2.address(), SHARE_2, Amount.ZERO, false));
        assertThat(s.escrow.events(created.receipt())).singleElement()
                .isInstanceOfSatisfying(EscrowEvent.Created.class, e -> {
                    assertThat(e.id()).isEqualTo(id);
                    assertThat(e.taskId()).isEqualTo(task);
                    assertThat(e.payer()).isEqualTo(s.payer.address());
                    assertThat(e.amount()).isEqualTo(FUNDED);
                    assertThat(e.fee()).isEqualTo(FEE);
                    assertThat(e.mode()).isEqualTo(ReleaseMode.PER_PAYEE);
                });

        assertThatThrownBy(() -> s.escrow.release(s.payer, id, 0, Amount.of(1)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowInvalidState"));
        Receipt accepted = s.escrow.accept(s.payee1, id, 0);
        assertThat(s.escrow.events(accepted)).singleElement().isInstanceOfSatisfying(EscrowEvent.Accepted.class, e -> {
            assertThat(e.payee()).isEqualTo(s.payee1.address());
            assertThat(e.index()).isZero();
        });
        // Payee 2 signs in Java; a stranger (who pays the gas) submits the signature.
        EscrowAcceptance acceptance = EscrowAcceptance.of(s.escrow.escrow(id).orElseThrow(), 1);
        assertThat(acceptance.digest(chain.client().chainId(), s.escrow.address()))
                .isEqualTo(s.escrow.acceptanceDigest(id, 1));
        byte[] signature = s.escrow.signAcceptance(s.payee2, id, 1);
        assertThatThrownBy(() -> s.escrow.acceptWithSignature(s.stranger, id, 0, signature))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowAlreadyAccepted"));
        Receipt funded = s.escrow.acceptWithSignature(s.stranger, id, 1, signature);
        assertThat(s.escrow.events(funded)).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Accepted", "Funded");
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.FUNDED);
        assertThat(s.escrow.escrow(id).orElseThrow().acceptedCount()).isEqualTo(2);

        Amount part = Amount.of(100_000);
        Receipt released = s.escrow.release(s.evaluator, id, 0, part);

        assertThat(s.balance(s.payee1.address())).isEqualTo(part.minus(fee(part)));
        assertThat(s.balance(s.feeRecipient)).isEqualTo(Amount.ZERO);
        assertThat(s.escrow.feesOwed(s.token.address(), s.feeRecipient)).isEqualTo(fee(part));
        assertThat(s.balance(s.escrow.address())).isEqualTo(FUNDED.minus(part).plus(fee(part)));
        assertThat(s.escrow.events(released)).singleElement().isInstanceOfSatisfying(EscrowEvent.Released.class, e -> {
            assertThat(e.payee()).isEqualTo(s.payee1.address());
            assertThat(e.amount()).isEqualTo(part.minus(fee(part)));
            assertThat(e.fee()).isEqualTo(fee(part));
            assertThat(e.gross()).isEqualTo(part);
        });
        assertThatThrownBy(() -> s.escrow.release(s.payee1, id, 0, part))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowUnauthorized"));
        assertThatThrownBy(() -> s.escrow.release(s.payer, id, 1, SHARE_2.plus(Amount.of(1))))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowExceedsShare"));

        s.escrow.releaseAll(s.payer, id);

        assertThat(s.balance(s.payee1.address())).isEqualTo(SHARE_1.minus(fee(part)).minus(fee(SHARE_1.minus(part))));
        assertThat(s.balance(s.payee2.address())).isEqualTo(SHARE_2.minus(fee(SHARE_2)));
        Amount fees = fee(part).plus(fee(SHARE_1.minus(part))).plus(fee(SHARE_2));
        assertThat(s.escrow.feesOwed(s.token.address(), s.feeRecipient)).isEqualTo(fees);
        assertThat(s.balance(s.escrow.address())).isEqualTo(fees);
        Escrow closed = s.escrow.escrow(id).orElseThrow();
        assertThat(closed.state()).isEqualTo(EscrowState.COMPLETED);
        assertThat(closed.held()).isEqualTo(Amount.ZERO);
        assertThat(closed.payees()).allSatisfy(p -> assertThat(p.remaining()).isEqualTo(Amount.ZERO));

        assertThatThrownBy(() -> s.escrow.create(s.payer, task, s.terms(ReleaseMode.PER_PAYEE)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowAlreadyExists"));
    }

    @Test
    void disputeFreezesTheEscrowUntilTheArbiterSplitsIt(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        CreatedEscrow created = s.escrow.create(s.payer, task("task-dispute"), s.terms(ReleaseMode.ATOMIC));
        Bytes32 id = created.id();
        s.escrow.accept(s.payee1, id, 0);
        s.escrow.accept(s.payee2, id, 1);
        Amount payerBefore = s.balance(s.payer.address());

        Receipt disputed = s.escrow.dispute(s.payee2, id);

        Instant arbitrationDeadline = Instant.ofEpochSecond(chain.latestTimestamp() + ARBITRATION_SECONDS);
        assertThat(s.escrow.events(disputed)).singleElement().isEqualTo(new EscrowEvent.Disputed(id,
                s.payee2.address(), arbitrationDeadline, s.escrow.events(disputed).getFirst().position()));
        assertThat(s.escrow.escrow(id).orElseThrow().arbitrationDeadline()).contains(arbitrationDeadline);
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.DISPUTED);
        assertThatThrownBy(() -> s.escrow.releaseAll(s.payer, id))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowInvalidState"));
        assertThatThrownBy(() -> s.escrow.resolve(s.payer, id, List.of(Amount.ZERO, Amount.ZERO), FUNDED))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowUnauthorized"));
        assertThatThrownBy(() -> s.escrow.resolve(s.arbiter, id, List.of(Amount.ZERO, Amount.ZERO), Amount.ZERO))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowInvalidSplit"));

        Amount toPayee1 = Amount.of(300_000);
        Amount toPayee2 = Amount.of(100_000);
        Amount toPayer = Amount.of(600_000);
        Receipt resolved = s.escrow.resolve(s.arbiter, id, List.of(toPayee1, toPayee2), toPayer);

        assertThat(s.balance(s.payee1.address())).isEqualTo(toPayee1.minus(fee(toPayee1)));
        assertThat(s.balance(s.payee2.address())).isEqualTo(toPayee2.minus(fee(toPayee2)));
        assertThat(s.escrow.feesOwed(s.token.address(), s.feeRecipient)).isEqualTo(fee(toPayee1).plus(fee(toPayee2)));
        assertThat(s.balance(s.payer.address())).isEqualTo(payerBefore.plus(toPayer));
        assertThat(s.balance(s.escrow.address())).isEqualTo(fee(toPayee1).plus(fee(toPayee2)));
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.RESOLVED);
        assertThat(s.escrow.events(resolved)).hasSize(3).last().isInstanceOfSatisfying(EscrowEvent.Resolved.class,
                e -> assertThat(e.toPayer()).isEqualTo(toPayer));

        List<EscrowEvent> history = s.escrow.events(id, created.receipt().blockNumber(), resolved.blockNumber());
        assertThat(history).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Created", "Accepted", "Accepted", "Funded", "Disputed", "Released", "Released",
                        "Resolved");
    }

    @Test
    void anyoneAppliesTheFallbackWhenTheArbiterStaysAbsent(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        Bytes32 id = s.createAccepted("task-fallback", s.terms(ReleaseMode.PER_PAYEE, FallbackRule.SPLIT_EVENLY)).id();
        s.escrow.dispute(s.payer, id);
        Amount payerBefore = s.balance(s.payer.address());
        assertThatThrownBy(() -> s.escrow.applyFallback(s.stranger, id))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowArbitrationOpen"));

        chain.increaseTime(ARBITRATION_SECONDS + 1);
        assertThatThrownBy(() -> s.escrow.resolve(s.arbiter, id, List.of(Amount.ZERO, Amount.ZERO), FUNDED))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowArbitrationClosed"));
        Receipt applied = s.escrow.applyFallback(s.stranger, id);

        Amount half1 = Amount.of(300_000);
        Amount half2 = Amount.of(200_000);
        assertThat(s.balance(s.payee1.address())).isEqualTo(half1.minus(fee(half1)));
        assertThat(s.balance(s.payee2.address())).isEqualTo(half2.minus(fee(half2)));
        assertThat(s.balance(s.payer.address())).isEqualTo(payerBefore.plus(Amount.of(500_000)));
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.RESOLVED);
        assertThat(s.escrow.events(applied)).last().isInstanceOfSatisfying(EscrowEvent.FallbackApplied.class, e -> {
            assertThat(e.by()).isEqualTo(s.stranger.address());
            assertThat(e.rule()).isEqualTo(FallbackRule.SPLIT_EVENLY);
            assertThat(e.toPayer()).isEqualTo(Amount.of(500_000));
        });

        Amount fees = fee(half1).plus(fee(half2));
        Address treasury = chain.account(9).address();
        Amount treasuryBefore = s.balance(treasury);
        s.escrow.claimFees(chain.account(6), s.token.address(), treasury);
        assertThat(s.balance(treasury)).isEqualTo(treasuryBefore.plus(fees));
        assertThat(s.escrow.feesOwed(s.token.address(), s.feeRecipient)).isEqualTo(Amount.ZERO);
        assertThat(s.balance(s.escrow.address())).isEqualTo(Amount.ZERO);
    }

    @Test
    void thePayerCancelsAnEscrowNoPayeeAccepted(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        Amount payerBefore = s.balance(s.payer.address());
        Bytes32 id = s.escrow.create(s.payer, task("task-cancel"), s.terms(ReleaseMode.ATOMIC)).id();

        Receipt cancelled = s.escrow.cancel(s.payer, id);

        assertThat(s.balance(s.payer.address())).isEqualTo(payerBefore);
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.REJECTED);
        assertThat(s.escrow.events(cancelled)).singleElement().isInstanceOfSatisfying(EscrowEvent.Rejected.class,
                e -> assertThat(e.amount()).isEqualTo(FUNDED));
        Bytes32 accepted = s.escrow.create(s.payer, task("task-accepted"), s.terms(ReleaseMode.ATOMIC)).id();
        s.escrow.accept(s.payee2, accepted, 1);
        assertThatThrownBy(() -> s.escrow.cancel(s.payer, accepted))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowAccepted"));
        assertThatThrownBy(() -> s.escrow.accept(s.payee1, id, 0))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowInvalidState"));
    }

    @Test
    void refundsThePayerAfterTheDeadlineAndAnyoneAfterTheGrace(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        Bytes32 id = s.createAccepted("task-refund", s.terms(ReleaseMode.PER_PAYEE)).id();
        s.escrow.release(s.payer, id, 1, SHARE_2);
        Amount payerBefore = s.balance(s.payer.address());

        assertThatThrownBy(() -> s.escrow.refund(s.stranger, id))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowDeadlineNotReached"));

        chain.increaseTime(ONE_HOUR_SECONDS + 1);
        assertThatThrownBy(() -> s.escrow.refund(s.stranger, id))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowInGracePeriod"));
        chain.increaseTime(GRACE_SECONDS);
        Receipt refunded = s.escrow.refund(s.stranger, id);

        assertThat(s.balance(s.payer.address())).isEqualTo(payerBefore.plus(SHARE_1));
        assertThat(s.balance(s.escrow.address())).isEqualTo(fee(SHARE_2)); // the fees owed stay until claimed
        assertThat(s.balance(s.stranger.address())).isEqualTo(Amount.ZERO);
        assertThat(s.escrow.escrow(id).orElseThrow().state()).isEqualTo(EscrowState.EXPIRED);
        assertThat(s.escrow.events(refunded)).singleElement().isInstanceOfSatisfying(EscrowEvent.Expired.class, e -> {
            assertThat(e.payer()).isEqualTo(s.payer.address());
            assertThat(e.amount()).isEqualTo(SHARE_1);
        });
    }

    @Test
    void createsWithAPermitSignedInJava(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        Signer payer = chain.account(8);
        s.token.mint(chain.account(0), payer.address(), FUNDED);
        TaskId task = task("task-permit");
        assertThat(s.token.allowance(payer.address(), s.escrow.address())).isEqualTo(Amount.ZERO);

        Bytes32 id = s.escrow.createWithPermit(payer, task, s.terms(ReleaseMode.ATOMIC),
                Instant.ofEpochSecond(chain.latestTimestamp() + ONE_HOUR_SECONDS)).id();

        assertThat(id).isEqualTo(TaskEscrowGateway.escrowId(payer.address(), task));
        assertThat(s.balance(payer.address())).isEqualTo(Amount.ZERO);
        assertThat(s.balance(s.escrow.address())).isEqualTo(FUNDED);
        assertThat(s.token.allowance(payer.address(), s.escrow.address())).isEqualTo(Amount.ZERO);
        Escrow escrow = s.escrow.escrow(id).orElseThrow();
        assertThat(escrow.payer()).isEqualTo(payer.address());
        assertThat(escrow.mode()).isEqualTo(ReleaseMode.ATOMIC);
        assertThat(escrow.held()).isEqualTo(FUNDED);
    }

    @Test
    void feeChangesApplyOnlyToEscrowsCreatedAfterwards(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        Signer admin = chain.account(0);
        Bytes32 before = s.escrow.create(s.payer, task("before"), s.terms(ReleaseMode.PER_PAYEE)).id();

        s.escrow.setFee(admin, BasisPoints.of(1_000));
        Bytes32 after = s.escrow.create(s.payer, task("after"), s.terms(ReleaseMode.PER_PAYEE)).id();

        assertThat(s.escrow.fee()).isEqualTo(BasisPoints.of(1_000));
        assertThat(s.escrow.feeRecipient()).isEqualTo(s.feeRecipient);
        assertThat(s.escrow.escrow(before).orElseThrow().fee()).isEqualTo(FEE);
        assertThat(s.escrow.escrow(after).orElseThrow().fee()).isEqualTo(BasisPoints.of(1_000));
        assertThatThrownBy(() -> s.escrow.setFee(admin, BasisPoints.of(1_001)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowFeeTooHigh"));
        assertThatThrownBy(() -> s.escrow.setFee(s.stranger, BasisPoints.of(10)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("AccessControlUnauthorizedAccount"));
        EscrowTerms capped = s.terms(ReleaseMode.PER_PAYEE);
        EscrowTerms cappedAt500 = new EscrowTerms(capped.token(), capped.payees(), capped.arbiter(), capped.evaluator(),
                capped.deadline(), BasisPoints.of(500), capped.fallbackRule(), capped.mode(), capped.termsHash());
        Amount payerBalance = s.balance(s.payer.address());
        assertThatThrownBy(() -> s.escrow.create(s.payer, task("capped"), cappedAt500))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowFeeAboveMax"));
        assertThat(s.balance(s.payer.address())).isEqualTo(payerBalance);
    }

    @Test
    void rolesAreSplitAndTheAdminCannotSetFees(LocalChain chain) {
        Signer admin = chain.account(0);
        Signer feeManager = chain.account(8);
        TaskEscrowGateway escrow = TaskEscrowGateway.deploy(chain.client(), admin, admin.address(),
                java.time.Duration.ofDays(3), feeManager.address(), chain.account(6).address(), FEE);

        escrow.setFee(feeManager, BasisPoints.of(300));

        assertThat(escrow.fee()).isEqualTo(BasisPoints.of(300));
        assertThatThrownBy(() -> escrow.setFee(admin, BasisPoints.of(10)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("AccessControlUnauthorizedAccount"));
        TaskEscrow view = TaskEscrow.load(escrow.address().hex(), chain.client().web3j(), chain.client().readOnly(),
                chain.client().readGasProvider());
        assertThat(Calls.call(() -> view.defaultAdminDelay().send())).isEqualTo(BigInteger.valueOf(3 * 86_400));
        assertThat(Calls.call(() -> view.defaultAdmin().send())).isEqualToIgnoringCase(admin.address().hex());
    }

    @Test
    void escrowIdComputedInJavaMatchesTheContractView(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        TaskEscrow view = TaskEscrow.load(s.escrow.address().hex(), chain.client().web3j(), chain.client().readOnly(),
                chain.client().readGasProvider());
        List<Address> payers = List.of(s.payer.address(), s.stranger.address(), Address.ZERO,
                Address.of("0xffffffffffffffffffffffffffffffffffffffff"));
        List<TaskId> tasks = List.of(task("a"), task("b"), TaskId.of(Bytes32.ZERO),
                TaskId.of(Bytes32.fromHex("ff".repeat(32))));

        for (Address payer : payers) {
            for (TaskId task : tasks) {
                byte[] onChain = Calls.call(() -> view.escrowId(payer.hex(), task.value().bytes()).send());
                assertThat(TaskEscrowGateway.escrowId(payer, task)).as("%s / %s", payer, task)
                        .isEqualTo(new Bytes32(onChain));
            }
        }
    }

    @Test
    void anotherAccountUsingTheSameTaskIdCannotBlockThePayer(LocalChain chain) {
        Setup s = Setup.deploy(chain);
        s.token.mint(chain.account(0), s.stranger.address(), FUNDED.plus(FUNDED));
        TaskId task = task("task-contested");
        Bytes32 payerId = TaskEscrowGateway.escrowId(s.payer.address(), task);

        CreatedEscrow squatted = s.escrow.create(s.stranger, task, s.terms(ReleaseMode.PER_PAYEE));
        CreatedEscrow squattedById = s.escrow.create(s.stranger, TaskId.of(payerId), s.terms(ReleaseMode.PER_PAYEE));
        CreatedEscrow created = s.escrow.create(s.payer, task, s.terms(ReleaseMode.PER_PAYEE));

        assertThat(created.id()).isEqualTo(payerId);
        assertThat(squatted.id()).isNotEqualTo(payerId);
        assertThat(squattedById.id()).isNotEqualTo(payerId);
        assertThat(s.escrow.escrow(payerId).orElseThrow().payer()).isEqualTo(s.payer.address());
        assertThat(s.escrow.escrow(squatted.id()).orElseThrow().payer()).isEqualTo(s.stranger.address());
        assertThat(s.balance(s.escrow.address())).isEqualTo(FUNDED.plus(FUNDED).plus(FUNDED));
        assertThat(s.escrow.events(created.receipt())).singleElement()
                .isInstanceOfSatisfying(EscrowEvent.Created.class, e -> {
                    assertThat(e.id()).isEqualTo(payerId);
                    assertThat(e.taskId()).isEqualTo(task);
                });
        Amount payerBalance = s.balance(s.payer.address());
        assertThatThrownBy(() -> s.escrow.create(s.payer, task, s.terms(ReleaseMode.PER_PAYEE)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("EscrowAlreadyExists"));
        assertThat(s.balance(s.payer.address())).isEqualTo(payerBalance);
    }
}
