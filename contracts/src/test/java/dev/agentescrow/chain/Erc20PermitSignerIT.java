package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.wrappers.HostileToken;
import dev.agentescrow.chain.wrappers.TestToken;
import java.math.BigInteger;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalChainExtension.class)
class Erc20PermitSignerIT {

    @Test
    void signsAPermitTheTokenAcceptsFromARelayer(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer holder = chain.account(1);
        Signer relayer = chain.account(2);
        Address spender = chain.account(3).address();
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Permit USD", "PUSD", 6);
        Instant deadline = Instant.ofEpochSecond(chain.latestTimestamp() + 3_600);

        Erc20Permit permit = new Erc20PermitSigner(chain.client()).sign(holder, token.address(), spender,
                Amount.of(750), deadline);
        TestToken asRelayer = TestToken.load(token.address().hex(), chain.client().web3j(),
                relayer.transactionManager(), relayer.gasProvider());
        Calls.send(() -> asRelayer.permit(holder.address().hex(), spender.hex(), permit.value().baseUnits(),
                permit.deadlineSeconds(), BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes())
                .send());

        assertThat(permit.value()).isEqualTo(Amount.of(750));
        assertThat(permit.deadline()).isEqualTo(deadline);
        assertThat(token.allowance(holder.address(), spender)).isEqualTo(Amount.of(750));
        assertThat(Calls.call(() -> asRelayer.nonces(holder.address().hex()).send())).isEqualTo(BigInteger.ONE);
    }

    @Test
    void refusesATokenWithoutEip2612(LocalChain chain) {
        Signer owner = chain.account(0);
        HostileToken plain = Calls.send(() -> HostileToken.deploy(chain.client().web3j(), owner.transactionManager(),
                owner.gasProvider()).send());

        assertThatThrownBy(() -> new Erc20PermitSigner(chain.client()).sign(owner,
                Address.of(plain.getContractAddress()), chain.account(1).address(), Amount.of(1),
                Instant.ofEpochSecond(chain.latestTimestamp() + 3_600)))
                .isInstanceOf(ChainException.class);
    }
}
