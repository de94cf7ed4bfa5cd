package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.Signer;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes1;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;

/**
 * Signs EIP-2612 permits in Java. The token's EIP-712 domain comes from its EIP-5267
 * {@code eip712Domain()} (OpenZeppelin's ERC20Permit has it), the nonce from {@code nonces(owner)}.
 */
final class PermitSigner {
    /** An ECDSA signature split as {@code permit} takes it. */
    record PermitSignature(BigInteger v, byte[] r, byte[] s) {
    }

    private final ChainClient client;

    PermitSigner(ChainClient client) {
        this.client = client;
    }

    PermitSignature sign(Signer owner, Address token, Address spender, Amount value, Instant deadline) {
        List<Type> domain = call(token, new Function("eip712Domain", List.of(), List.of(
                new TypeReference<Bytes1>() { }, new TypeReference<Utf8String>() { },
                new TypeReference<Utf8String>() { }, new TypeReference<Uint256>() { },
                new TypeReference<org.web3j.abi.datatypes.Address>() { }, new TypeReference<Bytes32>() { },
                new TypeReference<DynamicArray<Uint256>>() { })));
        List<Type> nonce = call(token, new Function("nonces",
                List.of(new org.web3j.abi.datatypes.Address(owner.address().hex())),
                List.of(new TypeReference<Uint256>() { })));
        String json = """
                {"types":{
                  "EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
                    {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
                  "Permit":[{"name":"owner","type":"address"},{"name":"spender","type":"address"},
                    {"name":"value","type":"uint256"},{"name":"nonce","type":"uint256"},
                    {"name":"deadline","type":"uint256"}]},
                 "primaryType":"Permit",
                 "domain":{"name":%s,"version":%s,"chainId":"%s","verifyingContract":"%s"},
                 "message":{"owner":"%s","spender":"%s","value":"%s","nonce":"%s","deadline":"%s"}}
                """.formatted(jsonString((String) domain.get(1).getValue()), jsonString((String) domain.get(2).getValue()),
                domain.get(3).getValue(), domain.get(4).getValue(), owner.address().hex(), spender.hex(),
                value.baseUnits(), nonce.get(0).getValue(), deadline.getEpochSecond());
        try {
            byte[] digest = new StructuredDataEncoder(json).hashStructuredData();
            Sign.SignatureData signature = Sign.signMessage(digest, owner.credentials().getEcKeyPair(), false);
            return new PermitSignature(new BigInteger(1, signature.getV()), signature.getR(), signature.getS());
        } catch (IOException e) {
            throw new ChainException("cannot encode the permit of " + token, e);
        }
    }

    @SuppressWarnings("rawtypes")
    private List<Type> call(Address contract, Function function) {
        try {
            EthCall result = client.web3j().ethCall(Transaction.createEthCallTransaction(Address.ZERO.hex(),
                    contract.hex(), FunctionEncoder.encode(function)), DefaultBlockParameterName.LATEST).send();
            if (result.hasError() || result.isReverted()) {
                throw new ChainException(function.getName() + " failed on " + contract + ": "
                        + result.getRevertReason());
            }
            List<Type> values = FunctionReturnDecoder.decode(result.getValue(), function.getOutputParameters());
            if (values.isEmpty()) {
                throw new ChainException(contract + " has no " + function.getName() + "(): not an EIP-2612 token");
            }
            return values;
        } catch (IOException e) {
            throw new ChainException(function.getName() + " failed on " + contract, e);
        }
    }

    private static String jsonString(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
