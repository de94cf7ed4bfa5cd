package dev.agentescrow.backend.gateway;

import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.VaultDeposit;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.DynamicBytes;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes1;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Bytes4;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.utils.Numeric;

/**
 * The one place the service reads the chain itself (the batcher does the rest): token metadata and
 * EIP-2612 domains, the vault's settled balances, deposits, proofs checked by the vault, ERC-1271
 * signatures, and the local faucet.
 */
@Component
public class ChainGateway {
    /** Blocks per log query when scanning for deposits. */
    private static final long LOG_WINDOW_BLOCKS = 2_000;
    /** The ERC-1271 magic value {@code 0x1626ba7e} as the ABI word it is returned in (left-aligned, zero-padded). */
    /**
     * The gas an ERC-1271 {@code isValidSignature} call may use: a multi-owner or passkey wallet
     * needs tens to hundreds of thousands; more is refused (the signature is then not valid).
     */
    static final java.math.BigInteger ERC1271_GAS = java.math.BigInteger.valueOf(2_000_000);

    private static final byte[] ERC1271_MAGIC_WORD = Arrays.copyOf(new byte[] {0x16, 0x26, (byte) 0xba, 0x7e}, 32);

    private final ChainClient client;
    private final SettlementVaultGateway vault;
    private final ChainDeployment deployment;
    private final long vaultDeploymentBlock;

    public ChainGateway(ChainClient client, ChainDeployment deployment,
                        dev.agentescrow.backend.config.BackendProperties properties) {
        this.client = client;
        this.deployment = deployment;
        this.vault = new SettlementVaultGateway(client, deployment.vault());
        this.vaultDeploymentBlock = properties.vaultDeploymentBlock();
    }

    public Address vault() {
        return deployment.vault();
    }

    public long chainId() {
        return client.chainId();
    }

    public long blockNumber() {
        return client.blockNumber();
    }

    /** The token's {@code symbol()} and {@code decimals()}. */
    public TokenMetadata metadata(Address token) {
        String symbol = (String) call(token, new Function("symbol", List.of(),
                List.of(new TypeReference<Utf8String>() { }))).getFirst().getValue();
        BigInteger decimals = (BigInteger) call(token, new Function("decimals", List.of(),
                List.of(new TypeReference<Uint8>() { }))).getFirst().getValue();
        return new TokenMetadata(symbol, decimals.intValueExact());
    }

    public record TokenMetadata(String symbol, int decimals) {
    }

    /**
     * The token's EIP-712 domain (from ERC-5267 {@code eip712Domain()}) as typed-data fields, in
     * the order of the EIP712Domain type, and the EIP712Domain type itself.
     */
    public PermitDomain permitDomain(Address token) {
        List<Type> fields = call(token, new Function("eip712Domain", List.of(), List.of(
                new TypeReference<Bytes1>() { }, new TypeReference<Utf8String>() { },
                new TypeReference<Utf8String>() { }, new TypeReference<Uint256>() { },
                new TypeReference<org.web3j.abi.datatypes.Address>() { },
                new TypeReference<Bytes32>() { },
                new TypeReference<org.web3j.abi.datatypes.DynamicArray<Uint256>>() { })));
        int present = ((byte[]) fields.get(0).getValue())[0];
        Map<String, Object> domain = new LinkedHashMap<>();
        List<Map<String, String>> type = new ArrayList<>();
        if ((present & 0x01) != 0) {
            domain.put("name", fields.get(1).getValue());
            type.add(Map.of("name", "name", "type", "string"));
        }
        if ((present & 0x02) != 0) {
            domain.put("version", fields.get(2).getValue());
            type.add(Map.of("name", "version", "type", "string"));
        }
        if ((present & 0x04) != 0) {
            domain.put("chainId", fields.get(3).getValue().toString());
            type.add(Map.of("name", "chainId", "type", "uint256"));
        }
        if ((present & 0x08) != 0) {
            domain.put("verifyingContract", Address.of((String) fields.get(4).getValue()).checksummed());
            type.add(Map.of("name", "verifyingContract", "type", "address"));
        }
        if ((present & 0x10) != 0) {
            domain.put("salt", new dev.agentescrow.chain.Bytes32((byte[]) fields.get(5).getValue()).hex());
            type.add(Map.of("name", "salt", "type", "bytes32"));
        }
        return new PermitDomain(domain, type);
    }

    public record PermitDomain(Map<String, Object> domain, List<Map<String, String>> type) {
    }

    /** The token's EIP-2612 {@code nonces(owner)}. */
    public BigInteger permitNonce(Address token, Address owner) {
        return (BigInteger) call(token, new Function("nonces",
                List.of(new org.web3j.abi.datatypes.Address(owner.hex())),
                List.of(new TypeReference<Uint256>() { }))).getFirst().getValue();
    }

    public Amount tokenBalance(Address token, Address holder) {
        return new Erc20Token(client, token).balanceOf(holder);
    }

    public Amount settledBalance(Address token, Address account) {
        return vault.settledBalance(token, account);
    }

    /** {@code account}'s settled balance in the vault as of block {@code block} (exact for that block). */
    public Amount settledBalanceAt(Address token, Address account, long block) {
        Function settledBalance = new Function("settledBalance", List.of(
                new org.web3j.abi.datatypes.Address(token.hex()), new org.web3j.abi.datatypes.Address(account.hex())),
                List.of(new TypeReference<Uint256>() { }));
        return Amount.of((BigInteger) call(deployment.vault(), settledBalance,
                DefaultBlockParameter.valueOf(BigInteger.valueOf(block))).getFirst().getValue());
    }

    public Amount pendingPayout(Address token, Address recipient) {
        return vault.pendingPayout(token, recipient);
    }

    /** Whether the vault itself accepts the proof ({@code verifyTransfer}). */
    public boolean verifyOnChain(InclusionProof proof) {
        var leaf = proof.leaf();
        return vault.verifyTransfer(proof.batchId(), proof.proof(), leaf.transferId().toBytes32(), leaf.token(),
                leaf.from(), leaf.to(), leaf.amount());
    }

    /** The vault's {@code Deposited} events in blocks [from, to], scanned in windows. */
    public List<VaultDeposit> depositsBetween(long fromBlock, long toBlock) {
        List<VaultDeposit> all = new ArrayList<>();
        for (long from = Math.max(fromBlock, vaultDeploymentBlock); from <= toBlock; from += LOG_WINDOW_BLOCKS) {
            all.addAll(vault.depositsBetween(from, Math.min(toBlock, from + LOG_WINDOW_BLOCKS - 1)));
        }
        return all;
    }

    /** Mints test tokens (the signer must own the test token): the local faucet. */
    public Receipt mint(Credentials owner, Address token, Address to, Amount amount) {
        return new Erc20Token(client, token).mint(client.signer(owner), to, amount);
    }

    /** Whether {@code wallet} is a contract (has code). */
    public boolean isContract(Address wallet) {
        try {
            String code = client.web3j().ethGetCode(wallet.hex(), DefaultBlockParameterName.LATEST).send().getCode();
            return code != null && code.length() > 2;
        } catch (IOException e) {
            throw new ChainException("cannot read the code of " + wallet, e);
        }
    }

    /**
     * ERC-1271: whether contract wallet {@code wallet} accepts {@code signature} over {@code hash}. The
     * answer must be one ABI word holding the magic value, as Solidity's decoder and OpenZeppelin's
     * {@code SignatureChecker} require: a revert, an error, a shorter answer (which web3j's decoder
     * met with a StringIndexOutOfBoundsException, a 500 at login) or another word is a refusal.
     */
    public boolean isValidContractSignature(Address wallet, byte[] hash, byte[] signature) {
        Function isValid = new Function("isValidSignature", List.of(new Bytes32(hash), new DynamicBytes(signature)),
                List.of(new TypeReference<Bytes4>() { }));
        try {
            // capped: the login that asks is unauthenticated, and a wallet whose check loops would
            // otherwise burn the node's whole call gas on every attempt
            EthCall response = client.web3j().ethCall(new Transaction(null, null, null, ERC1271_GAS, wallet.hex(),
                    null, FunctionEncoder.encode(isValid)), DefaultBlockParameterName.LATEST).send();
            if (response.hasError() || response.isReverted() || response.getValue() == null) {
                return false;
            }
            byte[] answer = Numeric.hexStringToByteArray(response.getValue());
            return answer.length >= ERC1271_MAGIC_WORD.length
                    && Arrays.equals(answer, 0, ERC1271_MAGIC_WORD.length, ERC1271_MAGIC_WORD, 0, ERC1271_MAGIC_WORD.length);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @SuppressWarnings("rawtypes")
    private List<Type> call(Address to, Function function) {
        return call(to, function, DefaultBlockParameterName.LATEST);
    }

    @SuppressWarnings("rawtypes")
    private List<Type> call(Address to, Function function, DefaultBlockParameter block) {
        try {
            EthCall response = client.web3j().ethCall(Transaction.createEthCallTransaction(null, to.hex(),
                    FunctionEncoder.encode(function)), block).send();
            if (response.hasError() || response.isReverted()) {
                throw new ChainException(function.getName() + " on " + to + " failed: "
                        + (response.hasError() ? response.getError().getMessage() : response.getRevertReason()));
            }
            List<Type> decoded = FunctionReturnDecoder.decode(response.getValue(), function.getOutputParameters());
            if (decoded.isEmpty()) {
                throw new ChainException(function.getName() + " on " + to + " returned nothing");
            }
            return decoded;
        } catch (IOException e) {
            throw new ChainException("cannot call " + function.getName() + " on " + to, e);
        }
    }
}
