package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.DynamicBytes;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.abi.datatypes.generated.Uint8;

/**
 * Call data of the PaymentChannels functions (and the token's {@code approve}), ABI-encoded as the
 * contract declares them; the agents sign and send these, the watchtower its {@code updateBalanceProof}.
 */
public final class ChannelCalls {
    public static final String OPEN = "open(address,address,address,uint256,uint64)";
    public static final String OPEN_WITH_PERMIT =
            "openWithPermit(address,address,address,uint256,uint64,uint256,uint8,bytes32,bytes32)";
    public static final String ACCEPT = "accept(bytes32,address,uint256)";
    public static final String DEPOSIT = "deposit(bytes32,uint256)";
    public static final String WITHDRAW = "withdraw(bytes32,address,uint256,uint256,bytes,bytes)";
    public static final String COOPERATIVE_CLOSE = "cooperativeClose(bytes32,uint256,uint256,uint256,bytes,bytes)";
    public static final String CLOSE = "close(bytes32,uint256,uint256,bytes)";
    public static final String UPDATE_BALANCE_PROOF = "updateBalanceProof(bytes32,address,uint256,uint256,bytes)";
    public static final String SETTLE = "settle(bytes32)";
    public static final String CLAIM = "claim(bytes32,address)";
    public static final String APPROVE = "approve(address,uint256)";

    private ChannelCalls() {
    }

    public static String openWithPermit(Address counterparty, Address token, BigInteger deposit, long challengePeriod,
                                        BigInteger deadline, int v, byte[] r, byte[] s) {
        return encode("openWithPermit", address(counterparty), address(token), address(Address.ZERO),
                new Uint256(deposit), new Uint64(challengePeriod), new Uint256(deadline), new Uint8(v),
                new org.web3j.abi.datatypes.generated.Bytes32(r), new org.web3j.abi.datatypes.generated.Bytes32(s));
    }

    public static String open(Address counterparty, Address token, BigInteger deposit, long challengePeriod) {
        return encode("open", address(counterparty), address(token), address(Address.ZERO), new Uint256(deposit),
                new Uint64(challengePeriod));
    }

    public static String accept(Bytes32 channelId, BigInteger deposit) {
        return encode("accept", bytes32(channelId), address(Address.ZERO), new Uint256(deposit));
    }

    public static String deposit(Bytes32 channelId, BigInteger amount) {
        return encode("deposit", bytes32(channelId), new Uint256(amount));
    }

    public static String withdraw(Bytes32 channelId, Address participant, BigInteger totalWithdrawn, BigInteger expiry,
                                  byte[] signatureA, byte[] signatureB) {
        return encode("withdraw", bytes32(channelId), address(participant), new Uint256(totalWithdrawn),
                new Uint256(expiry), new DynamicBytes(signatureA), new DynamicBytes(signatureB));
    }

    public static String cooperativeClose(Bytes32 channelId, BigInteger totalWithdrawnA, BigInteger totalWithdrawnB,
                                          BigInteger expiry, byte[] signatureA, byte[] signatureB) {
        return encode("cooperativeClose", bytes32(channelId), new Uint256(totalWithdrawnA),
                new Uint256(totalWithdrawnB), new Uint256(expiry), new DynamicBytes(signatureA),
                new DynamicBytes(signatureB));
    }

    public static String close(Bytes32 channelId, BigInteger nonce, BigInteger transferred, byte[] signature) {
        return encode("close", bytes32(channelId), new Uint256(nonce), new Uint256(transferred),
                new DynamicBytes(signature));
    }

    public static String updateBalanceProof(Bytes32 channelId, Address participant, BigInteger nonce,
                                            BigInteger transferred, byte[] signature) {
        return encode("updateBalanceProof", bytes32(channelId), address(participant), new Uint256(nonce),
                new Uint256(transferred), new DynamicBytes(signature));
    }

    public static String settle(Bytes32 channelId) {
        return encode("settle", bytes32(channelId));
    }

    public static String claim(Bytes32 channelId, Address to) {
        return encode("claim", bytes32(channelId), address(to));
    }

    public static String approve(Address spender, BigInteger amount) {
        return encode("approve", address(spender), new Uint256(amount));
    }

    @SuppressWarnings("rawtypes")
    private static String encode(String name, Type... inputs) {
        return FunctionEncoder.encode(new Function(name, List.of(inputs), List.of()));
    }

    private static org.web3j.abi.datatypes.Address address(Address value) {
        return new org.web3j.abi.datatypes.Address(value.hex());
    }

    private static org.web3j.abi.datatypes.generated.Bytes32 bytes32(Bytes32 value) {
        return new org.web3j.abi.datatypes.generated.Bytes32(value.bytes());
    }
}
