package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.Objects;

/**
 * The EIP-712 domain of a PaymentChannels contract: name {@code "PaymentChannels"}, version
 * {@code "1"}, the chain id and the contract's address.
 */
public record ChannelDomain(String name, String version, long chainId, Address verifyingContract) {
    public static final String NAME = "PaymentChannels";
    public static final String VERSION = "1";
    public static final String TYPE =
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    public ChannelDomain {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(verifyingContract, "verifyingContract");
    }

    /** The domain of the PaymentChannels contract at {@code contract} on chain {@code chainId}. */
    public static ChannelDomain of(long chainId, Address contract) {
        return new ChannelDomain(NAME, VERSION, chainId, contract);
    }

    /** {@code hashStruct(EIP712Domain)}, the contract's {@code _domainSeparatorV4()}. */
    public Bytes32 separator() {
        return new Abi().word(Abi.keccak(TYPE)).word(Abi.keccak(name)).word(Abi.keccak(version))
                .uint256(BigInteger.valueOf(chainId)).address(verifyingContract).keccak();
    }
}
