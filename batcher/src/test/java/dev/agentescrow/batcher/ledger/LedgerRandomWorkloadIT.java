package dev.agentescrow.batcher.ledger;

import static dev.agentescrow.batcher.ledger.LedgerFixtures.EURC;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.UNREGISTERED;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.USDC;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A seeded random workload of at least 10,000 operations (deposits, transfers, holds, posts,
 * voids, expiries, withdrawals, payouts, fees, replays, conflicts, bad input, linked groups),
 * checked by an independent model after every round: every result and every balance. The
 * ledger checkpoints balances every few groups and is restarted now and then.
 *
 * <p>A hostile client (issue 10) takes part in every round through the string entry point
 * that the REST service uses ({@link Ledger#submitInputs}): its inputs are interleaved with honest
 * ones in the same submission, and each is one of a fixed catalogue with the exact result it must
 * get (ids the system derives, control characters in references, the zero address, amounts beyond
 * uint256 and beyond the token limit, debits of system accounts and credits to CUSTODY). The
 * catalogue's codes are checked independently of the model, and the model, which never applies a
 * refused transfer, must still match every balance afterwards: no hostile input changed one.
 *
 * <p>Replay a failure with {@code -Dledger.seed=<seed>} (or {@code LEDGER_SEED}). Operations: at
 * least 10,000 (the suite); {@code -Dledger.operations=<n>} (or {@code LEDGER_OPERATIONS}) for more,
 * and {@code -Dledger.profile=long} (or {@code LEDGER_PROFILE=long}) is the long mode of 100,000.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerRandomWorkloadIT {
    /** At least 10k in the suite; 100k in the long mode; or as configured. */
    private static final int OPERATIONS = Math.max(10_000, operations());
    private static final int SUBMISSIONS_PER_ROUND = 8;
    private static final long MAX_TIMEOUT_SECONDS = 600;
    /** Restarts recover from the last checkpoint plus the transfers after it. */
    private static final int RESTART_EVERY_ROUNDS = 37;

    /** The long mode's operations. */
    static final int LONG_OPERATIONS = 100_000;

    private static String setting(String property, String environment) {
        String value = System.getProperty(property);
        return value != null ? value : System.getenv(environment);
    }

    private static int operations() {
        String configured = setting("ledger.operations", "LEDGER_OPERATIONS");
        if (configured != null) {
            return Integer.parseInt(configured.trim());
        }
        return "long".equalsIgnoreCase(setting("ledger.profile", "LEDGER_PROFILE")) ? LONG_OPERATIONS : 10_000;
    }

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private int hostileInputs;
    private final List<Address> users = new ArrayList<>();
    private Random random;
    private long nextId = 1;

    @Test
    void randomWorkloadMatchesTheIndependentModel(TestDatabases databases) {
        String seedSetting = setting("ledger.seed", "LEDGER_SEED");
        long seed = seedSetting != null ? Long.parseLong(seedSetting.trim()) : System.nanoTime();
        long startedNanos = System.nanoTime();
        random = new Random(seed);
        for (int i = 1; i <= 12; i++) {
            users.add(Address.of(String.format("0x%040x", 0xA000 + i)));
        }
        DataSource dataSource = databases.create();
        LedgerConfig config = new LedgerConfig(DatabaseConfig.embedded(Path.of("unused")), 1_024, 512, 64,
                MAX_TIMEOUT_SECONDS, Duration.ofSeconds(5), LedgerConfig.DEFAULT_ADVISORY_LOCK_KEY, 3, 40);
        LedgerModel model = new LedgerModel(Set.of(USDC, EURC), MAX_TIMEOUT_SECONDS);
        Ledger ledger = Ledger.start(dataSource, config, clock);
        try {
            LedgerFixtures.registerTokens(ledger);
            int operations = 0;
            int round = 0;
            while (operations < OPERATIONS) {
                round++;
                if (random.nextInt(4) == 0) {
                    clock.advance(Duration.ofSeconds(random.nextInt(40)));
                }
                if (random.nextInt(6) == 0) {
                    int expected = model.expire(clock.instant());
                    assertThat(ledger.expirePending()).as("expired, seed %d round %d", seed, round)
                            .isEqualTo(expected);
                    operations += Math.max(1, expected);
                }
                List<List<TransferRequest>> submissions = new ArrayList<>();
                List<CompletableFuture<List<TransferResult>>> futures = new ArrayList<>();
                for (int s = 0; s < SUBMISSIONS_PER_ROUND; s++) {
                    List<TransferRequest> submission = submission(model);
                    submissions.add(submission);
                    futures.add(ledger.submitAsync(submission));
                    operations += submission.size();
                }
                // The hostile client's submission joins the queue after this round's others.
                Mixed mixed = mixedSubmission(model);
                List<TransferResult> mixedResults = ledger.submitInputs(mixed.inputs());
                for (int s = 0; s < SUBMISSIONS_PER_ROUND; s++) {
                    List<TransferResult> expected = model.submit(submissions.get(s), clock.instant());
                    assertThat(futures.get(s).join()).as("results, seed %d round %d submission %s", seed, round,
                            submissions.get(s)).isEqualTo(expected);
                }
                operations += mixed.inputs().size();
                assertMixed(mixed, mixedResults, model, seed, round);
                assertBalances(ledger, model, seed, round);
                if (round % RESTART_EVERY_ROUNDS == 0) {
                    ledger.close();
                    ledger = Ledger.start(dataSource, config, clock);
                }
            }
            assertBalances(ledger, model, seed, round);
            LedgerFixtures.assertSumsToZero(ledger.balances());
            assertThat(hostileInputs).as("hostile inputs, seed %d", seed).isGreaterThan(operations / 50);
            System.out.printf("LedgerRandomWorkloadIT: seed %d, %d operations (%d hostile inputs) in %d rounds, "
                    + "0 invariant violations, %.1f s%n", seed, operations, hostileInputs, round,
                    (System.nanoTime() - startedNanos) / 1e9);
        } finally {
            ledger.close();
        }
    }

    /**
     * One submission of the string entry point: {@code inputs} in order; {@code honest[i]} is the typed
     * request of input i when it is honest (the model judges it), {@code refusals[i]} the exact result
     * of a hostile one.
     */
    private record Mixed(List<TransferInput> inputs, List<TransferRequest> honest, List<TransferResult> refusals) {
    }

    private Mixed mixedSubmission(LedgerModel model) {
        List<TransferInput> inputs = new ArrayList<>();
        List<TransferRequest> honest = new ArrayList<>();
        List<TransferResult> refusals = new ArrayList<>();
        int size = 2 + random.nextInt(8);
        for (int i = 0; i < size; i++) {
            Address token = random.nextInt(5) == 0 ? EURC : USDC;
            AccountKey a = AccountKey.user(pick(users), token);
            AccountKey b = AccountKey.user(pick(users), token);
            if (random.nextBoolean()) {
                TransferId id = id();
                AccountKey payee = switch (random.nextInt(4)) {
                    case 0 -> AccountKey.fees(token);
                    case 1 -> AccountKey.payouts(token);
                    default -> b;
                };
                Amount amount = spend(model, a);
                String credit = payee.kind() == AccountKind.USER ? payee.owner().hex() : payee.kind().name();
                inputs.add(TransferInput.single(id.hex(), a.owner().hex(), credit, token.hex(),
                        amount.baseUnits().toString()));
                honest.add(TransferRequest.single(id, a, payee, amount));
                refusals.add(null);
            } else {
                HostileClient.Input hostile = HostileClient.next(random, a, b, id());
                inputs.add(hostile.input());
                honest.add(null);
                refusals.add(hostile.refusal());
                hostileInputs++;
            }
        }
        return new Mixed(inputs, honest, refusals);
    }

    private void assertMixed(Mixed mixed, List<TransferResult> results, LedgerModel model, long seed, int round) {
        List<TransferRequest> honest = mixed.honest().stream().filter(Objects::nonNull).toList();
        List<TransferResult> expectedHonest = model.submit(honest, clock.instant());
        int next = 0;
        for (int i = 0; i < results.size(); i++) {
            TransferResult expected = mixed.refusals().get(i) != null ? mixed.refusals().get(i)
                    : expectedHonest.get(next++);
            assertThat(results.get(i)).as("input %d of %s, seed %d round %d", i, mixed.inputs(), seed, round)
                    .isEqualTo(expected);
        }
    }

    private static void assertBalances(Ledger ledger, LedgerModel model, long seed, int round) {
        model.assertMatches(ledger, "seed " + seed + " round " + round);
    }

    private List<TransferRequest> submission(LedgerModel model) {
        int size = 1 + random.nextInt(12);
        List<TransferRequest> requests = new ArrayList<>();
        while (requests.size() < size) {
            if (random.nextInt(10) == 0) {
                int links = 2 + random.nextInt(3);
                for (int k = 0; k < links; k++) {
                    TransferRequest request = operation(model);
                    requests.add(k < links - 1 ? request.linkedToNext() : request);
                }
            } else {
                requests.add(operation(model));
            }
        }
        return requests;
    }

    private TransferRequest operation(LedgerModel model) {
        Address token = random.nextInt(5) == 0 ? EURC : USDC;
        AccountKey a = AccountKey.user(pick(users), token);
        AccountKey b = AccountKey.user(pick(users), token);
        int dice = random.nextInt(100);
        if (dice < 14) {
            BigInteger units = random.nextInt(50) == 0
                    ? Amount.MAX_UINT256.shiftRight(4 + random.nextInt(8))
                    : BigInteger.valueOf(1 + random.nextInt(1_000_000));
            return TransferRequest.single(id(), AccountKey.custody(token), a, Amount.of(units));
        }
        if (dice < 40) {
            return TransferRequest.single(id(), a, b, spend(model, a));
        }
        if (dice < 50) {
            AccountKey payee = random.nextInt(3) == 0 ? AccountKey.escrow(token) : b;
            return TransferRequest.hold(id(), a, payee, spend(model, a), 1 + random.nextInt(120));
        }
        if (dice < 62) {
            TransferId hold = pendingToResolve(model);
            if (random.nextBoolean()) {
                return TransferRequest.postFull(id(), hold);
            }
            return TransferRequest.post(id(), hold, Amount.of(1 + random.nextInt(400_000)));
        }
        if (dice < 68) {
            return TransferRequest.voidPending(id(), pendingToResolve(model));
        }
        if (dice < 74) {
            return TransferRequest.single(id(), a, AccountKey.payouts(token), spend(model, a));
        }
        if (dice < 78) {
            AccountKey payouts = AccountKey.payouts(token);
            return TransferRequest.single(id(), payouts, AccountKey.custody(token), spend(model, payouts));
        }
        if (dice < 82) {
            return TransferRequest.single(id(), a, AccountKey.fees(token), spend(model, a))
                    .withReference("fee-" + random.nextInt(100));
        }
        if (dice < 90) {
            return replay(model, a, b);
        }
        return invalid(a, b);
    }

    private TransferRequest replay(LedgerModel model, AccountKey a, AccountKey b) {
        List<TransferId> ids = model.committedIds();
        if (ids.isEmpty()) {
            return TransferRequest.single(id(), a, b, Amount.of(1));
        }
        ids.sort(null);
        TransferId old = pick(ids);
        LedgerModel.Content content = model.content(old);
        boolean same = random.nextBoolean();
        TransferRequest request = switch (content.kind()) {
            case SINGLE -> TransferRequest.single(old, content.debit(), content.credit(), Amount.of(content.amount()));
            case PENDING -> TransferRequest.hold(old, content.debit(), content.credit(), Amount.of(content.amount()),
                    content.timeoutSeconds());
            case POST -> TransferRequest.post(old, content.pendingId(), Amount.of(content.amount()));
            case VOID, EXPIRE -> TransferRequest.voidPending(old, content.pendingId());
        };
        request = request.withReference(content.reference());
        return same ? request : request.withReference("changed");
    }

    /**
     * A hostile client (issue 10): ids in the reserved namespace (as an expiry, deposit or payout
     * would have), control characters, the zero address, amounts past the vault's cap.
     */
    private TransferRequest hostile(AccountKey a, AccountKey b) {
        Address zero = Address.of("0x" + "0".repeat(40));
        TransferId.Domain[] domains = TransferId.Domain.values();
        return switch (random.nextInt(7)) {
            case 0 -> TransferRequest.single(TransferId.reserved(pick(List.of(domains)), random.nextInt(1_000)), a, b,
                    Amount.of(1));
            case 1 -> TransferRequest.voidPending(id(), TransferId.reserved(TransferId.Domain.EXPIRE, random.nextInt(50)));
            case 2 -> TransferRequest.single(id(), a, b, Amount.of(1)).withReference(
                    "x" + (char) random.nextInt(0x20) + "y");
            case 3 -> TransferRequest.single(id(), a, AccountKey.user(zero, a.token()), Amount.of(1));
            case 4 -> TransferRequest.single(id(), AccountKey.custody(a.token()), a,
                    Amount.of(LedgerModel.CAP.add(BigInteger.valueOf(random.nextInt(3)))));
            case 5 -> TransferRequest.single(id(), a, b, Amount.of(LedgerModel.CAP.shiftLeft(1 + random.nextInt(100))));
            default -> TransferRequest.hold(id(), a, b, Amount.of(1), 10).withReference("\u0000");
        };
    }

    private TransferRequest invalid(AccountKey a, AccountKey b) {
        if (random.nextInt(3) == 0) {
            return hostile(a, b);
        }
        return switch (random.nextInt(5)) {
            case 0 -> TransferRequest.single(id(), a, b, Amount.ZERO);
            case 1 -> TransferRequest.single(id(), a, a, Amount.of(1));
            case 2 -> TransferRequest.single(id(), a, AccountKey.user(b.owner(), a.token().equals(USDC) ? EURC : USDC),
                    Amount.of(1));
            case 3 -> TransferRequest.single(id(), AccountKey.custody(UNREGISTERED),
                    AccountKey.user(a.owner(), UNREGISTERED), Amount.of(1));
            default -> TransferRequest.hold(id(), a, b, Amount.of(1), MAX_TIMEOUT_SECONDS + 1);
        };
    }

    /** Mostly affordable amounts, sometimes a little more than the account has. */
    private Amount spend(LedgerModel model, AccountKey key) {
        BigInteger available = model.totals(key).available().max(BigInteger.ZERO);
        if (available.signum() == 0 || random.nextInt(8) == 0) {
            return Amount.of(available.add(BigInteger.valueOf(1 + random.nextInt(1_000))));
        }
        BigInteger share = available.multiply(BigInteger.valueOf(1 + random.nextInt(60))).divide(BigInteger.valueOf(100));
        return Amount.of(share.max(BigInteger.ONE));
    }

    private TransferId pendingToResolve(LedgerModel model) {
        List<TransferId> open = model.openHoldIds();
        if (!open.isEmpty() && random.nextInt(4) != 0) {
            open.sort(null);
            return pick(open);
        }
        List<TransferId> all = model.holdIds();
        if (all.isEmpty() || random.nextInt(5) == 0) {
            return id();
        }
        all.sort(null);
        return pick(all);
    }

    private TransferId id() {
        return new TransferId(0x5EED, nextId++);
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
