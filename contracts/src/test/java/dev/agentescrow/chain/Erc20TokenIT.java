package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalChainExtension.class)
class Erc20TokenIT {

    @Test
    void concurrentSendsFromOneKeyNeverCollideOnNonces(LocalChain chain) throws Exception {
        Signer owner = chain.account(0);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, owner.address(), Amount.of(1_000_000));
        Address receiver = chain.account(1).address();

        int sends = 24;
        List<Future<Receipt>> receipts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < sends; i++) {
                receipts.add(pool.submit(() -> token.transfer(owner, receiver, Amount.of(10))));
            }
            for (Future<Receipt> receipt : receipts) {
                assertThat(receipt.get().gasUsed()).isPositive();
            }
        }
        assertThat(token.balanceOf(receiver)).isEqualTo(Amount.of(10L * sends));
        assertThat(token.balanceOf(owner.address())).isEqualTo(Amount.of(1_000_000 - 10L * sends));
    }

    @Test
    void aKeyUsedByAnotherClientMeanwhileSendsAtTheNodesNonce(LocalChain chain) {
        Signer owner = chain.account(0);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, owner.address(), Amount.of(100));
        Address receiver = chain.account(1).address();
        try (ChainClient other = ChainClient.connect(chain.client().settings())) {
            Erc20Token sameToken = new Erc20Token(other, token.address());
            sameToken.transfer(other.signer(DevAccounts.account(0)), receiver, Amount.of(3));
        }
        // this client's counter is now one behind the node's: the send is signed again at the node's count
        token.transfer(owner, receiver, Amount.of(4));
        assertThat(token.balanceOf(receiver)).isEqualTo(Amount.of(7));
    }

    @Test
    void revertsSurfaceAsDecodedCustomErrors(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer stranger = chain.account(2);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);

        assertThatThrownBy(() -> token.transfer(stranger, owner.address(), Amount.of(1)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ERC20InsufficientBalance"));
        assertThatThrownBy(() -> token.mint(stranger, stranger.address(), Amount.of(1)))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("OwnableUnauthorizedAccount"));
        // the failed sends left no nonce gap: the next send from the same key goes through
        token.mint(owner, stranger.address(), Amount.of(5));
        assertThat(token.balanceOf(stranger.address())).isEqualTo(Amount.of(5));
    }
}
