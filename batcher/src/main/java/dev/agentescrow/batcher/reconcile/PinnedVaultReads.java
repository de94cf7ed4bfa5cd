package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.protocol.core.BatchRequest;
import org.web3j.protocol.core.BatchResponse;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;

/**
 * The reconciler's chain reads, all pinned to one block and sent as JSON-RPC batches of
 * {@value #CHUNK} {@code eth_call}s (issue 10, F6): balances read at different heights could
 * disagree with each other although the books are right, and one round trip per account would
 * make a run slow for many accounts.
 */
public final class PinnedVaultReads {
    static final int CHUNK = 200;

    private final ChainClient client;
    private final Address vault;
    private final DefaultBlockParameter block;

    public PinnedVaultReads(ChainClient client, Address vault, long blockNumber) {
        this.client = Objects.requireNonNull(client, "client");
        this.vault = Objects.requireNonNull(vault, "vault");
        this.block = DefaultBlockParameter.valueOf(BigInteger.valueOf(blockNumber));
    }

    /** The vault's settled balance of each account in {@code token}, in order. */
    public List<BigInteger> settledBalances(Address token, List<Address> accounts) {
        return uints(vault, accounts.stream().map(account -> function("settledBalance", token, account)).toList());
    }

    /** The vault's pending payout of each recipient in {@code token}, in order. */
    List<BigInteger> pendingPayouts(Address token, List<Address> recipients) {
        return uints(vault, recipients.stream().map(recipient -> function("pendingPayout", token, recipient)).toList());
    }

    /** The vault's accounted custody of {@code token}: {@code custody(token)}. */
    BigInteger custody(Address token) {
        return uints(vault, List.of(function("custody", token))).getFirst();
    }

    /** {@code token.balanceOf(vault)}. */
    BigInteger tokenBalance(Address token) {
        return uints(token, List.of(function("balanceOf", vault))).getFirst();
    }

    /** The vault's registered accounts by id, 1, 2, ... up to the first empty id (at most {@code max}). */
    List<Address> registeredAccounts(int max) {
        List<Address> accounts = new ArrayList<>();
        for (long from = 1; from <= max; from += CHUNK) {
            List<Function> calls = new ArrayList<>();
            for (long id = from; id < from + CHUNK && id <= max; id++) {
                calls.add(new Function("accountOf", List.of(new org.web3j.abi.datatypes.generated.Uint32(id)),
                        List.of(new TypeReference<org.web3j.abi.datatypes.Address>() { })));
            }
            for (String result : call(vault, calls)) {
                String hex = result == null || result.length() < 66 ? "0x" : result;
                BigInteger value = hex.equals("0x") ? BigInteger.ZERO : new BigInteger(hex.substring(2), 16);
                if (value.signum() == 0) {
                    return accounts;
                }
                accounts.add(Address.of(String.format("0x%040x", value)));
            }
        }
        throw new IllegalStateException("the vault has more than " + max + " accounts; reconcile in parts");
    }

    private static Function function(String name, Address... arguments) {
        List<Type> inputs = new ArrayList<>();
        for (Address argument : arguments) {
            inputs.add(new org.web3j.abi.datatypes.Address(argument.hex()));
        }
        return new Function(name, inputs, List.of(new TypeReference<Uint256>() { }));
    }

    private List<BigInteger> uints(Address to, List<Function> functions) {
        List<BigInteger> values = new ArrayList<>(functions.size());
        for (int from = 0; from < functions.size(); from += CHUNK) {
            List<Function> chunk = functions.subList(from, Math.min(functions.size(), from + CHUNK));
            List<String> results = call(to, chunk);
            for (int i = 0; i < chunk.size(); i++) {
                @SuppressWarnings("rawtypes")
                List<Type> decoded = FunctionReturnDecoder.decode(results.get(i), chunk.get(i).getOutputParameters());
                if (decoded.isEmpty()) {
                    throw new ChainException(chunk.get(i).getName() + " returned nothing at block "
                            + block.getValue());
                }
                values.add((BigInteger) decoded.getFirst().getValue());
            }
        }
        return values;
    }

    /** One JSON-RPC batch of {@code eth_call}s at the pinned block; the raw results in order. */
    private List<String> call(Address to, List<Function> functions) {
        BatchRequest batch = client.web3j().newBatch();
        java.util.Map<Long, Integer> positions = new java.util.HashMap<>();
        for (Function function : functions) {
            var request = client.web3j().ethCall(Transaction.createEthCallTransaction(null, to.hex(),
                    FunctionEncoder.encode(function)), block);
            positions.put(request.getId(), positions.size());
            batch.add(request);
        }
        BatchResponse response;
        try {
            response = batch.send();
        } catch (IOException e) {
            throw new ChainException("batched eth_call failed: " + e.getMessage(), e);
        }
        String[] results = new String[functions.size()];
        for (Response<?> answer : response.getResponses()) {
            if (answer.hasError()) {
                throw new ChainException("eth_call failed: " + answer.getError().getMessage());
            }
            Integer position = positions.get(answer.getId());
            if (position == null) {
                throw new ChainException("batched eth_call answered an id it was not asked: " + answer.getId());
            }
            results[position] = ((EthCall) answer).getValue();
        }
        for (String result : results) {
            if (result == null) {
                throw new ChainException("batched eth_call left a call unanswered");
            }
        }
        return List.of(results);
    }
}
