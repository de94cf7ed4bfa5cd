package dev.agentescrow.chain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes1;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * Signs EIP-2612 permits for any ERC-20 that implements them; the vault, escrow and channel
 * gateways all sign through it. The EIP-712 domain comes from the token's ERC-5267
 * {@code eip712Domain()} (or, for tokens without it, {@code name()}, version "1", the client's
 * chain id and the token address), the nonce from {@code nonces(owner)}. The domain is checked
 * against the token's {@code DOMAIN_SEPARATOR()} before anything is signed, so a wrong guess fails
 * loudly here rather than as a failed transfer later.
 */
public final class Erc20PermitSigner {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] DOMAIN_FIELDS = {"name", "version", "chainId", "verifyingContract", "salt"};
    private static final String[] DOMAIN_TYPES = {"string", "string", "uint256", "address", "bytes32"};
    private static final String[][] PERMIT_FIELDS = {
        {"owner", "address"}, {"spender", "address"}, {"value", "uint256"}, {"nonce", "uint256"},
        {"deadline", "uint256"}};

    private final ChainClient client;

    public Erc20PermitSigner(ChainClient client) {
        this.client = client;
    }

    /**
     * Signs a permit letting {@code spender} take {@code value} of {@code owner}'s {@code token}
     * until {@code deadline}. Throws {@link ChainException} for a token without EIP-2612 or whose
     * domain cannot be reproduced.
     */
    public Erc20Permit sign(Signer owner, Address token, Address spender, Amount value, Instant deadline) {
        if (deadline.getEpochSecond() < 0) {
            throw new IllegalArgumentException("permit deadline before 1970: " + deadline);
        }
        ObjectNode domain = domain(token);
        BigInteger nonce = (BigInteger) call(token, new Function("nonces",
                List.of(new org.web3j.abi.datatypes.Address(owner.address().hex())),
                List.of(new TypeReference<Uint256>() { }))).getFirst().getValue();

        ObjectNode typedData = JSON.createObjectNode();
        ObjectNode types = typedData.putObject("types");
        ArrayNode domainType = types.putArray("EIP712Domain");
        for (int i = 0; i < DOMAIN_FIELDS.length; i++) {
            if (domain.has(DOMAIN_FIELDS[i])) {
                domainType.addObject().put("name", DOMAIN_FIELDS[i]).put("type", DOMAIN_TYPES[i]);
            }
        }
        ArrayNode permitType = types.putArray("Permit");
        for (String[] field : PERMIT_FIELDS) {
            permitType.addObject().put("name", field[0]).put("type", field[1]);
        }
        typedData.put("primaryType", "Permit");
        typedData.set("domain", domain);
        typedData.putObject("message")
                .put("owner", owner.address().hex())
                .put("spender", spender.hex())
                .put("value", value.baseUnits().toString())
                .put("nonce", nonce.toString())
                .put("deadline", Long.toString(deadline.getEpochSecond()));

        StructuredDataEncoder encoder = encoder(token, typedData);
        byte[] expectedSeparator = (byte[]) call(token, new Function("DOMAIN_SEPARATOR", List.of(),
                List.of(new TypeReference<org.web3j.abi.datatypes.generated.Bytes32>() { }))).getFirst().getValue();
        if (!Arrays.equals(encoder.hashDomain(), expectedSeparator)) {
            throw new ChainException("the EIP-712 domain derived for token " + token
                    + " does not match its DOMAIN_SEPARATOR(); cannot sign a permit for it");
        }
        Sign.SignatureData signature = Sign.signMessage(encoder.hashStructuredData(),
                owner.credentials().getEcKeyPair(), false);
        return new Erc20Permit(value, deadline, Byte.toUnsignedInt(signature.getV()[0]),
                new Bytes32(signature.getR()), new Bytes32(signature.getS()));
    }

    private static StructuredDataEncoder encoder(Address token, ObjectNode typedData) {
        try {
            return new StructuredDataEncoder(JSON.writeValueAsString(typedData));
        } catch (IOException e) {
            throw new ChainException("cannot encode the permit of token " + token, e);
        }
    }

    /** The token's EIP-712 domain as typed-data JSON, from ERC-5267 when the token implements it. */
    private ObjectNode domain(Address token) {
        ObjectNode domain = JSON.createObjectNode();
        List<Type> fields;
        try {
            fields = call(token, new Function("eip712Domain", List.of(), List.of(
                    new TypeReference<Bytes1>() { }, new TypeReference<Utf8String>() { },
                    new TypeReference<Utf8String>() { }, new TypeReference<Uint256>() { },
                    new TypeReference<org.web3j.abi.datatypes.Address>() { },
                    new TypeReference<org.web3j.abi.datatypes.generated.Bytes32>() { },
                    new TypeReference<DynamicArray<Uint256>>() { })));
        } catch (ChainException e) {
            fields = List.of();
        }
        if (fields.size() < 6) {
            String name = (String) call(token, new Function("name", List.of(),
                    List.of(new TypeReference<Utf8String>() { }))).getFirst().getValue();
            return domain.put("name", name).put("version", "1").put("chainId", client.chainId())
                    .put("verifyingContract", token.hex());
        }
        int present = ((byte[]) fields.get(0).getValue())[0];
        if ((present & 0x01) != 0) {
            domain.put("name", (String) fields.get(1).getValue());
        }
        if ((present & 0x02) != 0) {
            domain.put("version", (String) fields.get(2).getValue());
        }
        if ((present & 0x04) != 0) {
            domain.put("chainId", (BigInteger) fields.get(3).getValue());
        }
        if ((present & 0x08) != 0) {
            domain.put("verifyingContract", (String) fields.get(4).getValue());
        }
        if ((present & 0x10) != 0) {
            domain.put("salt", new Bytes32((byte[]) fields.get(5).getValue()).hex());
        }
        return domain;
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private List<Type> call(Address to, Function function) {
        String data = FunctionEncoder.encode(function);
        String result = Calls.call(() -> client.readOnly().sendCall(to.hex(), data, DefaultBlockParameterName.LATEST));
        List<Type> values = FunctionReturnDecoder.decode(result, (List) function.getOutputParameters());
        if (values.isEmpty()) {
            throw new ChainException("token " + to + " returned nothing for " + function.getName()
                    + "(): not an EIP-2612 token");
        }
        return values;
    }
}
