package dev.agentescrow.backend.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SiweMessageTest {
    private static final String WITH_STATEMENT = """
            service.example:8080 wants you to sign in with your Ethereum account:
            0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266

            Sign in to the agent escrow service.

            URI: http://service.example:8080
            Version: 1
            Chain ID: 31337
            Nonce: abcdefgh12345678
            Issued At: 2026-11-30T23:30:22.526Z
            Expiration Time: 2026-12-01T23:30:22Z
            Not Before: 2026-11-30T23:00:00Z
            Request ID: req-1
            Resources:
            - ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
            - https://example.com/my-web2-claim.json""";

    private static final String WITHOUT_STATEMENT = "localhost:8080 wants you to sign in with your Ethereum account:\n"
            + "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n\n\nURI: http://localhost:8080\nVersion: 1\n"
            + "Chain ID: 31337\nNonce: abcdefgh12345678\nIssued At: 2026-11-30T23:30:22.526Z";

    @Test
    void parses_every_field_of_a_full_message() {
        SiweMessage message = SiweMessage.parse(WITH_STATEMENT).orElseThrow();
        assertThat(message.domain()).isEqualTo("service.example:8080");
        assertThat(message.address()).isEqualTo("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assertThat(message.statement()).isEqualTo("Sign in to the agent escrow service.");
        assertThat(message.uri()).isEqualTo("http://service.example:8080");
        assertThat(message.chainId()).isEqualTo(31337);
        assertThat(message.nonce()).isEqualTo("abcdefgh12345678");
        assertThat(message.issuedAt()).isEqualTo(Instant.parse("2026-11-30T23:30:22.526Z"));
        assertThat(message.expirationTime()).isEqualTo(Instant.parse("2026-12-01T23:30:22Z"));
        assertThat(message.notBefore()).isEqualTo(Instant.parse("2026-11-30T23:00:00Z"));
        assertThat(message.requestId()).isEqualTo("req-1");
        assertThat(message.resources()).hasSize(2);
    }

    @Test
    void parses_the_siwe_packages_form_without_a_statement() {
        SiweMessage message = SiweMessage.parse(WITHOUT_STATEMENT).orElseThrow();
        assertThat(message.statement()).isNull();
        assertThat(message.expirationTime()).isNull();
    }

    @Test
    void parses_a_scheme_before_the_domain() {
        assertThat(SiweMessage.parse("https://" + WITHOUT_STATEMENT).orElseThrow().scheme()).isEqualTo("https");
    }

    @Test
    void refuses_anything_off_the_grammar() {
        String[] bad = {
            WITHOUT_STATEMENT.replace("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            WITHOUT_STATEMENT.replace("Version: 1", "Version: 2"),
            WITHOUT_STATEMENT.replace("Nonce: abcdefgh12345678", "Nonce: short"),
            WITHOUT_STATEMENT.replace("Chain ID: 31337", "Chain ID: 0x7a69"),
            WITHOUT_STATEMENT.replace("Issued At: 2026-11-30T23:30:22.526Z", "Issued At: yesterday"),
            WITHOUT_STATEMENT.replace("\n\n\nURI", "\n\nURI"),
            WITHOUT_STATEMENT.replace("URI: http://localhost:8080\n", ""),
            WITHOUT_STATEMENT + "\n",
            WITHOUT_STATEMENT + "\nExpiration Time: ",
            WITHOUT_STATEMENT + "\nUnknown: field",
            WITHOUT_STATEMENT.replace("\n", "\r\n"),
            WITHOUT_STATEMENT.replace("Version: 1\nChain ID: 31337", "Chain ID: 31337\nVersion: 1"),
            WITHOUT_STATEMENT.replace("localhost:8080 wants", "localhost:8080\u0007 wants"),
            "x".repeat(SiweMessage.MAX_LENGTH + 1),
            "",
        };
        for (String text : bad) {
            assertThat(SiweMessage.parse(text)).as(text).isEmpty();
        }
    }
}
