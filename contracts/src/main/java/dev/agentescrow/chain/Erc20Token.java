package dev.agentescrow.chain;

import dev.agentescrow.chain.wrappers.IERC20;
import dev.agentescrow.chain.wrappers.TestToken;

/**
 * An ERC-20 token seen through the gateway. Reads need no key; writes name the signer.
 * {@link #mint} works only on the test token of local chains.
 */
public final class Erc20Token {
    private final ChainClient client;
    private final Address address;

    public Erc20Token(ChainClient client, Address address) {
        this.client = client;
        this.address = address;
    }

    /** Deploys a {@code TestToken} (EIP-2612 permit, owner-mintable); local chains and tests only. */
    public static Erc20Token deployTestToken(ChainClient client, Signer deployer, String name, String symbol,
                                             int decimals) {
        TestToken token = Calls.send(() -> TestToken.deploy(client.web3j(), deployer.transactionManager(),
                deployer.gasProvider(), name, symbol, java.math.BigInteger.valueOf(decimals)).send());
        return new Erc20Token(client, Address.of(token.getContractAddress()));
    }

    public Address address() {
        return address;
    }

    public Amount balanceOf(Address holder) {
        return Amount.of(Calls.call(() -> reader().balanceOf(holder.hex()).send()));
    }

    public Amount allowance(Address owner, Address spender) {
        return Amount.of(Calls.call(() -> reader().allowance(owner.hex(), spender.hex()).send()));
    }

    public Receipt transfer(Signer from, Address to, Amount amount) {
        return Calls.send(() -> Receipt.of(as(from).transfer(to.hex(), amount.baseUnits()).send()));
    }

    public Receipt approve(Signer owner, Address spender, Amount amount) {
        return Calls.send(() -> Receipt.of(as(owner).approve(spender.hex(), amount.baseUnits()).send()));
    }

    /** Mints test tokens; the signer must own the {@code TestToken}. */
    public Receipt mint(Signer owner, Address to, Amount amount) {
        TestToken token = TestToken.load(address.hex(), client.web3j(), owner.transactionManager(), owner.gasProvider());
        return Calls.send(() -> Receipt.of(token.mint(to.hex(), amount.baseUnits()).send()));
    }

    private IERC20 as(Signer signer) {
        return IERC20.load(address.hex(), client.web3j(), signer.transactionManager(), signer.gasProvider());
    }

    private IERC20 reader() {
        return IERC20.load(address.hex(), client.web3j(), client.readOnly(), client.readGasProvider());
    }
}
