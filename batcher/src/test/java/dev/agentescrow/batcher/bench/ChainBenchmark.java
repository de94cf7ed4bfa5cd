package dev.agentescrow.batcher.bench;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.BatchPlanner;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Settled transfers per second on a local Hardhat node: individual web3j ERC-20 {@code transfer}s
 * (concurrent senders, several threads per key, every receipt awaited, nonce errors counted)
 * against micropayments settled through the vault in netted batches ({@link BatchPlanner},
 * {@link NettedBatch}), once with the default trigger of 100 transfers per batch and once with the
 * largest batches the planner allows.
 *
 * <p>Batches are sent the way the settlement submitter sends them: signed at a known nonce by
 * {@code SettlementVaultGateway.prepareSettleBatch} (gas estimate and price in one JSON-RPC batch),
 * then {@code ChainClient.broadcastAndPoll} (the send and the first receipt poll in one batch),
 * one batch after the other. For comparison the default trigger also runs through the generated
 * web3j wrapper's {@code send()}, the path of the individual transfers (estimate, gas price, send
 * and receipt polls as four round trips). After each settlement run every agent's settled balance
 * on chain must equal its deposit plus its nets, or the benchmark fails.
 */
public final class ChainBenchmark {
    private static final int ADMIN = 0;
    private static final int OPERATOR = 1;
    private static final int FIRST_SENDER = 2;
    private static final Amount SENDER_FUNDS = Amount.tokens(1_000_000, Deployer.TEST_TOKEN_DECIMALS);
    private static final Amount AGENT_DEPOSIT = Amount.tokens(1_000, Deployer.TEST_TOKEN_DECIMALS);
    private static final int MAX_MICROPAYMENT = 1_000;

    private ChainBenchmark() {
    }

    /**
     * What to run.
     *
     * @param senderKeys distinct keys sending individual transfers (dev accounts 2, 3, ...)
     * @param threadsPerKey concurrent sender threads per key, all sharing that key's nonce sequence
     * @param maxSends individual transfers to send at most
     * @param sendTimeLimit time after which no further individual transfer starts
     * @param agents accounts (dev accounts 0, 1, ...) that deposit into the vault and pay each other
     * @param transfers micropayments per settlement run
     * @param transfersPerBatch the batch trigger of the first settlement run, the reported one
     * @param otherTriggers batch triggers of further runs, to show how the rate grows with the batch
     * @param seed seed of the micropayments
     */
    public record Config(int senderKeys, int threadsPerKey, int maxSends, Duration sendTimeLimit, int agents,
                         int transfers, int transfersPerBatch, List<Integer> otherTriggers, long seed) {
        public Config {
            otherTriggers = List.copyOf(otherTriggers);
            if (senderKeys < 1 || FIRST_SENDER + senderKeys > DevAccounts.FUNDED_ACCOUNTS) {
                throw new IllegalArgumentException("senderKeys must be in [1, " + (DevAccounts.FUNDED_ACCOUNTS
                        - FIRST_SENDER) + "]: " + senderKeys);
            }
            if (agents < 2 || agents > DevAccounts.FUNDED_ACCOUNTS) {
                throw new IllegalArgumentException("agents must be in [2, " + DevAccounts.FUNDED_ACCOUNTS + "]: "
                        + agents);
            }
            if (threadsPerKey < 1 || maxSends < 1 || transfers < 1 || transfersPerBatch < 1) {
                throw new IllegalArgumentException("counts must be positive: " + threadsPerKey + ", " + maxSends
                        + ", " + transfers + ", " + transfersPerBatch);
            }
        }

        /** The scripted run: 8 keys x 2 threads, 400 sends or 60 s; 20 agents, 10,000 micropayments. */
        public static Config full() {
            return new Config(8, 2, 400, Duration.ofSeconds(60), 20, 10_000, 100, List.of(1_000), 20261122L);
        }

        /** A smoke run of a few seconds. */
        public static Config quick() {
            return new Config(4, 2, 40, Duration.ofSeconds(20), 20, 1_000, 100, List.of(), 20261122L);
        }
    }

    /** Individual ERC-20 sends: {@code confirmed} mined transfers in {@code seconds}, {@code gasUsed} in all. */
    public record Sends(int keys, int threads, long confirmed, long nonceErrors, long gasUsed, double seconds) {
        public double tps() {
            return confirmed / seconds;
        }
    }

    /** How batches reach the node. */
    public enum SendPath {
        /** Prepared at a known nonce, then broadcast with the first receipt poll: two round trips. */
        SUBMITTER,
        /** The generated wrapper's {@code send()}, as the individual transfers: four round trips. */
        WRAPPER
    }

    /**
     * One settlement run: {@code transfers} micropayments settled in {@code batches} batches;
     * {@code receiptsWithBroadcast} of them had their receipt in the broadcast's own round trip
     * (submitter path only; the node runs a batch's calls concurrently, so not always).
     */
    public record Settlement(String policy, SendPath path, long transfers, int batches, int maxEntries, long gasUsed,
                             int receiptsWithBroadcast, double planSeconds, double seconds) {
        public double tps() {
            return transfers / seconds;
        }
    }

    /**
     * Individual sends, settlement with the default trigger, with the other triggers in their
     * order, and with the largest batches the planner allows.
     */
    public record Result(Sends sends, Settlement defaultTrigger, Settlement defaultTriggerViaWrapper,
                         List<Settlement> otherTriggers, Settlement largestBatches) {
        /** Batched settlement (default trigger) over individual sends. */
        public double ratio() {
            return defaultTrigger.tps() / sends.tps();
        }
    }

    /** Starts a Hardhat node in {@code contractsDir}, runs both measurements and stops the node. */
    public static Result run(Path contractsDir, Config config) {
        try (HardhatNode node = HardhatNode.start(contractsDir);
             ChainClient client = ChainClient.connect(ChainSettings.local(node.rpcUrl()))) {
            Signer admin = client.signer(DevAccounts.account(ADMIN));
            Signer operator = client.signer(DevAccounts.account(OPERATOR));
            Deployment deployment = Deployer.deployWithTestToken(client, admin, new Deployer.Plan(admin.address(),
                    operator.address(), admin.address(), BasisPoints.of(0), Duration.ofDays(7)));
            Erc20Token token = deployment.token(client);
            SettlementVaultGateway vault = deployment.vault(client);

            Sends sends = individualSends(client, admin, token, config);
            List<Signer> agents = new ArrayList<>();
            for (int i = 0; i < config.agents(); i++) {
                agents.add(client.signer(DevAccounts.account(i)));
            }
            Map<Address, BigInteger> model = deposit(admin, token, vault, agents);
            String defaultPolicy = "N=" + config.transfersPerBatch();
            // The wrapper's transaction manager counts the operator's nonces itself, so its run
            // comes first; the submitter path reads the node's pending nonce at the start of each run.
            Settlement viaWrapper = settle(client, vault, operator, token, agents, model, config, defaultPolicy,
                    new BatchPlanner(config.transfersPerBatch()), SendPath.WRAPPER, 2);
            Settlement perTrigger = settle(client, vault, operator, token, agents, model, config, defaultPolicy,
                    new BatchPlanner(config.transfersPerBatch()), SendPath.SUBMITTER, 1);
            List<Settlement> others = new ArrayList<>();
            int run = 3;
            for (int trigger : config.otherTriggers()) {
                others.add(settle(client, vault, operator, token, agents, model, config, "N=" + trigger,
                        new BatchPlanner(trigger), SendPath.SUBMITTER, run++));
            }
            Settlement largest = settle(client, vault, operator, token, agents, model, config,
                    "largest", BatchPlanner.withDefaults(), SendPath.SUBMITTER, run);
            return new Result(sends, perTrigger, viaWrapper, others, largest);
        }
    }

    // ------------------------------------------------------------------ individual sends

    private static Sends individualSends(ChainClient client, Signer admin, Erc20Token token, Config config) {
        List<Signer> senders = new ArrayList<>();
        for (int k = 0; k < config.senderKeys(); k++) {
            Signer sender = client.signer(DevAccounts.account(FIRST_SENDER + k));
            token.mint(admin, sender.address(), SENDER_FUNDS);
            senders.add(sender);
        }
        int threads = config.senderKeys() * config.threadsPerKey();
        List<Address> recipients = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            recipients.add(Address.of(String.format(Locale.ROOT, "0x%040x", 0xD000 + t)));
        }
        AtomicInteger next = new AtomicInteger();
        AtomicLong confirmed = new AtomicLong();
        AtomicLong nonceErrors = new AtomicLong();
        AtomicLong gas = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + config.sendTimeLimit().toNanos();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Signer sender = senders.get(t % senders.size());
                Address recipient = recipients.get(t);
                futures.add(pool.submit(() -> {
                    while (next.getAndIncrement() < config.maxSends() && System.nanoTime() < deadline) {
                        try {
                            Receipt receipt = token.transfer(sender, recipient, Amount.of(1));
                            gas.addAndGet(receipt.gasUsed());
                            confirmed.incrementAndGet();
                        } catch (ChainException e) {
                            if (!isNonceError(e)) {
                                throw e;
                            }
                            nonceErrors.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            awaitAll(futures);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        BigInteger received = BigInteger.ZERO;
        for (Address recipient : recipients) {
            received = received.add(token.balanceOf(recipient).baseUnits());
        }
        if (!received.equals(BigInteger.valueOf(confirmed.get()))) {
            throw new IllegalStateException("recipients hold " + received + " base units after " + confirmed.get()
                    + " confirmed transfers of 1");
        }
        return new Sends(config.senderKeys(), threads, confirmed.get(), nonceErrors.get(), gas.get(), seconds);
    }

    /** Whether a failed send was refused for its nonce (reused, skipped, or a replacement of a pending one). */
    static boolean isNonceError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (message.contains("nonce") || message.contains("already known")
                    || message.contains("replacement transaction underpriced")
                    || message.contains("replacement underpriced")) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ batched settlement

    /** Every agent deposits {@link #AGENT_DEPOSIT} (setup, not timed); returns the settled-balance model. */
    private static Map<Address, BigInteger> deposit(Signer admin, Erc20Token token, SettlementVaultGateway vault,
                                                    List<Signer> agents) {
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, agents.size()))) {
            List<Future<?>> futures = new ArrayList<>();
            for (Signer agent : agents) {
                futures.add(pool.submit(() -> {
                    token.mint(admin, agent.address(), AGENT_DEPOSIT);
                    return vault.deposit(agent, token.address(), AGENT_DEPOSIT);
                }));
            }
            awaitAll(futures);
        }
        Map<Address, BigInteger> model = new HashMap<>();
        for (Signer agent : agents) {
            model.put(agent.address(), AGENT_DEPOSIT.baseUnits());
        }
        verify(vault, token, model, "after the deposits");
        return model;
    }

    private static Settlement settle(ChainClient client, SettlementVaultGateway vault, Signer operator,
                                     Erc20Token token, List<Signer> agents, Map<Address, BigInteger> model,
                                     Config config, String policy, BatchPlanner planner, SendPath path, int run) {
        List<SettlementMovement> movements = micropayments(token.address(), agents, config.transfers(),
                config.seed() + run, run);
        long firstBatchId = vault.lastBatchId() + 1;

        long start = System.nanoTime();
        List<NettedBatch> batches = planner.plan(firstBatchId, movements);
        long planned = System.nanoTime();
        long gas = 0;
        int receiptsWithBroadcast = 0;
        long nonce = path == SendPath.SUBMITTER ? client.pendingNonce(operator.address()) : -1;
        for (NettedBatch batch : batches) {
            switch (path) {
                case SUBMITTER -> {
                    Submitted submitted = submit(client, vault, operator, batch, nonce++);
                    gas += submitted.receipt().gasUsed();
                    receiptsWithBroadcast += submitted.receiptWithBroadcast() ? 1 : 0;
                }
                case WRAPPER -> gas += vault.settleBatch(operator, batch.settlementBatch()).gasUsed();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        for (SettlementMovement movement : movements) {
            SettlementMovement.Transfer transfer = (SettlementMovement.Transfer) movement;
            model.merge(transfer.from(), transfer.amount().baseUnits().negate(), BigInteger::add);
            model.merge(transfer.to(), transfer.amount().baseUnits(), BigInteger::add);
        }
        long lastBatchId = vault.lastBatchId();
        if (lastBatchId != batches.getLast().batchId()) {
            throw new IllegalStateException(policy + ": the vault's last batch is " + lastBatchId + ", expected "
                    + batches.getLast().batchId());
        }
        verify(vault, token, model, "after the " + policy + " run");
        int maxEntries = batches.stream().mapToInt(NettedBatch::entryCount).max().orElse(0);
        return new Settlement(policy, path, movements.size(), batches.size(), maxEntries, gas, receiptsWithBroadcast,
                (planned - start) / 1e9, seconds);
    }

    /** A batch's successful receipt, and whether it came with the broadcast. */
    private record Submitted(MinedReceipt receipt, boolean receiptWithBroadcast) {
    }

    /** Signs {@code batch} at {@code nonce}, broadcasts it and returns its successful receipt. */
    private static Submitted submit(ChainClient client, SettlementVaultGateway vault, Signer operator,
                                    NettedBatch batch, long nonce) {
        PreparedTransaction prepared = vault.prepareSettleBatch(operator, batch.settlementBatch(), nonce);
        ChainClient.Broadcast sent = client.broadcastAndPoll(prepared);
        if (sent.outcome() != ChainClient.BroadcastOutcome.ACCEPTED) {
            throw new IllegalStateException("batch " + batch.batchId() + ": " + sent.outcome());
        }
        MinedReceipt receipt = sent.receipt().or(() -> client.receipt(prepared.txHash()))
                .orElseThrow(() -> new IllegalStateException("batch " + batch.batchId() + " was not mined"));
        if (!receipt.succeeded()) {
            throw new IllegalStateException("batch " + batch.batchId() + " failed: " + receipt);
        }
        return new Submitted(receipt, sent.receipt().isPresent());
    }

    /** {@code count} seeded micropayments of 1..{@link #MAX_MICROPAYMENT} base units between distinct agents. */
    private static List<SettlementMovement> micropayments(Address token, List<Signer> agents, int count, long seed,
                                                          int run) {
        Random random = new Random(seed);
        List<SettlementMovement> movements = new ArrayList<>(count);
        BigInteger idBase = BigInteger.valueOf(run).shiftLeft(64);
        for (int i = 0; i < count; i++) {
            int from = random.nextInt(agents.size());
            int to = (from + 1 + random.nextInt(agents.size() - 1)) % agents.size();
            movements.add(new SettlementMovement.Transfer(TransferId.of(idBase.add(BigInteger.valueOf(i))),
                    token, agents.get(from).address(), agents.get(to).address(),
                    Amount.of(1 + random.nextInt(MAX_MICROPAYMENT))));
        }
        return movements;
    }

    /** Every agent's settled balance on chain equals the model, and the vault holds exactly their sum. */
    private static void verify(SettlementVaultGateway vault, Erc20Token token, Map<Address, BigInteger> model,
                               String when) {
        BigInteger total = BigInteger.ZERO;
        for (Map.Entry<Address, BigInteger> expected : model.entrySet()) {
            BigInteger settled = vault.settledBalance(token.address(), expected.getKey()).baseUnits();
            if (!settled.equals(expected.getValue())) {
                throw new IllegalStateException("settled balance of " + expected.getKey() + " " + when + " is "
                        + settled + ", expected deposit plus nets " + expected.getValue());
            }
            total = total.add(settled);
        }
        BigInteger held = token.balanceOf(vault.address()).baseUnits();
        if (!held.equals(total)) {
            throw new IllegalStateException("vault holds " + held + " " + when + ", settled balances sum to " + total);
        }
    }

    private static void awaitAll(List<Future<?>> futures) {
        for (Future<?> future : futures) {
            try {
                future.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
    }
}
