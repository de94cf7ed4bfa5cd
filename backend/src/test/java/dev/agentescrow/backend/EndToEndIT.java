package dev.agentescrow.backend;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.NodeScripts;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Erc20Permit;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.math.BigInteger;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Two agents over HTTP against the Hardhat node and the embedded PostgreSQL: SIWE login with real
 * keys, faucet, deposit with an EIP-2612 permit signed by ethers from the service's instructions,
 * payments both ways, a withdrawal; after the batch settles the vault's balances equal the
 * ledger's, every transfer's proof verifies on chain, and the admin's verification is clean.
 */
class EndToEndIT extends BackendITSupport {
    private static final int ALICE = 10;
    private static final int BOB = 11;

    @Test
    void two_agents_deposit_pay_each_other_withdraw_and_settle_with_proofs_that_verify_on_chain() {
        ApiClient api = api();
        String token = CHAIN.deployment().token().checksummed();
        String alice = login(ALICE);
        String bob = login(BOB);

        for (Object[] agent : new Object[][] {{ALICE, alice}, {BOB, bob}}) {
            ApiClient.Response minted = api.post("/api/v1/faucet", (String) agent[1], key(),
                    Map.of("token", token, "amount", "5000000"));
            assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
            depositWithPermit((int) agent[0], (String) agent[1], token, "4000000");
        }
        for (String agent : List.of(alice, bob)) {
            awaitUntil("both deposits credited", () -> available(agent, token).equals(new BigInteger("4000000")));
            JsonNode deposits = api.get("/api/v1/deposits", agent).json().path("items");
            assertThat(deposits.get(0).path("state").asString()).isEqualTo("CREDITED");
        }

        ApiClient.Response paid = api.post("/api/v1/transfers", alice, key(),
                Map.of("to", address(BOB).toLowerCase(), "token", token, "amount", "1500000", "reference", "task-1"));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        assertThat(paid.json().path("status").asString()).isEqualTo("COMMITTED");
        assertThat(paid.json().path("to").asString()).isEqualTo(address(BOB));
        String aliceToBob = paid.json().path("id").asString();

        ApiClient.Response batch = api.post("/api/v1/transfers/batch", bob, key(), Map.of("atomic", true,
                "transfers", List.of(Map.of("to", address(ALICE), "token", token, "amount", "200000"),
                        Map.of("to", address(ALICE), "token", token, "amount", "300000"))));
        assertThat(batch.status()).as(batch.toString()).isEqualTo(201);
        String bobToAlice = batch.json().path("results").get(0).path("id").asString();

        ApiClient.Response withdrawal = api.post("/api/v1/withdrawals", bob, key(),
                Map.of("token", token, "amount", "1000000"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        String withdrawalId = withdrawal.json().path("id").asString();

        awaitUntil("the transfers settled", () -> "SETTLED".equals(status(alice, aliceToBob))
                && "SETTLED".equals(status(bob, bobToAlice)));
        awaitUntil("the withdrawal paid", () -> "PAID".equals(
                api.get("/api/v1/withdrawals/" + withdrawalId, bob).json().path("state").asString()));

        SettlementVaultGateway vault = CHAIN.deployment().vault(CHAIN.client());
        Address tokenAddress = Address.of(token);
        assertThat(available(alice, token)).isEqualTo(new BigInteger("3000000"));
        assertThat(available(bob, token)).isEqualTo(new BigInteger("4000000"));
        for (Object[] agent : new Object[][] {{ALICE, alice}, {BOB, bob}}) {
            BigInteger onChain = vault.settledBalance(tokenAddress, Address.of(address((int) agent[0]))).baseUnits();
            assertThat(onChain).as("vault == ledger for " + address((int) agent[0]))
                    .isEqualTo(available((String) agent[1], token));
        }
        assertThat(CHAIN.deployment().token(CHAIN.client()).balanceOf(Address.of(address(BOB))).baseUnits())
                .isEqualTo(new BigInteger("2000000"));

        for (String[] seen : new String[][] {{alice, aliceToBob}, {bob, bobToAlice}}) {
            JsonNode transfer = api.get("/api/v1/transfers/" + seen[1], seen[0]).json();
            JsonNode settlement = transfer.path("settlement");
            JsonNode leaf = settlement.path("leaf");
            List<Bytes32> proof = settlement.path("proof").valueStream().map(n -> Bytes32.fromHex(n.asString())).toList();
            assertThat(vault.verifyTransfer(settlement.path("batchId").asLong(), proof,
                    Bytes32.fromHex(leaf.path("transferId").asString()), Address.of(leaf.path("token").asString()),
                    Address.of(leaf.path("from").asString()), Address.of(leaf.path("to").asString()),
                    Amount.parse(leaf.path("amount").asString()))).as("proof of " + seen[1]).isTrue();
            JsonNode batchView = api.get("/api/v1/batches/" + settlement.path("batchId").asLong(), seen[0]).json();
            assertThat(batchView.path("state").asString()).isEqualTo("CONFIRMED");
            assertThat(batchView.path("merkleRoot").asString()).isEqualTo(settlement.path("merkleRoot").asString());
        }

        String admin = login(ADMIN_ACCOUNT);
        awaitUntil("a clean verification", () -> {
            JsonNode verified = api.post("/api/v1/admin/verify", admin, key(), "{}").json();
            return verified.path("ok").asBoolean() && verified.path("reconciled").asBoolean();
        });
        assertThat(api.post("/api/v1/admin/verify", alice, key(), "{}").status()).isEqualTo(403);
        assertThat(api.get("/actuator/prometheus", null).raw().body()).contains("agentescrow_deposits_amount")
                .contains("agentescrow_withdrawals_count").contains("agentescrow_balance_check_failures");
    }

    private void depositWithPermit(int index, String accessToken, String token, String amount) {
        ApiClient.Response instructions = api().get("/api/v1/deposits/instructions?token=" + token + "&amount=" + amount,
                accessToken);
        assertThat(instructions.status()).as(instructions.toString()).isEqualTo(200);
        JsonNode permit = instructions.json().path("permit");
        String signature = NodeScripts.run("sign-typed-data.js", ApiClient.JSON.writeValueAsString(Map.of(
                "privateKey", TestChain.privateKey(index), "domain", permit.path("domain"),
                "types", permit.path("types"), "message", permit.path("message"))));
        byte[] raw = HexFormat.of().parseHex(signature.substring(2));
        Erc20Permit signed = new Erc20Permit(Amount.parse(amount),
                Instant.ofEpochSecond(permit.path("message").path("deadline").asLong()), Byte.toUnsignedInt(raw[64]),
                new Bytes32(java.util.Arrays.copyOfRange(raw, 0, 32)), new Bytes32(java.util.Arrays.copyOfRange(raw, 32, 64)));
        CHAIN.deployment().vault(CHAIN.client()).depositWithPermit(CHAIN.account(index), Address.of(token), signed);
    }

    private BigInteger available(String accessToken, String token) {
        for (JsonNode balance : api().get("/api/v1/accounts/me", accessToken).json().path("balances")) {
            if (balance.path("token").asString().equals(token)) {
                return new BigInteger(balance.path("available").asString());
            }
        }
        return BigInteger.ZERO;
    }

    private String status(String accessToken, String id) {
        return api().get("/api/v1/transfers/" + id, accessToken).json().path("status").asString();
    }
}
